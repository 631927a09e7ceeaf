"""Render content to DOCX bytes: ``render(content)`` dispatches on the content type.

Same content, same bytes: the reference code and verification URL default to values derived
from the content itself, and the package is written without any clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from documents import blocks as b
from documents.codec import content_to_dict
from documents.content import Content, NominationContent, Nominee, PledgeContent
from documents.errors import DocumentError
from documents.ooxml import cell, field_run, mm, para, row, run, table
from documents.package import (
    APP,
    CONTENT_TYPES,
    DOCUMENT_RELS,
    FONT_TABLE,
    FOOTER_DEFAULT,
    FOOTER_FIRST,
    HEADER_DEFAULT,
    HEADER_FIRST,
    QR_IMAGE,
    ROOT_RELS,
    SETTINGS,
    CoreProperties,
    core_xml,
    document_xml,
    header_footer,
    styles_xml,
    write_package,
)
from documents.profiles import PROFILES, Profile
from documents.qr import qr_png

DEFAULT_VERIFY_BASE = "http://127.0.0.1:5000/verify"
# The one code of each document kind in reference codes: the workflow's codes
# ("TD-GU-2019-00003-V2") and this module's fallback for content rendered on its own.
KIND_CODES: dict[str, str] = {"pledge": "GU", "nomination": "KT"}
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{2,63}")
_URL = re.compile(r"https?://[!-~]{1,290}")


def reference_code_for(content: Content) -> str:
    """A short code derived from the content, e.g. "GU-2018-3F9A2C1B7D"."""
    canonical = json.dumps(
        content_to_dict(content), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10].upper()
    return f"{KIND_CODES[content.kind]}-{content.year}-{digest}"


def verify_url_for(reference_code: str, base: str = DEFAULT_VERIFY_BASE) -> str:
    return f"{base}?ref={reference_code}"


def render(
    content: Content, *, reference_code: str | None = None, verify_url: str | None = None
) -> bytes:
    """DOCX bytes of a pledge or a nomination; identical input gives identical bytes.

    Raises:
        DocumentError: ``reference_code`` or ``verify_url`` is malformed ("reference_code",
            "verify_url"), or ``content`` is not document content ("kind").
    """
    renderer = _RENDERERS.get(type(content))
    if renderer is None:
        raise DocumentError("kind", f"không có mẫu văn bản cho {type(content).__name__}")
    if reference_code is None:
        reference_code = reference_code_for(content)
    elif not isinstance(reference_code, str) or not _REFERENCE.fullmatch(reference_code):
        raise DocumentError(
            "reference_code", "mã văn bản chỉ gồm chữ, số, '.', '_', '/', '-' (3–64 ký tự)"
        )
    if verify_url is None:
        verify_url = verify_url_for(reference_code)
    elif not isinstance(verify_url, str) or not _URL.fullmatch(verify_url):
        raise DocumentError("verify_url", "địa chỉ xác thực phải là URL http(s) không có dấu cách")
    profile = PROFILES[content.profile]
    body, props = renderer(content, profile, reference_code, verify_url)
    png, _modules = qr_png(verify_url)
    props = CoreProperties(
        title=props.title,
        subject=props.subject,
        creator=props.creator,
        identifier=reference_code,
        keywords=props.keywords,
        date=props.date,
    )
    parts = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("docProps/core.xml", core_xml(props)),
        ("docProps/app.xml", APP),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS),
        ("word/document.xml", document_xml(body, _section(profile))),
        ("word/styles.xml", styles_xml(profile.body_size)),
        ("word/settings.xml", SETTINGS),
        ("word/fontTable.xml", FONT_TABLE),
        ("word/header1.xml", _page_number_header(profile)),
        ("word/header2.xml", header_footer("hdr", para(size=profile.page_number_size))),
        ("word/footer1.xml", _footer(profile, reference_code, verify_url)),
        ("word/footer2.xml", _footer(profile, reference_code, verify_url)),
    ]
    encoded = [(name, text.encode("utf-8")) for name, text in parts]
    encoded.append(("word/media/qr.png", png))
    return write_package(encoded, props.date, static=_STATIC_PARTS)


# Parts whose bytes depend only on the profile: deflated once per process.
_STATIC_PARTS = frozenset(
    {
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/app.xml",
        "word/_rels/document.xml.rels",
        "word/styles.xml",
        "word/settings.xml",
        "word/fontTable.xml",
        "word/header1.xml",
        "word/header2.xml",
    }
)


def _section(profile: Profile) -> str:
    top, bottom, left, right = b.margins_twips(profile)
    width, height = b.A4_TWIPS
    return (
        "<w:sectPr>"
        f'<w:headerReference w:type="default" r:id="{HEADER_DEFAULT}"/>'
        f'<w:headerReference w:type="first" r:id="{HEADER_FIRST}"/>'
        f'<w:footerReference w:type="default" r:id="{FOOTER_DEFAULT}"/>'
        f'<w:footerReference w:type="first" r:id="{FOOTER_FIRST}"/>'
        f'<w:pgSz w:w="{width}" w:h="{height}"/>'
        f'<w:pgMar w:top="{top}" w:right="{right}" w:bottom="{bottom}" '
        f'w:left="{left}" w:header="{mm(profile.header_distance_mm)}" '
        f'w:footer="{mm(profile.footer_distance_mm)}" w:gutter="0"/>'
        '<w:pgNumType w:start="1"/><w:cols w:space="720"/>'
        # Page 1 uses the empty "first" header: numbers appear from page 2.
        "<w:titlePg/>"
        "</w:sectPr>"
    )


def _page_number_header(profile: Profile) -> str:
    size = profile.page_number_size
    return header_footer("hdr", para(field_run(" PAGE ", "2", size), align="center", size=size))


def _footer(profile: Profile, reference_code: str, verify_url: str) -> str:
    size = profile.footer_size
    text = (
        run("Mã văn bản: ", size)
        + run(reference_code, size, bold=True)
        + run("  ·  Xác thực tại: ", size)
        + run(verify_url, size, italic=True)
    )
    return header_footer("ftr", para(text, align="center", size=size, rule="top"))


# --- the pledge ------------------------------------------------------------------------------


def _pledge(
    content: PledgeContent, profile: Profile, reference_code: str, verify_url: str
) -> tuple[str, CoreProperties]:
    out = [
        b.header_block(
            profile, content.issuer, content.number, content.symbol, content.place, content.date
        ),
        b.title_block(profile, content.title, content.summary),
    ]
    if content.legal_bases:
        out.append(b.legal_bases(profile, content.legal_bases))
    out.extend(b.body(profile, text) for text in content.preamble)
    sections: list[tuple[str, str]] = [("NỘI DUNG THI ĐUA", b.numbered(profile, content.contents))]
    if content.targets:
        sections.append(("CHỈ TIÊU THI ĐUA", b.numbered(profile, content.targets)))
    sections.append(("TIÊU CHÍ VÀ THANG ĐIỂM ĐÁNH GIÁ", _criteria(content, profile)))
    sections.append(("CAM KẾT CỦA CÁC ĐƠN VỊ", b.numbered(profile, content.commitments)))
    for numeral, (name, markup) in zip(b.ROMAN, sections, strict=False):
        out.append(b.heading(profile, f"{numeral}. {name}"))
        out.append(markup)
    out.append(
        para(
            run("ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC", profile.body_size, bold=True),
            align="center",
            size=profile.body_size,
            before=240,
            after=240,
            keep_next=True,
        )
    )
    out.append(b.signature_grid(profile, content.signing_order))
    qr_width = mm(90)
    qr = b.qr_block(profile, reference_code, verify_url, QR_IMAGE, width=qr_width)
    out.append(b.closing_block(profile, content.recipients, qr, qr_width))
    props = CoreProperties(
        title=content.title,
        subject=content.cluster_name,
        creator=content.issuer.name,
        identifier="",
        keywords="giao ước thi đua",
        date=content.date,
    )
    return "".join(out), props


def _criteria(content: PledgeContent, profile: Profile) -> str:
    sheet = content.criteria
    intro = f"Kết quả thực hiện giao ước được chấm theo thang điểm {sheet.total} điểm"
    intro += f", cộng điểm thưởng tối đa {sheet.bonus_cap} điểm:" if sheet.bonus else ":"
    total = b.text_width(profile)
    widths = [mm(13), total - mm(13) - mm(26), mm(26)]
    rows: list[list[tuple[str | tuple[str, ...], dict[str, object]]]] = [
        [(str(i), {"align": "center"}), (c.title, {}), (str(c.max_points), {"align": "center"})]
        for i, c in enumerate(sheet.items, start=1)
    ]
    rows.append(
        [
            ("Tổng cộng", {"span": 2, "bold": True, "align": "center"}),
            (str(sheet.total), {"bold": True, "align": "center"}),
        ]
    )
    if sheet.bonus:
        lines = (
            f"Điểm thưởng (tối đa {sheet.bonus_cap} điểm)",
            *(f"- {c.title}: cộng {c.max_points} điểm" for c in sheet.bonus),
        )
        rows.append(
            [
                ("B", {"align": "center", "bold": True}),
                (lines, {"bold": True}),
                (f"≤ {sheet.bonus_cap}", {"align": "center", "bold": True}),
            ]
        )
    return (
        b.body(profile, intro, keep_next=True)
        + b.data_table(profile, widths, ("STT", "Tiêu chí", "Điểm tối đa"), rows)
        + b.spacer()
    )


# --- the nomination --------------------------------------------------------------------------


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


def _submission(content: NominationContent, profile: Profile) -> str:
    sub, meeting = content.submission, content.meeting
    out = [
        b.header_block(profile, content.issuer, sub.number, sub.symbol, content.place, sub.date),
        b.title_block(profile, "TỜ TRÌNH", sub.summary),
        para(
            run("Kính gửi: ", profile.body_size) + run(sub.addressee, profile.body_size),
            align="center",
            size=profile.body_size,
            after=240,
            left=mm(10),
            right=mm(10),
        ),
    ]
    minutes = (
        f"Căn cứ Biên bản Hội nghị bình xét thi đua, khen thưởng năm {content.year} của "
        f"{content.issuer.name} {b.vn_date(meeting.date)}"
    )
    out.append(b.legal_bases(profile, (*sub.legal_bases, minutes)))
    out.extend(b.body(profile, text) for text in sub.request)
    for i, (award, group) in enumerate(_proposal_lines(content.nominees), start=1):
        units = [n for n in group if n.kind == "unit"]
        people = [n for n in group if n.kind == "person"]
        counted = []
        if units:
            counted.append(_count(len(units), "tập thể"))
        if people:
            counted.append(_count(len(people), "cá nhân"))
        names = "; ".join(_nominee_label(n) for n in group)
        out.append(
            b.body(profile, f"{i}. Đề nghị tặng {award} cho {' và '.join(counted)}: {names}.")
        )
    out.append(
        b.body(profile, f"{content.issuer.name} kính trình {sub.addressee} xem xét, quyết định./.")
    )
    body_name = b.upper(content.issuer.name)
    signer = [
        body_name
        if sub.signer_authority in ("", "K/T")
        else f"{profile.authority(sub.signer_authority)} {body_name}"
    ]
    signature = b.signature_cell_paragraphs(
        signer,
        b.upper(sub.signer_title),
        sub.signer_name,
        profile.authority_size,
        b.deputy_line(profile, sub.signer_authority, sub.signer_title),
    )
    total = b.text_width(profile)
    left_w = total // 2 - mm(5)
    out.append(b.spacer(keep_next=True))
    out.append(
        table(
            [left_w, total - left_w],
            [
                row(
                    [
                        cell(left_w, b.recipients(profile, sub.recipients), borders=False),
                        cell(total - left_w, signature, borders=False),
                    ]
                )
            ],
            borders=False,
            margin_lr=b.CELL_MARGIN,
        )
    )
    return "".join(out)


def _clock(hhmm: str) -> str:
    hours, minutes = hhmm.split(":")
    return f"{hours} giờ {minutes} phút"


def _rate(votes: int, valid: int) -> str:
    return f"{b.vn_number(round(100 * votes / valid, 2))}%" if valid else "—"


def _minutes(content: NominationContent, profile: Profile) -> str:
    meeting = content.meeting
    name = content.issuer.name
    by_code = {u.code: u for u in content.member_units}
    present = content.present_units
    out = [
        b.page_break(),
        b.header_block(
            profile, content.issuer, meeting.number, meeting.symbol, content.place, meeting.date
        ),
        b.title_block(
            profile, "BIÊN BẢN", f"Hội nghị bình xét thi đua, khen thưởng năm {content.year}"
        ),
        b.body(
            profile,
            f"Hôm nay, vào hồi {_clock(meeting.start_time)}, "
            f"{b.vn_date(meeting.date)}, tại {meeting.place}, {name} tổ chức Hội nghị "
            f"bình xét thi đua, khen thưởng năm {content.year}.",
        ),
        b.heading(profile, "I. THÀNH PHẦN"),
        b.body(profile, f"- Chủ trì: đồng chí {meeting.chair_name}, {meeting.chair_title}."),
        b.body(profile, f"- Thư ký: đồng chí {meeting.secretary_name}, {meeting.secretary_title}."),
        b.body(
            profile,
            f"- Đại biểu dự: đại diện lãnh đạo {len(present):02d}/"
            f"{len(content.member_units):02d} đơn vị thành viên: "
            + ", ".join(u.name for u in present)
            + ".",
        ),
    ]
    if meeting.absent_units:
        absent = ", ".join(by_code[c].name for c in meeting.absent_units)
        out.append(b.body(profile, f"- Vắng mặt: {absent}."))
    out.append(b.heading(profile, "II. NỘI DUNG HỘI NGHỊ"))
    out.extend(b.body(profile, text) for text in meeting.discussion)
    out.append(b.heading(profile, "III. KẾT QUẢ BÌNH XÉT"))
    out.append(
        b.body(
            profile,
            f"Hội nghị thống nhất hình thức {meeting.voting_method_text}. Số phiếu phát ra: "
            f"{meeting.ballots_issued:02d}; số phiếu hợp lệ: {meeting.ballots_valid:02d}. "
            "Kết quả cụ thể như sau:",
            keep_next=True,
        )
    )
    total = b.text_width(profile)
    fixed = [mm(13), mm(40), mm(15), mm(15), mm(16), mm(16)]
    widths = [fixed[0], total - sum(fixed), *fixed[1:]]
    rows: list[list[tuple[str | tuple[str, ...], dict[str, object]]]] = []
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
    out.append(
        b.data_table(
            profile,
            widths,
            (
                "STT",
                "Tập thể, cá nhân",
                "Hình thức đề nghị",
                "Đồng ý",
                "Không đồng ý",
                "Không biểu quyết",
                "Tỷ lệ đồng ý",
            ),
            rows,
            size=12,
        )
    )
    out.append(b.spacer())
    if meeting.next_head_unit:
        elected = f"Hội nghị nhất trí bầu {by_code[meeting.next_head_unit].name} làm Cụm trưởng"
        if meeting.next_deputy_unit:
            elected += f", {by_code[meeting.next_deputy_unit].name} làm Cụm phó"
        out.append(b.body(profile, f"{elected} {name} năm {content.year + 1}."))
    out.append(
        b.body(
            profile,
            f"Hội nghị kết thúc vào hồi {_clock(meeting.end_time)} cùng ngày. "
            "Biên bản đã được đọc lại trước Hội nghị và được các đại biểu "
            "nhất trí thông qua./.",
        )
    )
    half = total // 2
    size = profile.authority_size
    out.append(b.spacer(keep_next=True))
    out.append(
        table(
            [half, total - half],
            [
                row(
                    [
                        cell(
                            half,
                            b.signature_cell_paragraphs(
                                ["NGƯỜI GHI BIÊN BẢN"], "", meeting.secretary_name, size
                            ),
                            borders=False,
                        ),
                        cell(
                            total - half,
                            b.signature_cell_paragraphs(
                                ["CHỦ TRÌ HỘI NGHỊ"], "", meeting.chair_name, size
                            ),
                            borders=False,
                        ),
                    ]
                )
            ],
            borders=False,
            margin_lr=b.CELL_MARGIN,
        )
    )
    out.append(
        para(
            run("XÁC NHẬN CỦA CÁC ĐƠN VỊ THÀNH VIÊN", profile.body_size, bold=True),
            align="center",
            size=profile.body_size,
            before=120,
            after=240,
            keep_next=True,
        )
    )
    out.append(b.signature_grid(profile, content.signing_order))
    return "".join(out)


def _nominee_list(content: NominationContent, profile: Profile) -> str:
    sub = content.submission
    number = profile.number_line(sub.number, sub.symbol).removeprefix("Số: ").removeprefix("Số ")
    out = [
        b.page_break(),
        para(
            run("DANH SÁCH", profile.doc_type_size, bold=True),
            align="center",
            size=profile.doc_type_size,
        ),
        para(
            run(f"ĐỀ NGHỊ KHEN THƯỞNG NĂM {content.year}", profile.summary_size, bold=True),
            align="center",
            size=profile.summary_size,
        ),
        para(
            run(
                f"(Kèm theo Tờ trình số {number} ngày {b.short_date(sub.date)} của "
                f"{content.issuer.name})",
                profile.body_size,
                italic=True,
            ),
            align="center",
            size=profile.body_size,
            after=120,
        ),
        b.rule(mm(30), b.text_width(profile), after=240),
    ]
    total = b.text_width(profile)
    fixed = [mm(13), mm(56), mm(18), mm(22)]
    widths = [fixed[0], total - sum(fixed), *fixed[1:]]
    rows: list[list[tuple[str | tuple[str, ...], dict[str, object]]]] = []
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
    out.append(
        b.data_table(
            profile,
            widths,
            ("STT", "Tên tập thể, cá nhân", "Hình thức khen thưởng", "Điểm", "Số phiếu đồng ý"),
            rows,
        )
    )
    units = sum(1 for n in ordered if n.kind == "unit")
    people = len(ordered) - units
    counts = [_count(n, label) for n, label in ((units, "tập thể"), (people, "cá nhân")) if n]
    out.append(
        para(
            run(f"Danh sách gồm {' và '.join(counts)}.", profile.body_size, italic=True),
            align="left",
            size=profile.body_size,
            before=120,
        )
    )
    return "".join(out)


def _nomination(
    content: NominationContent, profile: Profile, reference_code: str, verify_url: str
) -> tuple[str, CoreProperties]:
    body = (
        _submission(content, profile)
        + _minutes(content, profile)
        + _nominee_list(content, profile)
        + b.spacer(before=240, keep_next=True)
        + b.qr_block(profile, reference_code, verify_url, QR_IMAGE)
    )
    props = CoreProperties(
        title=content.title,
        subject=content.cluster_name,
        creator=content.issuer.name,
        identifier="",
        keywords="hồ sơ đề nghị khen thưởng",
        date=content.submission.date,
    )
    return body, props


_RENDERERS: dict[type, Callable[..., tuple[str, CoreProperties]]] = {
    PledgeContent: _pledge,
    NominationContent: _nomination,
}
