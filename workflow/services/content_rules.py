"""What a document's content must satisfy to belong to its term: the kind, the year, the head
and deputy units and the exact list of member units. A leaf: it imports no other service, so
the drafting use cases and the guard facts both read it without an import cycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import documents
from workflow.errors import ValidationError
from workflow.models import ClusterTerm, Document, DocumentVersion


def content_dict(content: Any) -> dict[str, Any]:
    """The content as a plain dict, from a dict or a documents content object."""
    if isinstance(content, Mapping):
        return dict(content)
    if hasattr(content, "kind") and hasattr(content, "member_units"):
        return documents.content_to_dict(content)
    raise ValidationError("Nội dung văn bản không hợp lệ.", field="content")


def check_content(
    term: ClusterTerm, kind: str, content: Any
) -> documents.PledgeContent | documents.NominationContent:
    """Validate ``content`` (a dict or a documents content object) for a document of ``kind``
    in ``term``; returns the content object. Raises ``ValidationError`` naming the field."""
    try:
        parsed = documents.content_from_dict(content_dict(content))
    except documents.DocumentError as exc:
        raise ValidationError(str(exc), field=getattr(exc, "field", None)) from None
    if parsed.kind != kind:
        raise ValidationError(
            f"Nội dung là loại '{parsed.kind}', không phải '{kind}'.", field="kind"
        )
    if parsed.year != term.year:
        raise ValidationError(
            f"Nội dung ghi năm {parsed.year} nhưng nhiệm kỳ cụm là năm {term.year}.", field="year"
        )
    for field_name, unit in (("head_unit", term.head_unit), ("deputy_unit", term.deputy_unit)):
        stated = getattr(parsed, field_name, None)
        if stated is not None and unit is not None and stated != unit.code:
            raise ValidationError(
                f"Nội dung ghi {field_name} là {stated}, nhưng nhiệm kỳ năm {term.year} "
                f"là {unit.code}.",
                field=field_name,
            )
    _check_member_units(term, [u.code for u in parsed.member_units])
    return parsed


def _check_member_units(term: ClusterTerm, given: list[str]) -> None:
    expected = {m.unit.code for m in term.memberships}
    if set(given) == expected and len(given) == len(set(given)):
        return
    missing = sorted(expected - set(given))
    extra = sorted(set(given) - expected)
    detail = []
    if missing:
        detail.append(f"thiếu {', '.join(missing)}")
    if extra:
        detail.append(f"thừa {', '.join(extra)}")
    if len(given) != len(set(given)):
        detail.append("có đơn vị lặp lại")
    raise ValidationError(
        f"Danh sách đơn vị ký không khớp thành viên cụm năm {term.year}: {'; '.join(detail)}.",
        field="member_units",
    )


def content_problem(document: Document, version: DocumentVersion | None) -> str | None:
    """Why the version's content is not complete enough to go on, or None."""
    if version is None:
        return "Văn bản chưa có nội dung."
    try:
        check_content(document.term, document.kind, version.content)
    except ValidationError as exc:
        return f"Nội dung chưa hoàn chỉnh: {exc.message}"
    return None
