"""Knowledge actions on trackers built from dicts, over a seeded database."""

from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Engine

from actions.common import unit_code
from actions.contact import ActionContact
from actions.fallback import ActionAcknowledge, ActionClarifyIntent, ActionOutOfScope
from actions.news import ActionNews
from actions.procedures import NEXT_STEP_BUTTONS, ActionAnswerProcedure
from actions.scam import ActionCheckScam
from services import knowledge
from services.loader import load

FIXTURE = Path(__file__).parent / "fixtures" / "knowledge"


@pytest.fixture
def seeded(db_engine: Engine) -> Iterator[Engine]:
    load(FIXTURE, db_engine)
    yield db_engine


def entity(name: str, value: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 1}


def texts(dispatcher: CollectingDispatcher) -> str:
    return " ".join(" ".join(m.get("text") or "" for m in dispatcher.messages).split())


def slots_of(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def with_metadata(tracker: Tracker, metadata: Dict[str, Any]) -> Tracker:
    state = tracker.current_state()
    state["latest_message"]["metadata"] = metadata
    return Tracker.from_dict(state)


# ---- procedures ------------------------------------------------------------------


def test_answer_by_procedure_and_info_type_with_the_buttons_row(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "lam ho chieu het bao nhieu tien",
        "ask_passport",
        entities=[entity("info_type", "fee")],
    )
    events = ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "Lệ phí cấp mới hộ chiếu là 200.000 đồng" in texts(dispatcher)
    assert "Căn cứ: Thông tư 25/2021/TT-BTC." in dispatcher.messages[-1]["text"]
    assert dispatcher.messages[-1]["buttons"] == NEXT_STEP_BUTTONS
    assert [b["payload"] for b in NEXT_STEP_BUTTONS] == [
        "/request_form",
        "/book_appointment",
        "/ask_contact",
    ]
    assert slots_of(events) == {"procedure": "passport", "info_type": None}


@pytest.mark.parametrize(
    "text, intent, kind, expected",
    [
        ("còn lệ phí thì sao?", "ask_temporary_residence", "fee", "200.000 đồng"),
        (
            "online được không?",
            "ask_identity_card",
            "online",
            "Cổng Dịch vụ công của Bộ",
        ),
        ("mấy ngày?", "nlu_fallback", "duration", "8 ngày làm việc"),
    ],
)
def test_follow_up_keeps_the_procedure(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    text: str,
    intent: str,
    kind: str,
    expected: str,
) -> None:
    tracker = make_tracker(
        text,
        intent,
        slots={"procedure": "passport"},
        entities=[entity("info_type", kind)],
    )
    action = (
        ActionClarifyIntent() if intent == "nlu_fallback" else ActionAnswerProcedure()
    )
    events = action.run(dispatcher, tracker, {})
    assert expected in texts(dispatcher)
    assert "Hộ chiếu phổ thông" in dispatcher.messages[0]["text"]
    assert slots_of(events) == {"procedure": "passport", "info_type": None}
    assert dispatcher.messages[-1]["buttons"] == NEXT_STEP_BUTTONS


@pytest.mark.parametrize(
    "text, expected",
    [("phí bao nhiêu", "200.000 đồng"), ("nop o dau", "Nơi nộp")],
)
def test_unclear_follow_up_without_a_kind_entity_uses_the_cue_words(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    text: str,
    expected: str,
) -> None:
    """ "phí bao nhiêu" after a passport question, read as nlu_fallback with no
    info_type entity: the passport fee, not "did you mean ...?"."""
    tracker = make_tracker(text, "nlu_fallback", slots={"procedure": "passport"})
    events = ActionClarifyIntent().run(dispatcher, tracker, {})
    assert "Hộ chiếu phổ thông" in dispatcher.messages[0]["text"]
    assert expected.lower() in texts(dispatcher).lower()
    assert slots_of(events) == {"procedure": "passport", "info_type": None}


def test_long_unclear_message_is_not_taken_for_a_follow_up(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "hôm qua đi đường bị một người lạ hỏi tiền phí gửi xe rồi bỏ đi không nói gì",
        "nlu_fallback",
        slots={"procedure": "passport"},
    )
    assert ActionClarifyIntent().run(dispatcher, tracker, {}) == []
    assert "Hộ chiếu" not in texts(dispatcher)


def test_long_question_of_another_procedure_follows_its_intent(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "em mới chuyển lên thành phố thuê trọ ở với bạn thì đăng ký ở đâu vậy ạ",
        "ask_temporary_residence",
        slots={"procedure": "passport"},
        entities=[entity("info_type", "place")],
    )
    events = ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "Đăng ký tạm trú" in dispatcher.messages[0]["text"]
    assert slots_of(events)["procedure"] == "temporary_residence"


def test_named_procedure_wins_over_the_slot(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "tạm trú mất mấy ngày",
        "ask_temporary_residence",
        slots={"procedure": "passport"},
        entities=[
            entity("procedure", "temporary_residence"),
            entity("info_type", "duration"),
        ],
    )
    ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "3 ngày làm việc" in texts(dispatcher)


def test_no_info_type_gives_overview_and_info_buttons(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker("cho hỏi về đăng ký tạm trú", "ask_temporary_residence")
    ActionAnswerProcedure().run(dispatcher, tracker, {})
    message = dispatcher.messages[-1]
    assert "Người đến ở một nơi ngoài nơi thường trú" in message["text"]
    buttons = message["buttons"]
    assert len(buttons) == 8
    assert buttons[1] == {
        "title": "Lệ phí",
        "payload": '/ask_temporary_residence{"procedure": "temporary_residence", '
        '"info_type": "fee"}',
    }


def test_stale_info_type_slot_is_not_asked_again(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "thế còn hộ chiếu", "ask_passport", slots={"info_type": "fee"}
    )
    ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "200.000" not in texts(dispatcher)
    assert len(dispatcher.messages[-1]["buttons"]) == 8  # the overview


def test_info_button_payload_is_answered(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        '/ask_complaint{"procedure": "passport", "info_type": "form"}',
        "ask_complaint",
        entities=[entity("procedure", "passport"), entity("info_type", "form")],
    )
    ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "TK01a" in texts(dispatcher)


def test_unit_from_metadata_adds_its_override_without_asking(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = with_metadata(
        make_tracker(
            "dang ky tam tru nop o dau",
            "ask_temporary_residence",
            entities=[entity("info_type", "place")],
        ),
        {"unit": "XA-XUANHUONG"},
    )
    assert unit_code(tracker) == "XA-XUANHUONG"
    ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "bộ phận một cửa tầng 1" in texts(dispatcher)


def test_national_answer_never_asks_for_the_commune(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "tam tru can giay to gi",
        "ask_temporary_residence",
        entities=[entity("info_type", "documents")],
    )
    events = ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "xã/phường nào" not in texts(dispatcher)
    assert "awaiting_location" not in slots_of(events)


def test_household_book_is_explained_first(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "giờ ko có so ho khau thì chứng minh chỗ ở sao",
        "ask_temporary_residence",
        entities=[entity("info_type", "documents")],
    )
    ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith("Dạ, từ ngày 01/01/2023 sổ hộ")
    assert "Đăng ký tạm trú" in dispatcher.messages[1]["text"]


def test_household_book_on_fallback(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker("SHK cũ nhà em còn xài dc ko", "nlu_fallback")
    ActionClarifyIntent().run(dispatcher, tracker, {})
    assert "01/01/2023" in texts(dispatcher)
    payloads = [b["payload"] for b in dispatcher.messages[-1]["buttons"]]
    assert payloads == ["/ask_residence_confirmation", "/ask_electronic_id"]


def test_unit_code_order(make_tracker: Callable[..., Tracker]) -> None:
    plain = make_tracker("xin chao", "greet")
    assert unit_code(plain) is None
    assert unit_code(with_metadata(plain, {"unit": "xa-dian"})) == "XA-DIAN"
    slot = make_tracker("xin chao", "greet", slots={"unit": "XA-DUCTRONG"})
    assert unit_code(with_metadata(slot, {"unit": "XA-DIAN"})) == "XA-DUCTRONG"


# ---- contact and news: asking for the commune ----------------------------------------


def test_contact_without_unit_asks_then_answers_the_reply(
    seeded: Engine,
    make_tracker: Callable[..., Tracker],
) -> None:
    first = CollectingDispatcher()
    events = ActionContact().run(
        first, make_tracker("cho xin số điện thoại công an", "ask_contact"), {}
    )
    assert "xã/phường nào" in texts(first)
    assert slots_of(events) == {"awaiting_location": "action_contact"}

    # the reply, read by NLU as nothing in particular
    second = CollectingDispatcher()
    events = ActionClarifyIntent().run(
        second,
        make_tracker(
            "phuong xuan huong da lat",
            "nlu_fallback",
            slots={"awaiting_location": "action_contact"},
        ),
        {},
    )
    assert "Công an phường Xuân Hương - Đà Lạt" in texts(second)
    assert "Điện thoại: đang cập nhật" in texts(second)
    assert slots_of(events) == {"unit": "XA-XUANHUONG", "awaiting_location": None}


def test_contact_with_location_entity_and_former_name(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "dia chi cong an thi tran lien nghia",
        "ask_contact",
        entities=[entity("location", "thi tran lien nghia")],
    )
    events = ActionContact().run(dispatcher, tracker, {})
    assert "Công an xã Đức Trọng" in texts(dispatcher)
    assert slots_of(events)["unit"] == "XA-DUCTRONG"


def test_ambiguous_location_offers_buttons(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "sđt công an xã Phú Hội",
        "ask_contact",
        entities=[entity("location", "xã Phú Hội")],
    )
    events = ActionContact().run(dispatcher, tracker, {})
    payloads = [b["payload"] for b in dispatcher.messages[-1]["buttons"]]
    assert payloads == [
        '/ask_contact{"location": "XA-DUCTRONG"}',
        '/ask_contact{"location": "XA-HIEPTHANH"}',
    ]
    assert slots_of(events) == {"awaiting_location": "action_contact"}


def test_unknown_location_asks_again(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "phường Bến Thành",
        "ask_contact",
        slots={"awaiting_location": "action_contact"},
    )
    events = ActionContact().run(dispatcher, tracker, {})
    assert "chưa tìm thấy" in texts(dispatcher)
    assert slots_of(events) == {"awaiting_location": "action_contact"}


def test_news_with_known_unit(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "có tin gì mới ko", "ask_news", slots={"unit": "XA-XUANHUONG"}
    )
    events = ActionNews().run(dispatcher, tracker, {})
    text = texts(dispatcher)
    assert "Cảnh báo cuộc gọi giả danh công an" in text
    assert "Tin của xã Đức Trọng" not in text
    assert events == []


def test_location_reply_read_as_contact_answers_the_news_question(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "em ở phường Xuân Hương - Đà Lạt",
        "ask_contact",
        slots={"awaiting_location": "action_news"},
        entities=[entity("location", "phường Xuân Hương - Đà Lạt")],
    )
    events = ActionContact().run(dispatcher, tracker, {})
    assert "tin mới nhất" in texts(dispatcher)
    assert slots_of(events)["unit"] == "XA-XUANHUONG"


# ---- scams -----------------------------------------------------------------------


def test_scam_check_names_the_pattern_and_always_the_rule(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "bạn em nhắn zalo mượn tiền gấp mà gọi lại ko nghe", "check_scam"
    )
    ActionCheckScam().run(dispatcher, tracker, {})
    text = texts(dispatcher)
    assert "Tài khoản Zalo, Facebook của người quen" in text
    assert "Công an không bao giờ gọi điện" in text
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/report_crime"


def test_scam_button_without_story_gives_general_warnings(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    ActionCheckScam().run(dispatcher, make_tracker("/check_scam", "check_scam"), {})
    text = texts(dispatcher)
    assert "Công an không bao giờ gọi điện" in text
    assert "Các thủ đoạn đang được cảnh báo gần đây" in text


def test_a_partial_info_type_span_falls_back_to_the_cue_words(
    db_engine: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    """The CRF may return a span that is no kind ("phat bao"): the cue words of
    knowledge/info_cues.yml decide, so the penalty is answered, not the overview."""
    load(None, db_engine)
    tracker = make_tracker(
        "ko bao luu tru bi phat bao nhieu",
        "ask_accommodation_notice",
        entities=[
            entity("procedure", "accommodation_notice"),
            entity("info_type", "phat bao"),
        ],
    )
    ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert knowledge._INFO_PHRASES["penalty"] in texts(dispatcher)
    assert "Căn cứ:" in texts(dispatcher)


def test_a_follow_up_read_as_yes_continues_the_procedure(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    """ "mấy ngày thì có ạ" read as affirm still asks the procedure's duration."""
    tracker = make_tracker(
        "mấy ngày thì có ạ",
        "affirm",
        slots={"procedure": "passport"},
        entities=[entity("info_type", "duration")],
    )
    events = ActionAcknowledge().run(dispatcher, tracker, {})
    assert "Hộ chiếu phổ thông" in dispatcher.messages[0]["text"]
    assert slots_of(events) == {"procedure": "passport", "info_type": None}


@pytest.mark.parametrize(
    ("text", "procedure", "answered"),
    [
        ("phí bao nhiêu", "passport", True),  # a follow-up read as out of scope
        ("phi bao nhieu", "passport", True),
        ("giá vàng hôm nay bao nhiêu ad", "passport", False),  # too long
        ("phí bao nhiêu", None, False),  # no procedure under discussion
        ("thời tiết mai sao", "passport", False),  # no kind of information
    ],
)
def test_out_of_scope_answers_only_a_short_follow_up(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    text: str,
    procedure: str | None,
    answered: bool,
) -> None:
    slots = {"procedure": procedure} if procedure else {}
    tracker = make_tracker(text, "out_of_scope", slots=slots)
    events = ActionOutOfScope().run(dispatcher, tracker, {})
    if answered:
        assert "Hộ chiếu phổ thông" in dispatcher.messages[0]["text"]
        assert any("Căn cứ:" in (m.get("text") or "") for m in dispatcher.messages)
        assert slots_of(events)["procedure"] == "passport"
    else:
        assert events == []
        assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]


def test_a_plain_yes_asks_what_else(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker("vâng ạ", "affirm", slots={"procedure": "passport"})
    assert ActionAcknowledge().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages[0]["response"] == "utter_anything_else"


def test_how_crime_reports_work_is_the_crime_report_procedure(
    seeded: Engine,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker(
        "to giac toi pham co mat phi khong",
        "ask_complaint",
        entities=[entity("procedure", "crime_report"), entity("info_type", "fee")],
    )
    events = ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert slots_of(events)["procedure"] == "crime_report"
