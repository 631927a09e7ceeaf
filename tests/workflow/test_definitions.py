"""Every trigger, from every state, by every role: legal moves land where DESIGN.md says, and
every illegal one is refused with a reason (never the silent ``False`` of transitions)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import pytest

from workflow.definitions import (
    DEFINITIONS,
    FINAL_STATES,
    STATES,
    Facts,
    evaluate,
    fire_machine,
    mermaid,
)
from workflow.errors import GuardFailed, InvalidTransition

HEAD, MEMBER, OTHER_MEMBER, BOARD, OUTSIDER = 1, 2, 3, 90, 50
MEMBERS = frozenset({HEAD, MEMBER, OTHER_MEMBER})

ROLES: dict[str, frozenset[tuple[int, str]]] = {
    "head_drafter": frozenset({(HEAD, "drafter")}),
    "head_signer": frozenset({(HEAD, "signer")}),
    "member_signer": frozenset({(MEMBER, "signer")}),
    "member_drafter": frozenset({(MEMBER, "drafter"), (MEMBER, "reviewer")}),
    "board": frozenset({(BOARD, "board")}),
    "outsider_signer": frozenset({(OUTSIDER, "signer")}),
    "admin": frozenset(),
}
ACTING_UNIT = {"head_signer": HEAD, "member_signer": MEMBER, "outsider_signer": OUTSIDER}

# DESIGN.md's table, written out independently of workflow/definitions.py.
EXPECTED: dict[str, tuple[set[str], set[str], str | None]] = {
    "submit_for_review": ({"draft"}, {"head_drafter"}, "in_review"),
    "comment": (
        {"in_review"},
        {"head_drafter", "head_signer", "member_signer", "member_drafter"},
        None,
    ),
    "concur": ({"in_review"}, {"head_signer", "member_signer"}, None),
    "request_changes": ({"in_review"}, {"head_signer", "member_signer"}, None),
    "revise": ({"in_review"}, {"head_drafter"}, "draft"),
    "open_signing": ({"in_review"}, {"head_drafter"}, "signing"),
    "sign": ({"signing"}, {"head_signer", "member_signer"}, None),
    "decline": ({"signing"}, {"head_signer", "member_signer"}, "draft"),
    "submit": ({"signed"}, {"head_drafter", "head_signer"}, "submitted"),
    "approve": ({"submitted"}, {"board"}, "approved"),
    "return": ({"submitted"}, {"board"}, "draft"),
    "cancel": ({"draft", "in_review"}, {"head_drafter"}, "cancelled"),
}


@dataclass
class Doc:
    state: str


def facts(kind: str, state: str, role: str, **overrides: object) -> Facts:
    base = Facts(
        kind=kind,
        state=state,
        actor_roles=ROLES[role],
        head_unit_id=HEAD,
        board_unit_id=BOARD,
        member_unit_ids=MEMBERS,
        concurred_unit_ids=MEMBERS,
        signed_unit_ids=MEMBERS if state in {"signed", "submitted"} else frozenset(),
        unit_id=ACTING_UNIT.get(role),
        reason="Lý do cụ thể",
        decision_number="15/QĐ-HĐTĐKT",
        decision_date=date(2018, 12, 28),
    )
    for key, value in overrides.items():
        setattr(base, key, value)
    return base


CASES = list(itertools.product(("pledge", "nomination"), STATES, sorted(EXPECTED), sorted(ROLES)))


@pytest.mark.parametrize(("kind", "state", "trigger", "role"), CASES)
def test_every_trigger_from_every_state_by_every_role(
    kind: str, state: str, trigger: str, role: str
) -> None:
    sources, roles, dest = EXPECTED[trigger]
    definition = DEFINITIONS[(kind, 1)]
    doc = Doc(state)
    f = facts(kind, state, role)
    if state in sources and role in roles:
        fire_machine(definition, doc, trigger, f)
        assert doc.state == (dest or state)
        assert evaluate(definition, trigger, facts(kind, state, role), inputs=True) is None
        return
    expected_error = InvalidTransition if state not in sources else GuardFailed
    with pytest.raises(expected_error) as info:
        fire_machine(definition, doc, trigger, f)
    assert doc.state == state, "a refused trigger must not move the document"
    assert info.value.message.strip(), "every refusal carries a reason"
    assert evaluate(definition, trigger, facts(kind, state, role), inputs=False) is not None


def test_final_states_stay_final() -> None:
    for kind, state, trigger in itertools.product(
        ("pledge", "nomination"), sorted(FINAL_STATES), sorted(EXPECTED)
    ):
        doc = Doc(state)
        with pytest.raises(InvalidTransition) as info:
            fire_machine(DEFINITIONS[(kind, 1)], doc, trigger, facts(kind, state, "admin"))
        assert info.value.code == "final_state"
        assert doc.state == state


def test_the_last_signature_moves_to_signed_and_others_do_not() -> None:
    definition = DEFINITIONS[("pledge", 1)]
    doc = Doc("signing")
    fire_machine(definition, doc, "sign", facts("pledge", "signing", "member_signer"))
    assert doc.state == "signing"
    last = facts("pledge", "signing", "member_signer", signed_unit_ids=MEMBERS - {MEMBER})
    fire_machine(definition, doc, "sign", last)
    assert doc.state == "signed"


def test_a_unit_cannot_sign_twice_and_a_signer_only_for_their_own_unit() -> None:
    definition = DEFINITIONS[("pledge", 1)]
    twice = facts("pledge", "signing", "member_signer", signed_unit_ids=frozenset({MEMBER}))
    with pytest.raises(GuardFailed, match="đã ký"):
        fire_machine(definition, Doc("signing"), "sign", twice)
    # A signer of MEMBER acting for OTHER_MEMBER.
    other = facts("pledge", "signing", "member_signer", unit_id=OTHER_MEMBER)
    with pytest.raises(GuardFailed) as info:
        fire_machine(definition, Doc("signing"), "sign", other)
    assert info.value.guard == "is_member_signer"


@pytest.mark.parametrize("trigger", ["request_changes", "decline", "return", "cancel"])
def test_rejections_need_a_reason(trigger: str) -> None:
    sources, roles, _dest = EXPECTED[trigger]
    state, role = sorted(sources)[0], sorted(roles)[0]
    for blank in (None, "", "   "):
        f = facts("pledge", state, role, reason=blank)
        with pytest.raises(GuardFailed) as info:
            fire_machine(DEFINITIONS[("pledge", 1)], Doc(state), trigger, f)
        assert info.value.guard == "reason_given"


def test_open_signing_needs_every_concurrence_or_an_override_with_reason() -> None:
    definition = DEFINITIONS[("pledge", 1)]
    partial = {"concurred_unit_ids": frozenset({HEAD})}
    with pytest.raises(GuardFailed, match="chưa nhất trí"):
        fire_machine(
            definition,
            Doc("in_review"),
            "open_signing",
            facts("pledge", "in_review", "head_drafter", **partial),
        )
    with pytest.raises(GuardFailed):
        fire_machine(
            definition,
            Doc("in_review"),
            "open_signing",
            facts("pledge", "in_review", "head_drafter", override=True, reason="", **partial),
        )
    doc = Doc("in_review")
    fire_machine(
        definition,
        doc,
        "open_signing",
        facts("pledge", "in_review", "head_drafter", override=True, **partial),
    )
    assert doc.state == "signing"


def test_nomination_approval_needs_a_decision_but_a_pledge_does_not() -> None:
    for kind, ok in (("nomination", False), ("pledge", True)):
        doc = Doc("submitted")
        f = facts(kind, "submitted", "board", decision_number=None, decision_date=None)
        if ok:
            fire_machine(DEFINITIONS[(kind, 1)], doc, "approve", f)
            assert doc.state == "approved"
        else:
            with pytest.raises(GuardFailed, match="quyết định"):
                fire_machine(DEFINITIONS[(kind, 1)], doc, "approve", f)


def test_concur_once_per_unit_and_version() -> None:
    f = facts("pledge", "in_review", "member_signer", decided_unit_ids=frozenset({MEMBER}))
    with pytest.raises(GuardFailed, match="đã cho ý kiến"):
        fire_machine(DEFINITIONS[("pledge", 1)], Doc("in_review"), "concur", f)


def test_incomplete_content_blocks_review() -> None:
    f = facts("pledge", "draft", "head_drafter", content_problem="Thiếu căn cứ.")
    with pytest.raises(GuardFailed, match="Thiếu căn cứ"):
        fire_machine(DEFINITIONS[("pledge", 1)], Doc("draft"), "submit_for_review", f)


def test_unknown_trigger_and_system_trigger() -> None:
    definition = DEFINITIONS[("pledge", 1)]
    with pytest.raises(InvalidTransition):
        fire_machine(definition, Doc("draft"), "to_archived", facts("pledge", "draft", "admin"))
    assert "archive" not in definition.user_triggers
    assert "to_archived" not in definition.machine.events  # auto_transitions is off


def test_machines_hold_no_documents() -> None:
    for definition in DEFINITIONS.values():
        fire_machine(
            definition,
            Doc("draft"),
            "submit_for_review",
            facts(definition.kind, "draft", "head_drafter"),
        )
        assert definition.machine.models == []


def test_mermaid_diagram_comes_from_the_definition() -> None:
    text = mermaid(DEFINITIONS[("pledge", 1)])
    assert text.startswith("stateDiagram-v2")
    for spec in DEFINITIONS[("pledge", 1)].transitions:
        for source in spec.source:
            assert f"{source} --> {spec.dest or source}: {spec.trigger}" in text
