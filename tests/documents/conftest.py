"""Rendered samples shared by the documents tests (rendering is pure, so render once)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table

import documents
from documents import samples


def read(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


class Dossier:
    """A dossier's documents read back, in their order; ``paragraphs`` and ``tables`` run
    through all of them, as a reader turning the pages of the whole dossier sees them."""

    def __init__(self, parts: tuple[documents.Part, ...]) -> None:
        self.names = [part.name for part in parts]
        self.docs = [read(part.docx) for part in parts]

    def __getitem__(self, name: str) -> DocxDocument:
        return self.docs[self.names.index(name)]

    @property
    def paragraphs(self) -> list:
        return [p for doc in self.docs for p in doc.paragraphs]

    @property
    def tables(self) -> list[Table]:
        return [t for doc in self.docs for t in doc.tables]


def read_dossier(content: documents.NominationContent, **kwargs) -> Dossier:
    return Dossier(documents.render_dossier(content, **kwargs))


def squash(text: str) -> str:
    """Cell text with line breaks and repeated spaces folded, as a reader sees it."""
    return re.sub(r"\s+", " ", text).strip()


def all_tables(doc: DocxDocument) -> Iterator[Table]:
    """Every table of the body, nested ones included."""
    stack = list(doc.tables)
    while stack:
        table = stack.pop(0)
        yield table
        for row in table.rows:
            for cell in row.cells:
                stack.extend(cell.tables)


def table_with(doc: DocxDocument, text: str) -> Table:
    for table in all_tables(doc):
        if any(text in squash(c.text) for row in table.rows for c in row.cells):
            return table
    raise AssertionError(f"no table contains {text!r}")


def rfonts(element) -> dict[str, str | None]:
    fonts = element.find(qn("w:rFonts"))
    assert fonts is not None, "run without w:rFonts"
    return {slot: fonts.get(qn(f"w:{slot}")) for slot in ("ascii", "hAnsi", "eastAsia", "cs")}


@pytest.fixture(scope="session")
def pledge() -> documents.PledgeContent:
    return samples.pledge_2018()


@pytest.fixture(scope="session")
def nomination() -> documents.NominationContent:
    return samples.nomination_2018()


@pytest.fixture(scope="session")
def pledge_bytes(pledge: documents.PledgeContent) -> bytes:
    return documents.render(pledge)


@pytest.fixture(scope="session")
def nomination_parts(nomination: documents.NominationContent) -> tuple[documents.Part, ...]:
    return documents.render_dossier(nomination)


@pytest.fixture(scope="session")
def pledge_doc(pledge_bytes: bytes) -> DocxDocument:
    return read(pledge_bytes)


@pytest.fixture(scope="session")
def nomination_doc(nomination_parts: tuple[documents.Part, ...]) -> Dossier:
    return Dossier(nomination_parts)


def _chain(style):
    while style is not None:
        yield style
        style = style.base_style


def font(paragraph, attr: str, run=None):
    """A font property as Word resolves it: the run's own value, its character style, then
    the paragraph style and the styles it is based on."""
    if run is not None:
        value = getattr(run.font, attr)
        if value is not None:
            return value
        for style in _chain(run.style if run._r.style else None):
            value = getattr(style.font, attr)
            if value is not None:
                return value
    for style in _chain(paragraph.style):
        value = getattr(style.font, attr)
        if value is not None:
            return value
    return None


def fmt(paragraph, attr: str):
    """A paragraph property as Word resolves it: direct formatting, then the style chain."""
    value = getattr(paragraph.paragraph_format, attr)
    if value is not None:
        return value
    for style in _chain(paragraph.style):
        value = getattr(style.paragraph_format, attr)
        if value is not None:
            return value
    return None
