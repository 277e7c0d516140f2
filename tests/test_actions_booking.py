"""appointment_form's validators and the submit action, on fake services."""

import sys
from datetime import date
from typing import Any, Dict

import pytest

from actions.booking import (
    ActionAskAppointmentTime,
    ActionSubmitAppointment,
    ValidateAppointmentForm,
    parse_booking_code,
    request_kind,
)
from services.errors import NotBookable
from tests.form_trackers import fakes, form_tracker, run, slot_events  # noqa: F401

FORM = "appointment_form"
CHOSEN = {
    "appointment_action": "new",
    "appointment_procedure": "identity_card",
    "appointment_unit": "XA-DIAN",
}


def validate(text: str, slot: str, slots: Dict[str, Any] | None = None) -> Any:
    tracker = form_tracker(
        text, form=FORM, requested=slot, slots=slots or CHOSEN, new_slots={slot: text}
    )
    return run(ValidateAppointmentForm(), tracker)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hủy lịch hẹn K7M2QX giúp em", "K7M2QX"),
        ("huy lich k7m2qx", "K7M2QX"),
        ("kqmpwx", "KQMPWX"),
        ("đổi lịch hẹn LTPYUA", "LTPYUA"),
        ("huy lich hen ltpyua", None),  # lower case inside a sentence: a word?
        ("huy lich hen LH2511207", "LH2511207"),
        ("hủy lịch của Nguyễn Văn An", None),
        ("huy lich cua nguyen van an", None),
        ("0912345678", None),
    ],
)
def test_parse_booking_code(text: str, code: str | None) -> None:
    assert parse_booking_code(text) == code


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("đặt lịch làm căn cước", "new"),
        ("hủy lịch hẹn LH00001", "cancel"),
        ("huy lich", "cancel"),
        ("đổi lịch sang thứ 6 được ko", "move"),
        ("dời lịch giúp em", "move"),
        ("lich hen cua e chuyen sang thu 5", "move"),
        ("cho em đặt lại lịch hẹn với", "move"),
        ("em bận rồi, lùi giờ hẹn được không ạ", "move"),
        # "sáng" typed without diacritics is "sang", not "moved to"
        ("dat lich lam can cuoc sang thu 5 tuan sau", "new"),
        ("đặt lịch làm căn cước sáng mai", "new"),
        # "cấp đổi" (renewing a card) is not moving an appointment
        ("đặt lịch đổi căn cước", "new"),
        ("em muốn hẹn lịch chuyển hộ khẩu ngày mai", "new"),
        ("hen lich doi ngay sinh tren can cuoc", "new"),
    ],
)
def test_request_kind(text: str, kind: str) -> None:
    assert request_kind(text) == kind


def test_start_takes_procedure_and_unit_from_context(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "cho em đặt lịch làm căn cước",
        "book_appointment",
        entities=[{"entity": "procedure", "value": "identity_card"}],
        metadata={"unit": "xa-dian"},
    )
    events, _ = run(ValidateAppointmentForm(), tracker)
    slots = slot_events(events)
    assert slots["appointment_action"] == "new"
    assert slots["appointment_procedure"] == "identity_card"
    assert slots["appointment_unit"] == "XA-DIAN"
    assert slots["requested_slot"] == "appointment_date"


@pytest.mark.parametrize("form", [None, "appointment_form"])
def test_start_naming_a_day_takes_it_as_the_date(
    fakes: Any,  # noqa: F811
    form: str | None,
) -> None:
    tracker = form_tracker(
        "dat lich lam can cuoc sang thu 5 tuan sau",
        "book_appointment",
        form=form,
        entities=[{"entity": "procedure", "value": "identity_card"}],
        metadata={"unit": "xa-dian"},
    )
    events, _ = run(ValidateAppointmentForm(), tracker)
    slots = slot_events(events)
    assert slots["appointment_action"] == "new"
    day = slots["appointment_date"]
    assert day is not None and date.fromisoformat(day).weekday() == 3  # a Thursday
    assert slots["appointment_part_of_day"] == "morning"
    assert slots["requested_slot"] == "appointment_time"


def test_start_of_a_cancellation_takes_the_code(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker("hủy lịch hẹn K7M2QX giúp em", "book_appointment")
    events, _ = run(ValidateAppointmentForm(), tracker)
    slots = slot_events(events)
    assert slots["appointment_action"] == "cancel"
    assert slots["booking_code"] == "K7M2QX"
    assert slots["requested_slot"] == "phone"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("phuong di an", "XA-DIAN"), ("XA-DIAN", "XA-DIAN")],
)
def test_unit_by_name_or_code(fakes: Any, text: str, expected: str) -> None:  # noqa: F811
    slots = {"appointment_action": "new", "appointment_procedure": "passport"}
    events, dispatcher = validate(text, "appointment_unit", slots)
    assert slot_events(events)["appointment_unit"] == expected
    assert dispatcher.messages == []


def test_namesake_units_are_offered_as_buttons(fakes: Any) -> None:  # noqa: F811
    events, dispatcher = validate("tân đông hiệp", "appointment_unit", {})
    assert slot_events(events)["appointment_unit"] is None
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["XA-TANDONGHIEP-1", "XA-TANDONGHIEP-2"]


def test_unknown_place_is_reasked(fakes: Any) -> None:  # noqa: F811
    events, dispatcher = validate("sao hỏa", "appointment_unit", {})
    assert slot_events(events)["appointment_unit"] is None
    assert "chưa tìm thấy xã/phường" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "day", "part"),
    [
        ("mai", "2026-11-30", None),
        ("sáng thứ 5", "2026-12-03", "morning"),
        ("ngay 3 thang 12", "2026-12-03", None),
    ],
)
def test_dates(fakes: Any, text: str, day: str, part: str | None) -> None:  # noqa: F811
    events, dispatcher = validate(text, "appointment_date")
    slots = slot_events(events)
    assert slots["appointment_date"] == day
    assert slots["appointment_part_of_day"] == part
    assert dispatcher.messages == []


def test_date_with_a_time_fills_both(fakes: Any) -> None:  # noqa: F811
    events, _ = validate("9h30 sáng mai", "appointment_date")
    slots = slot_events(events)
    assert slots["appointment_date"] == "2026-11-30"
    assert slots["appointment_time"] == "09:30"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/2", "tháng 2 chỉ có 28 hoặc 29 ngày"),
        ("thứ 7", "không nhận lịch"),  # the fake unit is closed at weekends
        ("abc", "chưa hiểu ngày"),
    ],
)
def test_bad_dates_say_why(fakes: Any, text: str, reason: str) -> None:  # noqa: F811
    events, dispatcher = validate(text, "appointment_date")
    assert slot_events(events)["appointment_date"] is None
    assert reason in dispatcher.messages[0]["text"]


def test_free_time_is_accepted(fakes: Any) -> None:  # noqa: F811
    slots = {**CHOSEN, "appointment_date": "2026-11-30"}
    events, dispatcher = validate("9 giờ rưỡi", "appointment_time", slots)
    assert slot_events(events)["appointment_time"] == "09:30"
    assert dispatcher.messages == []


def test_full_slot_offers_the_nearest_free_ones(fakes: Any) -> None:  # noqa: F811
    slots = {**CHOSEN, "appointment_date": "2026-11-30"}
    events, dispatcher = validate("9h", "appointment_time", slots)
    assert slot_events(events)["appointment_time"] is None
    message = dispatcher.messages[0]
    assert "không còn chỗ" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["08:30", "09:30", "08:00"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("25h", "từ 0 đến 23"), ("12h", "không phải giờ nhận hồ sơ")],
)
def test_bad_times_say_why(fakes: Any, text: str, reason: str) -> None:  # noqa: F811
    slots = {**CHOSEN, "appointment_date": "2026-11-30"}
    events, dispatcher = validate(text, "appointment_time", slots)
    assert slot_events(events)["appointment_time"] is None
    assert reason in dispatcher.messages[0]["text"]


def test_time_buttons_keep_to_the_morning(fakes: Any) -> None:  # noqa: F811
    slots = {
        **CHOSEN,
        "appointment_date": "2026-11-30",
        "appointment_part_of_day": "morning",
    }
    tracker = form_tracker("", form=FORM, requested="appointment_time", slots=slots)
    _, dispatcher = run(ActionAskAppointmentTime(), tracker)
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["07:30", "08:00", "08:30", "09:30", "10:00", "10:30"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [("nguyễn văn an", "Nguyễn Văn An"), ("an", None), ("Lê 123", None)],
)
def test_full_name(fakes: Any, text: str, ok: str | None) -> None:  # noqa: F811
    events, _ = validate(text, "full_name")
    assert slot_events(events)["full_name"] == ok


BOOKED = {
    **CHOSEN,
    "appointment_date": "2026-11-30",
    "appointment_time": "09:30",
    "full_name": "Nguyễn Văn An",
    "phone": "+84912345678",
}


def test_submit_books_and_clears_personal_data(fakes: Any) -> None:  # noqa: F811
    events, dispatcher = run(ActionSubmitAppointment(), form_tracker("", slots=BOOKED))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_appointment_booked"
    assert message["code"] == "KMPAA2"
    assert message["unit"] == "Công an phường Dĩ An"
    assert message["day"] == "30/11/2026" and message["start"] == "09:30"
    assert message["phone"] == "0912***678"
    slots = slot_events(events)
    assert slots["full_name"] is None and slots["phone"] is None
    assert fakes.BOOKING.bookings["KMPAA2"].procedure == "identity_card"


def test_submit_on_a_slot_taken_meanwhile_asks_the_time_again(fakes: Any) -> None:  # noqa: F811
    slots = {**BOOKED, "appointment_time": "09:00"}
    events, dispatcher = run(ActionSubmitAppointment(), form_tracker("", slots=slots))
    assert "đã kín chỗ" in dispatcher.messages[0]["text"]
    assert slot_events(events) == {"appointment_time": None}
    assert events[-1] == {
        "event": "followup",
        "name": "appointment_form",
        "timestamp": None,
    }
    assert fakes.BOOKING.bookings == {}


def test_submit_after_cancel_does_nothing(fakes: Any) -> None:  # noqa: F811
    events, dispatcher = run(ActionSubmitAppointment(), form_tracker("thôi"))
    assert events == [] and dispatcher.messages == []
    assert fakes.BOOKING.calls == []


def test_cancel_and_move_need_the_right_phone(fakes: Any) -> None:  # noqa: F811
    run(ActionSubmitAppointment(), form_tracker("", slots=BOOKED))
    wrong = {"appointment_action": "cancel", "booking_code": "KMPAA2"}
    _, dispatcher = run(
        ActionSubmitAppointment(),
        form_tracker("", slots={**wrong, "phone": "+84987654321"}),
    )
    assert "không tìm thấy lịch hẹn" in dispatcher.messages[0]["text"]
    assert fakes.BOOKING.bookings["KMPAA2"].status == "booked"
    moving = {
        "appointment_action": "move",
        "booking_code": "KMPAA2",
        "phone": "+84912345678",
        "appointment_date": "2026-12-01",
        "appointment_time": "14:00",
    }
    _, dispatcher = run(ActionSubmitAppointment(), form_tracker("", slots=moving))
    assert dispatcher.messages[0]["response"] == "utter_appointment_moved"
    assert dispatcher.messages[0]["start"] == "14:00"
    _, dispatcher = run(
        ActionSubmitAppointment(),
        form_tracker("", slots={**wrong, "phone": "+84912345678"}),
    )
    assert dispatcher.messages[0]["response"] == "utter_appointment_cancelled"
    assert fakes.BOOKING.bookings["KMPAA2"].status == "cancelled"


def test_a_name_read_as_a_weak_question_stays_a_name(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "Lê Văn Tám",
        "ask_temporary_absence",
        confidence=0.51,
        form=FORM,
        requested="full_name",
        slots=CHOSEN,
        new_slots={"full_name": "Lê Văn Tám"},
    )
    events, _ = run(ValidateAppointmentForm(), tracker)
    assert slot_events(events)["full_name"] == "Lê Văn Tám"


def test_a_confident_question_is_not_taken_as_a_name(fakes: Any) -> None:  # noqa: F811
    text = "làm hộ chiếu hết bao nhiêu tiền vậy"
    tracker = form_tracker(
        text,
        "ask_passport",
        confidence=0.98,
        form=FORM,
        requested="full_name",
        slots=CHOSEN,
        new_slots={"full_name": text},
    )
    events, dispatcher = run(ValidateAppointmentForm(), tracker)
    assert events[-1]["event"] == "action_execution_rejected"
    assert slot_events(events) == {"full_name": None}
    assert dispatcher.messages == []


def test_submit_on_a_day_no_longer_bookable_asks_the_date_again(
    fakes: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def closed(*args: Any, **kwargs: Any) -> Any:
        raise NotBookable("holiday")

    monkeypatch.setattr(sys.modules["services.booking"], "book", closed)
    events, dispatcher = run(ActionSubmitAppointment(), form_tracker("", slots=BOOKED))
    assert "ngày nghỉ lễ" in dispatcher.messages[0]["text"]
    assert slot_events(events) == {"appointment_date": None, "appointment_time": None}
    assert events[-1]["event"] == "followup"


def test_no_second_list_of_times_after_the_nearest_were_offered(
    fakes: Any,  # noqa: F811
) -> None:
    slots = {**CHOSEN, "appointment_date": "2026-11-30"}
    tracker = form_tracker("9h", form=FORM, requested="appointment_time", slots=slots)
    tracker.events.append(
        {"event": "bot", "text": "...", "data": {"buttons": [{"title": "09:30"}]}}
    )
    _, dispatcher = run(ActionAskAppointmentTime(), tracker)
    assert dispatcher.messages == []
