"""Workflow definitions as data: the pledge and nomination life cycles of DESIGN.md.

Each (kind, definition version) gets one module-level ``transitions.Machine`` built at import
(``model=None``, ``auto_transitions=False``, ``send_event=True``), fired with
``machine.events[name].trigger(document, facts=...)``. The machine never owns a document and
never rolls anything back: the database transaction does.

Guards are pure functions of a ``Facts`` snapshot the service assembles from the database and
the request. A guard returns ``None`` when satisfied, or the reason (Vietnamese) it is not;
``fire_machine`` turns a refused trigger into ``GuardFailed`` with the first reason, because
``transitions`` itself only returns ``False``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from transitions import Machine, MachineError

from documents import KIND_CODES
from workflow.errors import GuardFailed, InvalidTransition

STATES: tuple[str, ...] = (
    "draft",
    "in_review",
    "signing",
    "signed",
    "submitted",
    "approved",
    "archived",
    "cancelled",
)
FINAL_STATES: frozenset[str] = frozenset({"archived", "cancelled"})
# From signing on, a document has a frozen version: the bytes its signatures cover.
FROZEN_STATES: tuple[str, ...] = ("signing", "signed", "submitted", "approved", "archived")

STATE_LABELS: dict[str, str] = {
    "draft": "Dự thảo",
    "in_review": "Đang góp ý",
    "signing": "Đang ký",
    "signed": "Đã ký đủ",
    "submitted": "Đã trình",
    "approved": "Đã phê duyệt",
    "archived": "Đã lưu trữ",
    "cancelled": "Đã hủy",
}


@dataclass
class Facts:
    """Everything a guard may look at: a snapshot, so guards stay pure and testable.

    ``unit_id`` is the member unit the actor acts for (signers, reviewers), resolved by the
    service. ``failures`` collects the reasons of failed guards during one firing.
    """

    kind: str
    state: str
    actor_roles: frozenset[tuple[int, str]]
    head_unit_id: int
    board_unit_id: int
    member_unit_ids: frozenset[int]
    content_problem: str | None = None
    concurred_unit_ids: frozenset[int] = frozenset()
    decided_unit_ids: frozenset[int] = frozenset()
    signed_unit_ids: frozenset[int] = frozenset()
    unit_id: int | None = None
    reason: str | None = None
    override: bool = False
    decision_number: str | None = None
    decision_date: date | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)

    def has_role(self, unit_id: int | None, role: str) -> bool:
        return unit_id is not None and (unit_id, role) in self.actor_roles

    def in_unit(self, unit_id: int) -> bool:
        return any(u == unit_id for u, _ in self.actor_roles)


Guard = Callable[[Facts], str | None]


def _reason_text(reason: str | None) -> str:
    return (reason or "").strip()


# --- guards ---------------------------------------------------------------------------------


def is_head_drafter(f: Facts) -> str | None:
    if f.has_role(f.head_unit_id, "drafter"):
        return None
    return "Chỉ chuyên viên soạn thảo của đơn vị cụm trưởng được thực hiện thao tác này."


def content_complete(f: Facts) -> str | None:
    return f.content_problem


def is_cluster_member(f: Facts) -> str | None:
    if any(f.in_unit(u) for u in f.member_unit_ids | {f.head_unit_id}):
        return None
    return "Chỉ cán bộ của các đơn vị thành viên cụm được góp ý."


def is_member_signer(f: Facts) -> str | None:
    if f.unit_id is not None and f.unit_id in f.member_unit_ids and f.has_role(f.unit_id, "signer"):
        return None
    return "Chỉ lãnh đạo (người ký) của một đơn vị thành viên được thực hiện thao tác này."


def unit_not_decided(f: Facts) -> str | None:
    if f.unit_id not in f.decided_unit_ids:
        return None
    return "Đơn vị đã cho ý kiến về phiên bản này."


def reason_given(f: Facts) -> str | None:
    if _reason_text(f.reason):
        return None
    return "Cần nêu lý do."


def all_concurred_or_override(f: Facts) -> str | None:
    missing = f.member_unit_ids - f.concurred_unit_ids
    if not missing:
        return None
    if f.override and _reason_text(f.reason):
        return None
    return (
        f"Còn {len(missing)} đơn vị chưa nhất trí với dự thảo; "
        "chỉ mở ký khi mọi đơn vị nhất trí, hoặc khi nêu lý do để mở ký ngoại lệ."
    )


def unit_not_signed(f: Facts) -> str | None:
    if f.unit_id not in f.signed_unit_ids:
        return None
    return "Đơn vị đã ký văn bản này."


def is_submitter(f: Facts) -> str | None:
    if f.has_role(f.head_unit_id, "drafter") or f.has_role(f.head_unit_id, "signer"):
        return None
    return "Chỉ chuyên viên hoặc lãnh đạo của đơn vị cụm trưởng được trình văn bản."


def is_board(f: Facts) -> str | None:
    if f.has_role(f.board_unit_id, "board"):
        return None
    return "Chỉ Ban Thi đua – Khen thưởng phụ trách cụm được thực hiện thao tác này."


def decision_given(f: Facts) -> str | None:
    if f.kind != "nomination":
        return None
    if (f.decision_number or "").strip() and f.decision_date is not None:
        return None
    return "Phê duyệt hồ sơ khen thưởng cần số và ngày của quyết định."


def all_members_signed(f: Facts) -> str | None:
    if f.member_unit_ids <= f.signed_unit_ids:
        return None
    return "Chưa đủ chữ ký của các đơn vị thành viên."


# Guards that depend on what the request carries (a reason, a decision...) rather than on who
# acts and what is stored: the UI asks for these inputs, so allowed_triggers skips them.
INPUT_GUARDS: frozenset[Guard] = frozenset(
    {reason_given, all_concurred_or_override, decision_given}
)


def _completes_signing(f: Facts) -> bool:
    """Branch selector for ``sign``: does this signature make the set complete?"""
    signed = f.signed_unit_ids | ({f.unit_id} if f.unit_id is not None else set())
    return f.member_unit_ids <= signed


# --- definitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    source: tuple[str, ...]
    dest: str | None  # None: an internal transition, the state does not change
    guards: tuple[Guard, ...]
    label: str
    needs_reason: bool = False
    system: bool = False  # fired by the engine inside another use case, never offered to users
    branch: Callable[[Facts], bool] | None = None


# The reference code printed on a frozen version and looked up by the public verification
# page: TD-<kind>-<year>-<document id>-V<version>-<random part>, one kind code per document kind.
# The random part (8 characters, 40 random bits, in two groups of four) is what keeps the public
# page from answering for codes nobody holds on paper: the rest of a code is guessable from
# any other. Its alphabet is Crockford's base 32 (no I, L, O, U), so a code copied from paper
# by hand reads back the same (normalise_reference_code). Versions frozen before it
# existed keep their shorter codes.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_RANDOM_LENGTH = 8
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RANDOM_CODE = re.compile(r"(TD-[A-Z]{2}-\d{4}-\d{5,}-V\d+-)([0-9A-Z]{4})-([0-9A-Z]{4})")


def reference_random_part() -> str:
    """A fresh random part of a reference code, e.g. ``7KQ3-M9XA``."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_RANDOM_LENGTH))
    half = REFERENCE_RANDOM_LENGTH // 2
    return f"{chars[:half]}-{chars[half:]}"


def reference_code(
    kind: str, year: int, document_id: int, version_number: int, random_part: str
) -> str:
    """E.g. ``TD-GU-2019-00003-V2-7KQ3-M9XA`` for version 2 of pledge 3 of 2019."""
    return f"TD-{KIND_CODES[kind]}-{year}-{document_id:05d}-V{version_number}-{random_part}"


def normalise_reference_code(text: str) -> str:
    """A reference code as typed from paper, in the form it was printed: upper case, and in
    the random part O read as 0 and I, L as 1 (letters its alphabet leaves out)."""
    code = text.strip().upper()
    match = _RANDOM_CODE.fullmatch(code)
    if match is None:
        return code
    prefix, first, second = match.groups()
    return f"{prefix}{first.translate(_MISREAD)}-{second.translate(_MISREAD)}"


@dataclass(frozen=True)
class Definition:
    kind: str
    version: int
    transitions: tuple[TransitionSpec, ...]
    machine: Machine = field(compare=False, repr=False)

    @property
    def triggers(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.transitions:
            seen.setdefault(t.trigger, None)
        return list(seen)

    @property
    def user_triggers(self) -> list[str]:
        return [t for t in self.triggers if not self.specs(t)[0].system]

    def specs(self, trigger: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if t.trigger == trigger]

    def label(self, trigger: str) -> str:
        specs = self.specs(trigger)
        return specs[0].label if specs else trigger

    def needs_reason(self, trigger: str) -> bool:
        return any(t.needs_reason for t in self.specs(trigger))


def _not(branch: Callable[[Facts], bool]) -> Callable[[Facts], bool]:
    return lambda f: not branch(f)


def _common_transitions(kind: str) -> tuple[TransitionSpec, ...]:
    approve_guards: tuple[Guard, ...] = (is_board,)
    if kind == "nomination":
        approve_guards = (is_board, decision_given)
    return (
        TransitionSpec(
            "submit_for_review",
            ("draft",),
            "in_review",
            (is_head_drafter, content_complete),
            "Gửi góp ý",
        ),
        TransitionSpec("comment", ("in_review",), None, (is_cluster_member,), "Góp ý"),
        TransitionSpec(
            "concur", ("in_review",), None, (is_member_signer, unit_not_decided), "Nhất trí"
        ),
        TransitionSpec(
            "request_changes",
            ("in_review",),
            None,
            (is_member_signer, unit_not_decided, reason_given),
            "Đề nghị sửa",
            needs_reason=True,
        ),
        TransitionSpec("revise", ("in_review",), "draft", (is_head_drafter,), "Chỉnh sửa lại"),
        TransitionSpec(
            "open_signing",
            ("in_review",),
            "signing",
            (is_head_drafter, content_complete, all_concurred_or_override),
            "Mở ký",
        ),
        TransitionSpec(
            "sign",
            ("signing",),
            "signed",
            (is_member_signer, unit_not_signed),
            "Ký",
            branch=_completes_signing,
        ),
        TransitionSpec(
            "sign",
            ("signing",),
            None,
            (is_member_signer, unit_not_signed),
            "Ký",
            branch=_not(_completes_signing),
        ),
        TransitionSpec(
            "decline",
            ("signing",),
            "draft",
            (is_member_signer, reason_given),
            "Từ chối ký",
            needs_reason=True,
        ),
        TransitionSpec(
            "submit", ("signed",), "submitted", (is_submitter, all_members_signed), "Trình"
        ),
        TransitionSpec("approve", ("submitted",), "approved", approve_guards, "Phê duyệt"),
        TransitionSpec("archive", ("approved",), "archived", (), "Lưu trữ", system=True),
        # The sweeper's repair path; the signing join itself moves documents through "sign".
        TransitionSpec(
            "complete_signing",
            ("signing",),
            "signed",
            (all_members_signed,),
            "Hoàn tất ký",
            system=True,
        ),
        TransitionSpec(
            "return",
            ("submitted",),
            "draft",
            (is_board, reason_given),
            "Trả lại",
            needs_reason=True,
        ),
        TransitionSpec(
            "cancel",
            ("draft", "in_review"),
            "cancelled",
            (is_head_drafter, reason_given),
            "Hủy",
            needs_reason=True,
        ),
    )


def _condition(guard: Guard) -> Callable[[Any], bool]:
    """Adapt a pure guard to a transitions condition that records why it refused."""

    def check(event: Any) -> bool:
        facts: Facts = event.kwargs["facts"]
        reason = guard(facts)
        if reason is not None:
            facts.failures.append((guard.__name__, reason))
            return False
        return True

    check.__name__ = guard.__name__
    return check


def _branch_condition(branch: Callable[[Facts], bool]) -> Callable[[Any], bool]:
    return lambda event: branch(event.kwargs["facts"])


def build_machine(transitions: tuple[TransitionSpec, ...], name: str) -> Machine:
    config = []
    for spec in transitions:
        conditions = [_condition(g) for g in spec.guards]
        if spec.branch is not None:
            conditions.append(_branch_condition(spec.branch))
        config.append(
            {
                "trigger": spec.trigger,
                "source": list(spec.source),
                "dest": spec.dest,
                "conditions": conditions,
            }
        )
    states = [{"name": s, "final": s in FINAL_STATES} for s in STATES]
    return Machine(
        model=None,
        states=states,
        transitions=config,
        initial=None,
        auto_transitions=False,
        send_event=True,
        model_attribute="state",
        name=name,
    )


def _definition(kind: str, version: int) -> Definition:
    specs = _common_transitions(kind)
    return Definition(kind, version, specs, build_machine(specs, f"{kind}-v{version}"))


# (kind, definition version) -> definition. A new version is added, never edited in place:
# documents in flight keep the version they started with.
DEFINITIONS: dict[tuple[str, int], Definition] = {
    ("pledge", 1): _definition("pledge", 1),
    ("nomination", 1): _definition("nomination", 1),
}
CURRENT_VERSION: dict[str, int] = {"pledge": 1, "nomination": 1}


def definition_for(kind: str, version: int) -> Definition:
    try:
        return DEFINITIONS[(kind, version)]
    except KeyError:
        raise InvalidTransition(
            f"Không có quy trình '{kind}' phiên bản {version}.",
            trigger="",
            state="",
            code="unknown_definition",
        ) from None


def fire_machine(definition: Definition, document: Any, trigger: str, facts: Facts) -> None:
    """Fire ``trigger`` on ``document`` (its ``state`` attribute moves on success).

    Raises ``InvalidTransition`` when the trigger is unknown or not available in this state,
    and ``GuardFailed`` (first failing guard's reason) when a condition refuses it.
    """
    state = document.state
    if state in FINAL_STATES:
        raise InvalidTransition(
            f"Văn bản ở trạng thái cuối ({STATE_LABELS[state]}); không thể thay đổi nữa.",
            trigger=trigger,
            state=state,
            code="final_state",
        )
    event = definition.machine.events.get(trigger)
    if event is None:
        raise InvalidTransition(
            f"Thao tác '{trigger}' không tồn tại.", trigger=trigger, state=state
        )
    facts.failures.clear()
    try:
        moved = event.trigger(document, facts=facts)
    except MachineError:
        raise InvalidTransition(
            f"Không thể '{definition.label(trigger)}' khi văn bản đang ở trạng thái "
            f"'{STATE_LABELS.get(state, state)}'.",
            trigger=trigger,
            state=state,
        ) from None
    if not moved:
        guard, reason = (
            facts.failures[0] if facts.failures else ("unknown", "Điều kiện không thỏa mãn.")
        )
        raise GuardFailed(reason, trigger=trigger, guard=guard)


def _refusal(
    definition: Definition, trigger: str, facts: Facts, *, inputs: bool
) -> tuple[str, str] | None:
    """The first failing guard (its name and reason) of ``trigger`` for ``facts``, or None
    when one of the trigger's transitions from this state is allowed."""
    if facts.state in FINAL_STATES:
        return ("final_state", "Văn bản ở trạng thái cuối.")
    specs = [s for s in definition.specs(trigger) if facts.state in s.source]
    if not specs:
        return ("state", "Không áp dụng ở trạng thái hiện tại.")
    first: tuple[str, str] | None = None
    for spec in specs:
        if spec.branch is not None and inputs and not spec.branch(facts):
            continue
        for guard in spec.guards:
            if not inputs and guard in INPUT_GUARDS:
                continue
            reason = guard(facts)
            if reason is not None:
                first = first or (guard.__name__, reason)
                break
        else:
            return None
    return first or ("state", "Không áp dụng ở trạng thái hiện tại.")


def evaluate(definition: Definition, trigger: str, facts: Facts, *, inputs: bool) -> str | None:
    """Reason ``trigger`` is refused for ``facts`` without firing (None if it is allowed).

    With ``inputs=False`` the guards that only check the request's inputs (a reason, a
    decision number) are skipped: that answers "may this actor do this now" for the UI.
    """
    refused = _refusal(definition, trigger, facts, inputs=inputs)
    return refused[1] if refused else None


def check_trigger(definition: Definition, trigger: str, facts: Facts) -> None:
    """Raise what ``fire_machine`` would raise for ``trigger``, without moving anything:
    ``InvalidTransition`` (final state, unknown trigger, wrong state) or ``GuardFailed``
    with the first failing guard's reason. The services check before doing the work a
    transition needs (freezing, signing), then fire."""
    state = facts.state
    if state in FINAL_STATES:
        raise InvalidTransition(
            f"Văn bản ở trạng thái cuối ({STATE_LABELS[state]}); không thể thay đổi nữa.",
            trigger=trigger,
            state=state,
            code="final_state",
        )
    if trigger not in definition.machine.events:
        raise InvalidTransition(
            f"Thao tác '{trigger}' không tồn tại.", trigger=trigger, state=state
        )
    if not any(state in s.source for s in definition.specs(trigger)):
        raise InvalidTransition(
            f"Không thể '{definition.label(trigger)}' khi văn bản đang ở trạng thái "
            f"'{STATE_LABELS.get(state, state)}'.",
            trigger=trigger,
            state=state,
        )
    refused = _refusal(definition, trigger, facts, inputs=True)
    if refused is not None:
        guard, reason = refused
        raise GuardFailed(reason, trigger=trigger, guard=guard)


def mermaid(definition: Definition) -> str:
    """A ``stateDiagram-v2`` of the definition, generated from the same transition list."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    seen: set[tuple[str, str, str]] = set()
    for spec in definition.transitions:
        for source in spec.source:
            dest = spec.dest or source
            key = (source, dest, spec.trigger)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"    {source} --> {dest}: {spec.trigger}")
    lines.extend(f"    {s} --> [*]" for s in sorted(FINAL_STATES))
    return "\n".join(lines) + "\n"
