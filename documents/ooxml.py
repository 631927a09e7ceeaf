"""A small WordprocessingML writer: paragraphs, runs and tables as XML strings.

Rendering builds ``word/document.xml`` as text instead of driving python-docx's object model:
that is what makes a render take a few milliseconds, and it gives full control over the
markup (no random ids, no template leftovers). python-docx reads every output back in the tests.
Every run carries its own ``w:rFonts`` (ascii, hAnsi, eastAsia, cs) so that no application
falls back to another font for Vietnamese characters.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

FONT = "Times New Roman"
TWIPS_PER_MM = 1440 / 25.4
EMU_PER_MM = 36000

NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)
RFONTS = f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>'


def mm(value: float) -> int:
    """Millimetres to twips (1/20 pt), the unit of page and paragraph geometry."""
    return round(value * TWIPS_PER_MM)


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr(text: str) -> str:
    return esc(text).replace('"', "&quot;")


@functools.lru_cache(maxsize=256)
def rpr(size: float, bold: bool = False, italic: bool = False, underline: bool = False) -> str:
    half_points = round(size * 2)
    parts = [RFONTS]
    if bold:
        parts.append("<w:b/><w:bCs/>")
    if italic:
        parts.append("<w:i/><w:iCs/>")
    # Element order follows the schema (Word rejects out-of-order run properties): u after sz.
    parts.append(f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>')
    if underline:
        parts.append('<w:u w:val="single"/>')
    return "<w:rPr>" + "".join(parts) + "</w:rPr>"


def run(
    text: str, size: float, *, bold: bool = False, italic: bool = False, underline: bool = False
) -> str:
    return (
        f"<w:r>{rpr(size, bold, italic, underline)}"
        f'<w:t xml:space="preserve">{esc(text)}</w:t></w:r>'
    )


def lines_run(
    lines: Sequence[str], size: float, *, bold: bool = False, italic: bool = False
) -> str:
    """One run with explicit line breaks between ``lines`` (kept in one paragraph)."""
    body = "<w:br/>".join(f'<w:t xml:space="preserve">{esc(line)}</w:t>' for line in lines)
    return f"<w:r>{rpr(size, bold, italic)}{body}</w:r>"


def field_run(instruction: str, placeholder: str, size: float) -> str:
    """A simple field such as PAGE; ``placeholder`` is shown until the field is updated."""
    return (
        f'<w:fldSimple w:instr="{attr(instruction)}"><w:r>{rpr(size)}'
        f"<w:t>{esc(placeholder)}</w:t></w:r></w:fldSimple>"
    )


_JC = {"left": "left", "center": "center", "right": "right", "both": "both"}


def para(
    runs: str = "",
    *,
    align: str = "both",
    size: float = 14,
    first_line: int = 0,
    left: int = 0,
    right: int = 0,
    before: int = 0,
    after: int = 0,
    line: int | None = None,
    exact: bool = False,
    keep_next: bool = False,
    keep_lines: bool = False,
    page_break_before: bool = False,
    rule: str | None = None,
) -> str:
    """A paragraph. Spacing in twips; ``line`` in 240ths of a line (or twips when ``exact``).

    ``rule`` = "top" / "bottom" draws a solid 0.75 pt line along that edge; with ``left`` and
    ``right`` indents it becomes a centred rule of a chosen length.
    """
    ppr = []
    if keep_next:
        ppr.append("<w:keepNext/>")
    if keep_lines:
        ppr.append("<w:keepLines/>")
    if page_break_before:
        ppr.append("<w:pageBreakBefore/>")
    if rule:
        ppr.append(
            f'<w:pBdr><w:{rule} w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr>'
        )
    spacing = f'<w:spacing w:before="{before}" w:after="{after}"'
    if line is not None:
        spacing += f' w:line="{line}" w:lineRule="{"exact" if exact else "auto"}"'
    ppr.append(spacing + "/>")
    if first_line or left or right:
        ppr.append(f'<w:ind w:left="{left}" w:right="{right}" w:firstLine="{first_line}"/>')
    ppr.append(f'<w:jc w:val="{_JC[align]}"/>')
    ppr.append(rpr(size))
    return f"<w:p><w:pPr>{''.join(ppr)}</w:pPr>{runs}</w:p>"


def cell(
    width: int,
    paragraphs: str,
    *,
    span: int = 1,
    valign: str = "top",
    borders: bool = True,
) -> str:
    tcpr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if span > 1:
        tcpr += f'<w:gridSpan w:val="{span}"/>'
    if not borders:
        tcpr += (
            '<w:tcBorders><w:top w:val="nil"/><w:left w:val="nil"/>'
            '<w:bottom w:val="nil"/><w:right w:val="nil"/></w:tcBorders>'
        )
    tcpr += f'<w:vAlign w:val="{valign}"/>'
    # A cell must end with a paragraph (even after a nested table), or Word and LibreOffice
    # lay the row out wrongly.
    if not paragraphs.endswith("</w:p>"):
        paragraphs += para(size=2, line=40, exact=True)
    return f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{paragraphs}</w:tc>"


def row(cells: Iterable[str], *, cant_split: bool = True, header: bool = False) -> str:
    trpr = ""
    if cant_split:
        trpr += "<w:cantSplit/>"
    if header:
        trpr += "<w:tblHeader/>"
    trpr = f"<w:trPr>{trpr}</w:trPr>" if trpr else ""  # an empty trPr is not schema-valid
    return f"<w:tr>{trpr}{''.join(cells)}</w:tr>"


_BORDER_SIDES = ("top", "left", "bottom", "right", "insideH", "insideV")


def table(
    widths: Sequence[int],
    rows: Iterable[str],
    *,
    borders: bool,
    margin_lr: int = 57,
    align: str = "center",
) -> str:
    """A fixed-layout table; ``borders=False`` gives the borderless layout grid of a header."""
    kind = 'w:val="single" w:sz="4" w:space="0" w:color="000000"' if borders else 'w:val="nil"'
    border_xml = "".join(f"<w:{side} {kind}/>" for side in _BORDER_SIDES)
    total = sum(widths)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (
        "<w:tbl><w:tblPr>"
        f'<w:tblW w:w="{total}" w:type="dxa"/><w:jc w:val="{align}"/>'
        f"<w:tblBorders>{border_xml}</w:tblBorders>"
        '<w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="{margin_lr}" w:type="dxa"/>'
        f'<w:bottom w:w="0" w:type="dxa"/><w:right w:w="{margin_lr}" w:type="dxa"/>'
        "</w:tblCellMar>"
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"/>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def inline_picture(rel_id: str, width_mm: float, height_mm: float, name: str, descr: str) -> str:
    """An inline picture run (the QR code); ids are fixed so the output stays deterministic."""
    cx, cy = round(width_mm * EMU_PER_MM), round(height_mm * EMU_PER_MM)
    return (
        f'<w:r>{rpr(10)}<w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="1" name="{attr(name)}" descr="{attr(descr)}"/>'
        '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="{attr(name)}"/><pic:cNvPicPr/>'
        f'</pic:nvPicPr><pic:blipFill><a:blip r:embed="{rel_id}"/><a:stretch><a:fillRect/>'
        '</a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/>'
        f'<a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        "</pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )
