"""Legal bases (căn cứ) as data: the law in force changed on 01/01/2024, so a 2018 pledge and a
2024 pledge cite different texts. Each entry is printed italic, one per line; the renderer adds
the ";" / "." endings.
"""

from __future__ import annotations

LEGAL_BASES_2018: tuple[str, ...] = (
    "Căn cứ Luật Thi đua, khen thưởng ngày 26 tháng 11 năm 2003; Luật sửa đổi, bổ sung một số "
    "điều của Luật Thi đua, khen thưởng ngày 14 tháng 6 năm 2005 và ngày 16 tháng 11 năm 2013",
    "Căn cứ Nghị định số 91/2017/NĐ-CP ngày 31 tháng 7 năm 2017 của Chính phủ quy định chi tiết "
    "thi hành một số điều của Luật Thi đua, khen thưởng",
    "Căn cứ Chỉ thị số 34-CT/TW ngày 07 tháng 4 năm 2014 của Bộ Chính trị về tiếp tục đổi mới "
    "công tác thi đua, khen thưởng",
    "Căn cứ Chỉ thị số 05-CT/TW ngày 15 tháng 5 năm 2016 của Bộ Chính trị về đẩy mạnh học tập và "
    "làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
)

LEGAL_BASES_2024: tuple[str, ...] = (
    "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022",
    "Căn cứ Nghị định số 98/2023/NĐ-CP ngày 31 tháng 12 năm 2023 của Chính phủ quy định chi "
    "tiết thi hành một số điều của Luật Thi đua, khen thưởng",
    "Căn cứ Chỉ thị số 34-CT/TW ngày 07 tháng 4 năm 2014 của Bộ Chính trị về tiếp tục đổi mới "
    "công tác thi đua, khen thưởng",
    "Căn cứ Chỉ thị số 05-CT/TW ngày 15 tháng 5 năm 2016 của Bộ Chính trị về đẩy mạnh học tập và "
    "làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
)


def legal_bases_for(year: int) -> tuple[str, ...]:
    """The national legal bases in force for an emulation year (Law 06/2022/QH15 from 2024)."""
    return LEGAL_BASES_2024 if year >= 2024 else LEGAL_BASES_2018
