"""Building blocks shared by every document: header, title, legal bases, signature grid,
recipients, QR block. Each returns WordprocessingML for ``word/document.xml``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from documents.content import Issuer, MemberUnit
from documents.metrics import text_width_pt
from documents.ooxml import (
    TWIPS_PER_MM,
    cell,
    inline_picture,
    lines_run,
    mm,
    para,
    row,
    run,
    table,
)
from documents.profiles import Profile

PT = 20  # twips per point
CELL_MARGIN = 57  # 1 mm each side inside table cells
A4_TWIPS = (11906, 16838)


def margins_twips(profile: Profile) -> tuple[int, int, int, int]:
    """Top, bottom, left, right margins rounded up to whole twips, so that "15 mm" never reads
    back as 14.99 mm."""
    top, bottom, left, right = (math.ceil(m * TWIPS_PER_MM) for m in profile.margins_mm)
    return top, bottom, left, right


def text_width(profile: Profile) -> int:
    """Width of the type area in twips (A4 less the left and right margins)."""
    _top, _bottom, left, right = margins_twips(profile)
    return A4_TWIPS[0] - left - right


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


def _line_spacing(profile: Profile) -> int:
    return round(profile.line_spacing * 240)


def rule(length_twips: int, container_twips: int, *, after: int = 0) -> str:
    """A centred solid rule of a given length: an empty, 2 pt high paragraph with a top border,
    set 3 pt below the line above it so it never reads as an underline."""
    side = max(0, (container_twips - length_twips) // 2)
    return para(
        left=side,
        right=side,
        line=40,
        exact=True,
        size=2,
        rule="top",
        before=60,
        after=after,
        align="center",
    )


def header_block(
    profile: Profile,
    issuer: Issuer,
    number: int | None,
    symbol: str,
    place: str,
    day: dt.date,
) -> str:
    """The borderless two-column header: issuing body and number left; "ĐẢNG CỘNG SẢN VIỆT
    NAM" (or Quốc hiệu and Tiêu ngữ) with its rule right; place and date level with the number.
    """
    total = text_width(profile)
    left_w = mm(profile.header_left_mm)
    right_w = total - left_w
    left: list[str] = []
    if issuer.superior_body:
        left.append(
            para(
                run(upper(issuer.superior_body), profile.superior_size),
                align="center",
                size=profile.superior_size,
            )
        )
    name = upper(issuer.name)
    left.append(
        para(run(name, profile.issuer_size, bold=True), align="center", size=profile.issuer_size)
    )
    if profile.star_under_issuer:
        left.append(para(run("*", profile.issuer_size), align="center", size=profile.issuer_size))
    if profile.rule_under_issuer:
        # Decree 30: a rule one third to one half as long as the body's name.
        width = text_width_pt(name, profile.issuer_size, bold=True) * PT
        length = max(mm(15), min(round(width * 0.4), left_w - mm(10)))
        left.append(rule(length, left_w))
    right: list[str] = []
    for line in profile.national:
        right.append(
            para(run(line.text, line.size, bold=line.bold), align="center", size=line.size)
        )
        if line.rule_after:
            length = round(text_width_pt(line.text, line.size, bold=line.bold) * PT)
            right.append(rule(length, right_w))
    number_line = profile.number_line(number, symbol)
    rows = [
        row(
            [
                cell(left_w, "".join(left), borders=False),
                cell(right_w, "".join(right), borders=False),
            ]
        ),
        row(
            [
                cell(
                    left_w,
                    para(
                        run(number_line, profile.number_size),
                        align="center",
                        size=profile.number_size,
                        before=60,
                    ),
                    borders=False,
                ),
                cell(
                    right_w,
                    para(
                        run(place_date(place, day), profile.place_date_size, italic=True),
                        align="center",
                        size=profile.place_date_size,
                        before=60,
                    ),
                    borders=False,
                ),
            ]
        ),
    ]
    return table([left_w, right_w], rows, borders=False, margin_lr=0)


def title_block(profile: Profile, title: str, summary: str = "", *, before: int = 360) -> str:
    """Document type in bold capitals, the summary in bold, and a short rule under them."""
    out = [
        para(
            run(title, profile.doc_type_size, bold=True),
            align="center",
            size=profile.doc_type_size,
            before=before,
            keep_next=True,
        )
    ]
    if summary:
        out.append(
            para(
                run(summary, profile.summary_size, bold=True),
                align="center",
                size=profile.summary_size,
                keep_next=True,
                left=mm(8),
                right=mm(8),
            )
        )
    out.append(rule(mm(30), text_width(profile), after=240))
    return "".join(out)


def body(
    profile: Profile,
    text: str,
    *,
    italic: bool = False,
    bold: bool = False,
    keep_next: bool = False,
    indent: bool = True,
) -> str:
    """A justified body paragraph with a first-line indent."""
    return para(
        run(text, profile.body_size, italic=italic, bold=bold),
        align="both",
        size=profile.body_size,
        first_line=mm(profile.first_line_indent_mm) if indent else 0,
        after=round(profile.paragraph_after_pt * PT),
        line=_line_spacing(profile),
        keep_next=keep_next,
    )


def heading(profile: Profile, text: str) -> str:
    return para(
        run(text, profile.body_size, bold=True),
        align="both",
        size=profile.body_size,
        first_line=mm(profile.first_line_indent_mm),
        before=120,
        after=round(profile.paragraph_after_pt * PT),
        line=_line_spacing(profile),
        keep_next=True,
    )


def legal_bases(profile: Profile, bases: Sequence[str]) -> str:
    """Italic, one basis per paragraph, each ending ";" and the last one "."."""
    last = len(bases) - 1
    return "".join(
        body(profile, text + ("." if i == last else ";"), italic=True)
        for i, text in enumerate(bases)
    )


def numbered(profile: Profile, items: Sequence[str]) -> str:
    return "".join(body(profile, f"{i}. {text}") for i, text in enumerate(items, start=1))


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def page_break() -> str:
    """Start a new page without leaving an empty line at its top."""
    return para(page_break_before=True, line=20, exact=True, size=1)


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


SIGNATURE_SPACE = mm(20)  # room for a handwritten signature and the seal


def signature_cell_paragraphs(
    lines: Sequence[str], title: str, name: str, size: float, extra: Sequence[str] = ()
) -> str:
    return (
        para(lines_run(lines, size, bold=True), align="center", size=size, keep_next=True)
        + "".join(
            para(run(line, size, bold=True), align="center", size=size, keep_next=True)
            for line in extra
        )
        + (
            para(run(title, size, bold=True), align="center", size=size, keep_next=True)
            if title
            else ""
        )
        + para(
            run(name, size, bold=True),
            align="center",
            size=size,
            before=SIGNATURE_SPACE,
            after=mm(5),
        )
    )


def signature_grid(profile: Profile, units: Sequence[MemberUnit]) -> str:
    """One borderless cell per member unit, two per row, head of the cluster first.

    When any authority line ("T/M VĂN PHÒNG HUYỆN ỦY THƯỜNG TÍN") is too wide for its cell,
    every one is broken into two balanced lines, so the title lines stay level across a row.
    """
    total = text_width(profile)
    columns = 1 if len(units) == 1 else 2
    width = total // columns
    size = min(profile.authority_size, 13)
    available = (width - 2 * CELL_MARGIN) / PT
    texts = [authority_lines(profile, u) for u in units]
    split = any(text_width_pt(t, size, True) > available for t in texts)
    lines_per_cell = _split_lines(texts, size, available) if split else [[t] for t in texts]
    cells = [
        signature_cell_paragraphs(
            lines,
            upper(unit.signer_title),
            unit.signer_name,
            size,
            deputy_line(profile, unit.authority, unit.signer_title),
        )
        for unit, lines in zip(units, lines_per_cell, strict=True)
    ]
    rows = []
    for start in range(0, len(cells), columns):
        chunk = cells[start : start + columns]
        if len(chunk) == columns:
            rows.append(row([cell(width, c, borders=False) for c in chunk]))
        else:  # an odd unit out is centred under the others
            rows.append(row([cell(width * columns, chunk[0], span=columns, borders=False)]))
    return table([width] * columns, rows, borders=False, margin_lr=CELL_MARGIN)


def recipients(profile: Profile, items: Sequence[str]) -> str:
    """The "Nơi nhận" block, flush left; entries end "," (Party) or ";" (State), the last "."."""
    if not items:
        return ""
    mark = "," if profile.key == "party" else ";"
    out = [
        para(
            run(
                "Nơi nhận:",
                profile.recipients_label_size,
                bold=profile.recipients_label_bold,
                italic=profile.recipients_label_italic,
                underline=profile.recipients_label_underline,
            ),
            align="left",
            size=profile.recipients_label_size,
            keep_next=True,
        )
    ]
    last = len(items) - 1
    for i, item in enumerate(items):
        out.append(
            para(
                run(f"- {item}{'.' if i == last else mark}", profile.recipients_size),
                align="left",
                size=profile.recipients_size,
                keep_next=i != last,
            )
        )
    return "".join(out)


def qr_block(
    profile: Profile, reference_code: str, verify_url: str, rel_id: str, *, width: int = 0
) -> str:
    """The verification box on the last page: the QR code of the URL and how to use it."""
    total = width or text_width(profile)
    qr_w = mm(28)
    size = 9
    text = (
        para(run("XÁC THỰC VĂN BẢN ĐIỆN TỬ", size, bold=True), align="left", size=size, after=60)
        + para(
            run("Mã văn bản: ", size) + run(reference_code, size, bold=True),
            align="left",
            size=size,
            after=60,
        )
        + para(
            run(
                "Quét mã QR hoặc truy cập địa chỉ dưới đây để kiểm tra văn bản và chữ ký "
                "số của các đơn vị:",
                size,
            ),
            align="left",
            size=size,
            after=60,
        )
        + para(run(verify_url, size, italic=True), align="left", size=size)
    )
    picture = para(
        inline_picture(rel_id, 24, 24, "qr.png", f"Mã QR xác thực: {verify_url}"),
        align="center",
        size=size,
    )
    rows = [
        row(
            [
                cell(qr_w, picture, borders=False, valign="center"),
                cell(total - qr_w, text, borders=False, valign="center"),
            ]
        )
    ]
    return table([qr_w, total - qr_w], rows, borders=False, margin_lr=CELL_MARGIN)


def spacer(before: int = 0, keep_next: bool = False) -> str:
    """A 6 pt gap (e.g. between two tables, which would otherwise merge)."""
    return para(size=6, line=120, exact=True, before=before, keep_next=keep_next)


def closing_block(profile: Profile, items: Sequence[str], qr: str, qr_width: int) -> str:
    """ "Nơi nhận" flush left and the verification box beside it, at the end of a document."""
    total = text_width(profile)
    left_w = total - qr_width
    return spacer(before=120, keep_next=True) + table(
        [left_w, qr_width],
        [
            row(
                [
                    cell(left_w, recipients(profile, items), borders=False),
                    cell(qr_width, qr, borders=False),
                ]
            )
        ],
        borders=False,
        margin_lr=0,
    )


def data_table(
    profile: Profile,
    widths: Sequence[int],
    header: Sequence[str],
    rows: Sequence[Sequence[tuple[str | tuple[str, ...], dict[str, object]]]],
    *,
    size: float | None = None,
) -> str:
    """A bordered table with a bold, repeating header row. Each body cell is (text, options)
    where options may set ``align``, ``bold``, ``italic`` or ``span``; a tuple of texts gives
    one paragraph each, the first one bold when ``bold`` is set."""
    size = size or profile.table_size
    head = row(
        [
            cell(
                w,
                para(run(text, size, bold=True), align="center", size=size, before=40, after=40),
                valign="center",
            )
            for w, text in zip(widths, header, strict=True)
        ],
        header=True,
    )
    body_rows = [head]
    for cells in rows:
        out, col = [], 0
        for text, opts in cells:
            span = int(opts.get("span", 1))  # type: ignore[call-overload]
            width = sum(widths[col : col + span])
            col += span
            lines = text if isinstance(text, tuple) else (text,)
            align = str(opts.get("align", "left"))
            paragraphs = "".join(
                para(
                    run(
                        line,
                        size,
                        bold=bool(opts.get("bold")) and i == 0,
                        italic=bool(opts.get("italic")),
                    ),
                    align=align,
                    size=size,
                    before=40 if i == 0 else 0,
                    after=40 if i == len(lines) - 1 else 0,
                )
                for i, line in enumerate(lines)
            )
            out.append(cell(width, paragraphs, span=span, valign="center"))
        body_rows.append(row(out))
    return table(widths, body_rows, borders=True, margin_lr=CELL_MARGIN)
