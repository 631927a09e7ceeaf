"""The deployment's RFC 3161 timestamp authority: tokens that openssl accepts, requests made by
openssl that we answer, and the verifier's verdicts on wrong, foreign and tampered tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import signing.tsa as tsa_module
from signing.ca import CertificateAuthority
from signing.credentials import generate_private_key
from signing.errors import SigningError
from signing.signers import KeySigner
from signing.tsa import TimeStampAuthority, make_request, verify_token
from signing.validation.status import Indication, SubIndication
from signing.validation.trust import TrustStore
from tests.signing.conftest import DOCUMENT, ISSUED, SIGNED_AT, VERIFY_AT, pem, run

POLICY = "1.3.6.1.4.1.59999.17.1"
DIGEST = hashlib.sha256(DOCUMENT).digest()
ATTIME = str(int(VERIFY_AT.timestamp()))


def _authority(ca: CertificateAuthority, name: str = "Thidua TSA") -> TimeStampAuthority:
    key = generate_private_key("ec-p256")
    cert = ca.issue_tsa(key.public_key(), name=name, now=ISSUED)
    return TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), POLICY)


@pytest.fixture(scope="module")
def tsa(ca: CertificateAuthority) -> TimeStampAuthority:
    return _authority(ca)


@pytest.fixture(scope="module")
def trust(ca: CertificateAuthority) -> TrustStore:
    return TrustStore([ca.certificate])


def _ts_verify(openssl: str, files: Any, token: bytes, digest: bytes, ca: Any, *extra: str) -> Any:
    return run(
        [
            openssl, "ts", "-verify", "-digest", digest.hex(), "-in", files("tok.tsr", token),
            "-CAfile", files("ca.pem", pem(ca.certificate)), "-attime", ATTIME, *extra,
        ]
    )  # fmt: skip


def _resp(der: bytes) -> Any:
    return tsa_module._TimeStampResp.load(der, strict=True)


# ------------------------------------------------------------------ the TSA certificate
def test_tsa_certificate_has_only_the_critical_timestamping_usage(ca, tsa) -> None:
    cert = tsa.certificate
    cert.verify_directly_issued_by(ca.certificate)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature
    assert not ku.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert aki.key_identifier == ca_ski.digest
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Thidua TSA"
    assert cert.not_valid_before_utc == ISSUED


def test_renewed_tsa_certificate_stays_a_tsa_certificate(ca, tsa) -> None:
    renewed = ca.renew(tsa.certificate, now=ISSUED + timedelta(days=30))
    eku = renewed.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_a_signer_certificate_cannot_run_a_tsa(md) -> None:
    with pytest.raises(SigningError, match="timeStamping"):
        TimeStampAuthority(KeySigner(md.key, md.certificate), POLICY)


# ------------------------------------------------------------------ openssl accepts ours
def test_openssl_verifies_our_response_and_our_token(openssl, files, ca, tsa) -> None:
    response = tsa.respond(make_request(DIGEST, nonce=424242), serial=17, at=SIGNED_AT)
    done = _ts_verify(openssl, files, response, DIGEST, ca)
    assert done.returncode == 0, done.stderr
    assert "Verification: OK" in done.stdout
    token = tsa.stamp(DIGEST, nonce=None, serial=18, at=SIGNED_AT)
    done = _ts_verify(openssl, files, token, DIGEST, ca, "-token_in")
    assert done.returncode == 0, done.stderr
    # Over other bytes, openssl refuses the same token.
    other = hashlib.sha256(b"another pledge").digest()
    assert _ts_verify(openssl, files, token, other, ca, "-token_in").returncode != 0


def test_openssl_query_is_answered_with_its_nonce(openssl, files, ca, tsa, tmp_path) -> None:
    query = tmp_path / "req.tsq"
    done = run(
        [openssl, "ts", "-query", "-digest", DIGEST.hex(), "-sha256", "-cert", "-out", str(query)]
    )
    assert done.returncode == 0, done.stderr
    request = query.read_bytes()
    response = tsa.respond(request, serial=99, at=SIGNED_AT)
    reply = files("resp.tsr", response)
    ca_file = files("ca.pem", pem(ca.certificate))
    done = run(
        [openssl, "ts", "-verify", "-queryfile", str(query), "-in", reply, "-CAfile", ca_file,
         "-attime", ATTIME]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    asked = tsp.TimeStampReq.load(request)["nonce"].native
    token = _resp(response)["time_stamp_token"].dump()
    report = verify_token(token, TrustStore([ca.certificate]), digest=DIGEST, at=VERIFY_AT)
    assert report.passed
    assert report.nonce == asked
    # Another query (another random nonce) for the same digest does not match this reply.
    other = tmp_path / "other.tsq"
    run([openssl, "ts", "-query", "-digest", DIGEST.hex(), "-sha256", "-cert", "-out", str(other)])
    done = run(
        [openssl, "ts", "-verify", "-queryfile", str(other), "-in", reply, "-CAfile", ca_file,
         "-attime", ATTIME]
    )  # fmt: skip
    assert done.returncode != 0
    assert "nonce mismatch" in done.stderr


def test_cert_req_false_leaves_the_certificates_out(tsa) -> None:
    response = tsa.respond(make_request(DIGEST, nonce=1, cert_req=False), serial=3, at=SIGNED_AT)
    signed = _resp(response)["time_stamp_token"]["content"]
    assert not signed["certificates"]
    response = tsa.respond(make_request(DIGEST, nonce=1, cert_req=True), serial=4, at=SIGNED_AT)
    certs = _resp(response)["time_stamp_token"]["content"]["certificates"]
    assert tsa.certificate.serial_number in {c.chosen.serial_number for c in certs}


# ------------------------------------------------------------------ our verifier
def test_token_reports_the_given_time_serial_policy_and_tsa(tsa, trust) -> None:
    token = tsa.stamp(DIGEST, nonce=7, serial=2026_0001, at=SIGNED_AT)
    report = verify_token(token, trust, digest=DIGEST, at=VERIFY_AT)
    assert report.passed, report.detail
    assert report.indication is Indication.TOTAL_PASSED
    assert report.gen_time == SIGNED_AT
    assert report.serial == 2026_0001
    assert report.policy == POLICY
    assert report.nonce == 7
    assert report.tsa_name is not None
    assert "CN=Thidua TSA" in report.tsa_name
    assert report.message == "Dấu thời gian hợp lệ"


@pytest.mark.parametrize("algorithm", ["sha384", "sha512"])
def test_longer_imprints_are_accepted(tsa, trust, algorithm) -> None:
    digest = hashlib.new(algorithm, DOCUMENT).digest()
    response = tsa.respond(
        make_request(digest, nonce=5, hash_algorithm=algorithm), serial=6, at=SIGNED_AT
    )
    assert _resp(response)["status"]["status"].native == "granted"
    report = verify_token(_resp(response)["time_stamp_token"].dump(), trust, digest=digest,
                          at=VERIFY_AT)  # fmt: skip
    assert report.passed
    assert report.hash_algorithm == algorithm


def test_token_over_other_bytes_fails(tsa, trust) -> None:
    token = tsa.stamp(
        hashlib.sha256(b"another pledge").digest(), nonce=None, serial=9, at=SIGNED_AT
    )
    report = verify_token(token, trust, digest=DIGEST, at=VERIFY_AT)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert "không khớp" in report.message


def test_token_from_a_foreign_tsa_is_not_trusted(openssl, files, ca, other_ca, trust) -> None:
    forger = _authority(other_ca)  # same CA name, another key
    token = forger.stamp(DIGEST, nonce=None, serial=10, at=SIGNED_AT)
    report = verify_token(token, trust, digest=DIGEST, at=VERIFY_AT)
    assert report.finding == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert _ts_verify(openssl, files, token, DIGEST, ca, "-token_in").returncode != 0


def test_signer_certificate_is_not_a_tsa_certificate(
    openssl, files, ca, md, trust, monkeypatch
) -> None:
    with monkeypatch.context() as patch:  # let a document signer's key make a token anyway
        patch.setattr(tsa_module, "has_tsa_usage", lambda cert: True)
        rogue = TimeStampAuthority(KeySigner(md.key, md.certificate, [ca.certificate]), POLICY)
    token = rogue.stamp(DIGEST, nonce=None, serial=11, at=SIGNED_AT)
    report = verify_token(token, trust, digest=DIGEST, at=VERIFY_AT)
    assert report.finding == (Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE)
    assert _ts_verify(openssl, files, token, DIGEST, ca, "-token_in").returncode != 0


def test_timestamping_usage_that_is_not_critical_is_refused(ca, trust, monkeypatch) -> None:
    key = generate_private_key("ec-p256")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lax TSA")])
    cert = ca._sign_leaf(
        name, key.public_key(), ISSUED, ISSUED + timedelta(days=365),
        eku=(ExtendedKeyUsageOID.TIME_STAMPING,), eku_critical=False,
    )  # fmt: skip
    with pytest.raises(SigningError):
        TimeStampAuthority(KeySigner(key, cert), POLICY)
    with monkeypatch.context() as patch:
        patch.setattr(tsa_module, "has_tsa_usage", lambda cert: True)
        lax = TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), POLICY)
    token = lax.stamp(DIGEST, nonce=None, serial=12, at=SIGNED_AT)
    report = verify_token(token, trust, digest=DIGEST, at=VERIFY_AT)
    assert report.finding == (Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE)


def test_tampered_token_fails(openssl, files, ca, tsa, trust) -> None:
    token = tsa.stamp(DIGEST, nonce=None, serial=13, at=SIGNED_AT)
    # The genTime's year inside the TSTInfo: "2018" -> "2019".
    at_year = token.index(b"20180331")
    moved = token[: at_year + 3] + b"9" + token[at_year + 4 :]
    report = verify_token(moved, trust, digest=DIGEST, at=VERIFY_AT)
    assert report.finding == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert _ts_verify(openssl, files, moved, DIGEST, ca, "-token_in").returncode != 0
    # The last byte is in the signature value.
    flipped = token[:-1] + bytes([token[-1] ^ 0x01])
    report = verify_token(flipped, trust, digest=DIGEST, at=VERIFY_AT)
    assert report.finding == (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE)
    assert _ts_verify(openssl, files, flipped, DIGEST, ca, "-token_in").returncode != 0
    report = verify_token(b"\x30\x03\x02\x01", trust, digest=DIGEST, at=VERIFY_AT)
    assert report.finding == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)


def test_tsa_certificate_expired_at_validation_time(ca, trust) -> None:
    key = generate_private_key("ec-p256")
    cert = ca.issue_tsa(key.public_key(), name="Short TSA", now=ISSUED, validity_days=60)
    short = TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), POLICY)
    token = short.stamp(DIGEST, nonce=None, serial=14, at=SIGNED_AT)
    assert verify_token(token, trust, digest=DIGEST, at=VERIFY_AT).passed
    later = verify_token(token, trust, digest=DIGEST, at=ISSUED + timedelta(days=90))
    assert later.finding == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)


# ------------------------------------------------------------------ rejections
def _failure(response: bytes) -> set[str]:
    status = _resp(response)["status"]
    assert status["status"].native == "rejection"
    assert not _resp(response)["time_stamp_token"]
    return set(status["fail_info"].native)


def test_garbage_is_bad_data_format(tsa) -> None:
    assert _failure(tsa.respond(b"not a request", serial=1, at=SIGNED_AT)) == {"bad_data_format"}
    assert _failure(tsa.respond(b"\x30" * 20_000, serial=1, at=SIGNED_AT)) == {"bad_data_format"}
    short = tsp.TimeStampReq(
        {"version": "v1", "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                                              "hashed_message": b"\x00" * 20}}
    ).dump()  # fmt: skip
    assert _failure(tsa.respond(short, serial=1, at=SIGNED_AT)) == {"bad_data_format"}


def test_unsupported_hash_is_bad_alg(openssl, tsa, tmp_path) -> None:
    query = tmp_path / "sha1.tsq"
    sha1 = hashlib.sha1(DOCUMENT).hexdigest()  # noqa: S324 - the algorithm being refused
    done = run([openssl, "ts", "-query", "-digest", sha1, "-sha1", "-out", str(query)])
    assert done.returncode == 0, done.stderr
    response = tsa.respond(query.read_bytes(), serial=1, at=SIGNED_AT)
    assert _failure(response) == {"bad_alg"}
    reply = tmp_path / "sha1.tsr"
    reply.write_bytes(response)
    # openssl prints the Vietnamese status string with its own escapes, not UTF-8.
    text = run([openssl, "ts", "-reply", "-in", str(reply), "-text"], encoding="latin-1").stdout
    assert "Rejected" in text
    assert "unrecognized or unsupported algorithm" in text


def test_other_version_and_policy_are_refused(tsa) -> None:
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": DIGEST}
    v2 = tsp.TimeStampReq({"version": 2, "message_imprint": imprint}).dump()
    assert _failure(tsa.respond(v2, serial=1, at=SIGNED_AT)) == {"bad_request"}
    policy = tsp.TimeStampReq(
        {"version": "v1", "message_imprint": imprint, "req_policy": "1.2.3.4"}
    ).dump()
    assert _failure(tsa.respond(policy, serial=1, at=SIGNED_AT)) == {"unaccepted_policy"}
    ours = tsp.TimeStampReq({"version": "v1", "message_imprint": imprint, "req_policy": POLICY})
    granted = tsa.respond(ours.dump(), serial=1, at=SIGNED_AT)
    assert _resp(granted)["status"]["status"].native == "granted"


def test_stamp_checks_its_arguments(tsa) -> None:
    with pytest.raises(SigningError, match="32 byte"):
        tsa.stamp(b"short", nonce=None, serial=1, at=SIGNED_AT)
    with pytest.raises(SigningError, match="số sê-ri"):
        tsa.stamp(DIGEST, nonce=None, serial=0, at=SIGNED_AT)
    with pytest.raises(SigningError, match="không được hỗ trợ"):
        tsa.stamp(DIGEST, hash_algorithm="md5", nonce=None, serial=1, at=SIGNED_AT)
    with pytest.raises(SigningError, match="OID"):
        TimeStampAuthority(tsa._signer, "not-an-oid")
