"""How far an application has got: ``application_status_form`` (dossier code
and the phone number given on the application), then the lookup.

Wrong tries and the 15-minute lock are counted by services/applications.py;
its errors carry the message to show.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms_base import ValidatedForm, Verdict
from services.validation import parse_application_code

FORM_SLOTS = ("application_code", "phone")


def _entity(tracker: Tracker, name: str) -> Any:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name:
            return entity.get("value")
    return None


class ValidateApplicationStatusForm(ValidatedForm):
    form_slots: ClassVar[Tuple[str, ...]] = FORM_SLOTS
    purpose: ClassVar[str] = "tra cứu hồ sơ"
    phone_problem: ClassVar[str] = (
        "Dạ, số điện thoại chưa đúng. Anh/chị nhập số đã ghi trong hồ sơ, "
        "ví dụ 0912 345 678 ạ."
    )

    def name(self) -> str:
        return "validate_application_status_form"

    # the message that started the form may already hold the code and phone
    def extract_application_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("application_code"):
            return {}
        code = parse_application_code(tracker.latest_message.get("text") or "")
        return {"application_code": code} if code else {}

    def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        # (not the contact shared on Zalo: the phone on the application may differ)
        if tracker.get_slot("phone"):
            return {}
        value = _entity(tracker, "phone_number")
        return {"phone": value} if value else {}

    def check_application_code(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        code = parse_application_code(str(value))
        if code:
            return Verdict.accept("application_code", code)
        return Verdict.refuse(
            "Dạ, mã hồ sơ chưa đúng. Mã in trên giấy hẹn, dạng "
            "000.00.12.H31-250115-0001 hoặc HS20251234 ạ."
        )


class ActionLookupApplication(Action):
    def name(self) -> str:
        return "action_lookup_application"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        from services.applications import lookup
        from services.errors import ServiceError

        code, phone = tracker.get_slot("application_code"), tracker.get_slot("phone")
        reset: List[EventType] = [
            SlotSet(slot, None) for slot in (*FORM_SLOTS, "form_failures")
        ]
        if not code or not phone:
            return reset  # the form was left before the end
        try:
            view = lookup(code, phone, tracker.sender_id)
        except ServiceError as error:
            dispatcher.utter_message(
                text=error.citizen_message,
                buttons=[
                    {"title": "Nhập lại", "payload": "/check_application_status"},
                    {"title": "Gặp cán bộ", "payload": "/human_handoff"},
                ],
            )
            return reset
        dispatcher.utter_message(
            response="utter_application_status",
            code=code,
            status=view.status_label,
            last_changed=view.last_changed.strftime("%d/%m/%Y"),
            next_step=view.next_step,
        )
        return reset
