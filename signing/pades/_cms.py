"""The CMS of a PAdES baseline signature (ETSI EN 319 142-1 B-B), assembled from DER parts.

pyHanko builds it through asn1crypto's object tree, re-encoding every certificate on each
signature: about half the cost of signing a PDF. The parts that depend only on the
certificates are encoded once here (as signing/cms.py does for detached signatures); the
signed attributes are content-type, message-digest and ESS signing-certificate-v2, without
signing-time (PAdES puts the claimed time in the signature dictionary's /M).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as a_x509

__all__ = ["content_info", "signed_attributes"]

_SHA256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
_CONTENT_TYPE = cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump()


@lru_cache(maxsize=1024)
def _parts(cert_der: bytes, chain_ders: tuple[bytes, ...]) -> tuple[bytes, bytes, bytes]:
    """DER of the ESS signing-certificate-v2 attribute, the SignerIdentifier and the
    CertificateSet for one certificate and its chain."""
    a_cert = a_x509.Certificate.load(cert_der)
    ess = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "cert_hash": hashlib.sha256(cert_der).digest(),
                    "issuer_serial": {
                        "issuer": [a_x509.GeneralName("directory_name", a_cert.issuer)],
                        "serial_number": a_cert.serial_number,
                    },
                }
            ]
        }
    )
    ess_der = cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}).dump()
    sid = cms.SignerIdentifier(
        "issuer_and_serial_number",
        {"issuer": a_cert.issuer, "serial_number": a_cert.serial_number},
    ).dump()
    ders = [cert_der, *(d for d in chain_ders if d != cert_der)]
    certificates = cms.CertificateSet(
        [cms.CertificateChoices("certificate", a_x509.Certificate.load(d)) for d in ders]
    ).dump()
    return ess_der, sid, certificates


def signed_attributes(digest: bytes, cert_der: bytes, chain_ders: tuple[bytes, ...]) -> bytes:
    """DER of the signed attributes (the SET the signature value covers)."""
    ess_der, _, _ = _parts(cert_der, chain_ders)
    der: bytes = cms.CMSAttributes(
        [
            cms.CMSAttribute.load(_CONTENT_TYPE),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute.load(ess_der),
        ]
    ).dump()
    return der


def content_info(
    signed_attrs: bytes,
    signature: bytes,
    algorithm: str,
    cert_der: bytes,
    chain_ders: tuple[bytes, ...],
) -> bytes:
    """DER ContentInfo(SignedData), detached id-data, one signer."""
    _, sid_der, certs_der = _parts(cert_der, chain_ders)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier.load(sid_der),
            "digest_algorithm": algos.DigestAlgorithm.load(_SHA256),
            "signed_attrs": cms.CMSAttributes.load(signed_attrs),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algorithm}),
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
