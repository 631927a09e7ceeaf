"""Archive bundles: what gets built, and that a complete bundle verifies offline."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import bagit
import pytest
from cryptography.hazmat.primitives import serialization

from signing import Indication, TrustStore
from signing.archive import (
    BUNDLE_FORMAT,
    MANIFEST_FORMAT,
    approval_manifest,
    build_bundle,
    normalize_fingerprint,
    verify_bundle,
)
from signing.archive.bag import make_bag_files
from signing.ca import fingerprint_sha256
from signing.errors import BundleError, FormatError
from tests.signing.bundle_fixtures import (
    APPROVED_AT,
    BOARD_CODE,
    UNITS,
    VERIFY_AT,
    assemble,
    build,
    bundle_input,
    make_world,
    sample_docx,
    shared_bundle,
    shared_input,
    shared_world,
    sign,
    unzip,
    write_files,
)

TOP = "thidua-42"


@pytest.fixture(scope="module")
def world():
    return shared_world()


@pytest.fixture(scope="module")
def bundle() -> bytes:
    return shared_bundle()


@pytest.fixture(scope="module")
def trust(world) -> TrustStore:
    return TrustStore([world.ca.certificate])


# -- layout ----------------------------------------------------------------------------------


def test_layout_is_exactly_the_design(bundle: bytes) -> None:
    names = zipfile.ZipFile(BytesIO(bundle)).namelist()
    assert all(name.startswith(f"{TOP}/") for name in names)
    inside = [name[len(TOP) + 1 :] for name in names]
    # Tag files first, in the RFC's order, then the payload sorted.
    assert inside[:4] == [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
    ]
    payload = set(inside[4:])
    expected = {
        "data/document.docx",
        "data/document.json",
        "data/approval/manifest.json",
        "data/approval/manifest.json.p7s",
        "data/crl.der",
        "data/audit.jsonl",
        "data/verification.json",
        *(f"data/signatures/{code}.p7s" for code in UNITS),
    }
    assert expected <= payload
    certs = payload - expected
    assert certs
    assert all(c.startswith("data/certs/") and c.endswith(".pem") for c in certs)
    # the CA, eight units and the board
    assert len(certs) == 10
    assert sum(c.startswith("data/certs/ca-") for c in certs) == 1
    assert inside[4:] == sorted(inside[4:])


def test_bag_is_valid_for_the_bagit_library(bundle: bytes, tmp_path: Path) -> None:
    with zipfile.ZipFile(BytesIO(bundle)) as archive:
        archive.extractall(tmp_path)
    bag = bagit.Bag(str(tmp_path / TOP))
    bag.validate()
    assert bag.algorithms == ["sha256"]
    assert bag.info["Bagging-Date"] == "2018-04-10"
    assert bag.info["External-Identifier"] == "42"
    assert bag.info["Thidua-Bundle-Format"] == BUNDLE_FORMAT
    assert bag.info["Thidua-Member-Unit"] == [f"{c} {n}" for c, n in UNITS.items()]
    assert bag.info["Thidua-Member-Unit-Count"] == "8"
    assert bag.info["Payload-Oxum"].endswith(".25")


def test_files_hold_what_was_given(bundle: bytes) -> None:
    inp = shared_input()
    _, files = unzip(bundle)
    assert files["data/document.docx"] == inp.document
    for code, der in inp.unit_signatures.items():
        assert files[f"data/signatures/{code}.p7s"] == der
    assert files["data/approval/manifest.json"] == inp.approval_manifest
    assert files["data/approval/manifest.json.p7s"] == inp.approval_signature
    assert files["data/crl.der"] == inp.crl
    doc = json.loads(files["data/document.json"])
    assert doc["document_id"] == "42"
    assert doc["document_sha256"] == hashlib.sha256(inp.document).hexdigest()
    assert doc["member_units"] == [{"code": c, "name": n} for c, n in UNITS.items()]
    assert doc["content"]["title"] == "GIAO ƯỚC THI ĐUA NĂM 2018"
    lines = files["data/audit.jsonl"].decode().splitlines()
    assert [json.loads(line)["hash"] for line in lines] == [e["hash"] for e in inp.audit_events]
    assert json.loads(files["data/verification.json"]) == dict(inp.verification)


def test_build_is_deterministic_and_stamped_with_created_at() -> None:
    inp = shared_input()
    first, second = build(inp), build(inp)
    assert first == second
    for info in zipfile.ZipFile(BytesIO(first)).infolist():
        assert info.date_time == (2018, 4, 10, 4, 0, 0)
        assert (info.external_attr >> 16) == 0o100644
    later = assemble(
        shared_world(), replace(inp.evidence, created_at=datetime(2019, 1, 1, tzinfo=UTC))
    )
    assert later != first


def test_bundle_verifies_with_given_trust(bundle: bytes, trust: TrustStore) -> None:
    report = verify_bundle(bundle, trust=trust, ca_fingerprint=None, at=VERIFY_AT)
    assert report.indication == Indication.TOTAL_PASSED
    assert report.sub_indication is None
    assert report.passed
    assert report.status == "complete"
    assert [u.code for u in report.units] == list(UNITS)
    assert all(u.report is not None and u.report.passed for u in report.units)
    assert report.units[0].report.signer.unit == "Văn phòng Huyện ủy Mỹ Đức"
    assert report.approval.passed
    assert report.approval.manifest_matches
    assert report.approval.report.signer.unit_code == BOARD_CODE
    assert report.approval.decision["number"] == "15/QĐ-BTĐKT"
    assert report.fixity.ok
    assert report.fixity.checked_by == ("thidua", "bagit")
    assert report.audit.ok
    assert report.audit.events == len(shared_input().audit_events)
    assert report.problems == ()
    assert report.trust_source == "given"
    # revocation was checked against the bundle's CRL
    assert all(u.report.revocation_checked for u in report.units)


def test_report_to_dict_is_json(bundle: bytes, trust: TrustStore) -> None:
    data = verify_bundle(bundle, trust=trust, ca_fingerprint=None, at=VERIFY_AT).to_dict()
    again = json.loads(json.dumps(data, ensure_ascii=False))
    assert again["indication"] == "TOTAL_PASSED"
    assert again["passed"] is True
    assert again["document_id"] == "42"
    assert len(again["units"]) == 8
    assert again["units"][0]["report"]["signer"]["unit_code"] == "VPHU-MD"
    assert again["approval"]["passed"] is True
    assert again["fixity"]["ok"] is True
    assert again["audit"]["events"] == 13
    assert again["verified_at"] == "2018-04-15T08:00:00Z"


def test_bulk_mode_skips_only_the_second_opinion(bundle: bytes, trust: TrustStore) -> None:
    report = verify_bundle(
        bundle, trust=trust, ca_fingerprint=None, at=VERIFY_AT, bagit_check=False
    )
    assert report.passed
    assert report.fixity.checked_by == ("thidua",)


# -- trust -----------------------------------------------------------------------------------


def test_without_trust_the_bundle_cannot_vouch_for_itself(bundle: bytes) -> None:
    report = verify_bundle(bundle, trust=None, ca_fingerprint=None, at=VERIFY_AT)
    assert report.indication == Indication.INDETERMINATE
    assert report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert report.trust_source == "none"
    assert all(u.report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND" for u in report.units)
    assert any(p.code == "untrusted" for p in report.problems)


def test_right_fingerprint_trusts_the_bundled_ca(bundle: bytes, world) -> None:
    colons = ":".join(world.ca_fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    report = verify_bundle(bundle, trust=None, ca_fingerprint=colons, at=VERIFY_AT)
    assert report.passed
    assert report.trust_source == "bundle_ca"
    assert report.ca_fingerprint == world.ca_fingerprint


def test_wrong_fingerprint_is_indeterminate(bundle: bytes, world) -> None:
    other = make_world(common_name="another CA")
    for fingerprint in (
        other.ca_fingerprint,
        # a certificate that is in the bundle but is not a CA
        fingerprint_sha256(world.units["VPHU-MD"].certificate),
    ):
        report = verify_bundle(bundle, trust=None, ca_fingerprint=fingerprint, at=VERIFY_AT)
        assert report.indication == Indication.INDETERMINATE
        assert report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
        assert report.trust_source == "none"


def test_another_ca_as_trust_is_indeterminate(bundle: bytes) -> None:
    other = make_world(common_name="another CA")
    report = verify_bundle(
        bundle, trust=TrustStore([other.ca.certificate]), ca_fingerprint=None, at=VERIFY_AT
    )
    assert report.indication == Indication.INDETERMINATE
    assert report.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    # the bundle's CRL belongs to another CA: not applicable, not an error
    assert not any(p.code == "crl" for p in report.problems)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "zz" * 32, "ab" * 31, "ab" * 33],
)
def test_malformed_fingerprint_is_our_error(text: str, bundle: bytes) -> None:
    with pytest.raises(FormatError):
        verify_bundle(bundle, trust=None, ca_fingerprint=text, at=VERIFY_AT)


def test_fingerprint_normalisation() -> None:
    plain = "ab" * 32
    assert normalize_fingerprint("AB:" * 31 + "AB") == plain
    assert normalize_fingerprint(f"sha256:{plain.upper()}") == plain
    assert normalize_fingerprint(" " + "AB " * 32) == plain


# -- approval manifest -----------------------------------------------------------------------


def test_approval_manifest_is_canonical_json() -> None:
    evidence = shared_input().evidence
    decision = {
        "number": "15/QĐ-BTĐKT",
        "board": {"name": "Ban Thi đua – Khen thưởng", "code": "B"},
    }
    raw = approval_manifest(
        evidence,
        decision=decision,
        approved_at=datetime(2018, 4, 10, 10, 0, tzinfo=UTC).astimezone(),
    )
    body = json.loads(raw)
    assert (
        raw == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    _, files = unzip(shared_bundle())
    signed = {p: c for p, c in files.items() if p.startswith("data/") and "approval/" not in p}
    sigs = evidence.unit_signatures
    assert body == {
        "format": MANIFEST_FORMAT,
        "document_id": "42",
        "document_sha256": hashlib.sha256(evidence.document).hexdigest(),
        "unit_signatures": {c: hashlib.sha256(sigs[c]).hexdigest() for c in UNITS},
        "member_units": UNITS,
        "decision": {
            "board": {"code": "B", "name": "Ban Thi đua – Khen thưởng"},
            "number": "15/QĐ-BTĐKT",
        },
        "approved_at": "2018-04-10T10:00:00Z",
        "audit_head": evidence.audit_events[-1]["hash"],
        # every payload file but the manifest and its signature, by SHA-256
        "files": {p: hashlib.sha256(c).hexdigest() for p, c in sorted(signed.items())},
    }
    assert "Ban Thi đua".encode() in raw  # UTF-8, not \\u escapes


def test_approval_manifest_refuses_bad_input() -> None:
    good = shared_input().evidence
    at = APPROVED_AT
    with pytest.raises(BundleError):
        approval_manifest(replace(good, document_id="../42"), decision={}, approved_at=at)
    with pytest.raises(BundleError):
        approval_manifest(replace(good, unit_signatures={}), decision={}, approved_at=at)
    with pytest.raises(BundleError):
        approval_manifest(
            replace(good, unit_signatures={"VPHU MD": b"x"}), decision={}, approved_at=at
        )
    with pytest.raises(BundleError):
        approval_manifest(good, decision={"score": float("nan")}, approved_at=at)
    sigs = dict(good.unit_signatures)
    del sigs["VPHU-UH"]
    with pytest.raises(BundleError, match="VPHU-UH"):
        approval_manifest(replace(good, unit_signatures=sigs), decision={}, approved_at=at)
    # the segment the board signs ends with the approval event
    with pytest.raises(BundleError, match="approve"):
        approval_manifest(
            replace(good, audit_events=good.audit_events[:-1]), decision={}, approved_at=at
        )


# -- build refusals --------------------------------------------------------------------------


def test_build_refuses_a_missing_signature() -> None:
    inp = shared_input()
    sigs = dict(inp.unit_signatures)
    del sigs["VPHU-QO"]
    with pytest.raises(BundleError, match="VPHU-QO"):
        build_bundle(replace(inp.evidence, unit_signatures=sigs), *_approval(inp))


def test_build_refuses_a_stranger_signature(world) -> None:
    inp = shared_input()
    sigs = {**inp.unit_signatures, "KHAC": sign(world, "VPHU-MD", inp.document)}
    with pytest.raises(BundleError, match="KHAC"):
        build_bundle(replace(inp.evidence, unit_signatures=sigs), *_approval(inp))


def test_build_refuses_a_manifest_for_other_bytes(world) -> None:
    inp = shared_input()
    other = bundle_input(world, docx=sample_docx("other"))
    with pytest.raises(BundleError, match="bản kê phê duyệt"):
        build_bundle(inp.evidence, other.approval_manifest, other.approval_signature)
    # a manifest of the same document that pins another verification.json
    edited = replace(inp.evidence, verification={"status": "other"})
    with pytest.raises(BundleError, match="ghim"):
        build_bundle(edited, inp.approval_manifest, inp.approval_signature)


def test_build_needs_the_ca_certificate(world) -> None:
    inp = shared_input()
    with pytest.raises(BundleError, match="CA"):
        build_bundle(
            replace(inp.evidence, certificates=[s.certificate for s in world.units.values()]),
            *_approval(inp),
        )


def test_build_accepts_pem_certificates(world) -> None:
    inp = shared_input()
    pems = [world.ca_pem, b"".join(cert_pem(s.certificate) for s in world.units.values())]
    pems.append(cert_pem(world.board.certificate))
    assert (
        build_bundle(replace(inp.evidence, certificates=pems), *_approval(inp)) == shared_bundle()
    )


def _approval(parts) -> tuple[bytes, bytes]:
    return parts.approval_manifest, parts.approval_signature


def cert_pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("document_id", "../etc"),
        ("document_id", "a/b"),
        ("document_id", ""),
        ("document", b""),
        ("expected_units", {}),
        ("expected_units", {"VPHU/MD": "x"}),
        ("expected_units", {"VPHU-MD": "tên\nxuống dòng"}),
        ("crl", b""),
        ("audit_events", "not a list"),
        ("audit_events", [{"at": object()}]),
        ("certificates", [b"not a certificate"]),
        ("created_at", datetime(1970, 1, 1, tzinfo=UTC)),
        ("verification", [1, 2]),
    ],
)
def test_build_refuses_malformed_input(field: str, value: object) -> None:
    with pytest.raises(BundleError):
        assemble(shared_world(), replace(shared_input().evidence, **{field: value}))


def test_extracted_bag_verifies_after_rezipping_by_another_tool(
    bundle: bytes, trust: TrustStore, tmp_path: Path
) -> None:
    """An archivist may unzip and re-zip the bag with another tool; it must still verify."""
    top, files = unzip(bundle)
    write_files(tmp_path / top, files)
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted((tmp_path / top).rglob("*")):
            archive.write(path, path.relative_to(tmp_path).as_posix())
    report = verify_bundle(out.getvalue(), trust=trust, ca_fingerprint=None, at=VERIFY_AT)
    assert report.passed, report.problems


def test_bag_made_in_a_child_process_is_identical() -> None:
    """With other threads alive, bagit.make_bag (which changes the working directory) runs in
    a child interpreter; the bag must not differ by a byte, nor our working directory move."""
    payload = {"document.docx": b"PK\x03\x04abc", "signatures/VPHU-MD.p7s": b"\x30\x00"}
    info = {"Bagging-Date": "2018-04-10", "Thidua-Member-Unit": ["VPHU-MD Văn phòng"]}
    here = os.getcwd()
    assert make_bag_files(payload, info, isolate=True) == make_bag_files(
        payload, info, isolate=False
    )
    assert os.getcwd() == here


def test_build_with_other_threads_alive_is_identical() -> None:
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, daemon=True)
    worker.start()
    try:
        assert threading.active_count() > 1
        assert build(shared_input()) == shared_bundle()
    finally:
        stop.set()
        worker.join()
