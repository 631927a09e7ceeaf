"""Bundles that stay provable (issue 17): CAdES-T unit and board signatures, the archive
timestamp over the payload manifest, its renewal by a newer TSA, and verification years
later with the timestamps as proof of existence — and the forgeries of each."""

from __future__ import annotations

import functools
import hashlib
import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest

from signing.archive import approval_manifest, build_bundle, verify_bundle
from signing.archive.timestamps import add_archive_timestamp, archive_imprint
from signing.ca import CertificateAuthority
from signing.cades import add_signature_timestamp
from signing.credentials import generate_private_key
from signing.errors import BundleError
from signing.signers import KeySigner
from signing.tsa import AuthorityTimestamper, TimeStampAuthority
from signing.validation.status import Indication, SubIndication
from signing.validation.trust import TrustStore
from tests.signing.bundle_fixtures import (
    APPROVED_AT,
    CA_CREATED,
    DECISION,
    SIGNED_AT,
    World,
    board_sign,
    evidence_for,
    make_world,
    rezip,
    sign,
    unzip,
)

POLICY = "1.3.6.1.4.1.59999.17.1"
ARCHIVED_AT = APPROVED_AT + timedelta(hours=1)
TEN_YEARS_ON = datetime(2028, 4, 1, tzinfo=SIGNED_AT.tzinfo)  # unit certificates expired 2020
AFTER_FIRST_TSA = datetime(2031, 6, 1, tzinfo=SIGNED_AT.tzinfo)  # the 2018 TSA expired 2029
_SERIALS = itertools.count(1)


def authority(ca: CertificateAuthority, now: datetime, name: str = "thidua TSA") -> Any:
    key = generate_private_key("ec-p256")
    cert = ca.issue_tsa(key.public_key(), name=name, now=now)
    return TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), POLICY)


def stamper(tsa: TimeStampAuthority, at: datetime, serial: Any = None) -> AuthorityTimestamper:
    return AuthorityTimestamper(tsa, at=at, next_serial=serial or (lambda: next(_SERIALS)))


@functools.cache
def world() -> World:
    return make_world()


@functools.cache
def tsa_2018() -> TimeStampAuthority:
    return authority(world().ca, CA_CREATED + timedelta(days=1))


def bundle(
    *,
    signature_timestamps: bool = True,
    archive_timestamp: bool = True,
    tsa: TimeStampAuthority | None = None,
    serial: Any = None,
) -> bytes:
    """A pledge bundle made as the workflow makes it: each unit's CMS timestamped when
    signed, the board's at approval, then the archive timestamp over the manifest."""
    w, tsa = world(), tsa or tsa_2018()
    docx = b"PK\x03\x04" + hashlib.sha256(b"ts-pledge").digest() * 512
    signatures = {code: sign(w, code, docx) for code in w.units}
    if signature_timestamps:
        signatures = {
            code: add_signature_timestamp(der, stamper(tsa, SIGNED_AT, serial))
            for code, der in signatures.items()
        }
    evidence = evidence_for(w, docx=docx, signatures=signatures)
    manifest = approval_manifest(evidence, decision=DECISION, approved_at=APPROVED_AT)
    board = board_sign(w, manifest)
    if signature_timestamps:
        board = add_signature_timestamp(board, stamper(tsa, APPROVED_AT, serial))
    zipped = build_bundle(evidence, manifest, board)
    if archive_timestamp:
        zipped = add_archive_timestamp(zipped, stamper(tsa, ARCHIVED_AT, serial))
    return zipped


@functools.cache
def timestamped() -> bytes:
    return bundle()


@functools.cache
def renewed() -> bytes:
    """The timestamped bundle renewed in 2028 by that year's TSA, with the CRL of the day."""
    w = world()
    renewal = datetime(2028, 3, 1, tzinfo=SIGNED_AT.tzinfo)
    tsa = authority(w.ca, renewal - timedelta(days=1), name="thidua TSA 2028")
    return add_archive_timestamp(
        timestamped(), stamper(tsa, renewal), crl=w.ca.crl([], now=renewal)
    )


def verify(data: bytes, at: datetime) -> Any:
    return verify_bundle(
        data, trust=TrustStore([world().ca.certificate]), ca_fingerprint=None, at=at
    )


def codes(report: Any) -> set[str]:
    return {p.code for p in report.problems}


# ------------------------------------------------------------------ proof of existence
def test_ten_years_on_the_timestamps_prove_the_signatures() -> None:
    report = verify(timestamped(), TEN_YEARS_ON)
    assert report.indication is Indication.TOTAL_PASSED, report.problems
    for unit in report.units:
        assert unit.report.passed, unit.report.detail
        assert unit.report.certificate_state == "expired_after_poe"
        assert unit.report.trusted_time == SIGNED_AT
        assert "thidua TSA" in unit.report.timestamps[0].tsa_name
    assert report.approval.report.trusted_time == APPROVED_AT
    assert report.archive_timestamps.proven_at == ARCHIVED_AT
    assert report.to_dict()["archive_timestamps"]["proven_at"] == ARCHIVED_AT.isoformat()


def test_a_bundle_without_timestamps_is_no_poe_ten_years_on() -> None:
    report = verify(bundle(signature_timestamps=False, archive_timestamp=False), TEN_YEARS_ON)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
    )
    assert all(u.report.certificate_state == "expired_no_poe" for u in report.units)


def test_the_archive_timestamp_alone_proves_older_signatures() -> None:
    report = verify(bundle(signature_timestamps=False), TEN_YEARS_ON)
    assert report.indication is Indication.TOTAL_PASSED, report.problems
    assert {u.report.trusted_time for u in report.units} == {ARCHIVED_AT}


def test_once_the_tsa_certificate_expired_only_a_renewal_keeps_the_proof() -> None:
    stale = verify(timestamped(), AFTER_FIRST_TSA)
    assert (stale.indication, stale.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
    )
    assert "archive_timestamp" in codes(stale)
    report = verify(renewed(), AFTER_FIRST_TSA)
    assert report.indication is Indication.TOTAL_PASSED, report.problems
    assert [t.tsa_name.split(",")[0] for t in report.archive_timestamps.timestamps] == [
        "CN=thidua TSA",
        "CN=thidua TSA 2028",
    ]
    assert report.archive_timestamps.proven_at == ARCHIVED_AT


def test_renewal_changes_only_the_tag_manifest_and_adds_its_files() -> None:
    _, before = unzip(timestamped())
    _, after = unzip(renewed())
    added = set(after) - set(before)
    assert added == {"archive-timestamps/0002.tsr", "archive-timestamps/0002.crl"}
    changed = {p for p in before if before[p] != after[p]}
    assert changed == {"tagmanifest-sha256.txt"}
    assert b"archive-timestamps/0002.tsr" in after["tagmanifest-sha256.txt"]


def test_the_imprint_is_the_listed_sha256_lines(tmp_path) -> None:
    _, files = unzip(renewed())
    lines = "".join(
        f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n"
        for p in (
            "manifest-sha256.txt",
            "archive-timestamps/0001.tsr",
            "archive-timestamps/0002.crl",
        )
    )
    assert archive_imprint(files, 2) == hashlib.sha256(lines.encode()).digest()


# ------------------------------------------------------------------ forgeries
def _rehash_tags(files: dict[str, bytes]) -> None:
    from signing.archive.bag import tag_manifest

    files["tagmanifest-sha256.txt"] = tag_manifest(files)


def _forged(mutate: Any) -> bytes:
    top, files = unzip(renewed())
    mutate(files)
    _rehash_tags(files)
    return rezip(top, files)


def test_an_archive_token_over_other_bytes_fails() -> None:
    other = stamper(tsa_2018(), ARCHIVED_AT).timestamp(bytes(32))
    forged = _forged(lambda f: f.__setitem__("archive-timestamps/0001.tsr", other))
    report = verify(forged, AFTER_FIRST_TSA)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )


def test_an_archive_token_from_a_foreign_tsa_proves_nothing() -> None:
    foreign_ca = make_world(common_name="thidua CA").ca
    foreign = authority(foreign_ca, CA_CREATED + timedelta(days=2))
    forged = add_archive_timestamp(
        bundle(signature_timestamps=False, archive_timestamp=False), stamper(foreign, ARCHIVED_AT)
    )
    report = verify(forged, TEN_YEARS_ON)
    assert report.indication is Indication.INDETERMINATE
    assert "archive_timestamp" in codes(report)
    assert report.archive_timestamps.proven_at is None


def test_a_gap_in_the_numbering_is_refused() -> None:
    forged = _forged(lambda f: f.pop("archive-timestamps/0001.tsr"))
    report = verify(forged, AFTER_FIRST_TSA)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )


def test_a_changed_archive_token_breaks_the_tag_manifest() -> None:
    top, files = unzip(renewed())
    token = files["archive-timestamps/0001.tsr"]
    files["archive-timestamps/0001.tsr"] = token[:-1] + bytes([token[-1] ^ 1])
    report = verify(rezip(top, files), TEN_YEARS_ON)
    assert report.indication is Indication.TOTAL_FAILED


def test_an_unknown_file_in_the_timestamps_folder_is_refused() -> None:
    forged = _forged(lambda f: f.__setitem__("archive-timestamps/notes.txt", b"x"))
    report = verify(forged, TEN_YEARS_ON)
    assert report.indication is Indication.TOTAL_FAILED
    assert "unexpected_file" in codes(report)


def test_a_reused_tsa_serial_is_reported() -> None:
    report = verify(bundle(serial=lambda: 7), TEN_YEARS_ON)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert "timestamp_serial" in codes(report)


def test_a_token_before_the_previous_one_is_refused() -> None:
    early = add_archive_timestamp(
        timestamped(), stamper(tsa_2018(), ARCHIVED_AT - timedelta(days=1))
    )
    report = verify(early, TEN_YEARS_ON)
    assert report.indication is not Indication.TOTAL_PASSED
    assert "archive_timestamp" in codes(report)


def test_renewing_something_that_is_not_a_bundle_is_a_clear_error() -> None:
    with pytest.raises(BundleError):
        add_archive_timestamp(b"not a zip", stamper(tsa_2018(), ARCHIVED_AT))


def test_archive_timestamps_without_the_payload_manifest_fail_the_bundle_not_the_verifier() -> None:
    top, files = unzip(renewed())
    del files["manifest-sha256.txt"]
    report = verify(rezip(top, files), TEN_YEARS_ON)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.archive_timestamps.proven_at is None


# ------------------------------------------------------------------ on the command line
def _cli(tmp_path: Any, data: bytes, at: datetime) -> Any:
    from click.testing import CliRunner

    from web.cli import main

    (tmp_path / "b.zip").write_bytes(data)
    (tmp_path / "ca.pem").write_bytes(world().ca_pem)
    args = ["verify", str(tmp_path / "b.zip"), "--trust", str(tmp_path / "ca.pem")]
    return CliRunner().invoke(main, [*args, "--at", at.isoformat()])


@pytest.mark.parametrize(
    ("make", "at", "verdict"),
    [
        (renewed, AFTER_FIRST_TSA, "HỢP LỆ (TOTAL_PASSED)"),
        (timestamped, AFTER_FIRST_TSA, "(INDETERMINATE/OUT_OF_BOUNDS_NO_POE)"),
        (
            lambda: bundle(signature_timestamps=False, archive_timestamp=False),
            TEN_YEARS_ON,
            "(INDETERMINATE/OUT_OF_BOUNDS_NO_POE)",
        ),
        (
            lambda: _forged(
                lambda f: f.__setitem__(
                    "archive-timestamps/0001.tsr",
                    stamper(tsa_2018(), ARCHIVED_AT).timestamp(bytes(32)),
                )
            ),
            AFTER_FIRST_TSA,
            "(TOTAL_FAILED/HASH_FAILURE)",
        ),
        (lambda: bundle(serial=lambda: 7), TEN_YEARS_ON, "(INDETERMINATE/SIG_CONSTRAINTS_FAILURE)"),
    ],
    ids=["renewed", "tsa-expired", "no-timestamps", "other-bytes", "reused-serial"],
)
def test_thidua_verify_at_a_later_date(tmp_path, make, at, verdict) -> None:
    result = _cli(tmp_path, make(), at)
    conclusion = [line for line in result.output.splitlines() if line.startswith("Kết luận:")]
    assert len(conclusion) == 1, result.output
    assert verdict in conclusion[0], result.output
    assert result.exit_code == (0 if "TOTAL_PASSED" in verdict else 1)
