"""Procedure questions: answered by (procedure, info_type) from services.knowledge.

A follow-up ("còn lệ phí thì sao?", "online được không?", "mấy ngày?") names
a kind of information but no procedure: it keeps the procedure of the
conversation. National facts never need the citizen's commune; a known unit
only adds its own notes.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    intent_buttons,
    latest_entity,
    latest_intent,
    latest_text,
    payload,
    send,
    unit_code,
)
from services import knowledge, menu
from services.procedures import INTENT_BY_PROCEDURE, PROCEDURE_BY_INTENT
from vietnamese.text import fold

# "còn lệ phí thì sao?", "vậy làm online được ko ad": follow-ups are short.
MAX_FOLLOW_UP_WORDS = 8

# The row under every answer: the next steps a citizen usually takes.
NEXT_STEP_BUTTONS = [
    {"title": "Lấy biểu mẫu", "payload": "/request_form"},
    {"title": "Đặt lịch hẹn", "payload": "/book_appointment"},
    {"title": "Liên hệ đơn vị", "payload": "/ask_contact"},
]


def asked_info_type(tracker: Tracker) -> str | None:
    """The kind of answer asked: the message's info_type entity when it is one of
    ours (the CRF can return a partial span such as "phat bao"), else the cue
    words of knowledge/info_cues.yml."""
    entity = latest_entity(tracker, "info_type")
    if entity in knowledge.INFO_LABELS:
        return entity
    return knowledge.detect_info_type(latest_text(tracker))


def question_procedure(tracker: Tracker) -> str | None:
    """Which procedure the latest message asks about.

    A button payload's procedure entity is explicit and wins. A message naming
    an info_type but no procedure is a follow-up: the slot's procedure. Else the
    intent decides, then a procedure entity, then the slot.
    """
    entity = latest_entity(tracker, "procedure")
    slot = tracker.get_slot("procedure")
    text = latest_text(tracker)
    if entity and text.startswith("/"):
        return entity
    intent = latest_intent(tracker)
    asked = asked_info_type(tracker)
    follow_up = asked and not entity and slot
    # a long message is a new question even without a procedure entity
    # ("ko khai báo thanh kiếm gia bảo thì bị phạt ko"): its intent decides
    if follow_up and (
        intent not in PROCEDURE_BY_INTENT
        or len(fold(text).split()) <= MAX_FOLLOW_UP_WORDS
    ):
        return str(slot)
    # ask_complaint covers how both complaints and crime reports work
    if intent == "ask_complaint" and entity == "crime_report":
        return entity
    if intent in PROCEDURE_BY_INTENT:
        return PROCEDURE_BY_INTENT[intent]
    return entity or (str(slot) if slot else None)


def answer_procedure(
    dispatcher: CollectingDispatcher, tracker: Tracker, procedure: str
) -> List[Dict[str, Any]]:
    """Send the answer for ``procedure`` (kind from the message) and return the
    slot events: the procedure kept, info_type cleared for the next follow-up."""
    text = latest_text(tracker)
    # the entity of this message only: a kind asked turns ago (the slot may
    # still hold it after another action) is not asked again
    info_type = asked_info_type(tracker)
    if knowledge.mentions_household_book(text):
        send(dispatcher, knowledge.household_book().messages)
    result = knowledge.answer(
        procedure,
        info_type=info_type,
        unit=unit_code(tracker),
        case=knowledge.detect_case(procedure, text),
    )
    if result.legal_basis is None and result.info_types:
        # the overview (or no fact of that kind): one button per kind
        intent = INTENT_BY_PROCEDURE.get(procedure, "ask_complaint")
        buttons = [
            {
                "title": knowledge.INFO_LABELS[kind],
                "payload": payload(intent, procedure=procedure, info_type=kind),
            }
            for kind in result.info_types
        ]
        send(dispatcher, result.messages, buttons)
    else:
        send(dispatcher, result.messages, NEXT_STEP_BUTTONS)
    return [SlotSet("procedure", procedure), SlotSet("info_type", None)]


class ActionAnswerProcedure(Action):
    def name(self) -> str:
        return "action_answer_procedure"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        procedure = question_procedure(tracker)
        if procedure is None:
            if knowledge.mentions_household_book(latest_text(tracker)):
                send(dispatcher, knowledge.household_book().messages)
            dispatcher.utter_message(response="utter_public_services")
            return []
        return answer_procedure(dispatcher, tracker, procedure)


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
