"""The achievement report (báo cáo thành tích) of one nominee, a document of the dossier
written by the nominee's own office and signed by its head (docs/domain.md §2.5)."""

from __future__ import annotations

from documents import blocks as b
from documents.blocks import Sheet
from documents.content import AchievementReport, Issuer, NominationContent, Nominee
from documents.styles import S

_OFFICE = "Văn phòng "


def render_report(
    sheet: Sheet, content: NominationContent, nominee: Nominee, report: AchievementReport
) -> None:
    unit = next((u for u in content.member_units if u.code == nominee.unit_code), None)
    issuer = _issuer(unit.name if unit is not None else nominee.name)
    b.header_block(sheet, issuer, report.number, report.symbol, content.place, report.date)
    b.title_block(sheet, "BÁO CÁO", f"thành tích đề nghị tặng {nominee.award}")
    sections = [
        ("ĐẶC ĐIỂM, TÌNH HÌNH", report.background),
        ("THÀNH TÍCH ĐẠT ĐƯỢC NĂM " + str(content.year), report.achievements),
        ("CÁC HÌNH THỨC KHEN THƯỞNG ĐÃ ĐẠT", report.past_awards or ("Chưa có.",)),
    ]
    for numeral, (heading, paragraphs) in zip(b.ROMAN, sections, strict=False):
        b.heading(sheet, f"{numeral}. {heading}")
        for text in paragraphs:
            b.body(sheet, text)
    closing = f"Trên đây là báo cáo thành tích năm {content.year} của {_issuer_name(issuer)}./."
    b.body(sheet, closing, keep_next=True)
    profile = sheet.profile
    left, right = b.closing_row(sheet)
    sheet.para(left, S.SPACER)  # a report has no 'Nơi nhận': the signature stands right
    authority = report.signer_authority
    lines = (
        []
        if authority in ("", "K/T")
        else [f"{profile.authority(authority)} {b.upper(issuer.name)}"]
    )
    b.signature(
        sheet,
        right,
        lines,
        b.upper(report.signer_title),
        report.signer_name,
        b.deputy_line(profile, authority, report.signer_title),
    )


def _issuer(name: str) -> Issuer:
    """A district office writes under its party committee: "HUYỆN ỦY MỸ ĐỨC / VĂN PHÒNG"."""
    if name.startswith(_OFFICE) and len(name) > len(_OFFICE):
        return Issuer(name="Văn phòng", superior_body=name.removeprefix(_OFFICE))
    return Issuer(name=name)


def _issuer_name(issuer: Issuer) -> str:
    if issuer.superior_body:
        return f"{issuer.name} {issuer.superior_body}"
    return issuer.name
