"""The cryptography of validation: accepted digest algorithms, the document's digests, and
the check of a signature value against the signer's public key."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from signing.validation.cms_reader import ParsedSignature
from signing.validation.status import SubIndication

__all__ = ["DIGESTS", "WEAK_DIGESTS", "DocumentDigests", "check_signature_value"]

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
WEAK_DIGESTS = frozenset({"md5", "sha1", "sha224"})

Problem = tuple[SubIndication, str]


class DocumentDigests:
    """Hashes of the document, computed at most once per algorithm: a document's
    signatures share them, and the bundle verifier has already hashed it for the bag."""

    def __init__(self, data: bytes, known: Mapping[str, bytes] | None = None):
        """``known``: digests of exactly ``data`` already computed by the caller."""
        self._data = data
        self._cache: dict[str, bytes] = dict(known or {})

    def get(self, name: str) -> bytes:
        value = self._cache.get(name)
        if value is None:
            value = hashlib.new(name, self._data).digest()
            self._cache[name] = value
        return value


def _signature_hash(parsed: ParsedSignature) -> hashes.HashAlgorithm | Problem:
    """The hash the signature algorithm names (or, for the bare key algorithms, the digest
    algorithm's)."""
    name = parsed.sig_name
    if name in ("rsassa_pkcs1v15", "ecdsa", "rsassa_pss"):
        return DIGESTS[parsed.digest_name]()
    prefix = name.split("_", 1)[0]
    if prefix in WEAK_DIGESTS:
        return SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, f"weak algorithm {name}"
    if prefix not in DIGESTS or not name.endswith(("_rsa", "_ecdsa")):
        return SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, f"unsupported algorithm {name}"
    return DIGESTS[prefix]()


def check_signature_value(
    parsed: ParsedSignature, key: Any, content_digest: bytes
) -> Problem | None:
    """None when the signature value verifies under ``key``; else (sub-indication, detail).
    With signed attributes the signature covers them; without, the content's digest."""
    sig_hash = _signature_hash(parsed)
    if isinstance(sig_hash, tuple):
        return sig_hash
    if parsed.signed_bytes is not None:
        message, prehashed = parsed.signed_bytes, False
    elif sig_hash.name == parsed.digest_name:
        message, prehashed = content_digest, True
    else:
        return SubIndication.FORMAT_FAILURE, "digest and signature hash disagree"
    name = parsed.sig_name
    try:
        if name.endswith("ecdsa"):
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return SubIndication.SIG_CRYPTO_FAILURE, "ECDSA signature but the key is not EC"
            key.verify(parsed.signature, message, _ecdsa(sig_hash.name, prehashed))
        elif name == "rsassa_pss":
            return _verify_pss(parsed, key, message, sig_hash, prehashed)
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                return SubIndication.SIG_CRYPTO_FAILURE, "RSA signature but the key is not RSA"
            algorithm = utils.Prehashed(sig_hash) if prehashed else sig_hash
            key.verify(parsed.signature, message, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return SubIndication.SIG_CRYPTO_FAILURE, "signature value does not verify"
    except (ValueError, TypeError) as exc:
        return SubIndication.SIG_CRYPTO_FAILURE, f"signature value unusable: {exc}"
    return None


def _verify_pss(
    parsed: ParsedSignature,
    key: Any,
    message: bytes,
    sig_hash: hashes.HashAlgorithm,
    prehashed: bool,
) -> Problem | None:
    """RSASSA-PSS with the parameters the signature carries; raises InvalidSignature."""
    if not isinstance(key, rsa.RSAPublicKey):
        return SubIndication.SIG_CRYPTO_FAILURE, "RSA-PSS signature but the key is not RSA"
    pad = _pss_padding(parsed.pss_params)
    if pad is None:
        return SubIndication.FORMAT_FAILURE, "unsupported RSA-PSS parameters"
    pss_hash = DIGESTS.get(parsed.pss_params["hash_algorithm"]["algorithm"])
    if pss_hash is None:
        return SubIndication.FORMAT_FAILURE, "unsupported RSA-PSS hash"
    if prehashed and pss_hash().name != sig_hash.name:
        return SubIndication.FORMAT_FAILURE, "RSA-PSS hash differs from the digest"
    chosen = utils.Prehashed(pss_hash()) if prehashed else pss_hash()
    key.verify(parsed.signature, message, pad, chosen)
    return None


@lru_cache(maxsize=16)
def _ecdsa(hash_name: str, prehashed: bool) -> ec.ECDSA:
    """The (immutable) ECDSA algorithm object; building one costs a few type checks."""
    algorithm = DIGESTS[hash_name]()
    return ec.ECDSA(utils.Prehashed(algorithm) if prehashed else algorithm)


def _pss_padding(params: Any) -> padding.PSS | None:
    try:
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"] != "mgf1":
            return None
        mgf_hash = DIGESTS.get(mgf["parameters"]["algorithm"])
        if mgf_hash is None:
            return None
        salt = int(params["salt_length"])
        return padding.PSS(mgf=padding.MGF1(mgf_hash()), salt_length=salt)
    except (KeyError, TypeError, ValueError):
        return None
