"""The signed PDF in an archive bundle (issue 16): data/document.pdf beside a pledge's DOCX,
data/parts/NN-name.pdf beside a dossier's part, pinned by the board's manifest and checked
signature by signature with signing.pades.verify_pdf."""

from __future__ import annotations

import dataclasses
import hashlib
from functools import cache

import pytest

from signing import Indication, SubIndication, TrustStore
from signing._seal import TEST_KDF
from signing.archive import ArchiveEvidence, approval_manifest, build_bundle, verify_bundle
from signing.archive.evidence import payload_files
from signing.ca import CertificateAuthority
from signing.errors import BundleError
from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD
from tests.signing.bundle_fixtures import (
    APPROVED_AT,
    DECISION,
    UNITS,
    VERIFY_AT,
    approve,
    board_sign,
    build,
    edit,
    evidence_for,
    rebag,
    shared_world,
)
from tests.signing.bundle_pdf_helpers import (
    edit_byte,
    frozen_pdf,
    issue,
    sign_in,
    signed_pdf,
    world_party,
)
from tests.signing.pades_helpers import update_after

PASSED, FAILED, INDET = Indication.TOTAL_PASSED, Indication.TOTAL_FAILED, Indication.INDETERMINATE
PDF_PATH = "data/document.pdf"


@cache
def good_pdf() -> bytes:
    return signed_pdf(shared_world())


def pledge_evidence(pdf: bytes | None) -> ArchiveEvidence:
    evidence = evidence_for(shared_world())
    return evidence if pdf is None else dataclasses.replace(evidence, pdfs={"document.pdf": pdf})


def bundle_with(pdf: bytes) -> bytes:
    """A bundle the board approved with ``pdf`` in it (what a faulty workflow or an insider
    would archive: the manifest pins this PDF, so only the PDF step can tell)."""
    return build(approve(shared_world(), pledge_evidence(pdf)))


@cache
def good_bundle() -> bytes:
    return bundle_with(good_pdf())


def check(data: bytes):
    trust = TrustStore([shared_world().ca.certificate])
    return verify_bundle(data, trust=trust, ca_fingerprint=None, at=VERIFY_AT)


def codes_at(report, path: str) -> set[str]:
    return {p.code for p in report.problems if p.path == path}


# --------------------------------------------------------------------------- passing
def test_a_bundle_with_its_signed_pdf_passes():
    report = check(good_bundle())
    assert (report.indication, report.sub_indication) == (PASSED, None)
    pdf = report.pdfs[PDF_PATH]
    assert pdf.passed
    assert {s.field for s in pdf.signatures} == {*UNITS, BOARD_FIELD, CERTIFICATION_FIELD}
    data = report.to_dict()
    assert data["pdfs"][PDF_PATH]["indication"] == "TOTAL_PASSED"
    assert data["pdfs"][PDF_PATH]["document_sha256"] == hashlib.sha256(good_pdf()).hexdigest()


def test_the_board_pins_the_pdf():
    payload = payload_files(pledge_evidence(good_pdf()))
    assert payload[PDF_PATH] == good_pdf()
    approval = approve(shared_world(), pledge_evidence(good_pdf()))
    assert b'"data/document.pdf":"' + hashlib.sha256(good_pdf()).hexdigest().encode() in (
        approval.approval_manifest
    )


def test_a_bundle_without_a_pdf_still_passes():
    report = check(build(approve(shared_world(), pledge_evidence(None))))
    assert report.passed
    assert report.pdfs == {}
    assert report.to_dict()["pdfs"] == {}


def test_a_unit_that_signed_only_its_cms_is_listed_unsigned_in_the_pdf():
    pdf = signed_pdf(shared_world(), skip=["VPHU-TO"])
    report = check(bundle_with(pdf))
    assert report.passed
    assert report.pdfs[PDF_PATH].unsigned_fields == ("VPHU-TO",)
    entry = report.to_dict()["pdfs"][PDF_PATH]
    assert entry["unsigned_fields"] == ["VPHU-TO"]
    # the PDF alone lacks a signature; the bundle, holding VPHU-TO's CMS, does not
    assert entry["indication"] == "INDETERMINATE"
    assert entry["bundle_indication"] == "TOTAL_PASSED"


# --------------------------------------------------------------------------- tampering
def test_an_edited_pdf_byte_the_attacker_could_not_re_pin_is_a_hash_failure():
    def mutate(files):
        files[PDF_PATH] = edit_byte(files[PDF_PATH])

    report = check(rebag(good_bundle(), mutate))
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.HASH_FAILURE)
    assert report.failed_paths == (PDF_PATH,)
    # the board's pin and every PDF signature both name it
    assert codes_at(report, PDF_PATH) == {"pinned_file", "pdf_signature"}
    assert report.pdfs[PDF_PATH].sub_indication is SubIndication.HASH_FAILURE


def test_an_edited_pdf_byte_without_rebagging_fails_fixity_too():
    def mutate(files):
        files[PDF_PATH] = edit_byte(files[PDF_PATH])

    report = check(edit(good_bundle(), mutate))
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.HASH_FAILURE)
    assert PDF_PATH in report.failed_paths


def test_an_incremental_update_after_the_board_is_named():
    report = check(bundle_with(update_after(good_pdf())))
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.UNSIGNED_CONTENT)
    assert report.failed_paths == (PDF_PATH,)
    board = [p for p in report.problems if BOARD_FIELD in p.message]
    assert board
    assert all(p.sub_indication is SubIndication.UNSIGNED_CONTENT for p in board)


def test_bytes_appended_after_the_last_signature_are_named():
    report = check(bundle_with(good_pdf() + b"\n% one more line\n"))
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.UNSIGNED_CONTENT)
    assert report.failed_paths == (PDF_PATH,)
    assert codes_at(report, PDF_PATH) == {"pdf_unsigned_content"}


def test_a_unit_field_signed_by_the_wrong_units_key_is_named():
    world = shared_world()
    pdf = signed_pdf(world, signers={"VPHU-PX": world_party(world, "VPHU-UH")})
    report = check(bundle_with(pdf))
    assert not report.passed
    assert report.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert report.failed_paths == (PDF_PATH,)
    (problem,) = report.problems
    assert "VPHU-PX" in problem.message
    assert "VPHU-UH" in problem.message
    # the CMS signatures are all fine: only the PDF is at fault
    assert report.status == "complete"


def test_a_pdf_re_signed_under_a_foreign_ca_is_named():
    world = shared_world()
    foreign = CertificateAuthority.create(
        "thidua CA",
        "Cụm thi đua số 4",
        b"f" * 32,
        world.ca.certificate.not_valid_before_utc,
        kdf_params=TEST_KDF,
    )
    forger = issue(foreign, "VPHU-PX", UNITS["VPHU-PX"], "Kẻ giả mạo")
    report = check(bundle_with(signed_pdf(world, signers={"VPHU-PX": forger})))
    assert not report.passed
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert report.failed_paths == (PDF_PATH,)
    assert "VPHU-PX" in report.problems[0].message


def test_a_pdf_the_board_did_not_close_fails():
    report = check(bundle_with(signed_pdf(shared_world(), board=False)))
    assert (report.indication, report.sub_indication) == (
        FAILED,
        SubIndication.SIGNED_DATA_NOT_FOUND,
    )
    assert report.failed_paths == (PDF_PATH,)
    assert codes_at(report, PDF_PATH) == {"pdf_board_unsigned"}
    assert report.pdfs[PDF_PATH].unsigned_fields == (BOARD_FIELD,)


def test_a_pdf_added_to_a_bundle_after_approval_is_unsigned_content():
    bundle = build(approve(shared_world(), pledge_evidence(None)))

    def mutate(files):
        files[PDF_PATH] = good_pdf()

    report = check(rebag(bundle, mutate))
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.UNSIGNED_CONTENT)
    assert "unsigned_file" in codes_at(report, PDF_PATH)


def test_the_bundles_own_ca_by_fingerprint_judges_the_pdf_too():
    world = shared_world()
    report = verify_bundle(
        good_bundle(), trust=None, ca_fingerprint=world.ca_fingerprint, at=VERIFY_AT
    )
    assert report.passed
    assert report.pdfs[PDF_PATH].passed


def test_without_a_trust_anchor_the_pdf_is_indeterminate_too():
    report = verify_bundle(good_bundle(), trust=None, ca_fingerprint=None, at=VERIFY_AT)
    assert report.indication is INDET
    assert report.pdfs[PDF_PATH].sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    notes = [p for p in report.problems if p.path == PDF_PATH]
    assert len(notes) == 1  # one note for the PDF, not one per signature
    assert all(p.indication is INDET for p in notes)


def test_a_member_unit_in_the_boards_field_is_named_when_the_manifest_names_no_board():
    world = shared_world()
    codes = list(UNITS)
    pdf = frozen_pdf(world, codes)
    for minute, code in enumerate(codes):
        pdf = sign_in(pdf, code, world_party(world, code), minute)
    pdf = sign_in(pdf, BOARD_FIELD, world_party(world, "VPHU-MD"), 30)
    evidence = pledge_evidence(pdf)
    decision = {k: v for k, v in DECISION.items() if k != "board"}
    manifest = approval_manifest(evidence, decision=decision, approved_at=APPROVED_AT)
    bundle = build_bundle(evidence, manifest, board_sign(world, manifest))
    report = check(bundle)
    assert report.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert "pdf_board_signer" in codes_at(report, PDF_PATH)


# --------------------------------------------------------------------------- refused input
@pytest.mark.parametrize(
    ("pdfs", "match"),
    [
        ({"other.pdf": b"%PDF-1.7\n"}, "other.pdf"),
        ({"01-to-trinh.pdf": b"%PDF-1.7\n"}, "01-to-trinh.pdf"),
        ({"document.pdf": b"PK\x03\x04 not a pdf"}, "%PDF-"),
        ({"document.pdf": b""}, "document.pdf"),
    ],
)
def test_payload_files_refuses_a_pdf_of_no_signed_document_or_not_a_pdf(pdfs, match):
    evidence = dataclasses.replace(evidence_for(shared_world()), pdfs=pdfs)
    with pytest.raises(BundleError, match=match):
        payload_files(evidence)


# --------------------------------------------------------------------------- a dossier
def dossier_with(pdfs: dict[str, bytes]) -> bytes:
    from tests.signing.test_bundle_dossier import dossier_evidence

    evidence = dataclasses.replace(dossier_evidence(), pdfs=pdfs)
    return build(approve(shared_world(), evidence))


def test_a_dossier_parts_pdf_is_signed_by_the_parts_signers():
    # 02-bien-ban.docx is signed on paper by VPHU-MD and VPHU-UH (dossier.json's signers)
    pdf = signed_pdf(shared_world(), ["VPHU-MD", "VPHU-UH"])
    report = check(dossier_with({"02-bien-ban.pdf": pdf}))
    assert report.passed
    assert report.pdfs["data/parts/02-bien-ban.pdf"].passed


def test_a_dossier_parts_pdf_signed_by_a_unit_not_among_its_signers_fails():
    # 01-to-trinh.docx lists only VPHU-MD: a VPHU-UH field in its PDF is not expected
    pdf = signed_pdf(shared_world(), ["VPHU-MD", "VPHU-UH"])
    report = check(dossier_with({"01-to-trinh.pdf": pdf}))
    assert (report.indication, report.sub_indication) == (
        FAILED,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert report.failed_paths == ("data/parts/01-to-trinh.pdf",)
    assert "VPHU-UH" in report.problems[0].message


def test_payload_files_refuses_a_dossier_pdf_named_after_no_part():
    from tests.signing.test_bundle_dossier import dossier_evidence

    for name in ("document.pdf", "04-khac.pdf"):
        evidence = dataclasses.replace(dossier_evidence(), pdfs={name: good_pdf()})
        with pytest.raises(BundleError, match=name):
            payload_files(evidence)


def test_a_pdf_of_a_part_the_dossier_does_not_list_is_unsigned_content():
    def mutate(files):
        files["data/parts/04-khac.pdf"] = good_pdf()

    report = check(rebag(dossier_with({}), mutate))
    assert not report.passed
    assert "unlisted_part" in codes_at(report, "data/parts/04-khac.pdf")


def test_a_document_pdf_beside_a_dossier_is_refused():
    def mutate(files):
        files[PDF_PATH] = good_pdf()

    report = check(rebag(dossier_with({}), mutate))
    assert not report.passed
    assert "unexpected_file" in codes_at(report, PDF_PATH)
