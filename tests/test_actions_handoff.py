"""Handing a conversation to an officer; stopping a form for an emergency."""

from typing import Any

from actions.handoff import ActionRequestHandoff, ActionStopForm
from tests.form_trackers import fakes, form_tracker, run, slot_events  # noqa: F401


def test_queued_with_position_wait_and_hours(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "cho gặp cán bộ", "human_handoff", metadata={"unit": "XA-DIAN"}
    )
    events, dispatcher = run(ActionRequestHandoff(), tracker)
    assert fakes.HANDOFFS == [
        {"conversation": "citizen-1", "unit": "XA-DIAN", "channel": "rest"}
    ]
    message = dispatcher.messages[0]
    assert message["response"] == "utter_handoff_queued"
    assert message["position"] == 1 and message["wait"] == 5
    assert message["hours"] == fakes.HOURS_TEXT
    assert events == []


def test_out_of_hours(fakes: Any) -> None:  # noqa: F811
    fakes.OPEN_NOW["value"] = False
    tracker = form_tracker(
        "cho gặp cán bộ", "human_handoff", metadata={"unit": "XA-DIAN"}
    )
    _, dispatcher = run(ActionRequestHandoff(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_handoff_closed"


def test_without_a_unit_the_ward_is_asked_then_the_answer_queues(
    fakes: Any,  # noqa: F811
) -> None:
    events, dispatcher = run(
        ActionRequestHandoff(), form_tracker("gặp cán bộ", "human_handoff")
    )
    assert "xã/phường nào" in dispatcher.messages[0]["text"]
    assert slot_events(events) == {"awaiting_location": "action_request_handoff"}
    assert fakes.HANDOFFS == []
    reply = form_tracker(
        "phuong di an",
        "nlu_fallback",
        slots={"awaiting_location": "action_request_handoff"},
    )
    events, dispatcher = run(ActionRequestHandoff(), reply)
    assert fakes.HANDOFFS[0]["unit"] == "XA-DIAN"
    assert dispatcher.messages[0]["response"] == "utter_handoff_queued"
    assert slot_events(events) == {"unit": "XA-DIAN", "awaiting_location": None}


def test_handoff_in_a_form_leaves_it(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "/human_handoff",
        "human_handoff",
        form="appointment_form",
        requested="phone",
        slots={"full_name": "Nguyễn Văn An"},
        metadata={"unit": "XA-DIAN"},
    )
    events, _ = run(ActionRequestHandoff(), tracker)
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert slot_events(events)["full_name"] is None


def test_stop_form_after_an_emergency(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "cháy nhà",
        "emergency",
        form="tip_form",
        requested="tip_where",
        slots={"tip_what": "trộm xe"},
    )
    events, dispatcher = run(ActionStopForm(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_form_stopped_for_emergency"
    assert events[-1] == {"event": "active_loop", "name": None, "timestamp": None}
    assert slot_events(events)["tip_what"] is None
    events, dispatcher = run(ActionStopForm(), form_tracker("cháy nhà", "emergency"))
    assert events == [] and dispatcher.messages == []
