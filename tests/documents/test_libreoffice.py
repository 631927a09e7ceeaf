"""Both samples converted to PDF by LibreOffice: the text is there, on sensible pages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import documents
from documents import samples
from tests.conftest import require_executable

pytestmark = pytest.mark.slow


def _to_pdf(tmp_path: Path, name: str, data: bytes) -> Path:
    soffice = require_executable("soffice")
    source = tmp_path / f"{name}.docx"
    source.write_bytes(data)
    profile = (tmp_path / "lo-profile").as_uri()  # a private profile: no clash between runs
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / f"{name}.pdf"
    assert pdf.exists(), "LibreOffice produced no PDF"
    return pdf


def _pages(pdf: Path) -> list[str]:
    pdftotext = require_executable("pdftotext")
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_pledge_pdf(tmp_path):
    content = samples.pledge_2018()
    pages = _pages(_to_pdf(tmp_path, "pledge-2018", documents.render(content)))
    assert 3 <= len(pages) <= 5
    first = _squash(pages[0])
    for expected in (
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "THÀNH ỦY HÀ NỘI",
        "CỤM THI ĐUA SỐ 4",
        "Số 05-GU/CTĐ4",
        "Mỹ Đức, ngày 31 tháng 3 năm 2018",
        "GIAO ƯỚC THI ĐUA NĂM 2018",
    ):
        assert expected in first
    everything = _squash(" ".join(pages))
    assert "Tổng cộng 100" in everything
    for unit in content.member_units:
        assert unit.signer_name in everything
    assert "HUYỆN ỦY THƯỜNG TÍN" in everything
    assert "THỊ ỦY SƠN TÂY" in everything
    code = documents.reference_code_for(content)
    # Page numbers from page 2; the reference code once, at the foot of the last page, and
    # no address (no public URL given).
    assert not pages[0].strip().startswith("1")
    assert pages[1].strip().startswith("2")
    assert pages[-1].rstrip().splitlines()[-1].strip() == f"Mã văn bản: {code}"
    assert [code in page for page in pages].count(True) == 1
    assert "http" not in everything
    assert "Nơi nhận:" in pages[-1]


def test_nomination_pdf(tmp_path):
    content = samples.nomination_2018()
    pages = _pages(_to_pdf(tmp_path, "nomination-2018", documents.render(content)))
    assert 4 <= len(pages) <= 7
    squashed = [_squash(p) for p in pages]
    where = {
        title: next(i for i, p in enumerate(squashed) if title in p)
        for title in ("TỜ TRÌNH", "BIÊN BẢN", "DANH SÁCH")
    }
    # Three parts, each starting on its own page, in order.
    assert where["TỜ TRÌNH"] == 0 < where["BIÊN BẢN"] < where["DANH SÁCH"]
    assert "Số 12-TTr/CTĐ4" in squashed[0]
    assert "Nguyễn Văn Hùng" in squashed[0]
    assert "Số 05-BB/CTĐ4" in squashed[where["BIÊN BẢN"]]
    assert "108,5" in squashed[where["DANH SÁCH"]]
    code = documents.reference_code_for(content)
    assert pages[-1].rstrip().splitlines()[-1].strip() == f"Mã văn bản: {code}"
    assert "http" not in " ".join(squashed)
