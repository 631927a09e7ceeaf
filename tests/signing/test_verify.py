"""Verification: ETSI indications for good signatures and for every kind of tampering."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing import (
    Indication,
    SubIndication,
    TrustStore,
    indication_name,
    message,
    outcome_code,
    verify_document,
    verify_signature,
)
from signing.ca import Revocation, fingerprint_sha256
from signing.cms import sign_detached
from signing.credentials import generate_private_key
from signing.errors import FormatError, SigningError
from tests.signing.conftest import (
    DOCUMENT,
    ISSUED,
    SIGNED_AT,
    UNITS,
    VERIFY_AT,
    issue_signer,
    key_pem,
    pem,
    run,
)

PASSED = (Indication.TOTAL_PASSED, None)


def outcome(report) -> tuple[Indication, SubIndication | None]:
    return report.indication, report.sub_indication


@pytest.fixture(scope="module")
def trust(ca) -> TrustStore:
    return TrustStore([ca.certificate])


@pytest.fixture(scope="module")
def sigs(signers) -> dict[str, bytes]:
    return {
        code: sign_detached(DOCUMENT, s.key, s.certificate, signing_time=SIGNED_AT)
        for code, s in signers.items()
    }


def resign(der: bytes, mutate) -> bytes:
    """Change a parsed SignedData in place and re-encode it (the signature is not redone)."""
    info = cms.ContentInfo.load(der)
    mutate(info["content"]["signer_infos"][0], info["content"])
    return info.dump(force=True)


# --------------------------------------------------------------------------- good signatures
def test_good_signature_passes_with_a_report(trust, sigs, md) -> None:
    report = verify_signature(DOCUMENT, sigs["VPHU-MD"], trust, at=VERIFY_AT)
    assert outcome(report) == PASSED
    assert report.code == "TOTAL_PASSED"
    assert report.message == "Chữ ký số hợp lệ"
    assert report.validation_time == VERIFY_AT
    data = report.to_dict()
    json.dumps(data, ensure_ascii=False)
    assert data["signer"]["unit_code"] == "VPHU-MD"
    assert data["signer"]["certificate_sha256"] == fingerprint_sha256(md.certificate)
    assert data["signing_time"] == SIGNED_AT.isoformat()
    assert data["passed"] is True


def test_expected_certificate_and_unit_accept_the_right_signer(trust, sigs, md) -> None:
    report = verify_signature(
        DOCUMENT,
        sigs["VPHU-MD"],
        trust,
        at=VERIFY_AT,
        expected_certificate=md.certificate,
        expected_unit_code="VPHU-MD",
    )
    assert outcome(report) == PASSED


# --------------------------------------------------------------------------- tamper corpus
def test_byte_flip_in_document_is_hash_failure(trust, sigs) -> None:
    for position in (0, len(DOCUMENT) // 2, len(DOCUMENT) - 1):
        changed = bytearray(DOCUMENT)
        changed[position] ^= 0x01
        report = verify_signature(bytes(changed), sigs["VPHU-MD"], trust, at=VERIFY_AT)
        assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
        assert "thay đổi" in report.message
    appended = verify_signature(DOCUMENT + b"\n", sigs["VPHU-MD"], trust, at=VERIFY_AT)
    assert appended.sub_indication is SubIndication.HASH_FAILURE


def test_signature_of_another_document_is_hash_failure(trust, md) -> None:
    other = sign_detached(b"another document", md.key, md.certificate, signing_time=SIGNED_AT)
    report = verify_signature(DOCUMENT, other, trust, at=VERIFY_AT)
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert report.signer.unit_code == "VPHU-MD"  # we still say whose signature it is


def test_signatures_swapped_between_units_fail(trust, sigs) -> None:
    swapped = {"VPHU-MD": sigs["VPHU-UH"], "VPHU-UH": sigs["VPHU-MD"], "VPHU-TO": sigs["VPHU-TO"]}
    expected = {code: unit for code, (unit, _person) in UNITS.items()}
    report = verify_document(DOCUMENT, expected, swapped, trust, at=VERIFY_AT)
    assert report.status == "failed"
    by_code = {u.code: u.report for u in report.units}
    for code in ("VPHU-MD", "VPHU-UH"):
        assert outcome(by_code[code]) == (
            Indication.INDETERMINATE,
            SubIndication.SIG_CONSTRAINTS_FAILURE,
        )
        assert code in by_code[code].message
    assert by_code["VPHU-TO"].passed
    single = verify_signature(
        DOCUMENT, sigs["VPHU-UH"], trust, at=VERIFY_AT, expected_unit_code="VPHU-MD"
    )
    assert single.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE


def test_signature_made_with_another_certificate_than_registered(trust, sigs, md) -> None:
    report = verify_signature(
        DOCUMENT, sigs["VPHU-UH"], trust, at=VERIFY_AT, expected_certificate=md.certificate
    )
    assert not report.passed
    assert report.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert "đã đăng ký" in report.message


def test_expired_certificate_without_proof_of_existence(trust, sigs, md) -> None:
    after_expiry = md.certificate.not_valid_after_utc + timedelta(days=1)
    report = verify_signature(DOCUMENT, sigs["VPHU-MD"], trust, at=after_expiry)
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)


def test_signing_time_outside_the_certificate(ca, trust) -> None:
    signer = issue_signer(ca, "VPHU-MD", now=ISSUED, validity_days=30)
    early = sign_detached(
        DOCUMENT, signer.key, signer.certificate, signing_time=ISSUED - timedelta(days=1)
    )
    report = verify_signature(DOCUMENT, early, trust, at=ISSUED + timedelta(days=2))
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID)
    late = sign_detached(
        DOCUMENT, signer.key, signer.certificate, signing_time=ISSUED + timedelta(days=31)
    )
    report = verify_signature(DOCUMENT, late, trust, at=ISSUED + timedelta(days=2))
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.EXPIRED)


def test_validation_before_the_certificate_is_valid(trust, sigs) -> None:
    report = verify_signature(DOCUMENT, sigs["VPHU-MD"], trust, at=ISSUED - timedelta(days=1))
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.NOT_YET_VALID)


def test_revoked_before_signing_is_revoked(ca, sigs, md) -> None:
    crl = ca.crl(
        [Revocation(md.certificate.serial_number, SIGNED_AT - timedelta(days=1), "key_compromise")],
        now=SIGNED_AT,
    )
    report = verify_signature(
        DOCUMENT, sigs["VPHU-MD"], TrustStore([ca.certificate], [crl]), at=VERIFY_AT
    )
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert report.revocation_checked
    assert "key_compromise" in report.detail


def test_revoked_after_signing_has_no_proof_of_existence(ca, sigs, md) -> None:
    crl = ca.crl(
        [Revocation(md.certificate.serial_number, SIGNED_AT + timedelta(days=1))], now=VERIFY_AT
    )
    store = TrustStore([ca.certificate], [crl])
    report = verify_signature(DOCUMENT, sigs["VPHU-MD"], store, at=VERIFY_AT)
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)
    # Validated at a time before the revocation, the same signature passes.
    before = verify_signature(DOCUMENT, sigs["VPHU-MD"], store, at=SIGNED_AT + timedelta(hours=1))
    assert outcome(before) == PASSED
    assert before.revocation_checked


def test_crl_listing_others_does_not_affect_this_signer(ca, sigs, signers) -> None:
    crl = ca.crl([Revocation(signers["VPHU-UH"].certificate.serial_number, ISSUED)], now=ISSUED)
    store = TrustStore([ca.certificate], [crl])
    report = verify_signature(DOCUMENT, sigs["VPHU-MD"], store, at=VERIFY_AT)
    assert outcome(report) == PASSED
    assert report.revocation_checked
    assert not verify_signature(
        DOCUMENT, sigs["VPHU-MD"], TrustStore([ca.certificate]), at=VERIFY_AT
    ).revocation_checked


def test_unknown_ca_even_with_the_same_name(other_ca, trust) -> None:
    forger = issue_signer(other_ca, "VPHU-MD")
    der = sign_detached(DOCUMENT, forger.key, forger.certificate, signing_time=SIGNED_AT)
    report = verify_signature(DOCUMENT, der, trust, at=VERIFY_AT)
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert not report.passed


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda d: d[: len(d) // 2], id="truncated-half"),
        pytest.param(lambda d: d[:-1], id="truncated-last-byte"),
        pytest.param(lambda d: d + b"\x00", id="trailing-byte"),
        pytest.param(lambda d: b"", id="empty"),
        pytest.param(lambda d: b"\x30\x03\x02\x01\x01", id="other-der"),
        pytest.param(lambda d: b"garbage" * 50, id="garbage"),
        pytest.param(lambda d: DOCUMENT, id="the-document-itself"),
    ],
)
def test_unreadable_signatures_are_format_failures(trust, sigs, mangle) -> None:
    report = verify_signature(DOCUMENT, mangle(sigs["VPHU-MD"]), trust, at=VERIFY_AT)
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
    assert report.message


def test_non_bytes_signature_is_a_format_failure(trust) -> None:
    report = verify_signature(DOCUMENT, None, trust, at=VERIFY_AT)  # type: ignore[arg-type]
    assert report.sub_indication is SubIndication.FORMAT_FAILURE


def test_altered_signature_value_is_crypto_failure(trust, sigs) -> None:
    def flip(signer_info, _signed) -> None:
        value = bytearray(signer_info["signature"].native)
        value[len(value) // 2] ^= 0x01
        signer_info["signature"] = bytes(value)

    report = verify_signature(DOCUMENT, resign(sigs["VPHU-MD"], flip), trust, at=VERIFY_AT)
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE)


def test_altered_signing_time_is_crypto_failure(trust, sigs) -> None:
    def backdate(signer_info, _signed) -> None:
        for attr in signer_info["signed_attrs"]:
            if attr["type"].native == "signing_time":
                attr["values"] = [cms.Time("utc_time", datetime(2018, 1, 5, tzinfo=UTC))]

    report = verify_signature(DOCUMENT, resign(sigs["VPHU-MD"], backdate), trust, at=VERIFY_AT)
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE)


def test_certificate_swapped_inside_the_signature(trust, sigs, signers) -> None:
    """Replace the embedded certificate: the signer identifier no longer finds it."""

    def swap(_signer_info, signed) -> None:
        other = signers["VPHU-UH"].certificate
        signed["certificates"] = [cms.CertificateChoices.load(other.public_bytes(Encoding.DER))]

    report = verify_signature(DOCUMENT, resign(sigs["VPHU-MD"], swap), trust, at=VERIFY_AT)
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND)


def test_certificate_without_document_signing_usage(ca, trust) -> None:
    """A TLS server certificate from the same CA cannot sign documents."""
    key = generate_private_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "www")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ISSUED)
        .not_valid_after(ISSUED + timedelta(days=90))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),
            critical=False,
        )
        .sign(ca._key, hashes.SHA256())
    )
    der = sign_detached(DOCUMENT, key, cert, signing_time=SIGNED_AT)
    report = verify_signature(DOCUMENT, der, trust, at=ISSUED + timedelta(days=40))
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE)
    assert "extended key usage" in report.detail


def test_without_trust_anchors_integrity_is_still_checked(sigs) -> None:
    report = verify_signature(DOCUMENT, sigs["VPHU-MD"], None, at=VERIFY_AT)
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    broken = verify_signature(DOCUMENT + b"x", sigs["VPHU-MD"], None, at=VERIFY_AT)
    assert broken.sub_indication is SubIndication.HASH_FAILURE
    empty = verify_signature(DOCUMENT, sigs["VPHU-MD"], TrustStore([]), at=VERIFY_AT)
    assert empty.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_results_are_not_mixed_between_trust_stores(ca, other_ca, sigs, md) -> None:
    """The chain cache belongs to a store: a second store with a CRL sees the revocation."""
    plain = TrustStore([ca.certificate])
    assert verify_signature(DOCUMENT, sigs["VPHU-MD"], plain, at=VERIFY_AT).passed
    crl = ca.crl([Revocation(md.certificate.serial_number, ISSUED)], now=ISSUED)
    revoking = TrustStore([ca.certificate], [crl])
    assert not verify_signature(DOCUMENT, sigs["VPHU-MD"], revoking, at=VERIFY_AT).passed
    assert verify_signature(DOCUMENT, sigs["VPHU-MD"], plain, at=VERIFY_AT).passed
    foreign = TrustStore([other_ca.certificate])
    assert not verify_signature(DOCUMENT, sigs["VPHU-MD"], foreign, at=VERIFY_AT).passed


def test_messages_are_vietnamese_nfc(trust, sigs) -> None:
    reports = [
        verify_signature(DOCUMENT, sigs["VPHU-MD"], trust, at=VERIFY_AT),
        verify_signature(DOCUMENT + b"!", sigs["VPHU-MD"], trust, at=VERIFY_AT),
        verify_signature(DOCUMENT, b"junk", trust, at=VERIFY_AT),
    ]
    for report in reports:
        assert report.message == unicodedata.normalize("NFC", report.message)
        assert any(ord(ch) > 127 for ch in report.message)


# --------------------------------------------------------------------------- trust input
def test_trust_store_from_pem(ca, rsa_ca, sigs) -> None:
    store = TrustStore.from_pem(ca.certificate_pem + rsa_ca.certificate_pem)
    assert store.anchor_fingerprints == (ca.fingerprint, rsa_ca.fingerprint)
    assert TrustStore.from_pem(ca.certificate_pem + rsa_ca.certificate_pem) is store
    assert verify_signature(DOCUMENT, sigs["VPHU-MD"], store, at=VERIFY_AT).passed
    for junk in (b"", b"junk", b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"):
        with pytest.raises(FormatError):
            TrustStore.from_pem(junk)


def test_crl_must_come_from_an_anchor(ca, other_ca) -> None:
    with pytest.raises(FormatError, match="tin cậy"):
        TrustStore([ca.certificate], [other_ca.crl([], now=ISSUED)])
    with pytest.raises(FormatError):
        TrustStore([ca.certificate], [b"not a crl"])
    crl = bytearray(ca.crl([], now=ISSUED))
    crl[-3] ^= 0x01  # break the CRL's signature
    with pytest.raises(FormatError):
        TrustStore([ca.certificate], [bytes(crl)])


# --------------------------------------------------------------------------- documents
def test_document_complete_incomplete_failed(trust, sigs) -> None:
    expected = {code: unit for code, (unit, _person) in UNITS.items()}
    complete = verify_document(DOCUMENT, expected, sigs, trust, at=VERIFY_AT)
    assert complete.status == "complete"
    assert complete.passed
    assert [u.code for u in complete.units] == list(UNITS)
    assert all(u.report.passed for u in complete.units)

    partial = dict(sigs)
    del partial["VPHU-TO"]
    incomplete = verify_document(DOCUMENT, expected, partial, trust, at=VERIFY_AT)
    assert incomplete.status == "incomplete"
    assert [u.code for u in incomplete.units if not u.signed] == ["VPHU-TO"]
    assert "VPHU-TO" in incomplete.message

    broken = verify_document(DOCUMENT + b"x", expected, partial, trust, at=VERIFY_AT)
    assert broken.status == "failed"

    data = complete.to_dict()
    json.dumps(data, ensure_ascii=False)
    assert data["units"][0]["report"]["indication"] == "TOTAL_PASSED"


def test_signature_from_a_unit_that_is_not_a_member_fails_the_document(trust, sigs) -> None:
    expected = {"VPHU-MD": UNITS["VPHU-MD"][0]}
    report = verify_document(DOCUMENT, expected, sigs, trust, at=VERIFY_AT)
    assert report.status == "failed"
    strangers = [u for u in report.units if not u.expected]
    assert {u.code for u in strangers} == {"VPHU-UH", "VPHU-TO"}


def test_document_indication_is_the_worst_finding(trust, other_ca, sigs) -> None:
    """The document's verdict is its signatures' and missing slots' findings through
    worst(): a bad signature outranks a missing one, whatever the order of the units."""
    expected = {code: unit for code, (unit, _person) in UNITS.items()}
    complete = verify_document(DOCUMENT, expected, sigs, trust, at=VERIFY_AT)
    assert outcome(complete) == PASSED
    assert complete.to_dict()["indication"] == "TOTAL_PASSED"

    partial = {code: der for code, der in sigs.items() if code != "VPHU-TO"}
    incomplete = verify_document(DOCUMENT, expected, partial, trust, at=VERIFY_AT)
    assert outcome(incomplete) == (Indication.INDETERMINATE, SubIndication.SIGNED_DATA_NOT_FOUND)
    assert incomplete.status == "incomplete"
    missing = next(u for u in incomplete.units if u.code == "VPHU-TO")
    assert (missing.indication, missing.sub_indication) == outcome(incomplete)

    # A signature no anchor vouches for (INDETERMINATE) and a missing one: the signature's
    # finding is the verdict, and the document has failed, not merely incomplete.
    untrusted = verify_document(
        DOCUMENT, expected, partial, TrustStore([other_ca.certificate]), at=VERIFY_AT
    )
    assert outcome(untrusted) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )
    assert untrusted.status == "failed"

    changed = verify_document(DOCUMENT + b"x", expected, sigs, trust, at=VERIFY_AT)
    assert outcome(changed) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert not changed.passed


def test_a_good_signature_from_a_stranger_fails_the_document(trust, sigs) -> None:
    expected = {"VPHU-MD": UNITS["VPHU-MD"][0]}
    report = verify_document(DOCUMENT, expected, sigs, trust, at=VERIFY_AT)
    strangers = [u for u in report.units if not u.expected]
    assert all(u.report.passed for u in strangers)
    assert all(u.indication is Indication.TOTAL_FAILED for u in strangers)
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE)


def test_one_message_table_in_two_languages(trust, sigs) -> None:
    report = verify_signature(DOCUMENT + b"x", sigs["VPHU-MD"], trust, at=VERIFY_AT)
    assert report.message == message(report.sub_indication)
    assert message(report.sub_indication, "en").startswith("The signature does not match")
    assert message(None, "en") == "The digital signature is valid"
    # An archived report may carry a code this version does not know: a sentence, not a crash.
    assert message("SOME_FUTURE_CODE") == message(SubIndication.SIG_CONSTRAINTS_FAILURE)
    assert indication_name(Indication.TOTAL_FAILED) == "không hợp lệ"
    assert indication_name("INDETERMINATE", "en") == "indeterminate"
    assert outcome_code(report.indication, report.sub_indication) == "TOTAL_FAILED/HASH_FAILURE"
    assert outcome_code(Indication.TOTAL_PASSED, None) == "TOTAL_PASSED"


# --------------------------------------------------------------------------- made elsewhere
@pytest.fixture(scope="module")
def external(ca, tmp_path_factory):
    """A signer who signs with openssl outside thidua. openssl stamps the real current time
    into signing-time, so this certificate is issued around the real current time too."""
    now = datetime.now(UTC).replace(microsecond=0)
    signer = issue_signer(ca, "VPHU-UH", now=now - timedelta(days=1), validity_days=30)
    folder = tmp_path_factory.mktemp("external")
    (folder / "cert.pem").write_bytes(pem(signer.certificate))
    (folder / "key.pem").write_bytes(key_pem(signer.key))
    (folder / "document.docx").write_bytes(DOCUMENT)
    rsa_signer = issue_signer(ca, "VPHU-TO", key_type="rsa-3072", now=now - timedelta(days=1))
    (folder / "rsa-cert.pem").write_bytes(pem(rsa_signer.certificate))
    (folder / "rsa-key.pem").write_bytes(key_pem(rsa_signer.key))
    return signer, rsa_signer, folder, now + timedelta(minutes=10)


def openssl_sign(openssl: str, folder: Path, *extra: str, prefix: str = "") -> bytes:
    out = folder / "out.p7s"
    done = run([
        openssl, "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER",
        "-in", str(folder / "document.docx"),
        "-signer", str(folder / f"{prefix}cert.pem"),
        "-inkey", str(folder / f"{prefix}key.pem"),
        "-out", str(out), *extra,
    ])  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.mark.parametrize(
    "flags",
    [
        (),
        ("-cades",),
        ("-noattr",),
        ("-nosmimecap",),
        ("-cades", "-nosmimecap"),
        ("-stream",),
        ("-nodetach",),
    ],
    ids=["plain", "cades", "noattr", "nosmimecap", "cades-nosmimecap", "ber-stream", "attached"],
)
def test_openssl_made_signatures_verify(trust, openssl, external, flags) -> None:
    signer, _rsa, folder, at = external
    der = openssl_sign(openssl, folder, *flags)
    report = verify_signature(
        DOCUMENT,
        der,
        trust,
        at=at,
        expected_certificate=signer.certificate,
        expected_unit_code="VPHU-UH",
    )
    assert outcome(report) == PASSED, report.to_dict()
    if "-noattr" in flags:
        assert report.signing_time is None
    else:
        assert report.signing_time is not None
    changed = verify_signature(DOCUMENT[:-1], der, trust, at=at)
    expected_sub = (
        SubIndication.SIG_CRYPTO_FAILURE if "-noattr" in flags else SubIndication.HASH_FAILURE
    )
    assert outcome(changed) == (Indication.TOTAL_FAILED, expected_sub)


def test_openssl_rsa_and_rsa_pss_signatures_verify(trust, openssl, external) -> None:
    _ec, _rsa_signer, folder, at = external
    for extra in ((), ("-keyopt", "rsa_padding_mode:pss")):
        der = openssl_sign(openssl, folder, "-cades", *extra, prefix="rsa-")
        report = verify_signature(DOCUMENT, der, trust, at=at, expected_unit_code="VPHU-TO")
        assert outcome(report) == PASSED, (extra, report.to_dict())
        assert not verify_signature(DOCUMENT + b"x", der, trust, at=at).passed


def test_openssl_signature_without_certificates_needs_the_registered_one(
    trust, openssl, external, md
) -> None:
    signer, _rsa, folder, at = external
    der = openssl_sign(openssl, folder, "-nocerts")
    alone = verify_signature(DOCUMENT, der, trust, at=at)
    assert outcome(alone) == (Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND)
    registered = verify_signature(
        DOCUMENT, der, trust, at=at, expected_certificate=signer.certificate
    )
    assert outcome(registered) == PASSED
    wrong = verify_signature(DOCUMENT, der, trust, at=at, expected_certificate=md.certificate)
    assert not wrong.passed


def test_openssl_signature_with_another_certificate_is_refused(
    trust, openssl, external, md
) -> None:
    _signer, _rsa, folder, at = external
    der = openssl_sign(openssl, folder, "-cades")
    report = verify_signature(DOCUMENT, der, trust, at=at, expected_certificate=md.certificate)
    assert outcome(report) == (Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE)


def test_openssl_sha1_signature_is_not_acceptable(trust, openssl, external) -> None:
    _signer, _rsa, folder, at = external
    out = folder / "sha1.p7s"
    done = run([
        openssl, "cms", "-sign", "-binary", "-md", "sha1", "-outform", "DER",
        "-in", str(folder / "document.docx"), "-signer", str(folder / "cert.pem"),
        "-inkey", str(folder / "key.pem"), "-out", str(out),
    ])  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"this openssl refuses SHA-1 signing: {done.stderr.strip()}")
    report = verify_signature(DOCUMENT, out.read_bytes(), trust, at=at)
    assert outcome(report) == (
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )


def test_two_signers_in_one_file_is_a_format_failure(trust, openssl, external) -> None:
    _signer, _rsa, folder, at = external
    der = openssl_sign(
        openssl, folder, "-signer", str(folder / "rsa-cert.pem"),
        "-inkey", str(folder / "rsa-key.pem"),
    )  # fmt: skip
    report = verify_signature(DOCUMENT, der, trust, at=at)
    assert outcome(report) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
    assert "one signer" in report.detail


def test_certificate_without_unit_code_needs_the_registered_certificate(ca, trust) -> None:
    """A certificate from an external CA names no unit: only registration binds it to one."""
    key = generate_private_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Phạm Văn Đức")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ISSUED)
        .not_valid_after(ISSUED + timedelta(days=365))
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),
            critical=False,
        )
        .sign(ca._key, hashes.SHA256())
    )
    der = sign_detached(DOCUMENT, key, cert, signing_time=SIGNED_AT)
    unbound = verify_signature(DOCUMENT, der, trust, at=VERIFY_AT, expected_unit_code="VPHU-MD")
    assert unbound.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    bound = verify_signature(
        DOCUMENT, der, trust, at=VERIFY_AT, expected_unit_code="VPHU-MD", expected_certificate=cert
    )
    assert outcome(bound) == PASSED
    expected = {"VPHU-MD": UNITS["VPHU-MD"][0]}
    document = verify_document(
        DOCUMENT, expected, {"VPHU-MD": der}, trust, at=VERIFY_AT,
        expected_certificates={"VPHU-MD": cert},
    )  # fmt: skip
    assert document.status == "complete"
    assert verify_document(DOCUMENT, expected, {"VPHU-MD": der}, trust, at=VERIFY_AT).status == (
        "failed"
    )


def _ca_cert(subject: str, key, issuer_name: x509.Name, issuer_key, *, path_length: int | None):
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ISSUED - timedelta(days=30))
        .not_valid_after(ISSUED + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def test_external_hierarchy_with_an_intermediate_ca() -> None:
    """A public CA: root -> issuing CA -> signer. The signature carries the intermediate;
    only the root is trusted. Revoking the intermediate in the root's CRL fails the signer."""
    root_key, inter_key, leaf_key = (generate_private_key() for _ in range(3))
    root = _ca_cert("VN Root CA", root_key, None, root_key, path_length=1)
    inter = _ca_cert("VN Issuing CA", inter_key, root.subject, root_key, path_length=0)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(x509.NameOID.COMMON_NAME, "Đỗ Thị Lan"),
                    x509.NameAttribute(x509.NameOID.SERIAL_NUMBER, "VPHU-UH"),
                ]
            )
        )
        .issuer_name(inter.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ISSUED)
        .not_valid_after(ISSUED + timedelta(days=365))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(inter_key, hashes.SHA256())
    )
    der = sign_detached(DOCUMENT, leaf_key, leaf, signing_time=SIGNED_AT, chain=[inter])
    store = TrustStore([root])
    report = verify_signature(DOCUMENT, der, store, at=VERIFY_AT, expected_unit_code="VPHU-UH")
    assert outcome(report) == PASSED, report.to_dict()
    assert [link.subject for link in report.chain] == [
        leaf.subject.rfc4514_string(),
        "CN=VN Issuing CA",
        "CN=VN Root CA",
    ]
    without_intermediate = sign_detached(DOCUMENT, leaf_key, leaf, signing_time=SIGNED_AT)
    missing = verify_signature(DOCUMENT, without_intermediate, store, at=VERIFY_AT)
    assert outcome(missing) == (Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)

    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(ISSUED)
        .next_update(ISSUED + timedelta(days=7))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(inter.serial_number)
            .revocation_date(ISSUED)
            .build()
        )
        .sign(root_key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )
    revoked = verify_signature(DOCUMENT, der, TrustStore([root], [crl]), at=VERIFY_AT)
    assert outcome(revoked) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_programming_errors_are_our_errors(sigs) -> None:
    with pytest.raises(SigningError):
        verify_signature(DOCUMENT, sigs["VPHU-MD"], "ca.pem", at=VERIFY_AT)  # type: ignore[arg-type]
    with pytest.raises(SigningError):
        verify_signature("text", sigs["VPHU-MD"], None, at=VERIFY_AT)  # type: ignore[arg-type]
    with pytest.raises(SigningError):
        verify_signature(DOCUMENT, sigs["VPHU-MD"], None, at="2018-04-15")  # type: ignore[arg-type]
    with pytest.raises(SigningError):
        verify_document(DOCUMENT, ["VPHU-MD"], sigs, None, at=VERIFY_AT)  # type: ignore[arg-type]
