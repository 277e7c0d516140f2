"""application_status_form and the lookup, on fake services."""

from typing import Any

from actions.status import ActionLookupApplication, ValidateApplicationStatusForm
from tests.form_trackers import fakes, form_tracker, run, slot_events  # noqa: F401

FORM = "application_status_form"


def test_start_takes_code_and_phone_from_the_message(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "tra hồ sơ hs20251234 sđt 0912345678",
        "check_application_status",
        entities=[{"entity": "phone_number", "value": "0912345678"}],
    )
    events, _ = run(ValidateApplicationStatusForm(), tracker)
    slots = slot_events(events)
    assert slots["application_code"] == "HS20251234"
    assert slots["phone"] == "+84912345678"


def test_bad_code_is_reasked_with_the_format(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "HS123",
        form=FORM,
        requested="application_code",
        new_slots={"application_code": "HS123"},
    )
    events, dispatcher = run(ValidateApplicationStatusForm(), tracker)
    assert slot_events(events)["application_code"] is None
    assert "HS20251234" in dispatcher.messages[0]["text"]


def lookup(code: str, phone: str) -> Any:
    tracker = form_tracker("", slots={"application_code": code, "phone": phone})
    return run(ActionLookupApplication(), tracker)


def test_lookup_answers_status_date_and_next_step(fakes: Any) -> None:  # noqa: F811
    events, dispatcher = lookup("HS20251234", "+84912345678")
    message = dispatcher.messages[0]
    assert message["response"] == "utter_application_status"
    assert message["status"] == "Đang giải quyết"
    assert message["last_changed"] == "20/11/2026"
    assert message["next_step"]
    assert slot_events(events)["phone"] is None


def test_wrong_tries_then_the_lock(fakes: Any) -> None:  # noqa: F811
    for _ in range(5):
        events, dispatcher = lookup("HS20251234", "+84987654321")
        assert "không tìm thấy hồ sơ" in dispatcher.messages[0]["text"]
        assert slot_events(events)["application_code"] is None
    _, dispatcher = lookup("HS20251234", "+84912345678")
    assert "nhập sai quá 5 lần" in dispatcher.messages[0]["text"]


def test_lookup_after_cancel_does_nothing(fakes: Any) -> None:  # noqa: F811
    _, dispatcher = run(ActionLookupApplication(), form_tracker("thôi"))
    assert dispatcher.messages == []
    assert fakes.WRONG_TRIES == {}
