"""Signer credentials: PIN-sealed keys, PKCS#12 import, certificates registered alone."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from signing._seal import PURPOSE_CA_KEY, read_params, seal
from signing.credentials import (
    DEFAULT_KDF,
    TEST_KDF,
    generate_private_key,
    import_pkcs12,
    load_certificate,
    load_certificates,
    seal_private_key,
    unseal_private_key,
)
from signing.errors import FormatError, SigningError, WrongPassword, WrongPin
from tests.signing.conftest import key_pem, pem, run


def public_der(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    ("key_type", "cls"), [("ec-p256", ec.EllipticCurvePrivateKey), ("rsa-3072", rsa.RSAPrivateKey)]
)
def test_seal_round_trip(key_type: str, cls: type) -> None:
    key = generate_private_key(key_type)
    assert isinstance(key, cls)
    sealed = seal_private_key(key, "123456", params=TEST_KDF)
    assert b"123456" not in sealed
    assert key_pem(key) not in sealed
    opened = unseal_private_key(sealed, "123456")
    assert public_der(opened) == public_der(key)


def test_wrong_pin_raises_wrong_pin() -> None:
    sealed = seal_private_key(generate_private_key(), "123456", params=TEST_KDF)
    with pytest.raises(WrongPin):
        unseal_private_key(sealed, "654321")
    with pytest.raises(WrongPin):
        unseal_private_key(sealed, "1234567")


def test_sealing_is_randomised() -> None:
    key = generate_private_key()
    assert seal_private_key(key, "1", params=TEST_KDF) != seal_private_key(
        key, "1", params=TEST_KDF
    )


def test_pin_is_compared_in_nfc() -> None:
    pin = unicodedata.normalize("NFC", "mật-khẩu-Đức")
    sealed = seal_private_key(generate_private_key(), pin, params=TEST_KDF)
    unseal_private_key(sealed, unicodedata.normalize("NFD", pin))


def test_tampered_blob_fails_like_a_wrong_pin() -> None:
    sealed = bytearray(seal_private_key(generate_private_key(), "123456", params=TEST_KDF))
    sealed[-5] ^= 0x01
    with pytest.raises(WrongPin):
        unseal_private_key(bytes(sealed), "123456")


def test_changed_kdf_parameters_are_authenticated() -> None:
    sealed = bytearray(seal_private_key(generate_private_key(), "123456", params=TEST_KDF))
    sealed[16] = 2  # iterations 1 -> 2 (big-endian u32 at offsets 13..16)
    assert read_params(bytes(sealed), purpose=1).iterations == 2
    with pytest.raises(WrongPin):
        unseal_private_key(bytes(sealed), "123456")


def test_hostile_kdf_parameters_are_refused_before_running() -> None:
    sealed = bytearray(seal_private_key(generate_private_key(), "123456", params=TEST_KDF))
    sealed[9:13] = (64 * 1024 * 1024).to_bytes(4, "big")  # 64 GiB of memory
    with pytest.raises(FormatError, match="memory"):
        unseal_private_key(bytes(sealed), "123456")


def test_not_a_sealed_key() -> None:
    for junk in (b"", b"TDSEAL", b"x" * 100, b"-----BEGIN PRIVATE KEY-----"):
        with pytest.raises(FormatError):
            unseal_private_key(junk, "123456")


def test_ca_key_blob_is_not_accepted_as_a_signer_key() -> None:
    blob = seal(b"whatever", b"123456", purpose=PURPOSE_CA_KEY, params=TEST_KDF)
    with pytest.raises(FormatError, match="different kind"):
        unseal_private_key(blob, "123456")


def test_bad_pins_and_keys_are_refused() -> None:
    key = generate_private_key()
    with pytest.raises(SigningError):
        seal_private_key(key, "", params=TEST_KDF)
    with pytest.raises(SigningError):
        seal_private_key(key, 123456, params=TEST_KDF)  # type: ignore[arg-type]
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505 - refusing it is the point
    with pytest.raises(SigningError):
        seal_private_key(weak, "1", params=TEST_KDF)
    with pytest.raises(SigningError):
        seal_private_key(ec.generate_private_key(ec.SECP256K1()), "1", params=TEST_KDF)
    with pytest.raises(SigningError, match="unknown key type"):
        generate_private_key("dsa")


def test_default_kdf_is_memory_hard_and_unseal_time_is_interactive() -> None:
    """The production parameters: Argon2id, 64 MiB, t=3. One unseal per signature must stay
    interactive (measured about 0.2 s on an idle dev core; the bound leaves room for busy CI)."""
    key = generate_private_key()
    sealed = seal_private_key(key, "123456")
    params = read_params(sealed, purpose=1)
    assert params == DEFAULT_KDF
    assert params.memory_cost_kib >= 64 * 1024
    assert params.iterations >= 3
    started = time.perf_counter()
    unseal_private_key(sealed, "123456")
    assert time.perf_counter() - started < 5.0


# --------------------------------------------------------------------------- PKCS#12
def make_p12(signer, password: bytes | None, chain=()) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        b"signer", signer.key, signer.certificate, list(chain), encryption
    )


def test_import_pkcs12_reseals_under_pin(md, ca) -> None:
    p12 = make_p12(md, b"p12-password", chain=[ca.certificate])
    imported = import_pkcs12(p12, b"p12-password", "246810", params=TEST_KDF)
    assert imported.certificate == md.certificate
    assert imported.chain == (ca.certificate,)
    key = unseal_private_key(imported.sealed_key, "246810")
    assert public_der(key) == public_der(md.key)
    with pytest.raises(WrongPin):
        unseal_private_key(imported.sealed_key, "p12-password")


def test_import_pkcs12_made_by_openssl(md, openssl, files) -> None:
    cert = files("c.pem", pem(md.certificate))
    key = files("k.pem", key_pem(md.key))
    out = files("x.p12", b"")
    done = run(
        [
            openssl,
            "pkcs12",
            "-export",
            "-in",
            cert,
            "-inkey",
            key,
            "-out",
            out,
            "-passout",
            "pass:mật khẩu",
        ]
    )
    assert done.returncode == 0, done.stderr
    data = Path(out).read_bytes()
    imported = import_pkcs12(data, "mật khẩu".encode(), "123456", params=TEST_KDF)
    assert imported.certificate == md.certificate
    with pytest.raises(WrongPassword):
        import_pkcs12(data, b"wrong", "123456", params=TEST_KDF)


def test_import_pkcs12_errors(md) -> None:
    with pytest.raises(WrongPassword):
        import_pkcs12(make_p12(md, b"right"), b"wrong", "1", params=TEST_KDF)
    with pytest.raises(FormatError):
        import_pkcs12(b"not a pkcs12 file", None, "1", params=TEST_KDF)
    with pytest.raises(FormatError):
        import_pkcs12(b"", None, "1", params=TEST_KDF)
    cert_only = pkcs12.serialize_key_and_certificates(
        b"x", None, md.certificate, None, serialization.NoEncryption()
    )
    with pytest.raises(FormatError, match="khóa bí mật"):
        import_pkcs12(cert_only, None, "1", params=TEST_KDF)


# --------------------------------------------------------------------------- certificates
def test_load_certificate_pem_and_der(md, ca) -> None:
    assert load_certificate(pem(md.certificate)) == md.certificate
    der = md.certificate.public_bytes(serialization.Encoding.DER)
    assert load_certificate(der) == md.certificate
    both = pem(md.certificate) + pem(ca.certificate)
    assert list(load_certificates(both)) == [md.certificate, ca.certificate]
    with pytest.raises(FormatError, match="đúng một"):
        load_certificate(both)
    for junk in (
        b"",
        b"garbage",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ):
        with pytest.raises(FormatError):
            load_certificate(junk)
