"""The named styles of the templates, as data: one set per profile, same ids in both.

``build_template`` turns these into Word styles; the renderer only names them (``S.BODY``),
so sizes, spacing and fonts live here and in :mod:`documents.profiles`, not in the renderer.
Style ids are ASCII; display names are what a clerk sees in Word's style pane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from documents.profiles import Profile

FONT = "Times New Roman"
SIGNATURE_SPACE_MM = 20  # room for a handwritten signature and the seal
GRID_AUTHORITY_SIZE = 13  # a two-column grid cell fits "T/M VĂN PHÒNG …" at 13 pt
LIST_COUNT = 24  # numbering instances in a template: each list of a document restarts at 1


class S:
    """Style ids used by the renderer."""

    SUPERIOR = "TDSuperior"
    ISSUER = "TDIssuer"
    ISSUER_MARK = "TDIssuerMark"
    NATIONAL = "TDNational"
    MOTTO = "TDMotto"
    RULE = "TDRule"
    SUMMARY_RULE = "TDSummaryRule"
    NUMBER = "TDNumber"
    PLACE_DATE = "TDPlaceDate"
    DOC_TYPE = "TDDocType"
    SUMMARY = "TDSummary"
    ADDRESSEE = "TDAddressee"
    LEGAL_BASIS = "TDLegalBasis"
    BODY = "TDBody"
    HEADING = "TDHeading"
    NUMBERED = "TDNumbered"
    CAPTION = "TDCaption"
    ANNEX_TITLE = "TDAnnexTitle"
    ANNEX_SUBTITLE = "TDAnnexSubtitle"
    ANNEX_NOTE = "TDAnnexNote"
    NOTE = "TDNote"
    TABLE_HEAD = "TDTableHead"
    TABLE_TEXT = "TDTableText"
    TABLE_NUMBER = "TDTableNumber"
    SIGNATURE = "TDSignature"
    SIGNATURE_NAME = "TDSignatureName"
    GRID_SIGNATURE = "TDGridSignature"
    GRID_SIGNATURE_NAME = "TDGridSignatureName"
    RECIPIENTS_LABEL = "TDRecipientsLabel"
    RECIPIENTS = "TDRecipients"
    PAGE_NUMBER = "TDPageNumber"
    FOOTER = "TDFooter"
    SPACER = "TDSpacer"
    PAGE_BREAK = "TDPageBreak"
    # character styles
    STRONG = "TDStrong"
    URL = "TDUrl"
    # table styles
    LAYOUT = "TDLayout"
    SIGNATURE_GRID = "TDSignatureGrid"
    DATA_TABLE = "TDDataTable"


@dataclass(frozen=True)
class ParagraphStyle:
    style_id: str
    name: str
    size: float
    bold: bool = False
    italic: bool = False
    underline: bool = False
    align: str = "left"  # left, center, right, both
    before_pt: float = 0
    after_pt: float = 0
    line: float | None = None  # multiple of single spacing
    exact_pt: float | None = None  # exact line height
    first_line_mm: float = 0
    left_mm: float = 0
    right_mm: float = 0
    keep_next: bool = False
    keep_lines: bool = False
    page_break_before: bool = False
    rule_top: bool = False
    numbered: bool = False


@dataclass(frozen=True)
class CharacterStyle:
    style_id: str
    name: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class TableStyle:
    style_id: str
    name: str
    borders: bool
    cell_margin_mm: float


def _body(p: Profile, style_id: str, name: str, **extra: Any) -> ParagraphStyle:
    """A justified body paragraph with the profile's indent, spacing and line height."""
    return ParagraphStyle(
        style_id,
        name,
        p.body_size,
        align="both",
        first_line_mm=p.first_line_indent_mm,
        after_pt=extra.pop("after_pt", p.paragraph_after_pt),
        line=p.line_spacing,
        **extra,
    )


def _cell(p: Profile, style_id: str, name: str, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(style_id, name, p.table_size, before_pt=2, after_pt=2, **extra)


def paragraph_styles(p: Profile) -> tuple[ParagraphStyle, ...]:
    """Every paragraph style of ``p``'s template."""
    motto = p.national[1] if len(p.national) > 1 else p.national[0]
    grid = min(p.authority_size, GRID_AUTHORITY_SIZE)
    return (
        ParagraphStyle(S.SUPERIOR, "TĐ Cơ quan cấp trên", p.superior_size, align="center"),
        ParagraphStyle(S.ISSUER, "TĐ Cơ quan ban hành", p.issuer_size, bold=True, align="center"),
        ParagraphStyle(S.ISSUER_MARK, "TĐ Dấu sao", p.issuer_size, align="center"),
        ParagraphStyle(
            S.NATIONAL, "TĐ Tiêu đề", p.national[0].size, bold=p.national[0].bold, align="center"
        ),
        ParagraphStyle(S.MOTTO, "TĐ Tiêu ngữ", motto.size, bold=motto.bold, align="center"),
        ParagraphStyle(
            S.RULE, "TĐ Đường kẻ", 1, align="center", exact_pt=2, before_pt=3, rule_top=True
        ),
        # Under the summary: a short centred rule, clear of the text (not an underline).
        ParagraphStyle(
            S.SUMMARY_RULE,
            "TĐ Đường kẻ dưới trích yếu",
            1,
            align="center",
            exact_pt=2,
            before_pt=6,
            after_pt=12,
            rule_top=True,
        ),
        ParagraphStyle(S.NUMBER, "TĐ Số, ký hiệu", p.number_size, align="center", before_pt=3),
        ParagraphStyle(
            S.PLACE_DATE,
            "TĐ Địa danh, ngày tháng",
            p.place_date_size,
            italic=True,
            align="center",
            before_pt=3,
        ),
        ParagraphStyle(
            S.DOC_TYPE,
            "TĐ Tên loại văn bản",
            p.doc_type_size,
            bold=True,
            align="center",
            before_pt=18,
            keep_next=True,
        ),
        ParagraphStyle(
            S.SUMMARY,
            "TĐ Trích yếu",
            p.summary_size,
            bold=True,
            align="center",
            left_mm=8,
            right_mm=8,
            keep_next=True,
        ),
        ParagraphStyle(
            S.ADDRESSEE,
            "TĐ Kính gửi",
            p.body_size,
            align="center",
            after_pt=12,
            left_mm=10,
            right_mm=10,
        ),
        _body(p, S.LEGAL_BASIS, "TĐ Căn cứ", italic=True),
        _body(p, S.BODY, "TĐ Nội dung"),
        _body(p, S.HEADING, "TĐ Đề mục", bold=True, keep_next=True, before_pt=6),
        _body(p, S.NUMBERED, "TĐ Danh sách số", numbered=True),
        ParagraphStyle(
            S.CAPTION,
            "TĐ Tiêu đề ký",
            p.body_size,
            bold=True,
            align="center",
            before_pt=12,
            after_pt=12,
            keep_next=True,
        ),
        ParagraphStyle(S.ANNEX_TITLE, "TĐ Tên phụ lục", p.doc_type_size, bold=True, align="center"),
        ParagraphStyle(
            S.ANNEX_SUBTITLE, "TĐ Tiêu đề phụ lục", p.summary_size, bold=True, align="center"
        ),
        ParagraphStyle(
            S.ANNEX_NOTE, "TĐ Ghi chú phụ lục", p.body_size, italic=True, align="center"
        ),
        ParagraphStyle(S.NOTE, "TĐ Ghi chú", p.body_size, italic=True, before_pt=6),
        _cell(p, S.TABLE_HEAD, "TĐ Bảng - đầu cột", bold=True, align="center"),
        _cell(p, S.TABLE_TEXT, "TĐ Bảng - chữ"),
        _cell(p, S.TABLE_NUMBER, "TĐ Bảng - số", align="center"),
        ParagraphStyle(
            S.SIGNATURE,
            "TĐ Chức vụ ký",
            p.authority_size,
            bold=True,
            align="center",
            keep_next=True,
        ),
        ParagraphStyle(
            S.SIGNATURE_NAME,
            "TĐ Họ tên người ký",
            p.authority_size,
            bold=True,
            align="center",
            before_pt=SIGNATURE_SPACE_MM * 72 / 25.4,
            after_pt=5 * 72 / 25.4,
        ),
        ParagraphStyle(
            S.GRID_SIGNATURE,
            "TĐ Lưới ký - chức vụ",
            grid,
            bold=True,
            align="center",
            keep_next=True,
        ),
        ParagraphStyle(
            S.GRID_SIGNATURE_NAME,
            "TĐ Lưới ký - họ tên",
            grid,
            bold=True,
            align="center",
            before_pt=SIGNATURE_SPACE_MM * 72 / 25.4,
            after_pt=5 * 72 / 25.4,
        ),
        ParagraphStyle(
            S.RECIPIENTS_LABEL,
            "TĐ Nơi nhận",
            p.recipients_label_size,
            bold=p.recipients_label_bold,
            italic=p.recipients_label_italic,
            underline=p.recipients_label_underline,
            keep_next=True,
        ),
        ParagraphStyle(S.RECIPIENTS, "TĐ Nơi nhận - mục", p.recipients_size),
        ParagraphStyle(S.PAGE_NUMBER, "TĐ Số trang", p.page_number_size, align="center"),
        ParagraphStyle(S.FOOTER, "TĐ Chân trang", p.footer_size, align="center"),
        ParagraphStyle(S.SPACER, "TĐ Khoảng cách", 3, exact_pt=6),
        ParagraphStyle(S.PAGE_BREAK, "TĐ Sang trang", 1, exact_pt=1, page_break_before=True),
    )


CHARACTER_STYLES = (
    CharacterStyle(S.STRONG, "TĐ Chữ đậm", bold=True),
    CharacterStyle(S.URL, "TĐ Địa chỉ", italic=True),
)

TABLE_STYLES = (
    TableStyle(S.LAYOUT, "TĐ Bảng bố cục", borders=False, cell_margin_mm=0),
    TableStyle(S.SIGNATURE_GRID, "TĐ Lưới chữ ký", borders=False, cell_margin_mm=1),
    TableStyle(S.DATA_TABLE, "TĐ Bảng tiêu chí, số liệu", borders=True, cell_margin_mm=1),
)
