"""Who makes the signature value: the ``Signer`` abstraction (as in pyHanko).

The CMS code (signing/cms.py) builds the signed attributes and the SignedData around a
certificate; a Signer holds that certificate, the chain that travels with it, and turns the
DER-encoded signed attributes into a signature value. ``KeySigner`` does it with a private
key the server holds (unsealed under the signer's PIN); a PKCS#11 token or a remote signing
service can stand behind the same protocol without any change to the CMS code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from signing.credentials import PrivateKey, check_key_matches, check_supported_key
from signing.errors import SigningError

__all__ = ["KeySigner", "Signer"]

# Hash algorithms a Signer is asked for, by the names CMS and asn1crypto use.
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@runtime_checkable
class Signer(Protocol):
    """Makes signature values for one certificate.

    ``sign`` gets the exact bytes to sign (the DER of the signed attributes) and the name of
    the hash algorithm ("sha256"), hashes them itself, and returns the signature value in
    the form CMS carries for the certificate's key: a DER ECDSA-Sig-Value for an EC key,
    a PKCS#1 v1.5 signature for an RSA key. It raises SigningError when it cannot sign.
    """

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate: it names the signer and its public key checks ``sign``."""
        ...

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        """Certificates that travel with the signature (intermediates, the CA); may be empty."""
        ...

    def sign(self, data: bytes, hash_algorithm: str) -> bytes: ...


class KeySigner:
    """A Signer over a private key held in memory (EC P-256/P-384/P-521 or RSA >= 2048)."""

    def __init__(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        self._key = check_supported_key(key)
        if not isinstance(certificate, x509.Certificate):
            raise SigningError("certificate must be an x509.Certificate")
        check_key_matches(self._key, certificate)
        for extra in chain:
            if not isinstance(extra, x509.Certificate):
                raise SigningError("chain must hold x509.Certificate objects")
        self._certificate = certificate
        self._chain = tuple(chain)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        algorithm = _HASHES.get(hash_algorithm)
        if algorithm is None:
            raise SigningError(f"unsupported hash algorithm {hash_algorithm!r}")
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm()))
        assert isinstance(self._key, rsa.RSAPrivateKey)
        return self._key.sign(data, padding.PKCS1v15(), algorithm())
