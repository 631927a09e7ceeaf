"""Signing: detached CAdES-BES CMS over exact bytes, accepted by our verifier and openssl."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from signing import Indication, KeySigner, Signer, TrustStore, verify_signature
from signing.ca import fingerprint_sha256
from signing.cms import sign_detached
from signing.credentials import TEST_KDF, generate_private_key, seal_private_key, unseal_private_key
from signing.errors import SigningError
from tests.signing.conftest import DOCUMENT, SIGNED_AT, VERIFY_AT, issue_signer, run


def signed_attributes(der: bytes) -> dict[str, object]:
    info = cms.ContentInfo.load(der)
    signer_info = info["content"]["signer_infos"][0]
    return {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}


@pytest.mark.parametrize("key_type", ["ec-p256", "rsa-3072"])
def test_round_trip_server_held_sealed_key(ca, key_type: str) -> None:
    """The server path: key sealed under the PIN, unsealed to sign, verified."""
    signer = issue_signer(ca, "VPHU-MD", key_type=key_type)
    sealed = seal_private_key(signer.key, "123456", params=TEST_KDF)
    key = unseal_private_key(sealed, "123456")
    der = sign_detached(DOCUMENT, key, signer.certificate, signing_time=SIGNED_AT)
    report = verify_signature(
        DOCUMENT, der, TrustStore([ca.certificate]), at=VERIFY_AT, expected_unit_code="VPHU-MD"
    )
    assert report.indication is Indication.TOTAL_PASSED, report.to_dict()
    assert report.passed
    assert report.sub_indication is None
    assert report.signer.name == "Nguyễn Văn Minh"
    assert report.signer.unit == "Văn phòng Huyện ủy Mỹ Đức"
    assert report.signer.unit_code == "VPHU-MD"
    assert report.signer.certificate_sha256 == fingerprint_sha256(signer.certificate)
    assert report.signing_time == SIGNED_AT
    assert [link.certificate_sha256 for link in report.chain] == [
        fingerprint_sha256(signer.certificate),
        fingerprint_sha256(ca.certificate),
    ]


def test_rsa_ca_round_trip(rsa_ca) -> None:
    signer = issue_signer(rsa_ca, "VPHU-UH", key_type="rsa-3072")
    der = sign_detached(DOCUMENT, signer.key, signer.certificate, signing_time=SIGNED_AT)
    report = verify_signature(DOCUMENT, der, TrustStore([rsa_ca.certificate]), at=VERIFY_AT)
    assert report.passed, report.to_dict()


def test_signed_attributes_are_cades_bes(md) -> None:
    der = sign_detached(DOCUMENT, md.key, md.certificate, signing_time=SIGNED_AT)
    info = cms.ContentInfo.load(der)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["encap_content_info"]["content"].native is None  # detached
    assert signed["digest_algorithms"][0]["algorithm"].native == "sha256"
    attrs = signed_attributes(der)
    assert set(attrs) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert attrs["content_type"].native == "data"
    assert attrs["message_digest"].native == hashlib.sha256(DOCUMENT).digest()
    assert attrs["signing_time"].native == SIGNED_AT
    ess = attrs["signing_certificate_v2"]["certs"][0]
    assert ess["cert_hash"].native == bytes.fromhex(fingerprint_sha256(md.certificate))
    assert ess["issuer_serial"]["serial_number"].native == md.certificate.serial_number
    certs = [c.chosen.dump() for c in signed["certificates"]]
    assert len(certs) == 1  # the signer's certificate travels with the signature


def test_chain_is_included(ca, md) -> None:
    der = sign_detached(
        DOCUMENT, md.key, md.certificate, signing_time=SIGNED_AT, chain=[ca.certificate]
    )
    assert len(cms.ContentInfo.load(der)["content"]["certificates"]) == 2


def test_signing_time_after_2049_uses_generalized_time(ca) -> None:
    signer = issue_signer(ca, "VPHU-TO")
    when = datetime(2050, 6, 1, tzinfo=UTC)
    der = sign_detached(DOCUMENT, signer.key, signer.certificate, signing_time=when)
    value = signed_attributes(der)["signing_time"]
    assert value.name == "generalized_time"
    assert value.native == when


def test_key_must_match_certificate(md) -> None:
    with pytest.raises(SigningError, match="không khớp"):
        sign_detached(DOCUMENT, generate_private_key(), md.certificate, signing_time=SIGNED_AT)
    with pytest.raises(SigningError):
        sign_detached("text", md.key, md.certificate, signing_time=SIGNED_AT)  # type: ignore[arg-type]
    with pytest.raises(SigningError):
        sign_detached(DOCUMENT, md.key, md.certificate, signing_time="today")  # type: ignore[arg-type]


@pytest.mark.parametrize("key_type", ["ec-p256", "rsa-3072"])
@pytest.mark.parametrize("cades", [False, True])
def test_openssl_cms_verify_accepts_our_signatures(
    ca, openssl, files, key_type: str, cades: bool
) -> None:
    signer = issue_signer(ca, "VPHU-MD", key_type=key_type)
    der = sign_detached(DOCUMENT, signer.key, signer.certificate, signing_time=SIGNED_AT)
    doc = files("document.docx", DOCUMENT)
    sig = files("VPHU-MD.p7s", der)
    ca_file = files("ca.pem", ca.certificate_pem)
    args = [
        openssl,
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        sig,
        "-content",
        doc,
        "-CAfile",
        ca_file,
        "-purpose",
        "any",
        "-attime",
        str(int(VERIFY_AT.timestamp())),
        "-out",
        "/dev/null",
    ]
    if cades:
        args.append("-cades")
    done = run(args)
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr

    # The same command refuses a changed document: the check is not a rubber stamp.
    changed = files("changed.docx", DOCUMENT[:-1] + b"!")
    args[args.index(doc)] = changed
    assert run(args).returncode != 0


class TokenLikeSigner:
    """Not a key object: something that only signs bytes and knows its certificates, the
    way a PKCS#11 token or a remote signing service would. It counts its calls."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, chain) -> None:
        self._key = key
        self._cert = cert
        self._chain = tuple(chain)
        self.calls: list[tuple[bytes, str]] = []

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        self.calls.append((data, hash_algorithm))
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


def _openssl_verify(openssl, files, der: bytes, ca) -> bool:
    done = run(
        [
            openssl,
            "cms",
            "-verify",
            "-binary",
            "-cades",
            "-inform",
            "DER",
            "-in",
            files("token.p7s", der),
            "-content",
            files("document.docx", DOCUMENT),
            "-CAfile",
            files("ca.pem", ca.certificate_pem),
            "-purpose",
            "any",
            "-attime",
            str(int(VERIFY_AT.timestamp())),
            "-out",
            "/dev/null",
        ]
    )
    return done.returncode == 0 and "Verification successful" in done.stderr


def test_a_signer_that_is_not_a_key_signs_what_openssl_accepts(ca, openssl, files) -> None:
    unit = issue_signer(ca, "VPHU-MD")
    token = TokenLikeSigner(unit.key, unit.certificate, [ca.certificate])
    assert isinstance(token, Signer)
    der = sign_detached(DOCUMENT, token, signing_time=SIGNED_AT)
    # The token was asked once, for SHA-256, over exactly the signed attributes.
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    assert token.calls == [(signer_info["signed_attrs"].untag().dump(force=True), "sha256")]
    assert len(cms.ContentInfo.load(der)["content"]["certificates"]) == 2
    assert _openssl_verify(openssl, files, der, ca)
    report = verify_signature(DOCUMENT, der, TrustStore([ca.certificate]), at=VERIFY_AT)
    assert report.passed, report.to_dict()


def test_a_signer_with_the_wrong_key_makes_a_signature_nobody_accepts(ca, openssl, files) -> None:
    unit = issue_signer(ca, "VPHU-MD")
    impostor = TokenLikeSigner(generate_private_key(), unit.certificate, ())
    der = sign_detached(DOCUMENT, impostor, signing_time=SIGNED_AT)
    assert not _openssl_verify(openssl, files, der, ca)
    report = verify_signature(DOCUMENT, der, TrustStore([ca.certificate]), at=VERIFY_AT)
    assert report.sub_indication == "SIG_CRYPTO_FAILURE"


def test_key_signer_is_the_key_form(ca, md) -> None:
    signer = KeySigner(md.key, md.certificate, [ca.certificate])
    via_signer = sign_detached(DOCUMENT, signer, signing_time=SIGNED_AT)
    via_key = sign_detached(
        DOCUMENT, md.key, md.certificate, signing_time=SIGNED_AT, chain=[ca.certificate]
    )
    # ECDSA is randomised: the same structure around a different signature value.
    assert len(via_signer) == pytest.approx(len(via_key), abs=2)
    for der in (via_signer, via_key):
        report = verify_signature(DOCUMENT, der, TrustStore([ca.certificate]), at=VERIFY_AT)
        assert report.passed
    with pytest.raises(SigningError, match="không khớp"):
        KeySigner(generate_private_key(), md.certificate)
    with pytest.raises(SigningError, match="own certificate"):
        sign_detached(DOCUMENT, signer, md.certificate, signing_time=SIGNED_AT)
    with pytest.raises(SigningError, match="not a Signer"):
        sign_detached(DOCUMENT, object(), signing_time=SIGNED_AT)  # type: ignore[arg-type]
