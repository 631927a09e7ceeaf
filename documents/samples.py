"""Sample documents of the Hanoi 2018 demo cluster (docs/domain.md §6.2, seed article).

The cluster, its number and every personal name are fictitious; the contents follow the
31/03/2018 conference of the district party-committee offices held in Mỹ Đức.
"""

from __future__ import annotations

import datetime as dt

from documents.content import (
    AchievementReport,
    CommitteeMember,
    Criterion,
    Issuer,
    Meeting,
    MemberUnit,
    NominationContent,
    Nominee,
    PledgeContent,
    Representative,
    ScoringSheet,
    Submission,
    Votes,
)
from documents.legal import legal_bases_for

CLUSTER_NAME = "Cụm thi đua số 4 – Văn phòng các huyện ủy, thị ủy khu vực phía Nam và phía Tây"
ISSUER = Issuer(name="Cụm thi đua số 4", superior_body="Thành ủy Hà Nội")

MEMBER_UNITS: tuple[MemberUnit, ...] = (
    MemberUnit("VPHU-MD", "Văn phòng Huyện ủy Mỹ Đức", "Chánh Văn phòng", "Nguyễn Văn Hùng"),
    MemberUnit("VPHU-UH", "Văn phòng Huyện ủy Ứng Hòa", "Chánh Văn phòng", "Trần Thị Thu Hà"),
    MemberUnit("VPHU-PX", "Văn phòng Huyện ủy Phú Xuyên", "Chánh Văn phòng", "Lê Minh Tuấn"),
    MemberUnit("VPHU-TT", "Văn phòng Huyện ủy Thường Tín", "Chánh Văn phòng", "Phạm Văn Long"),
    MemberUnit("VPHU-TO", "Văn phòng Huyện ủy Thanh Oai", "Chánh Văn phòng", "Đỗ Thị Hồng Nhung"),
    MemberUnit("VPHU-CM", "Văn phòng Huyện ủy Chương Mỹ", "Chánh Văn phòng", "Hoàng Văn Thắng"),
    MemberUnit("VPHU-QO", "Văn phòng Huyện ủy Quốc Oai", "Chánh Văn phòng", "Vũ Đức Mạnh"),
    MemberUnit("VPTU-ST", "Văn phòng Thị ủy Sơn Tây", "Chánh Văn phòng", "Bùi Thị Lan Anh"),
)

# The 100-point sheet with up to 10 bonus points of docs/domain.md §6.3.
SCORING_SHEET = ScoringSheet(
    items=(
        Criterion(
            "Công tác tham mưu, giúp việc Ban Thường vụ: xây dựng chương trình công tác; "
            "ban hành kết luận, thông báo kịp thời; thể thức văn bản đúng Hướng dẫn số "
            "36-HD/VPTW",
            20,
        ),
        Criterion(
            "Công tác tổng hợp, báo cáo: báo cáo định kỳ đúng hạn, chính xác; theo dõi, "
            "đôn đốc việc thực hiện nghị quyết",
            15,
        ),
        Criterion(
            "Công tác văn thư, lưu trữ: đăng ký, quản lý văn bản bảo đảm an toàn, bí mật; "
            "gửi, nhận văn bản điện tử; sử dụng chữ ký số",
            10,
        ),
        Criterion(
            "Cải cách hành chính và ứng dụng công nghệ thông tin: sử dụng hiệu quả phần "
            "mềm quản lý văn bản và điều hành; từ 90% văn bản trở lên được gửi dưới dạng "
            "điện tử",
            10,
        ),
        Criterion("Phối hợp tiếp công dân, giải quyết đơn thư khiếu nại, tố cáo", 5),
        Criterion(
            "Quản lý tài chính, tài sản; thực hành tiết kiệm, chống lãng phí trong các cơ "
            "quan Đảng",
            10,
        ),
        Criterion("Công tác hậu cần, phục vụ các hội nghị, cuộc họp của cấp ủy", 5),
        Criterion(
            "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh (Chỉ thị số "
            "05-CT/TW); xây dựng, nhân rộng mô hình “người tốt, việc tốt”",
            10,
        ),
        Criterion(
            "Tham gia hoạt động của Cụm: dự đầy đủ hội nghị, sơ kết, tổng kết; báo cáo, tự "
            "chấm điểm đúng hạn; tổ chức kỷ niệm ngày truyền thống văn phòng cấp ủy (18/10) "
            "và các ngày lễ lớn",
            10,
        ),
        Criterion(
            "Chi bộ, các đoàn thể đạt “hoàn thành tốt nhiệm vụ” trở lên; không có cán bộ, "
            "công chức vi phạm kỷ luật",
            5,
        ),
    ),
    total=100,
    bonus=(
        Criterion("Có sáng kiến, cách làm mới được cấp có thẩm quyền công nhận", 3),
        Criterion("Được tặng Cờ thi đua của Thành phố hoặc của Chính phủ trong năm", 5),
        Criterion("Có mô hình, điển hình tiên tiến được nhân rộng", 2),
    ),
    bonus_cap=10,
)


def _implementation(year: int, head: str, deputy: str) -> tuple[str, ...]:
    names = {u.code: u.name for u in MEMBER_UNITS}
    return (
        f"Đơn vị Cụm trưởng ({names[head]}) chủ trì, phối hợp với đơn vị Cụm phó "
        f"({names[deputy]}) theo dõi, đôn đốc các đơn vị thực hiện Giao ước; tổng hợp kết quả, "
        "báo cáo Văn phòng Thành ủy Hà Nội.",
        f"Sơ kết 6 tháng trong tháng 7/{year}: các đơn vị gửi báo cáo và bảng tự chấm điểm về "
        f"đơn vị Cụm trưởng trước ngày 15/6/{year}; Cụm họp sơ kết, rút kinh nghiệm.",
        f"Tổng kết năm trong tháng 12/{year}: các đơn vị gửi báo cáo tổng kết và bảng tự chấm "
        f"điểm trước ngày 30/11/{year}; Cụm tổ chức chấm điểm chéo, hội nghị bình xét, suy tôn "
        "đơn vị dẫn đầu và bầu Cụm trưởng, Cụm phó năm sau.",
    )


def _pledge(
    year: int, *, number: int, day: dt.date, place: str, head: str, deputy: str
) -> PledgeContent:
    return PledgeContent(
        cluster_name=CLUSTER_NAME,
        year=year,
        issuer=ISSUER,
        number=number,
        symbol="GU/CTĐ4",
        place=place,
        date=day,
        summary=CLUSTER_NAME,
        legal_bases=(
            *legal_bases_for(year),
            "Căn cứ Quy chế hoạt động của Cụm thi đua số 4 đã được các đơn vị thành viên thống "
            "nhất thông qua",
        ),
        preamble=(
            f"Thực hiện kế hoạch công tác thi đua, khen thưởng năm {year} của Văn phòng Thành ủy "
            "Hà Nội; nhằm bám sát chức năng, nhiệm vụ của văn phòng cấp ủy, phấn đấu hoàn thành "
            "xuất sắc các nhiệm vụ chính trị, trọng tâm, các chủ đề hành động của Thành ủy, "
            f"Thành phố năm {year}, các đơn vị thành viên Cụm thi đua số 4 thống nhất ký kết "
            f"giao ước thi đua năm {year} với các nội dung sau:",
        ),
        contents=(
            "Tổ chức các phong trào thi đua bám sát chức năng, nhiệm vụ của văn phòng cấp ủy; "
            "thực hiện tốt các nhiệm vụ chính trị, trọng tâm, các chủ đề hành động của Thành ủy, "
            f"Thành phố năm {year}; góp phần nâng cao hiệu lực, hiệu quả hoạt động của hệ thống "
            "chính trị.",
            "Gắn phong trào thi đua với việc đẩy mạnh học tập và làm theo tư tưởng, đạo đức, "
            "phong cách Hồ Chí Minh theo tinh thần Chỉ thị số 05-CT/TW của Bộ Chính trị.",
            "Đẩy mạnh các hoạt động, phong trào thi đua lập thành tích chào mừng các ngày lễ lớn, "
            "ngày kỷ niệm lớn của Thủ đô, đất nước trong năm và ngày truyền thống văn phòng cấp "
            "ủy (18/10).",
            "Làm tốt công tác tuyên truyền; đổi mới, nâng cao chất lượng công tác thi đua, khen "
            "thưởng; kịp thời tôn vinh, biểu dương, khen thưởng những tập thể, cá nhân có thành "
            "tích xuất sắc, bảo đảm chính xác, công bằng, có tác dụng động viên, nêu gương; phát "
            "hiện, giới thiệu và nhân rộng các điển hình tiên tiến, gương “người tốt, việc tốt”, "
            "những bông hoa đẹp.",
            "Tiếp tục tổ chức nghiên cứu, học tập, quán triệt, triển khai các nghị quyết của Đảng "
            "khóa XII và nghị quyết đại hội Đảng bộ các cấp.",
            "Tiếp tục tiêu chuẩn hóa các chức danh; sắp xếp, kiện toàn, nâng cao chất lượng đội "
            "ngũ cán bộ, công chức; làm tốt công tác đào tạo, bồi dưỡng để nâng cao trình độ "
            "chuyên môn, lý luận chính trị, kỹ năng công tác, đáp ứng yêu cầu nhiệm vụ trong tình "
            "hình mới.",
        ),
        targets=(
            "100% đơn vị thành viên hoàn thành tốt nhiệm vụ trở lên, trong đó ít nhất 50% đơn vị "
            "hoàn thành xuất sắc nhiệm vụ.",
            "100% chi bộ văn phòng đạt “hoàn thành tốt nhiệm vụ” trở lên; không có cán bộ, đảng "
            "viên vi phạm kỷ luật.",
            "Từ 90% văn bản đi trở lên được gửi, nhận dưới dạng điện tử; thể thức văn bản đúng "
            "Hướng dẫn số 36-HD/VPTW của Văn phòng Trung ương Đảng.",
            "Các báo cáo định kỳ, đột xuất gửi đúng thời hạn, bảo đảm chất lượng.",
            "Cụm bình chọn 01 đơn vị dẫn đầu đề nghị tặng Cờ thi đua của Ủy ban nhân dân Thành "
            "phố và 02 đơn vị đề nghị tặng Bằng khen của Chủ tịch Ủy ban nhân dân Thành phố.",
        ),
        criteria=SCORING_SHEET,
        commitments=(
            "Tổ chức phát động phong trào thi đua tại đơn vị ngay sau khi ký kết giao ước; cụ thể "
            f"hóa các nội dung, chỉ tiêu thi đua vào chương trình công tác năm {year} của đơn vị.",
            "Thực hiện nghiêm chế độ thông tin, báo cáo; gửi báo cáo sơ kết 6 tháng trước ngày "
            f"15/6/{year}, báo cáo tổng kết và bảng tự chấm điểm trước ngày 30/11/{year} về đơn vị "
            "Cụm trưởng.",
            "Tham gia đầy đủ các hội nghị, hoạt động do Cụm tổ chức; tích cực trao đổi kinh "
            "nghiệm, giúp đỡ nhau cùng hoàn thành xuất sắc nhiệm vụ.",
            "Giao ước này có hiệu lực từ ngày ký, được lập thành 09 bản: mỗi đơn vị thành viên "
            "giữ 01 bản, 01 bản gửi Văn phòng Thành ủy để theo dõi, chỉ đạo.",
        ),
        implementation=_implementation(year, head, deputy),
        member_units=MEMBER_UNITS,
        head_unit=head,
        deputy_unit=deputy,
        recipients=(
            "Văn phòng Thành ủy Hà Nội (để báo cáo)",
            "Thường trực Hội đồng Thi đua – Khen thưởng các cơ quan Đảng Thành phố",
            "Các đơn vị thành viên Cụm thi đua số 4",
            "Lưu Văn phòng Huyện ủy",
        ),
    )


def pledge_2018() -> PledgeContent:
    """The 2018 pledge signed in Mỹ Đức on 31/03/2018 (Mỹ Đức head, Ứng Hòa deputy)."""
    return _pledge(
        2018, number=5, day=dt.date(2018, 3, 31), place="Mỹ Đức", head="VPHU-MD", deputy="VPHU-UH"
    )


def pledge_2019() -> PledgeContent:
    """The 2019 pledge after rotation: Ứng Hòa head, Phú Xuyên deputy."""
    return _pledge(
        2019, number=3, day=dt.date(2019, 3, 15), place="Ứng Hòa", head="VPHU-UH", deputy="VPHU-PX"
    )


FLAG = "Cờ thi đua của Ủy ban nhân dân Thành phố Hà Nội"
MERIT = "Bằng khen của Chủ tịch Ủy ban nhân dân Thành phố Hà Nội"


def _report(
    rank: int, unit: MemberUnit, number: int, figures: str, awards: tuple[str, ...]
) -> AchievementReport:
    """The achievement report a nominee's own office writes and its head signs."""
    district = unit.name.removeprefix("Văn phòng ")
    return AchievementReport(
        nominee_rank=rank,
        number=number,
        symbol="BC/VPHU",
        date=dt.date(2018, 12, 14),
        background=(
            f"{unit.name} là cơ quan tham mưu, giúp việc Ban Chấp hành, Ban Thường vụ, "
            f"Thường trực {district}; biên chế được giao 12 đồng chí, trong đó 7 đồng chí nữ, "
            "12/12 đồng chí là đảng viên.",
            "Văn phòng có chức năng tham mưu tổng hợp, phục vụ hoạt động của cấp ủy; quản lý "
            "văn thư, lưu trữ, tài chính, tài sản của các cơ quan đảng cấp huyện.",
        ),
        achievements=(
            "Tham mưu ban hành đầy đủ, kịp thời chương trình công tác toàn khóa và hằng năm; "
            "100% văn bản ban hành đúng thể thức theo Hướng dẫn số 36-HD/VPTW.",
            figures,
            "Thực hiện nghiêm quy định về thực hành tiết kiệm, chống lãng phí; không có cán bộ, "
            "đảng viên vi phạm kỷ luật.",
        ),
        past_awards=awards,
        signer_title=unit.signer_title,
        signer_name=unit.signer_name,
    )


ACHIEVEMENT_REPORTS_2018: tuple[AchievementReport, ...] = (
    _report(
        1,
        MEMBER_UNITS[0],
        45,
        "Gửi, nhận 96% văn bản dưới dạng điện tử, sử dụng chữ ký số cho 100% văn bản đi; "
        "dẫn đầu Cụm thi đua số 4 với 108,5 điểm.",
        ("Năm 2017: Bằng khen của Ban Thường vụ Thành ủy Hà Nội",),
    ),
    _report(
        2,
        MEMBER_UNITS[1],
        38,
        "Gửi, nhận 93% văn bản dưới dạng điện tử; tổ chức tốt Hội nghị sơ kết giữa năm của Cụm.",
        (),
    ),
    _report(
        3,
        MEMBER_UNITS[2],
        41,
        "Gửi, nhận 91% văn bản dưới dạng điện tử; số hóa 100% hồ sơ lưu trữ từ năm 2010.",
        ("Năm 2016: Giấy khen của Ban Thường vụ Huyện ủy Phú Xuyên",),
    ),
)


def nomination_2018() -> NominationContent:
    """The year-end review of 2018: rank 1 for the city's flag, ranks 2–3 for Bằng khen."""
    return NominationContent(
        cluster_name=CLUSTER_NAME,
        year=2018,
        issuer=ISSUER,
        place="Mỹ Đức",
        submission=Submission(
            number=12,
            symbol="TTr/CTĐ4",
            date=dt.date(2018, 12, 20),
            addressee="Hội đồng Thi đua – Khen thưởng các cơ quan Đảng Thành phố Hà Nội",
            summary="Về việc đề nghị khen thưởng thành tích thi đua năm 2018",
            legal_bases=(
                legal_bases_for(2018)[1],
                "Căn cứ Giao ước thi đua năm 2018 của Cụm thi đua số 4 ký ngày 31 tháng 3 năm 2018",
            ),
            request=(
                "Năm 2018, các đơn vị thành viên Cụm thi đua số 4 đã tích cực hưởng ứng các phong "
                "trào thi đua do Thành ủy, Thành phố phát động; bám sát chức năng, nhiệm vụ của "
                "văn phòng cấp ủy, hoàn thành tốt công tác tham mưu, giúp việc cấp ủy và các "
                "nhiệm vụ chính trị được giao. 08/08 đơn vị hoàn thành tốt nhiệm vụ trở lên, "
                "trong đó 05 đơn vị hoàn thành xuất sắc nhiệm vụ.",
                "Qua chấm điểm chéo theo Giao ước thi đua và bình xét, bỏ phiếu kín tại Hội nghị "
                "ngày 18 tháng 12 năm 2018, Cụm thi đua số 4 đề nghị:",
            ),
            signer_title="Cụm trưởng",
            signer_name="Nguyễn Văn Hùng",
            recipients=(
                "Như trên",
                "Văn phòng Thành ủy Hà Nội (để báo cáo)",
                "Các đơn vị thành viên Cụm thi đua số 4",
                "Lưu Văn phòng Huyện ủy",
            ),
            attachments=(
                "Biên bản Hội nghị bình xét thi đua năm 2018 của Cụm thi đua số 4",
                "Danh sách các đơn vị đề nghị khen thưởng",
                "Báo cáo thành tích của các đơn vị đề nghị khen thưởng",
            ),
        ),
        meeting=Meeting(
            number=5,
            symbol="BB/CTĐ4",
            date=dt.date(2018, 12, 18),
            start_time="08:00",
            end_time="11:30",
            place="Hội trường Huyện ủy Mỹ Đức",
            chair_name="Nguyễn Văn Hùng",
            chair_title="Chánh Văn phòng Huyện ủy Mỹ Đức, Cụm trưởng",
            secretary_name="Đinh Thị Mai",
            secretary_title="chuyên viên Văn phòng Huyện ủy Mỹ Đức",
            voting_method="secret_ballot",
            ballots_issued=8,
            ballots_valid=8,
            discussion=(
                "Hội nghị đã nghe đồng chí Cụm trưởng báo cáo tổng kết công tác thi đua, khen "
                "thưởng năm 2018 của Cụm và kết quả chấm điểm chéo giữa các đơn vị theo thang "
                "điểm 100 điểm, điểm thưởng tối đa 10 điểm đã thống nhất trong Giao ước thi đua "
                "năm 2018.",
                "Các đại biểu thảo luận, thống nhất đánh giá: năm 2018, các đơn vị thành viên đã "
                "bám sát chức năng, nhiệm vụ, hoàn thành tốt công tác tham mưu, giúp việc cấp ủy; "
                "việc gửi, nhận văn bản điện tử và sử dụng chữ ký số có nhiều tiến bộ; phong trào "
                "học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh được triển khai "
                "sâu rộng.",
                "Căn cứ kết quả chấm điểm, Hội nghị tiến hành bỏ phiếu kín suy tôn đơn vị dẫn "
                "đầu Cụm và bình xét các đơn vị đề nghị khen thưởng.",
            ),
            next_head_unit="VPHU-UH",
            next_deputy_unit="VPHU-PX",
            representatives=tuple(
                Representative(u.code, u.signer_name, f"{u.signer_title} {u.name[10:]}")
                for u in MEMBER_UNITS
            ),
            counting_committee=(
                CommitteeMember("Lê Minh Tuấn", "Chánh Văn phòng Huyện ủy Phú Xuyên", "head"),
                CommitteeMember("Đỗ Thị Hồng Nhung", "Chánh Văn phòng Huyện ủy Thanh Oai"),
                CommitteeMember("Vũ Đức Mạnh", "Chánh Văn phòng Huyện ủy Quốc Oai"),
            ),
        ),
        nominees=(
            Nominee(
                1, "Văn phòng Huyện ủy Mỹ Đức", FLAG, 108.5, Votes(8, 0, 0), unit_code="VPHU-MD"
            ),
            Nominee(
                2, "Văn phòng Huyện ủy Ứng Hòa", MERIT, 106, Votes(7, 1, 0), unit_code="VPHU-UH"
            ),
            Nominee(
                3, "Văn phòng Huyện ủy Phú Xuyên", MERIT, 104.5, Votes(7, 0, 1), unit_code="VPHU-PX"
            ),
        ),
        member_units=MEMBER_UNITS,
        head_unit="VPHU-MD",
        deputy_unit="VPHU-UH",
        achievement_reports=ACHIEVEMENT_REPORTS_2018,
    )
