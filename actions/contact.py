"""ask_contact: the unit's address, phone, hours and map link."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import LOCATION_ANSWERS, answer_pending_location, find_unit, send
from services import knowledge

ACTION = "action_contact"


def respond(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
    unit, events = find_unit(tracker, dispatcher, ACTION, "ask_contact")
    if unit is not None:
        send(dispatcher, knowledge.contact(unit.code).messages)
    return events


LOCATION_ANSWERS[ACTION] = respond


class ActionContact(Action):
    def name(self) -> str:
        return ACTION

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        pending = answer_pending_location(dispatcher, tracker, ACTION)
        if pending is not None:
            return pending
        return respond(dispatcher, tracker)
