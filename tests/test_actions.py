"""The actions, run on trackers built from dicts."""

from typing import Callable

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.emergency import ActionEmergency
from actions.fallback import ActionAcknowledge, ActionClarifyIntent
from actions.procedures import ActionAnswerProcedure, ActionShowPublicServices
from services import menu


def test_emergency_first_message_is_the_number(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker("nhà hàng xóm cháy to lắm", "emergency")
    ActionEmergency().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith("☎️ GỌI NGAY 114")


def test_clarify_offers_the_likeliest_intents(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "ask_passport", "confidence": 0.30},
        {"name": "greet", "confidence": 0.25},
        {"name": "ask_identity_card", "confidence": 0.2},
        {"name": "ask_electronic_id", "confidence": 0.1},
        {"name": "ask_news", "confidence": 0.06},
    ]
    tracker = make_tracker("giấy tờ đi nước ngoài", "nlu_fallback", ranking=ranking)
    ActionClarifyIntent().run(dispatcher, tracker, {})
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [
        "/ask_passport",
        "/ask_identity_card",
        "/ask_electronic_id",
        "/deny",
    ]
    assert buttons[0]["title"] == menu.label("ask_passport")


def test_clarify_without_candidates_offers_menu_and_officer(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.9}]
    tracker = make_tracker("???", "nlu_fallback", ranking=ranking)
    ActionClarifyIntent().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_fallback_menu"


def test_procedure_answer_without_content_is_polite(
    database_url: str,
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
) -> None:
    # an empty (migrated, not seeded) database: no crash, an honest answer
    tracker = make_tracker("lam ho chieu o dau", "ask_passport")
    events = ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert "chưa có thông tin về thủ tục Hộ chiếu" in dispatcher.messages[0]["text"]
    assert events[0] == {
        "event": "slot",
        "name": "procedure",
        "value": "passport",
        "timestamp": None,
    }


def test_public_services_menu_lists_procedures(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker("/show_public_services", "show_public_services")
    ActionShowPublicServices().run(dispatcher, tracker, {})
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert "/ask_temporary_residence" in payloads and "/ask_passport" in payloads


def _asked(prompt: str) -> list:
    """The turn before: an unclear message and the bot's answer ``prompt``."""
    return [
        {"event": "user", "text": "giấy tờ đi nước ngoài", "parse_data": {}},
        {"event": "action", "name": "action_clarify_intent"},
        {"event": "bot", "text": prompt, "data": {}},
        {"event": "action", "name": "action_listen"},
    ]


def test_unclear_again_after_the_question_gets_menu_and_officer(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "ask_passport", "confidence": 0.30},
    ]
    tracker = make_tracker(
        "ý em là cái khác",
        "nlu_fallback",
        ranking=ranking,
        events=_asked(menu.text("clarify_prompt")),
    )
    ActionClarifyIntent().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_fallback_menu"]


def test_unclear_after_an_answer_is_asked_again_not_sent_to_the_menu(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    """The previous turn was answered (e.g. a follow-up answered by this same
    action): a new unclear message gets the first stage again."""
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "ask_passport", "confidence": 0.30},
    ]
    tracker = make_tracker(
        "giấy tờ đi nước ngoài",
        "nlu_fallback",
        ranking=ranking,
        events=_asked("Dạ, lệ phí của thủ tục Hộ chiếu phổ thông: ..."),
    )
    ActionClarifyIntent().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == menu.text("clarify_prompt")


def test_none_of_these_gets_menu_and_officer(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker("/deny", "deny", events=_asked(menu.text("clarify_prompt")))
    ActionAcknowledge().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_fallback_menu"]


def test_no_out_of_the_blue_asks_what_else(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker("không ạ", "deny", events=_asked("Dạ, chào bạn"))
    ActionAcknowledge().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_anything_else"]
