"""The committed templates are what documents.build_template builds, and hold every style."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Pt

from documents import build_template
from documents.docxio import template_path
from documents.profiles import PARTY, PROFILES, STATE
from documents.styles import CHARACTER_STYLES, TABLE_STYLES, S, paragraph_styles

FONTS = {"ascii", "hAnsi", "eastAsia", "cs"}


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_committed_template_is_what_the_script_builds(key):
    assert template_path(key).read_bytes() == build_template.build(PROFILES[key]), (
        "regenerate with: python -m documents.build_template"
    )


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_template_defines_every_style_with_an_ascii_id(key):
    doc = docx.Document(str(template_path(key)))
    by_id = {s.style_id: s for s in doc.styles}
    expected = {
        **{p.style_id: WD_STYLE_TYPE.PARAGRAPH for p in paragraph_styles(PROFILES[key])},
        **{c.style_id: WD_STYLE_TYPE.CHARACTER for c in CHARACTER_STYLES},
        **{t.style_id: WD_STYLE_TYPE.TABLE for t in TABLE_STYLES},
    }
    assert len(expected) >= 35
    for style_id, kind in expected.items():
        assert style_id.isascii()
        assert by_id[style_id].type == kind, style_id
    for spec in paragraph_styles(PROFILES[key]):
        rpr = by_id[spec.style_id].element.find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        assert {slot for slot in FONTS if fonts.get(qn(f"w:{slot}")) == "Times New Roman"} == (
            FONTS
        ), spec.style_id
        assert by_id[spec.style_id].font.size == Pt(spec.size)


def test_profiles_differ_in_their_styles():
    party = docx.Document(str(template_path("party")))
    state = docx.Document(str(template_path("state")))
    assert party.styles["TĐ Tiêu đề"].font.size == Pt(15)  # ĐẢNG CỘNG SẢN VIỆT NAM
    assert state.styles["TĐ Tiêu đề"].font.size == Pt(12)  # CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
    assert party.styles["TĐ Nơi nhận"].font.underline
    assert state.styles["TĐ Nơi nhận"].font.bold
    assert state.styles["TĐ Nơi nhận"].font.italic
    assert PARTY.first_line_indent_mm != STATE.first_line_indent_mm


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_template_has_page_setup_and_page_number_from_page_two(key):
    doc = docx.Document(str(template_path(key)))
    section = doc.sections[0]
    assert section.different_first_page_header_footer
    fields = section.header._element.findall(".//" + qn("w:fldSimple"))
    assert [f.get(qn("w:instr")).strip() for f in fields] == ["PAGE"]
    assert section.header.paragraphs[0].style.style_id == S.PAGE_NUMBER
    assert section.first_page_header.paragraphs[0].text == ""
    with zipfile.ZipFile(io.BytesIO(template_path(key).read_bytes())) as archive:
        names = archive.namelist()
        xml = b"".join(archive.read(n) for n in names)
    # Nothing of python-docx's default template a document does not need, and no rsids.
    assert not [n for n in names if "theme" in n or "customXml" in n or "thumbnail" in n]
    assert "word/stylesWithEffects.xml" not in names
    assert b"rsid" not in xml


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_every_style_the_renderer_names_is_in_the_template(key):
    doc = docx.Document(str(template_path(key)))
    ids = {s.style_id for s in doc.styles}
    named = {v for k, v in vars(S).items() if k.isupper()}
    assert len(named) >= 35
    assert named <= ids, named - ids
