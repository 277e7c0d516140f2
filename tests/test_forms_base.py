"""The shared form behaviour: re-ask, failure counter, officer, cancel words,
and a question in the middle of a form (actions/forms_base.py)."""

from typing import Any

import pytest

from actions.booking import ValidateAppointmentForm
from actions.forms_base import ActionAskPhone, is_cancel, looks_like_name
from actions.status import ValidateApplicationStatusForm
from tests.form_trackers import fakes, form_tracker, run, slot_events  # noqa: F401

FORM = "application_status_form"


@pytest.mark.parametrize(
    "text", ["thôi", "hủy", "huỷ", "cancel", "thoi", "dừng lại", "Hủy ạ", "thôi nha"]
)
def test_cancel_words(text: str) -> None:
    assert is_cancel(text)


@pytest.mark.parametrize(
    "text", ["hủy lịch hẹn", "thôi khỏi", "không", "Thôi Văn Hùng", "0912345678", ""]
)
def test_not_cancel_words(text: str) -> None:
    assert not is_cancel(text)


@pytest.mark.parametrize("text", ["thôi", "huỷ", "dừng lại"])
def test_cancel_leaves_the_form_cleanly(fakes: Any, text: str) -> None:  # noqa: F811
    tracker = form_tracker(
        text,
        "deny",
        form=FORM,
        requested="phone",
        slots={"application_code": "HS20251234", "form_failures": {"phone": 1}},
        new_slots={"phone": text},
    )
    events, dispatcher = run(ValidateApplicationStatusForm(), tracker)
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    slots = slot_events(events)
    assert slots["application_code"] is None and slots["phone"] is None
    assert slots["form_failures"] is None and slots["requested_slot"] is None
    assert dispatcher.messages[0]["response"] == "utter_form_cancelled"
    assert dispatcher.messages[0]["purpose"] == "tra cứu hồ sơ"


def test_bad_value_gets_a_specific_reask_and_counts(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "0912", form=FORM, requested="phone", new_slots={"phone": "0912"}
    )
    events, dispatcher = run(ValidateApplicationStatusForm(), tracker)
    slots = slot_events(events)
    assert slots["phone"] is None
    assert slots["form_failures"] == {"phone": 1}
    assert "số điện thoại chưa đúng" in dispatcher.messages[0]["text"]
    assert all(
        m.get("response") != "utter_form_offer_officer" for m in dispatcher.messages
    )


def test_third_failure_offers_an_officer(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "abc",
        form=FORM,
        requested="phone",
        slots={"form_failures": {"phone": 2}},
        new_slots={"phone": "abc"},
    )
    events, dispatcher = run(ValidateApplicationStatusForm(), tracker)
    assert slot_events(events)["form_failures"] == {"phone": 3}
    assert "số điện thoại chưa đúng" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[1]["response"] == "utter_form_offer_officer"


def test_a_good_value_clears_its_counter(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "0912 345 678",
        form=FORM,
        requested="phone",
        slots={"form_failures": {"phone": 2, "application_code": 1}},
        new_slots={"phone": "0912 345 678"},
    )
    events, dispatcher = run(ValidateApplicationStatusForm(), tracker)
    slots = slot_events(events)
    assert slots["phone"] == "+84912345678"
    assert slots["form_failures"] == {"application_code": 1}
    assert dispatcher.messages == []


def test_a_question_instead_of_a_value_rejects_the_turn(fakes: Any) -> None:  # noqa: F811
    text = "làm căn cước cho con cần giấy tờ gì"
    tracker = form_tracker(
        text,
        "ask_identity_card",
        form=FORM,
        requested="phone",
        new_slots={"phone": text},
    )
    events, dispatcher = run(ValidateApplicationStatusForm(), tracker)
    assert events[-1]["event"] == "action_execution_rejected"
    assert slot_events(events) == {"phone": None}
    assert dispatcher.messages == []  # the rules answer the question


def test_nothing_extracted_returns_nothing_so_rasa_rejects(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker("cháy nhà", "emergency", form=FORM, requested="phone")
    events, dispatcher = run(ValidateApplicationStatusForm(), tracker)
    assert events == [] and dispatcher.messages == []


@pytest.mark.parametrize(
    ("form", "response"),
    [
        ("application_status_form", "utter_ask_phone_application"),
        ("tip_form", "utter_ask_phone_tip"),
        ("appointment_form", "utter_ask_phone"),
    ],
)
def test_phone_question_fits_the_form(form: str, response: str) -> None:
    _, dispatcher = run(ActionAskPhone(), form_tracker("", form=form))
    assert dispatcher.messages[0]["response"] == response


def test_phone_question_for_a_booking_change() -> None:
    tracker = form_tracker(
        "", form="appointment_form", slots={"appointment_action": "cancel"}
    )
    _, dispatcher = run(ActionAskPhone(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_ask_phone_booking"


@pytest.mark.parametrize(
    ("text", "name"),
    [("Nguyễn Văn An", True), ("tran thi hoa", True), ("gặp cán bộ đi", False),
     ("cho tôi nói chuyện với người thật", False), ("0912345678", False)],
)  # fmt: skip
def test_looks_like_name(text: str, name: bool) -> None:
    assert looks_like_name(text) is name


def test_a_name_read_as_an_officer_request_is_still_the_name(fakes: Any) -> None:  # noqa: F811
    """The slot mapping leaves out human_handoff; "Nguyễn Văn An" read as one is
    still taken as the full name asked for, not as a request for an officer."""
    tracker = form_tracker(
        "Nguyễn Văn An",
        "human_handoff",
        form="appointment_form",
        requested="full_name",
        confidence=0.93,
    )
    events, dispatcher = run(ValidateAppointmentForm(), tracker)
    assert not any(e["event"] == "action_execution_rejected" for e in events)
    assert slot_events(events)["full_name"] == "Nguyễn Văn An"


def test_an_officer_request_in_the_name_question_still_leaves(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "cho tôi gặp cán bộ",
        "human_handoff",
        form="appointment_form",
        requested="full_name",
        confidence=0.93,
    )
    events, _ = run(ValidateAppointmentForm(), tracker)
    assert "full_name" not in slot_events(events)
