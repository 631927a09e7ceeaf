"""Shared PKI for the signing-core tests: a cluster CA (ECDSA and RSA), signers of member
units, and helpers to run the real openssl. Times are explicit: the package has no clock."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing.ca import CertificateAuthority
from signing.credentials import TEST_KDF, generate_private_key
from tests.conftest import require_executable

MASTER = b"cluster-master-secret-for-tests!"
CA_CREATED = datetime(2018, 1, 2, 1, 0, tzinfo=UTC)
ISSUED = datetime(2018, 3, 1, 8, 0, tzinfo=UTC)
SIGNED_AT = datetime(2018, 3, 31, 2, 30, tzinfo=UTC)
VERIFY_AT = datetime(2018, 4, 15, 8, 0, tzinfo=UTC)

UNITS = {
    "VPHU-MD": ("Văn phòng Huyện ủy Mỹ Đức", "Nguyễn Văn Minh"),
    "VPHU-UH": ("Văn phòng Huyện ủy Ứng Hòa", "Trần Thị Hằng"),
    "VPHU-TO": ("Văn phòng Huyện ủy Thanh Oai", "Lê Quốc Toản"),
}

DOCUMENT = b"PK\x03\x04" + "GIAO ƯỚC THI ĐUA NĂM 2018 — Cụm thi đua số 4".encode() * 200


@dataclass(frozen=True)
class Signer:
    code: str
    unit: str
    person: str
    key: Any
    certificate: x509.Certificate


def issue_signer(
    ca: CertificateAuthority,
    code: str,
    *,
    key_type: str = "ec-p256",
    now: datetime = ISSUED,
    validity_days: int = 730,
) -> Signer:
    unit, person = UNITS.get(code, (f"Đơn vị {code}", "Người ký"))
    key = generate_private_key(key_type)
    cert = ca.issue(
        key.public_key(),
        person=person,
        unit_name=unit,
        unit_code=code,
        user_id=f"{code.lower()}-signer",
        now=now,
        validity_days=validity_days,
    )
    return Signer(code, unit, person, key, cert)


@pytest.fixture(scope="session")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create(
        "Thidua CA Cụm thi đua số 4",
        "Văn phòng Thành ủy Hà Nội",
        MASTER,
        CA_CREATED,
        kdf_params=TEST_KDF,
    )


@pytest.fixture(scope="session")
def rsa_ca() -> CertificateAuthority:
    return CertificateAuthority.create(
        "Thidua RSA CA",
        "Văn phòng Thành ủy Hà Nội",
        MASTER,
        CA_CREATED,
        key_type="rsa-3072",
        kdf_params=TEST_KDF,
    )


@pytest.fixture(scope="session")
def other_ca() -> CertificateAuthority:
    """A CA nobody trusts, with the same name as ours (a forger's CA)."""
    return CertificateAuthority.create(
        "Thidua CA Cụm thi đua số 4",
        "Văn phòng Thành ủy Hà Nội",
        MASTER,
        CA_CREATED,
        kdf_params=TEST_KDF,
    )


@pytest.fixture(scope="session")
def signers(ca: CertificateAuthority) -> dict[str, Signer]:
    return {code: issue_signer(ca, code) for code in UNITS}


@pytest.fixture(scope="session")
def md(signers: dict[str, Signer]) -> Signer:
    return signers["VPHU-MD"]


@pytest.fixture(scope="session")
def openssl() -> str:
    return require_executable("openssl")


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60, **kwargs)


@pytest.fixture
def files(tmp_path: Path) -> Callable[[str, bytes], str]:
    def write(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def at(days: float) -> datetime:
    return VERIFY_AT + timedelta(days=days)
