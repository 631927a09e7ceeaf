"""Build the template DOCX of each profile with python-docx: ``python -m documents.build_template``.

The templates (documents/templates/party.docx, state.docx) hold the page setup, the page
number header and one named style per element of a document (:mod:`documents.styles`); the
renderer only adds content that names those styles. They are committed, and
tests/documents/test_template.py checks that this script still builds them byte for byte.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import docx
from docx.document import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips
from lxml import etree  # type: ignore[import-untyped]

from documents.docxio import package_bytes, template_path
from documents.profiles import PROFILES, Profile
from documents.styles import (
    CHARACTER_STYLES,
    FONT,
    LIST_COUNT,
    TABLE_STYLES,
    ParagraphStyle,
    S,
    paragraph_styles,
)
from documents.units import A4_TWIPS, margins_twips, mm

TEMPLATE_DATE = dt.date(2026, 1, 1)
_KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList"}
_DROP_RELS = {RT.THEME, RT.WEB_SETTINGS, RT.CUSTOM_XML, RT.EXTENDED_PROPERTIES, RT.THUMBNAIL}
_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "both": WD_ALIGN_PARAGRAPH.JUSTIFY,
}


def _el(tag: str, **attrs: str) -> etree._Element:
    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), value)
    return element


def _all_fonts(rpr: etree._Element) -> None:
    """Times New Roman in all four slots, so no application falls back for Vietnamese."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = _el("w:rFonts")
        rpr.insert(0, fonts)
    fonts.attrib.clear()
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{slot}"), FONT)


def _strip_rsids(element: etree._Element) -> None:
    for node in list(element.iter()):
        for name in [a for a in node.attrib if etree.QName(a).localname.startswith("rsid")]:
            del node.attrib[name]
    for tag in ("w:rsids", "w:rsid"):
        for node in list(element.iter(qn(tag))):
            node.getparent().remove(node)


def _drop_extra_parts(doc: Document) -> None:
    """Theme, web settings, custom XML, thumbnail, app properties and the 440 kB
    stylesWithEffects of python-docx's default template: none is needed by a document."""
    for rels in (doc.part.rels, doc.part.package.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype in _DROP_RELS or rel.reltype == _STYLES_WITH_EFFECTS:
                rels.pop(rid)


def _reset_styles(doc: Document, profile: Profile) -> None:
    styles = doc.styles.element
    for child in list(styles):
        if child.tag == qn("w:latentStyles") or (
            child.tag == qn("w:style") and child.get(qn("w:styleId")) not in _KEEP_STYLES
        ):
            styles.remove(child)
    defaults = styles.find(qn("w:docDefaults"))
    styles.remove(defaults)
    rpr = _el("w:rPr")
    _all_fonts(rpr)
    half_points = str(round(profile.body_size * 2))
    rpr.append(_el("w:sz", val=half_points))
    rpr.append(_el("w:szCs", val=half_points))
    rpr.append(_el("w:lang", val="vi-VN", eastAsia="en-US", bidi="ar-SA"))
    ppr = _el("w:pPr")
    ppr.append(_el("w:spacing", before="0", after="0", line="240", lineRule="auto"))
    rpr_default, ppr_default = _el("w:rPrDefault"), _el("w:pPrDefault")
    rpr_default.append(rpr)
    ppr_default.append(ppr)
    defaults = _el("w:docDefaults")
    defaults.extend([rpr_default, ppr_default])
    styles.insert(0, defaults)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(profile.body_size)
    _all_fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0


def _add_paragraph_style(doc: Document, spec: ParagraphStyle) -> None:
    style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH)
    style.style_id = spec.style_id
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    font = style.font
    font.size = Pt(spec.size)
    font.bold = spec.bold or None
    font.italic = spec.italic or None
    font.underline = spec.underline or None
    _all_fonts(style.element.get_or_add_rPr())
    fmt = style.paragraph_format
    fmt.alignment = _ALIGN[spec.align]
    fmt.space_before = Pt(spec.before_pt)
    fmt.space_after = Pt(spec.after_pt)
    if spec.exact_pt is not None:
        fmt.line_spacing = Pt(spec.exact_pt)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    elif spec.line is not None:
        fmt.line_spacing = spec.line
    if spec.first_line_mm:
        fmt.first_line_indent = Twips(mm(spec.first_line_mm))
    if spec.left_mm:
        fmt.left_indent = Twips(mm(spec.left_mm))
    if spec.right_mm:
        fmt.right_indent = Twips(mm(spec.right_mm))
    fmt.keep_with_next = spec.keep_next or None
    fmt.keep_together = spec.keep_lines or None
    fmt.page_break_before = spec.page_break_before or None
    ppr = style.element.get_or_add_pPr()
    if spec.numbered:
        numpr = _el("w:numPr")
        numpr.append(_el("w:ilvl", val="0"))
        numpr.append(_el("w:numId", val="1"))
        ppr.insert_element_before(numpr, "w:pBdr", "w:spacing", "w:ind", "w:jc")
    if spec.rule_top:
        border = _el("w:pBdr")
        border.append(_el("w:top", val="single", sz="6", space="1", color="000000"))
        ppr.insert_element_before(border, "w:spacing", "w:ind", "w:jc")


def _add_character_styles(doc: Document) -> None:
    for spec in CHARACTER_STYLES:
        style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.CHARACTER)
        style.style_id = spec.style_id
        style.font.bold = spec.bold or None
        style.font.italic = spec.italic or None


def _add_table_styles(doc: Document) -> None:
    sides = ("top", "left", "bottom", "right", "insideH", "insideV")
    for spec in TABLE_STYLES:
        style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.TABLE)
        style.style_id = spec.style_id
        style.base_style = doc.styles["Normal Table"]
        tblpr = _el("w:tblPr")
        borders = _el("w:tblBorders")
        for side in sides:
            if spec.borders:
                borders.append(_el(f"w:{side}", val="single", sz="4", space="0", color="000000"))
            else:
                borders.append(_el(f"w:{side}", val="nil"))
        tblpr.append(borders)
        margins = _el("w:tblCellMar")
        side_margin = str(mm(spec.cell_margin_mm))
        for side, width in (("top", "0"), ("left", side_margin), ("bottom", "0")):
            margins.append(_el(f"w:{side}", w=width, type="dxa"))
        margins.append(_el("w:right", w=side_margin, type="dxa"))
        tblpr.append(margins)
        style.element.append(tblpr)


def _numbering(doc: Document, profile: Profile) -> None:
    """One decimal list ("1. ", first-line indent as the body) and LIST_COUNT instances of it,
    each starting again at 1."""
    numbering = doc.part.numbering_part.element
    for child in list(numbering):
        numbering.remove(child)
    abstract = _el("w:abstractNum", abstractNumId="0")
    abstract.append(_el("w:multiLevelType", val="singleLevel"))
    level = _el("w:lvl", ilvl="0")
    level.append(_el("w:start", val="1"))
    level.append(_el("w:numFmt", val="decimal"))
    level.append(_el("w:suff", val="space"))
    level.append(_el("w:lvlText", val="%1."))
    level.append(_el("w:lvlJc", val="left"))
    ppr = _el("w:pPr")
    ppr.append(_el("w:ind", left="0", firstLine=str(mm(profile.first_line_indent_mm))))
    level.append(ppr)
    abstract.append(level)
    numbering.append(abstract)
    for num_id in range(1, LIST_COUNT + 1):
        num = _el("w:num", numId=str(num_id))
        num.append(_el("w:abstractNumId", val="0"))
        override = _el("w:lvlOverride", ilvl="0")
        override.append(_el("w:startOverride", val="1"))
        num.append(override)
        numbering.append(num)


def _settings(doc: Document) -> None:
    settings = doc.settings.element
    for tag in ("w:proofState", "w:savePreviewPicture", "w:attachedTemplate"):
        for node in settings.findall(qn(tag)):
            settings.remove(node)
    for node in settings.findall(qn("w14:docId")):
        settings.remove(node)
    for node in settings.findall(qn("w:themeFontLang")):
        node.attrib.clear()
        node.set(qn("w:val"), "vi-VN")


def _section(doc: Document, profile: Profile) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Twips(A4_TWIPS[0]), Twips(A4_TWIPS[1])
    top, bottom, left, right = margins_twips(profile)
    section.top_margin, section.bottom_margin = Twips(top), Twips(bottom)
    section.left_margin, section.right_margin = Twips(left), Twips(right)
    section.header_distance = Mm(profile.header_distance_mm)
    section.footer_distance = Mm(profile.footer_distance_mm)
    section.gutter = Twips(0)
    # Page numbers from page 2: page 1 has its own, empty, header.
    section.different_first_page_header_footer = True
    header = section.header
    header.is_linked_to_previous = False
    number = header.paragraphs[0]
    number.style = doc.styles[_name(doc, S.PAGE_NUMBER)]
    field = _el("w:fldSimple", instr=" PAGE ")
    run = _el("w:r")
    text = _el("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    number._p.append(field)
    first = section.first_page_header
    first.is_linked_to_previous = False
    first.paragraphs[0].style = doc.styles[_name(doc, S.PAGE_NUMBER)]
    sect_pr = section._sectPr
    pg_num = _el("w:pgNumType", start="1")
    sect_pr.insert_element_before(pg_num, "w:cols", "w:titlePg", "w:docGrid")


def _name(doc: Document, style_id: str) -> str:
    for style in doc.styles:
        if style.style_id == style_id:
            return str(style.name)
    raise KeyError(style_id)


def build(profile: Profile) -> bytes:
    """The template of ``profile`` as deterministic DOCX bytes."""
    doc = docx.Document()
    _drop_extra_parts(doc)
    _reset_styles(doc, profile)
    for spec in paragraph_styles(profile):
        _add_paragraph_style(doc, spec)
    _add_character_styles(doc)
    _add_table_styles(doc)
    _numbering(doc, profile)
    _settings(doc)
    _section(doc, profile)
    props = doc.core_properties
    props.author = props.last_modified_by = "thidua"
    props.title = f"Mẫu văn bản thidua: {profile.label}"
    props.language = "vi-VN"
    props.revision = 1
    stamp = dt.datetime.combine(TEMPLATE_DATE, dt.time())
    props.created = props.modified = stamp
    for part in doc.part.package.iter_parts():
        element = getattr(part, "_element", None)
        if element is not None:
            _strip_rsids(element)
    return package_bytes(doc)


def main(argv: list[str] | None = None) -> int:
    keys = argv if argv else sorted(PROFILES)
    for key in keys:
        path: Path = template_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build(PROFILES[key]))
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
