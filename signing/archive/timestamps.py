"""Archive timestamps (issue 17): RFC 3161 tokens over a bundle's payload manifest that keep
its evidence provable after certificates expire, renewed before their TSA's certificate does.

They are tag files, outside data/ (so adding one changes no payload file, no pin of the
board's manifest and no signature), listed in tagmanifest-sha256.txt::

    archive-timestamps/0001.tsr    the first, added when the bundle is made (at approval)
    archive-timestamps/0002.crl    optional: the CA's CRL at the renewal that follows
    archive-timestamps/0002.tsr    a renewal (``thidua archive renew``), and so on

The message imprint of token N is the SHA-256 of the lines ``<sha256 hex>  <path>\\n`` for
manifest-sha256.txt, then every archive-timestamps file numbered below N, then N's own CRL
if any, in that order (``archive_imprint``; the README shows it with sha256sum). So each
renewal covers the manifest, which covers every payload file, and every earlier timestamp:
the chain of evidence ETSI EN 319 102-1 calls augmentation.

Verification: the newest token must hold at the validation time; each older one at the time
of the next (its POE). When the whole chain holds, the first token's time is a proof of
existence for everything the manifest covers, the unit and board signatures included.

Pure: the timestamper and the validation time are parameters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from signing.archive.bag import MANIFEST, TAGMANIFEST, parse_tag_file, tag_manifest
from signing.archive.layout import (
    ARCHIVE_TIMESTAMP_DIR,
    ARCHIVE_TIMESTAMP_NAME,
    TAG_FILES,
    archive_timestamp_path,
)
from signing.archive.zipio import DEFAULT_LIMITS, ZipLimits, read_zip, write_zip
from signing.errors import BundleError, SigningError
from signing.tsa import Timestamper
from signing.validation.status import Indication, SubIndication, TimestampInfo
from signing.validation.timestamp import verify_token
from signing.validation.trust import TrustStore

__all__ = [
    "ARCHIVE_TIMESTAMP_DIR",
    "ArchiveTimestamps",
    "add_archive_timestamp",
    "archive_imprint",
    "archive_timestamp_files",
    "archive_timestamp_path",
    "check_archive_timestamps",
]

_MAX_TIMESTAMPS = 9999


def archive_timestamp_files(files: Mapping[str, bytes]) -> dict[int, dict[str, bytes]]:
    """index -> {"tsr": token, "crl": CRL (optional)} of a bag's archive-timestamps files."""
    out: dict[int, dict[str, bytes]] = {}
    for path, content in files.items():
        match = ARCHIVE_TIMESTAMP_NAME.fullmatch(path)
        if match:
            out.setdefault(int(match.group(1)), {})[match.group(2)] = content
    return dict(sorted(out.items()))


def _file_name(index: int, kind: str) -> str:
    return f"{ARCHIVE_TIMESTAMP_DIR}{index:04d}.{kind}"


def archive_imprint(files: Mapping[str, bytes], index: int) -> bytes:
    """SHA-256 message imprint of archive timestamp ``index`` (see the module docstring)."""
    if MANIFEST not in files:
        raise BundleError(f"gói thiếu {MANIFEST}: không có gì để đóng dấu thời gian lưu trữ")
    covered = [MANIFEST]
    for earlier, parts in archive_timestamp_files(files).items():
        if earlier < index:
            covered += [_file_name(earlier, kind) for kind in sorted(parts)]
    if _file_name(index, "crl") in files:
        covered.append(_file_name(index, "crl"))
    lines = "".join(f"{hashlib.sha256(files[path]).hexdigest()}  {path}\n" for path in covered)
    return hashlib.sha256(lines.encode()).digest()


def add_archive_timestamp(
    bundle: bytes,
    timestamper: Timestamper,
    *,
    crl: bytes | None = None,
    limits: ZipLimits = DEFAULT_LIMITS,
) -> bytes:
    """The bundle with one more archive timestamp (and, for a renewal, the CRL as it is now)
    over its manifest and earlier archive timestamps. Every other file keeps its bytes; only
    tagmanifest-sha256.txt is rebuilt to list the new files."""
    if not isinstance(timestamper, Timestamper):
        raise SigningError("cần một Timestamper để đóng dấu thời gian lưu trữ")
    contents = read_zip(bundle, limits)
    files = dict(contents.files)
    present = archive_timestamp_files(files)
    index = max(present, default=0) + 1
    if index > _MAX_TIMESTAMPS:
        raise BundleError("gói đã có quá nhiều dấu thời gian lưu trữ")
    if crl is not None:
        if not isinstance(crl, bytes) or not crl:
            raise BundleError("CRL phải là dữ liệu nhị phân khác rỗng")
        files[_file_name(index, "crl")] = crl
    token = timestamper.timestamp(archive_imprint(files, index), hash_algorithm="sha256")
    if not isinstance(token, bytes) or not token:
        raise SigningError("đơn vị cấp dấu thời gian không trả về dấu thời gian")
    files[_file_name(index, "tsr")] = token
    files[TAGMANIFEST] = tag_manifest(files)
    moment = _bundle_moment(files)
    ordered = [
        *(name for name in TAG_FILES if name in files),
        *sorted(name for name in files if name not in TAG_FILES),
    ]
    return write_zip(((f"{contents.top}/{name}", files[name]) for name in ordered), moment=moment)


def _bundle_moment(files: Mapping[str, bytes]) -> dt.datetime:
    """The bundle's creation time (bag-info's Thidua-Created-At), which stamps every entry:
    a renewed bundle differs from the first only by its archive-timestamps files and the
    tag manifest."""
    try:
        created = parse_tag_file(files.get("bag-info.txt", b""), "bag-info.txt")[
            "Thidua-Created-At"
        ]
        moment = dt.datetime.fromisoformat(str(created))
    except (ValueError, KeyError):
        raise BundleError("bag-info.txt thiếu Thidua-Created-At hợp lệ") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ArchiveTimestamps:
    """The verdict on a bundle's archive timestamps: each token's report, in order, and the
    time the first proves the manifest existed (None unless the whole chain holds)."""

    timestamps: tuple[TimestampInfo, ...]
    proven_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "timestamps": [t.to_dict() for t in self.timestamps],
            "proven_at": self.proven_at.isoformat() if self.proven_at else None,
        }


_FAILED = {
    SubIndication.FORMAT_FAILURE,
    SubIndication.HASH_FAILURE,
    SubIndication.SIG_CRYPTO_FAILURE,
    SubIndication.REVOKED,
}


def check_archive_timestamps(
    files: Mapping[str, bytes], trust: TrustStore | None, at: dt.datetime
) -> tuple[ArchiveTimestamps, list[tuple[str, Indication, SubIndication, str]]]:
    """Judge the archive timestamps of a bag's ``files``; returns the verdict and the
    problems as (path, indication, sub-indication, Vietnamese message)."""
    present = archive_timestamp_files(files)
    problems: list[tuple[str, Indication, SubIndication, str]] = []
    for number, index in enumerate(present, start=1):
        if index != number or "tsr" not in present[index]:
            path = _file_name(index, "tsr")
            problems.append(
                (
                    path,
                    Indication.TOTAL_FAILED,
                    SubIndication.FORMAT_FAILURE,
                    f"dấu thời gian lưu trữ phải được đánh số liên tục từ 0001: thiếu {path}",
                )
            )
            return ArchiveTimestamps((), None), problems
    if not present or trust is None or MANIFEST not in files:
        # Without the payload manifest there is nothing they could prove (the layout step
        # reports it missing).
        return ArchiveTimestamps((), None), problems
    crls = [parts["crl"] for parts in present.values() if "crl" in parts]
    try:
        store = trust.with_crls(crls) if crls else trust
    except (SigningError, ValueError) as exc:
        path = next(_file_name(i, "crl") for i, parts in present.items() if "crl" in parts)
        problems.append(
            (
                path,
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                f"CRL không hợp lệ: {exc}",
            )
        )
        store = trust
    reports: dict[int, TimestampInfo] = {}
    judged_at = at
    chain_holds = True
    for index in reversed(present):
        report = verify_token(
            present[index]["tsr"], store, digest=archive_imprint(files, index), at=judged_at
        )
        reports[index] = report.info()
        if not report.passed or report.gen_time is None:
            chain_holds = False
            sub = report.sub_indication or SubIndication.FORMAT_FAILURE
            indication = Indication.TOTAL_FAILED if sub in _FAILED else Indication.INDETERMINATE
            problems.append(
                (
                    _file_name(index, "tsr"),
                    indication,
                    sub,
                    f"dấu thời gian lưu trữ {index:04d}: {report.message}",
                )
            )
            continue
        judged_at = report.gen_time  # verify_token refused a token younger than its judge
    ordered = tuple(reports[i] for i in sorted(reports))
    first = ordered[0].gen_time if ordered and chain_holds else None
    return ArchiveTimestamps(ordered, first), problems
