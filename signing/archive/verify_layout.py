"""The layout and bag steps of bundle verification: the files a bundle must and may hold
(exactly one signed file, data/parts/ only beside a dossier's dossier.json, nothing outside
the layout), bag fixity and bag-info's tags, and the bundle's format version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signing.archive.bag import FixityResult, bagit_validate, check_fixity, parse_tag_file
from signing.archive.canonical import strict_json
from signing.archive.layout import (
    BUNDLE_FORMAT,
    DOCUMENT_PATH,
    DOCUMENT_PDF_PATH,
    DOSSIER_PATH,
    PARTS_DIR,
    REQUIRED_FILES,
    SIGNED_FILES,
    archive_timestamp_path,
    cert_path,
    part_path,
    part_pdf_path,
    signature_path,
    signed_file,
)
from signing.archive.run import Run
from signing.archive.verify_document import document_body
from signing.errors import BundleError
from signing.validation.status import SubIndication

__all__ = ["check_bag_fixity", "check_format", "check_layout"]


def check_layout(run: Run) -> str | None:
    """Every required file is there, exactly one signed file (data/document.docx, or a
    dossier's data/dossier.json), data/parts/ only beside a dossier.json, data/document.pdf
    only beside document.docx, and nothing outside the layout. Returns the signed file's
    path (None when there is none)."""
    for name in REQUIRED_FILES:
        if name not in run.files:
            run.fail("missing_file", f"gói thiếu tệp bắt buộc {name}", path=name)
    signed = _signed_path(run)
    has_parts = any(p.startswith(PARTS_DIR) for p in run.files)
    if signed is None:
        run.fail(
            "missing_file",
            f"gói thiếu tệp được ký: cần {DOCUMENT_PATH} (một văn bản) hoặc {DOSSIER_PATH}"
            " (hồ sơ nhiều văn bản)",
            path=DOSSIER_PATH if has_parts else DOCUMENT_PATH,
        )
    for other in SIGNED_FILES:
        if signed is not None and other != signed and other in run.files:
            run.fail(
                "unexpected_file",
                f"gói chứa cả {DOCUMENT_PATH} lẫn {DOSSIER_PATH}, chỉ được có một tệp được"
                f" ký: các đơn vị ký {signed}, {other} không thuộc cấu trúc",
                path=other,
            )
    if not any(cert_path(p) for p in run.files):
        run.fail("missing_file", "gói không có chứng thư số nào trong data/certs/")
    for name in run.files:
        if name.startswith(PARTS_DIR):
            if not (part_path(name) or part_pdf_path(name)):
                run.fail(
                    "unexpected_file",
                    f"tên văn bản của hồ sơ không hợp lệ: {name} (cần dạng"
                    f" {PARTS_DIR}01-ten-van-ban.docx, hoặc .pdf cho bản PDF đã ký)",
                    path=name,
                )
            elif signed == DOCUMENT_PATH:
                run.fail(
                    "unexpected_file",
                    f"gói chứa {name} nhưng không phải hồ sơ: văn bản trong {PARTS_DIR} chỉ"
                    f" được có cùng {DOSSIER_PATH}",
                    path=name,
                )
            continue
        if name == DOCUMENT_PDF_PATH:
            if signed != DOCUMENT_PATH:
                run.fail(
                    "unexpected_file",
                    f"gói chứa {name} nhưng không có {DOCUMENT_PATH}: bản PDF đã ký của một"
                    f" văn bản chỉ đi cùng văn bản đó (PDF của hồ sơ nằm trong {PARTS_DIR})",
                    path=name,
                )
            continue
        if (
            name in REQUIRED_FILES
            or name in SIGNED_FILES
            or signature_path(name)
            or cert_path(name)
            or archive_timestamp_path(name)
        ):
            continue
        run.fail("unexpected_file", f"gói chứa tệp lạ không thuộc cấu trúc: {name}", path=name)
    return signed


def _signed_path(run: Run) -> str | None:
    """The file the unit signatures cover: the one of document.docx and dossier.json the
    bundle holds; with both, the one document.json names (its ``signed_file``), else the
    dossier's."""
    body = document_body(run)
    declared = body.get("signed_file") if isinstance(body, dict) else None
    if declared in SIGNED_FILES and declared in run.files:
        return str(declared)
    return signed_file(run.files)


def check_bag_fixity(
    run: Run, bagit_check: bool, *, proven: bool
) -> tuple[FixityResult, Mapping[str, Any]]:
    """The bag's fixity and bag-info's tags. ``proven``: every tag file equals its rebuild
    from the payload's digests, which implies every check of check_fixity; its line-by-line
    reading (the bulk verifier's cost) is then skipped."""
    if proven:
        result = FixityResult(True)
        info: Mapping[str, Any] = parse_tag_file(run.files["bag-info.txt"], "bag-info.txt")
    else:
        result, info = check_fixity(run.files, digests=run.digests)
    if bagit_check:
        result = result.merged(bagit_validate(run.files))
    if not result.ok:
        run.fail(
            "fixity",
            "túi BagIt không toàn vẹn: " + "; ".join(result.errors[:5]),
            SubIndication.HASH_FAILURE,
        )
    return result, info


def check_format(run: Run, info: Mapping[str, Any]) -> None:
    """A bundle of an unknown format version is not judged by this version's rules."""
    declared = info.get("Thidua-Bundle-Format")
    if info and declared != BUNDLE_FORMAT:
        run.fail(
            "format",
            f"định dạng gói {declared!r} không được hỗ trợ (phiên bản này đọc {BUNDLE_FORMAT})",
            path="bag-info.txt",
        )
    raw = run.files.get("data/verification.json")
    if raw is not None:
        try:
            if not isinstance(strict_json(raw, "data/verification.json"), dict):
                raise BundleError("data/verification.json phải là một đối tượng JSON")
        except BundleError as exc:
            run.fail("verification_json", str(exc), path="data/verification.json")
