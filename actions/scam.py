"""check_scam: match the citizen's story against the scam catalogue."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, send
from services import knowledge

SCAM_BUTTONS = [
    {"title": "Báo tin, tố giác", "payload": "/report_crime"},
    {"title": "Gặp cán bộ", "payload": "/human_handoff"},
]


class ActionCheckScam(Action):
    def name(self) -> str:
        return "action_check_scam"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        text = latest_text(tracker)
        reply, _ = knowledge.scam_answer("" if text.startswith("/") else text)
        send(dispatcher, reply.messages, SCAM_BUTTONS)
        return []
