"""Hostile input for every parser of the signing core: random bytes and mutations of valid
input. Only our own error types may escape, and verify_signature never raises at all."""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing import Indication, SignatureReport, TrustStore, verify_signature
from signing.audit import GENESIS, event_hash, verify_chain
from signing.ca import CertificateAuthority
from signing.cms import sign_detached
from signing.credentials import (
    TEST_KDF,
    import_pkcs12,
    load_certificate,
    load_certificates,
    seal_private_key,
    unseal_private_key,
)
from signing.errors import SigningError
from tests.signing.conftest import DOCUMENT, ISSUED, MASTER, SIGNED_AT, VERIFY_AT, pem

# Mutated certificates with a zero or negative serial make cryptography warn (not fail);
# that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each sealed-key attempt runs Argon2id (~15 ms with the test parameters).
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutations(draw, original: bytes) -> bytes:
    """Flip, overwrite, insert, delete or cut bytes of ``original``."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        else:
            del data[pos:]
    return bytes(data)


@pytest.fixture(scope="module")
def good(signers, ca):
    md = signers["VPHU-MD"]
    der = sign_detached(
        DOCUMENT, md.key, md.certificate, signing_time=SIGNED_AT, chain=[ca.certificate]
    )
    return md, der, TrustStore([ca.certificate])


def check_report(report: SignatureReport) -> None:
    assert isinstance(report, SignatureReport)
    assert report.indication in Indication
    assert report.message
    report.to_dict()


# --------------------------------------------------------------------------- CMS
@FAST
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_raise(good, data: bytes) -> None:
    _md, _der, trust = good
    report = verify_signature(DOCUMENT, data, trust, at=VERIFY_AT, expected_unit_code="VPHU-MD")
    check_report(report)
    assert not report.passed


@FAST
@given(st.data())
def test_mutated_signatures_never_raise(good, data) -> None:
    md, der, trust = good
    mutated = data.draw(mutations(der))
    report = verify_signature(
        DOCUMENT,
        mutated,
        trust,
        at=VERIFY_AT,
        expected_certificate=md.certificate,
        expected_unit_code="VPHU-MD",
    )
    check_report(report)
    if report.passed:
        # Only bytes outside what the signature covers can change without failing it
        # (e.g. the SignedData version); the document digest must still be the original's.
        assert report.signer.unit_code == "VPHU-MD"


@FAST
@given(st.data())
def test_mutated_documents_never_pass(good, data) -> None:
    _md, der, trust = good
    changed = data.draw(mutations(DOCUMENT))
    if changed == DOCUMENT:
        return
    report = verify_signature(changed, der, trust, at=VERIFY_AT)
    assert report.indication is Indication.TOTAL_FAILED


# --------------------------------------------------------------------------- sealed keys
@SLOW
@given(st.data())
def test_mutated_sealed_keys_raise_only_our_errors(signers, data) -> None:
    sealed = _sealed(signers)
    mutated = data.draw(mutations(sealed))
    try:
        unseal_private_key(mutated, "123456")
    except SigningError:
        return
    # A mutation that leaves the blob intact is the only way to succeed.
    assert mutated == sealed


@FAST
@given(blob=st.binary(max_size=512))
def test_random_sealed_keys_raise_only_our_errors(blob: bytes) -> None:
    with pytest.raises(SigningError):
        unseal_private_key(blob, "123456")


_SEALED: dict[str, bytes] = {}


def _sealed(signers) -> bytes:
    if "md" not in _SEALED:
        _SEALED["md"] = seal_private_key(signers["VPHU-MD"].key, "123456", params=TEST_KDF)
    return _SEALED["md"]


# --------------------------------------------------------------------------- PKCS#12
@pytest.fixture(scope="module")
def p12(signers) -> bytes:
    md = signers["VPHU-MD"]
    return pkcs12.serialize_key_and_certificates(
        b"md", md.key, md.certificate, None, serialization.BestAvailableEncryption(b"pw")
    )


@SLOW
@given(st.data())
def test_mutated_pkcs12_raises_only_our_errors(p12, data) -> None:
    mutated = data.draw(mutations(p12))
    with contextlib.suppress(SigningError):
        import_pkcs12(mutated, b"pw", "123456", params=TEST_KDF)


@FAST
@given(blob=st.binary(max_size=1024), password=st.one_of(st.none(), st.binary(max_size=16)))
def test_random_pkcs12_raises_only_our_errors(blob: bytes, password: bytes | None) -> None:
    with pytest.raises(SigningError):
        import_pkcs12(blob, password, "123456", params=TEST_KDF)


# --------------------------------------------------------------------------- PEM / DER input
@pytest.fixture(scope="module")
def crl(ca) -> bytes:
    return ca.crl([], now=ISSUED)


@FAST
@given(st.data())
def test_mutated_pem_trust_input_raises_only_format_errors(ca, rsa_ca, data) -> None:
    original = ca.certificate_pem + rsa_ca.certificate_pem
    mutated = data.draw(mutations(original))
    try:
        store = TrustStore.from_pem(mutated)
    except SigningError:
        return
    assert store.anchors


@FAST
@given(blob=st.binary(max_size=1024))
def test_random_certificate_input(blob: bytes) -> None:
    for loader in (load_certificate, load_certificates):
        with contextlib.suppress(SigningError):
            loader(blob)
    with contextlib.suppress(SigningError):
        TrustStore.from_pem(b"-----BEGIN CERTIFICATE-----\n" + blob)


@FAST
@given(st.data())
def test_mutated_certificates_and_crls(ca, signers, crl, data) -> None:
    cert_der = signers["VPHU-MD"].certificate.public_bytes(serialization.Encoding.DER)
    with contextlib.suppress(SigningError):
        load_certificate(data.draw(mutations(cert_der)))
    with contextlib.suppress(SigningError):
        TrustStore([ca.certificate], [data.draw(mutations(crl))])


@SLOW
@given(st.data())
def test_mutated_stored_ca_raises_only_our_errors(ca, data) -> None:
    which = data.draw(st.sampled_from(["certificate", "key"]))
    cert_pem, key = ca.certificate_pem, ca.encrypted_key
    if which == "certificate":
        cert_pem = data.draw(mutations(cert_pem))
    else:
        key = data.draw(mutations(key))
    with contextlib.suppress(SigningError):
        CertificateAuthority.load(cert_pem, key, MASTER)


# --------------------------------------------------------------------------- audit
RESERVED = {"hash", "id", "prev_hash", "doc_prev_hash"}
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
field_maps = st.dictionaries(
    st.text(max_size=8).filter(lambda k: unicodedata.normalize("NFC", k) not in RESERVED),
    json_values,
    max_size=4,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(field_maps, min_size=1, max_size=5), data=st.data())
def test_audit_chain_of_arbitrary_events_verifies_and_any_edit_is_found(payloads, data) -> None:
    events = []
    previous = GENESIS
    for index, payload in enumerate(payloads):
        event = {**payload, "id": index, "prev_hash": previous, "doc_prev_hash": previous}
        event["hash"] = event_hash(event)
        previous = event["hash"]
        events.append(event)
    assert verify_chain(events).ok
    assert verify_chain(events, link="doc_prev_hash").ok
    victim = data.draw(st.integers(0, len(events) - 1))
    events[victim] = {**events[victim], "tampered__": True}  # keys above are <= 8 chars
    report = verify_chain(events)
    assert (report.ok, report.broken_index) == (False, victim)


@FAST
@given(events=st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), max_size=4))
def test_audit_chain_on_arbitrary_mappings_reports_never_raises(events) -> None:
    """Events without a valid hash: always a report naming the first one, never a crash."""
    report = verify_chain(events)
    assert report.ok == (len(events) == 0)
    if events:
        assert report.broken_index == 0


def test_pem_of_a_non_certificate_is_refused(signers) -> None:
    from signing.errors import FormatError

    md = signers["VPHU-MD"]
    key = md.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(FormatError):
        TrustStore.from_pem(key)
    assert TrustStore.from_pem(pem(md.certificate)).anchors == (md.certificate,)
    _ = timedelta
