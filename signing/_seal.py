"""Sealed blobs: a secret (PIN or master secret) -> Argon2id -> AES-256-GCM.

Layout (all integers big-endian), version 1::

    magic  b"TDSEAL"        6 bytes
    version                 1 byte   (1)
    purpose                 1 byte   (what the blob holds; stops a CA key blob being
                                      accepted where a signer key is expected)
    kdf                     1 byte   (1 = Argon2id)
    memory_cost_kib         4 bytes
    iterations              4 bytes
    lanes                   1 byte
    salt                   16 bytes
    nonce                  12 bytes
    ciphertext + GCM tag    rest

Everything before the ciphertext is authenticated as associated data, so a changed parameter
or purpose fails like a wrong secret. The parameters are bounded before the KDF runs so a
hostile blob cannot make us allocate gigabytes.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from signing.errors import FormatError, WrongPin

MAGIC = b"TDSEAL"
VERSION = 1
KDF_ARGON2ID = 1
PURPOSE_SIGNER_KEY = 1
PURPOSE_CA_KEY = 2

_HEADER = struct.Struct(">6sBBBIIB")
_SALT_LEN = 16
_NONCE_LEN = 12
_TAG_LEN = 16
_PREFIX_LEN = _HEADER.size + _SALT_LEN + _NONCE_LEN
_MAX_BLOB = 64 * 1024  # a PKCS#8 RSA-4096 key is about 2.4 KB

# Bounds accepted when opening a blob.
_MIN_MEMORY_KIB, _MAX_MEMORY_KIB = 8 * 1024, 256 * 1024
_MAX_ITERATIONS = 10
_MAX_LANES = 4


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. The default is RFC 9106's second recommended option (64 MiB, t=3)."""

    memory_cost_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 1

    def check(self) -> None:
        if not _MIN_MEMORY_KIB <= self.memory_cost_kib <= _MAX_MEMORY_KIB:
            raise FormatError(
                f"Argon2id memory cost {self.memory_cost_kib} KiB is outside "
                f"{_MIN_MEMORY_KIB}..{_MAX_MEMORY_KIB} KiB"
            )
        if not 1 <= self.iterations <= _MAX_ITERATIONS:
            raise FormatError(f"Argon2id iterations {self.iterations} outside 1..{_MAX_ITERATIONS}")
        if not 1 <= self.lanes <= _MAX_LANES:
            raise FormatError(f"Argon2id lanes {self.lanes} outside 1..{_MAX_LANES}")


DEFAULT_KDF = KdfParams()
# The cheapest parameters the opener accepts; for test suites only (about 15 ms).
TEST_KDF = KdfParams(memory_cost_kib=_MIN_MEMORY_KIB, iterations=1, lanes=1)


def _derive(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    kdf = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_cost_kib,
    )
    return kdf.derive(secret)


def seal(
    plaintext: bytes, secret: bytes, *, purpose: int, params: KdfParams = DEFAULT_KDF
) -> bytes:
    params.check()
    salt = os.urandom(_SALT_LEN)
    nonce = os.urandom(_NONCE_LEN)
    header = _HEADER.pack(
        MAGIC,
        VERSION,
        purpose,
        KDF_ARGON2ID,
        params.memory_cost_kib,
        params.iterations,
        params.lanes,
    )
    prefix = header + salt + nonce
    key = _derive(secret, salt, params)
    return prefix + AESGCM(key).encrypt(nonce, plaintext, prefix)


def read_params(blob: bytes, *, purpose: int) -> KdfParams:
    """Parse and bound-check the header; raise FormatError for anything not a sealed blob."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise FormatError("sealed key must be bytes")
    blob = bytes(blob)
    if len(blob) > _MAX_BLOB:
        raise FormatError("sealed key is too large")
    if len(blob) < _PREFIX_LEN + _TAG_LEN + 1:
        raise FormatError("sealed key is truncated")
    magic, version, got_purpose, kdf, memory, iterations, lanes = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise FormatError("not a thidua sealed key (bad magic)")
    if version != VERSION:
        raise FormatError(f"unsupported sealed-key version {version}")
    if kdf != KDF_ARGON2ID:
        raise FormatError(f"unsupported key-derivation function {kdf}")
    if got_purpose != purpose:
        raise FormatError("sealed blob holds a different kind of key")
    params = KdfParams(memory_cost_kib=memory, iterations=iterations, lanes=lanes)
    params.check()
    return params


def open_sealed(blob: bytes, secret: bytes, *, purpose: int) -> bytes:
    params = read_params(blob, purpose=purpose)
    blob = bytes(blob)
    salt = blob[_HEADER.size : _HEADER.size + _SALT_LEN]
    nonce = blob[_HEADER.size + _SALT_LEN : _PREFIX_LEN]
    key = _derive(secret, salt, params)
    try:
        return AESGCM(key).decrypt(nonce, blob[_PREFIX_LEN:], blob[:_PREFIX_LEN])
    except InvalidTag:
        # A wrong secret and a tampered blob are indistinguishable by design.
        raise WrongPin("sai mã PIN hoặc khóa đã bị thay đổi") from None
