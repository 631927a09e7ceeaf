"""A nomination dossier as separate DOCX documents, and the manifest that binds them.

The board files a dossier as separate documents (tờ trình, biên bản, danh sách, báo cáo
thành tích), each with its own first page and numbering, so each is a DOCX of its own.
What a member unit signs is one object: the dossier manifest (``thidua-dossier/1``), the
canonical JSON listing every document's name, title, SHA-256, size and the units whose
signature block it carries. One CMS per unit over the manifest covers every document through
its hash, and stays checkable by hand: ``openssl cms -verify -content dossier.json`` and
``sha256sum`` of each document against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from documents.blocks import Properties, Sheet
from documents.content import NominationContent
from documents.errors import DocumentError
from documents.nomination import DossierDocument, dossier_documents, properties
from documents.render import docx_of, printed_reference

__all__ = [
    "DOSSIER_FORMAT",
    "PART_NAME",
    "Part",
    "dossier_manifest",
    "dossier_outline",
    "render_dossier",
]

DOSSIER_FORMAT = "thidua-dossier/1"
# File names inside bundles and downloads: ordered, portable, no path separators.
PART_NAME = re.compile(r"[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.docx")


@dataclass(frozen=True)
class Part:
    """One document of a dossier: its file name, title, DOCX bytes, and the codes of the
    member units whose signature block it carries (who signs it on paper)."""

    name: str
    title: str
    docx: bytes
    signers: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.docx).hexdigest()


def render_dossier(
    content: NominationContent,
    *,
    reference_code: str | None = None,
    verify_url: str | None = None,
) -> tuple[Part, ...]:
    """The dossier's documents, each its own DOCX with deterministic bytes; each prints the
    version's reference code (and the public URL, as ``render`` does) on its last page.

    Raises:
        DocumentError: as ``render`` does, and ("kind") when ``content`` is no nomination.
    """
    if not isinstance(content, NominationContent):
        raise DocumentError(
            "kind", f"{type(content).__name__} không phải hồ sơ đề nghị khen thưởng"
        )
    reference_code, verify_url = printed_reference(content, reference_code, verify_url)
    parts = []
    for document in dossier_documents(content):
        docx = docx_of(content.profile, _writer(content, document), reference_code, verify_url)
        parts.append(Part(document.name, document.title, docx, document.signers))
    return tuple(parts)


def dossier_outline(content: NominationContent) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(name, title, signers) of each document ``render_dossier`` would render, without
    rendering: what a page lists before anything is frozen."""
    return tuple((d.name, d.title, d.signers) for d in dossier_documents(content))


def _writer(content: NominationContent, document: DossierDocument) -> Callable[[Sheet], Properties]:
    def write(sheet: Sheet) -> Properties:
        document.write(sheet)
        return properties(content, document.title)

    return write


def dossier_manifest(parts: tuple[Part, ...], *, reference_code: str, title: str) -> bytes:
    """The canonical JSON every member unit signs for a dossier: UTF-8, NFC, sorted keys, no
    spaces, no trailing newline, so the same parts always give the same bytes.

    Raises:
        DocumentError: ("parts") no parts, a name off the pattern or given twice.
    """
    if not parts:
        raise DocumentError("parts", "hồ sơ cần ít nhất một văn bản")
    names = [part.name for part in parts]
    for name in names:
        if not PART_NAME.fullmatch(name) or len(name) > 64:
            raise DocumentError("parts", f"tên tệp {name!r} không hợp lệ")
    if len(set(names)) != len(names):
        raise DocumentError("parts", "tên tệp của các văn bản bị trùng")
    body = {
        "format": DOSSIER_FORMAT,
        "reference_code": reference_code,
        "title": title,
        "parts": [
            {
                "name": part.name,
                "title": part.title,
                "sha256": part.sha256,
                "size": len(part.docx),
                "signers": list(part.signers),
            }
            for part in parts
        ],
    }
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return unicodedata.normalize("NFC", text).encode("utf-8")
