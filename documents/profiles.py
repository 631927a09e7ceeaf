"""Formatting profiles: the Party format (Hướng dẫn 36-HD/VPTW) and the State format (Nghị định
30/2020/NĐ-CP), as data. Sizes are points, lengths millimetres; see docs/domain.md §3.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HeaderLine:
    """One line of the header's right column and whether a rule is drawn under it."""

    text: str
    size: float
    bold: bool = True
    rule_after: bool = False


@dataclass(frozen=True)
class Profile:
    key: str
    label: str
    margins_mm: tuple[float, float, float, float]  # top, bottom, left, right
    header_distance_mm: float  # page number sits in the top margin
    footer_distance_mm: float
    header_left_mm: float  # width of the header's left column
    national: tuple[HeaderLine, ...]  # right column above the place/date
    number_prefix: str  # "Số " (Party) or "Số: " (State)
    number_joiner: str  # "05-GU/CTĐ4" or "15/TTr-BTĐKT"
    symbol_joiner: str  # inside the symbol: "GU/CTĐ4" (Party) or "GU-CTĐ4" (State)
    about: str  # how a summary opens: "về việc …" (Party, lower case) or "Về việc …" (State)
    archive: str  # the last recipient: "Lưu Văn phòng …" (Party) or "Lưu: VT, …" (State)
    star_under_issuer: bool  # Party: "*" under the issuing body
    rule_under_issuer: bool  # State: short rule under the body
    authority_spelling: dict[str, str] = field(default_factory=dict)
    superior_size: float = 14
    issuer_size: float = 14
    number_size: float = 14
    place_date_size: float = 14
    doc_type_size: float = 16
    summary_size: float = 14
    body_size: float = 14
    table_size: float = 13
    recipients_label_size: float = 14
    recipients_label_underline: bool = True
    recipients_label_bold: bool = False
    recipients_label_italic: bool = False
    recipients_size: float = 12
    authority_size: float = 14
    page_number_size: float = 13
    footer_size: float = 9
    first_line_indent_mm: float = 10
    summary_rule_ratio: float = 0.4  # rule under the summary: 1/3 to 1/2 of its length
    line_spacing: float = 1.15  # multiple of single
    paragraph_after_pt: float = 6

    def authority(self, prefix: str) -> str:
        return self.authority_spelling.get(prefix, prefix)

    def number_line(self, number: int | None, symbol: str) -> str:
        # Numbers below 10 are written with two digits (01…09); an unnumbered draft leaves a
        # gap for the records clerk, as a typed document would.
        digits = f"{number:02d}" if number is not None else "\u00a0" * 6
        return f"{self.number_prefix}{digits}{self.number_joiner}{self.symbol(symbol)}"

    def summary(self, text: str) -> str:
        """A summary opening "về việc" in the profile's case; any other summary as typed
        (it may start with a name, which keeps its capital)."""
        if text[: len(self.about)].casefold() == self.about.casefold():
            return self.about + text[len(self.about) :]
        return text

    def archive_line(self, recipient: str) -> str:
        """The filing line "Lưu …" written the profile's way: "Lưu Văn phòng Huyện ủy"
        (Party) or "Lưu: VT, Văn phòng Huyện ủy" (State); other recipients as typed."""
        if not recipient.startswith("Lưu"):
            return recipient
        rest = recipient.removeprefix("Lưu").lstrip(" :")
        if rest == "VT" or rest.startswith("VT,"):
            rest = rest[2:].lstrip(" ,")
        return f"{self.archive}{rest}".rstrip(" ,:") if rest else self.archive.rstrip(" ,:")

    def symbol(self, symbol: str) -> str:
        """The symbol as the profile writes it: content keeps the Party form "GU/CTĐ4";
        Decree 30 joins its parts with a hyphen, "GU-CTĐ4"."""
        return symbol.replace("/", self.symbol_joiner)


PARTY = Profile(
    key="party",
    label="Hướng dẫn 36-HD/VPTW (văn bản của Đảng)",
    margins_mm=(20, 20, 30, 15),
    header_distance_mm=10,
    footer_distance_mm=8,
    header_left_mm=75,
    national=(HeaderLine("ĐẢNG CỘNG SẢN VIỆT NAM", 15, bold=True, rule_after=True),),
    number_prefix="Số ",
    number_joiner="-",
    symbol_joiner="/",
    about="về việc",
    archive="Lưu ",
    star_under_issuer=True,
    rule_under_issuer=False,
)

STATE = Profile(
    key="state",
    label="Nghị định 30/2020/NĐ-CP (văn bản hành chính)",
    margins_mm=(20, 20, 30, 15),
    header_distance_mm=10,
    footer_distance_mm=8,
    header_left_mm=68,
    national=(
        HeaderLine("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True),
        HeaderLine("Độc lập - Tự do - Hạnh phúc", 13, bold=True, rule_after=True),
    ),
    number_prefix="Số: ",
    number_joiner="/",
    symbol_joiner="-",
    about="Về việc",
    archive="Lưu: VT, ",
    star_under_issuer=False,
    rule_under_issuer=True,
    authority_spelling={"T/M": "TM.", "K/T": "KT.", "T/L": "TL.", "T/U": "TUQ.", "Q.": "Q."},
    superior_size=12,
    issuer_size=12,
    number_size=13,
    place_date_size=14,
    doc_type_size=14,
    summary_size=14,
    recipients_label_size=12,
    recipients_label_underline=False,
    recipients_label_bold=True,
    recipients_label_italic=True,
    recipients_size=11,
    first_line_indent_mm=12.7,
)

PROFILES: dict[str, Profile] = {PARTY.key: PARTY, STATE.key: STATE}
