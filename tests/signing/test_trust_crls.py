"""CRLs of a trust store: the ``crls`` a store applies, ``with_crls`` adding more without
losing any, and a bundle's archived CRL joining the caller's CRLs for other anchors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from signing import Indication, SubIndication, TrustStore, verify_signature
from signing._util import bytes_cache
from signing.archive import build_bundle, verify_bundle
from signing.ca import Revocation
from signing.cms import sign_detached
from signing.errors import FormatError, SigningError
from tests.signing.bundle_fixtures import (
    APPROVED_AT,
    SIGNED_AT,
    VERIFY_AT,
    bundle_input,
    make_world,
    sample_docx,
    shared_world,
    sign,
)


@pytest.fixture(scope="module")
def world_a():
    return shared_world()


@pytest.fixture(scope="module")
def world_b():
    return make_world(common_name="thidua CA cụm số 5")


def revoked_crl(world, signer, when=SIGNED_AT - timedelta(days=1)) -> bytes:
    return world.ca.crl(
        [Revocation(signer.certificate.serial_number, when, "key_compromise")], now=APPROVED_AT
    )


def test_with_crls_keeps_the_stores_crls_and_adds_new_ones(world_a, world_b) -> None:
    unit_a = world_a.units["VPHU-MD"]
    unit_b = world_b.units["VPHU-MD"]
    crl_a, crl_b = revoked_crl(world_a, unit_a), revoked_crl(world_b, unit_b)
    base = TrustStore([world_a.ca.certificate, world_b.ca.certificate], crls=[crl_b])
    both = base.with_crls([crl_a])
    assert base.crls == (crl_b,)
    assert both.crls == (crl_b, crl_a)
    document = sample_docx("with-crls")
    for world, code in ((world_a, "VPHU-MD"), (world_b, "VPHU-MD")):
        der = sign(world, code, document)
        report = verify_signature(document, der, both, at=VERIFY_AT)
        assert (report.indication, report.sub_indication) == (
            Indication.TOTAL_FAILED,
            SubIndication.REVOKED,
        )
    # The original store is unchanged: A's signer is not revoked there.
    der_a = sign(world_a, "VPHU-MD", document)
    assert verify_signature(document, der_a, base, at=VERIFY_AT).passed


def test_with_crls_refuses_what_the_constructor_refuses(world_a, world_b) -> None:
    store = TrustStore([world_a.ca.certificate])
    with pytest.raises(FormatError):
        store.with_crls([world_b.ca.crl([], now=APPROVED_AT)])  # not one of the anchors
    with pytest.raises(FormatError):
        store.with_crls([b"not a CRL"])
    with pytest.raises(SigningError):
        store.with_crls(world_a.ca.crl([], now=APPROVED_AT))  # one CRL, not a sequence
    assert store.crls == ()


def test_bundle_crl_does_not_drop_the_callers_crls_for_other_anchors(world_a, world_b) -> None:
    """The approval is signed by a board whose certificate comes from another trusted CA
    and is revoked in that CA's CRL, which the caller supplies. The bundle's own CRL (of its
    member units' CA) is added for its CA; the other CA's CRL must still apply."""
    inp = bundle_input(world_a)
    board_b = world_b.board
    approval = sign_detached(
        inp.approval_manifest,
        board_b.key,
        board_b.certificate,
        signing_time=APPROVED_AT,
        chain=[world_b.ca.certificate],
    )
    bundle = build_bundle(inp.evidence, inp.approval_manifest, approval)
    anchors = [world_a.ca.certificate, world_b.ca.certificate]

    not_revoked = TrustStore(anchors, crls=[world_b.ca.crl([], now=APPROVED_AT)])
    report = verify_bundle(bundle, trust=not_revoked, ca_fingerprint=None, at=VERIFY_AT)
    assert report.passed, report.to_dict()["problems"]

    revoked = TrustStore(anchors, crls=[revoked_crl(world_b, board_b)])
    report = verify_bundle(bundle, trust=revoked, ca_fingerprint=None, at=VERIFY_AT)
    assert report.approval.report is not None
    assert report.approval.report.sub_indication is SubIndication.REVOKED
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.REVOKED,
    )
    # ...and the member units' signatures were checked against the bundle's CRL of CA A.
    assert all(u.report is not None and u.report.revocation_checked for u in report.units)


def test_bytes_cache_keeps_only_small_inputs() -> None:
    """Caches keyed by exact bytes stay bounded: large (possibly hostile) input is computed
    every time and never kept."""
    calls: list[bytes] = []

    @bytes_cache(maxsize=4, max_bytes=8)
    def length(data: bytes) -> int:
        calls.append(data)
        return len(data)

    assert [length(b"small"), length(b"small")] == [5, 5]
    assert calls == [b"small"]
    big = b"x" * 9
    assert [length(big), length(big)] == [9, 9]
    assert calls == [b"small", big, big]
