"""Render a pledge to DOCX bytes (``render``); the pieces every document shares: the
reference code, the verification line at the foot of the last page, the core properties.

The document is built with python-docx on the profile's template (documents/templates), in
its named styles. Same content, same bytes: the reference code defaults to a value derived
from the content itself, and the package is written without any clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import ipaddress
import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm

from documents.blocks import Properties, Sheet
from documents.codec import content_to_dict
from documents.content import Content, NominationContent, PledgeContent
from documents.docxio import package_bytes
from documents.errors import DocumentError
from documents.pledge import render_pledge
from documents.profiles import PROFILES
from documents.qr import qr_png
from documents.styles import S
from documents.units import A4_TWIPS, mm, text_width

# The one code of each document kind in reference codes: the workflow's codes
# ("TD-GU-2019-00003-V2") and this module's fallback for content rendered on its own.
KIND_CODES: dict[str, str] = {"pledge": "GU", "nomination": "KT"}
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{2,63}")
_URL = re.compile(r"https?://[!-~]{1,290}")
QR_MM = 12  # the QR code beside the verification line, when there is a public URL


def reference_code_for(content: Content) -> str:
    """A short code derived from the content, e.g. "GU-2018-3F9A2C1B7D"."""
    canonical = json.dumps(
        content_to_dict(content), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10].upper()
    return f"{KIND_CODES[content.kind]}-{content.year}-{digest}"


def verify_url_for(reference_code: str, base: str) -> str:
    return f"{base.rstrip('/')}?ref={reference_code}"


def is_public_url(url: str) -> bool:
    """False for a loopback or unspecified host (a development address): such a URL is
    never printed on an official page."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return not (address.is_loopback or address.is_unspecified)


def render(
    content: Content, *, reference_code: str | None = None, verify_url: str | None = None
) -> bytes:
    """DOCX bytes of a pledge; identical input gives identical bytes.

    The last page carries "Mã văn bản: <reference_code>" at its foot; ``verify_url`` (a
    public http(s) URL) adds the address and its QR code. A loopback URL counts as none.
    A nomination dossier is several documents: see ``render_dossier``.

    Raises:
        DocumentError: ``reference_code`` or ``verify_url`` is malformed ("reference_code",
            "verify_url"), or ``content`` is not a pledge ("kind").
    """
    if isinstance(content, NominationContent):
        raise DocumentError(
            "kind", "hồ sơ đề nghị khen thưởng gồm nhiều văn bản riêng: dùng render_dossier"
        )
    if not isinstance(content, PledgeContent):
        raise DocumentError("kind", f"không có mẫu văn bản cho {type(content).__name__}")
    reference_code, verify_url = printed_reference(content, reference_code, verify_url)
    return docx_of(
        content.profile, lambda sheet: render_pledge(sheet, content), reference_code, verify_url
    )


def docx_of(
    profile: str,
    write: Callable[[Sheet], Properties],
    reference_code: str,
    verify_url: str | None,
) -> bytes:
    """One document's package: ``write`` fills a fresh sheet of the profile's template, the
    verification line ends it, and the core properties come from what ``write`` returns."""
    sheet = Sheet(PROFILES[profile])
    props = write(sheet)
    verification_line(sheet, reference_code, verify_url)
    _core_properties(sheet, props, reference_code)
    return package_bytes(sheet.doc)


def printed_reference(
    content: Content, reference_code: str | None, verify_url: str | None
) -> tuple[str, str | None]:
    """The reference code and the URL a document prints: checked, the code derived from the
    content when not given, a loopback URL dropped."""
    if reference_code is None:
        reference_code = reference_code_for(content)
    elif not isinstance(reference_code, str) or not _REFERENCE.fullmatch(reference_code):
        raise DocumentError(
            "reference_code", "mã văn bản chỉ gồm chữ, số, '.', '_', '/', '-' (3–64 ký tự)"
        )
    if verify_url is not None:
        if not isinstance(verify_url, str) or not _URL.fullmatch(verify_url):
            raise DocumentError(
                "verify_url", "địa chỉ xác thực phải là URL http(s) không có dấu cách"
            )
        if not is_public_url(verify_url):
            verify_url = None
    return reference_code, verify_url


def verification_line(sheet: Sheet, reference_code: str, url: str | None) -> None:
    """ "Mã văn bản: …" in small type at the foot of the last page (below the type area, where
    a footer sits), with the public URL and its QR code when there is one.

    A page footer would repeat it on every page; a paragraph framed at a fixed place on the
    page, anchored after the last content, prints once, on the last page. python-docx has
    no API for frames: ``w:framePr`` is added with lxml.
    """
    paragraph = sheet.para(sheet.doc, S.FOOTER)
    height_mm = 4.5
    if url:
        png, _modules = qr_png(url)
        paragraph.add_run().add_picture(io.BytesIO(png), width=Mm(QR_MM), height=Mm(QR_MM))
        paragraph.add_run(" ")
        height_mm = QR_MM + 1
    paragraph.add_run("Mã văn bản: ")
    paragraph.add_run(reference_code)._r.style = S.STRONG
    if url:
        paragraph.add_run().add_break()  # the address on its own line, beside the QR code
        paragraph.add_run("Kiểm tra văn bản và chữ ký số tại: ")
        paragraph.add_run(url)._r.style = S.URL
    profile = sheet.profile
    frame = OxmlElement("w:framePr")
    top = A4_TWIPS[1] - mm(profile.footer_distance_mm + height_mm)
    for name, value in (
        ("w", str(text_width(profile))),
        ("hSpace", "0"),
        ("wrap", "notBeside"),
        ("vAnchor", "page"),
        ("hAnchor", "margin"),
        ("xAlign", "center"),
        ("y", str(top)),
    ):
        frame.set(qn(f"w:{name}"), value)
    paragraph._p.get_or_add_pPr().insert_element_before(
        frame, "w:widowControl", "w:numPr", "w:pBdr", "w:spacing", "w:ind", "w:jc", "w:rPr"
    )


def _core_properties(sheet: Sheet, props: Properties, reference_code: str) -> None:
    core = sheet.doc.core_properties
    core.title = props.title
    core.subject = props.subject
    core.author = core.last_modified_by = props.creator
    core.identifier = reference_code
    core.keywords = props.keywords
    core.language = "vi-VN"
    core.revision = 1
    stamp = dt.datetime.combine(props.date, dt.time())
    core.created = core.modified = stamp
