"""ask_news: the latest five items of the citizen's unit and province."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import LOCATION_ANSWERS, answer_pending_location, find_unit, send
from services import knowledge

ACTION = "action_news"
NEWS_BUTTONS = [
    {"title": "Cảnh báo lừa đảo", "payload": "/check_scam"},
    {"title": "Xem menu", "payload": "/main_menu"},
]


def respond(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
    unit, events = find_unit(tracker, dispatcher, ACTION, "ask_news")
    if unit is not None:
        send(dispatcher, knowledge.news_answer(unit.code).messages, NEWS_BUTTONS)
    return events


LOCATION_ANSWERS[ACTION] = respond


class ActionNews(Action):
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
