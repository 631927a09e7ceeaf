"""Opening the templates once and writing a python-docx document as deterministic bytes.

python-docx stamps the current time into zip entries, so two saves of one document differ.
``package_bytes`` writes the same parts python-docx would (its own serialisation of every
part and relationship) through the stdlib ``zipfile`` with a fixed entry time and order.
"""

from __future__ import annotations

import copy
import functools
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import docx
from docx.document import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.part import Part
from lxml import etree  # type: ignore[import-untyped]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


def template_path(profile_key: str) -> Path:
    return TEMPLATES / f"{profile_key}.docx"


# Parts a render never changes (styles, numbering, settings, fonts, page headers): their
# elements are shared by every copy of a template and serialised once.
_STATIC = frozenset(
    {
        "/word/styles.xml",
        "/word/numbering.xml",
        "/word/settings.xml",
        "/word/fontTable.xml",
        "/word/header1.xml",
        "/word/header2.xml",
    }
)
_SHARED_BLOBS: dict[int, bytes] = {}  # id of a shared element -> its part's bytes


@functools.cache
def _template(profile_key: str) -> tuple[Document, dict[int, Any]]:
    """The template parsed once per process, and the elements its copies share."""
    document = docx.Document(str(template_path(profile_key)))
    shared: dict[int, Any] = {}
    for part in document.part.package.iter_parts():
        element = getattr(part, "_element", None)
        if element is not None and str(part.partname) in _STATIC:
            shared[id(element)] = element
            _SHARED_BLOBS[id(element)] = part.blob
    return document, shared


def template_document(profile_key: str) -> Document:
    """The parsed template itself: read it, never change it."""
    return _template(profile_key)[0]


def new_document(profile_key: str) -> Document:
    """A fresh document on the profile's template: a deep copy of the parsed package that
    shares the parts a render never changes (no unzip, no XML parsing, no copy of styles)."""
    document, shared = _template(profile_key)
    return copy.deepcopy(document, dict(shared))


def _content_types(parts: Iterable[Part]) -> bytes:
    root = etree.Element(f"{{{_CT_NS}}}Types", nsmap={None: _CT_NS})
    # PNG is declared even when no picture is present, so the content types of a template's
    # documents stay one shared entry.
    defaults = {"rels": CT.OPC_RELATIONSHIPS, "xml": CT.XML, "png": CT.PNG}
    overrides: list[tuple[str, str]] = []
    for part in parts:
        ext = part.partname.ext.lower()
        if ext == "xml" or (ext in defaults and defaults[ext] != part.content_type):
            overrides.append((str(part.partname), part.content_type))
        else:
            defaults.setdefault(ext, part.content_type)
    for ext, content_type in sorted(defaults.items()):
        etree.SubElement(root, f"{{{_CT_NS}}}Default", Extension=ext, ContentType=content_type)
    for name, content_type in sorted(overrides):
        etree.SubElement(root, f"{{{_CT_NS}}}Override", PartName=name, ContentType=content_type)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


# Every entry carries this time: the zip's own epoch, the same for every document.
ENTRY_TIME = (1980, 1, 1, 0, 0, 0)


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ENTRY_TIME)
    info.create_system = 3  # the same on every platform
    info.external_attr = 0o100644 << 16
    # PNG data is already compressed: store it.
    info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
    return info


def _write(archive: zipfile.ZipFile, entries: Iterable[tuple[str, bytes]]) -> None:
    for name, data in entries:
        archive.writestr(_info(name), data, compresslevel=6)


@functools.lru_cache(maxsize=16)
def _prefix(entries: tuple[tuple[str, bytes], ...]) -> bytes:
    """A zip of the entries every render of a template shares, deflated once."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        _write(archive, entries)
    return out.getvalue()


def package_bytes(document: Document) -> bytes:
    """The package of ``document`` zipped in a fixed order with fixed entry times.

    The parts python-docx serialises are the ones it would save. Entries shared with the
    template (content types, styles, numbering, settings, fonts, page headers) come first,
    compressed once per process; the document's own parts are appended to a copy of them.
    """
    package = document.part.package
    parts = sorted(package.iter_parts(), key=lambda p: str(p.partname))
    shared = [("[Content_Types].xml", _content_types(parts)), ("_rels/.rels", package.rels.xml)]
    own: list[tuple[str, bytes]] = []
    for part in parts:
        part.before_marshal()
        blob = _SHARED_BLOBS.get(id(getattr(part, "_element", None)))
        if blob is not None:
            shared.append((part.partname.membername, blob))
            continue
        own.append((part.partname.membername, part.blob))
        if part.rels:
            own.append((part.partname.rels_uri.membername, part.rels.xml))
    out = io.BytesIO(_prefix(tuple(shared)))
    with zipfile.ZipFile(out, "a") as archive:
        _write(archive, own)
    return out.getvalue()
