"""Both samples converted to PDF by LibreOffice: the text is there, on sensible pages."""

from __future__ import annotations

import dataclasses
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


def _pages_of(tmp_path: Path, documents_by_name: dict[str, bytes]) -> dict[str, list[str]]:
    """Convert several DOCX files in one LibreOffice run; the text of each one's pages."""
    soffice = require_executable("soffice")
    sources = []
    for name, data in documents_by_name.items():
        source = tmp_path / f"{name}.docx"
        source.write_bytes(data)
        sources.append(str(source))
    profile = (tmp_path / "lo-profile").as_uri()
    command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf"]
    subprocess.run(
        [*command, "--outdir", str(tmp_path), *sources],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {name: _pages(tmp_path / f"{name}.pdf") for name in documents_by_name}


def _page_of(pages: list[str], text: str) -> int:
    found = [i for i, page in enumerate(pages) if text in _squash(page)]
    assert len(found) == 1, (text, found)
    return found[0]


def test_the_closing_paragraph_stays_with_the_signatures(tmp_path):
    """However the text falls, the pledge's last commitment, the caption and the first row of
    signatures share a page (the last page held only signatures), and so do the submission's
    and the minutes' closing sentences and their signatures."""
    pledge = samples.pledge_2018()
    filler = "Đoạn thêm để dời chỗ ngắt trang, kiểm tra việc giữ đoạn kết với chữ ký các đơn vị."
    variants = {
        f"pledge-{k}": documents.render(
            dataclasses.replace(pledge, preamble=pledge.preamble + (filler,) * k)
        )
        for k in (0, 3, 6)
    }
    variants["nomination"] = documents.render(samples.nomination_2018())
    pages = _pages_of(tmp_path, variants)
    closing = pledge.commitments[-1][-40:]
    for k in (0, 3, 6):
        doc = pages[f"pledge-{k}"]
        here = _page_of(doc, closing)
        assert _page_of(doc, "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC") == here
        assert _page_of(doc, pledge.signing_order[0].signer_name) == here
        assert _page_of(doc, pledge.signing_order[1].signer_name) == here
    doc = pages["nomination"]
    assert _page_of(doc, "xem xét, quyết định./.") == _page_of(doc, "T/M CỤM THI ĐUA SỐ 4")
    assert _page_of(doc, "nhất trí thông qua./.") == _page_of(doc, "NGƯỜI GHI BIÊN BẢN")


def test_state_profile_in_libreoffice(tmp_path):
    """Decree 30 symbols, no address without a public URL; with one, address and QR code
    once, on the last page."""
    state = dataclasses.replace(samples.pledge_2018(), profile="state")
    url = "https://thidua.example.vn/verify?ref=TD-GU-2018-00007-V2"
    pages = _pages_of(
        tmp_path,
        {
            "plain": documents.render(state),
            "public": documents.render(state, reference_code="TD-GU-2018-00007-V2", verify_url=url),
        },
    )
    plain, public = pages["plain"], pages["public"]
    assert "Số: 05/GU-CTĐ4" in _squash(plain[0])
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in _squash(plain[0])
    assert "http" not in _squash(" ".join(plain))
    assert "- Lưu: VT, Văn phòng Huyện ủy." in _squash(plain[-1])
    assert _page_of(public, url) == len(public) - 1
    assert "Mã văn bản: TD-GU-2018-00007-V2" in _squash(public[-1])
