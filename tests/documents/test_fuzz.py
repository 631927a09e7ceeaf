"""Arbitrary text typed into any field either renders or raises DocumentError, nothing else."""

from __future__ import annotations

import copy
import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import documents
from documents import DocumentError, content_from_dict, content_to_dict, samples

PLEDGE = content_to_dict(samples.pledge_2018())
NOMINATION = content_to_dict(samples.nomination_2018())

PLEDGE_FIELDS = [
    "cluster_name",
    "place",
    "summary",
    "symbol",
    "issuer.name",
    "issuer.superior_body",
    "member_units[2].name",
    "member_units[0].signer_name",
    "member_units[7].signer_title",
    "member_units[1].code",
    "member_units[3].authority",
    "head_unit",
    "deputy_unit",
    "preamble[0]",
    "contents[1]",
    "targets[0]",
    "commitments[3]",
    "legal_bases[0]",
    "criteria.items[4].title",
    "criteria.bonus[0].title",
    "recipients[1]",
    "date",
    "number",
]
NOMINATION_FIELDS = [
    "submission.addressee",
    "submission.summary",
    "submission.request[1]",
    "submission.signer_name",
    "meeting.place",
    "meeting.chair_title",
    "meeting.discussion[0]",
    "meeting.start_time",
    "nominees[0].name",
    "nominees[1].award",
    "nominees[2].description",
    "nominees[0].score",
    "meeting.next_head_unit",
]

# Text from every plane, with the characters that break XML or layout well represented.
TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.text(
        alphabet="ăâđêôơưĂÂĐÊÔƠƯáàảãạ\u0300\u0301\u0303\u0309\u0323 <>&\"'\x00\t\n\u202e"
        "\ufeff\ud7ff\ue000\U0001f600",
        max_size=60,
    ),
    st.just("x" * 5000),
)


def _put(data: dict, path: str, value: object) -> None:
    keys = path.replace("]", "").replace("[", ".").split(".")
    target = data
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value


def _check(base: dict, path: str, text: str) -> None:
    data = copy.deepcopy(base)
    _put(data, path, text)
    try:
        content = content_from_dict(data)
        docx = documents.render(content)
    except DocumentError as exc:
        error: DocumentError | None = exc
    else:
        error = None
    if error is not None:
        assert error.field  # always names where the problem is
        return
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        assert archive.testzip() is None
    assert content_from_dict(content_to_dict(content)) == content


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PLEDGE_FIELDS), text=TEXT)
def test_pledge_fields_render_or_raise_document_error(path, text):
    _check(PLEDGE, path, text)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(NOMINATION_FIELDS), text=TEXT)
def test_nomination_fields_render_or_raise_document_error(path, text):
    _check(NOMINATION, path, text)


@settings(max_examples=40, deadline=None)
@given(text=st.text(min_size=1, max_size=80))
def test_rendered_text_reads_back_with_python_docx(text):
    data = copy.deepcopy(PLEDGE)
    data["member_units"][7]["signer_name"] = text
    try:
        content = content_from_dict(data)
    except DocumentError:
        return
    from .conftest import read, squash, table_with

    doc = read(documents.render(content))
    grid = table_with(doc, "VĂN PHÒNG THỊ ỦY SƠN TÂY")
    assert content.member_units[7].signer_name in [
        squash(c.paragraphs[-1].text) for r in grid.rows for c in r.cells
    ]
