"""The nomination dossier (tờ trình, biên bản, danh sách, báo cáo thành tích): its documents,
each written on a python-docx sheet of its own."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from documents import blocks as b
from documents.achievement import render_report
from documents.blocks import Properties, Sheet
from documents.content import NominationContent, Nominee
from documents.styles import S
from documents.units import mm, text_width

Rows = list[list[tuple[str | tuple[str, ...], dict[str, object]]]]


@dataclass(frozen=True)
class DossierDocument:
    """One document of the dossier before rendering: its part name, its title, the member
    units who sign it, the function that writes it on a sheet, and each signing unit's
    block as printed (unit code -> title line, name; none for the nominee list, an annex
    its signer signs through the submission)."""

    name: str
    title: str
    signers: tuple[str, ...]
    write: Callable[[Sheet], None]
    blocks: Mapping[str, tuple[str, str]]


def dossier_documents(content: NominationContent) -> list[DossierDocument]:
    """The dossier's documents in the order the board files them: the submission, the
    minutes, the nominee list, then each nominee's achievement report by rank. Each is a
    document of its own (its own first page, header and numbering), as if printed apart."""
    head = (content.head_unit,)
    sub = content.submission
    out = [
        DossierDocument(
            "01-to-trinh.docx",
            "Tờ trình đề nghị khen thưởng",
            head,
            lambda sheet: _submission(sheet, content),
            {content.head_unit: (b.upper(sub.signer_title), sub.signer_name)},
        ),
        DossierDocument(
            "02-bien-ban.docx",
            "Biên bản Hội nghị bình xét thi đua, khen thưởng",
            tuple(u.code for u in content.signing_order),
            lambda sheet: _minutes(sheet, content),
            b.grid_blocks(content.signing_order),
        ),
        DossierDocument(
            "03-danh-sach.docx",
            "Danh sách đề nghị khen thưởng",
            head,
            lambda sheet: _nominee_list(sheet, content),
            {},
        ),
    ]
    for nominee in sorted(content.nominees, key=lambda n: n.rank):
        report = content.report_for(nominee)
        if report is None:
            continue
        out.append(
            DossierDocument(
                f"{len(out) + 1:02d}-bao-cao-thanh-tich-{nominee.rank}.docx",
                f"Báo cáo thành tích: {nominee.name}",
                (nominee.unit_code,) if nominee.unit_code else (),
                functools.partial(render_report, content=content, nominee=nominee, report=report),
                {nominee.unit_code: (b.upper(report.signer_title), report.signer_name)}
                if nominee.unit_code
                else {},
            )
        )
    return out


def properties(content: NominationContent, title: str) -> Properties:
    return Properties(
        title=title,
        subject=content.title,
        creator=content.issuer.name,
        keywords="hồ sơ đề nghị khen thưởng",
        date=content.submission.date,
    )


def _proposal_lines(nominees: tuple[Nominee, ...]) -> list[tuple[str, list[Nominee]]]:
    """Nominees grouped by award, in the order of their best rank."""
    groups: dict[str, list[Nominee]] = {}
    for nominee in sorted(nominees, key=lambda n: n.rank):
        groups.setdefault(nominee.award, []).append(nominee)
    return list(groups.items())


def _nominee_label(nominee: Nominee) -> str:
    return f"{nominee.name} ({nominee.description})" if nominee.description else nominee.name


def _count(n: int, unit: str) -> str:
    return f"{n:02d} {unit}"


def _submission(sheet: Sheet, content: NominationContent) -> None:
    sub, meeting, profile, doc = content.submission, content.meeting, sheet.profile, sheet.doc
    b.header_block(sheet, content.issuer, sub.number, sub.symbol, content.place, sub.date)
    b.title_block(sheet, "TỜ TRÌNH", sub.summary)
    sheet.para(doc, S.ADDRESSEE, f"Kính gửi: {sub.addressee}")
    minutes = (
        f"Căn cứ Biên bản Hội nghị bình xét thi đua, khen thưởng năm {content.year} của "
        f"{content.issuer.name} {b.vn_date(meeting.date)}"
    )
    b.legal_bases(sheet, (*sub.legal_bases, minutes))
    for text in sub.request:
        b.body(sheet, text)
    for i, (award, group) in enumerate(_proposal_lines(content.nominees), start=1):
        units = [n for n in group if n.kind == "unit"]
        people = [n for n in group if n.kind == "person"]
        counted = []
        if units:
            counted.append(_count(len(units), "tập thể"))
        if people:
            counted.append(_count(len(people), "cá nhân"))
        names = "; ".join(_nominee_label(n) for n in group)
        b.body(sheet, f"{i}. Đề nghị tặng {award} cho {' và '.join(counted)}: {names}.")
    if sub.attachments:
        b.body(sheet, "Hồ sơ kèm theo gồm:", keep_next=True)
        last = len(sub.attachments)
        for i, item in enumerate(sub.attachments, start=1):
            b.body(sheet, f"{i}. {item}{'.' if i == last else ';'}", keep_next=i < last)
    closing = f"{content.issuer.name} kính trình {sub.addressee} xem xét, quyết định./."
    b.body(sheet, closing, keep_next=True)
    body_name = b.upper(content.issuer.name)
    signer = [
        body_name
        if sub.signer_authority in ("", "K/T")
        else f"{profile.authority(sub.signer_authority)} {body_name}"
    ]
    left, right = b.closing_row(sheet)
    b.recipients(sheet, left, sub.recipients)
    b.signature(
        sheet,
        right,
        signer,
        b.upper(sub.signer_title),
        sub.signer_name,
        b.deputy_line(profile, sub.signer_authority, sub.signer_title),
    )


def _clock(hhmm: str) -> str:
    hours, minutes = hhmm.split(":")
    return f"{hours} giờ {minutes} phút"


def _rate(votes: int, valid: int) -> str:
    return f"{b.vn_number(round(100 * votes / valid, 2))}%" if valid else "—"


def _minutes(sheet: Sheet, content: NominationContent) -> None:
    meeting, name, doc = content.meeting, content.issuer.name, sheet.doc
    by_code = {u.code: u for u in content.member_units}
    b.header_block(
        sheet, content.issuer, meeting.number, meeting.symbol, content.place, meeting.date
    )
    b.title_block(sheet, "BIÊN BẢN", f"Hội nghị bình xét thi đua, khen thưởng năm {content.year}")
    b.body(
        sheet,
        f"Hôm nay, vào hồi {_clock(meeting.start_time)}, "
        f"{b.vn_date(meeting.date)}, tại {meeting.place}, {name} tổ chức Hội nghị "
        f"bình xét thi đua, khen thưởng năm {content.year}.",
    )
    b.heading(sheet, "I. THÀNH PHẦN")
    b.body(sheet, f"- Chủ trì: đồng chí {meeting.chair_name}, {meeting.chair_title}.")
    b.body(sheet, f"- Thư ký: đồng chí {meeting.secretary_name}, {meeting.secretary_title}.")
    _attendance(sheet, content)
    if meeting.absent_units:
        absent = ", ".join(by_code[c].name for c in meeting.absent_units)
        b.body(sheet, f"- Vắng mặt: {absent}.")
    b.heading(sheet, "II. NỘI DUNG HỘI NGHỊ")
    for text in meeting.discussion:
        b.body(sheet, text)
    b.heading(sheet, "III. KẾT QUẢ BÌNH XÉT")
    b.body(sheet, f"Hội nghị thống nhất hình thức {meeting.voting_method_text}.")
    if meeting.counting_committee:
        b.body(sheet, "Hội nghị bầu Ban kiểm phiếu gồm các đồng chí:", keep_next=True)
        for member in meeting.counting_committee:
            b.body(sheet, f"- Đồng chí {member.name}, {member.position}: {member.role_text};")
    counted = "Ban kiểm phiếu báo cáo kết quả kiểm phiếu. " if meeting.counting_committee else ""
    b.body(
        sheet,
        f"{counted}Số phiếu phát ra: {meeting.ballots_issued:02d}; số phiếu hợp lệ: "
        f"{meeting.ballots_valid:02d}. Kết quả cụ thể như sau:",
        keep_next=True,
    )
    _votes_table(sheet, content)
    b.spacer(sheet)
    if meeting.next_head_unit:
        elected = f"Hội nghị nhất trí bầu {by_code[meeting.next_head_unit].name} làm Cụm trưởng"
        if meeting.next_deputy_unit:
            elected += f", {by_code[meeting.next_deputy_unit].name} làm Cụm phó"
        b.body(sheet, f"{elected} {name} năm {content.year + 1}.")
    b.body(
        sheet,
        f"Hội nghị kết thúc vào hồi {_clock(meeting.end_time)} cùng ngày. "
        "Biên bản đã được đọc lại trước Hội nghị và được các đại biểu "
        "nhất trí thông qua./.",
        keep_next=True,
    )
    total = text_width(sheet.profile)
    half = total // 2
    b.spacer(sheet, keep_next=True)
    ((secretary, chair),) = sheet.table(doc, [half, total - half], S.SIGNATURE_GRID, 1).rows
    b.signature(sheet, secretary, ["NGƯỜI GHI BIÊN BẢN"], "", meeting.secretary_name)
    b.signature(sheet, chair, ["CHỦ TRÌ HỘI NGHỊ"], "", meeting.chair_name)
    sheet.para(doc, S.CAPTION, "XÁC NHẬN CỦA CÁC ĐƠN VỊ THÀNH VIÊN")
    b.signature_grid(sheet, content.signing_order, content.cluster_roles)


def _attendance(sheet: Sheet, content: NominationContent) -> None:
    """The representatives by name and position when the minutes list them, else the units."""
    present, people = content.present_units, content.meeting.representatives
    count = f"{len(present):02d}/{len(content.member_units):02d}"
    if not people:
        names = ", ".join(u.name for u in present)
        b.body(sheet, f"- Đại biểu dự: đại diện lãnh đạo {count} đơn vị thành viên: {names}.")
        return
    b.body(sheet, f"- Đại biểu dự: đại diện lãnh đạo {count} đơn vị thành viên:", keep_next=True)
    by_code = {u.code: u for u in present}
    last = len(people) - 1
    for i, person in enumerate(people):
        end = "." if i == last else ";"
        unit = by_code[person.unit_code].name
        b.body(sheet, f"+ {unit}: đồng chí {person.name}, {person.position}{end}")


def _votes_table(sheet: Sheet, content: NominationContent) -> None:
    meeting = content.meeting
    total = text_width(sheet.profile)
    fixed = [mm(13), mm(40), mm(15), mm(15), mm(16), mm(16)]
    widths = [fixed[0], total - sum(fixed), *fixed[1:]]
    rows: Rows = []
    for i, n in enumerate(sorted(content.nominees, key=lambda n: n.rank), start=1):
        rows.append(
            [
                (str(i), {"align": "center"}),
                (_nominee_label(n), {}),
                (n.award, {}),
                (str(n.votes.in_favour), {"align": "center"}),
                (str(n.votes.against), {"align": "center"}),
                (str(n.votes.abstain), {"align": "center"}),
                (_rate(n.votes.in_favour, meeting.ballots_valid), {"align": "center"}),
            ]
        )
    header = (
        "STT",
        "Tập thể, cá nhân",
        "Hình thức đề nghị",
        "Đồng ý",
        "Không đồng ý",
        "Không biểu quyết",
        "Tỷ lệ đồng ý",
    )
    b.data_table(sheet, widths, header, rows)


def _nominee_list(sheet: Sheet, content: NominationContent) -> None:
    sub, doc, profile = content.submission, sheet.doc, sheet.profile
    number = profile.number_line(sub.number, sub.symbol).removeprefix("Số: ").removeprefix("Số ")
    sheet.para(doc, S.ANNEX_TITLE, "DANH SÁCH")
    sheet.para(doc, S.ANNEX_SUBTITLE, f"ĐỀ NGHỊ KHEN THƯỞNG NĂM {content.year}")
    sheet.para(
        doc,
        S.ANNEX_NOTE,
        f"(Kèm theo Tờ trình số {number} ngày {b.short_date(sub.date)} của {content.issuer.name})",
    )
    b.rule(sheet, doc, mm(30), text_width(profile), S.SUMMARY_RULE)
    total = text_width(profile)
    fixed = [mm(13), mm(56), mm(18), mm(22)]
    widths = [fixed[0], total - sum(fixed), *fixed[1:]]
    rows: Rows = []
    ordered = sorted(content.nominees, key=lambda n: n.rank)
    groups = [
        ("I. TẬP THỂ", [n for n in ordered if n.kind == "unit"]),
        ("II. CÁ NHÂN", [n for n in ordered if n.kind == "person"]),
    ]
    groups = [(label, members) for label, members in groups if members]
    if len(groups) == 1:
        groups = [(groups[0][0].split(". ", 1)[1], groups[0][1])]
    for label, members in groups:
        rows.append([(label, {"span": 5, "bold": True})])
        for i, n in enumerate(members, start=1):
            name = (n.name, n.description) if n.description else n.name
            rows.append(
                [
                    (str(i), {"align": "center"}),
                    (name, {}),
                    (n.award, {}),
                    (b.vn_number(n.score), {"align": "center"}),
                    (f"{n.votes.in_favour}/{content.meeting.ballots_valid}", {"align": "center"}),
                ]
            )
    header = ("STT", "Tên tập thể, cá nhân", "Hình thức khen thưởng", "Điểm", "Số phiếu đồng ý")
    b.data_table(sheet, widths, header, rows)
    units = sum(1 for n in ordered if n.kind == "unit")
    people = len(ordered) - units
    counts = [_count(n, label) for n, label in ((units, "tập thể"), (people, "cá nhân")) if n]
    sheet.para(doc, S.NOTE, f"Danh sách gồm {' và '.join(counts)}.")
