"""The DOCX package (an OPC zip) written deterministically.

python-docx stamps the current time into zip entries and core properties, so two renders of the
same content would differ. Here every part is written in a fixed order with a fixed entry time
(the document's own date), and the core properties come from the content, never from a clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import struct
import zlib
from dataclasses import dataclass

from documents.ooxml import NS, RFONTS, attr

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

CONTENT_TYPES = (
    _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="png" ContentType="image/png"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.settings+xml"/>'
    '<Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.fontTable+xml"/>'
    '<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.header+xml"/>'
    '<Override PartName="/word/header2.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.header+xml"/>'
    '<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.footer+xml"/>'
    '<Override PartName="/word/footer2.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.footer+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.extended-properties+xml"/>'
    "</Types>"
)

ROOT_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    'metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

# Relationship ids used by document.xml.
HEADER_DEFAULT, HEADER_FIRST = "rIdHeaderDefault", "rIdHeaderFirst"
FOOTER_DEFAULT, FOOTER_FIRST = "rIdFooterDefault", "rIdFooterFirst"
QR_IMAGE = "rIdQr"

DOCUMENT_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rIdStyles" Type="{_REL}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rIdSettings" Type="{_REL}/settings" Target="settings.xml"/>'
    f'<Relationship Id="rIdFonts" Type="{_REL}/fontTable" Target="fontTable.xml"/>'
    f'<Relationship Id="{HEADER_DEFAULT}" Type="{_REL}/header" Target="header1.xml"/>'
    f'<Relationship Id="{HEADER_FIRST}" Type="{_REL}/header" Target="header2.xml"/>'
    f'<Relationship Id="{FOOTER_DEFAULT}" Type="{_REL}/footer" Target="footer1.xml"/>'
    f'<Relationship Id="{FOOTER_FIRST}" Type="{_REL}/footer" Target="footer2.xml"/>'
    f'<Relationship Id="{QR_IMAGE}" Type="{_REL}/image" Target="media/qr.png"/>'
    "</Relationships>"
)


def styles_xml(body_size: float) -> str:
    """Styles with Times New Roman on all four font slots, both as defaults and on Normal."""
    sz = round(body_size * 2)
    return (
        _XML + f"<w:styles {_W}>"
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        f'{RFONTS}<w:sz w:val="{sz}"/><w:szCs w:val="{sz}"/>'
        '<w:lang w:val="vi-VN" w:eastAsia="en-US" w:bidi="ar-SA"/>'
        "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>"
        '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
        "</w:pPr></w:pPrDefault></w:docDefaults>"
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>'
        "<w:qFormat/><w:pPr><w:widowControl/></w:pPr>"
        f'<w:rPr>{RFONTS}<w:sz w:val="{sz}"/><w:szCs w:val="{sz}"/></w:rPr></w:style>'
        '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
        '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/>'
        "</w:style>"
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal">'
        '<w:name w:val="Normal Table"/><w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/>'
        '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar>'
        "</w:tblPr></w:style>"
        '<w:style w:type="paragraph" w:styleId="Header"><w:name w:val="header"/>'
        '<w:basedOn w:val="Normal"/><w:rPr>' + RFONTS + "</w:rPr></w:style>"
        '<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/>'
        '<w:basedOn w:val="Normal"/><w:rPr>' + RFONTS + "</w:rPr></w:style>"
        "</w:styles>"
    )


SETTINGS = (
    _XML + f"<w:settings {_W}>"
    '<w:zoom w:percent="100"/><w:defaultTabStop w:val="720"/>'
    '<w:characterSpacingControl w:val="doNotCompress"/>'
    '<w:compat><w:compatSetting w:name="compatibilityMode" '
    'w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>'
    '<w:themeFontLang w:val="vi-VN"/>'
    "</w:settings>"
)

FONT_TABLE = (
    _XML + f"<w:fonts {_W}>"
    '<w:font w:name="Times New Roman"><w:panose1 w:val="02020603050405020304"/>'
    '<w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
    "</w:fonts>"
)

APP = (
    _XML
    + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>thidua</Application><DocSecurity>0</DocSecurity></Properties>"
)


def header_footer(tag: str, paragraphs: str) -> str:
    """A header (``tag`` = "hdr") or footer ("ftr") part."""
    return f"{_XML}<w:{tag} {NS}>{paragraphs}</w:{tag}>"


def document_xml(body: str, sect_pr: str) -> str:
    return f"{_XML}<w:document {NS}><w:body>{body}{sect_pr}</w:body></w:document>"


@dataclass(frozen=True)
class CoreProperties:
    title: str
    subject: str
    creator: str
    identifier: str
    keywords: str
    date: dt.date


def core_xml(props: CoreProperties) -> str:
    stamp = f"{props.date.isoformat()}T00:00:00Z"
    return (
        _XML
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{attr(props.title)}</dc:title>"
        f"<dc:subject>{attr(props.subject)}</dc:subject>"
        f"<dc:creator>{attr(props.creator)}</dc:creator>"
        f"<cp:lastModifiedBy>{attr(props.creator)}</cp:lastModifiedBy>"
        f"<dc:identifier>{attr(props.identifier)}</dc:identifier>"
        f"<cp:keywords>{attr(props.keywords)}</cp:keywords>"
        "<dc:language>vi-VN</dc:language><cp:revision>1</cp:revision>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


@functools.lru_cache(maxsize=64)
def _deflate_static(data: bytes) -> tuple[int, bytes]:
    """Constant parts (styles, settings, relationships...) are compressed once per process."""
    return _deflate(data)


def _deflate(data: bytes) -> tuple[int, bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    return zlib.crc32(data), compressor.compress(data) + compressor.flush()


def write_package(
    parts: list[tuple[str, bytes]], date: dt.date, *, static: frozenset[str] = frozenset()
) -> bytes:
    """Zip ``parts`` in the given order with a fixed entry time: same input, same bytes.

    The zip is written directly (local headers, central directory, end record) rather than
    through ``zipfile``: every field is then fixed by us, and the constant parts named in
    ``static`` are deflated once per process. PNG data is stored, not deflated again.
    """
    dos_time = 0  # 00:00:00
    dos_date = ((max(date.year, 1980) - 1980) << 9) | (date.month << 5) | date.day
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data in parts:
        raw_name = name.encode("ascii")
        if name.endswith(".png"):
            method, crc, stored = 0, zlib.crc32(data), data
        else:
            method = 8
            crc, stored = _deflate_static(data) if name in static else _deflate(data)
        header = _LOCAL.pack(
            0x04034B50,
            20,
            0,
            method,
            dos_time,
            dos_date,
            crc,
            len(stored),
            len(data),
            len(raw_name),
            0,
        )
        chunks += (header, raw_name, stored)
        central.append(
            _CENTRAL.pack(
                0x02014B50,
                (3 << 8) | 20,
                20,
                0,
                method,
                dos_time,
                dos_date,
                crc,
                len(stored),
                len(data),
                len(raw_name),
                0,
                0,
                0,
                0,
                0o100644 << 16,
                offset,
            )
            + raw_name
        )
        offset += len(header) + len(raw_name) + len(stored)
    directory = b"".join(central)
    end = _END.pack(0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0)
    return b"".join(chunks) + directory + end
