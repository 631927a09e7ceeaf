"""The trigger table, the typed inputs and the order of the pipeline's steps."""

from __future__ import annotations

import ast
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.workflow.helpers import HEAD_2019, user
from workflow import models
from workflow.definitions import (
    DEFINITIONS,
    FINAL_STATES,
    FROZEN_STATES,
    REFERENCE_ALPHABET,
    STATE_LABELS,
    STATES,
    normalise_reference_code,
    reference_code,
    reference_random_part,
)
from workflow.errors import InvalidTransition, ValidationError
from workflow.inputs import TriggerInputs
from workflow.models import Credential, Document
from workflow.services import lifecycle
from workflow.values import parse_date, sha256_hex

SERVICES = Path(__file__).resolve().parents[2] / "workflow" / "services"


def test_every_trigger_of_every_definition_has_a_handler():
    missing = [
        (kind, version, trigger)
        for (kind, version), definition in DEFINITIONS.items()
        for trigger in definition.triggers
        if trigger not in lifecycle.HANDLERS
    ]
    assert missing == []
    # ... and the table holds nothing the definitions do not know.
    known = {t for d in DEFINITIONS.values() for t in d.triggers}
    assert set(lifecycle.HANDLERS) == known


def test_a_trigger_missing_from_the_table_is_refused_by_name(demo_session, demo):
    s = demo_session
    with pytest.raises(InvalidTransition, match="'publish' không tồn tại") as info:
        lifecycle.fire(s, user(s, HEAD_2019), demo.pledge_2019, "publish")
    assert info.value.details["trigger"] == "publish"
    assert info.value.details["state"] == "draft"


@pytest.mark.parametrize("trigger", ["archive", "complete_signing"])
def test_system_triggers_cannot_be_fired_by_people(demo_session, demo, trigger):
    s = demo_session
    with pytest.raises(InvalidTransition) as info:
        lifecycle.fire(s, user(s, "admin"), demo.pledge_2019, trigger)
    assert info.value.code == "system_trigger"
    assert s.get(Document, demo.pledge_2019).state == "draft"


def test_inputs_refuse_unknown_fields():
    with pytest.raises(TypeError, match="reson"):
        TriggerInputs(reson="typo")  # type: ignore[call-arg]
    inputs = TriggerInputs(reason="Lý do")
    with pytest.raises(AttributeError):
        inputs.reson = "typo"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reason", 5),
        ("pin", b"1234"),
        ("unit_code", ["VPHU-QO"]),
        ("expected_version", "x"),
        ("expected_version", True),
        ("override", "yes"),
        ("signature_der", "not bytes"),
        ("decision_date", "28/12/2018"),
    ],
)
def test_inputs_refuse_values_of_the_wrong_type_naming_the_field(field, value):
    with pytest.raises(ValidationError) as info:
        TriggerInputs(**{field: value})
    assert info.value.field == ("signature" if field == "signature_der" else field)
    inputs = TriggerInputs()
    with pytest.raises(ValidationError):  # also when set after construction
        setattr(inputs, field, value)


def test_inputs_read_what_forms_send():
    inputs = TriggerInputs(expected_version="7", decision_date="2018-12-28")
    assert inputs.expected_version == 7
    assert inputs.decision_date == date(2018, 12, 28)
    assert TriggerInputs(signature_der=bytearray(b"\x30\x00")).signature_der == b"\x30\x00"


def test_one_date_reader():
    assert parse_date("2018-12-28") == date(2018, 12, 28)
    assert parse_date(" 2018-12-28 ") == date(2018, 12, 28)
    assert parse_date(datetime(2018, 12, 28, 9, 30)) == date(2018, 12, 28)
    assert parse_date("") is None
    assert parse_date(None) is None
    for bad in ("28/12/2018", "20181228", "2018-02-30", "2018-W52-5", 20181228):
        with pytest.raises(ValidationError) as info:
            parse_date(bad, field="when")
        assert info.value.field == "when"


def test_one_sha256_hex():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_reference_codes_one_scheme_per_kind():
    assert reference_code("pledge", 2019, 3, 2, "7KQ3-M9XA") == "TD-GU-2019-00003-V2-7KQ3-M9XA"
    assert reference_code("nomination", 2018, 12, 1, "0000-ZZZZ") == (
        "TD-KT-2018-00012-V1-0000-ZZZZ"
    )


def test_reference_codes_carry_a_fresh_random_part_read_back_from_paper():
    parts = {reference_random_part() for _ in range(200)}
    assert len(parts) == 200
    for part in parts:
        first, second = part.split("-")
        assert len(first) == len(second) == 4
        assert set(first + second) <= set(REFERENCE_ALPHABET)
    assert not set("ILOU") & set(REFERENCE_ALPHABET)
    # Typed from paper: lower case, O for 0, I or L for 1 in the random part.
    assert normalise_reference_code(" td-gu-2019-00003-v2-7kq3-mo1x ") == (
        "TD-GU-2019-00003-V2-7KQ3-M01X"
    )
    assert normalise_reference_code("TD-GU-2019-00003-V2-IL00-OOOO") == (
        "TD-GU-2019-00003-V2-1100-0000"
    )
    # Codes printed before the random part existed are read as they were printed.
    assert normalise_reference_code("td-gu-2018-00001-v1") == "TD-GU-2018-00001-V1"


def test_a_refused_signature_costs_no_pin_try(demo_session, demo):
    """Checks come before work: signing a draft with a wrong PIN is refused for the state,
    and the credential's wrong-PIN counter does not move."""
    s = demo_session
    signer = user(s, "vphu-qo-signer")
    credential = s.scalar(select(Credential).where(Credential.user_id == signer.id))
    assert credential is not None
    before = credential.failed_pins
    with pytest.raises(InvalidTransition):
        lifecycle.fire(s, signer, demo.pledge_2019, "sign", TriggerInputs(pin="000000"))
    s.expire_all()
    assert s.get(Credential, credential.id).failed_pins == before


def test_a_refused_approval_opens_no_key(demo_session, demo):
    """The board approving a draft is refused for the state before the PIN is tried."""
    s = demo_session
    board = user(s, "board-approver")
    credential = s.scalar(select(Credential).where(Credential.user_id == board.id))
    assert credential is not None
    before = credential.failed_pins
    with pytest.raises(InvalidTransition):
        lifecycle.fire(
            s, board, demo.pledge_2019, "approve", TriggerInputs(pin="000000"), ca_secret=b"x"
        )
    s.expire_all()
    assert s.get(Credential, credential.id).failed_pins == before


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_content_rules_are_a_leaf_and_common_does_not_import_drafting():
    rules = _imported_modules(SERVICES / "content_rules.py")
    assert not {m for m in rules if m.startswith("workflow.services")}
    assert "workflow.services.drafting" not in _imported_modules(SERVICES / "_common.py")


def test_one_list_of_states_owned_by_the_definitions():
    assert models.DOCUMENT_STATES is STATES
    assert set(STATE_LABELS) == set(STATES)
    assert set(FROZEN_STATES) <= set(STATES)
    assert set(FINAL_STATES) <= set(STATES)
