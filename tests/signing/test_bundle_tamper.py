"""Tamper corpus: every way of altering an archived bundle fails, with the right finding.

``edit`` changes files and leaves the bag's manifests alone (fixity must notice); ``rebag``
re-hashes the bag afterwards like an attacker with bagit would, so only the signatures,
the approval manifest and the audit chain can tell.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import timedelta

import pytest

from signing import Indication, TrustStore
from signing._seal import TEST_KDF
from signing.archive import approval_manifest, verify_bundle
from signing.archive.bag import bagit_validate, check_fixity
from signing.audit import event_hash
from signing.ca import CertificateAuthority, Revocation, fingerprint_sha256
from signing.cms import sign_detached
from signing.errors import BundleError
from tests.signing.bundle_fixtures import (
    ACTIONS,
    APPROVED_AT,
    SIGNED_AT,
    UNITS,
    VERIFY_AT,
    audit_chain,
    build,
    bundle_input,
    certificate_pem,
    edit,
    flip_byte,
    make_world,
    rebag,
    rezip,
    sample_docx,
    shared_bundle,
    shared_input,
    shared_world,
    sign,
    unzip,
)

FAILED = Indication.TOTAL_FAILED
INDETERMINATE = Indication.INDETERMINATE


@pytest.fixture(scope="module")
def world():
    return shared_world()


@pytest.fixture(scope="module")
def bundle() -> bytes:
    return shared_bundle()


@pytest.fixture(scope="module")
def trust(world) -> TrustStore:
    return TrustStore([world.ca.certificate])


def check(data: bytes, trust: TrustStore, **kwargs):
    return verify_bundle(data, trust=trust, ca_fingerprint=None, at=VERIFY_AT, **kwargs)


def problem_codes(report) -> set[str]:
    return {p.code for p in report.problems}


def unit(report, code: str):
    return next(u for u in report.units if u.code == code)


# -- the document ----------------------------------------------------------------------------


def test_byte_flip_in_document_fails_fixity_and_every_signature(bundle, trust) -> None:
    def mutate(files):
        files["data/document.docx"] = flip_byte(files["data/document.docx"])

    report = check(edit(bundle, mutate), trust)
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"
    assert not report.fixity.ok
    assert any("data/document.docx" in e for e in report.fixity.errors)
    assert all(u.report.sub_indication == "HASH_FAILURE" for u in report.units)
    assert report.status == "failed"
    assert not report.approval.manifest_matches
    assert {"fixity", "document_hash", "approval_manifest"} <= problem_codes(report)


def test_manifest_edited_to_hide_the_flip_still_fails(bundle, trust) -> None:
    """Re-hashing the bag makes fixity pass; the signatures still catch the change."""

    def mutate(files):
        files["data/document.docx"] = flip_byte(files["data/document.docx"])

    report = check(rebag(bundle, mutate), trust)
    assert report.fixity.ok
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"
    assert all(u.report.sub_indication == "HASH_FAILURE" for u in report.units)
    assert "HASH_FAILURE" in {str(u.report.sub_indication) for u in report.units}


def test_manifest_edited_without_the_tag_manifest_fails_fixity(bundle, trust) -> None:
    def mutate(files):
        docx = flip_byte(files["data/document.docx"])
        files["data/document.docx"] = docx
        old = files["manifest-sha256.txt"].decode()
        lines = [
            f"{hashlib.sha256(docx).hexdigest()}  data/document.docx"
            if line.endswith("data/document.docx")
            else line
            for line in old.splitlines()
        ]
        files["manifest-sha256.txt"] = ("\n".join(lines) + "\n").encode()

    report = check(edit(bundle, mutate), trust)
    assert not report.fixity.ok
    assert any("manifest-sha256.txt" in e for e in report.fixity.errors)
    assert report.indication == FAILED


# -- unit signatures -------------------------------------------------------------------------


def test_signatures_swapped_between_units(bundle, trust) -> None:
    def mutate(files):
        a, b = "data/signatures/VPHU-MD.p7s", "data/signatures/VPHU-UH.p7s"
        files[a], files[b] = files[b], files[a]

    report = check(rebag(bundle, mutate), trust)
    assert report.fixity.ok
    for code in ("VPHU-MD", "VPHU-UH"):
        result = unit(report, code)
        assert result.report.indication == INDETERMINATE
        assert result.report.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert unit(report, "VPHU-TO").report.passed
    # the board approved other signature files in those slots
    assert not report.approval.manifest_matches
    assert report.indication == FAILED
    assert report.status == "failed"


def test_missing_unit_signature(bundle, trust) -> None:
    def mutate(files):
        del files["data/signatures/VPHU-QO.p7s"]

    report = check(rebag(bundle, mutate), trust)
    assert report.fixity.ok
    assert unit(report, "VPHU-QO").report is None
    assert report.status == "incomplete"
    assert "missing_signature" in problem_codes(report)
    assert any("VPHU-QO" in p.message for p in report.problems)
    assert report.indication == FAILED
    assert not report.passed


def test_signature_from_another_document(bundle, trust, world) -> None:
    foreign = sign(world, "VPHU-MD", sample_docx("another document"))

    def mutate(files):
        files["data/signatures/VPHU-MD.p7s"] = foreign

    report = check(rebag(bundle, mutate), trust)
    result = unit(report, "VPHU-MD")
    assert result.report.indication == FAILED
    assert result.report.sub_indication == "HASH_FAILURE"
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"


def test_truncated_signature_is_a_format_failure(bundle, trust) -> None:
    def mutate(files):
        files["data/signatures/VPHU-CM.p7s"] = files["data/signatures/VPHU-CM.p7s"][:100]

    report = check(rebag(bundle, mutate), trust)
    assert unit(report, "VPHU-CM").report.sub_indication == "FORMAT_FAILURE"
    assert report.indication == FAILED


def test_signature_of_a_stranger(bundle, trust) -> None:
    def mutate(files):
        files["data/signatures/LA.p7s"] = files["data/signatures/VPHU-MD.p7s"]

    report = check(rebag(bundle, mutate), trust)
    assert "unexpected_signature" in problem_codes(report)
    stranger = next(u for u in report.units if u.code == "LA")
    assert not stranger.expected
    assert report.status == "failed"
    assert report.indication == FAILED


def test_revoked_signer_certificate(world, trust) -> None:
    """The bundle's own CRL revokes a unit's certificate before it signed."""
    revoked = Revocation(
        world.units["VPHU-PX"].certificate.serial_number,
        SIGNED_AT - timedelta(days=1),
        "key_compromise",
    )
    data = build(bundle_input(world, crl_revoked=(revoked,)))
    report = check(data, trust)
    result = unit(report, "VPHU-PX")
    assert result.report.indication == FAILED
    assert result.report.sub_indication == "REVOKED"
    assert report.indication == FAILED
    assert report.sub_indication == "REVOKED"


def test_revoked_after_signing_is_indeterminate(world, trust) -> None:
    revoked = Revocation(
        world.units["VPHU-PX"].certificate.serial_number,
        SIGNED_AT + timedelta(days=2),
        "affiliation_changed",
    )
    data = build(bundle_input(world, crl_revoked=(revoked,)))
    report = check(data, trust)
    assert unit(report, "VPHU-PX").report.sub_indication == "REVOKED_NO_POE"
    assert report.indication == INDETERMINATE


def test_forged_crl_fails(bundle, world, trust) -> None:
    """A CRL naming the bundle's CA but signed by another key is a forgery."""
    impostor = make_world(common_name="thidua CA")  # same name, different key

    def mutate(files):
        files["data/crl.der"] = impostor.ca.crl([], now=APPROVED_AT)

    report = check(rebag(bundle, mutate), trust)
    assert "crl" in problem_codes(report)
    assert report.indication == FAILED


def test_expired_certificates_at_verification_time(bundle, trust) -> None:
    report = verify_bundle(
        bundle, trust=trust, ca_fingerprint=None, at=VERIFY_AT + timedelta(days=3 * 365)
    )
    assert report.indication == INDETERMINATE
    assert report.sub_indication == "OUT_OF_BOUNDS_NO_POE"


def test_bundle_resigned_under_an_impostor_ca(world) -> None:
    """Someone rebuilds the whole bundle under their own CA: it is internally consistent,
    but neither the genuine CA nor its fingerprint vouches for it."""
    impostor = make_world(common_name="thidua CA (giả)")
    data = build(bundle_input(impostor))
    genuine = verify_bundle(
        data, trust=TrustStore([world.ca.certificate]), ca_fingerprint=None, at=VERIFY_AT
    )
    assert genuine.indication == INDETERMINATE
    assert genuine.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    by_fp = verify_bundle(data, trust=None, ca_fingerprint=world.ca_fingerprint, at=VERIFY_AT)
    assert by_fp.indication == INDETERMINATE
    assert by_fp.trust_source == "none"


# -- approval --------------------------------------------------------------------------------


def test_altered_approval_manifest(bundle, trust) -> None:
    def mutate(files):
        body = json.loads(files["data/approval/manifest.json"])
        body["decision"]["number"] = "99/QĐ-BTĐKT"
        files["data/approval/manifest.json"] = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    report = check(rebag(bundle, mutate), trust)
    assert report.approval.report.indication == FAILED
    assert report.approval.report.sub_indication == "HASH_FAILURE"
    assert not report.approval.passed
    assert all(u.report.passed for u in report.units)
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"


def test_approval_manifest_listing_a_different_signature(bundle, world, trust) -> None:
    """The board validly signed a manifest, but for another signature of one unit."""
    _, files = unzip(bundle)
    docx = files["data/document.docx"]
    sigs = {code: files[f"data/signatures/{code}.p7s"] for code in UNITS}
    sigs["VPHU-TT"] = sign(world, "VPHU-TT", docx)  # a second, different signature
    manifest = approval_manifest(
        dataclasses.replace(shared_input().evidence, unit_signatures=sigs),
        decision={"number": "15/QĐ-BTĐKT", "board": {"code": "BTDKT-HN", "name": "Ban"}},
        approved_at=APPROVED_AT,
    )
    board_sig = sign_detached(
        manifest, world.board.key, world.board.certificate, signing_time=APPROVED_AT
    )

    def mutate(files):
        files["data/approval/manifest.json"] = manifest
        files["data/approval/manifest.json.p7s"] = board_sig

    report = check(rebag(bundle, mutate), trust)
    assert report.approval.report.passed  # the board's signature itself is fine
    assert not report.approval.manifest_matches
    assert any("VPHU-TT" in m for m in report.approval.mismatches)
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"


def test_approval_signed_by_a_member_unit_instead_of_the_board(bundle, world, trust) -> None:
    def mutate(files):
        files["data/approval/manifest.json.p7s"] = sign(
            world, "VPHU-MD", files["data/approval/manifest.json"]
        )

    report = check(rebag(bundle, mutate), trust)
    assert report.approval.report.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert not report.passed


def test_member_dropped_from_document_json(bundle, trust) -> None:
    """Removing a unit from the list of who must sign (and its signature) is caught by the
    board-signed manifest and by bag-info."""

    def mutate(files):
        doc = json.loads(files["data/document.json"])
        doc["member_units"] = [u for u in doc["member_units"] if u["code"] != "VPHU-QO"]
        files["data/document.json"] = json.dumps(doc, ensure_ascii=False).encode()
        del files["data/signatures/VPHU-QO.p7s"]

    report = check(rebag(bundle, mutate), trust)
    assert report.fixity.ok
    assert {"bag_info", "approval_manifest"} <= problem_codes(report)
    assert report.indication == FAILED


# -- audit -----------------------------------------------------------------------------------


def _audit_lines(files):
    return files["data/audit.jsonl"].decode().splitlines()


def _set_audit(files, lines):
    files["data/audit.jsonl"] = ("\n".join(lines) + "\n").encode()


def test_edited_audit_line(bundle, trust) -> None:
    def mutate(files):
        lines = _audit_lines(files)
        event = json.loads(lines[4])
        event["actor"] = "someone-else"
        lines[4] = json.dumps(event, ensure_ascii=False)
        _set_audit(files, lines)

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert report.audit.broken_index == 4
    assert "audit" in problem_codes(report)
    assert report.indication == FAILED


def test_deleted_audit_line(bundle, trust) -> None:
    def mutate(files):
        lines = _audit_lines(files)
        del lines[3]
        _set_audit(files, lines)

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert report.audit.broken_index == 3
    assert report.indication == FAILED


def test_deleted_first_audit_line(bundle, trust) -> None:
    def mutate(files):
        _set_audit(files, _audit_lines(files)[1:])

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert report.audit.broken_index == 0


def test_reordered_audit_lines(bundle, trust) -> None:
    def mutate(files):
        lines = _audit_lines(files)
        lines[5], lines[6] = lines[6], lines[5]
        _set_audit(files, lines)

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert report.audit.broken_index == 5
    assert report.indication == FAILED


@pytest.mark.parametrize(
    "content",
    [b"", b"not json\n", b"[1,2]\n", b'{"a":1,"a":2}\n', b'{"x": NaN}\n', b"\xff\xfe\n"],
)
def test_unreadable_audit_log(bundle, trust, content: bytes) -> None:
    def mutate(files):
        files["data/audit.jsonl"] = content

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert report.indication == FAILED


# -- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "data/document.json",
        "data/approval/manifest.json",
        "data/approval/manifest.json.p7s",
        "data/crl.der",
        "data/verification.json",
        "data/document.docx",
    ],
)
def test_missing_required_file(bundle, trust, path: str) -> None:
    def mutate(files):
        del files[path]

    report = check(rebag(bundle, mutate), trust)
    assert report.fixity.ok
    assert "missing_file" in problem_codes(report)
    assert report.indication == FAILED


def test_unexpected_file(bundle, trust) -> None:
    def mutate(files):
        files["data/readme.txt"] = b"hello"

    report = check(rebag(bundle, mutate), trust)
    assert "unexpected_file" in problem_codes(report)
    assert report.indication == FAILED


def test_fetch_file_is_refused(bundle, trust) -> None:
    def mutate(files):
        files["fetch.txt"] = b"https://example.org/x 10 data/x\n"

    report = check(edit(bundle, mutate), trust)
    assert "unexpected_file" in problem_codes(report)
    assert report.indication == FAILED


@pytest.mark.parametrize(
    "content",
    [b"{", b"[]", b'{"format": "other"}', b'{"a": 1, "a": 2}', b"\x00\x01", b"[" * 5000],
)
def test_malformed_document_json(bundle, trust, content: bytes) -> None:
    def mutate(files):
        files["data/document.json"] = content

    report = check(rebag(bundle, mutate), trust)
    assert "document_json" in problem_codes(report)
    assert report.indication == FAILED


@pytest.mark.parametrize(
    "content",
    [b"{", b'{"format":"thidua-approval-manifest/1"}', b"1", b'{"a":1,"a":1}'],
)
def test_malformed_approval_manifest(bundle, trust, content: bytes) -> None:
    def mutate(files):
        files["data/approval/manifest.json"] = content

    report = check(rebag(bundle, mutate), trust)
    assert not report.approval.passed
    assert report.indication == FAILED


def test_top_folder_renamed_to_another_document(bundle, trust) -> None:
    _, files = unzip(bundle)
    report = check(rezip("thidua-43", files), trust)
    assert report.indication == FAILED
    assert "document_json" in problem_codes(report)


# -- fixity: our in-memory check agrees with the bagit library ----------------------------


def _tampered_bags(bundle: bytes):
    def flip(path):
        def mutate(files):
            files[path] = flip_byte(files[path])

        return mutate

    def drop(path):
        def mutate(files):
            del files[path]

        return mutate

    def add(path):
        def mutate(files):
            files[path] = b"extra"

        return mutate

    def oxum(files):
        files["bag-info.txt"] = files["bag-info.txt"].replace(b"Payload-Oxum: ", b"Payload-Oxum: 1")

    def version(files):
        files["bagit.txt"] = files["bagit.txt"].replace(b"0.97", b"9.99")

    yield "intact", unzip(bundle)[1]
    for name, mutate in [
        ("flip docx", flip("data/document.docx")),
        ("flip signature", flip("data/signatures/VPHU-MD.p7s")),
        ("flip bag-info", flip("bag-info.txt")),
        ("flip manifest", flip("manifest-sha256.txt")),
        ("drop crl", drop("data/crl.der")),
        ("add payload", add("data/extra.bin")),
        ("oxum", oxum),
        ("version", version),
    ]:
        _, files = unzip(edit(bundle, mutate))
        yield name, files


def test_in_memory_fixity_agrees_with_bagit(bundle) -> None:
    verdicts = {}
    for name, files in _tampered_bags(bundle):
        ours, _ = check_fixity(files)
        theirs = bagit_validate(files)
        verdicts[name] = (ours.ok, theirs.ok)
        assert ours.ok == theirs.ok, (name, ours.errors, theirs.errors)
    assert verdicts["intact"] == (True, True)
    assert sum(ok for ok, _ in verdicts.values()) == 1


def test_member_unit_posing_as_the_board(bundle, world, trust) -> None:
    """A member unit writes its own code as the board's and signs the approval itself."""
    manifest = approval_manifest(
        shared_input().evidence,
        decision={"number": "1/QĐ", "board": {"code": "VPHU-MD", "name": "Ban giả"}},
        approved_at=APPROVED_AT,
    )

    def mutate(files):
        files["data/approval/manifest.json"] = manifest
        files["data/approval/manifest.json.p7s"] = sign(world, "VPHU-MD", manifest)

    report = check(rebag(bundle, mutate), trust)
    assert report.approval.report.passed  # a valid signature by VPHU-MD...
    assert report.approval.manifest_matches
    assert "approval_signer" in problem_codes(report)  # ...but not the board's
    assert report.approval.signer_is_member
    assert not report.approval.passed
    assert report.indication == INDETERMINATE
    assert report.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert not report.passed


def test_unknown_bundle_format_version(bundle, trust) -> None:
    def mutate(files):
        files["bag-info.txt"] = files["bag-info.txt"].replace(
            b"Thidua-Bundle-Format: thidua-bundle/1", b"Thidua-Bundle-Format: thidua-bundle/9"
        )

    report = check(rebag(bundle, mutate), trust)
    assert "format" in problem_codes(report)
    assert report.indication == FAILED


@pytest.mark.parametrize("content", [b"[]", b"{", b'{"a":1,"a":2}'])
def test_malformed_verification_json(bundle, trust, content: bytes) -> None:
    def mutate(files):
        files["data/verification.json"] = content

    report = check(rebag(bundle, mutate), trust)
    assert "verification_json" in problem_codes(report)
    assert report.indication == FAILED


# -- issue 7, findings 3 and 4: a foreign CRL, a truncated audit tail, lying certificate files


@pytest.fixture(scope="module")
def stranger():
    """An unrelated CA with one signer whose unit code is a member's (an impostor)."""
    return make_world({"VPHU-MD": UNITS["VPHU-MD"]}, common_name="thidua CA (khác)")


def _cert_file(files, prefix: str) -> str:
    return next(p for p in files if p.startswith(f"data/certs/{prefix}-"))


@pytest.mark.parametrize("by_fingerprint", [False, True])
def test_crl_of_an_unrelated_ca_hides_no_revocation(world, by_fingerprint) -> None:
    """VPHU-PX's key was compromised before it signed; the attacker swaps the bundle's CRL
    for an (empty, validly signed) CRL of another CA. The bundle fails exactly as if it had
    no CRL at all."""
    revoked = Revocation(
        world.units["VPHU-PX"].certificate.serial_number,
        SIGNED_AT - timedelta(days=1),
        "key_compromise",
    )
    data = build(bundle_input(world, crl_revoked=(revoked,)))
    # As in the finding: same common name, another organisation, its own key.
    other = CertificateAuthority.create(
        "thidua CA", "Mạo danh", b"x" * 32, APPROVED_AT, kdf_params=TEST_KDF
    )
    swapped = rebag(data, lambda f: f.__setitem__("data/crl.der", other.crl([], now=APPROVED_AT)))
    removed = rebag(data, lambda f: f.pop("data/crl.der"))

    def run(bundle):
        if by_fingerprint:
            return verify_bundle(
                bundle, trust=None, ca_fingerprint=world.ca_fingerprint, at=VERIFY_AT
            )
        return check(bundle, TrustStore([world.ca.certificate]))

    report = run(swapped)
    assert not report.passed
    assert "crl" in problem_codes(report)
    assert any("data/crl.der" in p.message for p in report.problems if p.code == "crl")
    missing = run(removed)
    assert (report.indication, report.sub_indication) == (FAILED, "FORMAT_FAILURE")
    assert (report.indication, report.sub_indication) == (
        missing.indication,
        missing.sub_indication,
    )


def test_audit_segment_without_its_last_lines_fails(bundle, trust) -> None:
    """Deleting the tail (the approve event, or more) leaves a valid prefix of the chain."""
    for keep in (-1, -2, -5):

        def mutate(files, keep=keep):
            _set_audit(files, _audit_lines(files)[:keep])

        report = check(rebag(bundle, mutate), trust)
        assert not report.audit.ok, keep
        assert "audit" in problem_codes(report)
        assert report.indication == FAILED
        assert report.sub_indication == "HASH_FAILURE"


def test_audit_tail_reforged_after_cutting_events_fails(bundle, trust) -> None:
    """The attacker drops the last events and appends a freshly hashed "approve" event: the
    chain is valid and ends with an approval, but the event the board signed as the head of
    the segment (audit_head in the approval manifest) is gone."""

    def mutate(files):
        lines = [json.loads(line) for line in _audit_lines(files)]
        head, approve = lines[-3], dict(lines[-1])  # drop the "submit" event
        approve["doc_prev_hash"] = approve["prev_hash"] = head["hash"]
        approve["hash"] = event_hash(approve)
        kept = [*lines[:-2], approve]
        _set_audit(files, [json.dumps(e, ensure_ascii=False) for e in kept])

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert "audit_head" in report.audit.reason
    assert report.indication == FAILED


def test_audit_event_after_the_approval_fails(bundle, trust) -> None:
    def mutate(files):
        lines = [json.loads(line) for line in _audit_lines(files)]
        extra = {**lines[-1], "action": "comment", "id": 999}
        extra["doc_prev_hash"] = extra["prev_hash"] = lines[-1]["hash"]
        extra["hash"] = event_hash(extra)
        _set_audit(files, [json.dumps(e, ensure_ascii=False) for e in [*lines, extra]])

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert "comment" in report.audit.reason
    assert report.indication == FAILED


def test_archive_event_cannot_follow_the_approval(world, bundle, trust) -> None:
    """The ``archive`` event records the bundle's own hash, so it is never inside the bundle:
    the board signs the segment up to and including ``approve``. A segment that goes on
    (an archive event appended and the bag re-hashed) fails, naming audit.jsonl."""
    inp = bundle_input(world)
    archived = audit_chain(inp.document_id, [*ACTIONS, "archive"])
    with pytest.raises(BundleError, match="approve"):
        approval_manifest(
            dataclasses.replace(inp.evidence, audit_events=archived),
            decision={},
            approved_at=APPROVED_AT,
        )

    def mutate(files):
        lines = [json.loads(line) for line in _audit_lines(files)]
        extra = {**lines[-1], "action": "archive", "id": 999}
        extra["doc_prev_hash"] = extra["prev_hash"] = lines[-1]["hash"]
        extra["hash"] = event_hash(extra)
        _set_audit(files, [json.dumps(e, ensure_ascii=False) for e in [*lines, extra]])

    report = check(rebag(bundle, mutate), trust)
    assert not report.audit.ok
    assert "archive" in report.audit.reason
    assert report.indication == FAILED
    assert "data/audit.jsonl" in report.failed_paths


def test_approval_manifest_records_the_audit_head(bundle) -> None:
    _, files = unzip(bundle)
    body = json.loads(files["data/approval/manifest.json"])
    lines = [json.loads(line) for line in _audit_lines(files)]
    # the head is the approval event itself, the segment's last
    assert body["audit_head"] == lines[-1]["hash"]
    assert lines[-1]["action"] == "approve"
    evidence = shared_input().evidence
    forged = [*evidence.audit_events[:-1], {**evidence.audit_events[-1], "hash": "not-a-hash"}]
    with pytest.raises(BundleError):
        approval_manifest(
            dataclasses.replace(evidence, audit_events=forged), decision={}, approved_at=APPROVED_AT
        )


@pytest.mark.parametrize("by_fingerprint", [False, True])
def test_certificate_files_replaced_by_impostors(bundle, world, stranger, by_fingerprint) -> None:
    impostor_ca = certificate_pem(stranger.ca.certificate)
    impostor_md = certificate_pem(stranger.units["VPHU-MD"].certificate)
    impostor_md_fp = fingerprint_sha256(stranger.units["VPHU-MD"].certificate)

    def run(mutate):
        data = rebag(bundle, mutate)
        if by_fingerprint:
            return verify_bundle(
                data, trust=None, ca_fingerprint=world.ca_fingerprint, at=VERIFY_AT
            )
        return check(data, TrustStore([world.ca.certificate]))

    def same_name(prefix, pem):
        return lambda f: f.__setitem__(_cert_file(f, prefix), pem)

    def renamed(f):
        # the impostor under a name that matches its own fingerprint: only the .p7s tells
        f.pop(_cert_file(f, "VPHU-MD"))
        f[f"data/certs/VPHU-MD-{impostor_md_fp[:16]}.pem"] = impostor_md

    def ca_renamed(f):
        f[f"data/certs/ca-{fingerprint_sha256(stranger.ca.certificate)[:16]}.pem"] = impostor_ca

    for mutate, needle in [
        (same_name("ca", impostor_ca), "ca-"),
        (same_name("VPHU-MD", impostor_md), "VPHU-MD-"),
        (renamed, "VPHU-MD-"),
        (ca_renamed, "ca-"),
    ]:
        report = run(mutate)
        messages = [p.message for p in report.problems if p.code == "certificate"]
        assert any(needle in m for m in messages), report.to_dict()["problems"]
        assert report.indication == FAILED
    assert run(lambda f: None).passed
