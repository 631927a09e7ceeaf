"""Content validation, NFC and the dict round trip used by the workflow and the web editor."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import unicodedata

import pytest

import documents
from documents import (
    DocumentError,
    MemberUnit,
    content_from_dict,
    content_to_dict,
    samples,
)

SAMPLES = {
    "pledge_2018": samples.pledge_2018,
    "nomination_2018": samples.nomination_2018,
    "pledge_2019": samples.pledge_2019,
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_round_trip_through_json_is_exact(name):
    content = SAMPLES[name]()
    data = content_to_dict(content)
    assert data["kind"] == content.kind
    again = content_from_dict(json.loads(json.dumps(data, ensure_ascii=False)))
    assert again == content
    assert content_to_dict(again) == data
    render = (
        documents.render_dossier
        if isinstance(content, documents.NominationContent)
        else documents.render
    )
    assert render(again) == render(content)


def test_interface_attributes(pledge, nomination):
    assert (pledge.kind, pledge.year, pledge.profile) == ("pledge", 2018, "party")
    assert pledge.title == "GIAO ƯỚC THI ĐUA NĂM 2018"
    assert nomination.kind == "nomination"
    assert nomination.title.endswith("NĂM 2018")
    assert all(isinstance(u, MemberUnit) for u in nomination.member_units)


def test_samples_follow_the_hanoi_cluster(pledge, nomination):
    codes = [u.code for u in pledge.member_units]
    assert codes == [
        "VPHU-MD",
        "VPHU-UH",
        "VPHU-PX",
        "VPHU-TT",
        "VPHU-TO",
        "VPHU-CM",
        "VPHU-QO",
        "VPTU-ST",
    ]
    assert (pledge.head_unit, pledge.deputy_unit) == ("VPHU-MD", "VPHU-UH")
    assert samples.pledge_2019().head_unit == "VPHU-UH"
    assert pledge.date == dt.date(2018, 3, 31)
    assert pledge.criteria.total == 100
    assert pledge.criteria.bonus_cap == 10
    assert sum(c.max_points for c in pledge.criteria.items) == 100
    ranks = sorted(nomination.nominees, key=lambda n: n.rank)
    assert ranks[0].award.startswith("Cờ thi đua")
    assert all(n.award.startswith("Bằng khen") for n in ranks[1:3])
    assert pledge.legal_bases[:4] == documents.LEGAL_BASES_2018
    for content in (pledge, nomination):
        text = json.dumps(content_to_dict(content), ensure_ascii=False)
        assert unicodedata.is_normalized("NFC", text)


def test_legal_bases_are_data_for_the_year():
    assert documents.legal_bases_for(2018) == documents.LEGAL_BASES_2018
    assert documents.legal_bases_for(2024) == documents.LEGAL_BASES_2024
    assert any("98/2023/NĐ-CP" in b for b in documents.LEGAL_BASES_2024)
    assert not any("91/2017" in b for b in documents.LEGAL_BASES_2024)


def test_form_strings_are_accepted(nomination):
    data = content_to_dict(nomination)
    data["year"] = "2018"
    data["nominees"][0]["score"] = "108,5"
    data["nominees"][0]["votes"]["in_favour"] = "8"
    data["submission"]["number"] = ""
    parsed = content_from_dict(data)
    assert parsed.year == 2018
    assert parsed.nominees[0].score == 108.5
    assert parsed.submission.number is None
    assert parsed.nominees[0].votes.in_favour == 8


def test_text_is_normalised():
    unit = MemberUnit(
        "VPHU-MD",
        unicodedata.normalize("NFD", "  Văn  phòng Huyện ủy Mỹ Đức "),
        "Chánh Văn phòng",
        "Nguyễn\u00a0Văn Hùng",
    )
    assert unit.name == "Văn phòng Huyện ủy Mỹ Đức"
    assert unicodedata.is_normalized("NFC", unit.name)
    assert unit.signer_name == "Nguyễn Văn Hùng"


def test_legal_bases_lose_typed_end_punctuation(pledge):
    changed = dataclasses.replace(pledge, legal_bases=("Căn cứ Luật Thi đua, khen thưởng;",))
    assert changed.legal_bases == ("Căn cứ Luật Thi đua, khen thưởng",)


# Each case: a change to the sample's dict, and the field the error must name.
def _set(path, value):
    def apply(data):
        target = data
        keys = path.replace("]", "").replace("[", ".").split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if value is _DELETE:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return apply


_DELETE = object()

PLEDGE_CASES = [
    ("missing field", _set("cluster_name", _DELETE), "cluster_name"),
    ("empty field", _set("place", "   "), "place"),
    ("no member units", _set("member_units", []), "member_units"),
    ("points do not add up", _set("criteria.items[0].max_points", 25), "criteria.total"),
    ("declared total wrong", _set("criteria.total", 90), "criteria.total"),
    (
        "bonus over its cap",
        _set("criteria.bonus[1].max_points", 11),
        "criteria.bonus[1].max_points",
    ),
    ("zero points", _set("criteria.items[2].max_points", 0), "criteria.items[2].max_points"),
    (
        "control character",
        _set("member_units[3].name", "Văn phòng\x07 Huyện ủy"),
        "member_units[3].name",
    ),
    (
        "newline in a name",
        _set("member_units[2].signer_name", "Lê Minh\nTuấn"),
        "member_units[2].signer_name",
    ),
    (
        "bidi override",
        _set("member_units[0].signer_name", "Nguyễn \u202eVăn Hùng"),
        "member_units[0].signer_name",
    ),
    ("private-use character", _set("summary", "Cụm \ue000"), "summary"),
    ("absurd length", _set("preamble[0]", "thi đua " * 2000), "preamble[0]"),
    ("too many items", _set("contents", ["nội dung"] * 500), "contents"),
    ("megabytes of text", _set("place", "Mỹ Đức" * 1_000_000), "place"),
    ("thousands of units", _set("member_units", [{}] * 5000), "member_units"),
    ("duplicate unit code", _set("member_units[1].code", "VPHU-MD"), "member_units[1].code"),
    (
        "duplicate unit name",
        _set("member_units[4].name", "Văn phòng Huyện ủy Mỹ Đức"),
        "member_units[4].name",
    ),
    ("bad unit code", _set("member_units[5].code", "vphu cm"), "member_units[5].code"),
    ("bad authority", _set("member_units[0].authority", "Thay mặt"), "member_units[0].authority"),
    ("K/T by a head", _set("member_units[0].authority", "K/T"), "member_units[0].authority"),
    ("head not a member", _set("head_unit", "VPHU-XX"), "head_unit"),
    ("deputy equals head", _set("deputy_unit", "VPHU-MD"), "deputy_unit"),
    ("unknown field", _set("signature_colour", "blue"), "signature_colour"),
    ("unknown nested field", _set("member_units[0].seal", "red"), "member_units[0].seal"),
    ("year not a number", _set("year", "hai nghìn"), "year"),
    ("year absurd", _set("year", 18), "year"),
    ("impossible date", _set("date", "2018-02-30"), "date"),
    ("date outside the year", _set("date", "2016-03-31"), "date"),
    ("symbol with a space", _set("symbol", "GU / CTĐ4"), "symbol"),
    ("number negative", _set("number", -5), "number"),
    ("unknown profile", _set("profile", "fancy"), "profile"),
    ("text where a list belongs", _set("contents", "một nội dung"), "contents"),
    ("number where text belongs", _set("place", 42), "place"),
    ("object where a list belongs", _set("member_units", {"code": "VPHU-MD"}), "member_units"),
    ("list where an object belongs", _set("criteria", []), "criteria"),
    (
        "missing nested field",
        _set("member_units[6].signer_name", _DELETE),
        "member_units[6].signer_name",
    ),
    ("empty legal basis", _set("legal_bases[1]", ";"), "legal_bases[1]"),
]


@pytest.mark.parametrize(
    ("case", "change", "field"), PLEDGE_CASES, ids=[c[0] for c in PLEDGE_CASES]
)
def test_bad_pledge_input_names_the_field(pledge, case, change, field):
    data = copy.deepcopy(content_to_dict(pledge))
    change(data)
    with pytest.raises(DocumentError) as caught:
        content_from_dict(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert isinstance(caught.value, ValueError)


NOMINATION_CASES = [
    ("votes do not match valid ballots", _set("nominees[1].votes.against", 3), "nominees[1].votes"),
    ("negative votes", _set("nominees[0].votes.abstain", -1), "nominees[0].votes.abstain"),
    ("valid ballots above issued", _set("meeting.ballots_valid", 9), "meeting.ballots_valid"),
    ("meeting ends before it starts", _set("meeting.end_time", "07:30"), "meeting.end_time"),
    ("bad clock time", _set("meeting.start_time", "8h"), "meeting.start_time"),
    ("unknown voting method", _set("meeting.voting_method", "hô to"), "meeting.voting_method"),
    ("absent unit unknown", _set("meeting.absent_units", ["VPHU-XX"]), "meeting.absent_units[0]"),
    ("next head unknown", _set("meeting.next_head_unit", "VPHU-XX"), "meeting.next_head_unit"),
    ("submission before meeting", _set("submission.date", "2018-12-01"), "submission.date"),
    ("duplicate rank", _set("nominees[2].rank", 1), "nominees[2].rank"),
    ("nominee unit unknown", _set("nominees[0].unit_code", "VPHU-XX"), "nominees[0].unit_code"),
    ("score with three decimals", _set("nominees[0].score", 100.125), "nominees[0].score"),
    ("score not a number", _set("nominees[0].score", "nhiều"), "nominees[0].score"),
    ("nominee kind unknown", _set("nominees[0].kind", "group"), "nominees[0].kind"),
    ("no nominees", _set("nominees", []), "nominees"),
    ("missing submission", _set("submission", _DELETE), "submission"),
    (
        "control character in request",
        _set("submission.request[0]", "Năm 2018\x00"),
        "submission.request[0]",
    ),
    ("meeting in another year", _set("meeting.date", "2020-12-18"), "meeting.date"),
]


@pytest.mark.parametrize(
    ("case", "change", "field"), NOMINATION_CASES, ids=[c[0] for c in NOMINATION_CASES]
)
def test_bad_nomination_input_names_the_field(nomination, case, change, field):
    data = copy.deepcopy(content_to_dict(nomination))
    change(data)
    with pytest.raises(DocumentError) as caught:
        content_from_dict(data)
    assert caught.value.field == field


@pytest.mark.parametrize("data", [None, [], "pledge", {"kind": "memo"}, {}])
def test_not_content_at_all(data):
    with pytest.raises(DocumentError) as caught:
        content_from_dict(data)
    assert caught.value.field == "kind"


def test_direct_construction_validates_too(pledge):
    with pytest.raises(DocumentError) as caught:
        dataclasses.replace(pledge, member_units=())
    assert caught.value.field == "member_units"
    with pytest.raises(DocumentError) as caught:
        MemberUnit("VPHU-MD", "", "Chánh Văn phòng", "Nguyễn Văn Hùng")
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reference_code": "bad code with spaces"}, "reference_code"),
        ({"reference_code": "x"}, "reference_code"),
        ({"verify_url": "javascript:alert(1)"}, "verify_url"),
        ({"verify_url": "https://thidua.vn/verify?ref=a b"}, "verify_url"),
    ],
)
def test_render_rejects_bad_reference_and_url(pledge, kwargs, field):
    with pytest.raises(DocumentError) as caught:
        documents.render(pledge, **kwargs)
    assert caught.value.field == field


def test_render_rejects_other_objects():
    with pytest.raises(DocumentError) as caught:
        documents.render({"kind": "pledge"})  # type: ignore[arg-type]
    assert caught.value.field == "kind"
