"""A nomination dossier's manifest, ``data/dossier.json``: the file its member units sign.

A dossier is several separate documents (the submission, the minutes, the nominee list, the
achievement reports), each its own DOCX under ``data/parts/``. Each member unit signs the
dossier once, with one detached CMS over this manifest, which binds every document by its
SHA-256 and size: one signature per unit as for a pledge, and still checkable with stock
tools (``openssl cms -verify ... -content data/dossier.json``, then ``sha256sum`` of each
part against the manifest).

The bytes are canonical JSON (UTF-8, ``json.dumps(obj, ensure_ascii=False, sort_keys=True,
separators=(",", ":"))``, no trailing newline) of::

    {"format": "thidua-dossier/1", "reference_code": "TD-KT-2018-00004-V1-7KQ3-M9XA",
     "title": "...", "parts": [{"name": "01-to-trinh.docx", "title": "Tờ trình",
     "sha256": "<64 lower hex>", "size": 12345, "signers": ["MD"]}, ...]}

``signers`` are the units that sign that document on paper (may be empty); the CMS
signatures are every member unit's, over this manifest.

``parse_dossier`` reads it strictly: exactly these keys and types, NFC text, part names like
``01-to-trinh.docx`` numbered 01, 02, ... in order, and the bytes must be the canonical
encoding itself, so one dossier has exactly one encoding and what the units signed says one
thing to every reader.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from signing.archive.canonical import canonical_json, strict_json
from signing.archive.layout import (
    DOSSIER_PATH,
    HEX64,
    PART_NAME,
    PART_NAME_MAX,
    PARTS_DIR,
    SAFE_NAME,
)
from signing.errors import BundleError, FormatError

__all__ = [
    "DOSSIER_FORMAT",
    "Dossier",
    "DossierPart",
    "parse_dossier",
    "part_mismatches",
]

DOSSIER_FORMAT = "thidua-dossier/1"
_KEYS = frozenset({"format", "reference_code", "title", "parts"})
_PART_KEYS = frozenset({"name", "title", "sha256", "size", "signers"})
# The reference codes documents/ prints ("TD-KT-2018-00004-V1-7KQ3-M9XA").
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{2,63}")
_TITLE_MAX = 500
_MAX_PARTS = 99  # two-digit numbers


@dataclass(frozen=True)
class DossierPart:
    """One document of a dossier, as data/dossier.json lists it."""

    name: str
    title: str
    sha256: str
    size: int
    signers: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """Its path in a bundle: ``data/parts/<name>``."""
        return PARTS_DIR + self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "sha256": self.sha256,
            "size": self.size,
            "signers": list(self.signers),
        }


@dataclass(frozen=True)
class Dossier:
    """The content of data/dossier.json."""

    reference_code: str
    title: str
    parts: tuple[DossierPart, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": DOSSIER_FORMAT,
            "reference_code": self.reference_code,
            "title": self.title,
            "parts": [part.to_dict() for part in self.parts],
        }

    def to_bytes(self) -> bytes:
        """The canonical bytes of this manifest (what parse_dossier reads back)."""
        return canonical_json(self.to_dict())


def _fail(reason: str) -> BundleError:
    return BundleError(f"{DOSSIER_PATH}: {reason}")


def _keys(value: Any, wanted: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{where} phải là một đối tượng JSON")
    missing = sorted(wanted - set(value))
    extra = sorted(set(value) - wanted)
    if missing:
        raise _fail(f"{where} thiếu khóa {', '.join(missing)}")
    if extra:
        raise _fail(f"{where} có khóa lạ {', '.join(extra)}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{where} phải là chuỗi khác rỗng")
    if len(value) > _TITLE_MAX:
        raise _fail(f"{where} dài quá {_TITLE_MAX} ký tự")
    if value != value.strip():
        raise _fail(f"{where} có khoảng trắng thừa ở đầu hoặc cuối")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise _fail(
            f"{where} chứa ký tự điều khiển hoặc ký tự vô hình (xuống dòng, tab, ký tự độ"
            " rộng 0, ký tự đổi chiều)"
        )
    if unicodedata.normalize("NFC", value) != value:
        raise _fail(f"{where} không ở dạng Unicode NFC")
    return value


def _part(value: Any, index: int, seen: set[str]) -> DossierPart:
    where = f"parts[{index}]"
    item = _keys(value, _PART_KEYS, where)
    name = item["name"]
    if not isinstance(name, str) or len(name) > PART_NAME_MAX or not PART_NAME.fullmatch(name):
        raise _fail(
            f"{where}.name {name!r} không hợp lệ: cần dạng '01-ten-van-ban.docx' (chữ thường"
            f" không dấu, chữ số, '-'; tối đa {PART_NAME_MAX} ký tự)"
        )
    if name in seen:
        raise _fail(f"{where}.name {name!r} bị trùng")
    number = f"{index + 1:02d}"
    if not name.startswith(number + "-"):
        raise _fail(f"{where}.name {name!r} phải bắt đầu bằng số thứ tự {number}-")
    seen.add(name)
    sha = item["sha256"]
    if not isinstance(sha, str) or not HEX64.fullmatch(sha):
        raise _fail(f"{where}.sha256 phải là 64 chữ số hex viết thường")
    size = item["size"]
    if type(size) is not int or size < 1:
        raise _fail(f"{where}.size phải là số nguyên dương (số byte của văn bản)")
    signers = item["signers"]
    if not isinstance(signers, list):
        raise _fail(f"{where}.signers phải là danh sách mã đơn vị")
    for position, code in enumerate(signers):
        if not isinstance(code, str) or not SAFE_NAME.fullmatch(code):
            raise _fail(f"{where}.signers[{position}] không phải mã đơn vị hợp lệ: {code!r}")
    if len(set(signers)) != len(signers):
        raise _fail(f"{where}.signers có mã đơn vị bị lặp")
    return DossierPart(name, _text(item["title"], f"{where}.title"), sha, size, tuple(signers))


def parse_dossier(data: bytes) -> Dossier:
    """The dossier manifest ``data`` (the bytes of data/dossier.json), read strictly (see
    the module text). Raises BundleError naming the field at fault."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise _fail("phải là dữ liệu nhị phân khác rỗng")
    data = bytes(data)
    body = _keys(strict_json(data, DOSSIER_PATH), _KEYS, "nội dung")
    if body["format"] != DOSSIER_FORMAT:
        raise _fail(f"định dạng {body['format']!r} không được hỗ trợ (cần {DOSSIER_FORMAT})")
    reference = body["reference_code"]
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        raise _fail(f"reference_code {reference!r} không hợp lệ")
    title = _text(body["title"], "title")
    listed = body["parts"]
    if not isinstance(listed, list) or not listed:
        raise _fail("parts phải là danh sách văn bản khác rỗng")
    if len(listed) > _MAX_PARTS:
        raise _fail(f"hồ sơ có quá {_MAX_PARTS} văn bản")
    seen: set[str] = set()
    parts = tuple(_part(item, index, seen) for index, item in enumerate(listed))
    dossier = Dossier(reference, title, parts)
    try:
        canonical = dossier.to_bytes()
    except FormatError as exc:  # pragma: no cover - every field was checked above
        raise _fail(str(exc)) from None
    if canonical != data:
        raise _fail(
            "không ở dạng JSON chính tắc (khóa theo thứ tự, không khoảng trắng, UTF-8 không"
            " thoát ký tự, không xuống dòng cuối tệp)"
        )
    return dossier


def part_mismatches(dossier: Dossier, parts: Mapping[str, bytes]) -> list[str]:
    """How ``parts`` (name -> bytes) differ from what ``dossier`` lists (empty when exactly
    the listed documents are given, each with its SHA-256 and size)."""
    out = []
    listed = {part.name: part for part in dossier.parts}
    for name in sorted(set(parts) - set(listed)):
        out.append(f"văn bản {name} không có trong {DOSSIER_PATH}")
    for part in dossier.parts:
        content = parts.get(part.name)
        if content is None:
            out.append(f"thiếu văn bản {part.name} mà {DOSSIER_PATH} liệt kê")
        elif len(content) != part.size:
            out.append(
                f"văn bản {part.name} có {len(content)} byte, {DOSSIER_PATH} ghi {part.size}"
            )
        elif hashlib.sha256(content).hexdigest() != part.sha256:
            out.append(f"SHA-256 của văn bản {part.name} khác giá trị ghi trong {DOSSIER_PATH}")
    return out
