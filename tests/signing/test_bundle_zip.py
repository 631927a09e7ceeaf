"""Reading a bundle is defensive: hostile or damaged zips are refused with BundleError before
anything is inflated or written, and random input never escapes as another exception."""

from __future__ import annotations

import io
import re
import stat
import struct
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing import TrustStore
from signing.archive import verify_bundle
from signing.archive.bag import _is_sha256_hex, check_fixity, parse_tag_file
from signing.archive.zipio import (
    _PLAIN_NAME,
    DEFAULT_LIMITS,
    ZipLimits,
    _checked_parts,
    check_member_name,
    read_zip,
)
from signing.errors import BundleError, SigningError
from tests.signing.bundle_fixtures import VERIFY_AT, rezip, shared_bundle, shared_world, unzip


def verify(data: bytes, **kwargs):
    return verify_bundle(
        data,
        trust=TrustStore([shared_world().ca.certificate]),
        ca_fingerprint=None,
        at=VERIFY_AT,
        **kwargs,
    )


def zip_of(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are made on purpose
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, content in entries:
                archive.writestr(info, content)
    return buffer.getvalue()


def with_extra(name: str | zipfile.ZipInfo, content: bytes = b"x") -> bytes:
    """The genuine bundle plus one more entry."""
    top, files = unzip(shared_bundle())
    entries: list[tuple[zipfile.ZipInfo | str, bytes]] = [
        (f"{top}/{path}", data) for path, data in files.items()
    ]
    entries.append((name, content))
    return zip_of(entries)


# -- refused before reading ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "thidua-42/../../etc/passwd",
        "thidua-42/data/../../x",
        "../thidua-42/x",
        "thidua-42/./x",
        "thidua-42//x",
    ],
)
def test_path_traversal_is_refused(name: str) -> None:
    with pytest.raises(BundleError, match="vượt thư mục"):
        verify(with_extra(name))


@pytest.mark.parametrize("name", ["/etc/passwd", "/thidua-42/x", "C:/Windows/x", "thidua-42/a:b"])
def test_absolute_paths_are_refused(name: str) -> None:
    info = zipfile.ZipInfo("placeholder")
    info.filename = name  # ZipInfo would not let us build these names otherwise
    with pytest.raises(BundleError, match="tuyệt đối"):
        verify(with_extra(info))


@pytest.mark.parametrize("name", ["thidua-42\\data\\x", "thidua-42/data/a\x01b"])
def test_unsafe_characters_are_refused(name: str) -> None:
    info = zipfile.ZipInfo("placeholder")
    info.filename = name
    with pytest.raises(BundleError, match="không an toàn"):
        verify(with_extra(info))


def test_symlink_entry_is_refused() -> None:
    info = zipfile.ZipInfo("thidua-42/data/link")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(BundleError, match="symlink"):
        verify(with_extra(info, b"/etc/passwd"))


def test_device_entry_is_refused() -> None:
    info = zipfile.ZipInfo("thidua-42/data/dev")
    info.create_system = 3
    info.external_attr = (stat.S_IFCHR | 0o666) << 16
    with pytest.raises(BundleError, match="không phải tệp thường"):
        verify(with_extra(info))


def test_zip_bomb_is_refused_from_the_directory() -> None:
    bomb = zip_of([("thidua-42/data/document.docx", bytes(20 * 1024 * 1024))])
    assert len(bomb) < 100_000
    with pytest.raises(BundleError, match="bom zip"):
        verify(bomb)


def test_lying_size_header_cannot_inflate_more_than_declared() -> None:
    """An entry that declares 1,000 bytes but inflates to 2 MiB stops at 1,001 bytes and is
    refused: never more than declared is inflated."""
    data = bytearray(zip_of([("thidua-42/bagit.txt", bytes(2 * 1024 * 1024))]))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 1000)
    struct.pack_into("<I", data, central + 24, 1000)
    with pytest.raises(BundleError, match="lớn hơn kích thước khai báo"):
        read_zip(bytes(data))


def test_too_many_entries() -> None:
    entries = [(f"thidua-42/data/f{i}", b"") for i in range(1001)]
    with pytest.raises(BundleError, match="quá nhiều mục"):
        verify(zip_of(entries))


def test_limits_are_configurable() -> None:
    with pytest.raises(BundleError, match="quá lớn"):
        verify(shared_bundle(), limits=ZipLimits(max_archive_bytes=1000))
    with pytest.raises(BundleError, match="quá lớn khi giải nén"):
        verify(shared_bundle(), limits=ZipLimits(max_entry_bytes=1000))
    with pytest.raises(BundleError, match="tổng dung lượng"):
        verify(shared_bundle(), limits=ZipLimits(max_total_bytes=10_000))


@pytest.mark.parametrize("cut", [10, 100, 1000, 0.5])
def test_truncated_zip(cut: float) -> None:
    data = shared_bundle()
    size = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut
    with pytest.raises(BundleError):
        verify(data[:size])


def test_corrupted_entry_fails_its_crc() -> None:
    data = bytearray(shared_bundle())
    start = data.index(b"thidua-42/data/document.docx") + 200  # inside its compressed data
    data[start] ^= 0xFF
    with pytest.raises(BundleError):
        verify(bytes(data))


@pytest.mark.parametrize("data", [b"", b"hello", b"PK", b"%PDF-1.7\n" * 100, bytes(5000)])
def test_not_a_zip(data: bytes) -> None:
    with pytest.raises(BundleError, match="zip"):
        verify(data)


def test_two_top_folders() -> None:
    with pytest.raises(BundleError, match="đúng một thư mục gốc"):
        verify(with_extra("thidua-43/bagit.txt"))


def test_file_at_top_level() -> None:
    with pytest.raises(BundleError, match="đúng một thư mục gốc"):
        verify(with_extra("README.txt"))


def test_top_folder_must_be_a_thidua_bundle() -> None:
    _, files = unzip(shared_bundle())
    with pytest.raises(BundleError, match="thidua-"):
        verify(rezip("something-else", files))


def test_duplicate_entry_names() -> None:
    with pytest.raises(BundleError, match="trùng tên"):
        verify(with_extra("thidua-42/data/document.docx", b"second copy"))


def test_case_insensitive_duplicates() -> None:
    with pytest.raises(BundleError, match="trùng tên"):
        verify(with_extra("thidua-42/data/DOCUMENT.docx"))


def test_encrypted_entry() -> None:
    info = zipfile.ZipInfo("thidua-42/data/secret")
    info.flag_bits |= 0x1
    data = bytearray(with_extra(info))
    # zipfile clears the flag when writing; set it in the central directory record
    central = data.rindex(b"PK\x01\x02")
    (flags,) = struct.unpack_from("<H", data, central + 8)
    struct.pack_into("<H", data, central + 8, flags | 0x1)
    with pytest.raises(BundleError, match="mã hóa"):
        verify(bytes(data))


def test_unsupported_compression() -> None:
    info = zipfile.ZipInfo("thidua-42/data/x")
    info.compress_type = zipfile.ZIP_BZIP2
    with pytest.raises(BundleError, match="phương thức nén"):
        verify(with_extra(info, b"abc" * 100))


def test_non_nfc_name() -> None:
    with pytest.raises(BundleError, match="NFC"):
        verify(with_extra("thidua-42/data/My\u0303"))  # "ỹ" decomposed


def test_directory_entries_are_fine() -> None:
    report = verify(with_extra("thidua-42/data/"))
    assert report.passed


def test_member_name_checker_accepts_the_layout() -> None:
    assert check_member_name("thidua-42/data/signatures/VPHU-MD.p7s") == [
        "thidua-42",
        "data",
        "signatures",
        "VPHU-MD.p7s",
    ]


# -- fuzzing: only our own error types escape ---------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    try:
        report = verify(data)
    except SigningError:
        return
    assert not report.passed


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
        min_size=1,
        max_size=8,
    )
)
def test_mutated_bundle_bytes(changes: list[tuple[int, int]]) -> None:
    data = bytearray(shared_bundle())
    for position, value in changes:
        data[position % len(data)] = value
    try:
        report = verify(bytes(data), bagit_check=False)
    except SigningError:
        return
    if bytes(data) != shared_bundle():
        # a change that still reads back must be invisible to the bag (e.g. a zip timestamp)
        # or be caught
        assert report.passed == (unzip(bytes(data))[1] == unzip(shared_bundle())[1])


_PATHS = sorted(unzip(shared_bundle())[1])


@FUZZ
@given(
    st.sampled_from(_PATHS),
    st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)),
    st.booleans(),
)
def test_mutated_bag_contents(path: str, content: bytes, bagit_check: bool) -> None:
    """A well-formed zip with any file replaced never raises: it yields a report."""
    top, files = unzip(shared_bundle())
    if files[path] == content:
        return
    files[path] = content
    report = verify(rezip(top, files), bagit_check=bagit_check)
    assert not report.passed
    report.to_dict()


@FUZZ
@given(st.dictionaries(st.sampled_from([*_PATHS, "bagit.txt", "x/y"]), st.binary(max_size=300)))
def test_fixity_check_never_raises(files: dict[str, bytes]) -> None:
    result, info = check_fixity(files)
    assert isinstance(result.ok, bool)
    assert isinstance(info, dict)


@FUZZ
@given(st.binary(max_size=500))
def test_tag_file_parser(raw: bytes) -> None:
    try:
        tags = parse_tag_file(raw, "bag-info.txt")
    except ValueError:
        return
    assert all(isinstance(k, str) for k in tags)


def test_overlapping_entries_are_refused() -> None:
    """Entries whose data spans overlap (the "overlapping files" zip bomb)."""
    data = bytearray(zip_of([("thidua-42/a", b"a" * 100), ("thidua-42/b", b"b" * 100)]))
    central = data.index(b"PK\x01\x02")
    (size,) = struct.unpack_from("<I", data, central + 20)
    struct.pack_into("<I", data, central + 20, size + 60)  # a's data now runs into b
    with pytest.raises(BundleError, match="chồng lên nhau"):
        read_zip(bytes(data))


def test_local_name_must_match_the_directory() -> None:
    data = bytearray(zip_of([("thidua-42/bagit.txt", b"x")]))
    local = data.index(b"thidua-42/bagit.txt")
    data[local : local + 9] = b"thidua-43"
    with pytest.raises(
        BundleError, match="tên trong tiêu đề cục bộ khác tên trong thư mục trung tâm"
    ):
        read_zip(bytes(data))


# -- what zipfile's reading of the directory brings -----------------------------------------


def test_a_prefix_before_the_zip_is_refused() -> None:
    """Bytes before the zip (a self-extracting stub) shift every offset. They used to be
    accepted; issue 13 refuses them: they are bytes no signature covers, and a prefix is
    where a polyglot file hides what another program would run or show."""
    data = b"MZ self-extracting stub " * 10 + shared_bundle()
    with pytest.raises(BundleError, match="trước tiêu đề zip đầu tiên"):
        read_zip(data)


def test_a_zip_comment_is_refused() -> None:
    """A comment after the end record: unsigned bytes that unzip prints and Explorer shows."""
    data = bytearray(shared_bundle())
    comment = "lưu trữ 2026".encode()
    data[-2:] = struct.pack("<H", len(comment))
    data += comment
    with pytest.raises(BundleError, match="chú thích"):
        read_zip(bytes(data))


def _zip64_archive() -> bytes:
    """Tiny limits make zipfile write Zip64 extra fields and end records for a small archive."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zipfile, "ZIP64_LIMIT", 50)
        patch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("thidua-42/a", b"a" * 100)
            archive.writestr("thidua-42/b", b"b")
    return buffer.getvalue()


def test_zip64_archives_are_read() -> None:
    data = _zip64_archive()
    assert b"PK\x06\x06" in data  # the Zip64 end record
    assert read_zip(data).files == {"a": b"a" * 100, "b": b"b"}


def _with_zip64_extensible_sector(data: bytes, sector: bytes) -> bytes:
    """The archive with bytes in the Zip64 end record's extensible data sector: the record
    grows, its size field says so, and the locator and end record point past it as a
    careful writer would. Readers differ on such a record (Python's zipfile looks for it
    56 bytes before the locator and so does not see it), so it is a second reading."""
    record = data.rindex(b"PK\x06\x06")
    locator = data.rindex(b"PK\x06\x07")
    assert locator == record + 56
    body = bytearray(data[record:locator])
    struct.pack_into("<Q", body, 4, 44 + len(sector))
    tail = bytearray(data[locator:])
    struct.pack_into("<Q", tail, 8, record)  # the locator still points at the record
    return data[:record] + bytes(body) + sector + bytes(tail)


def test_a_zip64_extensible_sector_is_refused() -> None:
    forged = _with_zip64_extensible_sector(_zip64_archive(), b"\x99\x99" + b"hidden" * 4)
    with pytest.raises(BundleError, match="giữa các bản ghi cuối Zip64"):
        read_zip(forged)


def test_a_zip64_record_that_lies_about_its_size_is_refused() -> None:
    data = bytearray(_zip64_archive())
    record = data.rindex(b"PK\x06\x06")
    struct.pack_into("<Q", data, record + 4, 44 + 16)  # claims a sector it does not have
    with pytest.raises(BundleError, match="giữa các bản ghi cuối Zip64"):
        read_zip(bytes(data))


def test_a_zip64_locator_pointing_elsewhere_is_refused() -> None:
    data = bytearray(_zip64_archive())
    locator = data.rindex(b"PK\x06\x07")
    struct.pack_into("<Q", data, locator + 8, 0)  # at the first local header instead
    with pytest.raises(BundleError, match="Zip64 hỏng"):
        read_zip(bytes(data))


@FUZZ
@given(st.text(alphabet="aZ09._-/:\\\x00\x1f\x7fé ", max_size=20))
def test_plain_names_pass_every_member_name_check(name: str) -> None:
    """A name of the plain shape check_member_name accepts at once passes its full checks."""
    if _PLAIN_NAME.fullmatch(name):
        assert _checked_parts(name, DEFAULT_LIMITS) == check_member_name(name)


def test_member_name_shortcut_keeps_the_limits() -> None:
    with pytest.raises(BundleError):
        check_member_name("a" * 300)
    with pytest.raises(BundleError):
        check_member_name("thidua-42/..")
    assert check_member_name("thidua-42/data/") == ["thidua-42", "data"]


@FUZZ
@given(st.text(alphabet="0123456789abcdefABCDEFgx \t\u00a0\u0660\uff10", min_size=62, max_size=66))
def test_manifest_digest_check_is_exactly_64_hex_digits(text: str) -> None:
    assert _is_sha256_hex(text) == bool(re.fullmatch(r"[0-9a-fA-F]{64}", text))
