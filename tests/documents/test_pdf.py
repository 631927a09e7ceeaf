"""The frozen PDF: the pledge through LibreOffice to PDF/A-2b, and where its signature
cells are (documents.pdf)."""

from __future__ import annotations

import io
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import documents
from documents import samples
from documents.errors import DocumentError
from documents.pdf import docx_to_pdf, signature_cells, text_boxes
from tests.conftest import require_executable


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("thidua-pdf-*")}


def _tool(name: str, pdf: bytes, *args: str) -> str:
    binary = require_executable(name)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        return subprocess.run(
            [binary, *args, handle.name, *(["-"] if name == "pdftotext" else [])],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def pledge_pdf() -> bytes:
    require_executable("soffice")
    return docx_to_pdf(documents.render(samples.pledge_2018()))


@pytest.mark.slow
def test_the_pledge_becomes_pdfa_with_its_text_and_fonts(pledge_pdf):
    text = _squash(_tool("pdftotext", pledge_pdf))
    for expected in ("GIAO ƯỚC THI ĐUA NĂM 2018", "Mỹ Đức, ngày 31 tháng 3 năm 2018"):
        assert expected in text
    for unit in samples.MEMBER_UNITS:
        assert unit.signer_name in text
    meta = _tool("pdfinfo", pledge_pdf, "-meta")
    assert "<pdfaid:part>2</pdfaid:part>" in meta
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in meta
    fonts = _tool("pdffonts", pledge_pdf).splitlines()[2:]
    assert fonts, "no fonts listed"
    for line in fonts:
        columns = line.split()
        # name type [type2] encoding emb sub uni object-id generation
        assert columns[-5] == "yes", f"font not embedded: {line}"


@pytest.mark.slow
def test_two_conversions_at_once_both_succeed():
    before = _leftovers()
    contents = [samples.pledge_2018(), samples.pledge_2019()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        pdfs = list(pool.map(lambda c: docx_to_pdf(documents.render(c)), contents))
    assert "NĂM 2018" in _squash(_tool("pdftotext", pdfs[0]))
    assert "NĂM 2019" in _squash(_tool("pdftotext", pdfs[1]))
    assert _leftovers() <= before  # each conversion removed its profile and work dir


@pytest.mark.slow
def test_a_damaged_docx_is_a_document_error():
    require_executable("soffice")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<w:document")
    before = _leftovers()
    with pytest.raises(DocumentError, match="LibreOffice không chuyển được"):
        docx_to_pdf(buffer.getvalue())
    assert _leftovers() <= before


@pytest.mark.slow
def test_a_conversion_past_its_timeout_is_a_document_error():
    require_executable("soffice")
    before = _leftovers()
    with pytest.raises(DocumentError, match=r"trong 0\.05 giây"):
        docx_to_pdf(documents.render(samples.pledge_2018()), timeout=0.05)
    assert _leftovers() <= before


def test_garbage_is_refused_before_libreoffice_runs():
    with pytest.raises(DocumentError, match="không phải văn bản DOCX"):
        docx_to_pdf(b"this is not a docx at all")
    with pytest.raises(DocumentError, match="rỗng"):
        docx_to_pdf(b"")


def test_a_missing_soffice_is_a_document_error():
    docx = documents.render(samples.pledge_2018())
    with pytest.raises(DocumentError, match="libreoffice-writer-nogui"):
        docx_to_pdf(docx, soffice="/nonexistent/soffice")


@pytest.mark.slow
def test_signature_cells_sit_between_title_and_name(pledge_pdf):
    cells = {u.code: ("CHÁNH VĂN PHÒNG", u.signer_name) for u in samples.MEMBER_UNITS}
    boxes = signature_cells(pledge_pdf, cells)
    names = text_boxes(pledge_pdf, [u.signer_name for u in samples.MEMBER_UNITS])
    last_page = _tool("pdfinfo", pledge_pdf).split("Pages:")[1].split()[0]
    for unit in samples.MEMBER_UNITS:
        page, (x1, y1, x2, y2) = boxes[unit.code]
        name_page, (nx1, _ny1, nx2, ny2) = names[unit.signer_name]
        assert page == name_page == int(last_page) - 1  # the grid, not the list of parties
        assert abs(y1 - ny2) < 0.5  # the box ends where the name starts
        assert 40 <= y2 - y1 <= 80  # room for a signature image
        assert x1 <= nx1
        assert nx2 <= x2
    # Two columns, four rows, no overlap.
    rects = sorted(b.box for b in boxes.values())
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert len({round(b.box[0]) for b in boxes.values()}) == 2


@pytest.mark.slow
def test_a_name_that_is_not_there_is_a_document_error(pledge_pdf):
    with pytest.raises(DocumentError, match="không thấy tên người ký"):
        signature_cells(pledge_pdf, {"X": ("CHÁNH VĂN PHÒNG", "Người Không Có")})
    assert text_boxes(pledge_pdf, ["Người Không Có"]) == {}
    with pytest.raises(DocumentError, match="không phải tệp PDF"):
        text_boxes(b"PK\x03\x04", ["x"])
