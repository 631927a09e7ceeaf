"""Render benchmark: the sample pledge by thidua, by a naive python-docx build and by docxtpl.

Prints one JSON object with the median milliseconds of each, measured in the same run:
    {"thidua_ms": .., "python_docx_naive_ms": .., "docxtpl_ms": ..}
Target: thidua <= 5 ms and at least 8x faster than the naive build.

The naive build is what one writes with python-docx's documented API: ``Document()`` from the
default template, the same header table, paragraphs, criteria table, signature grid, footer
and QR code, then ``save``. The docxtpl template is built here, at run time, in a temp dir.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docx
import segno
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from docxtpl import DocxTemplate, InlineImage

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import documents  # noqa: E402
from documents import samples  # noqa: E402
from documents.blocks import authority_lines, place_date  # noqa: E402
from documents.profiles import PARTY  # noqa: E402

CONTENT = samples.pledge_2018()
REFERENCE = documents.reference_code_for(CONTENT)
URL = documents.verify_url_for(REFERENCE)
CENTER, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY


def render_thidua() -> bytes:
    return documents.render(CONTENT)


def _qr_png() -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(URL, error="m").save(buffer, kind="png", scale=4)
    buffer.seek(0)
    return buffer


def _para(
    container,
    text: str,
    *,
    size: int = 14,
    bold: bool = False,
    italic: bool = False,
    align=None,
    indent: bool = False,
):
    p = container.add_paragraph()
    run = p.add_run(text)
    run.font.name = "Times New Roman"
    run.font.size = Pt(size)
    run.bold, run.italic = bold, italic
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Mm(10)
    return p


def render_python_docx_naive() -> bytes:
    c = CONTENT
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.different_first_page_header_footer = True
    doc.styles["Normal"].font.name = "Times New Roman"
    header = doc.add_table(rows=2, cols=2)
    left, right = header.rows[0].cells
    left.text = c.issuer.superior_body.upper()
    _para(left, c.issuer.name.upper(), bold=True, align=CENTER)
    _para(left, "*", align=CENTER)
    right.text = "ĐẢNG CỘNG SẢN VIỆT NAM"
    header.rows[1].cells[0].text = PARTY.number_line(c.number, c.symbol)
    header.rows[1].cells[1].text = place_date(c.place, c.date)
    _para(doc, c.title, size=16, bold=True, align=CENTER)
    _para(doc, c.summary, bold=True, align=CENTER)
    for i, basis in enumerate(c.legal_bases):
        _para(
            doc,
            basis + ("." if i == len(c.legal_bases) - 1 else ";"),
            italic=True,
            align=JUSTIFY,
            indent=True,
        )
    for text in c.preamble:
        _para(doc, text, align=JUSTIFY, indent=True)
    for heading, items in (("I. NỘI DUNG THI ĐUA", c.contents), ("II. CHỈ TIÊU", c.targets)):
        _para(doc, heading, bold=True)
        for n, text in enumerate(items, start=1):
            _para(doc, f"{n}. {text}", align=JUSTIFY, indent=True)
    _para(doc, "III. TIÊU CHÍ VÀ THANG ĐIỂM ĐÁNH GIÁ", bold=True)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("STT", "Tiêu chí", "Điểm tối đa"), strict=True):
        cell.text = text
    for n, criterion in enumerate(c.criteria.items, start=1):
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = (
            str(n),
            criterion.title,
            str(criterion.max_points),
        )
    total = table.add_row().cells
    total[0].merge(total[1]).text = "Tổng cộng"
    total[2].text = str(c.criteria.total)
    bonus = table.add_row().cells
    bonus[0].text = "B"
    bonus[1].text = "\n".join(f"- {b.title}: cộng {b.max_points} điểm" for b in c.criteria.bonus)
    bonus[2].text = f"≤ {c.criteria.bonus_cap}"
    _para(doc, "IV. CAM KẾT CỦA CÁC ĐƠN VỊ", bold=True)
    for n, text in enumerate(c.commitments, start=1):
        _para(doc, f"{n}. {text}", align=JUSTIFY, indent=True)
    _para(doc, "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC", bold=True, align=CENTER)
    units = c.signing_order
    grid = doc.add_table(rows=(len(units) + 1) // 2, cols=2)
    for i, unit in enumerate(units):
        cell = grid.rows[i // 2].cells[i % 2]
        cell.text = ""
        _para(cell, authority_lines(PARTY, unit), size=13, bold=True, align=CENTER)
        _para(cell, unit.signer_title.upper(), size=13, bold=True, align=CENTER)
        _para(cell, unit.signer_name, size=13, bold=True, align=CENTER)
    _para(doc, "Nơi nhận:", size=14)
    for r in c.recipients:
        _para(doc, f"- {r},", size=12)
    doc.add_picture(_qr_png(), width=Mm(24))
    _para(doc, f"Mã văn bản: {REFERENCE}", size=9)
    for footer in (section.footer, section.first_page_footer):
        footer.paragraphs[0].text = f"Mã văn bản: {REFERENCE} · Xác thực tại: {URL}"
    section.header.paragraphs[0].text = "2"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def build_docxtpl_template(folder: Path) -> Path:
    """An equivalent Jinja template made with python-docx (tags in runs, loops over rows)."""
    doc = docx.Document()
    section = doc.sections[0]
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.different_first_page_header_footer = True
    doc.styles["Normal"].font.name = "Times New Roman"
    header = doc.add_table(rows=2, cols=2)
    header.rows[0].cells[0].text = "{{ superior }}"
    _para(header.rows[0].cells[0], "{{ issuer }}", bold=True, align=CENTER)
    _para(header.rows[0].cells[0], "*", align=CENTER)
    header.rows[0].cells[1].text = "ĐẢNG CỘNG SẢN VIỆT NAM"
    header.rows[1].cells[0].text = "{{ number_line }}"
    header.rows[1].cells[1].text = "{{ place_date }}"
    _para(doc, "{{ title }}", size=16, bold=True, align=CENTER)
    _para(doc, "{{ summary }}", bold=True, align=CENTER)
    _para(doc, "{%p for basis in legal_bases %}")
    _para(doc, "{{ basis }}", italic=True, align=JUSTIFY, indent=True)
    _para(doc, "{%p endfor %}")
    for heading, name in (
        ("I. NỘI DUNG THI ĐUA", "contents"),
        ("II. CHỈ TIÊU", "targets"),
        ("IV. CAM KẾT CỦA CÁC ĐƠN VỊ", "commitments"),
    ):
        _para(doc, heading, bold=True)
        _para(doc, f"{{%p for item in {name} %}}")
        _para(doc, "{{ loop.index }}. {{ item }}", align=JUSTIFY, indent=True)
        _para(doc, "{%p endfor %}")
        if name == "targets":
            _para(doc, "III. TIÊU CHÍ VÀ THANG ĐIỂM ĐÁNH GIÁ", bold=True)
            table = doc.add_table(rows=4, cols=3)
            table.style = "Table Grid"
            for cell, text in zip(
                table.rows[0].cells, ("STT", "Tiêu chí", "Điểm tối đa"), strict=True
            ):
                cell.text = text
            table.rows[1].cells[0].text = "{%tr for c in criteria %}"
            row = table.rows[2].cells
            row[0].text, row[1].text, row[2].text = (
                "{{ loop.index }}",
                "{{ c.title }}",
                ("{{ c.max_points }}"),
            )
            table.rows[3].cells[0].text = "{%tr endfor %}"
            total = table.add_row().cells
            total[0].text, total[1].text, total[2].text = "Tổng cộng", "", "{{ total }}"
            bonus = table.add_row().cells
            bonus[0].text, bonus[1].text, bonus[2].text = "B", "{{ bonus }}", "{{ bonus_cap }}"
    _para(doc, "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC", bold=True, align=CENTER)
    grid = doc.add_table(rows=3, cols=2)
    grid.rows[0].cells[0].text = "{%tr for pair in grid %}"
    for i in range(2):
        cell = grid.rows[1].cells[i]
        cell.text = f"{{% if pair|length > {i} %}}{{{{ pair[{i}].authority }}}}"
        _para(cell, f"{{{{ pair[{i}].title }}}}", size=13, bold=True, align=CENTER)
        _para(cell, f"{{{{ pair[{i}].name }}}}{{% endif %}}", size=13, bold=True, align=CENTER)
    grid.rows[2].cells[0].text = "{%tr endfor %}"
    _para(doc, "Nơi nhận:")
    _para(doc, "{%p for r in recipients %}")
    _para(doc, "- {{ r }},", size=12)
    _para(doc, "{%p endfor %}")
    _para(doc, "{{ qr }}")
    for footer in (section.footer, section.first_page_footer):
        footer.paragraphs[0].text = "Mã văn bản: {{ reference }} · Xác thực tại: {{ url }}"
    path = folder / "pledge-template.docx"
    doc.save(str(path))
    return path


def _docxtpl_context(tpl: DocxTemplate) -> dict[str, object]:
    c = CONTENT
    units = [
        {
            "authority": authority_lines(PARTY, u),
            "title": u.signer_title.upper(),
            "name": u.signer_name,
        }
        for u in c.signing_order
    ]
    return {
        "superior": c.issuer.superior_body.upper(),
        "issuer": c.issuer.name.upper(),
        "number_line": PARTY.number_line(c.number, c.symbol),
        "place_date": place_date(c.place, c.date),
        "title": c.title,
        "summary": c.summary,
        "legal_bases": [b + ";" for b in c.legal_bases],
        "contents": c.contents,
        "targets": c.targets,
        "commitments": c.commitments,
        "criteria": c.criteria.items,
        "total": c.criteria.total,
        "bonus": "; ".join(f"{b.title}: cộng {b.max_points} điểm" for b in c.criteria.bonus),
        "bonus_cap": f"≤ {c.criteria.bonus_cap}",
        "grid": [units[i : i + 2] for i in range(0, len(units), 2)],
        "recipients": c.recipients,
        "reference": REFERENCE,
        "url": URL,
        "qr": InlineImage(tpl, _qr_png(), width=Mm(24)),
    }


def _median_ms(fn: Callable[[], bytes], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="thidua renders (others fewer)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="thidua-bench-") as tmp:
        template = build_docxtpl_template(Path(tmp))

        def render_docxtpl() -> bytes:
            tpl = DocxTemplate(str(template))
            tpl.render(_docxtpl_context(tpl))
            out = io.BytesIO()
            tpl.save(out)
            return out.getvalue()

        # Every variant must produce a document python-docx can open, or the race is void.
        for fn in (render_thidua, render_python_docx_naive, render_docxtpl):
            docx.Document(io.BytesIO(fn()))
        result = {
            "thidua_ms": _median_ms(render_thidua, args.runs),
            "python_docx_naive_ms": _median_ms(render_python_docx_naive, max(10, args.runs // 8)),
            "docxtpl_ms": _median_ms(render_docxtpl, max(10, args.runs // 10)),
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
