"""Building an archive bundle: the evidence's payload, the board's approval, the bag, the zip.

Pure: no clock (``created_at`` is part of the evidence), no database. Deterministic: the same
input gives the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from signing.archive.bag import tag_files
from signing.archive.canonical import strict_json
from signing.archive.evidence import ArchiveEvidence, payload_files
from signing.archive.layout import (
    APPROVAL_PATH,
    APPROVAL_SIGNATURE_PATH,
    TAG_FILES,
    bag_info_for,
    check_bytes,
    signed_file,
)
from signing.archive.manifest import MANIFEST_FORMAT, manifest_mismatches, pinned_files
from signing.archive.zipio import write_zip, zip_timestamp
from signing.errors import BundleError

__all__ = ["build_bundle"]


def build_bundle(evidence: ArchiveEvidence, manifest: bytes, signature: bytes) -> bytes:
    """The archive zip of ``evidence`` approved by ``manifest`` (signing.archive.manifest's
    ``approval_manifest`` of this same evidence) and the board's detached CMS ``signature``
    over it.

    Refuses (BundleError) input that would make a bundle contradict itself: a signature
    missing for a member unit or present for a stranger, an approval manifest that pins
    other bytes than the evidence's, no CA certificate to anchor the chain.
    """
    payload = payload_files(evidence)
    manifest = check_bytes(manifest, "approval_manifest")
    signature = check_bytes(signature, "approval_signature")
    _check_manifest_matches(manifest, str(evidence.document_id), payload)
    zip_timestamp(evidence.created_at)  # refuse a date zip cannot carry before doing the work
    document = strict_json(payload["data/document.json"], "data/document.json")
    payload[APPROVAL_PATH] = manifest
    payload[APPROVAL_SIGNATURE_PATH] = signature
    digests = {path: hashlib.sha256(content).digest() for path, content in payload.items()}
    size = sum(len(content) for content in payload.values())
    files: dict[str, bytes] = {**tag_files(digests, size, bag_info_for(document)), **payload}
    ordered = [*TAG_FILES, *sorted(name for name in files if name not in TAG_FILES)]
    top = f"thidua-{evidence.document_id}"
    return write_zip(
        ((f"{top}/{name}", files[name]) for name in ordered), moment=evidence.created_at
    )


def _check_manifest_matches(manifest: bytes, doc_id: str, payload: Mapping[str, bytes]) -> None:
    try:
        body: Any = strict_json(manifest, "approval/manifest.json")
    except BundleError as exc:
        raise BundleError(f"approval_manifest không đọc được: {exc}") from None
    files = {path: hashlib.sha256(content).hexdigest() for path, content in payload.items()}
    hashes = {
        path[len("data/signatures/") : -len(".p7s")]: digest
        for path, digest in files.items()
        if path.startswith("data/signatures/")
    }
    signed = signed_file(files)
    if signed is None:  # pragma: no cover - payload_files always gives one
        raise BundleError("bằng chứng không có tệp được ký")
    problems = manifest_mismatches(body, doc_id, files[signed], hashes, None, signed)
    if not problems and pinned_files(body) != files:
        problems.append(f"các tệp được ghim ({MANIFEST_FORMAT}) khác các tệp của bằng chứng")
    if problems:
        raise BundleError("bản kê phê duyệt không khớp gói: " + "; ".join(problems))
