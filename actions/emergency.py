"""Emergencies: the right number on the first line, whatever else is going on."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from services import emergency


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        for line in emergency.reply(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(text=line)
        return []
