"""Defensive reading and deterministic writing of zip archives (archive bundles).

A bundle may come from anyone (the public verify page, an e-mail attachment, an archive
twenty years from now), so reading trusts nothing in it: the central directory is checked
before any byte is decompressed (entry count, declared sizes, compression ratio, names, file
types, encryption, compression method), and each entry is then read with a hard cap, so a
header that lies about its size cannot make us inflate more than the limits allow.

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
    """The single top folder of the archive and its files (path relative to that folder)."""

    top: str
    files: dict[str, bytes]


def _directory(data: bytes) -> tuple[list[zipfile.ZipInfo], int]:
    """(entries, start of the central directory), read by zipfile. Entry offsets count from
    the start of ``data``, a prefix before the zip (a self-extracting archive) included."""
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
        # zipfile reads the central directory; the entries are inflated below, straight
        # from the bytes, after the directory has passed every check.
        infos, directory_start = _directory(data)
    except _ZIP_ERRORS as exc:
        raise BundleError(f"tệp zip hỏng hoặc bị cắt cụt: {exc}") from None
    files = _check_directory(infos, limits)
    top = _single_top(infos)
    spans = _data_spans(data, infos, directory_start)
    contents: dict[str, bytes] = {}
    for info in files:
        start, end = spans[info.filename]
        contents[info.filename[len(top) + 1 :]] = _read_entry(data[start:end], info, limits)
    return ZipContents(top=top, files=contents)


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
        key = info.filename.rstrip("/").casefold()
        if key in seen:
            raise BundleError(f"gói có hai mục trùng tên: {info.filename!r}")
        seen.add(key)
        if info.flag_bits & 0x1:
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


def _local_header(data: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Check an entry's local header against its central-directory record; return the span
    (start, end) of its compressed data."""
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise BundleError(f"mục nằm ngoài tệp zip: {info.filename!r}")
    (magic, _version, _flags, method, _t, _d, _crc, _cs, _us, name_len, extra_len) = (
        _LOCAL_HEADER.unpack_from(data, offset)
    )
    if magic != b"PK\x03\x04":
        raise BundleError(f"tiêu đề cục bộ hỏng: {info.filename!r}")
    name_start = offset + _LOCAL_HEADER.size
    name = info.orig_filename
    if name.isascii():  # the usual case; the cp437 codec is slow pure Python
        central_name = name.encode("ascii")
    else:
        try:
            central_name = name.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        except UnicodeEncodeError:
            central_name = b""
    # Two names for one entry would let different tools extract different files.
    if data[name_start : name_start + name_len] != central_name or method != info.compress_type:
        raise BundleError(f"tiêu đề cục bộ khác thư mục trung tâm: {info.filename!r}")
    start = name_start + name_len + extra_len
    return start, start + info.compress_size


def _data_spans(
    data: bytes, infos: list[zipfile.ZipInfo], directory_start: int
) -> dict[str, tuple[int, int]]:
    """Where each entry's compressed data lies. Entries must not share bytes (the
    "overlapping files" zip bomb) nor run into the central directory."""
    spans = {info.filename: _local_header(data, info) for info in infos}
    previous_end = 0
    for info in sorted(infos, key=lambda item: item.header_offset):
        if info.header_offset < previous_end:
            raise BundleError(f"các mục zip chồng lên nhau (nghi bom zip): {info.filename!r}")
        previous_end = spans[info.filename][1]
    if previous_end > min(directory_start, len(data)):
        raise BundleError("dữ liệu mục zip tràn vào thư mục trung tâm (tệp bị cắt cụt?)")
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
