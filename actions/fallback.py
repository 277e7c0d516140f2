"""The first stage of the two-stage fallback: "did you mean ...?" as buttons.

The second stage (menu and officer) is a rule: an unclear answer or "none of
these" right after this action gets utter_fallback_menu.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import intent_buttons
from services import menu


class ActionClarifyIntent(Action):
    def name(self) -> str:
        return "action_clarify_intent"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        likely = menu.suggestions(
            (item["name"], float(item.get("confidence") or 0)) for item in ranking
        )
        if not likely:
            dispatcher.utter_message(response="utter_fallback_menu")
            return []
        buttons = intent_buttons(likely)
        buttons.append({"title": menu.text("clarify_none"), "payload": "/deny"})
        dispatcher.utter_message(text=menu.text("clarify_prompt"), buttons=buttons)
        return []
