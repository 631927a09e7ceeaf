"""Defensive reading and deterministic writing of zip archives (archive bundles).

A bundle may come from anyone (the public verify page, an e-mail attachment, an archive
twenty years from now), so reading trusts nothing in it: the central directory is checked
before any byte is decompressed (entry count, declared sizes, compression ratio, names, file
types, encryption, compression method), and each entry is then read with a hard cap, so a
header that lies about its size cannot make us inflate more than the limits allow.

One reading: what is verified must be what ``unzip``, Python's zipfile, 7-Zip and Windows
Explorer extract. So every byte of the archive belongs to an entry or to the directory
(nothing before the first local header, between entries, or after the end record, no
comment); each local header agrees with its directory record on name, flags, method, CRC
and sizes; no extra field names another file; names are NFC, UTF-8-flagged when not ASCII,
and distinct even on a case-insensitive, normalising disk; nothing is encrypted.

Writing is deterministic: fixed entry order, fixed timestamps and permissions, one
compression level, so the same input always gives the same bytes.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from signing.errors import BundleError

_MiB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """Upper bounds for one archive. The defaults fit a bundle of a document with dozens of
    member units and leave a wide margin; anything beyond them is refused, not truncated."""

    max_archive_bytes: int = 256 * _MiB
    max_entries: int = 1000
    max_entry_bytes: int = 128 * _MiB
    max_total_bytes: int = 512 * _MiB
    # Inflating N compressed bytes into more than N * max_ratio is what a zip bomb does. Small
    # entries are exempt: a few KiB of repetitive JSON compress well and cannot hurt anyone.
    max_ratio: int = 100
    ratio_exempt_bytes: int = _MiB
    max_name_length: int = 255


DEFAULT_LIMITS = ZipLimits()

# Backslash (a separator on Windows) and control characters (C0 and DEL).
_UNSAFE_CHARS = re.compile(r"[\\\x00-\x1f\x7f]")
# Names every check of check_member_name accepts: ASCII letters, digits, '.', '_', '-' in
# components that do not start with '.' (so never '.' or '..'), one optional trailing '/'.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*/?")
_ALLOWED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
# Errors the standard zipfile/zlib modules raise on damaged or hostile archives.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    IndexError,
    KeyError,
)


@dataclass(frozen=True)
class ZipContents:
    """The single top folder of the archive, its files and its folder entries (paths
    relative to that folder, folders without their trailing '/')."""

    top: str
    files: dict[str, bytes]
    folders: frozenset[str] = frozenset()


def _directory(data: bytes) -> tuple[list[zipfile.ZipInfo], int]:
    """(entries, start of the central directory), read by zipfile. Entry offsets count from
    the start of ``data``; a prefix before the zip is refused by _directory_bounds."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.infolist(), archive.start_dir


def check_member_name(name: str, limits: ZipLimits = DEFAULT_LIMITS) -> list[str]:
    """Split a zip member name into safe path components, or raise BundleError.

    Refused: empty names, absolute paths, drive letters, backslashes, control characters,
    ``.``/``..``/empty components, over-long names, names that are not NFC.
    """
    if len(name) <= limits.max_name_length and _PLAIN_NAME.fullmatch(name):
        # The usual name passes every check of _checked_parts by its shape alone.
        return name.rstrip("/").split("/")
    return _checked_parts(name, limits)


def _checked_parts(name: str, limits: ZipLimits) -> list[str]:
    if not name or len(name) > limits.max_name_length:
        raise BundleError(f"tên tệp trong gói không hợp lệ (độ dài): {name[:80]!r}")
    if name.startswith("/") or ":" in name:
        # ":" covers drive letters (C:...) and alternate data streams on Windows.
        raise BundleError(f"gói chứa đường dẫn tuyệt đối, không an toàn: {name!r}")
    if _UNSAFE_CHARS.search(name):
        raise BundleError(f"tên tệp trong gói chứa ký tự không an toàn: {name!r}")
    if not name.isascii() and not unicodedata.is_normalized("NFC", name):
        raise BundleError(f"tên tệp trong gói không ở dạng Unicode NFC: {name!r}")
    parts = name.rstrip("/").split("/") if name.endswith("/") else name.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise BundleError(f"gói chứa đường dẫn vượt thư mục hoặc rỗng ('..'): {name!r}")
    return parts


def _entry_kind(info: zipfile.ZipInfo) -> str:
    """'dir' or 'file'; anything else (symlink, device, fifo) is refused."""
    # Unix mode bits live in the high half; checked whatever system the archiver claims,
    # since an extractor that honours them would otherwise create the link.
    mode = (info.external_attr >> 16) & 0xFFFF
    if mode:
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise BundleError(
                f"gói chứa liên kết tượng trưng (symlink), bị từ chối: {info.filename!r}"
            )
        if kind == stat.S_IFDIR:
            return "dir"
        if kind not in (0, stat.S_IFREG):
            raise BundleError(f"gói chứa mục không phải tệp thường: {info.filename!r}")
        if mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX):
            # unzip -K restores these: a bundle has no business making a set-uid file.
            raise BundleError(f"mục zip mang quyền setuid/setgid/sticky: {info.filename!r}")
    if info.filename.endswith("/"):
        return "dir"
    return "file"


def read_zip(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> ZipContents:
    """Read every regular file of a zip that holds exactly one top folder.

    Raises BundleError for anything that is not a well-formed, safe archive within ``limits``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BundleError("gói lưu trữ phải là dữ liệu nhị phân (bytes)")
    if len(data) > limits.max_archive_bytes:
        raise BundleError(f"gói quá lớn: {len(data)} byte, tối đa {limits.max_archive_bytes} byte")
    data = bytes(data)
    # The end-of-central-directory record lies in the last 65,557 bytes (22 + the longest
    # comment); rfind from the end finds it without copying or scanning the rest.
    if len(data) < 22 or data.rfind(b"PK\x05\x06", max(0, len(data) - 65557)) < 0:
        raise BundleError("tệp không phải là gói zip (không thấy thư mục trung tâm zip)")
    try:
        # The framing first, so that an end record zipfile would stumble on is refused for
        # what it is; then zipfile reads the central directory. The entries are inflated
        # below, straight from the bytes, after the directory has passed every check.
        directory = _directory_bounds(data)
        infos, directory_start = _directory(data)
    except _ZIP_ERRORS as exc:
        raise BundleError(f"tệp zip hỏng hoặc bị cắt cụt: {exc}") from None
    if directory_start != directory[0]:
        raise BundleError("tệp zip hỏng: thư mục trung tâm không nằm ở vị trí khai báo")
    files = _check_directory(infos, limits)
    top = _single_top(infos)
    spans = _data_spans(data, infos, directory)
    contents: dict[str, bytes] = {}
    for info in files:
        start, end = spans[info.filename]
        contents[info.filename[len(top) + 1 :]] = _read_entry(data[start:end], info, limits)
    listed = {info.filename for info in files}
    folders = frozenset(
        info.filename[len(top) + 1 :].rstrip("/")
        for info in infos
        if info.filename not in listed and info.filename not in (top, top + "/")
    )
    return ZipContents(top=top, files=contents, folders=folders)


def _check_directory(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """Check the central directory before decompressing anything; return the file entries."""
    if len(infos) > limits.max_entries:
        raise BundleError(f"gói có quá nhiều mục: {len(infos)}, tối đa {limits.max_entries}")
    if not infos:
        raise BundleError("gói zip rỗng")
    seen: set[str] = set()
    total = 0
    files = []
    for info in infos:
        check_member_name(info.filename, limits)
        # Two entries that extract to the same path (exactly, or on a case-insensitive disk)
        # would let one hide behind the other.
        key = _folded(info.filename)
        if key in seen:
            raise BundleError(f"gói có hai mục trùng tên: {info.filename!r}")
        seen.add(key)
        if info.comment:
            raise BundleError(
                f"mục zip có chú thích riêng (file comment) không được chữ ký nào bảo vệ:"
                f" {info.filename!r}"
            )
        if info.flag_bits & _ENCRYPTED_FLAGS:
            raise BundleError(f"gói có mục được mã hóa, không đọc được: {info.filename!r}")
        if _entry_kind(info) == "dir":
            continue
        if info.compress_type not in _ALLOWED_METHODS:
            raise BundleError(
                f"phương thức nén không được hỗ trợ ({info.compress_type}): {info.filename!r}"
            )
        if info.file_size > limits.max_entry_bytes:
            raise BundleError(
                f"mục quá lớn khi giải nén: {info.filename!r} ({info.file_size} byte)"
            )
        if info.file_size > limits.ratio_exempt_bytes and (
            info.file_size > max(info.compress_size, 1) * limits.max_ratio
        ):
            raise BundleError(
                f"tỉ lệ nén bất thường (nghi bom zip): {info.filename!r} "
                f"{info.compress_size} → {info.file_size} byte"
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise BundleError(
                f"tổng dung lượng giải nén vượt giới hạn {limits.max_total_bytes} byte"
            )
        files.append(info)
    # A folder entry may share its name with a file only if it is that file's parent; the
    # casefold check above already refuses "a" next to "a/".
    return files


def _folded(name: str) -> str:
    """The name as a case-insensitive, normalising file system sees it (NTFS, APFS, exFAT)."""
    if name.isascii():
        return name.rstrip("/").lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).rstrip("/").casefold())


def _single_top(infos: list[zipfile.ZipInfo]) -> str:
    tops = {info.filename.split("/", 1)[0] for info in infos}
    if len(tops) != 1:
        raise BundleError(
            "gói phải chứa đúng một thư mục gốc, thấy: " + ", ".join(sorted(tops)[:5])
        )
    top = tops.pop()
    for info in infos:
        if info.filename in (top, top + "/"):
            if not info.filename.endswith("/"):
                raise BundleError(f"mục gốc của gói phải là thư mục: {top!r}")
            continue
        if not info.filename.startswith(top + "/"):
            raise BundleError("gói phải chứa đúng một thư mục gốc")  # pragma: no cover
    return top


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_END_RECORD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
# Flag bits whose meaning two readers must agree on: encryption (0), data descriptor (3),
# strong encryption (6), UTF-8 names (11), encrypted central directory (13).
_SIGNIFICANT_FLAGS = 0x1 | 0x8 | 0x40 | 0x800 | 0x2000
_ENCRYPTED_FLAGS = 0x1 | 0x40 | 0x2000
# Extra fields that carry no name: Zip64 sizes, NTFS times, Info-ZIP times and owners, JAR
# marker, Android alignment. 0x7075 (Info-ZIP Unicode Path) carries a name and is accepted
# only when it names the header's name; every other extra (e.g. 0x756e or 0x000d, which carry
# link targets, or a vendor's own name field) is refused: some extractor might honour it.
_HARMLESS_EXTRAS = frozenset({0x0001, 0x000A, 0x5455, 0x5855, 0x7855, 0x7875, 0xCAFE, 0xD935})
_UNICODE_PATH = 0x7075
_U32 = 0xFFFFFFFF


def _directory_bounds(data: bytes) -> tuple[int, int]:
    """(start, end) of the central directory, from an end record that must be the archive's
    last 22 bytes: no comment, nothing after it; the directory must lie exactly where the
    end record says (a prefix before the zip shifts it)."""
    end = len(data) - _END_RECORD.size
    if end < 0 or data[end : end + 4] != b"PK\x05\x06":
        raise BundleError(
            "gói có dữ liệu hoặc chú thích (comment) sau thư mục trung tâm zip: những byte đó"
            " không được chữ ký nào bảo vệ"
        )
    fields = _END_RECORD.unpack_from(data, end)
    size, offset = fields[5], fields[6]
    directory_end = end
    locator = end - _ZIP64_LOCATOR.size
    if locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        record = _ZIP64_LOCATOR.unpack_from(data, locator)[2]
        if data[record : record + 4] != b"PK\x06\x06" or record + 56 > locator:
            raise BundleError("bản ghi cuối Zip64 hỏng")
        (record_size,) = struct.unpack_from("<Q", data, record + 4)
        size, offset = struct.unpack_from("<QQ", data, record + 40)
        # 44 bytes of fixed fields; a longer record hides bytes in its extensible sector.
        if record_size != 44 or record + 12 + record_size != locator:
            raise BundleError("gói có dữ liệu lạ giữa các bản ghi cuối Zip64")
        directory_end = record
    if offset + size != directory_end:
        raise BundleError(
            "gói có dữ liệu lạ trước tiêu đề zip đầu tiên hoặc quanh thư mục trung tâm (tệp tự"
            " giải nén?): những byte đó không được chữ ký nào bảo vệ"
        )
    return offset, directory_end


def _extras(raw: bytes, name: str) -> list[tuple[int, bytes]]:
    """The (id, data) blocks of an extra field; a block running past the end is damage."""
    out = []
    position = 0
    while position < len(raw):
        if position + 4 > len(raw):
            raise BundleError(f"trường phụ (extra field) hỏng: {name!r}")
        kind, size = struct.unpack_from("<HH", raw, position)
        if position + 4 + size > len(raw):
            raise BundleError(f"trường phụ (extra field) hỏng: {name!r}")
        out.append((kind, raw[position + 4 : position + 4 + size]))
        position += 4 + size
    return out


def _check_extras(raw: bytes, header_name: bytes, name: str) -> list[tuple[int, bytes]]:
    blocks = _extras(raw, name)
    for kind, body in blocks:
        if kind == _UNICODE_PATH:
            if len(body) < 5 or body[5:] != header_name or body[0] != 1:
                raise BundleError(
                    f"mục zip mang tên thứ hai (Info-ZIP Unicode Path 0x7075) khác tên trong"
                    f" tiêu đề: {name!r}; các công cụ giải nén khác nhau sẽ ra tệp khác nhau"
                )
        elif kind not in _HARMLESS_EXTRAS:
            raise BundleError(
                f"mục zip có trường phụ lạ 0x{kind:04x} (có thể mang tên hoặc liên kết khác):"
                f" {name!r}"
            )
    return blocks


def _encoded_name(info: zipfile.ZipInfo) -> bytes:
    name = info.orig_filename
    if name.isascii():  # the usual case; the cp437 codec is slow pure Python
        return name.encode("ascii")
    if not info.flag_bits & 0x800:
        # Without the UTF-8 flag each tool decodes the name in its own code page.
        raise BundleError(f"tên tệp không phải ASCII mà không được đánh dấu UTF-8: {name!r}")
    return name.encode("utf-8")


def _local_sizes(info: zipfile.ZipInfo, fields: tuple[int, int, int], extra: bytes) -> bool:
    """Whether the local header's (crc, compressed, uncompressed) are the directory's,
    reading Zip64 sizes from the local extra field when the header defers to it."""
    crc, compressed, uncompressed = fields
    if _U32 in (compressed, uncompressed):
        zip64 = next((body for kind, body in _extras(extra, info.filename) if kind == 1), b"")
        values = list(struct.unpack_from(f"<{len(zip64) // 8}Q", zip64))
        if uncompressed == _U32:
            uncompressed = values.pop(0) if values else -1
        if compressed == _U32:
            compressed = values.pop(0) if values else -1
    return (crc, compressed, uncompressed) == (info.CRC, info.compress_size, info.file_size)


def _local_header(data: bytes, info: zipfile.ZipInfo) -> tuple[int, int, int, str | None]:
    """Check an entry's local header against its central-directory record; return the span
    (start, end) of its compressed data, where the entry ends (data descriptor included) and
    how its sizes or CRC disagree, if they do. Two names, sizes or methods for one entry
    would let different tools extract different files."""
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise BundleError(f"mục nằm ngoài tệp zip: {info.filename!r}")
    (magic, _version, flags, method, _t, _d, crc, cs, us, name_len, extra_len) = (
        _LOCAL_HEADER.unpack_from(data, offset)
    )
    if magic != b"PK\x03\x04":
        raise BundleError(f"tiêu đề cục bộ hỏng: {info.filename!r}")
    name_start = offset + _LOCAL_HEADER.size
    central_name = _encoded_name(info)
    local_name = data[name_start : name_start + name_len]
    if local_name != central_name:
        raise BundleError(
            f"tên trong tiêu đề cục bộ khác tên trong thư mục trung tâm: {info.filename!r}"
        )
    if method != info.compress_type:
        raise BundleError(
            f"phương thức nén trong tiêu đề cục bộ khác thư mục trung tâm: {info.filename!r}"
        )
    if (flags ^ info.flag_bits) & _SIGNIFICANT_FLAGS:
        raise BundleError(f"cờ của tiêu đề cục bộ khác thư mục trung tâm: {info.filename!r}")
    extra = data[name_start + name_len : name_start + name_len + extra_len]
    if info.extra:
        _check_extras(info.extra, central_name, info.filename)
    if extra:
        _check_extras(extra, central_name, info.filename)
    start = name_start + name_len + extra_len
    end = start + info.compress_size
    if flags & 0x8:
        return start, end, _descriptor_end(data, end, info), None
    if not _local_sizes(info, (crc, cs, us), extra):
        # Reported after the spans are checked: a size that lies is most often a bomb.
        problem = (
            f"kích thước hoặc CRC trong tiêu đề cục bộ khác thư mục trung tâm: {info.filename!r}"
        )
        return start, end, end, problem
    return start, end, end, None


def _descriptor_end(data: bytes, position: int, info: zipfile.ZipInfo) -> int:
    """Where the data descriptor after an entry ends; it must repeat the directory's CRC
    and sizes (4-byte or, for Zip64, 8-byte sizes; the signature is optional)."""
    if data[position : position + 4] == b"PK\x07\x08":
        position += 4
    wanted = (info.CRC, info.compress_size, info.file_size)
    for layout, size in (("<3L", 12), ("<LQQ", 20)):
        if position + size <= len(data) and struct.unpack_from(layout, data, position) == wanted:
            return position + size
    raise BundleError(
        f"bộ mô tả dữ liệu (data descriptor) khác thư mục trung tâm: {info.filename!r}"
    )


def _data_spans(
    data: bytes, infos: list[zipfile.ZipInfo], directory: tuple[int, int]
) -> dict[str, tuple[int, int]]:
    """Where each entry's compressed data lies. Entries follow one another from byte 0 up to
    the central directory, with nothing between them: not shared bytes (the "overlapping
    files" zip bomb), nor hidden ones (unsigned bytes some tool could still extract)."""
    spans = {}
    disagreements = []
    previous_end = 0
    for info in sorted(infos, key=lambda item: item.header_offset):
        start, end, entry_end, problem = _local_header(data, info)
        if problem is not None:
            disagreements.append(problem)
        if info.header_offset < previous_end:
            raise BundleError(f"các mục zip chồng lên nhau (nghi bom zip): {info.filename!r}")
        if info.header_offset > previous_end:
            if previous_end == 0:
                raise BundleError(
                    "gói có dữ liệu lạ trước tiêu đề zip đầu tiên (tệp tự giải nén?): những"
                    " byte đó không được chữ ký nào bảo vệ"
                )
            raise BundleError(f"gói có dữ liệu ẩn giữa các mục zip, trước {info.filename!r}")
        spans[info.filename] = (start, end)
        previous_end = entry_end
    if previous_end > directory[0]:
        raise BundleError("dữ liệu mục zip tràn vào thư mục trung tâm (tệp bị cắt cụt?)")
    if disagreements:
        raise BundleError(disagreements[0])
    if previous_end < directory[0]:
        raise BundleError("gói có dữ liệu ẩn giữa mục zip cuối và thư mục trung tâm")
    return spans


def _read_entry(raw: bytes, info: zipfile.ZipInfo, limits: ZipLimits) -> bytes:
    """Inflate one entry's compressed bytes, never more than its declared size (nor the
    per-entry limit), and check its length and CRC-32."""
    if len(raw) != info.compress_size:
        raise BundleError(f"mục bị cắt cụt trong gói: {info.filename!r}")
    cap = min(info.file_size, limits.max_entry_bytes)
    if info.compress_type == zipfile.ZIP_STORED:
        content = raw
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            content = inflater.decompress(raw, cap + 1)
        except zlib.error as exc:
            raise BundleError(f"mục nén hỏng {info.filename!r}: {exc}") from None
        if not inflater.eof:
            raise BundleError(f"mục nén hỏng hoặc lớn hơn kích thước khai báo: {info.filename!r}")
        if inflater.unused_data:
            # Bytes after the end of the deflate stream: no extractor shows them, no
            # signature covers them.
            raise BundleError(f"mục nén có dữ liệu thừa sau luồng nén: {info.filename!r}")
    if len(content) != info.file_size:
        raise BundleError(f"kích thước mục khác giá trị khai báo: {info.filename!r}")
    if zlib.crc32(content) != info.CRC:
        raise BundleError(f"mục hỏng (CRC-32 không khớp): {info.filename!r}")
    return content


def zip_timestamp(moment: datetime) -> tuple[int, int, int, int, int, int]:
    """Zip's DOS timestamp (local-time fields, 2-second resolution) for an aware datetime,
    taken in UTC so the same moment gives the same bytes everywhere."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.year < 1980:
        raise BundleError("thời điểm tạo gói phải từ năm 1980 trở đi (giới hạn của zip)")
    if moment.year > 2107:
        raise BundleError("thời điểm tạo gói phải trước năm 2108 (giới hạn của zip)")
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def write_zip(entries: Iterable[tuple[str, bytes]], *, moment: datetime) -> bytes:
    """Deterministic zip: entries in the given order, all stamped ``moment`` (UTC), regular
    files mode 0644 with Unix attributes, no extra fields, no comment. Entries are deflated
    at level 9 unless that saves less than 5 % (a DOCX is a zip already, signatures and
    certificates barely shrink): those are stored, so readers need not inflate them."""
    stamp = zip_timestamp(moment)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            check_member_name(name)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = _method_for(content)
            archive.writestr(info, content, compresslevel=9)
    return buffer.getvalue()


def _method_for(content: bytes) -> int:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    size = len(deflater.compress(content)) + len(deflater.flush())
    return zipfile.ZIP_DEFLATED if size < 0.95 * len(content) else zipfile.ZIP_STORED
