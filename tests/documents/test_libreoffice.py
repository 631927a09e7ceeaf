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


ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DOSSIER = ("TỜ TRÌNH", "BIÊN BẢN", "DANH SÁCH", "BÁO CÁO", "BÁO CÁO", "BÁO CÁO")


def _check_numbering(pages: list[str]) -> None:
    """A document's first page carries no number at its top; every later page carries the
    number after its predecessor's, "2" after the first."""
    for i, page in enumerate(pages):
        top = next(line.strip() for line in page.splitlines() if line.strip())
        if i == 0:
            assert not top.isdigit(), top
        else:
            assert top == str(i + 1), (i, top)


def _keep_pages(pdf: Path, name: str) -> None:
    """PNG pages under tests/artifacts, for a person to look at (CI keeps the folder)."""
    ARTIFACTS.mkdir(exist_ok=True)
    pdftoppm = require_executable("pdftoppm")
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", str(pdf), str(ARTIFACTS / name)],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.parametrize("profile", ["party", "state"])
def test_each_document_of_the_dossier_opens_on_its_own_page_one(tmp_path, profile):
    """What a clerk of the board checks: the submission, the minutes, the list and every
    achievement report each open with their own header on an unnumbered first page and
    number their pages from 2; no loopback address, no "T/M VĂN PHÒNG", symbols in the
    profile's form, the cluster head and deputy marked in the grid."""
    content = dataclasses.replace(samples.nomination_2018(), profile=profile)
    parts = documents.render_dossier(content)
    names = {f"nomination-2018-{profile}-{p.name.removesuffix('.docx')}": p for p in parts}
    pages = _pages_of(tmp_path, {name: part.docx for name, part in names.items()})
    for name in names:
        _keep_pages(tmp_path / f"{name}.pdf", name)
    assert len(pages) == len(DOSSIER)
    national = "ĐẢNG CỘNG SẢN VIỆT NAM" if profile == "party" else "CỘNG HÒA XÃ HỘI CHỦ NGHĨA"
    code = documents.reference_code_for(content)
    firsts = []
    for (name, part), title in zip(names.items(), DOSSIER, strict=True):
        document = pages[name]
        _check_numbering(document)
        first = _squash(document[0])
        assert title in first, (name, title)
        if part.name != "03-danh-sach.docx":  # the list is an annex of the submission
            assert national in first, name
        # Each document names the version on its own last page.
        assert document[-1].rstrip().splitlines()[-1].strip() == f"Mã văn bản: {code}", name
        firsts.append(first)
    submission, minutes = firsts[0], firsts[1]
    if profile == "party":
        assert "Số 12-TTr/CTĐ4" in submission
        assert "Số 05-BB/CTĐ4" in minutes
    else:
        assert "Số: 12/TTr-CTĐ4" in submission
        assert "Số: 05/BB-CTĐ4" in minutes
    for report, unit in zip(firsts[3:], content.member_units[:3], strict=True):
        assert unit.name.removeprefix("Văn phòng ").upper() in report
    everything = " ".join(_squash(page) for document in pages.values() for page in document)
    assert "Hồ sơ kèm theo gồm:" in everything
    assert "Ban kiểm phiếu gồm các đồng chí:" in everything
    assert "+ Văn phòng Huyện ủy Sơn Tây" not in everything  # a Thị ủy, named as it is
    assert "+ Văn phòng Thị ủy Sơn Tây: đồng chí Bùi Thị Lan Anh" in everything
    assert "(Cụm trưởng)" in everything
    assert "(Cụm phó)" in everything
    for wrong in ("T/M VĂN PHÒNG", "TM. VĂN PHÒNG", "127.0.0.1", "localhost", "http"):
        assert wrong not in everything, wrong


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
    submission, minutes = documents.render_dossier(samples.nomination_2018())[:2]
    variants["submission"], variants["minutes"] = submission.docx, minutes.docx
    pages = _pages_of(tmp_path, variants)
    closing = pledge.commitments[-1][-40:]
    for k in (0, 3, 6):
        doc = pages[f"pledge-{k}"]
        here = _page_of(doc, closing)
        assert _page_of(doc, "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC") == here
        # Signer names also open the pledge (its list of parties): find the grid by the
        # units' names in capitals, which only the signatures print.
        for unit in pledge.signing_order[:2]:
            assert _page_of(doc, unit.name.upper().removeprefix("VĂN PHÒNG ")) == here
    doc = pages["submission"]
    assert _page_of(doc, "xem xét, quyết định./.") == _page_of(doc, "T/M CỤM THI ĐUA SỐ 4")
    doc = pages["minutes"]
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
