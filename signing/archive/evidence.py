"""The evidence of an approval, and the payload files it becomes.

One object, ``ArchiveEvidence``, holds everything a bundle carries except the approval
itself; ``payload_files`` turns it into the bytes of every payload file. The approval
manifest pins the SHA-256 of those bytes and the builder writes those same bytes, both from
this one function, so what the board signs and what the archive holds cannot differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing.archive.canonical import canonical_json, iso_utc, pretty_json
from signing.archive.dossier import parse_dossier, part_mismatches
from signing.archive.layout import (
    DOCUMENT_FORMAT,
    DOCUMENT_PATH,
    DOCUMENT_PDF,
    DOCUMENT_PDF_PATH,
    DOSSIER_PATH,
    PARTS_DIR,
    PDF_MAGIC,
    SAFE_NAME,
    check_bytes,
    check_name,
    check_units,
    part_pdf_name,
)
from signing.ca import certificate_unit_code, fingerprint_sha256
from signing.credentials import load_certificates
from signing.errors import BundleError, FormatError

__all__ = ["ArchiveEvidence", "is_ca_certificate", "payload_files"]


@dataclass(frozen=True)
class ArchiveEvidence:
    """Everything an archive bundle holds but the approval. ``certificates`` are the
    signers' certificates and the CA chain (x509 objects, or PEM/DER bytes); ``crl`` is
    DER; ``audit_events`` are this document's events in order up to and including its
    ``approve`` event, each with its fields, ``hash`` and ``id`` (see signing.audit);
    ``verification`` is the report produced at archive time; ``document_json`` the
    document's metadata and content (title, kind, year, ...).

    ``document`` is the bytes every member unit signed: the frozen DOCX of a single
    document, or a dossier's manifest (signing.archive.dossier; data/dossier.json) whose
    documents are ``parts``, by part name (empty for a single DOCX).

    ``pdfs`` are the signed PDFs (PAdES, issue 16), by file name: ``document.pdf`` for a
    single document (data/document.pdf), or a part's PDF name (``01-to-trinh.pdf`` for the
    part ``01-to-trinh.docx``, data/parts/01-to-trinh.pdf) for a dossier; empty when the
    deployment made none. The board's manifest pins them like every payload file."""

    document_id: str
    document: bytes
    document_json: Mapping[str, Any]
    expected_units: Mapping[str, str]
    unit_signatures: Mapping[str, bytes]
    certificates: Sequence[x509.Certificate | bytes]
    crl: bytes
    audit_events: Sequence[Mapping[str, Any]]
    verification: Mapping[str, Any]
    created_at: datetime
    parts: Mapping[str, bytes] = field(default_factory=dict)
    pdfs: Mapping[str, bytes] = field(default_factory=dict)


def _json_file(value: Any, what: str) -> bytes:
    try:
        return pretty_json(value)
    except FormatError as exc:
        raise BundleError(f"{what}: {exc}") from None


def payload_files(evidence: ArchiveEvidence) -> dict[str, bytes]:
    """The payload (paths relative to the bag, ``data/...``) of ``evidence``, approval files
    excepted. Refuses (BundleError) evidence that would make a bundle contradict itself: a
    signature missing for a member unit or present for a stranger, no CA certificate, a
    dossier manifest that does not parse or does not list exactly ``parts`` with their
    SHA-256 and sizes, a PDF named after no signed document or whose bytes are not a PDF."""
    if not isinstance(evidence, ArchiveEvidence):
        raise BundleError("cần một ArchiveEvidence")
    doc_id = check_name(evidence.document_id, "mã tài liệu")
    signed = check_bytes(evidence.document, "document")
    documents = _documents(signed, evidence.parts)
    pdfs = _pdfs(evidence.pdfs, documents)
    units = check_units(evidence.expected_units, "expected_units")
    signatures = _signatures(evidence.unit_signatures, units)
    crl = check_bytes(evidence.crl, "crl")
    if not isinstance(evidence.document_json, Mapping):
        raise BundleError("document_json phải là một đối tượng")
    if not isinstance(evidence.verification, Mapping):
        raise BundleError("verification phải là một đối tượng")
    try:
        created = iso_utc(evidence.created_at)
    except FormatError as exc:
        raise BundleError(str(exc)) from None
    document = {
        "format": DOCUMENT_FORMAT,
        "document_id": doc_id,
        "document_sha256": hashlib.sha256(signed).hexdigest(),
        "document_size": len(signed),
        "signed_file": DOSSIER_PATH if DOSSIER_PATH in documents else DOCUMENT_PATH,
        "member_units": [{"code": c, "name": n} for c, n in units.items()],
        "content": evidence.document_json,
        "created_at": created,
    }
    payload = {
        **documents,
        **pdfs,
        "data/document.json": _json_file(document, "document_json"),
        "data/crl.der": crl,
        "data/audit.jsonl": _audit_lines(evidence.audit_events),
        "data/verification.json": _json_file(evidence.verification, "verification"),
    }
    for code, der in signatures.items():
        payload[f"data/signatures/{code}.p7s"] = der
    for name, pem in _certificate_files(evidence.certificates).items():
        payload[f"data/certs/{name}"] = pem
    return payload


# How every dossier manifest begins (its keys are sorted: "format" comes first).
_DOSSIER_START = b'{"format":"thidua-dossier/'


def _documents(signed: bytes, parts: Any) -> dict[str, bytes]:
    """The signed file and a dossier's parts, by path in the bag."""
    if not isinstance(parts, Mapping):
        raise BundleError("parts phải là ánh xạ tên văn bản → nội dung")
    if not parts:
        if signed.startswith(_DOSSIER_START):
            raise BundleError(
                "document là bản kê hồ sơ (dossier.json) nhưng thiếu các văn bản (parts)"
            )
        return {DOCUMENT_PATH: signed}
    given = {}
    for name, content in parts.items():
        if not isinstance(name, str):
            raise BundleError(f"tên văn bản {name!r} phải là chuỗi")
        given[name] = check_bytes(content, f"văn bản {name}")
    dossier = parse_dossier(signed)
    problems = part_mismatches(dossier, given)
    if problems:
        raise BundleError("hồ sơ không khớp các văn bản: " + "; ".join(problems))
    return {DOSSIER_PATH: signed, **{PARTS_DIR + p.name: given[p.name] for p in dossier.parts}}


def _pdfs(given: Any, documents: Mapping[str, bytes]) -> dict[str, bytes]:
    """The signed PDFs by path in the bag: data/document.pdf beside a single document,
    data/parts/<part stem>.pdf beside a dossier's listed part."""
    if not isinstance(given, Mapping):
        raise BundleError("pdfs phải là ánh xạ tên tệp PDF → nội dung")
    if DOSSIER_PATH in documents:
        allowed = {
            part_pdf_name(path[len(PARTS_DIR) :]): PARTS_DIR + part_pdf_name(path[len(PARTS_DIR) :])
            for path in documents
            if path.startswith(PARTS_DIR)
        }
    else:
        allowed = {DOCUMENT_PDF: DOCUMENT_PDF_PATH}
    out: dict[str, bytes] = {}
    for name, content in given.items():
        if not isinstance(name, str) or name not in allowed:
            raise BundleError(
                f"tệp PDF {name!r} không ứng với văn bản được ký nào (cần "
                + ", ".join(sorted(allowed))
                + ")"
            )
        data = check_bytes(content, f"tệp PDF {name}")
        if not data.startswith(PDF_MAGIC):
            raise BundleError(f"tệp PDF {name} không bắt đầu bằng %PDF- (không phải tệp PDF)")
        out[allowed[name]] = data
    return dict(sorted(out.items()))


def _signatures(given: Any, units: Mapping[str, str]) -> dict[str, bytes]:
    if not isinstance(given, Mapping):
        raise BundleError("unit_signatures phải là ánh xạ mã đơn vị → chữ ký DER")
    signatures = {
        check_name(code, "mã đơn vị"): check_bytes(der, f"chữ ký của {code}")
        for code, der in given.items()
    }
    missing = [code for code in units if code not in signatures]
    if missing:
        raise BundleError("thiếu chữ ký của đơn vị: " + ", ".join(missing))
    strangers = sorted(set(signatures) - set(units))
    if strangers:
        raise BundleError("có chữ ký của đơn vị không thuộc danh sách: " + ", ".join(strangers))
    return signatures


def _parse_certificates(certificates: Any) -> list[x509.Certificate]:
    if isinstance(certificates, bytes | bytearray) or not isinstance(certificates, Sequence):
        raise BundleError("certificates phải là danh sách chứng thư số")
    parsed: list[x509.Certificate] = []
    for item in certificates:
        if isinstance(item, x509.Certificate):
            parsed.append(item)
        elif isinstance(item, bytes | bytearray):
            try:
                parsed.extend(load_certificates(bytes(item)))
            except FormatError as exc:
                raise BundleError(f"chứng thư số không đọc được: {exc}") from None
        else:
            raise BundleError(
                f"chứng thư số phải là x509.Certificate hoặc PEM/DER, không phải {item!r}"
            )
    return parsed


def _certificate_files(certificates: Sequence[x509.Certificate | bytes]) -> dict[str, bytes]:
    """PEM files named by role and fingerprint: ``ca-<fp16>.pem`` for CA certificates,
    ``<UNIT-CODE>-<fp16>.pem`` for signers (``cert-<fp16>.pem`` without a usable code)."""
    files: dict[str, bytes] = {}
    seen: set[str] = set()
    has_ca = False
    for cert in _parse_certificates(certificates):
        fp = fingerprint_sha256(cert)
        if fp in seen:
            continue
        seen.add(fp)
        if is_ca_certificate(cert):
            has_ca = True
            name = f"ca-{fp[:16]}.pem"
        else:
            code = certificate_unit_code(cert)
            prefix = code if code and SAFE_NAME.fullmatch(code) else "cert"
            name = f"{prefix}-{fp[:16]}.pem"
        files[name] = cert.public_bytes(serialization.Encoding.PEM)
    if not has_ca:
        raise BundleError("gói cần chứng thư số của CA (để kiểm tra ngoại tuyến)")
    return dict(sorted(files.items()))


def is_ca_certificate(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _audit_lines(events: Sequence[Mapping[str, Any]]) -> bytes:
    if isinstance(events, Mapping | str | bytes) or not isinstance(events, Sequence):
        raise BundleError("audit_events phải là danh sách sự kiện")
    lines = []
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise BundleError(f"audit_events[{index}] phải là một đối tượng")
        try:
            lines.append(canonical_json(event) + b"\n")
        except FormatError as exc:
            raise BundleError(f"audit_events[{index}]: {exc}") from None
    return b"".join(lines)
