"""The first stage of the two-stage fallback: "did you mean ...?" as buttons.

Before asking, some unclear messages are understood anyway: a follow-up naming
only a kind of information ("còn lệ phí thì sao?") is answered for the
procedure being discussed, a reply to "which commune/ward?" by the action that
asked, and a question about the "sổ hộ khẩu" with what replaced it.

The second stage (menu and officer) is decided here too, from what the bot
last said: an unclear answer, or "none of these" (``/deny``, which
action_acknowledge receives), right after the "did you mean" question gets
utter_fallback_menu. (A rule keyed on the previous action could not tell the
question from a follow-up this action answered.)
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

# read as out of scope, only a very short message can be a follow-up: "phí bao
# nhiêu" is one, "giá vàng hôm nay bao nhiêu" is not
MAX_OUT_OF_SCOPE_FOLLOW_UP_WORDS = 4


def procedure_follow_up(
    dispatcher: CollectingDispatcher, tracker: Tracker, max_words: int | None = None
) -> List[Dict[str, Any]] | None:
    """A message naming a kind of information ("mấy ngày thì có ạ") while a
    procedure is being discussed continues that procedure, whatever small-talk
    intent it was read as; None when it is not such a follow-up. The kind is the
    NLU's info_type entity or, in a short message, the cue words of
    knowledge/info_cues.yml. With ``max_words``, a longer message never is."""
    procedure = latest_entity(tracker, "procedure") or tracker.get_slot("procedure")
    if not procedure:
        return None
    words = len(fold(latest_text(tracker)).split())
    if max_words is not None and words > max_words:
        return None
    if latest_entity(tracker, "info_type") in knowledge.INFO_LABELS:
        return answer_procedure(dispatcher, tracker, str(procedure))
    # no kind found by the NLU ("phí bao nhiêu"): the cue words decide, for a
    # short message only (a long unclear one is not a follow-up)
    if words <= MAX_FOLLOW_UP_WORDS and asked_info_type(tracker):
        return answer_procedure(dispatcher, tracker, str(procedure))
    return None


def asked_which_intent(tracker: Tracker) -> bool:
    """Whether the bot's last message before the latest user message was the
    "did you mean ...?" question."""
    prompt = menu.text("clarify_prompt")
    seen_latest = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_latest:
                return False  # the turn before had no bot message
            seen_latest = True
        elif kind == "bot" and seen_latest:
            return event.get("text") == prompt
    return False


class ActionAcknowledge(Action):
    """A "yes" or "no" out of the blue: a procedure follow-up read as one is
    answered; "none of these" to the "did you mean" question gets the menu and
    an officer; otherwise "anything else?"."""

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
        if asked_which_intent(tracker):
            dispatcher.utter_message(response="utter_fallback_menu")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionOutOfScope(Action):
    """Out of scope, except a short follow-up about the procedure being
    discussed ("phí bao nhiêu" right after a passport answer), which the NLU
    may read as out of scope: that is answered for the procedure."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        follow_up = procedure_follow_up(
            dispatcher, tracker, MAX_OUT_OF_SCOPE_FOLLOW_UP_WORDS
        )
        if follow_up is not None:
            return follow_up
        dispatcher.utter_message(response="utter_out_of_scope")
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
        if asked_which_intent(tracker):  # still unclear: the second stage
            dispatcher.utter_message(response="utter_fallback_menu")
            return []
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
