"""One form-validation base so every form retries, cancels and escalates alike.

A form's validation action subclasses :class:`ValidatedForm` and writes one
``check_<slot>`` method per slot, returning a :class:`Verdict`. The base then
gives every form the same behaviour:

- a bad value is refused with the validator's own Vietnamese re-ask, and a
  per-slot failure counter (slot ``form_failures``) goes up; the third failure
  of a slot also offers an officer ("Gặp cán bộ" / "Hủy");
- "thôi", "hủy", "huỷ", "cancel", "thoi", "dừng lại" (alone, with or without
  politeness words) leave the form at once: a polite message, every slot of the
  form reset, ``requested_slot`` None and the loop deactivated;
- a value that does not fit while the message reads as a question the
  assistant answers elsewhere (a procedure question, an emergency, an officer)
  rejects the form's turn, so the rules answer it and the form resumes.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, FrozenSet, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from services.procedures import PROCEDURE_BY_INTENT
from services.validation import find_phone
from vietnamese.text import strip_diacritics

FAILURES_SLOT = "form_failures"
MAX_FAILURES = 3

# Whole messages (folded, politeness words removed) that leave a form.
CANCEL_PHRASES: FrozenSet[str] = frozenset(
    {
        "thoi",
        "huy",
        "huy bo",
        "cancel",
        "stop",
        "dung",
        "dung lai",
        "thoat",
        "thoi khong can nua",
        "thoi khong lam nua",
        "khong lam nua",
        "thoi dung lai",
        "thoi huy",
        "huy di",
    }
)
_POLITENESS = frozenset(
    {"a", "ad", "oi", "nha", "nhe", "nhen", "di", "em", "minh", "toi", "ban", "vay"}
)
_TEENCODE = {"ko": "khong", "k": "khong", "hong": "khong", "hok": "khong"}

# Intents that are questions answered elsewhere: a value that does not fit plus
# one of these means the citizen asked something else in the middle of a form.
INTERRUPTING_INTENTS: FrozenSet[str] = frozenset(
    {"emergency", "human_handoff", *PROCEDURE_BY_INTENT}
)
INTERRUPTION_CONFIDENCE = 0.6
# Free text (a name, what happened) fits almost anything, so there only a
# confident question counts: a name read as a procedure question at 0.51
# ("Lê Văn Tám") stays a name.
FREE_TEXT_INTERRUPTION_CONFIDENCE = 0.8
# Phrases that make a short message a request for an officer rather than a name:
# "Nguyễn Văn An" may be read as human_handoff, "gặp cán bộ" must stay one.
_OFFICER_PHRASES = (
    "can bo", "nguoi that", "nhan vien", "gap", "noi chuyen", "admin", "truc",
    "tu van", "ho tro", "giup", "ai do", "co ai",
)  # fmt: skip


def looks_like_name(text: str) -> bool:
    """2-6 words of letters only, none of them asking for an officer."""
    words = re.findall(r"\w+", text)
    if not 2 <= len(words) <= 6 or not all(w.isalpha() for w in words):
        return False
    folded = f" {' '.join(strip_diacritics(w.lower()) for w in words)} "
    return not any(f" {phrase} " in folded for phrase in _OFFICER_PHRASES)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one slot's check: the value to keep (and any other slots
    the same answer filled), or the re-ask to send (text and buttons)."""

    ok: bool
    slots: Dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    buttons: Tuple[Dict[str, str], ...] = ()

    @classmethod
    def accept(cls, slot: str, value: Any, **others: Any) -> Verdict:
        return cls(True, {slot: value, **others})

    @classmethod
    def refuse(cls, problem: str, buttons: Tuple[Dict[str, str], ...] = ()) -> Verdict:
        return cls(False, {}, problem, buttons)


def folded_words(text: str) -> List[str]:
    """Lower-case words without diacritics, common teencode spelled out."""
    words = re.findall(r"\w+", strip_diacritics(text or "").lower())
    return [_TEENCODE.get(word, word) for word in words]


def is_cancel(text: str) -> bool:
    """Whether a message asks to leave the form ("thôi", "hủy ạ", "cancel")."""
    words = [w for w in folded_words(text) if w not in _POLITENESS]
    return bool(words) and " ".join(words) in CANCEL_PHRASES


def shared_contact(tracker: Tracker) -> Dict[str, Any]:
    """The contact a Zalo user chose to share (metadata.user_info), or {}."""
    metadata = tracker.latest_message.get("metadata") or {}
    info = metadata.get("user_info") if isinstance(metadata, dict) else None
    return info if isinstance(info, dict) else {}


def _answered(tracker: Tracker, slot: str) -> bool:
    """The slot holds an earlier answer (not just this message's own text, which
    is only the channel's "[thông tin liên hệ]" marker when a contact is shared)."""
    value = tracker.get_slot(slot)
    return bool(value) and value != tracker.latest_message.get("text")


class ValidatedForm(FormValidationAction):
    """The shared behaviour of every form (see the module docstring)."""

    # every slot the form fills, reset when the form is left or completed
    form_slots: ClassVar[Tuple[str, ...]] = ()
    # what the citizen was doing, for the cancel message ("đặt lịch hẹn")
    purpose: ClassVar[str] = ""
    # slots taking free text: a confident question is never taken as their value
    free_text_slots: ClassVar[FrozenSet[str]] = frozenset()
    # the re-ask for a phone number that is not one
    phone_problem: ClassVar[str] = (
        "Dạ, số điện thoại chưa đúng. Anh/chị nhập số di động 10 số, "
        "ví dụ 0912 345 678 ạ."
    )

    @abc.abstractmethod
    def name(self) -> str:
        """``validate_<form>``: each form names its own validation action."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if is_cancel(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(
                response="utter_form_cancelled", purpose=self.purpose
            )
            return [
                *self.reset_events(),
                SlotSet(REQUESTED_SLOT, None),
                ActiveLoop(None),
            ]
        extraction = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extraction)
        events, interrupted = await self._checked(dispatcher, tracker, domain)
        if interrupted:
            return [*events, ActionExecutionRejected(self.form_name())]
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return [*events, next_slot] if next_slot else events

    # Zalo's "share your contact" (metadata.user_info from the channel) fills
    # the contact questions of any form that asks them
    def extract_full_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        # the slot mapping leaves out officer requests; a name read as one
        # ("Nguyễn Văn An" -> human_handoff) is still the answer asked for
        text = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if (
            tracker.get_slot(REQUESTED_SLOT) == "full_name"
            and intent == "human_handoff"
            and looks_like_name(text)
        ):
            return {"full_name": text}
        name = shared_contact(tracker).get("name")
        if _answered(tracker, "full_name") or not isinstance(name, str) or not name:
            return {}
        return {"full_name": name}

    def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        phone = shared_contact(tracker).get("phone")
        if _answered(tracker, "phone") or not isinstance(phone, str) or not phone:
            return {}
        return {"phone": phone}

    def check_phone(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        """Every form asks a phone number the same way (services.validation)."""
        phone = find_phone(str(value))
        if phone:
            return Verdict.accept("phone", phone)
        return Verdict.refuse(self.phone_problem)

    def reset_events(self) -> List[EventType]:
        """Every slot of the form back to empty (personal data leaves the slots)."""
        return [SlotSet(slot, None) for slot in (*self.form_slots, FAILURES_SLOT)]

    @staticmethod
    def interrupted_by_question(
        tracker: Tracker, threshold: float = INTERRUPTION_CONFIDENCE
    ) -> bool:
        intent = tracker.latest_message.get("intent") or {}
        return (
            intent.get("name") in INTERRUPTING_INTENTS
            and float(intent.get("confidence") or 0) >= threshold
        )

    async def _checked(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Tuple[List[EventType], bool]:
        """Every slot set this turn, checked by its ``check_<slot>`` method."""
        wanted = await self.required_slots(
            self.domain_slots(domain), dispatcher, tracker, domain
        )
        failures: Dict[str, int] = dict(tracker.get_slot(FAILURES_SLOT) or {})
        results: Dict[str, Any] = {}
        for slot, value in tracker.slots_to_validate().items():
            check = getattr(self, f"check_{slot}", None)
            if slot not in wanted or check is None:
                continue
            if value is None:  # emptied by an extraction: say so to Rasa too
                results[slot] = None
                continue
            if (
                slot in self.free_text_slots
                and not (slot == "full_name" and looks_like_name(str(value)))
                and self.interrupted_by_question(
                    tracker, FREE_TEXT_INTERRUPTION_CONFIDENCE
                )
            ):
                return [SlotSet(slot, None)], True
            verdict: Verdict = check(value, dispatcher, tracker, domain)
            if verdict.ok:
                results.update(verdict.slots)
                failures.pop(slot, None)
                tracker.slots.update(verdict.slots)
                continue
            results[slot] = None
            if self.interrupted_by_question(tracker):
                return [SlotSet(slot, None)], True
            failures[slot] = failures.get(slot, 0) + 1
            if failures[slot] >= MAX_FAILURES:
                dispatcher.utter_message(text=verdict.problem)
                dispatcher.utter_message(response="utter_form_offer_officer")
            else:
                dispatcher.utter_message(
                    text=verdict.problem, buttons=list(verdict.buttons)
                )
        if results:
            # only when something was checked: an empty answer lets Rasa reject
            # the form's turn for a message that filled nothing
            results[FAILURES_SLOT] = failures or None
        return [SlotSet(slot, value) for slot, value in results.items()], False


class ActionAskPhone(Action):
    """The phone question, worded for the form that asks it."""

    def name(self) -> str:
        return "action_ask_phone"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        form = tracker.active_loop.get("name")
        response = {
            "application_status_form": "utter_ask_phone_application",
            "tip_form": "utter_ask_phone_tip",
        }.get(form or "", "utter_ask_phone")
        if tracker.get_slot("appointment_action") in ("cancel", "move"):
            response = "utter_ask_phone_booking"
        dispatcher.utter_message(response=response)
        return []
