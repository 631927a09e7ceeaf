"""The timestamp steps of bundle verification (issue 17): the archive timestamps, whose
chain gives the proof of existence the signature steps use, and that no TSA serial number
names two tokens of the bundle."""

from __future__ import annotations

from signing.archive.report import ApprovalResult
from signing.archive.run import Run
from signing.archive.timestamps import ArchiveTimestamps, check_archive_timestamps
from signing.validation.status import DocumentReport, Indication, SubIndication, TimestampInfo
from signing.validation.timestamp import reused_serials
from signing.validation.trust import TrustStore

__all__ = ["check_reused_serials", "check_timestamps"]


def check_timestamps(run: Run, trust: TrustStore | None) -> ArchiveTimestamps:
    """Judge archive-timestamps/; when the chain holds, ``run.proven_at`` is the first
    token's time, for the unit and approval signatures checked after this step."""
    verdict, problems = check_archive_timestamps(run.files, trust, run.at)
    for path, indication, sub, message in problems:
        if indication is Indication.TOTAL_FAILED:
            run.fail("archive_timestamp", message, sub, path=path)
        else:
            run.note("archive_timestamp", message, sub, path=path)
    run.proven_at = verdict.proven_at
    return verdict


def check_reused_serials(
    run: Run,
    document: DocumentReport | None,
    approval: ApprovalResult,
    archive: ArchiveTimestamps,
) -> None:
    stamps: list[TimestampInfo] = list(archive.timestamps)
    reports = [u.report for u in (() if document is None else document.units)]
    reports.append(approval.report)
    for report in reports:
        if report is not None:
            stamps += report.timestamps
    for tsa, serial in reused_serials(stamps):
        run.note(
            "timestamp_serial",
            f"đơn vị cấp dấu thời gian {tsa} dùng số sê-ri {serial} cho nhiều dấu thời gian"
            " (dấu thời gian bị sao chép hoặc giả mạo)",
            SubIndication.SIG_CONSTRAINTS_FAILURE,
        )
