"""``thidua verify`` as a user runs it, and the same bundle checked signature by signature
with the real ``openssl cms -verify``."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import require_executable
from tests.signing.bundle_fixtures import (
    UNITS,
    VERIFY_AT,
    edit,
    flip_byte,
    make_world,
    rebag,
    sample_docx,
    shared_bundle,
    shared_world,
    sign,
    unzip,
    write_files,
)
from web.cli import main

AT = "2018-04-15T08:00:00Z"


@pytest.fixture(scope="module")
def world():
    return shared_world()


@pytest.fixture
def files(tmp_path: Path, world) -> dict[str, Path]:
    paths = {
        "bundle": tmp_path / "thidua-42.zip",
        "ca": tmp_path / "ca.pem",
        "other_ca": tmp_path / "other-ca.pem",
    }
    paths["bundle"].write_bytes(shared_bundle())
    paths["ca"].write_bytes(world.ca_pem)
    paths["other_ca"].write_bytes(make_world(common_name="CA khác").ca_pem)
    return paths


def run(*args: str | Path):
    result = CliRunner().invoke(main, ["verify", *map(str, args)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# -- bundles ---------------------------------------------------------------------------------


def test_bundle_with_trust_passes(files) -> None:
    result = run(files["bundle"], "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "VPHU-MD  Văn phòng Huyện ủy Mỹ Đức  hợp lệ (TOTAL_PASSED)" in lines
    for code, name in UNITS.items():
        assert f"{code}  {name}  hợp lệ (TOTAL_PASSED)" in lines
    assert "Phê duyệt  Ban Thi đua – Khen thưởng thành phố Hà Nội  hợp lệ (TOTAL_PASSED)" in lines
    assert "Toàn vẹn BagIt  hợp lệ" in lines
    assert "Nhật ký kiểm toán  hợp lệ (13 sự kiện)" in lines
    assert lines[-1] == "Kết luận: HỢP LỆ (TOTAL_PASSED)"


def test_json_output_is_the_full_report(files) -> None:
    result = run(files["bundle"], "--trust", files["ca"], "--at", AT, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["indication"] == "TOTAL_PASSED"
    assert report["passed"] is True
    assert [u["code"] for u in report["units"]] == list(UNITS)
    assert report["units"][0]["report"]["signer"]["unit"] == "Văn phòng Huyện ủy Mỹ Đức"
    assert report["approval"]["passed"] is True
    assert report["fixity"]["checked_by"] == ["thidua", "bagit"]
    assert report["verified_at"] == AT


def test_without_trust_is_indeterminate(files) -> None:
    result = run(files["bundle"], "--at", AT)
    assert result.exit_code == 1
    assert "(INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND)" in result.output
    assert result.output.splitlines()[-1].startswith("Kết luận: CHƯA XÁC ĐỊNH ĐƯỢC")


def test_right_fingerprint_passes(files, world) -> None:
    colons = ":".join(world.ca_fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    result = run(files["bundle"], "--ca-fingerprint", colons, "--at", AT)
    assert result.exit_code == 0, result.output
    assert "CA trong gói" in result.output


def test_wrong_fingerprint_is_indeterminate(files) -> None:
    result = run(files["bundle"], "--ca-fingerprint", "ab" * 32, "--at", AT)
    assert result.exit_code == 1
    assert "INDETERMINATE" in result.output


def test_other_trust_anchor_is_indeterminate(files) -> None:
    result = run(files["bundle"], "--trust", files["other_ca"], "--at", AT, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_tampered_document_fails(files) -> None:
    data = edit(
        shared_bundle(),
        lambda f: f.update({"data/document.docx": flip_byte(f["data/document.docx"])}),
    )
    files["bundle"].write_bytes(data)
    result = run(files["bundle"], "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 1
    assert "VPHU-MD  Văn phòng Huyện ủy Mỹ Đức  không hợp lệ (TOTAL_FAILED/HASH_FAILURE)" in (
        result.output
    )
    assert "Toàn vẹn BagIt  không hợp lệ" in result.output
    assert result.output.splitlines()[-1] == "Kết luận: KHÔNG HỢP LỆ (TOTAL_FAILED/HASH_FAILURE)"


def test_missing_signature_is_reported(files) -> None:
    data = rebag(shared_bundle(), lambda f: f.pop("data/signatures/VPHU-QO.p7s"))
    files["bundle"].write_bytes(data)
    result = run(files["bundle"], "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 1
    assert "VPHU-QO  Văn phòng Huyện ủy Quốc Oai  thiếu chữ ký" in result.output.splitlines()


def test_broken_audit_chain(files) -> None:
    def mutate(f):
        lines = f["data/audit.jsonl"].splitlines()
        del lines[2]
        f["data/audit.jsonl"] = b"\n".join(lines) + b"\n"

    files["bundle"].write_bytes(rebag(shared_bundle(), mutate))
    result = run(files["bundle"], "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 1
    assert "Nhật ký kiểm toán  không hợp lệ tại sự kiện thứ 3" in result.output


def test_expired_at_a_later_time(files) -> None:
    result = run(files["bundle"], "--trust", files["ca"], "--at", "2030-01-01")
    assert result.exit_code == 1
    assert "OUT_OF_BOUNDS_NO_POE" in result.output


# -- unreadable or hostile input: exit 2 with a message ------------------------------------


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return buffer.getvalue()


def _symlink() -> bytes:
    info = zipfile.ZipInfo("thidua-42/data/link")
    info.create_system = 3
    info.external_attr = (0o120777) << 16
    return _zip([(info, b"/etc/passwd")])


def _absolute() -> bytes:
    info = zipfile.ZipInfo("x")
    info.filename = "/thidua-42/bagit.txt"
    return _zip([(info, b"x")])


HOSTILE = {
    "dotdot": (lambda: _zip([("thidua-42/../../evil", b"x")]), "vượt thư mục"),
    "absolute": (_absolute, "tuyệt đối"),
    "symlink": (_symlink, "symlink"),
    "bomb": (lambda: _zip([("thidua-42/data/x", bytes(8 * 1024 * 1024))]), "bom zip"),
    "too many": (lambda: _zip([(f"thidua-42/f{i}", b"") for i in range(1001)]), "quá nhiều"),
    "truncated": (lambda: shared_bundle()[: len(shared_bundle()) // 2], "zip"),
    "not a zip": (lambda: b"%PDF-1.4 this is not a zip", "zip"),
    "empty": (lambda: b"", "zip"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_exits_2(tmp_path: Path, files, name: str) -> None:
    make, message = HOSTILE[name]
    path = tmp_path / "bad.zip"
    path.write_bytes(make())
    result = run(path, "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path / "nope.zip")
    assert result.exit_code == 2
    assert "không tìm thấy" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "hôm qua"], "ISO 8601"),
        (["--at", "0001-01-01T00:00:00+01:00"], "ISO 8601"),
        (["--ca-fingerprint", "1234"], "dấu vân tay"),
        (["--trust", "{missing}"], "không tìm thấy"),
        (["--trust", "{bundle}"], "không dùng được"),
    ],
)
def test_usage_errors_exit_2(files, tmp_path: Path, args: list[str], message: str) -> None:
    values = {"missing": tmp_path / "none.pem", "bundle": files["bundle"]}
    args = [a.format(**values) for a in args]
    result = run(files["bundle"], *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_trust_file_not_matching_the_given_fingerprint(files) -> None:
    result = run(files["bundle"], "--trust", files["other_ca"], "--ca-fingerprint", "ab" * 32)
    assert result.exit_code == 2
    assert "dấu vân tay" in result.stderr


def test_docx_without_signatures_gets_a_hint(tmp_path: Path, files) -> None:
    docx = tmp_path / "van-ban.docx"
    docx.write_bytes(_zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")]))
    result = run(docx, "--trust", files["ca"])
    assert result.exit_code == 2
    assert "--signature" in result.stderr


# -- a DOCX and its detached signatures ------------------------------------------------------


@pytest.fixture
def docx_and_signatures(tmp_path: Path, world) -> tuple[Path, list[Path]]:
    docx = sample_docx("loose")
    path = tmp_path / "giao-uoc.docx"
    path.write_bytes(docx)
    sigs = []
    for code in ("VPHU-MD", "VPHU-UH", "VPHU-TO"):
        sig = tmp_path / f"{code}.p7s"
        sig.write_bytes(sign(world, code, docx))
        sigs.append(sig)
    return path, sigs


def _signature_args(paths: list[Path]) -> list[str]:
    return [arg for p in paths for arg in ("--signature", str(p))]


def test_docx_with_signatures_passes(docx_and_signatures, files) -> None:
    docx, sigs = docx_and_signatures
    result = run(docx, *_signature_args(sigs), "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 0, result.output
    assert "VPHU-MD  Văn phòng Huyện ủy Mỹ Đức  hợp lệ (TOTAL_PASSED)" in result.output.splitlines()
    assert "VPHU-TO  Văn phòng Huyện ủy Thanh Oai  hợp lệ (TOTAL_PASSED)" in result.output
    assert result.output.splitlines()[-1] == "Kết luận: HỢP LỆ (TOTAL_PASSED)"


def test_docx_json(docx_and_signatures, files) -> None:
    docx, sigs = docx_and_signatures
    result = run(docx, *_signature_args(sigs), "--trust", files["ca"], "--at", AT, "--json")
    data = json.loads(result.stdout)
    assert data["mode"] == "document"
    assert [s["unit_code"] for s in data["signatures"]] == ["VPHU-MD", "VPHU-UH", "VPHU-TO"]
    assert data["passed"] is True


def test_docx_changed_after_signing(docx_and_signatures, files) -> None:
    docx, sigs = docx_and_signatures
    docx.write_bytes(flip_byte(docx.read_bytes()))
    result = run(docx, *_signature_args(sigs), "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 1
    assert "(TOTAL_FAILED/HASH_FAILURE)" in result.output


def test_docx_without_trust_is_indeterminate(docx_and_signatures) -> None:
    docx, sigs = docx_and_signatures
    result = run(docx, *_signature_args(sigs), "--at", AT)
    assert result.exit_code == 1
    assert "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND" in result.output


def test_docx_same_unit_twice(docx_and_signatures, files, tmp_path: Path, world) -> None:
    docx, sigs = docx_and_signatures
    again = tmp_path / "again.p7s"
    again.write_bytes(sign(world, "VPHU-MD", docx.read_bytes()))
    result = run(docx, *_signature_args([*sigs, again]), "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 1
    assert "hai chữ ký của cùng đơn vị VPHU-MD" in result.output


def test_docx_garbage_signature(docx_and_signatures, files, tmp_path: Path) -> None:
    docx, _ = docx_and_signatures
    junk = tmp_path / "junk.p7s"
    junk.write_bytes(b"\x30\x82garbage")
    result = run(docx, "--signature", junk, "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 1
    assert "junk.p7s  không hợp lệ (TOTAL_FAILED/FORMAT_FAILURE)" in result.output


def test_docx_fingerprint_needs_trust(docx_and_signatures) -> None:
    docx, sigs = docx_and_signatures
    result = run(docx, *_signature_args(sigs), "--ca-fingerprint", "ab" * 32)
    assert result.exit_code == 2


def test_docx_missing_signature_file(docx_and_signatures, tmp_path: Path, files) -> None:
    docx, _ = docx_and_signatures
    result = run(docx, "--signature", tmp_path / "none.p7s", "--trust", files["ca"])
    assert result.exit_code == 2
    assert "không tìm thấy" in result.stderr


# -- the real openssl, signature by signature ------------------------------------------------


def _openssl_verify(openssl: str, signature: Path, content: Path, ca: Path) -> int:
    return subprocess.run(
        [
            openssl, "cms", "-verify", "-binary", "-inform", "DER",
            "-in", str(signature), "-content", str(content),
            "-CAfile", str(ca), "-purpose", "any",
            "-attime", str(int(VERIFY_AT.timestamp())),
            "-out", "/dev/null",
        ],
        capture_output=True,
        check=False,
        timeout=60,
    ).returncode  # fmt: skip


def test_every_signature_in_the_bundle_verifies_with_openssl(tmp_path: Path, files) -> None:
    openssl = require_executable("openssl")
    _top, contents = unzip(shared_bundle())
    write_files(tmp_path, contents)
    data = tmp_path / "data"
    for code in UNITS:
        rc = _openssl_verify(
            openssl, data / "signatures" / f"{code}.p7s", data / "document.docx", files["ca"]
        )
        assert rc == 0, code
    rc = _openssl_verify(
        openssl,
        data / "approval" / "manifest.json.p7s",
        data / "approval" / "manifest.json",
        files["ca"],
    )
    assert rc == 0
    # The CA certificate shipped in the bundle is the one the fingerprint names.
    (ca_pem,) = (data / "certs").glob("ca-*.pem")
    assert (
        _openssl_verify(
            openssl, data / "signatures" / "VPHU-MD.p7s", data / "document.docx", ca_pem
        )
        == 0
    )
    # and openssl, too, rejects a changed document
    (data / "document.docx").write_bytes(flip_byte(contents["data/document.docx"]))
    assert (
        _openssl_verify(
            openssl, data / "signatures" / "VPHU-MD.p7s", data / "document.docx", files["ca"]
        )
        != 0
    )


def test_installed_console_script(files, tmp_path: Path) -> None:
    """The real ``thidua`` executable: exit statuses and no traceback on bad input."""
    script = Path(sys.executable).with_name("thidua")
    if not script.exists():
        pytest.skip("the thidua console script is not installed in this environment")
    ok = subprocess.run(
        [script, "verify", files["bundle"], "--trust", files["ca"], "--at", AT],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Kết luận: HỢP LỆ (TOTAL_PASSED)" in ok.stdout
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x05\x06" + bytes(30))
    bad = subprocess.run(
        [script, "verify", junk], capture_output=True, text=True, check=False, timeout=120
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.startswith("Error: ")


def _swap(files):
    a, b = "data/signatures/VPHU-MD.p7s", "data/signatures/VPHU-UH.p7s"
    files[a], files[b] = files[b], files[a]


def _other_document(files):
    files["data/signatures/VPHU-TO.p7s"] = sign(shared_world(), "VPHU-TO", sample_docx("khác"))


def _alter_manifest(files):
    files["data/approval/manifest.json"] = files["data/approval/manifest.json"].replace(
        b"15/Q", b"16/Q"
    )


def _edit_audit(files):
    files["data/audit.jsonl"] = files["data/audit.jsonl"].replace(b"vphu-md-signer", b"ke-gian", 1)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_swap, "VPHU-MD  Văn phòng Huyện ủy Mỹ Đức  chưa xác định được "
                "(INDETERMINATE/SIG_CONSTRAINTS_FAILURE)"),
        (_other_document, "VPHU-TO  Văn phòng Huyện ủy Thanh Oai  không hợp lệ "
                          "(TOTAL_FAILED/HASH_FAILURE)"),
        (_alter_manifest, "Phê duyệt  Ban Thi đua – Khen thưởng thành phố Hà Nội  không hợp lệ "
                          "(TOTAL_FAILED/HASH_FAILURE)"),
        (_edit_audit, "Nhật ký kiểm toán  không hợp lệ tại sự kiện thứ"),
    ],
    ids=["swapped", "other-document", "altered-manifest", "edited-audit"],
)  # fmt: skip
def test_rebagged_tampering_exits_1(files, mutate, expected: str) -> None:
    files["bundle"].write_bytes(rebag(shared_bundle(), mutate))
    result = run(files["bundle"], "--trust", files["ca"], "--at", AT)
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert result.output.splitlines()[-1].startswith("Kết luận: KHÔNG HỢP LỆ (TOTAL_FAILED/")
