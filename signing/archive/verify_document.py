"""The document steps of bundle verification: data/document.json (the document id, the
member units, what they signed) agrees with the top folder, the signed file and
bag-info.txt; and a dossier's data/dossier.json lists exactly the documents in data/parts,
each with its SHA-256 and size."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from signing.archive.dossier import Dossier, parse_dossier
from signing.archive.layout import (
    DOCUMENT_FORMAT,
    DOCUMENT_PATH,
    DOSSIER_PATH,
    PARTS_DIR,
    SAFE_NAME,
    part_pdf_name,
)
from signing.archive.report import PartResult
from signing.archive.run import Run
from signing.errors import BundleError
from signing.validation.status import SubIndication

__all__ = ["check_dossier", "document_body", "read_document_json"]


def document_body(run: Run) -> Any:
    """data/document.json's body, or None when it is absent or not strict JSON."""
    try:
        return run.json("data/document.json") if "data/document.json" in run.files else None
    except BundleError:
        return None  # reported by read_document_json


def read_document_json(
    run: Run, doc_sha: str | None, bag_info: Mapping[str, Any], signed: str | None
) -> tuple[str | None, dict[str, str]]:
    """(document id, member units); the id comes from the top folder and must agree with
    document.json and bag-info, and document.json must describe the signed file ``signed``
    (its ``signed_file`` and SHA-256; a bundle made before dossiers existed has no
    ``signed_file``, and its signed file is document.docx)."""
    expected_id = run.top[len("thidua-") :]
    raw = run.files.get("data/document.json")
    units: dict[str, str] = {}
    doc_id: str | None = expected_id if SAFE_NAME.fullmatch(expected_id) else None
    if doc_id is None:
        run.fail("layout", f"tên thư mục gốc {run.top!r} không chứa mã tài liệu hợp lệ")
    if raw is None:
        return doc_id, units
    try:
        body = run.json("data/document.json")
        if not isinstance(body, dict):
            raise BundleError("data/document.json phải là một đối tượng")
        if body.get("format") != DOCUMENT_FORMAT:
            raise BundleError(f"data/document.json: định dạng {body.get('format')!r} lạ")
        units = _units_from_list(body.get("member_units"))
    except BundleError as exc:
        run.fail("document_json", str(exc), path="data/document.json")
        return doc_id, units
    if body.get("document_id") != expected_id:
        run.fail(
            "document_json",
            f"mã tài liệu trong document.json ({body.get('document_id')!r}) khác thư mục gốc"
            f" ({expected_id!r})",
            path="data/document.json",
        )
    declared = body.get("signed_file", DOCUMENT_PATH)
    if signed is not None and declared != signed:
        run.fail(
            "document_json",
            f"document.json ghi tệp được ký là {declared!r}, nhưng gói có {signed}",
            path="data/document.json",
        )
    if signed is not None and doc_sha is not None and body.get("document_sha256") != doc_sha:
        run.fail(
            "document_hash",
            f"SHA-256 của {_short(signed)} khác giá trị ghi trong document.json",
            SubIndication.HASH_FAILURE,
            path=signed,
        )
    _compare_bag_info(run, bag_info, expected_id, doc_sha, units, signed)
    return doc_id, units


def _short(path: str) -> str:
    return path.removeprefix("data/")


def _units_from_list(value: Any) -> dict[str, str]:
    if not isinstance(value, list) or not value:
        raise BundleError("document.json: member_units phải là danh sách khác rỗng")
    out: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"code", "name"}:
            raise BundleError(f"document.json: member_units[{index}] phải có code và name")
        code, name = item["code"], item["name"]
        if not isinstance(code, str) or not SAFE_NAME.fullmatch(code):
            raise BundleError(f"document.json: member_units[{index}].code không hợp lệ")
        if not isinstance(name, str) or not name.strip():
            raise BundleError(f"document.json: member_units[{index}].name không hợp lệ")
        if code in out:
            raise BundleError(f"document.json: đơn vị {code} bị lặp")
        out[code] = name
    return out


def _compare_bag_info(
    run: Run,
    info: Mapping[str, Any],
    doc_id: str,
    doc_sha: str | None,
    units: Mapping[str, str],
    signed: str | None,
) -> None:
    if not info:
        return  # bag-info unreadable: already a fixity problem
    listed = info.get("Thidua-Member-Unit")
    if isinstance(listed, str):
        listed = [listed]
    if not isinstance(listed, list):
        run.fail("bag_info", "bag-info.txt không liệt kê đơn vị thành viên", path="bag-info.txt")
        return
    mine = [f"{code} {name}" for code, name in units.items()]
    if [unicodedata.normalize("NFC", item) for item in listed] != mine:
        run.fail(
            "bag_info",
            "danh sách đơn vị thành viên trong bag-info.txt khác document.json",
            path="bag-info.txt",
        )
    if info.get("Thidua-Document-Id") != doc_id:
        run.fail("bag_info", "mã tài liệu trong bag-info.txt khác thư mục gốc", path="bag-info.txt")
    if signed is not None and doc_sha is not None and info.get("Thidua-Document-SHA256") != doc_sha:
        run.fail(
            "bag_info",
            f"SHA-256 tài liệu trong bag-info.txt khác {_short(signed)}",
            SubIndication.HASH_FAILURE,
            path="bag-info.txt",
        )


# -- a dossier's documents --------------------------------------------------------------


def check_dossier(run: Run, signed: str | None) -> tuple[Dossier | None, tuple[PartResult, ...]]:
    """With data/dossier.json (what the units sign): it reads strictly, every document it
    lists is in data/parts with the listed SHA-256 and size (HASH_FAILURE naming the part,
    a missing part too: the signed hash finds no document), and every file in data/parts is
    listed (UNSIGNED_CONTENT naming it) or the signed PDF of a listed part (its stem and
    .pdf: the PDF step checks its signatures). Returns the dossier and its parts' results."""
    if signed != DOSSIER_PATH:
        return None, ()
    try:
        dossier = parse_dossier(run.files[DOSSIER_PATH])
    except BundleError as exc:
        run.fail("dossier_json", str(exc), path=DOSSIER_PATH)
        return None, ()
    results = []
    for part in dossier.parts:
        content = run.files.get(part.path)
        intact = (
            content is not None
            and len(content) == part.size
            and run.digest(part.path).hex() == part.sha256
        )
        if content is None:
            run.fail(
                "missing_part",
                f"gói thiếu văn bản {part.path} ({part.title}) mà {DOSSIER_PATH} (được các đơn"
                " vị ký) liệt kê",
                SubIndication.HASH_FAILURE,
                path=part.path,
            )
        elif not intact:
            run.fail(
                "part_hash",
                f"{part.path} ({part.title}) khác văn bản các đơn vị đã ký: SHA-256 hoặc kích"
                f" thước không khớp {DOSSIER_PATH}",
                SubIndication.HASH_FAILURE,
                path=part.path,
            )
        results.append(PartResult(part, intact))
    listed = {part.path for part in dossier.parts}
    listed |= {PARTS_DIR + part_pdf_name(part.name) for part in dossier.parts}
    for path in sorted(run.files):
        if path.startswith(PARTS_DIR) and path not in listed:
            run.fail(
                "unlisted_part",
                f"{path} không có trong {DOSSIER_PATH}: văn bản không được các đơn vị ký",
                SubIndication.UNSIGNED_CONTENT,
                path=path,
            )
    return dossier, tuple(results)
