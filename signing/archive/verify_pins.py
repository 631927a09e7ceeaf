"""Coverage: every member of the bundle is signed, rebuilt from signed data, or refused.

* the approval manifest is covered by the board's CMS (checked by the approval step);
* every other payload file must be pinned by the manifest (``files``) and have the SHA-256
  it pins; a file the manifest does not pin (an extra certificate, a second CRL, a note) is
  refused as UNSIGNED_CONTENT, naming the file;
* the four tag files are rebuilt from the pinned payload and document.json and must be
  byte-identical (so bag-info.txt holds no free text an attacker could change);
* folders must hold files: an empty folder entry is a name no signature covers;
* the board's CMS, which no signature can cover whole, may carry nothing unsigned a reader
  could take for evidence: no unsigned attributes (a timestamp, a counter-signature), no
  CRLs. Its embedded certificates only help build chains to the caller's anchors, which no
  added certificate can fool, so they are left to the signature check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asn1crypto import parser as asn1_parser

from signing.archive.bag import tag_files
from signing.archive.layout import (
    APPROVAL_PATH,
    APPROVAL_SIGNATURE_PATH,
    archive_timestamp_path,
    bag_info_for,
)
from signing.archive.run import Run
from signing.errors import BundleError
from signing.validation.cms_reader import SIGNATURE_TIMESTAMP_OID
from signing.validation.status import SubIndication

__all__ = [
    "check_approval_signature_extras",
    "check_folders",
    "check_pinned_files",
    "check_tag_files",
    "rebuilt_tag_mismatches",
]

_UNSIGNED = SubIndication.UNSIGNED_CONTENT
_APPROVAL_FILES = (APPROVAL_PATH, APPROVAL_SIGNATURE_PATH)


def check_pinned_files(run: Run, pins: Mapping[str, str]) -> None:
    """Compare every payload file with the manifest's pins (nothing to compare with when
    the manifest pins nothing: the approval step has already failed it)."""
    if not pins:
        return
    for path in sorted(run.files):
        if not path.startswith("data/") or path in _APPROVAL_FILES:
            continue
        pinned = pins.get(path)
        if pinned is None:
            run.fail(
                "unsigned_file",
                f"{path} không được bản kê phê duyệt của Ban ghim (tệp thêm vào sau khi ký)",
                _UNSIGNED,
                path=path,
            )
        elif run.digest(path).hex() != pinned:
            run.fail(
                "pinned_file",
                f"{path} khác tệp Ban đã ký trong bản kê phê duyệt (SHA-256 không khớp)",
                SubIndication.HASH_FAILURE,
                path=path,
            )
    for path in sorted(set(pins) - set(run.files)):
        run.fail(
            "pinned_file",
            f"gói thiếu {path}, tệp mà bản kê phê duyệt của Ban đã ghim",
            path=path,
        )


def rebuilt_tag_mismatches(run: Run, document: Any) -> list[str] | None:
    """The tag files that differ from their rebuild from the payload and the body of
    document.json (None when document.json is unusable: a problem of its own). An empty
    list proves the bag's fixity: every payload file has the digest its manifest lists."""
    if not isinstance(document, dict):
        return None
    try:
        info = bag_info_for(document)
    except BundleError:
        return None
    payload = sorted(path for path in run.files if path.startswith("data/"))
    digests = {path: run.digest(path) for path in payload}
    size = sum(len(run.files[path]) for path in payload)
    extra = {path: run.files[path] for path in run.files if archive_timestamp_path(path)}
    rebuilt = tag_files(digests, size, info, extra)
    # A missing tag file is a mismatch too (no proof), reported as missing by the layout step.
    return [name for name, content in rebuilt.items() if run.files.get(name) != content]


def check_tag_files(run: Run, mismatches: list[str] | None) -> None:
    """Each tag file must equal its rebuild byte for byte (see rebuilt_tag_mismatches)."""
    for name in mismatches or ():
        if name not in run.files:
            continue
        run.fail(
            "tag_file",
            f"{name} khác bản dựng lại từ dữ liệu đã ký (có nội dung không được ký)",
            _UNSIGNED,
            path=name,
        )


def check_folders(run: Run, folders: frozenset[str]) -> None:
    """A folder entry must be the parent of some file (a re-zipping tool writes those)."""
    parents = {path.rsplit("/", 1)[0] for path in run.files if "/" in path}
    parents |= {p.rsplit("/", i)[0] for p in parents for i in range(1, p.count("/") + 1)}
    for folder in sorted(folders - parents):
        run.fail(
            "unexpected_file",
            f"gói chứa thư mục rỗng không thuộc cấu trúc: {folder}/",
            _UNSIGNED,
            path=f"{folder}/",
        )


def _children(der: bytes) -> list[tuple[int, int, bytes]]:
    """(class, tag, content) of each element inside the constructed element ``der``."""
    content = asn1_parser.parse(der)[4]
    out = []
    position = 0
    while position < len(content):
        cls, _method, tag, header, body, trailer = asn1_parser.parse(content[position:])
        out.append((cls, tag, body))
        position += len(header) + len(body) + len(trailer)
    return out


def _unsigned_parts(der: bytes) -> list[str]:
    """What the CMS SignedData ``der`` carries outside its signed attributes and content:
    CRLs ([1] of SignedData) and unsigned attributes ([1] of a SignerInfo), read from the
    DER structure alone (a full parse would cost more than the signature check)."""
    try:
        explicit = _children(der)[1][2]  # ContentInfo: contentType, [0] EXPLICIT content
        signed = _children(explicit)
        found = ["CRL" for cls, tag, _ in signed if (cls, tag) == (2, 1)]
        infos = signed[-1][2]
        position = 0
        while position < len(infos):
            _c, _m, _t, header, body, trailer = asn1_parser.parse(infos[position:])
            info = header + body + trailer
            for cls, tag, content in _children(info):
                if (cls, tag) == (2, 1) and not _only_signature_timestamps(content):
                    found.append("thuộc tính không ký (unsigned attributes)")
            position += len(info)
        return found
    except (ValueError, TypeError, IndexError):
        return []  # unreadable: the signature check reports it


def _only_signature_timestamps(attributes: bytes) -> bool:
    """Whether the unsigned attributes' contents hold signature-time-stamps only: the one
    unsigned attribute allowed, as the approval signature's CAdES-T (issue 17); the
    signature check verifies each token."""
    position = 0
    while position < len(attributes):
        _c, _m, _t, header, body, trailer = asn1_parser.parse(attributes[position:])
        if not body.startswith(SIGNATURE_TIMESTAMP_OID):
            return False
        position += len(header) + len(body) + len(trailer)
    return position > 0


def check_approval_signature_extras(run: Run) -> None:
    der = run.files.get(APPROVAL_SIGNATURE_PATH)
    if der is None:
        return
    for part in _unsigned_parts(der):
        run.fail(
            "unsigned_file",
            f"{APPROVAL_SIGNATURE_PATH} mang {part} nằm ngoài phần được ký",
            _UNSIGNED,
            path=APPROVAL_SIGNATURE_PATH,
        )
