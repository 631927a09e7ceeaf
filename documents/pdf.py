"""The PDF of a frozen document: DOCX -> PDF/A-2b with LibreOffice headless, and where a
text (a signer's name in the signature grid) sits on the rendered pages.

Bytes in, bytes out, no clock. Each conversion runs in its own temporary work directory with
its own LibreOffice profile (``-env:UserInstallation``): two soffice processes sharing one
profile block each other or fail, so concurrent conversions never share one. Every failure
(no soffice, a timeout, a document LibreOffice cannot read) is a DocumentError with a
Vietnamese message, and the temporary directories are always removed.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from documents.errors import DocumentError

__all__ = [
    "PDFA_FILTER",
    "Box",
    "TextBox",
    "docx_to_pdf",
    "signature_cells",
    "text_boxes",
]

# writer_pdf_Export with SelectPdfVersion 2 = PDF/A-2b (fonts embedded, XMP pdfaid 2/B).
PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
DEFAULT_TIMEOUT = 120.0
MAX_DOCX_BYTES = 50 * 1024 * 1024

Box = tuple[float, float, float, float]


class TextBox(NamedTuple):
    """Where a text is: 0-based page index and (x1, y1, x2, y2) in PDF points, origin at the
    bottom-left of the page (the coordinates of a signature field's /Rect)."""

    page: int
    box: Box


def _soffice(binary: str | None) -> str:
    found = shutil.which(binary or "soffice")
    if found is None:
        raise DocumentError(
            "pdf",
            "không tìm thấy LibreOffice (soffice) để chuyển văn bản sang PDF; "
            "hãy cài gói libreoffice-writer-nogui",
        )
    return found


def docx_to_pdf(
    docx: bytes, *, timeout: float = DEFAULT_TIMEOUT, soffice: str | None = None
) -> bytes:
    """The PDF/A-2b rendering of ``docx`` by LibreOffice headless.

    ``soffice``: the binary's name or path (default ``soffice`` on PATH). Raises DocumentError
    when the binary is missing, the conversion exceeds ``timeout`` seconds, or LibreOffice
    produces no PDF (not a DOCX, a damaged file)."""
    if not isinstance(docx, bytes | bytearray) or not docx:
        raise DocumentError("docx", "văn bản DOCX rỗng")
    if len(docx) > MAX_DOCX_BYTES:
        raise DocumentError("docx", "văn bản DOCX quá lớn để chuyển sang PDF")
    if not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise DocumentError("timeout", "thời gian chờ chuyển PDF phải từ 0 đến 3600 giây")
    _check_docx(bytes(docx))
    binary = _soffice(soffice)
    with tempfile.TemporaryDirectory(prefix="thidua-pdf-") as work:
        root = Path(work)
        source = root / "document.docx"
        source.write_bytes(bytes(docx))
        out = root / "out"
        out.mkdir()
        command = [
            binary,
            f"-env:UserInstallation={(root / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            PDFA_FILTER,
            "--outdir",
            str(out),
            str(source),
        ]
        _run(command, timeout, home=root)
        result = out / "document.pdf"
        if not result.is_file() or result.stat().st_size == 0:
            raise DocumentError(
                "docx", "LibreOffice không chuyển được văn bản sang PDF (tệp DOCX hỏng?)"
            )
        data = result.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise DocumentError("docx", "LibreOffice trả về một tệp không phải PDF")
    return data


def _check_docx(data: bytes) -> None:
    """A ZIP holding word/document.xml: LibreOffice would otherwise render any bytes as
    plain text and hand back a PDF of garbage."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise DocumentError("docx", "tệp không phải văn bản DOCX") from None


def _run(command: list[str], timeout: float, *, home: Path) -> None:
    """Run soffice in its own process group, so a timeout kills it and its helpers; HOME is
    the work directory, so nothing lands in the server user's home."""
    env = {**os.environ, "HOME": str(home)}
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    except OSError as exc:
        raise DocumentError("pdf", f"không chạy được LibreOffice: {exc}") from None
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise DocumentError(
            "pdf", f"LibreOffice không chuyển xong văn bản sang PDF trong {timeout:g} giây"
        ) from None
    if process.returncode != 0:
        detail = stderr.decode("utf-8", "replace").strip()[-300:]
        raise DocumentError(
            "pdf", f"LibreOffice báo lỗi khi chuyển sang PDF (mã {process.returncode}): {detail}"
        )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.communicate()


# --------------------------------------------------------------------------- text positions
class _Line(NamedTuple):
    page: int
    page_height: float
    words: tuple[tuple[str, float, float, float, float], ...]  # text, xMin, yMin, xMax, yMax

    @property
    def text(self) -> str:
        return " ".join(w[0] for w in self.words)


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _lines(pdf: bytes, timeout: float) -> list[_Line]:
    if not isinstance(pdf, bytes | bytearray) or not bytes(pdf).startswith(b"%PDF-"):
        raise DocumentError("pdf", "dữ liệu không phải tệp PDF")
    binary = shutil.which("pdftotext")
    if binary is None:
        raise DocumentError("pdf", "không tìm thấy pdftotext (gói poppler-utils)")
    try:
        done = subprocess.run(
            [binary, "-bbox-layout", "-enc", "UTF-8", "-", "-"],
            input=bytes(pdf),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DocumentError("pdf", "pdftotext không đọc xong tệp PDF") from None
    if done.returncode != 0:
        raise DocumentError("pdf", "pdftotext không đọc được tệp PDF")
    try:
        # pdftotext escapes its text as XML; the DOCTYPE names no entity we need.
        root = ET.fromstring(done.stdout)  # noqa: S314 - poppler's own output, not user XML
    except ET.ParseError as exc:
        raise DocumentError("pdf", f"kết quả pdftotext không đọc được: {exc}") from None
    ns = "{http://www.w3.org/1999/xhtml}"
    lines = []
    for index, page in enumerate(root.iter(f"{ns}page")):
        height = float(page.get("height", "0"))
        for line in page.iter(f"{ns}line"):
            words = tuple(
                (
                    unicodedata.normalize("NFC", w.text or ""),
                    float(w.get("xMin", "0")),
                    float(w.get("yMin", "0")),
                    float(w.get("xMax", "0")),
                    float(w.get("yMax", "0")),
                )
                for w in line.iter(f"{ns}word")
            )
            if words:
                lines.append(_Line(index, height, words))
    return lines


def _find(line: _Line, needle: str) -> Box | None:
    """The box (top-left origin, as pdftotext gives it) of the words holding ``needle``."""
    text = line.text
    start = text.find(needle)
    if start < 0:
        return None
    end = start + len(needle)
    offset, chosen = 0, []
    for word in line.words:
        w_start, w_end = offset, offset + len(word[0])
        if w_end > start and w_start < end:
            chosen.append(word)
        offset = w_end + 1
    return (
        min(w[1] for w in chosen),
        min(w[2] for w in chosen),
        max(w[3] for w in chosen),
        max(w[4] for w in chosen),
    )


def _flip(box: Box, height: float) -> Box:
    x1, top, x2, bottom = box
    return (round(x1, 2), round(height - bottom, 2), round(x2, 2), round(height - top, 2))


def text_boxes(pdf: bytes, needles: Iterable[str], *, timeout: float = 60.0) -> dict[str, TextBox]:
    """Where each needle (a text within one line) last occurs in ``pdf``: page index and box
    in PDF points (origin bottom-left). The last occurrence, because a signer's name opens
    the pledge (its parties) and closes it (the signature grid). Needles not found are
    absent from the result."""
    wanted = {n: _squash(n) for n in needles}
    found: dict[str, TextBox] = {}
    for line in _lines(pdf, timeout):
        for needle, squashed in wanted.items():
            if not squashed:
                continue
            box = _find(line, squashed)
            if box is not None:
                found[needle] = TextBox(line.page, _flip(box, line.page_height))
    return found


def signature_cells(
    pdf: bytes,
    cells: Mapping[str, tuple[str, str]],
    *,
    width: float = 190.0,
    timeout: float = 60.0,
) -> dict[str, TextBox]:
    """The room for each signature in the grid: ``cells`` maps a key (a unit code) to the
    (title line, signer name) that cell prints ("CHÁNH VĂN PHÒNG", "Nguyễn Văn Hùng").

    The box spans, in height, the space between the title line above the name and the name
    (Decree 30 II.7d: the signature sits between the title and the name), and in width
    ``width`` points centred on the cell's title. DocumentError when a name, or the title
    above it, is not found."""
    lines = _lines(pdf, timeout)
    result: dict[str, TextBox] = {}
    for key, (title, name) in cells.items():
        t_title, t_name = _squash(title), _squash(name)
        hits = [(line, box) for line in lines if (box := _find(line, t_name)) is not None]
        if not t_name or not hits:
            raise DocumentError(f"cells.{key}", f"không thấy tên người ký “{name}” trong PDF")
        line, name_box = hits[-1]
        centre = (name_box[0] + name_box[2]) / 2
        above = [
            (other, box)
            for other in lines
            if other.page == line.page
            and (box := _find(other, t_title)) is not None
            and box[3] <= name_box[1] + 0.5
            and box[0] - 20 <= centre <= box[2] + 20
        ]
        if not t_title or not above:
            raise DocumentError(f"cells.{key}", f"không thấy dòng chức vụ “{title}” trên tên")
        _, title_box = max(above, key=lambda hit: hit[1][3])  # the nearest one above
        middle = (title_box[0] + title_box[2]) / 2
        box = (middle - width / 2, title_box[3], middle + width / 2, name_box[1])
        result[key] = TextBox(line.page, _flip(box, line.page_height))
    return result
