"""The structured editor carries the dossier's new parts (representatives, vote-counting
committee, attachments, achievement reports) through a form and back unchanged."""

from __future__ import annotations

from typing import Any

from documents import content_from_dict, content_to_dict, samples
from web import content_form


def _fields(node: content_form.Node) -> dict[str, str]:
    """What a browser posts for the tree: one value per input, named by its path."""
    if node.kind == "group":
        out: dict[str, str] = {}
        for child in node.children:
            out.update(_fields(child))
        return out
    if node.kind == "list":
        out = {}
        for child in node.children:
            out.update(_fields(child))
        return out
    value = node.value
    return {node.path: "" if value is None else str(value)}


def _walk(node: content_form.Node) -> list[content_form.Node]:
    return [node, *(n for child in node.children for n in _walk(child))]


def test_the_dossier_goes_through_the_editor_unchanged(app):
    original: dict[str, Any] = content_to_dict(samples.nomination_2018())
    with app.test_request_context():
        tree = content_form.build(original)
        posted = _fields(tree)
        labels = {n.path: n.label for n in _walk(tree)}
        kinds = {n.path: n.kind for n in _walk(tree)}
    assert posted["meeting.representatives[2].position"] == "Chánh Văn phòng Huyện ủy Phú Xuyên"
    assert posted["meeting.counting_committee[0].role"] == "head"
    assert kinds["meeting.counting_committee[0].role"] == "select"
    assert posted["achievement_reports[0].nominee_rank"] == "1"
    assert kinds["achievement_reports[0].background[0]"] == "long"
    assert labels["achievement_reports"] == "Báo cáo thành tích"
    assert labels["meeting.counting_committee"] == "Ban kiểm phiếu"
    assert labels["meeting.representatives[0].position"] == "Chức vụ"
    assert labels["submission.attachments"] == "Hồ sơ kèm theo"
    rebuilt = content_form.parse(posted, original)
    assert content_to_dict(content_from_dict(rebuilt)) == original


def test_an_empty_dossier_part_can_grow_from_its_blank_row(app):
    original = content_to_dict(samples.nomination_2018())
    original["achievement_reports"] = []
    original["meeting"]["counting_committee"] = []
    with app.test_request_context():
        tree = content_form.build(original)
    nodes = {n.path: n for n in _walk(tree)}
    for path in ("achievement_reports", "meeting.counting_committee"):
        template = nodes[path].template
        assert template is not None, path
        assert template.kind == "group", path
