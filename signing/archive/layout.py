"""Where things are in a bundle and what their names may be; shared by builder and verifier.

Layout (DESIGN.md, "Evidence and archive")::

    thidua-<document-id>/
      bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
      data/document.docx             a single document: the frozen bytes every unit signs
        or, for a nomination dossier (several documents; exactly one of the two):
      data/dossier.json              its manifest (signing.archive.dossier), which every
                                     unit signs: each part's name, title, SHA-256, size
      data/parts/<NN-name>.docx      the dossier's documents, exactly those it lists
      data/document.pdf              optional: the signed PDF of a single document (PAdES
                                     signatures of the units, the board's last)
      data/parts/<NN-name>.pdf       optional: a dossier document's signed PDF, named
                                     after a listed part
      data/document.json             structured content, metadata, member units
      data/signatures/<UNIT>.p7s     one detached CMS per member unit
      data/approval/manifest.json    what the board approved (+ manifest.json.p7s)
      data/certs/*.pem               signer certificates and the CA chain
      data/crl.der                   the CA's CRL at archive time
      data/audit.jsonl               this document's audit events with their chain hashes
      data/verification.json         the verification report at archive time
      archive-timestamps/NNNN.tsr    tag files: RFC 3161 archive timestamps over the payload
      archive-timestamps/NNNN.crl    manifest (and, at a renewal, the CRL of that day); see
                                     signing.archive.timestamps

``signed_file`` names which of document.docx and dossier.json a bundle's unit signatures
cover. The four tag files are derivatives: ``bag_info_for`` and signing.archive.bag.tag_files make
them from document.json and the payload, so the verifier rebuilds and compares them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from signing.errors import BundleError

__all__ = [
    "APPROVAL_PATH",
    "APPROVAL_SIGNATURE_PATH",
    "ARCHIVE_TIMESTAMP_DIR",
    "ARCHIVE_TIMESTAMP_NAME",
    "BUNDLE_FORMAT",
    "DOCUMENT_FORMAT",
    "DOCUMENT_PATH",
    "DOCUMENT_PDF",
    "DOCUMENT_PDF_PATH",
    "DOSSIER_PATH",
    "HEX64",
    "PARTS_DIR",
    "PART_NAME",
    "PART_NAME_MAX",
    "PDF_MAGIC",
    "REQUIRED_FILES",
    "SAFE_NAME",
    "SIGNED_FILES",
    "TAG_FILES",
    "archive_timestamp_path",
    "bag_info_for",
    "cert_path",
    "check_bytes",
    "check_name",
    "check_text",
    "check_units",
    "part_path",
    "part_pdf_name",
    "part_pdf_path",
    "signature_path",
    "signed_file",
]

BUNDLE_FORMAT = "thidua-bundle/1"
DOCUMENT_FORMAT = "thidua-document/1"

# Unit codes and document ids become file and folder names; keep them portable.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
HEX64 = re.compile(r"[0-9a-f]{64}")
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt")
APPROVAL_PATH = "data/approval/manifest.json"
APPROVAL_SIGNATURE_PATH = "data/approval/manifest.json.p7s"
# The file every member unit signs: exactly one of these is in a bundle.
DOCUMENT_PATH = "data/document.docx"
DOSSIER_PATH = "data/dossier.json"
SIGNED_FILES = (DOCUMENT_PATH, DOSSIER_PATH)
# A dossier's documents: data/parts/<name>, names like "01-to-trinh.docx".
PARTS_DIR = "data/parts/"
PART_NAME = re.compile(r"[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*\.docx")
PART_NAME_MAX = 64
# The signed PDFs (issue 16), optional: a pledge's beside its DOCX, a dossier part's beside
# that part, named after it ("01-to-trinh.docx" -> "01-to-trinh.pdf").
DOCUMENT_PDF = "document.pdf"
DOCUMENT_PDF_PATH = "data/" + DOCUMENT_PDF
PART_PDF_NAME = re.compile(r"[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*\.pdf")
PDF_MAGIC = b"%PDF-"
REQUIRED_FILES = (
    *TAG_FILES,
    "data/document.json",
    APPROVAL_PATH,
    APPROVAL_SIGNATURE_PATH,
    "data/crl.der",
    "data/audit.jsonl",
    "data/verification.json",
)


# Archive timestamps (issue 17) are tag files: outside data/, numbered from 0001.
ARCHIVE_TIMESTAMP_DIR = "archive-timestamps/"
ARCHIVE_TIMESTAMP_NAME = re.compile(r"archive-timestamps/([0-9]{4})\.(tsr|crl)")


def archive_timestamp_path(path: str) -> bool:
    """A well-formed archive-timestamps file name (whether the set is complete is
    signing.archive.timestamps' question)."""
    return bool(ARCHIVE_TIMESTAMP_NAME.fullmatch(path))


def signature_path(path: str) -> bool:
    if not path.startswith("data/signatures/") or not path.endswith(".p7s"):
        return False
    code = path[len("data/signatures/") : -len(".p7s")]
    return bool(SAFE_NAME.fullmatch(code))


def part_path(path: str) -> bool:
    """``data/parts/<name>`` with a well-formed part name (see PART_NAME)."""
    if not path.startswith(PARTS_DIR):
        return False
    name = path[len(PARTS_DIR) :]
    return len(name) <= PART_NAME_MAX and bool(PART_NAME.fullmatch(name))


def part_pdf_name(part_name: str) -> str:
    """The PDF name of a dossier part: ``01-to-trinh.docx`` -> ``01-to-trinh.pdf``."""
    return part_name.removesuffix(".docx") + ".pdf"


def part_pdf_path(path: str) -> bool:
    """``data/parts/<NN-name>.pdf``: a well-formed name for a dossier part's signed PDF
    (whether a listed part has that stem is the dossier step's question)."""
    if not path.startswith(PARTS_DIR):
        return False
    name = path[len(PARTS_DIR) :]
    return len(name) <= PART_NAME_MAX and bool(PART_PDF_NAME.fullmatch(name))


def signed_file(files: Mapping[str, Any]) -> str | None:
    """The path of the file the unit signatures cover among ``files`` (paths relative to
    the bag): data/dossier.json when there, else data/document.docx, else None."""
    for path in (DOSSIER_PATH, DOCUMENT_PATH):
        if path in files:
            return path
    return None


def cert_path(path: str) -> bool:
    if not path.startswith("data/certs/") or not path.endswith(".pem"):
        return False
    return "/" not in path[len("data/certs/") :]


def check_name(value: Any, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not SAFE_NAME.fullmatch(value):
        raise BundleError(
            f"{what} {value!r} không hợp lệ: chỉ dùng chữ cái không dấu, chữ số, '-', '_', '.'"
            " (tối đa 128 ký tự, bắt đầu bằng chữ hoặc số)"
        )
    return value


def check_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BundleError(f"{what} phải là chuỗi khác rỗng")
    if any(ord(ch) < 0x20 for ch in value):
        raise BundleError(f"{what} không được chứa ký tự điều khiển (xuống dòng, tab...)")
    return unicodedata.normalize("NFC", value.strip())


def check_units(units: Any, what: str) -> dict[str, str]:
    if not isinstance(units, Mapping) or not units:
        raise BundleError(f"{what}: cần ít nhất một đơn vị (mã → tên)")
    out: dict[str, str] = {}
    folded: set[str] = set()
    for code, name in units.items():
        code = check_name(code, "mã đơn vị")
        if code.casefold() in folded:
            raise BundleError(f"{what}: mã đơn vị {code!r} bị trùng")
        folded.add(code.casefold())
        out[code] = check_text(name, f"tên đơn vị {code}")
    return out


def check_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or not value:
        raise BundleError(f"{what} phải là dữ liệu nhị phân khác rỗng")
    return bytes(value)


def bag_info_for(document: Mapping[str, Any]) -> dict[str, Any]:
    """bag-info.txt's fields (all but Payload-Oxum) from the body of data/document.json.

    Every value comes from document.json, which the board's manifest pins, so the verifier
    rebuilds the file and compares it byte for byte: no field of bag-info is free text an
    attacker could change. Nothing depends on the installed bagit version."""
    doc_id = check_name(document.get("document_id"), "document.json: document_id")
    created = document.get("created_at")
    if not isinstance(created, str) or len(created) < 10:
        raise BundleError("document.json: created_at không hợp lệ")
    content = document.get("content")
    title = content.get("title") if isinstance(content, Mapping) else None
    units = document.get("member_units")
    if not isinstance(units, list) or not all(isinstance(u, Mapping) for u in units):
        raise BundleError("document.json: member_units phải là danh sách đơn vị")
    members = [f"{u.get('code')} {u.get('name')}" for u in units]
    return {
        "Bag-Software-Agent": f"thidua ({BUNDLE_FORMAT})",
        "Bagging-Date": created[:10],  # the date in UTC; bagit would stamp today
        "External-Identifier": doc_id,
        "External-Description": check_text(title, "title")
        if isinstance(title, str) and title.strip()
        else f"thidua document {doc_id}",
        "Thidua-Bundle-Format": BUNDLE_FORMAT,
        "Thidua-Document-Id": doc_id,
        "Thidua-Document-SHA256": str(document.get("document_sha256")),
        "Thidua-Created-At": created,
        "Thidua-Member-Unit-Count": str(len(members)),
        "Thidua-Member-Unit": members,
    }
