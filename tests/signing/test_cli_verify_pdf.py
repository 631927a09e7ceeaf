"""``thidua verify signed.pdf --trust ca.pem``: a signed PDF checked alone, each field
expected to be signed by the unit it is named after (issue 16)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from signing.pades.fields import expected_from_fields, signature_field_names
from tests.signing.bundle_fixtures import UNITS, make_world, shared_world
from tests.signing.bundle_pdf_helpers import (
    edit_byte,
    frozen_pdf,
    issue,
    sign_in,
    signed_pdf,
    world_party,
)
from tests.signing.pades_helpers import update_after
from web.cli import main

AT = "2018-04-15T08:00:00Z"


@cache
def good_pdf() -> bytes:
    return signed_pdf(shared_world())


def run(*args: str | Path):
    result = CliRunner().invoke(main, ["verify", *map(str, args)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(shared_world().ca_pem)
    return path


def write(tmp_path: Path, data: bytes, name: str = "signed.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_the_field_names_are_the_pdfs_own():
    names = signature_field_names(good_pdf())
    assert set(names) == {*UNITS, "BOARD", "CERTIFICATION"}
    expected = expected_from_fields(names)
    assert expected["VPHU-MD"] == "VPHU-MD"
    assert expected["BOARD"] is None
    assert expected["CERTIFICATION"] == "THIDUA"


def test_a_signed_pdf_passes_with_one_line_per_field(tmp_path, ca):
    result = run(write(tmp_path, good_pdf()), "--trust", ca, "--at", AT)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    md = next(line for line in lines if line.startswith("VPHU-MD  "))
    assert "Lãnh đạo Văn phòng Huyện ủy Mỹ Đức" in md
    assert "2018-03-31T09:12:05+07:00" in md  # Vietnamese time, as Decree 30 writes it
    assert "Chữ ký số hợp lệ (TOTAL_PASSED)" in md
    assert any(line.startswith("BOARD  ") and "TOTAL_PASSED" in line for line in lines)
    assert any(line.startswith("CERTIFICATION  ") for line in lines)
    assert (
        len([line for line in lines if "Chữ ký số hợp lệ (TOTAL_PASSED)" in line]) == len(UNITS) + 2
    )
    assert "Kết luận: HỢP LỆ (TOTAL_PASSED)" in result.output


def test_json(tmp_path, ca):
    result = run(write(tmp_path, good_pdf()), "--trust", ca, "--at", AT, "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["mode"] == "pdf"
    assert data["indication"] == "TOTAL_PASSED"
    assert len(data["signatures"]) == len(UNITS) + 2


def test_an_edited_byte_is_a_hash_failure(tmp_path, ca):
    result = run(write(tmp_path, edit_byte(good_pdf())), "--trust", ca, "--at", AT)
    assert result.exit_code == 1
    assert "TOTAL_FAILED/HASH_FAILURE" in result.output.splitlines()[-1]


def test_an_update_after_the_board_is_unsigned_content(tmp_path, ca):
    result = run(write(tmp_path, update_after(good_pdf())), "--trust", ca, "--at", AT)
    assert result.exit_code == 1
    assert "TOTAL_FAILED/UNSIGNED_CONTENT" in result.output.splitlines()[-1]
    board = next(line for line in result.output.splitlines() if line.startswith("BOARD  "))
    assert "sau chữ ký khóa văn bản" in board


def test_a_foreign_ca_is_named(tmp_path, ca):
    other = make_world({"VPHU-PX": UNITS["VPHU-PX"]}, common_name="CA khác")
    forger = issue(other.ca, "VPHU-PX", UNITS["VPHU-PX"], "Kẻ giả mạo")
    pdf = signed_pdf(shared_world(), signers={"VPHU-PX": forger})
    result = run(write(tmp_path, pdf), "--trust", ca, "--at", AT)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("VPHU-PX  "))
    assert "NO_CERTIFICATE_CHAIN_FOUND" in line


def test_a_member_unit_in_the_boards_field_is_a_constraints_failure(tmp_path, ca):
    world = shared_world()
    codes = list(UNITS)
    pdf = frozen_pdf(world, codes)
    for minute, code in enumerate(codes):
        pdf = sign_in(pdf, code, world_party(world, code), minute)
    pdf = sign_in(pdf, "BOARD", world_party(world, "VPHU-MD"), 30)
    result = run(write(tmp_path, pdf), "--trust", ca, "--at", AT)
    assert result.exit_code == 1
    assert "SIG_CONSTRAINTS_FAILURE" in result.output.splitlines()[-1]
    board = next(line for line in result.output.splitlines() if line.startswith("BOARD  "))
    assert "VPHU-MD" in board


def test_unsigned_fields_are_listed_and_not_passed(tmp_path, ca):
    pdf = signed_pdf(shared_world(), skip=["VPHU-TO"])
    result = run(write(tmp_path, pdf), "--trust", ca, "--at", AT)
    assert result.exit_code == 1
    assert "VPHU-TO  chưa ký" in result.output.splitlines()
    assert "INDETERMINATE/SIGNED_DATA_NOT_FOUND" in result.output.splitlines()[-1]


def test_without_trust_it_is_indeterminate(tmp_path):
    result = run(write(tmp_path, good_pdf()), "--at", AT)
    assert result.exit_code == 1
    assert "NO_CERTIFICATE_CHAIN_FOUND" in result.output.splitlines()[-1]


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\nnot really a pdf", b"hello", b"PK\x03\x04garbage"],
    ids=["damaged", "text", "zip-garbage"],
)
def test_bad_input_is_exit_2(tmp_path, ca, data):
    result = run(write(tmp_path, data), "--trust", ca, "--at", AT)
    assert result.exit_code == 2
    assert "PDF" in result.output


def test_signature_files_do_not_go_with_a_pdf(tmp_path, ca):
    p7s = write(tmp_path, b"0", "VPHU-MD.p7s")
    result = run(write(tmp_path, good_pdf()), "--trust", ca, "--signature", p7s)
    assert result.exit_code == 2


def test_a_bundle_names_its_pdf(tmp_path, ca):
    from tests.signing.test_bundle_pdf import bundle_with

    pdf = signed_pdf(shared_world(), skip=["VPHU-TO"])
    result = run(write(tmp_path, bundle_with(pdf), "thidua-42.zip"), "--trust", ca, "--at", AT)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("Bản PDF "))
    assert line == "Bản PDF document.pdf  hợp lệ (TOTAL_PASSED): 9/9 chữ ký số hợp lệ"
    assert "  chưa ký trong bản PDF: VPHU-TO" in result.output.splitlines()

    tampered = update_after(good_pdf())
    result = run(write(tmp_path, bundle_with(tampered), "bad.zip"), "--trust", ca, "--at", AT)
    assert result.exit_code == 1
    assert "TOTAL_FAILED/UNSIGNED_CONTENT" in result.output.splitlines()[-1]
    assert any("data/document.pdf" in line for line in result.output.splitlines())
