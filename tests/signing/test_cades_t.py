"""CAdES-T unit signatures (issue 17): a signature-time-stamp over the signature value that
openssl accepts, and validation at a later time with the timestamp as proof of existence —
certificates that expire or are revoked after the timestamp, revoked before it, a TSA
certificate that expired, a token over other bytes and a token from a foreign TSA."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from asn1crypto import cms

from signing.ca import CertificateAuthority, Revocation
from signing.cades import add_signature_timestamp, signature_value_digest
from signing.cms import sign_detached
from signing.credentials import generate_private_key
from signing.errors import SigningError
from signing.signers import KeySigner
from signing.tsa import AuthorityTimestamper, TimeStampAuthority
from signing.validation.signature import verify_signature
from signing.validation.status import Indication, SubIndication
from signing.validation.trust import TrustStore
from tests.signing.conftest import DOCUMENT, ISSUED, SIGNED_AT, issue_signer, pem, run

POLICY = "1.3.6.1.4.1.59999.17.1"
TEN_YEARS_ON = SIGNED_AT + timedelta(days=3653)
_SERIALS = itertools.count(1000)


def authority(
    ca: CertificateAuthority, *, now: datetime = ISSUED, days: int = 4000
) -> TimeStampAuthority:
    key = generate_private_key("ec-p256")
    cert = ca.issue_tsa(key.public_key(), name="Thidua TSA", now=now, validity_days=days)
    return TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), POLICY)


def stamper(tsa: TimeStampAuthority, at: datetime = SIGNED_AT) -> AuthorityTimestamper:
    return AuthorityTimestamper(tsa, at=at, next_serial=lambda: next(_SERIALS))


@pytest.fixture(scope="module")
def tsa(ca: CertificateAuthority) -> TimeStampAuthority:
    return authority(ca)


@pytest.fixture(scope="module")
def signed(md) -> bytes:
    return sign_detached(DOCUMENT, md.key, md.certificate, signing_time=SIGNED_AT)


@pytest.fixture(scope="module")
def cades_t(signed: bytes, tsa: TimeStampAuthority) -> bytes:
    return add_signature_timestamp(signed, stamper(tsa))


def tokens(der: bytes) -> list[bytes]:
    info = cms.ContentInfo.load(der)
    attrs = info["content"]["signer_infos"][0]["unsigned_attrs"]
    return [
        value.dump()
        for attr in attrs
        if attr["type"].native == "signature_time_stamp_token"
        for value in attr["values"]
    ]


def signature_value(der: bytes) -> bytes:
    return bytes(cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native)


# ------------------------------------------------------------------ the format
def test_the_timestamp_changes_nothing_the_signature_covers(signed, cades_t) -> None:
    before = cms.ContentInfo.load(signed)["content"]["signer_infos"][0]
    after = cms.ContentInfo.load(cades_t)["content"]["signer_infos"][0]
    assert before["signed_attrs"].dump() == after["signed_attrs"].dump()
    assert before["signature"].native == after["signature"].native
    assert len(tokens(cades_t)) == 1
    assert len(tokens(signed)) == 0


def test_openssl_accepts_the_cades_t_signature_and_its_token(openssl, files, ca, cades_t) -> None:
    ca_file = files("ca.pem", pem(ca.certificate))
    at = str(int((SIGNED_AT + timedelta(days=1)).timestamp()))
    done = run(
        [
            openssl, "cms", "-verify", "-binary", "-cades", "-inform", "DER",
            "-in", files("u.p7s", cades_t), "-content", files("doc.docx", DOCUMENT),
            "-CAfile", ca_file, "-purpose", "any", "-attime", at, "-out", "/dev/null",
        ]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    token = files("tok.tsr", tokens(cades_t)[0])
    value = files("sigvalue.bin", signature_value(cades_t))
    verified = run(
        [
            openssl, "ts", "-verify", "-data", value, "-token_in", "-in", token,
            "-CAfile", ca_file, "-attime", at,
        ]
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert "Verification: OK" in verified.stdout
    # The token is over this signature's value, not over the document.
    other = run(
        [
            openssl, "ts", "-verify", "-data", files("doc2.docx", DOCUMENT), "-token_in",
            "-in", token, "-CAfile", ca_file, "-attime", at,
        ]
    )  # fmt: skip
    assert other.returncode != 0


def test_the_imprint_is_the_digest_of_the_signature_value(cades_t) -> None:
    import hashlib

    assert signature_value_digest(cades_t) == hashlib.sha256(signature_value(cades_t)).digest()


def test_bad_input_is_a_clear_error(tsa) -> None:
    with pytest.raises(SigningError):
        add_signature_timestamp(b"not a cms", stamper(tsa))
    with pytest.raises(SigningError):
        add_signature_timestamp(b"x", object())  # type: ignore[arg-type]


# ------------------------------------------------------------------ validation with POE
def test_a_valid_timestamp_reports_trusted_time_and_tsa(ca, cades_t) -> None:
    report = verify_signature(DOCUMENT, cades_t, TrustStore([ca.certificate]), at=SIGNED_AT)
    assert report.passed, report.detail
    assert report.trusted_time == SIGNED_AT
    assert report.certificate_state == "valid"
    (stamp,) = report.timestamps
    assert stamp.passed
    assert stamp.gen_time == SIGNED_AT
    assert "Thidua TSA" in (stamp.tsa_name or "")
    assert report.to_dict()["timestamps"][0]["tsa"] == stamp.tsa_name


def test_expiry_after_the_timestamp_passes_and_without_one_is_no_poe(ca, signed, cades_t) -> None:
    trust = TrustStore([ca.certificate])
    later = verify_signature(DOCUMENT, cades_t, trust, at=TEN_YEARS_ON)
    assert later.passed, later.detail
    assert later.certificate_state == "expired_after_poe"
    bare = verify_signature(DOCUMENT, signed, trust, at=TEN_YEARS_ON)
    assert bare.finding == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)
    assert bare.certificate_state == "expired_no_poe"


def test_revocation_after_the_timestamp_passes_before_it_fails(ca, tsa) -> None:
    signer = issue_signer(ca, "VPHU-UH")
    der = sign_detached(DOCUMENT, signer.key, signer.certificate, signing_time=SIGNED_AT)
    stamped = add_signature_timestamp(der, stamper(tsa))

    def with_revocation(when: datetime) -> TrustStore:
        crl = ca.crl(
            [Revocation(signer.certificate.serial_number, when, "key_compromise")],
            now=when + timedelta(days=1),
        )
        return TrustStore([ca.certificate], [crl])

    after = with_revocation(SIGNED_AT + timedelta(days=30))
    report = verify_signature(DOCUMENT, stamped, after, at=TEN_YEARS_ON)
    assert report.passed, report.detail
    assert report.certificate_state == "revoked_after_poe"
    assert report.revocation_checked
    # Without the timestamp nothing proves the signature came before the revocation.
    bare = verify_signature(DOCUMENT, der, after, at=SIGNED_AT + timedelta(days=60))
    assert bare.finding == (Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)

    before = with_revocation(SIGNED_AT - timedelta(days=1))
    failed = verify_signature(DOCUMENT, stamped, before, at=TEN_YEARS_ON)
    assert failed.finding == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert failed.certificate_state == "revoked"


def test_an_expired_tsa_certificate_gives_no_poe_unless_an_archive_timestamp_does(
    ca, signed
) -> None:
    short = authority(ca, days=30)
    stamped = add_signature_timestamp(signed, stamper(short))
    trust = TrustStore([ca.certificate])
    report = verify_signature(DOCUMENT, stamped, trust, at=TEN_YEARS_ON)
    assert report.finding == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)
    assert report.message.startswith("Dấu thời gian của chữ ký")
    # An archive timestamp proving these bytes existed while the TSA was valid vouches for it.
    proven = verify_signature(
        DOCUMENT, stamped, trust, at=TEN_YEARS_ON, proven_at=SIGNED_AT + timedelta(hours=1)
    )
    assert proven.passed, proven.detail
    assert proven.trusted_time == SIGNED_AT


def test_a_token_over_other_bytes_fails(ca, tsa, signed) -> None:
    class OtherBytes:
        def timestamp(self, digest, *, hash_algorithm="sha256", nonce=None):
            return stamper(tsa).timestamp(bytes(32), hash_algorithm=hash_algorithm)

    forged = add_signature_timestamp(signed, OtherBytes())
    report = verify_signature(DOCUMENT, forged, TrustStore([ca.certificate]), at=TEN_YEARS_ON)
    assert report.finding == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert report.timestamps[0].sub_indication is SubIndication.HASH_FAILURE


def test_a_token_from_a_foreign_tsa_proves_nothing(ca, other_ca, signed) -> None:
    foreign = add_signature_timestamp(signed, stamper(authority(other_ca)))
    report = verify_signature(DOCUMENT, foreign, TrustStore([ca.certificate]), at=SIGNED_AT)
    assert report.finding == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert report.trusted_time is None


def test_a_timestamp_before_the_claimed_signing_time_is_refused(ca, tsa, signed) -> None:
    early = add_signature_timestamp(signed, stamper(tsa, at=SIGNED_AT - timedelta(hours=2)))
    report = verify_signature(DOCUMENT, early, TrustStore([ca.certificate]), at=SIGNED_AT)
    assert report.finding == (Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE)


def test_a_changed_document_still_fails_with_a_timestamp(ca, cades_t) -> None:
    report = verify_signature(
        DOCUMENT + b"!", cades_t, TrustStore([ca.certificate]), at=TEN_YEARS_ON
    )
    assert report.finding == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
