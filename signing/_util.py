"""Small shared helpers: time normalisation and certificate parsing with a cache."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache, wraps
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from signing.errors import FormatError, SigningError

T = TypeVar("T")


def utc(moment: datetime, what: str = "time") -> datetime:
    """Aware UTC datetime. A naive value is taken as UTC (what SQLite hands back)."""
    if not isinstance(moment, datetime):
        raise SigningError(f"{what} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# What cryptography raises on a malformed certificate; several are not ValueErrors.
CERT_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
)


def bytes_cache(
    maxsize: int, max_bytes: int
) -> Callable[[Callable[[bytes], T]], Callable[[bytes], T]]:
    """``lru_cache`` for a pure function of one bytes argument, bypassed for arguments over
    ``max_bytes``: the cache holds at most ``maxsize`` small keys, so its memory stays
    bounded whatever (hostile) input callers pass."""

    def decorate(function: Callable[[bytes], T]) -> Callable[[bytes], T]:
        cached = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def wrapper(data: bytes) -> T:
            if len(data) <= max_bytes:
                return cached(data)
            return function(data)

        return wrapper

    return decorate


# Certificates in the wild are a few KiB; bigger ones are parsed every time.
MAX_CACHED_CERTIFICATE_BYTES = 64 * 1024


@bytes_cache(maxsize=8192, max_bytes=MAX_CACHED_CERTIFICATE_BYTES)
def load_der_certificate(der: bytes) -> x509.Certificate:
    """Parse a DER certificate once; verification sees the same few certificates again and again."""
    try:
        return x509.load_der_x509_certificate(der)
    except CERT_ERRORS as exc:
        raise FormatError(f"chứng thư số không đọc được (DER): {exc}") from None


def certificate_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
