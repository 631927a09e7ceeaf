"""The deployment CA: creation and storage, signer certificates, renewal, CRLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from signing.ca import (
    DOCUMENT_SIGNING,
    CertificateAuthority,
    Revocation,
    certificate_unit_code,
    certificate_user_id,
    fingerprint_sha256,
)
from signing.credentials import TEST_KDF, generate_private_key
from signing.errors import FormatError, SigningError, WrongPin
from tests.signing.conftest import CA_CREATED, ISSUED, MASTER, issue_signer, pem, run


def test_ca_certificate_is_a_root_for_signing_certificates_and_crls(ca) -> None:
    cert = ca.certificate
    assert cert.issuer == cert.subject
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.key_cert_sign
    assert ku.value.crl_sign
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.not_valid_before_utc == CA_CREATED
    assert ca.certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert ca.fingerprint == fingerprint_sha256(cert)
    assert len(ca.fingerprint) == 64


def test_rsa_ca(rsa_ca) -> None:
    key = rsa_ca.certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 3072


def test_ca_key_is_encrypted_at_rest_and_reloads(ca, md) -> None:
    assert b"PRIVATE KEY" not in ca.encrypted_key
    loaded = CertificateAuthority.load(ca.certificate_pem, ca.encrypted_key, MASTER)
    assert loaded.certificate == ca.certificate
    # The reloaded CA issues certificates that chain to the same root.
    cert = loaded.issue(
        md.key.public_key(), person="A", unit_name="B", unit_code="C", user_id="d", now=ISSUED
    )
    cert.verify_directly_issued_by(ca.certificate)


def test_wrong_master_secret(ca) -> None:
    with pytest.raises(WrongPin):
        CertificateAuthority.load(ca.certificate_pem, ca.encrypted_key, b"x" * len(MASTER))


def test_stored_ca_must_be_consistent(ca, rsa_ca) -> None:
    with pytest.raises(SigningError, match="không khớp"):
        CertificateAuthority.load(rsa_ca.certificate_pem, ca.encrypted_key, MASTER)
    with pytest.raises(FormatError):
        CertificateAuthority.load(b"not pem", ca.encrypted_key, MASTER)
    with pytest.raises(FormatError):
        CertificateAuthority.load(ca.certificate_pem, b"garbage", MASTER)


def test_master_secret_must_be_long_enough() -> None:
    with pytest.raises(SigningError, match="16 bytes"):
        CertificateAuthority.create("CA", "Org", b"short", CA_CREATED, kdf_params=TEST_KDF)
    with pytest.raises(SigningError):
        CertificateAuthority.create("CA", "Org", "text" * 8, CA_CREATED)  # type: ignore[arg-type]


def test_signer_certificate_profile(ca, md) -> None:
    cert = md.certificate
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Văn Minh"
    assert (
        subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        == "Văn phòng Huyện ủy Mỹ Đức"
    )
    assert certificate_unit_code(cert) == "VPHU-MD"
    assert certificate_user_id(cert) == "vphu-md-signer"
    assert cert.issuer == ca.certificate.subject

    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature
    assert ku.value.content_commitment
    assert not ku.value.key_cert_sign
    assert not ku.value.key_encipherment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # Document signing, and email protection for NSS readers (pdfsig) of signed PDFs.
    assert list(eku) == [DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert DOCUMENT_SIGNING.dotted_string == "1.3.6.1.5.5.7.3.36"
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert not bc.value.ca
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(md.key.public_key())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.certificate.extensions.get_extension_for_oid(
        ExtensionOID.SUBJECT_KEY_IDENTIFIER
    ).value
    assert aki.key_identifier == ca_ski.digest

    assert cert.not_valid_before_utc == ISSUED
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=730)
    cert.verify_directly_issued_by(ca.certificate)


def test_serials_are_random_and_positive(ca) -> None:
    serials = {issue_signer(ca, "VPHU-MD").certificate.serial_number for _ in range(5)}
    assert len(serials) == 5
    assert all(0 < s < 2**159 and s.bit_length() > 64 for s in serials)


def test_rsa_signer_certificate(ca) -> None:
    signer = issue_signer(ca, "VPHU-UH", key_type="rsa-3072")
    assert isinstance(signer.certificate.public_key(), rsa.RSAPublicKey)


def test_issue_validates_its_input(ca) -> None:
    key = generate_private_key().public_key()
    fields = {"person": "A", "unit_name": "B", "unit_code": "VPHU-MD", "user_id": "u"}
    with pytest.raises(SigningError, match="unit code"):
        ca.issue(key, **{**fields, "unit_code": "VPHU_MĐ"}, now=ISSUED)
    with pytest.raises(SigningError, match="person"):
        ca.issue(key, **{**fields, "person": "  "}, now=ISSUED)
    with pytest.raises(SigningError):
        ca.issue(key, **fields, now=ISSUED, validity_days=0)
    with pytest.raises(SigningError, match="before the CA"):
        ca.issue(key, **fields, now=CA_CREATED - timedelta(days=1))
    weak = rsa.generate_private_key(65537, 1024).public_key()  # noqa: S505 - must be refused
    with pytest.raises(SigningError):
        ca.issue(weak, **fields, now=ISSUED)


def test_naive_datetimes_are_utc(ca) -> None:
    signer = issue_signer(ca, "VPHU-TO", now=datetime(2018, 3, 1, 8, 0))
    assert signer.certificate.not_valid_before_utc == datetime(2018, 3, 1, 8, 0, tzinfo=UTC)


def test_renew_keeps_subject_and_key_with_new_serial_and_validity(ca, md) -> None:
    later = ISSUED + timedelta(days=700)
    renewed = ca.renew(md.certificate, now=later)
    assert renewed.subject == md.certificate.subject
    assert renewed.public_key() == md.certificate.public_key()
    assert renewed.serial_number != md.certificate.serial_number
    assert renewed.not_valid_before_utc == later
    assert renewed.not_valid_after_utc == later + timedelta(days=730)
    renewed.verify_directly_issued_by(ca.certificate)


def test_renew_refuses_foreign_certificates(ca, other_ca) -> None:
    foreign = issue_signer(other_ca, "VPHU-MD").certificate
    with pytest.raises(SigningError, match="not issued by this CA"):
        ca.renew(foreign, now=ISSUED)


def test_crl_lists_revocations_and_is_signed_by_the_ca(ca, signers) -> None:
    now = ISSUED + timedelta(days=10)
    md_serial = signers["VPHU-MD"].certificate.serial_number
    uh_serial = signers["VPHU-UH"].certificate.serial_number
    der = ca.crl(
        [
            Revocation(md_serial, ISSUED + timedelta(days=5), "key_compromise"),
            Revocation(uh_serial, ISSUED + timedelta(days=6)),
        ],
        now=now,
    )
    crl = x509.load_der_x509_crl(der)
    assert crl.is_signature_valid(ca.certificate.public_key())
    assert crl.issuer == ca.certificate.subject
    assert crl.last_update_utc == now
    assert crl.next_update_utc == now + timedelta(days=7)
    entry = crl.get_revoked_certificate_by_serial_number(md_serial)
    assert entry is not None
    assert entry.revocation_date_utc == ISSUED + timedelta(days=5)
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    plain = crl.get_revoked_certificate_by_serial_number(uh_serial)
    assert plain is not None
    assert len(plain.extensions) == 0
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    later = x509.load_der_x509_crl(ca.crl([], now=now + timedelta(days=1)))
    assert later.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > number


def test_crl_and_revocation_validation(ca) -> None:
    with pytest.raises(SigningError, match="reason"):
        Revocation(5, ISSUED, "lost_it")
    with pytest.raises(SigningError):
        Revocation(0, ISSUED)
    with pytest.raises(SigningError):
        ca.crl([], now=ISSUED, next_update_days=0)


def test_openssl_accepts_certificates_and_crl(ca, md, openssl, files) -> None:
    ca_file = files("ca.pem", ca.certificate_pem)
    leaf = files("leaf.pem", pem(md.certificate))
    attime = str(int((ISSUED + timedelta(days=1)).timestamp()))
    done = run([openssl, "verify", "-purpose", "any", "-attime", attime, "-CAfile", ca_file, leaf])
    assert done.returncode == 0, done.stdout + done.stderr
    crl = files("crl.der", ca.crl([], now=ISSUED))
    done = run([openssl, "crl", "-inform", "DER", "-in", crl, "-CAfile", ca_file, "-noout"])
    assert done.returncode == 0, done.stderr
    assert "verify OK" in done.stdout + done.stderr


def test_altered_stored_ca_certificate_is_refused(ca) -> None:
    """Same key, edited name: the self-signature no longer verifies."""
    edited = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Edited CA")]))
        .issuer_name(ca.certificate.issuer)
        .public_key(ca.certificate.public_key())
        .serial_number(ca.certificate.serial_number)
        .not_valid_before(ca.certificate.not_valid_before_utc)
        .not_valid_after(ca.certificate.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca.certificate.public_key()), critical=False
        )
        .sign(generate_private_key(), hashes.SHA256())
    )
    with pytest.raises(FormatError, match="does not verify"):
        CertificateAuthority.load(
            edited.public_bytes(serialization.Encoding.PEM), ca.encrypted_key, MASTER
        )
