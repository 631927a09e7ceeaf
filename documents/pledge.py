"""The pledge (giao ước thi đua) as a python-docx document."""

from __future__ import annotations

from documents import blocks as b
from documents.blocks import Properties, Sheet
from documents.content import PledgeContent
from documents.styles import S
from documents.units import mm, text_width


def render_pledge(sheet: Sheet, content: PledgeContent) -> Properties:
    doc = sheet.doc
    b.header_block(
        sheet, content.issuer, content.number, content.symbol, content.place, content.date
    )
    b.title_block(sheet, content.title, content.summary)
    if content.legal_bases:
        b.legal_bases(sheet, content.legal_bases)
    for text in content.preamble:
        b.body(sheet, text)
    _parties(sheet, content)
    sections = [("NỘI DUNG THI ĐUA", content.contents)]
    if content.targets:
        sections.append(("CHỈ TIÊU THI ĐUA", content.targets))
    numerals = iter(b.ROMAN)
    for name, items in sections:
        b.heading(sheet, f"{next(numerals)}. {name}")
        sheet.numbered(doc, items)
    b.heading(sheet, f"{next(numerals)}. TIÊU CHÍ VÀ THANG ĐIỂM ĐÁNH GIÁ")
    _criteria(sheet, content)
    if content.implementation:
        b.heading(sheet, f"{next(numerals)}. TỔ CHỨC THỰC HIỆN")
        sheet.numbered(doc, content.implementation)
    b.heading(sheet, f"{next(numerals)}. CAM KẾT CỦA CÁC ĐƠN VỊ")
    # The closing paragraph stays with the signatures (no page of signatures alone).
    sheet.numbered(doc, content.commitments, keep_last=True)
    sheet.para(doc, S.CAPTION, "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC")
    b.signature_grid(sheet, content.signing_order, content.cluster_roles)
    b.spacer(sheet, keep_next=True)
    b.recipients(sheet, doc, content.recipients)
    return Properties(
        title=content.title,
        subject=content.cluster_name,
        creator=content.issuer.name,
        keywords="giao ước thi đua",
        date=content.date,
    )


def _parties(sheet: Sheet, content: PledgeContent) -> None:
    """Who signs, before what they sign to: one line per member unit, head and deputy first
    and marked, each with the person who signs for it."""
    roles = content.cluster_roles
    b.body(sheet, f"Các đơn vị thành viên {content.issuer.name} ký giao ước gồm:", keep_next=True)
    units = content.signing_order
    for i, unit in enumerate(units, start=1):
        role = f" ({roles[unit.code]})" if unit.code in roles else ""
        end = "." if i == len(units) else ";"
        sheet.para(
            sheet.doc,
            S.BODY,
            f"{i}. {unit.name}{role}: đồng chí {unit.signer_name}, {unit.signer_title}{end}",
            keep_next=i < len(units),
        )


def _criteria(sheet: Sheet, content: PledgeContent) -> None:
    scores = content.criteria
    intro = f"Kết quả thực hiện giao ước được chấm theo thang điểm {scores.total} điểm"
    intro += f", cộng điểm thưởng tối đa {scores.bonus_cap} điểm:" if scores.bonus else ":"
    total = text_width(sheet.profile)
    widths = [mm(13), total - mm(13) - mm(26), mm(26)]
    rows: list[list[tuple[str | tuple[str, ...], dict[str, object]]]] = [
        [(str(i), {"align": "center"}), (c.title, {}), (str(c.max_points), {"align": "center"})]
        for i, c in enumerate(scores.items, start=1)
    ]
    rows.append(
        [
            ("Tổng cộng", {"span": 2, "bold": True, "align": "center"}),
            (str(scores.total), {"bold": True, "align": "center"}),
        ]
    )
    if scores.bonus:
        lines = (
            f"Điểm thưởng (tối đa {scores.bonus_cap} điểm)",
            *(f"- {c.title}: cộng {c.max_points} điểm" for c in scores.bonus),
        )
        rows.append(
            [
                ("B", {"align": "center", "bold": True}),
                (lines, {"bold": True}),
                (f"≤ {scores.bonus_cap}", {"align": "center", "bold": True}),
            ]
        )
    b.body(sheet, intro, keep_next=True)
    b.data_table(sheet, widths, ("STT", "Tiêu chí", "Điểm tối đa"), rows)
    b.spacer(sheet)
