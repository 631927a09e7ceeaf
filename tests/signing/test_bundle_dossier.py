"""A nomination dossier in an archive bundle: several DOCX documents under data/parts, bound
by data/dossier.json, the one file every member unit signs.

The dossier manifest is written here with ``json.dumps`` as the format states it (not with the
package's own writer), so these tests pin the format the documents package produces.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import subprocess
import unicodedata
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import docx
import pytest

from signing import Indication, TrustStore
from signing.archive import (
    ArchiveEvidence,
    approval_manifest,
    build_bundle,
    parse_dossier,
    verify_bundle,
)
from signing.archive.bag import bagit_validate
from signing.errors import BundleError
from tests.conftest import require_executable
from tests.signing.bundle_fixtures import (
    APPROVED_AT,
    DECISION,
    UNITS,
    VERIFY_AT,
    approve,
    build,
    edit,
    evidence_for,
    flip_byte,
    rebag,
    shared_bundle,
    shared_world,
    sign,
    unzip,
    write_files,
)

FAILED = Indication.TOTAL_FAILED
REFERENCE = "TD-KT-2018-00004-V1-7KQ3-M9XA"
TITLE = "Hồ sơ đề nghị khen thưởng năm 2018 – Cụm thi đua số 4"
# (name, title, the units that sign it on paper)
PARTS: tuple[tuple[str, str, list[str]], ...] = (
    ("01-to-trinh.docx", "Tờ trình đề nghị khen thưởng", ["VPHU-MD"]),
    ("02-bien-ban.docx", "Biên bản Hội nghị bình xét thi đua", ["VPHU-MD", "VPHU-UH"]),
    ("03-bao-cao-thanh-tich-1.docx", "Báo cáo thành tích: Văn phòng Huyện ủy Ứng Hòa", []),
)
TOP = "thidua-43"


def small_docx(heading: str) -> bytes:
    """A real, small DOCX (python-docx), as documents/ renders each part."""
    document = docx.Document()
    document.add_heading(heading, level=1)
    document.add_paragraph(f"Nội dung của văn bản «{heading}».")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def manifest_of(parts: dict[str, bytes], *, title: str = TITLE, **changes: Any) -> bytes:
    """data/dossier.json as the format states it: canonical json.dumps, UTF-8, no newline."""
    body: dict[str, Any] = {
        "format": "thidua-dossier/1",
        "reference_code": REFERENCE,
        "title": title,
        "parts": [
            {
                "name": name,
                "title": part_title,
                "sha256": hashlib.sha256(parts[name]).hexdigest(),
                "size": len(parts[name]),
                "signers": signers,
            }
            for name, part_title, signers in PARTS
            if name in parts
        ],
    }
    body.update(changes)
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@cache
def dossier_parts() -> dict[str, bytes]:
    return {name: small_docx(title) for name, title, _ in PARTS}


@cache
def dossier_evidence() -> ArchiveEvidence:
    world = shared_world()
    parts = dossier_parts()
    manifest = manifest_of(parts)
    evidence = evidence_for(world, document_id="43", docx=manifest)  # units sign the manifest
    return dataclasses.replace(
        evidence,
        parts=parts,
        document_json={**evidence.document_json, "kind": "nomination", "title": TITLE},
    )


@cache
def dossier_bundle() -> bytes:
    return build(approve(shared_world(), dossier_evidence()))


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return TrustStore([shared_world().ca.certificate])


def check(data: bytes, trust: TrustStore):
    return verify_bundle(data, trust=trust, ca_fingerprint=None, at=VERIFY_AT)


def problems_at(report, path: str) -> list:
    return [p for p in report.problems if p.path == path]


def codes(report) -> set[str]:
    return {p.code for p in report.problems}


# -- the bundle a dossier makes -------------------------------------------------------------


def test_dossier_bundle_passes_and_holds_the_manifest_and_every_part(trust) -> None:
    top, files = unzip(dossier_bundle())
    assert top == TOP
    manifest = files["data/dossier.json"]
    assert manifest == dossier_evidence().document
    assert "data/document.docx" not in files
    assert sorted(p for p in files if p.startswith("data/parts/")) == [
        f"data/parts/{name}" for name, _, _ in PARTS
    ]
    for name, content in dossier_parts().items():
        assert files[f"data/parts/{name}"] == content
    document = json.loads(files["data/document.json"])
    assert document["signed_file"] == "data/dossier.json"
    assert document["document_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert document["document_size"] == len(manifest)
    # The board pins the signed file's hash and every payload file, the parts included.
    board = json.loads(files["data/approval/manifest.json"])
    assert board["document_sha256"] == hashlib.sha256(manifest).hexdigest()
    for name, content in dossier_parts().items():
        assert board["files"][f"data/parts/{name}"] == hashlib.sha256(content).hexdigest()
    info = files["bag-info.txt"].decode()
    assert f"Thidua-Document-SHA256: {hashlib.sha256(manifest).hexdigest()}" in info
    assert bagit_validate(files).ok

    report = check(dossier_bundle(), trust)
    assert report.indication == Indication.TOTAL_PASSED, report.problems
    assert report.status == "complete"
    assert {u.code for u in report.units} == set(UNITS)
    assert report.document_sha256 == hashlib.sha256(manifest).hexdigest()
    assert report.signed_path == "data/dossier.json"
    shown = report.to_dict()
    assert shown["signed_path"] == "data/dossier.json"
    assert shown["dossier"] == {"reference_code": REFERENCE, "title": TITLE}
    assert [(p["name"], p["title"], p["intact"]) for p in shown["parts"]] == [
        (name, title, True) for name, title, _ in PARTS
    ]
    assert [p["sha256"] for p in shown["parts"]] == [
        hashlib.sha256(dossier_parts()[name]).hexdigest() for name, _, _ in PARTS
    ]
    assert shown["parts"][1]["signers"] == ["VPHU-MD", "VPHU-UH"]


def test_pledge_bundle_names_its_docx_as_the_signed_file(trust) -> None:
    _top, files = unzip(shared_bundle())
    assert json.loads(files["data/document.json"])["signed_file"] == "data/document.docx"
    shown = check(shared_bundle(), trust).to_dict()
    assert shown["passed"]
    assert shown["signed_path"] == "data/document.docx"
    assert shown["dossier"] is None
    assert shown["parts"] == []


def test_openssl_and_sha256sum_check_an_extracted_dossier(tmp_path: Path) -> None:
    """What an archivist can do without thidua: each unit's CMS over dossier.json with
    openssl, then each document against the hashes the units signed."""
    openssl = require_executable("openssl")
    sha256sum = require_executable("sha256sum")
    _top, files = unzip(dossier_bundle())
    write_files(tmp_path, files)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(shared_world().ca_pem)
    data = tmp_path / "data"

    def openssl_verify(content: Path) -> list[int]:
        return [
            subprocess.run(
                [
                    openssl, "cms", "-verify", "-binary", "-inform", "DER",
                    "-in", str(data / "signatures" / f"{code}.p7s"),
                    "-content", str(content), "-CAfile", str(ca), "-purpose", "any",
                    "-attime", str(int(VERIFY_AT.timestamp())), "-out", "/dev/null",
                ],
                capture_output=True,
                check=False,
                timeout=60,
            ).returncode
            for code in UNITS
        ]  # fmt: skip

    assert openssl_verify(data / "dossier.json") == [0] * len(UNITS)
    listed = json.loads((data / "dossier.json").read_bytes())
    names = [part["name"] for part in listed["parts"]]
    out = subprocess.run(
        [sha256sum, *names],
        cwd=data / "parts",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    summed = {name: digest for digest, name in (line.split("  ", 1) for line in out.splitlines())}
    assert summed == {part["name"]: part["sha256"] for part in listed["parts"]}
    # openssl refuses a changed manifest, too.
    changed = data / "dossier-changed.json"
    changed.write_bytes(files["data/dossier.json"].replace(b"T\xe1\xbb\x9d", b"TO"))
    assert changed.read_bytes() != files["data/dossier.json"]
    assert 0 not in openssl_verify(changed)


# -- tampering ----------------------------------------------------------------------------------


PART_2 = "data/parts/02-bien-ban.docx"


def test_changed_part_fails_fixity_naming_it(trust) -> None:
    report = check(
        edit(dossier_bundle(), lambda f: f.update({PART_2: flip_byte(f[PART_2])})), trust
    )
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"
    assert any(PART_2 in error for error in report.fixity.errors)
    assert [p.code for p in problems_at(report, PART_2)][:1] == ["part_hash"]


def test_changed_part_fails_even_after_rehashing_the_bag(trust) -> None:
    """The attacker re-hashes the bag: fixity passes, the unit signatures still pass (they
    cover dossier.json, unchanged), and the part is caught against the hash they signed."""
    report = check(
        rebag(dossier_bundle(), lambda f: f.update({PART_2: flip_byte(f[PART_2])})), trust
    )
    assert report.fixity.ok
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"
    assert all(u.report is not None and u.report.passed for u in report.units)
    found = problems_at(report, PART_2)
    assert found[0].code == "part_hash"
    assert found[0].sub_indication == "HASH_FAILURE"
    assert "02-bien-ban.docx" in found[0].message
    assert report.failed_paths[0] == PART_2
    part = next(p for p in report.to_dict()["parts"] if p["name"] == "02-bien-ban.docx")
    assert part["intact"] is False


def test_part_replaced_with_same_size_bytes_is_caught(trust) -> None:
    def mutate(files):
        files[PART_2] = bytes(len(files[PART_2]))

    report = check(rebag(dossier_bundle(), mutate), trust)
    assert report.indication == FAILED
    found = problems_at(report, PART_2)
    assert (found[0].code, found[0].sub_indication) == ("part_hash", "HASH_FAILURE")


def test_extra_part_is_unsigned_content(trust) -> None:
    extra = "data/parts/04-bao-cao-thanh-tich-2.docx"
    report = check(rebag(dossier_bundle(), lambda f: f.update({extra: small_docx("Thêm")})), trust)
    assert report.fixity.ok
    assert report.indication == FAILED
    assert report.sub_indication == "UNSIGNED_CONTENT"
    found = problems_at(report, extra)
    assert found[0].code == "unlisted_part"
    assert {p.sub_indication for p in found} == {"UNSIGNED_CONTENT"}
    assert all(u.report is not None and u.report.passed for u in report.units)


def test_part_with_a_malformed_name_is_refused(trust) -> None:
    odd = "data/parts/Tờ trình.docx"
    report = check(rebag(dossier_bundle(), lambda f: f.update({odd: b"PK\x03\x04"})), trust)
    assert report.indication == FAILED
    assert {"unexpected_file", "unlisted_part"} <= {p.code for p in problems_at(report, odd)}


def test_removed_part_fails_naming_it(trust) -> None:
    report = check(rebag(dossier_bundle(), lambda f: f.__delitem__(PART_2)), trust)
    assert report.fixity.ok
    assert report.indication == FAILED
    found = problems_at(report, PART_2)
    assert found[0].code == "missing_part"
    assert found[0].sub_indication == "HASH_FAILURE"
    assert "02-bien-ban.docx" in found[0].message


def test_edited_dossier_manifest_fails_every_unit_signature(trust) -> None:
    """Swap a part and rewrite dossier.json to list the new bytes: the manifest is no longer
    what the units signed."""
    forged = small_docx("Biên bản giả")

    def mutate(files):
        parts = {**dossier_parts(), "02-bien-ban.docx": forged}
        files[PART_2] = forged
        files["data/dossier.json"] = manifest_of(parts)

    report = check(rebag(dossier_bundle(), mutate), trust)
    assert report.fixity.ok
    assert report.indication == FAILED
    assert report.sub_indication == "HASH_FAILURE"
    assert report.status == "failed"
    assert all(
        u.report is not None and u.report.sub_indication == "HASH_FAILURE" for u in report.units
    )
    # and the board's pins and document.json name the signed file, not document.docx
    assert "data/dossier.json" in report.failed_paths
    assert not report.approval.manifest_matches
    assert any("dossier.json" in m for m in report.approval.mismatches)
    # the swapped part itself agrees with the forged manifest, not with the board's pins
    assert [p.code for p in problems_at(report, PART_2)] == ["pinned_file"]


def test_dossier_manifest_that_does_not_parse_is_named(trust) -> None:
    def mutate(files):
        files["data/dossier.json"] = files["data/dossier.json"] + b"\n"

    report = check(rebag(dossier_bundle(), mutate), trust)
    assert report.indication == FAILED
    assert "dossier_json" in {p.code for p in problems_at(report, "data/dossier.json")}


def test_docx_beside_a_dossier_manifest_is_refused(trust) -> None:
    def mutate(files):
        files["data/document.docx"] = dossier_parts()["01-to-trinh.docx"]

    report = check(rebag(dossier_bundle(), mutate), trust)
    assert report.indication == FAILED
    assert "unexpected_file" in {p.code for p in problems_at(report, "data/document.docx")}
    # document.json says the units signed dossier.json, and they did
    assert report.signed_path == "data/dossier.json"
    assert all(u.report is not None and u.report.passed for u in report.units)


def test_dossier_manifest_beside_a_docx_is_refused(trust) -> None:
    def mutate(files):
        files["data/dossier.json"] = dossier_evidence().document

    report = check(rebag(shared_bundle(), mutate), trust)
    assert report.indication == FAILED
    assert "unexpected_file" in {p.code for p in problems_at(report, "data/dossier.json")}
    assert report.signed_path == "data/document.docx"


def test_parts_beside_a_docx_are_refused(trust) -> None:
    part = "data/parts/01-to-trinh.docx"
    report = check(rebag(shared_bundle(), lambda f: f.update({part: small_docx("x")})), trust)
    assert report.indication == FAILED
    assert "unexpected_file" in {p.code for p in problems_at(report, part)}


def test_dossier_without_its_manifest_is_missing_the_signed_file(trust) -> None:
    report = check(rebag(dossier_bundle(), lambda f: f.__delitem__("data/dossier.json")), trust)
    assert report.indication == FAILED
    assert report.signed_path is None
    assert report.status == "failed"
    assert "missing_file" in {p.code for p in problems_at(report, "data/dossier.json")}
    # the parts are not flagged on their own: the missing manifest is the fault
    assert not [p for p in report.problems if (p.path or "").startswith("data/parts/")]


def test_pledge_without_its_docx_is_missing_the_signed_file(trust) -> None:
    report = check(rebag(shared_bundle(), lambda f: f.__delitem__("data/document.docx")), trust)
    assert report.indication == FAILED
    assert "missing_file" in {p.code for p in problems_at(report, "data/document.docx")}


def test_document_json_naming_another_signed_file_fails(trust) -> None:
    """A pledge bundle whose docx is replaced by a dossier (manifest signed by every unit,
    parts and all, the bag re-hashed): document.json, pinned by the board, still says the
    units signed document.docx."""
    evidence = dossier_evidence()

    def mutate(files):
        del files["data/document.docx"]
        for code in UNITS:
            files[f"data/signatures/{code}.p7s"] = evidence.unit_signatures[code]
        files["data/dossier.json"] = evidence.document
        for name, content in evidence.parts.items():
            files[f"data/parts/{name}"] = content

    report = check(rebag(shared_bundle(), mutate), trust)
    assert report.indication == FAILED
    assert "document_json" in {p.code for p in problems_at(report, "data/document.json")}


def test_bundle_made_before_dossiers_still_verifies(trust, monkeypatch) -> None:
    """A pledge archived before document.json named its signed file passes; a dossier
    without that name fails (its document.json would mean document.docx)."""
    from signing.archive import evidence as evidence_module

    original = evidence_module._json_file

    def without_signed_file(value: Any, what: str) -> bytes:
        if what == "document_json":
            value = {k: v for k, v in value.items() if k != "signed_file"}
        return original(value, what)

    monkeypatch.setattr(evidence_module, "_json_file", without_signed_file)
    world = shared_world()
    old = build(approve(world, evidence_for(world, document_id="44")))
    assert "signed_file" not in json.loads(unzip(old)[1]["data/document.json"])
    assert check(old, trust).passed
    dossier = check(build(approve(world, dossier_evidence())), trust)
    assert dossier.indication == FAILED
    assert "document_json" in {p.code for p in problems_at(dossier, "data/document.json")}


# -- building: evidence that would contradict itself is refused ---------------------------------


def _build(evidence: ArchiveEvidence) -> bytes:
    world = shared_world()
    manifest = approval_manifest(evidence, decision=DECISION, approved_at=APPROVED_AT)
    return build_bundle(evidence, manifest, sign(world, "VPHU-MD", manifest))


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ({**dossier_parts(), "04-them.docx": b"PK\x03\x04"}, "04-them.docx"),
        ({k: v for k, v in dossier_parts().items() if k != "02-bien-ban.docx"}, "02-bien-ban"),
        ({**dossier_parts(), "02-bien-ban.docx": b"PK\x03\x04 other"}, "02-bien-ban"),
        ({**dossier_parts(), "01-to-trinh.docx": b""}, "01-to-trinh"),
    ],
    ids=["extra part", "missing part", "other bytes", "empty part"],
)
def test_build_refuses_parts_the_manifest_does_not_list(parts, reason: str) -> None:
    with pytest.raises(BundleError, match=reason):
        _build(dataclasses.replace(dossier_evidence(), parts=parts))


def test_build_refuses_parts_with_a_manifest_that_does_not_parse() -> None:
    evidence = dataclasses.replace(dossier_evidence(), document=b"PK\x03\x04 a docx")
    with pytest.raises(BundleError, match=r"data/dossier\.json"):
        _build(evidence)


def test_build_refuses_a_dossier_manifest_without_its_parts() -> None:
    """Forgetting the parts must not archive the manifest as if it were the DOCX."""
    with pytest.raises(BundleError, match="parts"):
        _build(dataclasses.replace(dossier_evidence(), parts={}))


def test_build_refuses_parts_that_are_no_mapping() -> None:
    with pytest.raises(BundleError, match="parts"):
        _build(dataclasses.replace(dossier_evidence(), parts=[("01-to-trinh.docx", b"x")]))  # type: ignore[arg-type]


def test_build_of_a_dossier_is_deterministic() -> None:
    approved = approve(shared_world(), dossier_evidence())  # (ECDSA signatures vary)
    assert build(approved) == build(approved)


# -- reading data/dossier.json strictly --------------------------------------------------------


def _body() -> dict[str, Any]:
    return json.loads(manifest_of(dossier_parts()))


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def test_parse_dossier_reads_the_format() -> None:
    dossier = parse_dossier(manifest_of(dossier_parts()))
    assert dossier.reference_code == REFERENCE
    assert dossier.title == TITLE
    assert dossier.names == tuple(name for name, _, _ in PARTS)
    first = dossier.parts[0]
    assert first.path == "data/parts/01-to-trinh.docx"
    assert first.size == len(dossier_parts()["01-to-trinh.docx"])
    assert first.signers == ("VPHU-MD",)
    assert dossier.parts[2].signers == ()
    assert dossier.to_bytes() == manifest_of(dossier_parts())


def _with(path: str, value: Any) -> bytes:
    body = _body()
    target: Any = body
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is _DROP:
        del target[last]
    else:
        target[last] = value
    return _encode(body)


_DROP = object()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (lambda: _with("extra", 1), "khóa lạ extra"),
        (lambda: _with("title", _DROP), "thiếu khóa title"),
        (lambda: _with("format", "thidua-dossier/2"), "thidua-dossier/2"),
        (lambda: _with("reference_code", "x"), "reference_code"),
        (lambda: _with("title", ""), "title"),
        (lambda: _with("title", " Hồ sơ"), "khoảng trắng"),
        (lambda: _with("title", "Hồ\u200bsơ"), "vô hình"),
        (lambda: _with("title", "Hồ sơ\nkhen"), "điều khiển"),
        (lambda: _with("title", unicodedata.normalize("NFD", TITLE)), "NFC"),
        (lambda: _with("parts", []), "parts"),
        (lambda: _with("parts", {}), "parts"),
        (lambda: _with("parts.0.extra", True), "parts\\[0\\] có khóa lạ"),
        (lambda: _with("parts.1.signers", _DROP), "parts\\[1\\] thiếu khóa signers"),
        (lambda: _with("parts.0.name", "01-To-Trinh.docx"), "parts\\[0\\].name"),
        (lambda: _with("parts.0.name", "01-to-trinh.pdf"), "parts\\[0\\].name"),
        (lambda: _with("parts.0.name", "../01-x.docx"), "parts\\[0\\].name"),
        (lambda: _with("parts.0.name", "01-" + "a" * 60 + ".docx"), "tối đa 64"),
        (lambda: _with("parts.1.name", "01-to-trinh.docx"), "bị trùng"),
        (lambda: _with("parts.1.name", "03-bien-ban.docx"), "số thứ tự 02"),
        (lambda: _with("parts.0.sha256", "A" * 64), "sha256"),
        (lambda: _with("parts.0.sha256", "a" * 63), "sha256"),
        (lambda: _with("parts.0.size", 0), "size"),
        (lambda: _with("parts.0.size", True), "size"),
        (lambda: _with("parts.0.size", "12"), "size"),
        (lambda: _with("parts.0.size", 12.0), "size"),
        (lambda: _with("parts.0.signers", "VPHU-MD"), "signers"),
        (lambda: _with("parts.0.signers", ["VPHU/MD"]), "signers\\[0\\]"),
        (lambda: _with("parts.1.signers", ["VPHU-MD", "VPHU-MD"]), "bị lặp"),
        (lambda: _with("parts.0.title", 5), "parts\\[0\\].title"),
        (lambda: manifest_of(dossier_parts()) + b"\n", "chính tắc"),
        (lambda: json.dumps(_body(), ensure_ascii=False, sort_keys=True).encode(), "chính tắc"),
        (lambda: json.dumps(_body(), separators=(",", ":"), sort_keys=True).encode(), "chính tắc"),
        (lambda: _encode(_body()).replace(b'{"format"', b'{"format":1,"format"'), "lặp"),
        (lambda: b"\xff\xfe", "UTF-8"),
        (lambda: b"[]", "đối tượng"),
        (lambda: b"", "khác rỗng"),
    ],
)
def test_parse_dossier_refuses(raw, reason: str) -> None:
    with pytest.raises(BundleError, match=reason) as caught:
        parse_dossier(raw())
    assert str(caught.value).startswith("data/dossier.json")


def test_dossier_manifests_documents_renders_are_read() -> None:
    """The manifest documents/ writes for the sample nomination reads as a dossier."""
    import documents
    from documents import samples

    content = samples.nomination_2018()
    parts = documents.render_dossier(content)
    raw = documents.dossier_manifest(parts, reference_code=REFERENCE, title=content.title)
    dossier = parse_dossier(raw)
    assert [(p.name, p.sha256, p.size) for p in dossier.parts] == [
        (p.name, hashlib.sha256(p.docx).hexdigest(), len(p.docx)) for p in parts
    ]


def test_zip_of_dossier_bundle_lists_parts_in_order() -> None:
    names = zipfile.ZipFile(io.BytesIO(dossier_bundle())).namelist()
    inside = [n[len(TOP) + 1 :] for n in names]
    assert inside[4:] == sorted(inside[4:])
    assert [n for n in inside if n.startswith("data/parts/")] == [
        f"data/parts/{name}" for name, _, _ in PARTS
    ]
