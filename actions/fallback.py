"""The first stage of the two-stage fallback: "did you mean ...?" as buttons.

Before asking, some unclear messages are understood anyway: a follow-up naming
only a kind of information ("còn lệ phí thì sao?") is answered for the
procedure being discussed, a reply to "which commune/ward?" by the action that
asked, and a question about the "sổ hộ khẩu" with what replaced it.

The second stage (menu and officer) is a rule: an unclear answer or "none of
these" right after this action gets utter_fallback_menu.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# contact and news register their answers to "which commune/ward?"
from actions import contact, news  # noqa: F401
from actions.common import (
    answer_pending_location,
    intent_buttons,
    latest_entity,
    latest_text,
    send,
)
from actions.procedures import (
    MAX_FOLLOW_UP_WORDS,
    answer_procedure,
    asked_info_type,
)
from services import knowledge, menu
from vietnamese.text import fold


def procedure_follow_up(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> List[Dict[str, Any]] | None:
    """A message naming a kind of information ("mấy ngày thì có ạ") while a
    procedure is being discussed continues that procedure, whatever small-talk
    intent it was read as; None when it is not such a follow-up. The kind is the
    NLU's info_type entity or, in a short message, the cue words of
    knowledge/info_cues.yml."""
    procedure = latest_entity(tracker, "procedure") or tracker.get_slot("procedure")
    if not procedure:
        return None
    if latest_entity(tracker, "info_type") in knowledge.INFO_LABELS:
        return answer_procedure(dispatcher, tracker, str(procedure))
    # no kind found by the NLU ("phí bao nhiêu"): the cue words decide, for a
    # short message only (a long unclear one is not a follow-up)
    text = latest_text(tracker)
    if len(fold(text).split()) <= MAX_FOLLOW_UP_WORDS and asked_info_type(tracker):
        return answer_procedure(dispatcher, tracker, str(procedure))
    return None


class ActionAcknowledge(Action):
    """A "yes" or "no" out of the blue: a procedure follow-up read as one is
    answered; otherwise "anything else?"."""

    def name(self) -> str:
        return "action_acknowledge"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        follow_up = procedure_follow_up(dispatcher, tracker)
        if follow_up is not None:
            return follow_up
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionClarifyIntent(Action):
    def name(self) -> str:
        return "action_clarify_intent"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        pending = answer_pending_location(dispatcher, tracker, None)
        if pending is not None:
            return pending
        follow_up = procedure_follow_up(dispatcher, tracker)
        if follow_up is not None:
            return follow_up
        if knowledge.mentions_household_book(latest_text(tracker)):
            send(
                dispatcher,
                knowledge.household_book().messages,
                intent_buttons(["ask_residence_confirmation", "ask_electronic_id"]),
            )
            return []
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
