"""Render benchmark: the sample pledge by thidua, by a naive python-docx build and by docxtpl.

Prints one JSON object with the median milliseconds of each, measured in the same run:
    {"thidua_ms": .., "python_docx_naive_ms": .., "docxtpl_ms": .., "speedup_vs_naive": ..}
Target: thidua <= 10 ms and at least 4x faster than the naive build.

thidua renders through python-docx too, on its Party template (documents/templates), which it
parses once per process. The naive build is what one writes with python-docx's documented API
on the same template: open the template file, add the same header table, styled paragraphs,
criteria table, signature grid, recipients and reference line, then ``save``, every time.
The docxtpl template is built here, at run time, in a temp dir.
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
from docxtpl import DocxTemplate, InlineImage  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import documents  # noqa: E402
from documents import samples  # noqa: E402
from documents.blocks import authority_lines, place_date  # noqa: E402
from documents.docxio import template_path  # noqa: E402
from documents.profiles import PARTY  # noqa: E402

CONTENT = samples.pledge_2018()
REFERENCE = documents.reference_code_for(CONTENT)
URL = documents.verify_url_for(REFERENCE, "https://thidua.example.vn/verify")
TEMPLATE = template_path("party")
CENTER, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY


def render_thidua() -> bytes:
    return documents.render(CONTENT)


def render_thidua_public_url() -> bytes:
    """With a public verification URL: the address and its QR code at the foot."""
    return documents.render(CONTENT, verify_url=URL)


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
    """A paragraph with direct formatting, for the docxtpl template."""
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


def _cell_text(cell, text: str, style: str) -> None:
    cell.paragraphs[0].style = style
    cell.paragraphs[0].add_run(text)


def render_python_docx_naive() -> bytes:
    c = CONTENT
    doc = docx.Document(str(TEMPLATE))
    header = doc.add_table(rows=2, cols=2, style="TĐ Bảng bố cục")
    left, right = header.rows[0].cells
    _cell_text(left, c.issuer.superior_body.upper(), "TĐ Cơ quan cấp trên")
    left.add_paragraph(c.issuer.name.upper(), style="TĐ Cơ quan ban hành")
    left.add_paragraph("*", style="TĐ Dấu sao")
    _cell_text(right, "ĐẢNG CỘNG SẢN VIỆT NAM", "TĐ Tiêu đề")
    right.add_paragraph(style="TĐ Đường kẻ")
    _cell_text(header.rows[1].cells[0], PARTY.number_line(c.number, c.symbol), "TĐ Số, ký hiệu")
    _cell_text(header.rows[1].cells[1], place_date(c.place, c.date), "TĐ Địa danh, ngày tháng")
    doc.add_paragraph(c.title, style="TĐ Tên loại văn bản")
    doc.add_paragraph(c.summary, style="TĐ Trích yếu")
    doc.add_paragraph(style="TĐ Đường kẻ dưới trích yếu")
    for i, basis in enumerate(c.legal_bases):
        end = "." if i == len(c.legal_bases) - 1 else ";"
        doc.add_paragraph(basis + end, style="TĐ Căn cứ")
    for text in c.preamble:
        doc.add_paragraph(text, style="TĐ Nội dung")
    for heading, items in (("I. NỘI DUNG THI ĐUA", c.contents), ("II. CHỈ TIÊU", c.targets)):
        doc.add_paragraph(heading, style="TĐ Đề mục")
        for text in items:
            doc.add_paragraph(text, style="TĐ Danh sách số")
    doc.add_paragraph("III. TIÊU CHÍ VÀ THANG ĐIỂM ĐÁNH GIÁ", style="TĐ Đề mục")
    table = doc.add_table(rows=1, cols=3, style="TĐ Bảng tiêu chí, số liệu")
    for cell, text in zip(table.rows[0].cells, ("STT", "Tiêu chí", "Điểm tối đa"), strict=True):
        _cell_text(cell, text, "TĐ Bảng - đầu cột")
    for n, criterion in enumerate(c.criteria.items, start=1):
        cells = table.add_row().cells
        _cell_text(cells[0], str(n), "TĐ Bảng - số")
        _cell_text(cells[1], criterion.title, "TĐ Bảng - chữ")
        _cell_text(cells[2], str(criterion.max_points), "TĐ Bảng - số")
    total = table.add_row().cells
    _cell_text(total[0].merge(total[1]), "Tổng cộng", "TĐ Bảng - số")
    _cell_text(total[2], str(c.criteria.total), "TĐ Bảng - số")
    bonus = table.add_row().cells
    _cell_text(bonus[0], "B", "TĐ Bảng - số")
    _cell_text(bonus[1], f"Điểm thưởng (tối đa {c.criteria.bonus_cap} điểm)", "TĐ Bảng - chữ")
    for b in c.criteria.bonus:
        bonus[1].add_paragraph(f"- {b.title}: cộng {b.max_points} điểm", style="TĐ Bảng - chữ")
    _cell_text(bonus[2], f"≤ {c.criteria.bonus_cap}", "TĐ Bảng - số")
    doc.add_paragraph("IV. CAM KẾT CỦA CÁC ĐƠN VỊ", style="TĐ Đề mục")
    for text in c.commitments:
        doc.add_paragraph(text, style="TĐ Danh sách số")
    doc.add_paragraph("ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC", style="TĐ Tiêu đề ký")
    units = c.signing_order
    grid = doc.add_table(rows=(len(units) + 1) // 2, cols=2, style="TĐ Lưới chữ ký")
    for i, unit in enumerate(units):
        cell = grid.rows[i // 2].cells[i % 2]
        _cell_text(cell, authority_lines(PARTY, unit), "TĐ Lưới ký - chức vụ")
        cell.add_paragraph(unit.signer_title.upper(), style="TĐ Lưới ký - chức vụ")
        cell.add_paragraph(unit.signer_name, style="TĐ Lưới ký - họ tên")
    doc.add_paragraph("Nơi nhận:", style="TĐ Nơi nhận")
    for r in c.recipients:
        doc.add_paragraph(f"- {r},", style="TĐ Nơi nhận - mục")
    doc.add_paragraph(f"Mã văn bản: {REFERENCE}", style="TĐ Chân trang")
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
        for fn in (
            render_thidua,
            render_thidua_public_url,
            render_python_docx_naive,
            render_docxtpl,
        ):
            docx.Document(io.BytesIO(fn()))
        result = {
            "thidua_ms": _median_ms(render_thidua, args.runs),
            "thidua_public_url_ms": _median_ms(render_thidua_public_url, args.runs // 2),
            "python_docx_naive_ms": _median_ms(render_python_docx_naive, max(10, args.runs // 4)),
            "docxtpl_ms": _median_ms(render_docxtpl, max(10, args.runs // 10)),
        }
        result["speedup_vs_naive"] = round(result["python_docx_naive_ms"] / result["thidua_ms"], 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
