"""Nothing unsigned can pass (issue 13): every member of a bundle is covered by a signature,
rebuilt from covered data and compared, or refused, and the report names the file.

Each case is an alteration an attacker who edits an archived bundle and re-hashes the bag
(``rebag``) could make; each passed ``verify_bundle`` before the approval manifest pinned
every file (format /2) and the zip reader refused every second reading (zip_forge).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asn1crypto import cms
from asn1crypto import crl as crl_module

from signing import TrustStore
from signing.archive import canonical_json, read_zip, verify_bundle
from signing.audit import event_hash
from signing.ca import fingerprint_sha256
from signing.errors import BundleError
from signing.validation.status import Indication, SubIndication
from tests.signing.bundle_fixtures import (
    APPROVED_AT,
    VERIFY_AT,
    board_sign,
    certificate_pem,
    make_world,
    rebag,
    shared_bundle,
    shared_input,
    shared_world,
    unzip,
)
from tests.signing.zip_forge import Entry, change, entries_of, extra_field, forge_zip, unicode_path

Files = dict[str, bytes]


@pytest.fixture(scope="module")
def world():
    return shared_world()


@pytest.fixture(scope="module")
def stranger():
    return make_world({"VPHU-XX": "Đơn vị lạ"}, common_name="thidua CA (khác)")


def check(data: bytes):
    trust = TrustStore([shared_world().ca.certificate])
    return verify_bundle(data, trust=trust, ca_fingerprint=None, at=VERIFY_AT)


def _json(path: str, change: Callable[[dict], None]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        body = json.loads(files[path])
        change(body)
        files[path] = (
            json.dumps(body, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        ).encode()

    return mutate


def _content(key: str, value) -> Callable[[dict], None]:
    return lambda body: body["content"].__setitem__(key, value)


def _audit(change: Callable[[list[dict]], list[dict]]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        events = [json.loads(line) for line in files["data/audit.jsonl"].splitlines()]
        lines = [canonical_json(e) + b"\n" for e in change(events)]
        files["data/audit.jsonl"] = b"".join(lines)

    return mutate


def _rechain(events: list[dict], start: int) -> list[dict]:
    """Recompute hashes and links from ``start`` on, as a forger with the chain rules would."""
    for index in range(start, len(events)):
        if index:
            events[index]["prev_hash"] = events[index - 1]["hash"]
            events[index]["doc_prev_hash"] = events[index - 1]["hash"]
        events[index]["hash"] = event_hash(events[index])
    return events


def _actor_changed(events: list[dict]) -> list[dict]:
    events[3]["actor"] = "ke-gia-mao"
    return _rechain(events, 3)


def _id_changed(events: list[dict]) -> list[dict]:
    events[4]["id"] = 9999  # ids are not hashed: only the board's pin of the file tells
    return events


def _appended(events: list[dict]) -> list[dict]:
    extra = {**events[-1], "action": "comment", "id": 999, "actor": "ke-gia-mao"}
    events.append(extra)
    return _rechain(events, len(events) - 1)


def _bag_info(change: Callable[[str], str]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        files["bag-info.txt"] = change(files["bag-info.txt"].decode()).encode()

    return mutate


def _genuine_crl(files: Files) -> None:
    # The genuine CA's own CRL, issued later: validly signed, but not what the board pinned.
    files["data/crl.der"] = shared_world().ca.crl([], now=APPROVED_AT + timedelta(days=2))


def _genuine_extra_certificate(files: Files) -> None:
    world = shared_world()
    key_cert = world.units["VPHU-MD"].certificate
    cert = world.ca.issue(
        key_cert.public_key(),
        person="Người lạ",
        unit_name="Đơn vị lạ",
        unit_code="VPHU-XX",
        user_id="la",
        now=APPROVED_AT,
    )
    files[f"data/certs/VPHU-XX-{fingerprint_sha256(cert)[:16]}.pem"] = certificate_pem(cert)


def _foreign_ca_certificate(files: Files) -> None:
    ca = make_world({"VPHU-XX": "Đơn vị lạ"}, common_name="CA ngoại").ca.certificate
    files[f"data/certs/cert-{fingerprint_sha256(ca)[:16]}.pem"] = certificate_pem(ca)


# case -> (alteration, the file the report must name, the sub-indication of that problem)
REPORT_CASES: dict[str, tuple[Callable[[Files], None], str, SubIndication]] = {
    "document.json title": (
        _json("data/document.json", _content("title", "GIAO ƯỚC ĐÃ SỬA")),
        "data/document.json",
        SubIndication.HASH_FAILURE,
    ),
    "document.json year": (
        _json("data/document.json", _content("year", 2019)),
        "data/document.json",
        SubIndication.HASH_FAILURE,
    ),
    "document.json cluster": (
        _json("data/document.json", _content("cluster", "Cụm khác")),
        "data/document.json",
        SubIndication.HASH_FAILURE,
    ),
    "document.json content": (
        _json("data/document.json", _content("kind", "nomination")),
        "data/document.json",
        SubIndication.HASH_FAILURE,
    ),
    "bag-info free field": (
        _bag_info(lambda t: t.replace("External-Description: GIAO", "External-Description: SỬA")),
        "bag-info.txt",
        SubIndication.UNSIGNED_CONTENT,
    ),
    "bag-info added field": (
        _bag_info(lambda t: t + "Contact-Name: Kẻ giả mạo\n"),
        "bag-info.txt",
        SubIndication.UNSIGNED_CONTENT,
    ),
    "verification.json": (
        _json("data/verification.json", lambda b: b.__setitem__("status", "đã sửa")),
        "data/verification.json",
        SubIndication.HASH_FAILURE,
    ),
    "audit event appended after the head": (
        _audit(_appended),
        "data/audit.jsonl",
        SubIndication.HASH_FAILURE,
    ),
    "audit actor changed, chain re-hashed": (
        _audit(_actor_changed),
        "data/audit.jsonl",
        SubIndication.HASH_FAILURE,
    ),
    "audit id changed": (_audit(_id_changed), "data/audit.jsonl", SubIndication.HASH_FAILURE),
    "genuine CRL not pinned": (_genuine_crl, "data/crl.der", SubIndication.HASH_FAILURE),
    "genuine certificate not pinned": (
        _genuine_extra_certificate,
        "data/certs/VPHU-XX-",
        SubIndication.UNSIGNED_CONTENT,
    ),
    "foreign CA certificate": (
        _foreign_ca_certificate,
        "data/certs/cert-",
        SubIndication.UNSIGNED_CONTENT,
    ),
}


@pytest.mark.parametrize("case", list(REPORT_CASES))
def test_rebagged_alteration_fails_naming_the_file(case: str) -> None:
    mutate, path, sub = REPORT_CASES[case]
    report = check(rebag(shared_bundle(), mutate))
    assert report.indication == Indication.TOTAL_FAILED, report.to_dict()["problems"]
    named = [p for p in report.problems if p.path and p.path.startswith(path)]
    assert named, report.to_dict()["problems"]
    assert sub in {p.sub_indication for p in named}
    assert any(path in p.message for p in named)  # people read the message, not the path
    assert any(p.startswith(path) for p in report.to_dict()["failed_paths"])


def test_identity_rebag_still_passes() -> None:
    """The rebuilt tag files are bagit's own format: re-hashing an untouched bag changes
    nothing, so the cases above fail for what they change, not for being re-bagged."""
    assert check(rebag(shared_bundle(), lambda files: None)).passed


def test_a_version_1_manifest_is_refused_with_a_clear_message(world) -> None:
    """A manifest of the old format pinned only the document and the signatures."""
    evidence = shared_input().evidence
    old = {
        "format": "thidua-approval-manifest/1",
        "document_id": "42",
        "document_sha256": hashlib.sha256(evidence.document).hexdigest(),
        "unit_signatures": {
            c: hashlib.sha256(d).hexdigest() for c, d in evidence.unit_signatures.items()
        },
        "decision": {"board": {"code": "BTDKT-HN", "name": "Ban"}},
        "approved_at": "2018-04-10T03:00:00Z",
    }
    manifest = canonical_json(old)

    def mutate(files: Files) -> None:
        files["data/approval/manifest.json"] = manifest
        files["data/approval/manifest.json.p7s"] = board_sign(world, manifest)

    report = check(rebag(shared_bundle(), mutate))
    assert report.approval.report.passed  # the board did sign it
    assert report.indication == Indication.TOTAL_FAILED
    assert any("định dạng cũ" in m and "/2" in m for m in report.approval.mismatches)


def _board_cms(change: Callable[[Any], None]) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        info = cms.ContentInfo.load(files["data/approval/manifest.json.p7s"])
        change(info["content"])
        files["data/approval/manifest.json.p7s"] = info.dump(force=True)

    return mutate


def _unsigned_attribute(signed: Any) -> None:
    # A "timestamp" of the forger's choosing, outside what the board signed.
    attrs = [{"type": "signing_time", "values": [cms.Time({"utc_time": APPROVED_AT})]}]
    signed["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(attrs)


def _embedded_crl(signed: Any) -> None:
    crl = crl_module.CertificateList.load(shared_world().ca.crl([], now=APPROVED_AT))
    signed["crls"] = cms.RevocationInfoChoices([crl])


@pytest.mark.parametrize("change", [_unsigned_attribute, _embedded_crl])
def test_the_board_cms_carries_nothing_unsigned(change) -> None:
    report = check(rebag(shared_bundle(), _board_cms(change)))
    assert report.approval.report.passed  # the board's signature still verifies...
    assert not report.passed  # ...but the bundle holds bytes it does not cover
    assert "data/approval/manifest.json.p7s" in report.failed_paths


def test_the_report_says_what_it_ignores() -> None:
    report = check(shared_bundle()).to_dict()
    assert report["passed"]
    assert any("zip" in item for item in report["ignored"])


def test_an_empty_folder_entry_is_refused() -> None:
    top, files = unzip(shared_bundle())
    entries = entries_of(top, files)
    folder = Entry(f"{top}/data/ghi-chu-gia-mao/", b"", external_attr=(0o40755 << 16) | 0x10)
    report = check(forge_zip([*entries, folder]))
    assert not report.passed
    assert "data/ghi-chu-gia-mao/" in report.failed_paths


# -- one reading of a zip ---------------------------------------------------------------------


def _entries() -> tuple[str, list[Entry]]:
    top, files = unzip(shared_bundle())
    return top, entries_of(top, files)


def _forged(**kwargs) -> bytes:
    return forge_zip(_entries()[1], **kwargs)


def _changed(path_end: str, **fields) -> bytes:
    return forge_zip(change(_entries()[1], path_end, **fields))


ZIP_CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "prefix before the zip": (lambda: _forged(prefix=b"MZ stub " * 8), "trước tiêu đề zip"),
    "zip comment": (lambda: _forged(comment="ghi chú".encode()), "chú thích"),
    "bytes after the end record": (lambda: _forged(trailing=b"\x00" * 7), "sau thư mục trung tâm"),
    "unicode path names another file": (
        lambda: _changed(
            "data/verification.json",
            central_extra=unicode_path("x", "thidua-42/data/verification-2.json"),
        ),
        "0x7075",
    ),
    "unicode path in the local header only": (
        lambda: _changed(
            "data/verification.json",
            local_extra=unicode_path("x", "thidua-42/data/khac.json"),
        ),
        "0x7075",
    ),
    "extra field carrying a link (ASi 0x756e)": (
        lambda: _changed("data/crl.der", central_extra=extra_field(0x756E, b"\x00" * 14)),
        "0x756e",
    ),
    "local size differs": (lambda: _changed("data/crl.der", local_size=3), "kích thước hoặc CRC"),
    "local CRC differs": (lambda: _changed("data/crl.der", local_crc=0), "kích thước hoặc CRC"),
    "encrypted in the local header only": (
        lambda: _changed("data/crl.der", local_flags=0x801),
        "cờ của tiêu đề cục bộ",
    ),
    "UTF-8 flag only in the directory": (
        lambda: _changed("data/crl.der", local_flags=0),
        "cờ của tiêu đề cục bộ",
    ),
    "local name differs": (
        lambda: _changed("data/crl.der", local_name="thidua-42/data/crl.dex"),
        "tên trong tiêu đề cục bộ khác tên trong thư mục trung tâm",
    ),
    "local method differs": (
        lambda: _changed("data/crl.der", local_method=8),
        "phương thức nén trong tiêu đề cục bộ khác",
    ),
    "bytes hidden between entries": (
        lambda: _changed("data/crl.der", gap_after=b"hidden"),
        "dữ liệu ẩn giữa các mục",
    ),
    "an entry's own comment": (
        lambda: _changed("data/crl.der", comment="ghi chú".encode()),
        "chú thích riêng",
    ),
    "bytes after the end of a deflate stream": (
        lambda: _changed("data/document.json", deflate_tail=b"hidden"),
        "dữ liệu thừa sau luồng nén",
    ),
    "a set-uid file": (
        lambda: _changed("data/crl.der", external_attr=0o104755 << 16),
        "setuid",
    ),
}


def test_the_forged_zip_without_lies_passes() -> None:
    """The forger's own writer makes a readable bundle, so each case fails for its lie."""
    assert check(_forged()).passed
    assert check(_changed("data/document.json", deflate_tail=b"")).passed  # deflated, no tail
    ok = _changed("data/crl.der", central_extra=unicode_path("x", "thidua-42/data/crl.der"))
    assert read_zip(ok).files == read_zip(shared_bundle()).files  # a name equal to the header's


@pytest.mark.parametrize("case", list(ZIP_CASES))
def test_a_zip_with_two_readings_is_refused(case: str) -> None:
    make, needle = ZIP_CASES[case]
    with pytest.raises(BundleError, match=needle):
        verify_bundle(make(), trust=None, ca_fingerprint=None, at=VERIFY_AT)


def test_each_refusal_has_its_own_message() -> None:
    messages = set()
    for make, _needle in ZIP_CASES.values():
        try:
            read_zip(make())
        except BundleError as exc:
            messages.add(str(exc).split(":")[0])
    assert len(messages) >= 8
