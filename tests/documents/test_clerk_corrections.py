"""Corrections a Party-office clerk asked for (issue 15), read back from the DOCX: the pledge
names its parties and how it is carried out, the grid marks the cluster head and deputy, and
the dossier prints who attended, who counted the ballots, what is attached and each nominee's
achievement report."""

from __future__ import annotations

import dataclasses

import documents
from documents import samples

from .conftest import read, read_dossier, squash, table_with


def _texts(content) -> list[str]:
    if isinstance(content, documents.NominationContent):
        return [p.text for p in read_dossier(content).paragraphs]
    return [p.text for p in read(documents.render(content)).paragraphs]


def test_the_pledge_lists_its_signing_units_before_the_contents(pledge):
    texts = _texts(pledge)
    intro = texts.index("Các đơn vị thành viên Cụm thi đua số 4 ký giao ước gồm:")
    listed = texts[intro + 1 : intro + 1 + len(pledge.member_units)]
    assert listed[0] == (
        "1. Văn phòng Huyện ủy Mỹ Đức (Cụm trưởng): đồng chí Nguyễn Văn Hùng, Chánh Văn phòng;"
    )
    assert listed[1].startswith("2. Văn phòng Huyện ủy Ứng Hòa (Cụm phó): ")
    assert listed[-1].endswith(".")
    assert intro < texts.index("I. NỘI DUNG THI ĐUA")


def test_the_pledge_says_how_it_is_carried_out(pledge):
    texts = _texts(pledge)
    heading = next(t for t in texts if t.endswith(". TỔ CHỨC THỰC HIỆN"))
    at = texts.index(heading)
    assert at < next(i for i, t in enumerate(texts) if t.endswith("CAM KẾT CỦA CÁC ĐƠN VỊ"))
    following = " ".join(texts[at + 1 : at + 4])
    assert "Đơn vị Cụm trưởng (Văn phòng Huyện ủy Mỹ Đức) chủ trì" in following
    assert "Sơ kết 6 tháng trong tháng 7/2018" in following
    assert "Tổng kết năm trong tháng 12/2018" in following


def test_a_pledge_without_an_implementation_section_prints_none(pledge):
    texts = _texts(dataclasses.replace(pledge, implementation=()))
    assert not any(t.endswith("TỔ CHỨC THỰC HIỆN") for t in texts)


def test_a_head_without_a_deputy_is_marked_and_its_row_stays_level(pledge):
    alone = dataclasses.replace(pledge, deputy_unit=None)
    grid = table_with(read(documents.render(alone)), "VĂN PHÒNG THỊ ỦY SƠN TÂY")
    head, partner = grid.rows[0].cells
    assert squash(head.text).startswith("VĂN PHÒNG HUYỆN ỦY MỸ ĐỨC (Cụm trưởng)")
    assert "Cụm phó" not in squash(partner.text)
    # The partner's title sits on the same line as the head's: an empty line for the mark.
    assert [p.text for p in partner.paragraphs][:2] == [
        "VĂN PHÒNG\nHUYỆN ỦY ỨNG HÒA",
        "",
    ]


def test_the_minutes_name_each_representative_and_the_counting_committee(nomination):
    texts = _texts(nomination)
    assert (
        "+ Văn phòng Huyện ủy Ứng Hòa: đồng chí Trần Thị Thu Hà, Chánh Văn phòng Huyện ủy Ứng Hòa;"
        in texts
    )
    at = texts.index("Hội nghị bầu Ban kiểm phiếu gồm các đồng chí:")
    assert (
        texts[at + 1] == "- Đồng chí Lê Minh Tuấn, Chánh Văn phòng Huyện ủy Phú Xuyên: Trưởng ban;"
    )
    assert texts[at + 4].startswith(
        "Ban kiểm phiếu báo cáo kết quả kiểm phiếu. Số phiếu phát ra: 08"
    )


def test_minutes_without_the_new_parts_read_as_before(nomination):
    meeting = dataclasses.replace(nomination.meeting, representatives=(), counting_committee=())
    texts = _texts(dataclasses.replace(nomination, meeting=meeting))
    assert any(
        t.startswith("- Đại biểu dự: đại diện lãnh đạo 08/08 đơn vị thành viên: Văn phòng")
        for t in texts
    )
    assert not any("Ban kiểm phiếu" in t for t in texts)


def test_the_submission_lists_what_it_sends(nomination):
    texts = _texts(nomination)
    at = texts.index("Hồ sơ kèm theo gồm:")
    assert texts[at + 1] == "1. Biên bản Hội nghị bình xét thi đua năm 2018 của Cụm thi đua số 4;"
    assert texts[at + 3].endswith("đề nghị khen thưởng.")
    assert texts[at + 4].endswith("xem xét, quyết định./.")


def test_each_nominee_has_its_achievement_report_signed_by_its_head(nomination):
    doc = read_dossier(nomination)
    texts = [p.text for p in doc.paragraphs]
    starts = [i for i, t in enumerate(texts) if t == "BÁO CÁO"]
    assert len(starts) == 3
    assert texts[starts[0] + 1] == (
        "thành tích đề nghị tặng Cờ thi đua của Ủy ban nhân dân Thành phố Hà Nội"
    )
    assert "III. CÁC HÌNH THỨC KHEN THƯỞNG ĐÃ ĐẠT" in texts[starts[1] :]
    header = table_with(doc, "Số 45-BC/VPHU")
    assert squash(header.rows[0].cells[0].text) == "HUYỆN ỦY MỸ ĐỨC VĂN PHÒNG *"
    signed = [squash(t.rows[0].cells[1].text) for t in doc.tables if len(t.rows) == 1]
    assert "CHÁNH VĂN PHÒNG Nguyễn Văn Hùng" in signed
    assert "CHÁNH VĂN PHÒNG Lê Minh Tuấn" in signed


def test_reports_follow_the_nominees_rank_not_their_order_in_the_content(nomination):
    reversed_reports = dataclasses.replace(
        nomination, achievement_reports=tuple(reversed(nomination.achievement_reports))
    )
    texts = _texts(reversed_reports)
    closings = [t for t in texts if t.startswith("Trên đây là báo cáo thành tích")]
    assert [c.split(" của ")[-1] for c in closings] == [
        "Văn phòng Huyện ủy Mỹ Đức./.",
        "Văn phòng Huyện ủy Ứng Hòa./.",
        "Văn phòng Huyện ủy Phú Xuyên./.",
    ]


def test_the_state_profile_signs_reports_the_same_way(nomination):
    state = dataclasses.replace(nomination, profile="state")
    texts = _texts(state)
    assert texts.count("BÁO CÁO") == 3
    assert samples.nomination_2018().achievement_reports[0].signer_name in " ".join(
        squash(c.text) for t in read_dossier(state).tables for r in t.rows for c in r.cells
    )
