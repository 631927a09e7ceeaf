"""Passwords (Argon2id via argon2-cffi) and API tokens (random, stored as SHA-256)."""

from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from workflow.values import sha256_hex

_HASHER = PasswordHasher()
TOKEN_PREFIX = "thd_"  # noqa: S105 (a prefix, not a secret)
# A fixed hash to verify against when the user does not exist, so a login attempt for an
# unknown user costs the same time as one for a known user.
_DUMMY_HASH = _HASHER.hash("thidua: no such user")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def new_token() -> str:
    """A bearer token with 256 bits of entropy; only its digest is stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # High-entropy tokens need no slow hash: SHA-256 is enough and lets us look them up.
    return sha256_hex(token.encode("utf-8"))


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
