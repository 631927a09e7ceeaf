"""The versions that key cached pages move with every audited write: an event on a document
moves its cluster's ``data_seq``, any other event the ``structure_seq``."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.workflow.helpers import user
from workflow.models import AuditChainHead, AuditEvent, Cluster, ClusterTerm, Document
from workflow.services import admin, comment, scope_version, view_scope


def _expected(session) -> tuple[int, dict[int, int]]:  # type: ignore[no-untyped-def]
    structure = session.scalar(
        select(func.coalesce(func.max(AuditEvent.seq), 0)).where(AuditEvent.document_id.is_(None))
    )
    per_cluster = dict(
        session.execute(
            select(ClusterTerm.cluster_id, func.max(AuditEvent.seq))
            .join(Document, Document.term_id == ClusterTerm.id)
            .join(AuditEvent, AuditEvent.document_id == Document.id)
            .group_by(ClusterTerm.cluster_id)
        ).all()
    )
    return structure, per_cluster


def test_the_seeded_history_left_every_version_at_its_last_event(demo_session):
    s = demo_session
    structure, per_cluster = _expected(s)
    assert structure > 0
    assert per_cluster
    assert s.scalar(select(AuditChainHead.structure_seq)) == structure
    for cluster in s.scalars(select(Cluster)):
        assert cluster.data_seq == per_cluster.get(cluster.id, 0), cluster.code


def test_scope_versions_move_with_their_own_writes_only(demo_session, demo):
    s = demo_session
    signer = user(s, "vphu-md-signer")
    scope = view_scope(s, signer)
    assert scope.cluster_ids is not None
    assert len(scope.cluster_ids) == 1
    first = scope_version(s, scope)
    assert first is not None
    assert scope_version(s, scope) == first, "reading does not move it"

    # A comment on a document of the signer's cluster moves the data part.
    pledge = demo.result.documents["nomination-2018"]
    comment(s, signer, pledge, "nominees[0]", "Ý kiến")
    moved = scope_version(s, scope)
    assert moved is not None
    assert moved[0] == first[0]
    assert moved[1] > first[1]

    # Anything else (a new unit) moves the structure: the scope must be taken again.
    admin.add_unit(s, None, "VPHU-ZZ", "Văn phòng Huyện ủy Zz")
    assert scope_version(s, scope) is None
    fresh = view_scope(s, signer)
    assert scope_version(s, fresh) is not None

    # An admin's scope is everything.
    everything = view_scope(s, user(s, "admin"))
    assert everything.cluster_ids is None


def test_a_user_of_no_cluster_has_an_empty_scope_with_a_version(demo_session):
    s = demo_session
    admin.add_user(s, None, "nobody", "Người ngoài", "mat-khau-ngoai-1", roles=[])
    scope = view_scope(s, user(s, "nobody"))
    assert scope.cluster_ids == ()
    version = scope_version(s, scope)
    assert version is not None
    assert version[1] == 0
