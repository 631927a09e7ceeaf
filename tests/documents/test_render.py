"""The rendered DOCX read back with python-docx: what a clerk would check on the page."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile

import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

import documents
from documents import samples
from documents.blocks import vn_date
from documents.metrics import text_width_pt
from documents.profiles import PARTY, STATE
from tests.conftest import DOSSIER_PARTS

from .conftest import all_tables, fmt, font, read, read_dossier, rfonts, squash, table_with

# --- header ----------------------------------------------------------------------------------


def test_header_is_a_borderless_two_column_table(pledge_doc):
    header = pledge_doc.tables[0]
    assert len(header.columns) == 2
    assert header.style.style_id == "TDLayout"
    borders = header.style.element.find(qn("w:tblPr")).find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}
    assert header._tbl.tblPr.find(qn("w:tblBorders")) is None  # no direct borders
    left, right = (squash(c.text) for c in header.rows[0].cells)
    assert left == "THÀNH ỦY HÀ NỘI CỤM THI ĐUA SỐ 4 *"
    assert right == "ĐẢNG CỘNG SẢN VIỆT NAM"
    number, place_date = (squash(c.text) for c in header.rows[1].cells)
    assert number == "Số 05-GU/CTĐ4"  # Party style: no colon, hyphen before the symbol
    assert place_date == "Mỹ Đức, ngày 31 tháng 3 năm 2018"
    date = header.rows[1].cells[1].paragraphs[0]
    assert date.style.name == "TĐ Địa danh, ngày tháng"
    assert date.runs
    assert all(font(date, "italic", r) for r in date.runs)


def test_party_title_is_bold_15pt_with_a_rule_as_long_as_the_title(pledge_doc):
    cell = pledge_doc.tables[0].rows[0].cells[1]
    title, rule = cell.paragraphs[0], cell.paragraphs[1]
    assert title.style.style_id == "TDNational"
    assert font(title, "bold", title.runs[0])
    assert font(title, "size", title.runs[0]) == Pt(15)
    assert rule.text == ""
    border = rule.style.element.find(qn("w:pPr")).find(qn("w:pBdr")).find(qn("w:top"))
    assert border.get(qn("w:val")) == "single"
    ind = rule._p.pPr.find(qn("w:ind"))
    cell_width = int(cell._tc.tcPr.find(qn("w:tcW")).get(qn("w:w")))
    length = cell_width - int(ind.get(qn("w:left"))) - int(ind.get(qn("w:right")))
    expected = text_width_pt("ĐẢNG CỘNG SẢN VIỆT NAM", 15, bold=True) * 20
    assert abs(length - expected) <= 2


def test_issuing_body_is_bold_and_superior_body_is_not(pledge_doc):
    superior, issuer, star = pledge_doc.tables[0].rows[0].cells[0].paragraphs
    assert not font(superior, "bold", superior.runs[0])
    assert font(superior, "size", superior.runs[0]) == Pt(14)
    assert font(issuer, "bold", issuer.runs[0])
    assert issuer.style.name == "TĐ Cơ quan ban hành"
    assert star.text == "*"


def test_state_profile_uses_national_title_and_colon_number():
    content = dataclasses.replace(samples.nomination_2018(), profile="state")
    doc = read_dossier(content)
    header = doc.tables[0]
    assert squash(header.rows[0].cells[1].text) == (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc"
    )
    # Decree 30: "/" after the number, "-" inside the symbol (the content keeps "TTr/CTĐ4").
    assert squash(header.rows[1].cells[0].text) == "Số: 12/TTr-CTĐ4"
    texts = [p.text for p in doc.paragraphs]
    assert "(Kèm theo Tờ trình số 12/TTr-CTĐ4 ngày 20/12/2018 của Cụm thi đua số 4)" in texts
    minutes = [squash(c.text) for t in all_tables(doc) for r in t.rows for c in r.cells]
    assert "Số: 05/BB-CTĐ4" in minutes
    assert "*" not in header.rows[0].cells[0].text
    text = "\n".join(squash(c.text) for t in all_tables(doc) for r in t.rows for c in r.cells)
    assert "ĐẢNG CỘNG SẢN" not in text
    assert "TM. CỤM THI ĐUA SỐ 4" in text  # State spelling of the authority
    grid = table_with(doc, "VĂN PHÒNG THỊ ỦY SƠN TÂY")
    head = squash(grid.rows[0].cells[0].text)
    assert head == "VĂN PHÒNG HUYỆN ỦY MỸ ĐỨC (Cụm trưởng) CHÁNH VĂN PHÒNG Nguyễn Văn Hùng"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ((2020, 1, 5), "ngày 05 tháng 01 năm 2020"),
        ((2018, 2, 9), "ngày 09 tháng 02 năm 2018"),
        ((2018, 3, 31), "ngày 31 tháng 3 năm 2018"),
        ((2018, 12, 10), "ngày 10 tháng 12 năm 2018"),
        ((2019, 10, 1), "ngày 01 tháng 10 năm 2019"),
    ],
)
def test_dates_pad_days_below_ten_and_months_one_and_two(day, expected):
    import datetime as dt

    assert vn_date(dt.date(*day)) == expected


def test_number_lines():
    assert PARTY.number_line(5, "GU/CTĐ4") == "Số 05-GU/CTĐ4"
    assert PARTY.number_line(127, "QĐ/TW") == "Số 127-QĐ/TW"
    assert STATE.number_line(15, "TTr-BTĐKT") == "Số: 15/TTr-BTĐKT"
    assert STATE.number_line(5, "GU/CTĐ4") == "Số: 05/GU-CTĐ4"
    assert PARTY.number_line(5, "GU/CTĐ4") == "Số 05-GU/CTĐ4"
    blank = PARTY.number_line(None, "GU/CTĐ4")  # a gap for the records clerk's number
    assert blank.startswith("Số ")
    assert blank.endswith("-GU/CTĐ4")
    assert blank.removesuffix("-GU/CTĐ4").strip("Số \u00a0") == ""


# --- title, legal bases, body ----------------------------------------------------------------


def _paragraph(doc, text):
    for p in doc.paragraphs:
        if p.text == text:
            return p
    raise AssertionError(f"no paragraph {text!r}")


def test_title_and_summary_are_bold_and_centred(pledge_doc, pledge):
    title = _paragraph(pledge_doc, "GIAO ƯỚC THI ĐUA NĂM 2018")
    assert title.style.name == "TĐ Tên loại văn bản"
    assert fmt(title, "alignment") == WD_ALIGN_PARAGRAPH.CENTER
    assert all(font(title, "bold", r) for r in title.runs)
    assert font(title, "size", title.runs[0]) == Pt(16)
    summary = _paragraph(pledge_doc, pledge.summary)
    assert summary.style.name == "TĐ Trích yếu"
    assert fmt(summary, "alignment") == WD_ALIGN_PARAGRAPH.CENTER
    assert font(summary, "bold", summary.runs[0])


def test_legal_bases_are_italic_one_per_line_ending_semicolon_then_full_stop(pledge_doc, pledge):
    found = [p for p in pledge_doc.paragraphs if p.text.startswith("Căn cứ ")]
    assert [p.text[:-1] for p in found] == list(pledge.legal_bases)
    assert all(p.text.endswith(";") for p in found[:-1])
    assert found[-1].text.endswith(".")
    assert {p.style.name for p in found} == {"TĐ Căn cứ"}
    assert all(font(p, "italic", r) for p in found for r in p.runs)


def test_body_is_justified_with_a_first_line_indent(pledge_doc, pledge):
    for p in [_paragraph(pledge_doc, text) for text in pledge.preamble]:
        assert p.style.name == "TĐ Nội dung"
        assert fmt(p, "alignment") == WD_ALIGN_PARAGRAPH.JUSTIFY
        assert abs(fmt(p, "first_line_indent") - Mm(10)) < Mm(0.1)
        assert font(p, "size", p.runs[0]) == Pt(14)
        assert p.paragraph_format.alignment is None  # from the style, not direct formatting


def _num_id(paragraph):
    """The numbering instance of a list paragraph: its own, else its style's."""
    for ppr in (paragraph._p.pPr, paragraph.style.element.pPr):
        numpr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if numpr is not None:
            return int(numpr.find(qn("w:numId")).get(qn("w:val")))
    return None


def test_numbered_contents_are_a_word_list_starting_at_one_in_each_section(pledge_doc, pledge):
    contents = [_paragraph(pledge_doc, text) for text in pledge.contents]
    commitments = [_paragraph(pledge_doc, text) for text in pledge.commitments]
    assert {p.style.name for p in contents + commitments} == {"TĐ Danh sách số"}
    assert all(fmt(p, "alignment") == WD_ALIGN_PARAGRAPH.JUSTIFY for p in contents)
    assert len({_num_id(p) for p in contents}) == 1
    assert _num_id(contents[0]) != _num_id(commitments[0])
    # Each instance starts again at 1, and the number reads "1." like a typed one.
    numbering = pledge_doc.part.numbering_part.element
    for num_id in (_num_id(contents[0]), _num_id(commitments[0])):
        num = numbering.num_having_numId(num_id)
        start = num.find(qn("w:lvlOverride")).find(qn("w:startOverride"))
        assert start.get(qn("w:val")) == "1"
    level = numbering.find(qn("w:abstractNum")).find(qn("w:lvl"))
    assert level.find(qn("w:lvlText")).get(qn("w:val")) == "%1."
    assert level.find(qn("w:numFmt")).get(qn("w:val")) == "decimal"


# --- criteria --------------------------------------------------------------------------------


def test_criteria_table_lists_every_criterion_and_totals_100(pledge_doc, pledge):
    table = table_with(pledge_doc, "Tiêu chí")
    rows = [[squash(c.text) for c in r.cells] for r in table.rows]
    assert rows[0] == ["STT", "Tiêu chí", "Điểm tối đa"]
    items = rows[1 : 1 + len(pledge.criteria.items)]
    assert [r[1] for r in items] == [c.title for c in pledge.criteria.items]
    assert sum(int(r[2]) for r in items) == 100
    total = rows[1 + len(pledge.criteria.items)]
    assert total[0] == "Tổng cộng"
    assert total[-1] == "100"
    bonus = rows[-1]
    assert bonus[0] == "B"
    assert bonus[1].startswith("Điểm thưởng (tối đa 10 điểm)")
    assert bonus[-1] == "≤ 10"
    for criterion in pledge.criteria.bonus:
        assert f"{criterion.title}: cộng {criterion.max_points} điểm" in bonus[1]


# --- signatures and recipients ---------------------------------------------------------------


def test_signature_grid_has_one_cell_per_member_unit_head_first(pledge_doc, pledge):
    grid = table_with(pledge_doc, "VĂN PHÒNG THỊ ỦY SƠN TÂY")
    cells = [squash(c.text) for r in grid.rows for c in r.cells]
    assert len(cells) == len(pledge.member_units) == 8
    # A staff office is signed by its head with the title alone: "T/M" belongs to collective
    # bodies (HD 36 §1.7.1), so no cell reads "T/M VĂN PHÒNG ...".
    # The cluster head and deputy are marked; the first row is the only one that has marks.
    assert cells[0] == "VĂN PHÒNG HUYỆN ỦY MỸ ĐỨC (Cụm trưởng) CHÁNH VĂN PHÒNG Nguyễn Văn Hùng"
    assert cells[1] == "VĂN PHÒNG HUYỆN ỦY ỨNG HÒA (Cụm phó) CHÁNH VĂN PHÒNG Trần Thị Thu Hà"
    assert not any("T/M" in c for c in cells)
    for unit in pledge.member_units[2:]:
        expected = f"{unit.name.upper()} {unit.signer_title.upper()} {unit.signer_name}"
        assert cells.count(expected) == 1
    # The authority lines of one grid break the same way, so title lines stay level.
    first_lines = {c.paragraphs[0].text.split("\n")[0] for r in grid.rows for c in r.cells}
    assert first_lines == {"VĂN PHÒNG"}


def test_odd_number_of_units_centres_the_last_one():
    content = samples.pledge_2018()
    content = dataclasses.replace(content, member_units=content.member_units[:7])
    grid = table_with(read(documents.render(content)), "VĂN PHÒNG HUYỆN ỦY QUỐC OAI")
    last = grid.rows[-1]
    assert len({id(c._tc) for c in last.cells}) == 1
    assert "QUỐC OAI" in last.cells[0].text


def test_recipients_block(pledge_doc, pledge):
    paragraphs = pledge_doc.paragraphs
    label = _paragraph(pledge_doc, "Nơi nhận:")
    assert label.style.name == "TĐ Nơi nhận"
    assert font(label, "underline", label.runs[0])
    start = [p._p for p in paragraphs].index(label._p) + 1
    items = paragraphs[start : start + len(pledge.recipients)]
    lines = [p.text for p in items]
    assert lines == [f"- {r}," for r in pledge.recipients[:-1]] + [f"- {pledge.recipients[-1]}."]
    assert {p.style.name for p in items} == {"TĐ Nơi nhận - mục"}
    assert font(items[0], "size", items[0].runs[0]) == Pt(12)


# --- fonts, page, footer ---------------------------------------------------------------------

TNR = {
    "ascii": "Times New Roman",
    "hAnsi": "Times New Roman",
    "eastAsia": "Times New Roman",
    "cs": "Times New Roman",
}


@pytest.mark.parametrize("which", ["pledge_doc", "nomination_doc"])
def test_times_new_roman_on_every_run_and_in_the_styles(which, request):
    for doc in _docs(request.getfixturevalue(which)):
        _check_times_new_roman(doc)


def _docs(fixture):
    """The documents a fixture holds: a pledge is one, a dossier several."""
    return getattr(fixture, "docs", [fixture])


def _check_times_new_roman(doc):
    section = doc.sections[0]
    parts = [doc.element.body, section.header._element, section.first_page_header._element]
    paragraphs = [p for part in parts for p in part.iter(qn("w:p"))]
    runs = [r for p in paragraphs for r in p.iter(qn("w:r"))]
    assert len(runs) > 20  # a real document, not an empty one
    for r in runs:  # no run overrides the font ...
        rpr = r.find(qn("w:rPr"))
        assert rpr is None or rpr.find(qn("w:rFonts")) is None or rfonts(rpr) == TNR
    by_id = {s.style_id: s for s in doc.styles}
    used = {p.pPr.find(qn("w:pStyle")).get(qn("w:val")) for p in paragraphs}
    assert len(used) > 6
    for style_id in used:  # ... and every paragraph style names all four slots
        assert rfonts(by_id[style_id].element.find(qn("w:rPr"))) == TNR, style_id
    normal = doc.styles["Normal"].element
    assert rfonts(normal.find(qn("w:rPr"))) == TNR
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    assert rfonts(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))) == TNR
    assert doc.styles["Normal"].font.name == "Times New Roman"


@pytest.mark.parametrize("which", ["pledge_doc", "nomination_doc"])
def test_a4_and_margins_within_the_rules(which, request):
    for doc in _docs(request.getfixturevalue(which)):
        _check_a4_and_margins(doc.sections[0])


def _check_a4_and_margins(section):
    assert abs(section.page_width - Mm(210)) < Mm(0.1)
    assert abs(section.page_height - Mm(297)) < Mm(0.1)
    assert Mm(20) <= section.top_margin <= Mm(25)
    assert Mm(20) <= section.bottom_margin <= Mm(25)
    assert Mm(30) <= section.left_margin <= Mm(35)
    assert Mm(15) <= section.right_margin <= Mm(20)


def test_page_numbers_start_on_page_two(pledge_doc):
    section = pledge_doc.sections[0]
    assert section.different_first_page_header_footer
    assert section.first_page_header.paragraphs[0].text == ""
    fields = section.header._element.findall(".//" + qn("w:fldSimple"))
    assert [f.get(qn("w:instr")).strip() for f in fields] == ["PAGE"]
    number = section.header.paragraphs[0]
    assert number.style.name == "TĐ Số trang"
    assert fmt(number, "alignment") == WD_ALIGN_PARAGRAPH.CENTER
    assert font(number, "size") == Pt(13)


def _verification_line(doc):
    """The last paragraph of the body: framed at the foot of the page it ends on."""
    last = doc.paragraphs[-1]
    frame = last._p.pPr.find(qn("w:framePr"))
    assert frame is not None
    return last, frame


def test_the_last_page_foot_carries_the_reference_code_and_no_address(pledge_doc, pledge):
    code = documents.reference_code_for(pledge)
    last, frame = _verification_line(pledge_doc)
    assert last.text == f"Mã văn bản: {code}"
    assert last.style.name == "TĐ Chân trang"
    assert font(last, "size") == Pt(9)
    # Anchored to the page, in the bottom margin: it prints once, at the foot of the last page.
    assert frame.get(qn("w:vAnchor")) == "page"
    top_mm = int(frame.get(qn("w:y"))) / 1440 * 25.4
    assert 297 - 20 < top_mm < 297 - 8
    # No page footer repeats it, and no address or QR code without a public URL.
    section = pledge_doc.sections[0]
    assert section.footer.is_linked_to_previous
    assert not pledge_doc.inline_shapes
    text = "\n".join(p.text for p in pledge_doc.paragraphs)
    assert "http" not in text
    assert "Xác thực tại" not in text


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5000/verify?ref=X", "http://localhost/verify?ref=X", "http://[::1]/v"]
)
def test_a_loopback_verify_url_is_not_printed(pledge, url):
    doc = read(documents.render(pledge, reference_code="TD-GU-2018-00007-V2", verify_url=url))
    last, _frame = _verification_line(doc)
    assert last.text == "Mã văn bản: TD-GU-2018-00007-V2"
    assert not doc.inline_shapes


def test_default_reference_code_is_derived_from_content(pledge, pledge_doc):
    code = documents.reference_code_for(pledge)
    assert code.startswith("GU-2018-")
    assert len(code) == len("GU-2018-") + 10
    assert code in _verification_line(pledge_doc)[0].text
    assert pledge_doc.core_properties.identifier == code
    other = dataclasses.replace(pledge, place="Ứng Hòa")
    assert documents.reference_code_for(other) != code


@pytest.mark.parametrize("which", ["pledge", "nomination"])
def test_a_public_url_adds_the_address_and_its_qr_code_on_the_last_page(which, request):
    content = request.getfixturevalue(which)
    url = "https://thidua.example.vn/verify?ref=ABC-123"
    if which == "nomination":  # every document of the dossier carries it
        docs = read_dossier(content, reference_code="ABC-123", verify_url=url).docs
    else:
        docs = [read(documents.render(content, reference_code="ABC-123", verify_url=url))]
    for doc in docs:
        assert len(doc.inline_shapes) == 1
        last, _frame = _verification_line(doc)
        assert last.text.strip() == (
            f"Mã văn bản: ABC-123\nKiểm tra văn bản và chữ ký số tại: {url}"
        )
        blip = last._p.find(".//" + qn("a:blip"))
        image = doc.part.related_parts[blip.get(qn("r:embed"))]
        assert image.blob.startswith(b"\x89PNG\r\n\x1a\n")


def test_core_properties_come_from_the_content(pledge_doc, nomination_doc):
    props = pledge_doc.core_properties
    assert props.title == "GIAO ƯỚC THI ĐUA NĂM 2018"
    assert props.created.date().isoformat() == "2018-03-31"
    assert props.modified == props.created
    assert props.author == "Cụm thi đua số 4"
    titles = [doc.core_properties.title for doc in nomination_doc.docs]
    assert titles[:3] == [
        "Tờ trình đề nghị khen thưởng",
        "Biên bản Hội nghị bình xét thi đua, khen thưởng",
        "Danh sách đề nghị khen thưởng",
    ]
    for doc in nomination_doc.docs:
        assert doc.core_properties.subject == "HỒ SƠ ĐỀ NGHỊ KHEN THƯỞNG NĂM 2018"
        assert doc.core_properties.created.date().isoformat() == "2018-12-20"


# --- nomination --------------------------------------------------------------------------


def test_each_document_of_the_dossier_is_a_docx_of_its_own_numbered_from_one(nomination_doc):
    """Submission, minutes, list and the three achievement reports: six documents, each
    with its own first page (no number: titlePg) and its own numbering from 1."""
    assert nomination_doc.names == list(DOSSIER_PARTS)
    for doc in nomination_doc.docs:
        (section,) = doc.sections
        sect_pr = section._sectPr
        assert sect_pr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
        assert sect_pr.find(qn("w:titlePg")) is not None
    firsts = [next(p.text for p in doc.paragraphs if p.text) for doc in nomination_doc.docs]
    assert firsts == ["TỜ TRÌNH", "BIÊN BẢN", "DANH SÁCH", "BÁO CÁO", "BÁO CÁO", "BÁO CÁO"]
    submission, minutes = nomination_doc["01-to-trinh.docx"], nomination_doc["02-bien-ban.docx"]
    assert squash(submission.tables[0].rows[1].cells[0].text) == "Số 12-TTr/CTĐ4"
    assert squash(minutes.tables[0].rows[1].cells[0].text) == "Số 05-BB/CTĐ4"
    texts = [p.text for p in nomination_doc["03-danh-sach.docx"].paragraphs]
    assert "(Kèm theo Tờ trình số 12-TTr/CTĐ4 ngày 20/12/2018 của Cụm thi đua số 4)" in texts


def test_each_document_of_the_dossier_names_the_units_that_sign_it(nomination_parts):
    signers = {part.name: part.signers for part in nomination_parts}
    assert signers["01-to-trinh.docx"] == ("VPHU-MD",)  # the cluster head's submission
    assert len(signers["02-bien-ban.docx"]) == 8  # every member unit confirms the minutes
    assert signers["05-bao-cao-thanh-tich-2.docx"] == ("VPHU-UH",)  # the nominee's own head


def test_the_dossier_manifest_lists_every_document_by_hash(nomination_parts):
    manifest = documents.dossier_manifest(
        nomination_parts, reference_code="TD-KT-2018-00004-V1-7KQ3-M9XA", title="Hồ sơ"
    )
    body = json.loads(manifest)
    assert body["format"] == "thidua-dossier/1"
    assert body["reference_code"] == "TD-KT-2018-00004-V1-7KQ3-M9XA"
    assert [p["name"] for p in body["parts"]] == [p.name for p in nomination_parts]
    for listed, part in zip(body["parts"], nomination_parts, strict=True):
        assert listed["sha256"] == hashlib.sha256(part.docx).hexdigest()
        assert listed["size"] == len(part.docx)
        assert listed["signers"] == list(part.signers)
    assert manifest == json.dumps(
        body, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")
    again = documents.dossier_manifest(
        documents.render_dossier(samples.nomination_2018()),
        reference_code="TD-KT-2018-00004-V1-7KQ3-M9XA",
        title="Hồ sơ",
    )
    assert again == manifest


def test_a_dossier_manifest_refuses_names_that_are_not_portable_or_repeat(nomination_parts):
    first = nomination_parts[0]
    for parts in (
        (dataclasses.replace(first, name="../01-x.docx"),),
        (dataclasses.replace(first, name="01-Tờ.docx"),),
        (first, first),
        (),
    ):
        with pytest.raises(documents.DocumentError) as caught:
            documents.dossier_manifest(parts, reference_code="A-1", title="t")
        assert caught.value.field == "parts"


def test_a_nomination_is_rendered_as_a_dossier_and_a_pledge_as_one_document(pledge, nomination):
    with pytest.raises(documents.DocumentError, match="render_dossier") as caught:
        documents.render(nomination)
    assert caught.value.field == "kind"
    with pytest.raises(documents.DocumentError) as caught:
        documents.render_dossier(pledge)
    assert caught.value.field == "kind"


def test_minutes_record_the_votes_per_nominee(nomination_doc, nomination):
    table = table_with(nomination_doc, "Không biểu quyết")
    rows = [[squash(c.text) for c in r.cells] for r in table.rows]
    assert rows[0] == [
        "STT",
        "Tập thể, cá nhân",
        "Hình thức đề nghị",
        "Đồng ý",
        "Không đồng ý",
        "Không biểu quyết",
        "Tỷ lệ đồng ý",
    ]
    assert rows[1:] == [
        ["1", "Văn phòng Huyện ủy Mỹ Đức", samples.FLAG, "8", "0", "0", "100%"],
        ["2", "Văn phòng Huyện ủy Ứng Hòa", samples.MERIT, "7", "1", "0", "87,5%"],
        ["3", "Văn phòng Huyện ủy Phú Xuyên", samples.MERIT, "7", "0", "1", "87,5%"],
    ]
    text = "\n".join(p.text for p in nomination_doc.paragraphs)
    assert "Số phiếu phát ra: 08; số phiếu hợp lệ: 08" in text
    assert "bỏ phiếu kín" in text
    assert "Hội nghị nhất trí bầu Văn phòng Huyện ủy Ứng Hòa làm Cụm trưởng" in text


def test_minutes_are_signed_by_secretary_left_and_chair_right(nomination_doc):
    table = table_with(nomination_doc, "NGƯỜI GHI BIÊN BẢN")
    left, right = (squash(c.text) for c in table.rows[0].cells)
    assert left == "NGƯỜI GHI BIÊN BẢN Đinh Thị Mai"
    assert right == "CHỦ TRÌ HỘI NGHỊ Nguyễn Văn Hùng"
    grid = table_with(nomination_doc, "VĂN PHÒNG THỊ ỦY SƠN TÂY")
    assert len([c for r in grid.rows for c in r.cells]) == 8


def test_nominee_list_proposes_flag_for_rank_one_and_merit_for_two_and_three(nomination_doc):
    table = table_with(nomination_doc, "Số phiếu đồng ý")
    rows = [[squash(c.text) for c in r.cells] for r in table.rows]
    assert rows[1][0] == "TẬP THỂ"
    assert rows[2:] == [
        ["1", "Văn phòng Huyện ủy Mỹ Đức", samples.FLAG, "108,5", "8/8"],
        ["2", "Văn phòng Huyện ủy Ứng Hòa", samples.MERIT, "106", "7/8"],
        ["3", "Văn phòng Huyện ủy Phú Xuyên", samples.MERIT, "104,5", "7/8"],
    ]


def test_submission_is_signed_for_the_cluster_beside_the_recipients(nomination_doc):
    table = table_with(nomination_doc, "T/M CỤM THI ĐUA SỐ 4")
    left, right = (squash(c.text) for c in table.rows[0].cells)
    assert left.startswith("Nơi nhận: - Như trên,")
    assert left.endswith("- Lưu Văn phòng Huyện ủy.")
    assert right == "T/M CỤM THI ĐUA SỐ 4 CỤM TRƯỞNG Nguyễn Văn Hùng"
    texts = [p.text for p in nomination_doc.paragraphs]
    assert "Kính gửi: Hội đồng Thi đua – Khen thưởng các cơ quan Đảng Thành phố Hà Nội" in texts
    assert (
        "1. Đề nghị tặng Cờ thi đua của Ủy ban nhân dân Thành phố Hà Nội cho 01 tập thể: "
        "Văn phòng Huyện ủy Mỹ Đức."
    ) in texts


# --- determinism and the package -------------------------------------------------------------


def test_same_content_gives_identical_bytes(pledge_bytes, nomination_parts):
    assert documents.render(samples.pledge_2018()) == pledge_bytes
    assert documents.render_dossier(samples.nomination_2018()) == nomination_parts
    assert documents.render(samples.pledge_2019()) != pledge_bytes


def test_zip_entries_have_fixed_times_and_order(pledge_bytes):
    with zipfile.ZipFile(io.BytesIO(pledge_bytes)) as archive:
        infos = archive.infolist()
        assert archive.testzip() is None
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}  # no clock
    names = [i.filename for i in infos]
    assert names[:2] == ["[Content_Types].xml", "_rels/.rels"]
    assert "docProps/core.xml" in names
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    with zipfile.ZipFile(io.BytesIO(pledge_bytes)) as archive:
        xml = b"".join(archive.read(n) for n in names)
    assert b"rsid" not in xml


def test_text_is_nfc_even_when_typed_decomposed():
    import unicodedata

    content = samples.pledge_2018()
    decomposed = unicodedata.normalize("NFD", "Văn phòng Huyện ủy Ứng Hòa")
    units = list(content.member_units)
    units[1] = dataclasses.replace(units[1], name=decomposed)
    content = dataclasses.replace(content, member_units=tuple(units))
    assert content.member_units[1].name == unicodedata.normalize("NFC", decomposed)
    with zipfile.ZipFile(io.BytesIO(documents.render(content))) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert unicodedata.is_normalized("NFC", xml)
    assert "HUYỆN ỦY ỨNG HÒA" in xml


def test_pledge_2019_rotates_the_head():
    doc = read(documents.render(samples.pledge_2019()))
    grid = table_with(doc, "VĂN PHÒNG THỊ ỦY SƠN TÂY")
    assert "ỨNG HÒA" in grid.rows[0].cells[0].text
    assert "PHÚ XUYÊN" in grid.rows[0].cells[1].text
    assert squash(doc.tables[0].rows[1].cells[1].text) == "Ứng Hòa, ngày 15 tháng 3 năm 2019"


def test_a_deputy_signs_for_the_head_with_k_t():
    content = samples.pledge_2018()
    units = list(content.member_units)
    units[3] = dataclasses.replace(
        units[3], authority="K/T", signer_title="Phó Chánh Văn phòng", signer_name="Ngô Thị Hạnh"
    )
    doc = read(documents.render(dataclasses.replace(content, member_units=tuple(units))))
    grid = table_with(doc, "VĂN PHÒNG THỊ ỦY SƠN TÂY")
    cells = [squash(c.text) for r in grid.rows for c in r.cells]
    assert (
        "VĂN PHÒNG HUYỆN ỦY THƯỜNG TÍN K/T CHÁNH VĂN PHÒNG PHÓ CHÁNH VĂN PHÒNG Ngô Thị Hạnh"
        in cells
    )


def test_identical_bytes_in_fresh_processes_with_other_hash_seeds_and_time_zones():
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, dataclasses, documents; from documents import samples; "
        "n = dataclasses.replace(samples.nomination_2018(), profile='state'); "
        "print(hashlib.sha256(documents.render(samples.pledge_2018())).hexdigest(), "
        "[hashlib.sha256(p.docx).hexdigest() for p in "
        "documents.render_dossier(n, verify_url='https://td.example.vn/v?ref=A1')])"
    )
    outs = set()
    for seed, tz in (
        ("1", "UTC"),
        ("12345", "Asia/Ho_Chi_Minh"),
        ("random", "America/Los_Angeles"),
    ):
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": tz}
        outs.add(
            subprocess.run(
                [sys.executable, "-c", code],
                check=True,
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            ).stdout.strip()
        )
    assert len(outs) == 1


# --- corrections of issue 15: summary, its rule, the filing line -----------------------------


def _state(content):
    state = dataclasses.replace(content, profile="state")
    if isinstance(content, documents.NominationContent):
        return read_dossier(state)
    return read(documents.render(state))


def test_a_party_summary_opens_in_lower_case_and_a_state_one_in_upper(nomination_doc):
    summary = "đề nghị khen thưởng thành tích thi đua năm 2018"

    def first(doc):
        return next(p.text for p in doc.paragraphs if p.style.name == "TĐ Trích yếu")

    assert first(nomination_doc) == f"về việc {summary}"
    assert first(_state(samples.nomination_2018())) == f"Về việc {summary}"


def test_the_filing_line_is_written_the_profiles_way(pledge, pledge_doc):
    assert pledge_doc.paragraphs[-2].text == "- Lưu Văn phòng Huyện ủy."  # before the foot line
    state = _state(pledge)
    assert state.paragraphs[-2].text == "- Lưu: VT, Văn phòng Huyện ủy."
    assert state.paragraphs[-3].text == "- Các đơn vị thành viên Cụm thi đua số 4;"


@pytest.mark.parametrize("profile", ["party", "state"])
def test_the_rule_under_the_summary_is_centred_clear_of_it_and_sized_to_it(profile):
    content = dataclasses.replace(samples.nomination_2018(), profile=profile)
    paragraphs = read_dossier(content).paragraphs
    i = next(i for i, p in enumerate(paragraphs) if p.style.name == "TĐ Trích yếu")
    summary, rule = paragraphs[i], paragraphs[i + 1]
    assert rule.text == ""
    assert rule.style.name == "TĐ Đường kẻ dưới trích yếu"
    # A gap of at least 6 pt between the text and the line, so it never reads as an underline.
    assert fmt(rule, "space_before") >= Pt(6)
    assert fmt(rule, "line_spacing_rule") is not None  # a 2 pt high line, exact
    fmt_ = rule.paragraph_format
    assert fmt_.left_indent == fmt_.right_indent  # centred
    length = Mm(165) - fmt_.left_indent - fmt_.right_indent
    written = text_width_pt(summary.text, 14, bold=True) * 20 * 635  # EMU
    # Decree 30: one third to one half of the summary line's length, never a fixed 30 mm.
    assert written / 3 - Mm(1) <= length <= written / 2 + Mm(1)
    assert abs(length - Mm(30)) > Mm(2)


def _next_table(paragraph):
    """The first table after ``paragraph`` in the body, skipping spacer paragraphs."""
    node = paragraph._p.getnext()
    while node is not None and node.tag == qn("w:p"):
        style = node.pPr.find(qn("w:pStyle")).get(qn("w:val")) if node.pPr is not None else ""
        assert style in ("TDSpacer", "TDCaption"), style  # nothing else may come between
        assert node.pPr.find(qn("w:keepNext")) is not None or style == "TDCaption"
        node = node.getnext()
    return node


def test_closing_paragraphs_keep_with_the_signatures_whose_rows_never_split(pledge_doc, pledge):
    closing = _paragraph(pledge_doc, pledge.commitments[-1])
    assert closing.paragraph_format.keep_with_next
    caption = _paragraph(pledge_doc, "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC")
    assert fmt(caption, "keep_with_next")
    grid = _next_table(closing)
    assert grid is table_with(pledge_doc, "VĂN PHÒNG THỊ ỦY SƠN TÂY")._tbl
    assert all(tr.trPr.find(qn("w:cantSplit")) is not None for tr in grid.tr_lst)


def test_the_submissions_and_minutes_closing_keep_with_their_signatures(nomination_doc):
    for text, signer in (
        ("xem xét, quyết định./.", "T/M CỤM THI ĐUA SỐ 4"),
        ("nhất trí thông qua./.", "NGƯỜI GHI BIÊN BẢN"),
    ):
        closing = next(p for p in nomination_doc.paragraphs if p.text.endswith(text))
        assert closing.paragraph_format.keep_with_next
        assert _next_table(closing) is table_with(nomination_doc, signer)._tbl


def test_renders_in_threads_give_the_same_bytes(pledge_bytes, nomination_parts):
    """The template and the prototypes are shared by every render: none may see another's
    paragraphs."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [
        lambda: documents.render(samples.pledge_2018()),
        lambda: documents.render_dossier(samples.nomination_2018()),
    ] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        out = list(pool.map(lambda job: job(), jobs))
    assert out == [pledge_bytes, nomination_parts] * 8
