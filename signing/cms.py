"""Detached CMS SignedData (RFC 5652) over exact bytes, CAdES-BES style.

``cryptography``'s PKCS7SignatureBuilder cannot add ESS signing-certificate-v2, which
``openssl cms -verify -cades`` demands, so the structure is assembled with asn1crypto and only
the signature itself is computed by ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import lru_cache

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from signing._util import certificate_der, utc
from signing.credentials import PrivateKey, check_key_matches, check_supported_key
from signing.errors import SigningError

__all__ = ["sign_detached"]

# UTCTime covers 1950..2049 (RFC 5652 11.3); GeneralizedTime outside.
_UTCTIME_END = dt.datetime(2050, 1, 1, tzinfo=dt.UTC)
_UTCTIME_START = dt.datetime(1950, 1, 1, tzinfo=dt.UTC)


@lru_cache(maxsize=1024)
def _signer_parts(cert_der: bytes, chain_ders: tuple[bytes, ...]) -> tuple[bytes, bytes, bytes]:
    """DER of the parts that depend only on the certificates: the signing-certificate-v2
    attribute, the SignerIdentifier and the CertificateSet.

    Cached: a signer signs many documents with the same certificate, and re-encoding
    certificates through asn1crypto is most of the cost of a signature."""
    a_cert = a_x509.Certificate.load(cert_der)
    ess = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    # hashAlgorithm DEFAULT sha256 is omitted, as DER requires.
                    "cert_hash": hashlib.sha256(cert_der).digest(),
                    "issuer_serial": {
                        "issuer": [a_x509.GeneralName("directory_name", a_cert.issuer)],
                        "serial_number": a_cert.serial_number,
                    },
                }
            ]
        }
    )
    ess_attr = cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]})
    sid = cms.SignerIdentifier(
        "issuer_and_serial_number",
        {"issuer": a_cert.issuer, "serial_number": a_cert.serial_number},
    )
    ders = [cert_der, *(d for d in chain_ders if d != cert_der)]
    certificates = cms.CertificateSet(
        [cms.CertificateChoices("certificate", a_x509.Certificate.load(d)) for d in ders]
    )
    return ess_attr.dump(), sid.dump(), certificates.dump()


_CONTENT_TYPE_ATTR = cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump()
_SHA256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()


def _time_value(moment: dt.datetime) -> cms.Time:
    if _UTCTIME_START <= moment < _UTCTIME_END:
        return cms.Time("utc_time", core.UTCTime(moment))
    return cms.Time("generalized_time", core.GeneralizedTime(moment))


def sign_detached(
    data: bytes,
    private_key: PrivateKey,
    certificate: x509.Certificate,
    *,
    signing_time: dt.datetime,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """DER ContentInfo(SignedData), detached, SHA-256, over exactly ``data``.

    Signed attributes: content-type, message-digest, signing-time, ESS signing-certificate-v2.
    The signer certificate and ``chain`` travel in the SignedData. RSA keys sign with
    PKCS#1 v1.5, EC keys with ECDSA (what ``openssl cms -sign`` produces by default).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SigningError("data to sign must be bytes")
    key = check_supported_key(private_key)
    if not isinstance(certificate, x509.Certificate):
        raise SigningError("certificate must be an x509.Certificate")
    check_key_matches(key, certificate)
    when = utc(signing_time, "signing_time").replace(microsecond=0)

    for extra in chain:
        if not isinstance(extra, x509.Certificate):
            raise SigningError("chain must hold x509.Certificate objects")
    cert_der = certificate_der(certificate)
    ess_der, sid_der, certs_der = _signer_parts(cert_der, tuple(certificate_der(c) for c in chain))
    digest = hashlib.sha256(data).digest()

    # asn1crypto sorts SET OF members by encoding, as DER requires (openssl re-encodes the
    # set before checking the signature, so the order matters).
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute.load(_CONTENT_TYPE_ATTR),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute({"type": "signing_time", "values": [_time_value(when)]}),
            cms.CMSAttribute.load(ess_der),
        ]
    )
    to_sign = signed_attrs.dump()

    if isinstance(key, ec.EllipticCurvePrivateKey):
        algo = "sha256_ecdsa"
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    else:
        algo = "rsassa_pkcs1v15"
        assert isinstance(key, rsa.RSAPrivateKey)
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())

    # Each level is encoded once and handed to its parent as a loaded (unparsed) value:
    # asn1crypto then copies bytes instead of re-encoding the whole tree at every level.
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier.load(sid_der),
            "digest_algorithm": algos.DigestAlgorithm.load(_SHA256),
            "signed_attrs": cms.CMSAttributes.load(to_sign),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algo}),
            "signature": signature,
        }
    ).dump()
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm.load(_SHA256)],
            "encap_content_info": {"content_type": "data"},
            "certificates": cms.CertificateSet.load(certs_der),
            "signer_infos": cms.SignerInfos([cms.SignerInfo.load(signer_info)]),
        }
    ).dump()
    return cms.ContentInfo(
        {"content_type": "signed_data", "content": cms.SignedData.load(signed_data)}
    ).dump()
