"""Detached CMS SignedData (RFC 5652) over exact bytes, CAdES-BES style.

``cryptography``'s PKCS7SignatureBuilder cannot add ESS signing-certificate-v2, which
``openssl cms -verify -cades`` demands, so the structure is assembled with asn1crypto; the
signature value comes from a ``Signer`` (signing/signers.py), which may be a key in memory,
a token or a remote service: this module never touches a private key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import lru_cache

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing._util import certificate_der, utc
from signing.errors import SigningError
from signing.signers import KeySigner, Signer

__all__ = ["content_info", "sign_detached", "signed_attributes", "signer_parts"]

# UTCTime covers 1950..2049 (RFC 5652 11.3); GeneralizedTime outside.
_UTCTIME_END = dt.datetime(2050, 1, 1, tzinfo=dt.UTC)
_UTCTIME_START = dt.datetime(1950, 1, 1, tzinfo=dt.UTC)


@lru_cache(maxsize=1024)
def signer_parts(cert_der: bytes, chain_ders: tuple[bytes, ...]) -> tuple[bytes, bytes, bytes, str]:
    """DER of the parts that depend only on the certificates: the signing-certificate-v2
    attribute, the SignerIdentifier and the CertificateSet; and the CMS name of the
    signature algorithm the certificate's key makes.

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
    return ess_attr.dump(), sid.dump(), certificates.dump(), _signature_algorithm(a_cert)


def _signature_algorithm(a_cert: a_x509.Certificate) -> str:
    """ECDSA for an EC key, PKCS#1 v1.5 for RSA: what ``openssl cms -sign`` makes too."""
    algorithm = a_cert.public_key.algorithm
    if algorithm == "ec":
        return "sha256_ecdsa"
    if algorithm == "rsa":
        return "rsassa_pkcs1v15"
    raise SigningError(f"unsupported key type {algorithm} in the signer's certificate")


_CONTENT_TYPE_ATTR = cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump()
_SHA256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()


def _time_value(moment: dt.datetime) -> cms.Time:
    if _UTCTIME_START <= moment < _UTCTIME_END:
        return cms.Time("utc_time", core.UTCTime(moment))
    return cms.Time("generalized_time", core.GeneralizedTime(moment))


def sign_detached(
    data: bytes,
    signer: Signer | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    certificate: x509.Certificate | None = None,
    *,
    signing_time: dt.datetime,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """DER ContentInfo(SignedData), detached, SHA-256, over exactly ``data``.

    Signed attributes: content-type, message-digest, signing-time, ESS signing-certificate-v2.
    ``signer`` makes the signature value; its certificate and chain travel in the SignedData.
    A private key with its ``certificate`` (and ``chain``) is accepted too, as a KeySigner.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SigningError("data to sign must be bytes")
    signer = _as_signer(signer, certificate, chain)
    cert = signer.certificate
    if not isinstance(cert, x509.Certificate):
        raise SigningError("the signer's certificate must be an x509.Certificate")
    when = utc(signing_time, "signing_time").replace(microsecond=0)
    chain_ders = tuple(certificate_der(c) for c in signer.chain)
    ess_der, sid_der, certs_der, algo = signer_parts(certificate_der(cert), chain_ders)
    to_sign = signed_attributes(hashlib.sha256(data).digest(), ess_der, when)
    signature = signer.sign(to_sign, "sha256")
    if not isinstance(signature, bytes) or not signature:
        raise SigningError("the signer returned no signature value")
    return content_info(sid_der, to_sign, algo, signature, certs_der)


def _as_signer(
    signer: object, certificate: x509.Certificate | None, chain: Sequence[x509.Certificate]
) -> Signer:
    if isinstance(signer, KeySigner) and certificate is None and not chain:
        return signer
    if isinstance(signer, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        if certificate is None:
            raise SigningError("a private key signs only with its certificate")
        return KeySigner(signer, certificate, chain)
    if certificate is not None or chain:
        raise SigningError("a Signer brings its own certificate and chain")
    if not isinstance(signer, Signer):
        raise SigningError(f"cannot sign with {type(signer).__name__}: not a Signer or a key")
    return signer


def signed_attributes(digest: bytes, ess_der: bytes, when: dt.datetime | None) -> bytes:
    """DER of the signed attributes as the SET the signature covers: content-type,
    message-digest, signing-time (unless ``when`` is None: PAdES puts the claimed time in
    the PDF's signature dictionary instead) and ESS signing-certificate-v2."""
    # asn1crypto sorts SET OF members by encoding, as DER requires (openssl re-encodes the
    # set before checking the signature, so the order matters).
    der: bytes = cms.CMSAttributes(
        [
            cms.CMSAttribute.load(_CONTENT_TYPE_ATTR),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            *(
                ()
                if when is None
                else (cms.CMSAttribute({"type": "signing_time", "values": [_time_value(when)]}),)
            ),
            cms.CMSAttribute.load(ess_der),
        ]
    ).dump()
    return der


def content_info(
    sid_der: bytes, to_sign: bytes, algo: str, signature: bytes, certs_der: bytes
) -> bytes:
    """DER ContentInfo(SignedData), detached id-data, one signer, from the parts
    ``signer_parts`` and ``signed_attributes`` give and the signature value over
    ``to_sign``."""
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
    der: bytes = cms.ContentInfo(
        {"content_type": "signed_data", "content": cms.SignedData.load(signed_data)}
    ).dump()
    return der
