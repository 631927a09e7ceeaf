"""What the nomination dossier records beyond the votes: who represented each unit at the
meeting, the vote-counting committee, the attachments of the submission and each nominee's
achievement report (issue 15: a clerk missed all four)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from documents import DocumentError, content_from_dict, content_to_dict, samples


@pytest.fixture
def data() -> dict[str, Any]:
    return copy.deepcopy(content_to_dict(samples.nomination_2018()))


def refusal(data: dict[str, Any]) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        content_from_dict(data)
    return caught.value


def test_the_sample_dossier_names_its_people_and_documents():
    nomination = samples.nomination_2018()
    assert len(nomination.meeting.representatives) == len(nomination.present_units) == 8
    assert [m.role_text for m in nomination.meeting.counting_committee] == [
        "Trưởng ban",
        "Thành viên",
        "Thành viên",
    ]
    assert "Báo cáo thành tích" in " ".join(nomination.submission.attachments)
    for nominee in nomination.nominees:
        report = nomination.report_for(nominee)
        assert report is not None
        unit = next(u for u in nomination.member_units if u.code == nominee.unit_code)
        assert (report.signer_name, report.signer_title) == (unit.signer_name, unit.signer_title)


def test_a_dossier_without_the_new_parts_still_loads(data):
    """Nominations stored before these fields existed keep opening."""
    for key in ("representatives", "counting_committee"):
        del data["meeting"][key]
    del data["submission"]["attachments"]
    del data["achievement_reports"]
    nomination = content_from_dict(data)
    assert nomination.achievement_reports == ()
    assert nomination.meeting.representatives == ()


def test_an_absent_unit_has_no_representative(data):
    data["meeting"]["absent_units"] = ["VPHU-TT"]
    error = refusal(data)
    assert error.field == "meeting.representatives[3].unit_code"
    assert "dự hội nghị" in error.reason


def test_a_unit_is_represented_once(data):
    data["meeting"]["representatives"][5]["unit_code"] = "VPHU-MD"
    assert refusal(data).field == "meeting.representatives[5].unit_code"


def test_a_show_of_hands_has_no_counting_committee(data):
    data["meeting"]["voting_method"] = "show_of_hands"
    error = refusal(data)
    assert error.field == "meeting.counting_committee"


@pytest.mark.parametrize(
    ("roles", "field"),
    [
        (["member", "member", "member"], "meeting.counting_committee"),
        (["head", "member", "head"], "meeting.counting_committee[2].role"),
    ],
)
def test_a_counting_committee_has_exactly_one_head(data, roles, field):
    for member, role in zip(data["meeting"]["counting_committee"], roles, strict=True):
        member["role"] = role
    assert refusal(data).field == field


def test_a_report_must_belong_to_a_nominee(data):
    data["achievement_reports"][1]["nominee_rank"] = 9
    assert refusal(data).field == "achievement_reports[1].nominee_rank"


def test_a_nominee_has_one_report(data):
    data["achievement_reports"][2]["nominee_rank"] = 1
    assert refusal(data).field == "achievement_reports[2].nominee_rank"


def test_a_report_is_written_before_the_submission_sends_it(data):
    data["achievement_reports"][0]["date"] = "2018-12-21"
    assert refusal(data).field == "achievement_reports[0].date"


def test_a_deputy_signs_a_report_for_the_head(data):
    report = data["achievement_reports"][0]
    report["signer_authority"] = "K/T"
    assert refusal(data).field == "achievement_reports[0].signer_authority"
    report["signer_title"] = "Phó Chánh Văn phòng"
    assert content_from_dict(data).achievement_reports[0].signer_authority == "K/T"
