"""Procedure questions.

For now an honest interim answer naming the procedure understood and the
official channels; the knowledge issue replaces it with the full answer
(documents, fee, duration, place, online, form) and its legal basis.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import intent_buttons
from services import menu
from services.procedures import INTENT_BY_PROCEDURE, procedure_for


class ActionAnswerProcedure(Action):
    def name(self) -> str:
        return "action_answer_procedure"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        procedure = procedure_for(intent, tracker.get_slot("procedure"))
        if procedure is None:
            dispatcher.utter_message(response="utter_public_services")
            return []
        dispatcher.utter_message(
            response="utter_interim_procedure",
            procedure_title=menu.label(INTENT_BY_PROCEDURE[procedure]),
        )
        return [SlotSet("procedure", procedure)]


class ActionShowPublicServices(Action):
    def name(self) -> str:
        return "action_show_public_services"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        dispatcher.utter_message(
            text=menu.text("public_services_prompt"),
            buttons=intent_buttons(menu.public_services()),
        )
        return []
