"""A complete, realistic archive bundle for tests: the cluster's CA, eight member units and
the emulation board, each with its own key and certificate, signatures over one document,
the board's approval, a CRL and the document's audit chain. Also helpers to tamper with a
bundle the way an attacker with the bagit tools would (re-hashing the bag afterwards).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing._seal import TEST_KDF
from signing.archive import ArchiveEvidence, approval_manifest, build_bundle, read_zip
from signing.audit import GENESIS, event_hash
from signing.ca import CertificateAuthority, Revocation
from signing.cms import sign_detached
from signing.credentials import generate_private_key

UNITS: dict[str, str] = {
    "VPHU-MD": "Văn phòng Huyện ủy Mỹ Đức",
    "VPHU-UH": "Văn phòng Huyện ủy Ứng Hòa",
    "VPHU-TO": "Văn phòng Huyện ủy Thanh Oai",
    "VPHU-CM": "Văn phòng Huyện ủy Chương Mỹ",
    "VPHU-PX": "Văn phòng Huyện ủy Phú Xuyên",
    "VPHU-TT": "Văn phòng Huyện ủy Thường Tín",
    "VPHU-QO": "Văn phòng Huyện ủy Quốc Oai",
    "VPHU-TTH": "Văn phòng Huyện ủy Thạch Thất",
}
BOARD_CODE = "BTDKT-HN"
BOARD_NAME = "Ban Thi đua – Khen thưởng thành phố Hà Nội"

CA_CREATED = datetime(2018, 1, 2, 1, 0, tzinfo=UTC)
SIGNED_AT = datetime(2018, 3, 31, 2, 30, tzinfo=UTC)
APPROVED_AT = datetime(2018, 4, 10, 3, 0, tzinfo=UTC)
VERIFY_AT = datetime(2018, 4, 15, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Signer:
    code: str
    name: str
    key: Any
    certificate: x509.Certificate


@dataclass(frozen=True)
class World:
    """A CA and everyone who signs under it."""

    ca: CertificateAuthority
    units: dict[str, Signer]
    board: Signer

    @property
    def ca_pem(self) -> bytes:
        return self.ca.certificate_pem

    @property
    def ca_fingerprint(self) -> str:
        return self.ca.fingerprint

    def certificates(self) -> list[x509.Certificate]:
        return [
            self.ca.certificate,
            *(s.certificate for s in self.units.values()),
            self.board.certificate,
        ]


def make_world(units: Mapping[str, str] = UNITS, *, common_name: str = "thidua CA") -> World:
    ca = CertificateAuthority.create(
        common_name, "Cụm thi đua số 4", b"m" * 32, CA_CREATED, kdf_params=TEST_KDF
    )

    def signer(code: str, name: str, person: str) -> Signer:
        key = generate_private_key()
        cert = ca.issue(
            key.public_key(),
            person=person,
            unit_name=name,
            unit_code=code,
            user_id=f"{code.lower()}-signer",
            now=CA_CREATED + timedelta(days=1),
        )
        return Signer(code, name, key, cert)

    signers = {code: signer(code, name, f"Lãnh đạo {name}") for code, name in units.items()}
    board = signer(BOARD_CODE, BOARD_NAME, "Trưởng ban Thi đua – Khen thưởng")
    return World(ca, signers, board)


def sample_docx(seed: str = "pledge-2018") -> bytes:
    """Any bytes do for the signing package; make them look like a zip-based DOCX anyway."""
    body = hashlib.sha256(seed.encode()).digest() * 512
    return b"PK\x03\x04" + body


def sign(world: World, code: str, data: bytes) -> bytes:
    signer = world.units[code]
    return sign_detached(
        data,
        signer.key,
        signer.certificate,
        signing_time=SIGNED_AT,
        chain=[world.ca.certificate],
    )


def audit_chain(document_id: str, actions: list[str], *, start: str = GENESIS) -> list[dict]:
    """Events of one document linked by doc_prev_hash (and a global prev_hash)."""
    events = []
    doc_prev = GENESIS
    prev = start
    for index, action in enumerate(actions):
        fields: dict[str, Any] = {
            "id": 100 + index,
            "document_id": document_id,
            "action": action,
            "actor": "vphu-md-drafter" if index < 2 else "vphu-md-signer",
            "at": (SIGNED_AT + timedelta(minutes=index)).isoformat(),
            "detail": {"ghi_chú": "Giao ước thi đua năm 2018"},
            "prev_hash": prev,
            "doc_prev_hash": doc_prev,
        }
        fields["hash"] = event_hash(fields)
        events.append(fields)
        prev = doc_prev = str(fields["hash"])
    return events


ACTIONS = [
    "create",
    "submit_for_review",
    "open_signing",
    *[f"sign:{code}" for code in UNITS],
    "submit",
    "approve",
]


DECISION = {
    "number": "15/QĐ-BTĐKT",
    "date": "2018-04-10",
    "board": {"code": BOARD_CODE, "name": BOARD_NAME},
}


@dataclass(frozen=True)
class BundleParts:
    """What build_bundle takes: the evidence, the manifest the board signed, its signature."""

    evidence: ArchiveEvidence
    approval_manifest: bytes
    approval_signature: bytes

    def __getattr__(self, name: str) -> Any:
        # The evidence's fields read through: parts.document, parts.audit_events...
        return getattr(self.evidence, name)


def board_sign(world: World, manifest: bytes) -> bytes:
    return sign_detached(
        manifest,
        world.board.key,
        world.board.certificate,
        signing_time=APPROVED_AT,
        chain=[world.ca.certificate],
    )


def approve(world: World, evidence: ArchiveEvidence) -> BundleParts:
    """The board's approval of ``evidence``, as the workflow makes it."""
    manifest = approval_manifest(evidence, decision=DECISION, approved_at=APPROVED_AT)
    return BundleParts(evidence, manifest, board_sign(world, manifest))


def build(parts: BundleParts) -> bytes:
    return build_bundle(parts.evidence, parts.approval_manifest, parts.approval_signature)


def assemble(world: World, evidence: ArchiveEvidence) -> bytes:
    """A bundle of ``evidence`` approved by the board of ``world``."""
    return build(approve(world, evidence))


def evidence_for(
    world: World,
    *,
    document_id: str = "42",
    docx: bytes | None = None,
    signatures: Mapping[str, bytes] | None = None,
    crl_revoked: tuple[Revocation, ...] = (),
) -> ArchiveEvidence:
    docx = sample_docx(document_id) if docx is None else docx
    units = {code: signer.name for code, signer in world.units.items()}
    if signatures is None:
        signatures = {code: sign(world, code, docx) for code in units}
    return ArchiveEvidence(
        document_id=document_id,
        document=docx,
        document_json={
            "kind": "pledge",
            "year": 2018,
            "title": "GIAO ƯỚC THI ĐUA NĂM 2018",
            "member_units": [{"code": c, "name": n} for c, n in units.items()],
        },
        expected_units=units,
        unit_signatures=signatures,
        certificates=world.certificates(),
        crl=world.ca.crl(list(crl_revoked), now=APPROVED_AT),
        # The segment ends with the approval, as the workflow archives it.
        audit_events=audit_chain(document_id, ACTIONS),
        verification={"status": "complete", "note": "báo cáo lúc lưu trữ"},
        created_at=APPROVED_AT + timedelta(hours=1),
    )


def bundle_input(world: World, **kwargs: Any) -> BundleParts:
    return approve(world, evidence_for(world, **kwargs))


def make_bundle(world: World, **kwargs: Any) -> bytes:
    return build(bundle_input(world, **kwargs))


@functools.cache
def shared_world() -> World:
    """One world for a whole test session: keys and certificates are costly to make."""
    return make_world()


@functools.cache
def shared_input() -> BundleParts:
    return bundle_input(shared_world())


@functools.cache
def shared_bundle() -> bytes:
    return build(shared_input())


# -- tampering ------------------------------------------------------------------------------


def unzip(bundle: bytes) -> tuple[str, dict[str, bytes]]:
    contents = read_zip(bundle)
    return contents.top, dict(contents.files)


def rezip(top: str, files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{top}/{name}", content)
    return buffer.getvalue()


def edit(bundle: bytes, mutate: Callable[[dict[str, bytes]], None]) -> bytes:
    """Change files of the bag without touching its manifests (fixity must notice)."""
    top, files = unzip(bundle)
    mutate(files)
    return rezip(top, files)


def rebag(bundle: bytes, mutate: Callable[[dict[str, bytes]], None]) -> bytes:
    """Change files of the bag, then re-hash it like an attacker with bagit would: new
    manifest-sha256.txt, Payload-Oxum and tagmanifest-sha256.txt, so fixity passes and only
    the signatures can tell."""
    top, files = unzip(bundle)
    mutate(files)
    payload = sorted(name for name in files if name.startswith("data/"))
    files["manifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in payload
    ).encode()
    oxum = f"{sum(len(files[n]) for n in payload)}.{len(payload)}"
    info = files["bag-info.txt"].decode().splitlines()
    info = [f"Payload-Oxum: {oxum}" if line.startswith("Payload-Oxum:") else line for line in info]
    files["bag-info.txt"] = ("\n".join(info) + "\n").encode()
    files["tagmanifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()} {name}\n"
        for name in ("bag-info.txt", "bagit.txt", "manifest-sha256.txt")
    ).encode()
    return rezip(top, files)


def flip_byte(data: bytes, index: int | None = None) -> bytes:
    position = len(data) // 2 if index is None else index
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_files(directory: str | os.PathLike[str], files: Mapping[str, bytes]) -> None:
    for name, content in files.items():
        path = os.path.join(directory, *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


__all__ = [
    "APPROVED_AT",
    "BOARD_CODE",
    "DECISION",
    "UNITS",
    "VERIFY_AT",
    "BundleParts",
    "World",
    "approve",
    "assemble",
    "audit_chain",
    "board_sign",
    "build",
    "bundle_input",
    "certificate_pem",
    "edit",
    "evidence_for",
    "flip_byte",
    "make_bundle",
    "make_world",
    "rebag",
    "rezip",
    "sample_docx",
    "shared_bundle",
    "shared_input",
    "shared_world",
    "sign",
    "unzip",
    "write_files",
]
