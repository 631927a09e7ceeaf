"""Building blocks shared by every document: header, title, legal bases, signature grid,
recipients. Each adds python-docx paragraphs and tables, in the template's named styles, to
a :class:`Sheet` (the document under construction).

Layout knowledge lives here: the header's two columns, the rule lengths measured from the
font metrics, the signature grid's geometry and how its authority lines break.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docx
from docx.document import Document
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Twips
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from documents.content import Issuer, MemberUnit
from documents.docxio import new_document, template_path
from documents.metrics import text_width_pt
from documents.profiles import Profile
from documents.styles import LIST_COUNT, S
from documents.units import PT, mm, text_width

Container = Document | _Cell
CELL_MARGIN = mm(1)  # inside the signature grid and data tables (their table styles)


@dataclass(frozen=True)
class Properties:
    """What a document tells the package's core properties."""

    title: str
    subject: str
    creator: str
    keywords: str
    date: dt.date


_SECT_PR, _TC, _P = qn("w:sectPr"), qn("w:tc"), qn("w:p")


@dataclass(frozen=True)
class Grid:
    """A table and its cells, row by row."""

    table: Table
    rows: list[list[_Cell]]


# Prototypes are built in a scratch document of their own (never the shared template), one
# at a time: renders in other threads only ever read finished prototypes.
_SCRATCH = docx.Document(str(template_path("party")))
_SCRATCH_LOCK = threading.Lock()


@functools.cache
def _prototype(
    style_id: str, has_text: bool, strong: bool, italic: bool, num_id: int, keep_next: bool
) -> Any:
    """A paragraph in ``style_id`` (and a run, when it has text) made once with python-docx's
    API; every paragraph of a render is a copy of one of these (an lxml deep copy is ~50x
    cheaper than python-docx building the same elements again)."""
    with _SCRATCH_LOCK:
        return _build_prototype(style_id, has_text, strong, italic, num_id, keep_next)


def _build_prototype(
    style_id: str, has_text: bool, strong: bool, italic: bool, num_id: int, keep_next: bool
) -> Any:
    paragraph = _SCRATCH.add_paragraph()
    paragraph._p.style = style_id
    if keep_next:
        paragraph.paragraph_format.keep_with_next = True
    if num_id:
        _set_num_id(paragraph, num_id)
    if has_text:
        run = paragraph.add_run("x")
        run._r[-1].set(qn("xml:space"), "preserve")
        if strong:
            run._r.style = S.STRONG
        if italic:
            run.italic = True
    element = paragraph._p
    element.getparent().remove(element)
    return element


class Sheet:
    """A document being built on the profile's template."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.doc = new_document(profile.key)
        self._lists = 0
        self._body = self.doc.element.body
        self._sect_pr = self._body[-1]
        self._body_proxy = self.doc._body

    def para(
        self,
        container: Container,
        style_id: str,
        text: str = "",
        *,
        strong: bool = False,
        italic: bool = False,
        num_id: int = 0,
        keep_next: bool = False,
    ) -> Paragraph:
        """A paragraph in ``style_id``; ``strong`` sets the whole text in the TDStrong style.

        A table cell starts with one empty paragraph: the first paragraph written into a
        cell takes it over, so no cell ends with a stray empty line.
        """
        fresh = _fresh_cell_paragraph(container)
        element = copy.deepcopy(_prototype(style_id, bool(text), strong, italic, num_id, keep_next))
        if text:
            _set_text(element[-1], text)
        if fresh is not None:
            fresh._p.getparent().replace(fresh._p, element)
        else:
            self._append(container, element)
        return Paragraph(element, self._parent(container))

    def numbered(
        self, container: Container, items: Sequence[str], *, keep_last: bool = False
    ) -> list[Paragraph]:
        """A numbered list ("1. …") in the TDNumbered style, numbered again from 1;
        ``keep_last`` keeps its last item on the page of what follows."""
        self._lists += 1
        # The style names instance 1; later lists name their own, each restarting at 1.
        num_id = 0 if self._lists == 1 else (self._lists - 1) % LIST_COUNT + 1
        last = len(items) - 1
        return [
            self.para(container, S.NUMBERED, text, num_id=num_id, keep_next=keep_last and i == last)
            for i, text in enumerate(items)
        ]

    def table(
        self,
        container: Container,
        widths: Sequence[int],
        style_id: str,
        rows: int,
        *,
        centred_cells: bool = False,
    ) -> Grid:
        """A fixed-layout table of ``rows`` rows whose rows never split across pages;
        ``centred_cells`` centres the cells' content vertically."""
        element = copy.deepcopy(_table_prototype(style_id, tuple(widths), centred_cells))
        row = element[-1]
        for _ in range(rows - 1):
            element.append(copy.deepcopy(row))
        if rows == 0:
            element.remove(row)
        self._append(container, element)
        table = Table(element, self._parent(container))
        # The cells row by row, read from the XML once (python-docx's row.cells recomputes
        # the layout grid on every call).
        cells = [[_Cell(tc, table) for tc in tr.iterchildren(_TC)] for tr in element.tr_lst]
        return Grid(table, cells)

    def _parent(self, container: Container) -> Any:
        return self._body_proxy if container is self.doc else container

    def _append(self, container: Container, element: Any) -> None:
        """Add a block at the end of a cell, or of the body before its section properties."""
        if container is self.doc:
            self._sect_pr.addprevious(element)
        else:
            container._tc.append(element)  # type: ignore[union-attr]


@functools.cache
def _table_prototype(style_id: str, widths: tuple[int, ...], centred_cells: bool) -> Any:
    """A one-row table built once with python-docx's API; tables of a render copy it."""
    with _SCRATCH_LOCK:
        return _build_table_prototype(style_id, widths, centred_cells)


def _build_table_prototype(style_id: str, widths: tuple[int, ...], centred_cells: bool) -> Any:
    table = _SCRATCH.add_table(0, len(widths))
    table._tbl.tblStyle_val = style_id
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Twips(width)
    row = table.add_row()
    _cant_split(row)
    for cell in row.cells:
        if centred_cells:
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
    element = table._tbl
    element.getparent().remove(element)
    return element


def _set_text(run: Any, text: str) -> None:
    """The run's text, each "\n" a line break (w:br) as python-docx's ``Run.text`` writes it."""
    first, *rest = text.split("\n")
    run[-1].text = first
    for line in rest:
        run.append(OxmlElement("w:br"))
        t = OxmlElement("w:t")
        t.set(qn("xml:space"), "preserve")
        t.text = line
        run.append(t)


def _fresh_cell_paragraph(container: Container) -> Paragraph | None:
    """The empty paragraph a new cell holds, if nothing was written into the cell yet."""
    if not isinstance(container, _Cell):
        return None
    tc = container._tc
    if len(tc) == 2 and tc[1].tag == _P and not len(tc[1]):
        return Paragraph(tc[1], container)
    return None


def _set_num_id(paragraph: Paragraph, num_id: int) -> None:
    """Point a list paragraph at its own numbering instance (python-docx has no API)."""
    ppr = paragraph._p.get_or_add_pPr()
    numpr = OxmlElement("w:numPr")
    ilvl, num = OxmlElement("w:ilvl"), OxmlElement("w:numId")
    ilvl.set(qn("w:val"), "0")
    num.set(qn("w:val"), str(num_id))
    numpr.extend([ilvl, num])
    ppr.insert_element_before(
        numpr, "w:pBdr", "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr"
    )


def span(row: list[_Cell], start: int, count: int) -> _Cell:
    """Merge ``count`` cells of a row from ``start`` into one (a fresh row only): the first
    cell spans the grid columns of the others, which go (python-docx's ``merge`` does the
    same, but works out the whole table's layout grid to do it)."""
    first = row[start]
    width = Length(sum(c._tc.width or 0 for c in row[start : start + count]))
    for cell in row[start + 1 : start + count]:
        cell._tc.getparent().remove(cell._tc)
    first._tc.grid_span = count
    first.width = width
    return first


def _cant_split(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))


def repeat_as_header(row: Any) -> None:
    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def vn_date(day: dt.date) -> str:
    """ "ngày 05 tháng 01 năm 2020": days below 10 and months 1–2 get a leading zero."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {d} tháng {m} năm {day.year}"


def short_date(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def place_date(place: str, day: dt.date) -> str:
    return f"{place}, {vn_date(day)}"


def vn_number(value: float) -> str:
    """108.5 -> "108,5"; 106.0 -> "106" (Vietnamese decimal comma)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def upper(text: str) -> str:
    return text.upper()


def rule(
    sheet: Sheet, container: Container, length: int, width: int, style_id: str = S.RULE
) -> None:
    """A centred solid rule ``length`` twips long in a container ``width`` twips wide: an
    empty paragraph in a rule style, narrowed by its indents (the one direct formatting)."""
    side = Twips(max(0, (width - length) // 2))
    fmt = sheet.para(container, style_id).paragraph_format
    fmt.left_indent = fmt.right_indent = side


def header_block(
    sheet: Sheet,
    issuer: Issuer,
    number: int | None,
    symbol: str,
    place: str,
    day: dt.date,
) -> None:
    """The borderless two-column header: issuing body and number left; "ĐẢNG CỘNG SẢN VIỆT
    NAM" (or Quốc hiệu and Tiêu ngữ) with its rule right; place and date level with the number.
    """
    profile = sheet.profile
    total = text_width(profile)
    left_w = mm(profile.header_left_mm)
    right_w = total - left_w
    (left, right), (number_cell, date_cell) = sheet.table(
        sheet.doc, [left_w, right_w], S.LAYOUT, 2
    ).rows
    if issuer.superior_body:
        sheet.para(left, S.SUPERIOR, upper(issuer.superior_body))
    name = upper(issuer.name)
    sheet.para(left, S.ISSUER, name)
    if profile.star_under_issuer:
        sheet.para(left, S.ISSUER_MARK, "*")
    if profile.rule_under_issuer:
        # Decree 30: a rule one third to one half as long as the body's name.
        width = text_width_pt(name, profile.issuer_size, bold=True) * PT
        rule(sheet, left, max(mm(15), min(round(width * 0.4), left_w - mm(10))), left_w)
    for i, line in enumerate(profile.national):
        sheet.para(right, S.NATIONAL if i == 0 else S.MOTTO, line.text)
        if line.rule_after:
            length = round(text_width_pt(line.text, line.size, bold=line.bold) * PT)
            rule(sheet, right, length, right_w)
    sheet.para(number_cell, S.NUMBER, profile.number_line(number, symbol))
    sheet.para(date_cell, S.PLACE_DATE, place_date(place, day))


def title_block(sheet: Sheet, title: str, summary: str = "") -> None:
    """Document type in bold capitals, the summary in bold, and a short rule clear of them:
    Decree 30 draws it one third to one half as long as the summary line."""
    profile = sheet.profile
    sheet.para(sheet.doc, S.DOC_TYPE, title)
    total = text_width(profile)
    measured = text_width_pt(title, profile.doc_type_size, bold=True) * PT
    if summary:
        summary = profile.summary(summary)
        sheet.para(sheet.doc, S.SUMMARY, summary)
        line = min(text_width_pt(summary, profile.summary_size, bold=True) * PT, total - mm(16))
        measured = max(measured, line)
    length = round(min(max(measured * profile.summary_rule_ratio, mm(20)), mm(60)))
    rule(sheet, sheet.doc, length, total, S.SUMMARY_RULE)


def body(sheet: Sheet, text: str, *, keep_next: bool = False) -> Paragraph:
    """A justified body paragraph (TDBody); ``keep_next`` keeps it on the page of the next."""
    return sheet.para(sheet.doc, S.BODY, text, keep_next=keep_next)


def heading(sheet: Sheet, text: str) -> None:
    sheet.para(sheet.doc, S.HEADING, text)


def legal_bases(sheet: Sheet, bases: Sequence[str]) -> None:
    """Italic, one basis per paragraph, each ending ";" and the last one "."."""
    last = len(bases) - 1
    for i, text in enumerate(bases):
        sheet.para(sheet.doc, S.LEGAL_BASIS, text + ("." if i == last else ";"))


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def page_break(sheet: Sheet) -> None:
    """Start a new page without leaving an empty line at its top (TDPageBreak)."""
    sheet.para(sheet.doc, S.PAGE_BREAK)


def _balanced_split(text: str, size: float) -> list[str]:
    """Split ``text`` into two lines of similar width at a word boundary."""
    words = text.split(" ")
    if len(words) < 2:
        return [text]
    best: tuple[float, int] | None = None
    for i in range(1, len(words)):
        widest = max(
            text_width_pt(" ".join(words[:i]), size, True),
            text_width_pt(" ".join(words[i:]), size, True),
        )
        if best is None or widest < best[0]:
            best = (widest, i)
    assert best is not None
    return [" ".join(words[: best[1]]), " ".join(words[best[1] :])]


def _split_lines(texts: Sequence[str], size: float, available: float) -> list[list[str]]:
    """Break every authority line in two the same way when that reads naturally.

    Names of one cluster share a stem ("T/M VĂN PHÒNG" + "HUYỆN ỦY MỸ ĐỨC"): breaking after the
    words they all share keeps whole words such as "HUYỆN ỦY" together on every cell. When there
    is no such stem, or a part would still not fit, each line is balanced on its own.
    """
    words = [t.split(" ") for t in texts]
    shared = 0
    while all(len(w) > shared + 1 for w in words) and len({w[shared] for w in words}) == 1:
        shared += 1
    if shared >= 2:
        lines = [[" ".join(w[:shared]), " ".join(w[shared:])] for w in words]
        if all(text_width_pt(part, size, True) <= available for pair in lines for part in pair):
            return lines
    return [_balanced_split(t, size) for t in texts]


def authority_lines(profile: Profile, unit: MemberUnit) -> str:
    """The first line of a unit's signature: "T/M VĂN PHÒNG HUYỆN ỦY MỸ ĐỨC".

    With "K/T" (a deputy signing for the head) the unit stands alone on this line and the
    authority goes with the head's title on the next one (see :func:`deputy_line`).
    """
    if unit.authority in ("", "K/T"):
        return upper(unit.name)
    return f"{profile.authority(unit.authority)} {upper(unit.name)}"


def deputy_line(profile: Profile, authority: str, signer_title: str) -> list[str]:
    """ "K/T CHÁNH VĂN PHÒNG" above "PHÓ CHÁNH VĂN PHÒNG" when a deputy signs for the head."""
    if authority != "K/T":
        return []
    head_title = signer_title.split(" ", 1)[1] if " " in signer_title else signer_title
    return [f"{profile.authority('K/T')} {upper(head_title)}"]


def signature(
    sheet: Sheet,
    cell: _Cell,
    lines: Sequence[str],
    title: str,
    name: str,
    extra: Sequence[str] = (),
    *,
    grid: bool = False,
) -> None:
    """One signature: authority lines (one paragraph, broken where ``lines`` says), the
    deputy's line, the title, room for the signature and seal, the name."""
    style = S.GRID_SIGNATURE if grid else S.SIGNATURE
    sheet.para(cell, style, "\n".join(lines))
    for line in extra:
        sheet.para(cell, style, line)
    if title:
        sheet.para(cell, style, title)
    sheet.para(cell, S.GRID_SIGNATURE_NAME if grid else S.SIGNATURE_NAME, name)


def grid_blocks(units: Sequence[MemberUnit]) -> dict[str, tuple[str, str]]:
    """Each unit's (title line, name) as ``signature_grid`` prints them: the signature goes
    between the two."""
    return {u.code: (upper(u.signer_title), u.signer_name) for u in units}


def signature_grid(
    sheet: Sheet, units: Sequence[MemberUnit], marks: Mapping[str, str] | None = None
) -> None:
    """One borderless cell per member unit, two per row, head of the cluster first.

    When any authority line ("T/M VĂN PHÒNG HUYỆN ỦY THƯỜNG TÍN") is too wide for its cell,
    every one is broken into two balanced lines, so the title lines stay level across a row.
    ``marks`` labels cells by unit code ("Cụm trưởng", "Cụm phó") on a line under the unit;
    the other cells of a marked row get an empty line there, so titles stay level too.
    """
    marks = marks or {}
    profile = sheet.profile
    total = text_width(profile)
    columns = 1 if len(units) == 1 else 2
    width = total // columns
    size = min(profile.authority_size, 13)
    available = (width - 2 * CELL_MARGIN) / PT
    texts = [authority_lines(profile, u) for u in units]
    split = any(text_width_pt(t, size, True) > available for t in texts)
    lines_per_cell = _split_lines(texts, size, available) if split else [[t] for t in texts]
    rows = (len(units) + columns - 1) // columns
    grid = sheet.table(sheet.doc, [width] * columns, S.SIGNATURE_GRID, rows)
    marked_rows = {i // columns for i, unit in enumerate(units) if unit.code in marks}
    for i, (unit, lines) in enumerate(zip(units, lines_per_cell, strict=True)):
        row = grid.rows[i // columns]
        cell = row[i % columns]
        if i == len(units) - 1 and len(units) % columns:  # an odd unit out is centred
            cell = span(row, i % columns, columns - i % columns)
        mark = [f"({marks[unit.code]})" if unit.code in marks else ""]
        signature(
            sheet,
            cell,
            lines,
            upper(unit.signer_title),
            unit.signer_name,
            [
                *(mark if i // columns in marked_rows else []),
                *deputy_line(profile, unit.authority, unit.signer_title),
            ],
            grid=True,
        )


def closing_row(sheet: Sheet) -> tuple[_Cell, _Cell]:
    """The borderless row that closes a document one person signs: "Nơi nhận" left, the
    signature right (the left a little narrower), on the page of the paragraph before it."""
    total = text_width(sheet.profile)
    left_w = total // 2 - mm(5)
    spacer(sheet, keep_next=True)
    ((left, right),) = sheet.table(sheet.doc, [left_w, total - left_w], S.SIGNATURE_GRID, 1).rows
    return left, right


def recipients(sheet: Sheet, container: Container, items: Sequence[str]) -> None:
    """The "Nơi nhận" block, flush left; entries end "," (Party) or ";" (State), the last "."."""
    if not items:
        return
    mark = "," if sheet.profile.key == "party" else ";"
    sheet.para(container, S.RECIPIENTS_LABEL, "Nơi nhận:")
    last = len(items) - 1
    for i, item in enumerate(items):
        text = sheet.profile.archive_line(item) if i == last else item
        line = f"- {text}{'.' if i == last else mark}"
        sheet.para(container, S.RECIPIENTS, line, keep_next=i != last)


def spacer(sheet: Sheet, *, keep_next: bool = False) -> None:
    """A 6 pt gap (e.g. between two tables, which would otherwise merge)."""
    sheet.para(sheet.doc, S.SPACER, keep_next=keep_next)


def data_table(
    sheet: Sheet,
    widths: Sequence[int],
    header: Sequence[str],
    rows: Sequence[Sequence[tuple[str | tuple[str, ...], dict[str, object]]]],
) -> Table:
    """A bordered table (TDDataTable) with a bold, repeating header row. Each body cell is
    (text, options) where options may set ``align`` ("center"), ``bold`` or ``span``; a tuple
    of texts gives one paragraph each, the first one bold when ``bold`` is set."""
    table = sheet.table(sheet.doc, widths, S.DATA_TABLE, 1 + len(rows), centred_cells=True)
    repeat_as_header(table.table.rows[0])
    for cell, title in zip(table.rows[0], header, strict=True):
        sheet.para(cell, S.TABLE_HEAD, title)
    for grid, cells in zip(table.rows[1:], rows, strict=True):
        col = 0
        for text, opts in cells:
            width = int(opts.get("span", 1))  # type: ignore[call-overload]
            cell = grid[col] if width == 1 else span(grid, col, width)
            col += width
            style = S.TABLE_NUMBER if opts.get("align") == "center" else S.TABLE_TEXT
            lines = text if isinstance(text, tuple) else (text,)
            for i, line in enumerate(lines):
                sheet.para(cell, style, line, strong=bool(opts.get("bold")) and i == 0)
    return table.table
