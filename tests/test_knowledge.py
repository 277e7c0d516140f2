"""Answers from the knowledge tables, on SQLite and PostgreSQL."""

import datetime as dt
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml
from sqlalchemy.engine import Engine

from services import knowledge, units
from services.knowledge import MAX_MESSAGE_CHARS, UNVERIFIED_CAVEAT, split_messages
from services.loader import load

FIXTURE = Path(__file__).parent / "fixtures" / "knowledge"
REAL = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture
def seeded(db_engine: Engine) -> Iterator[Engine]:
    load(FIXTURE, db_engine)
    yield db_engine


def flat(messages: List[str]) -> str:
    return " ".join(" ".join(messages).split())


# ---- every (procedure, info_type) of the YAML is answered with its legal basis ----


def _procedure_files() -> List[Tuple[str, Path]]:
    """(tree, file) for the fixture tree and, when present, the real content."""
    cases = [(str(FIXTURE), path) for path in sorted(FIXTURE.glob("procedures/*.yml"))]
    cases += [(str(REAL), path) for path in sorted(REAL.glob("procedures/*.yml"))]
    return cases


def _day_inside(fact: Dict[str, Any]) -> dt.date:
    """A day on which the fact applies."""
    start, end = fact.get("valid_from"), fact.get("valid_until")
    if start:
        return start
    if end:
        return end
    return dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    "tree, path",
    _procedure_files(),
    ids=lambda value: value.stem if isinstance(value, Path) else Path(value).name,
)
def test_every_fact_is_answered_with_its_legal_basis(
    db_engine: Engine, tree: str, path: Path
) -> None:
    load(tree, db_engine)
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    procedure = content["procedure"]
    assert content["facts"], f"{path}: no facts"
    for fact in content["facts"]:
        day = _day_inside(fact)
        result = knowledge.answer(
            procedure, fact["info_type"], today=day, bind=db_engine
        )
        where = f"{path.name}: {fact['info_type']} on {day}"
        assert result.found, where
        assert flat([fact["text"]]) in flat(result.messages), where
        assert result.legal_basis and result.legal_basis in result.messages[-1], where
        for part in fact["legal_basis"].split(";"):
            # each instrument is named (once, with the first note given for it)
            instrument = re.sub(r"\s*\([^)]*\)", "", part.strip().rstrip("."))
            assert instrument in result.legal_basis, where
        assert all(len(message) <= MAX_MESSAGE_CHARS for message in result.messages)
        assert (UNVERIFIED_CAVEAT in flat(result.messages)) == any(
            f["confidence"] == "U"
            for f in content["facts"]
            if f["info_type"] == fact["info_type"]
            and (f.get("valid_from") or dt.date.min) <= day
            and day <= (f.get("valid_until") or dt.date.max)
        ), where


# ---- dated facts, overrides, cases ------------------------------------------------


def test_fee_reduction_until_the_last_day_of_2026(seeded: Engine) -> None:
    last_day = knowledge.answer(
        "temporary_residence", "fee", today=dt.date(2026, 12, 31), bind=seeded
    )
    first_day = knowledge.answer(
        "temporary_residence", "fee", today=dt.date(2027, 1, 1), bind=seeded
    )
    assert "giảm 50 %" in flat(last_day.messages)
    assert "mức thu cơ bản" not in flat(last_day.messages)
    assert "mức thu cơ bản" in flat(first_day.messages)
    assert "giảm 50 %" not in flat(first_day.messages)
    assert "Thông tư 64/2025/TT-BTC" in last_day.legal_basis
    assert "Thông tư 64/2025/TT-BTC" not in first_day.legal_basis


def test_override_replaces_national_fact_for_its_unit_only(seeded: Engine) -> None:
    local = knowledge.answer(
        "temporary_residence", "place", unit="XA-XUANHUONG", bind=seeded
    )
    national = knowledge.answer("temporary_residence", "place", bind=seeded)
    other = knowledge.answer(
        "temporary_residence", "place", unit="XA-DUCTRONG", bind=seeded
    )
    assert "bộ phận một cửa tầng 1" in flat(local.messages)
    assert "nơi mình đến ở" not in flat(local.messages)
    assert "Quyết định mẫu của Công an phường" in local.legal_basis
    assert "nơi mình đến ở" in flat(national.messages)
    assert flat(other.messages) == flat(national.messages)


def test_override_adds_to_national_facts(seeded: Engine) -> None:
    result = knowledge.answer(
        "temporary_residence", "documents", unit="XA-XUANHUONG", bind=seeded
    )
    text = flat(result.messages)
    assert "giấy tờ chứng minh chỗ ở hợp pháp" in text
    assert "Riêng tại Công an phường Xuân Hương - Đà Lạt:" in text
    assert text.index("chứng minh chỗ ở") < text.index("Riêng tại")


def test_province_override_holds_for_its_communes(seeded: Engine) -> None:
    note = "Riêng tại Công an tỉnh Lâm Đồng: Trong tỉnh, hồ sơ nộp trực tuyến"
    for unit in ("XA-DUCTRONG", "XA-XUANHUONG", "TINH-LAMDONG"):
        result = knowledge.answer(
            "temporary_residence", "duration", unit=unit, bind=seeded
        )
        assert note in flat(result.messages), unit
        assert "3 ngày làm việc" in flat(result.messages)
        assert "Kế hoạch mẫu của Công an tỉnh" in result.legal_basis
    national = knowledge.answer("temporary_residence", "duration", bind=seeded)
    assert note not in flat(national.messages)


def test_case_is_detected_and_answered(seeded: Engine) -> None:
    case = knowledge.detect_case(
        "temporary_residence", "gia han tam tru can giay to gi", bind=seeded
    )
    assert case == "extension"
    # the title's own words name no case
    assert knowledge.detect_case("temporary_residence", "tạm trú ở đâu", seeded) is None
    assert knowledge.detect_case("fishing_licence", "gia hạn", seeded) is None
    result = knowledge.answer(
        "temporary_residence", "documents", case=case, bind=seeded
    )
    assert "chỉ cần nộp tờ khai CT01" in flat(result.messages)
    assert "hợp đồng thuê nhà" not in flat(result.messages)
    both = knowledge.answer("temporary_residence", "documents", bind=seeded)
    assert "Gia hạn tạm trú: Để gia hạn" in flat(both.messages)


def test_overview_lists_the_kinds_of_information(seeded: Engine) -> None:
    result = knowledge.answer("passport", bind=seeded)
    assert "Công dân Việt Nam xin cấp hộ chiếu" in result.messages[0]
    assert result.info_types == [
        "documents",
        "fee",
        "duration",
        "place",
        "online",
        "form",
        "eligibility",
        "penalty",
    ]
    assert result.legal_basis is None


def test_unknown_procedure_and_unknown_kind(seeded: Engine) -> None:
    unknown = knowledge.answer("fishing_licence", "fee", bind=seeded)
    assert not unknown.found and "Cổng Dịch vụ công" in unknown.messages[0]
    # an info_type outside the list is read as "no kind": the overview
    overview = knowledge.answer("passport", "weather", bind=seeded)
    assert overview.found and overview.legal_basis is None and overview.info_types


def test_unverified_fact_gets_the_caveat(seeded: Engine) -> None:
    result = knowledge.answer("temporary_residence", "penalty", bind=seeded)
    assert UNVERIFIED_CAVEAT in flat(result.messages)
    sure = knowledge.answer("temporary_residence", "duration", bind=seeded)
    assert UNVERIFIED_CAVEAT not in flat(sure.messages)


def test_household_book(seeded: Engine) -> None:
    assert knowledge.mentions_household_book("Sổ hộ khẩu của tôi còn dùng được ko")
    assert knowledge.mentions_household_book("lam lai so ho khau bi mat")
    assert not knowledge.mentions_household_book("chuyển hộ khẩu về quê")
    result = knowledge.household_book(seeded)
    text = flat(result.messages)
    assert text.startswith("Dạ, từ ngày 01/01/2023 sổ hộ khẩu")
    assert "VNeID" in text and "CT07" in text
    assert result.legal_basis == "Căn cứ: Luật Cư trú 2020, Điều 38."


# ---- splitting -------------------------------------------------------------------


def test_long_answers_are_split_on_sentences() -> None:
    sentence = "Anh/chị mang theo giấy tờ tùy thân bản chính để cán bộ đối chiếu. "
    paragraph = sentence * 25
    messages = split_messages(["Dạ, hồ sơ:", paragraph, "Căn cứ: Luật Cư trú."])
    assert len(messages) > 1
    assert all(len(m) <= MAX_MESSAGE_CHARS for m in messages)
    assert all(m.rstrip().endswith((".", ":")) for m in messages)
    assert flat(messages) == flat(["Dạ, hồ sơ:", paragraph, "Căn cứ: Luật Cư trú."])


def test_one_huge_sentence_is_cut_between_words() -> None:
    messages = split_messages(["chữ " * 400])
    assert all(len(m) <= MAX_MESSAGE_CHARS for m in messages)
    assert all(not m.startswith(" ") and "ữ" in m[-2:] for m in messages)


# ---- units, contacts, news --------------------------------------------------------


@pytest.mark.parametrize(
    "typed, codes",
    [
        ("phường Dĩ An", ["XA-DIAN"]),
        ("phuong di an", ["XA-DIAN"]),
        ("P. Dĩ An", ["XA-DIAN"]),
        ("Công an phường Dĩ An ạ", ["XA-DIAN"]),
        ("phường An Bình", ["XA-DIAN"]),  # former name
        ("em ở phường 10 cũ", ["XA-XUANHUONG"]),  # former name, "cũ"
        ("thi tran Lien Nghia", ["XA-DUCTRONG"]),  # former name, no diacritics
        ("xa duc trong", ["XA-DUCTRONG"]),
        ("p xuân hương", ["XA-XUANHUONG"]),  # without " - Đà Lạt"
        ("phuong diAn", ["XA-DIAN"]),  # syllables run together
        ("xã Hiệp Thạnh", ["XA-HIEPTHANH"]),  # current beats its own former name
        ("xã Phú Hội", ["XA-DUCTRONG", "XA-HIEPTHANH"]),  # split: ambiguous
        # a full old address is converted (underthesea): the district settles it
        ("xã Phú Hội, huyện Đức Trọng, tỉnh Lâm Đồng", ["XA-DUCTRONG"]),
        ("Phường 1, Thành phố Đà Lạt, Tỉnh Lâm Đồng", ["XA-XUANHUONG"]),
        ("12 đường Hai Bà Trưng, phường Dĩ An", ["XA-DIAN"]),
        ("sdt cong an phuong xuan huong da lat la so nao", ["XA-XUANHUONG"]),
        ("tỉnh Lâm Đồng", ["TINH-LAMDONG"]),
        ("xa-dian", ["XA-DIAN"]),  # a unit code from a button
        ("phường Bến Thành", []),
        ("", []),
    ],
)
def test_resolve_location(seeded: Engine, typed: str, codes: List[str]) -> None:
    assert [u.code for u in units.resolve_location(typed, seeded)] == codes


def test_get_unit_and_province(seeded: Engine) -> None:
    unit = units.get_unit("xa-xuanhuong", seeded)
    assert unit is not None and unit.level == "xa" and unit.is_sample
    assert unit.working_hours["sat"] == [(dt.time(7, 30), dt.time(11, 30))]
    assert "Phường 10" in unit.former_names
    province = units.province_of("XA-XUANHUONG", seeded)
    assert province is not None and province.code == "TINH-LAMDONG"
    assert units.province_of("TINH-LAMDONG", seeded).code == "TINH-LAMDONG"
    assert units.get_unit("XA-NOWHERE", seeded) is None
    assert units.province_of(None, seeded) is None


def test_contact_never_invents_a_number(seeded: Engine) -> None:
    text = flat(knowledge.contact("XA-XUANHUONG", seeded).messages)
    assert "Công an phường Xuân Hương - Đà Lạt" in text
    assert "Điện thoại: đang cập nhật" in text
    assert "sáng thứ Bảy" in text and "Thông tin mẫu" in text and "113" in text
    built = flat(knowledge.contact("XA-DUCTRONG", seeded).messages)
    assert "Thứ Hai: 07:30–11:30, 13:30–17:00" in built
    assert not knowledge.contact("XA-NOWHERE", seeded).found


def test_news_of_the_unit_and_its_province(seeded: Engine) -> None:
    items = knowledge.news("XA-XUANHUONG", bind=seeded)
    assert [item.title for item in items] == [
        "Cảnh báo cuộc gọi giả danh công an",  # the province's
        "Làm căn cước lưu động cuối tuần",
        "Tin cũ 3",
        "Tin cũ 2",
        "Tin cũ 1",
    ]
    assert all(item.unit != "XA-DUCTRONG" for item in items)
    text = flat(knowledge.news_answer("XA-XUANHUONG", bind=seeded).messages)
    assert text.startswith(
        "Dạ, tin mới nhất của Công an phường Xuân Hương - Đà Lạt và Công an tỉnh "
        "Lâm Đồng:"
    )
    province = flat(knowledge.news_answer("TINH-LAMDONG", bind=seeded).messages)
    assert province.startswith("Dạ, tin mới nhất của Công an tỉnh Lâm Đồng:")
    assert "05/10/2026 – Cảnh báo cuộc gọi giả danh công an" in text
    # a unit without news of its own still gets its province's
    own_none = flat(knowledge.news_answer("XA-DIAN", bind=seeded).messages)
    assert "Cảnh báo cuộc gọi giả danh công an" in own_none
    assert "Làm căn cước lưu động" not in own_none


# ---- scams -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "story, key",
    [
        (
            "Có người gọi tự xưng là công an nói tôi liên quan rửa tiền",
            "fake_police_transfer",
        ),
        (
            "ong ay bao chuyen het tien vao tk an toan de dieu tra",
            "fake_police_transfer",
        ),
        ("sđt lạ nói có lệnh bắt của viện kiểm sát với mẹ em", "fake_police_transfer"),
        ("nhan dc tin nhan gui link bat cap nhat dinh danh muc 2", "vneid_update_link"),
        ("họ bảo e tải file apk về để nâng cấp VNeID", "vneid_update_link"),
        (
            "chị tham gia chốt đơn online, giờ họ bắt nạp thêm mới rút được",
            "easy_money_tasks",
        ),
        (
            "viec nhe luong cao tren tiktok, lam nhiem vu nhan hoa hong",
            "easy_money_tasks",
        ),
        (
            "thằng bạn nhắn zalo mượn tiền gấp mà gọi ko bắt máy",
            "hacked_friend_account",
        ),
        ("acc fb cua co em nhan vay 3 trieu chuyen vao tk la", "hacked_friend_account"),
    ],
)
def test_scam_descriptions_match_their_pattern(
    seeded: Engine, story: str, key: str
) -> None:
    matches = knowledge.match_scam(story, seeded)
    assert matches and matches[0].key == key, matches


@pytest.mark.parametrize(
    "story", ["cho hỏi làm căn cước mất bao lâu", "hom nay troi dep qua", "   "]
)
def test_unrelated_messages_match_no_scam(seeded: Engine, story: str) -> None:
    assert knowledge.match_scam(story, seeded) == []


def test_scam_reply_names_pattern_signs_steps_and_the_rule(seeded: Engine) -> None:
    reply, matches = knowledge.scam_answer(
        "co nguoi goi xung cong an bat chuyen tien vao tai khoan an toan", seeded
    )
    text = flat(reply.messages)
    assert matches[0].key == "fake_police_transfer"
    assert "Giả danh công an yêu cầu chuyển tiền vào tài khoản an toàn" in text
    assert "Dấu hiệu nhận biết" in text and "Dọa liên quan vụ án rửa tiền" in text
    assert "Tắt máy, không chuyển tiền" in text
    assert "Công an không bao giờ gọi điện, nhắn tin yêu cầu chuyển tiền" in text
    assert "156" in text and "5656" in text and "113" in text


def test_scam_reply_without_match_gives_general_warning_and_latest(
    seeded: Engine,
) -> None:
    reply, matches = knowledge.scam_answer("cho em hỏi cái này có lừa ko", seeded)
    text = flat(reply.messages)
    assert matches == [] and not reply.found
    assert "Công an không bao giờ gọi điện, nhắn tin yêu cầu chuyển tiền" in text
    # the three latest alerts by publication date
    assert "Link giả cập nhật VNeID" in text
    assert "Giả danh công an yêu cầu chuyển tiền" in text
    assert "Việc nhẹ lương cao" in text
    assert "Tài khoản Zalo, Facebook" not in text


def test_scam_reply_without_catalogue_still_says_the_rule(db_engine: Engine) -> None:
    reply, _ = knowledge.scam_answer("ai đó gọi bảo chuyển tiền", db_engine)
    assert knowledge.POLICE_NEVER_ASK_FALLBACK in flat(reply.messages)


def test_legal_basis_names_each_instrument_once() -> None:
    line = knowledge.legal_basis_line(
        [
            "Thông tư 73/2024/TT-BTC (sửa bởi Thông tư 71/2025/TT-BTC)",
            "Thông tư 73/2024/TT-BTC; Luật Căn cước 2023",
            "Thông tư 73/2024/TT-BTC (chưa thống nhất)",
        ]
    )
    assert line == (
        "Căn cứ: Thông tư 73/2024/TT-BTC (sửa bởi Thông tư 71/2025/TT-BTC); "
        "Luật Căn cước 2023."
    )


@pytest.mark.parametrize(
    "text, kind",
    [
        ("thông báo lưu trú muộn nhất là lúc mấy giờ ạ", "duration"),
        ("ko bao luu tru bi phat bao nhieu", "penalty"),
        ("lam ho chieu o dau vay", "place"),
        ("ho chieu lam online dc ko", "online"),
        ("cccd có cần mang gì không", "documents"),
        ("lam cccd mat tien ko", "fee"),
        ("cho e xin mau ct01", "form"),
        ("ai phải đăng ký tạm trú", "eligibility"),
        ("dang ky tam tru", None),
    ],
)
def test_the_kind_of_answer_asked_without_an_entity(text: str, kind: str) -> None:
    assert knowledge.detect_info_type(text) == kind


def test_a_law_and_an_article_of_it_are_named_once() -> None:
    line = knowledge.legal_basis_line(
        ["Luật Cư trú 2020", "Luật Cư trú 2020, Điều 25; Nghị định 154/2024/NĐ-CP"]
    )
    assert line == "Căn cứ: Luật Cư trú 2020, Điều 25; Nghị định 154/2024/NĐ-CP."
