"""Handing a conversation to an officer of its unit.

The conversation joins the unit's queue (services/handoff.py); the citizen is
told the hours and the expected wait. While an officer holds it, the handoff
service pauses the conversation (Rasa's ConversationPaused event, interfaces.md
§6), so the assistant does not answer until it is released.
"""

from __future__ import annotations

from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import booking, status, tips
from actions.common import LOCATION_ANSWERS, answer_pending_location, find_unit

# every slot a form fills: left behind when a form is stopped from outside
ALL_FORM_SLOTS = sorted(
    {*booking.FORM_SLOTS, *status.FORM_SLOTS, *tips.FORM_SLOTS, "form_failures"}
)


def stop_form_events(tracker: Tracker) -> List[EventType]:
    """Leave whatever form is active, its answers cleared."""
    if not tracker.active_loop.get("name"):
        return []
    return [
        *(SlotSet(slot, None) for slot in ALL_FORM_SLOTS),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
    ]


ACTION = "action_request_handoff"


def respond(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Queue the conversation at its unit; without a known unit, ask for the
    commune/ward first (actions/common.py find_unit) and queue on the answer."""
    from services import handoff
    from services.errors import ServiceError

    unit, events = find_unit(tracker, dispatcher, ACTION, "human_handoff")
    if unit is None:
        return events
    channel = tracker.get_latest_input_channel() or "rest"
    try:
        ticket = handoff.request_handoff(tracker.sender_id, unit.code, channel)
    except ServiceError as error:
        dispatcher.utter_message(text=error.citizen_message)
        return events
    if ticket.open_now:
        dispatcher.utter_message(
            response="utter_handoff_queued",
            position=ticket.position,
            wait=ticket.expected_wait_minutes,
            hours=ticket.hours_text,
        )
    else:
        dispatcher.utter_message(
            response="utter_handoff_closed", hours=ticket.hours_text
        )
    return events


LOCATION_ANSWERS[ACTION] = respond


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return ACTION

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = stop_form_events(tracker)
        pending = answer_pending_location(dispatcher, tracker, ACTION)
        if pending is not None:
            return [*events, *pending]
        return [*events, *respond(dispatcher, tracker)]


class ActionStopForm(Action):
    """After an emergency reply in the middle of a form: the form stops (a
    citizen in danger is not asked for a date); the answers are cleared."""

    def name(self) -> str:
        return "action_stop_form"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = stop_form_events(tracker)
        if events:
            dispatcher.utter_message(response="utter_form_stopped_for_emergency")
        return events
