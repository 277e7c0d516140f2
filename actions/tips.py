"""Confidential tips: ``tip_form`` (what, where, when, optional evidence,
anonymous unless the citizen chooses to leave contact details), or more
information added to an earlier tip by its reference code.

A message saying someone is in danger now gets the emergency number first
(services/danger.py), before any question of the form. The tip is stored
encrypted by services/tips.py; its slots are cleared once it is stored.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Dict, FrozenSet, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import unit_code
from actions.forms_base import ValidatedForm, Verdict, folded_words
from services import emergency
from services.danger import in_danger_now
from vietnamese.text import strip_diacritics

NEW_SLOTS = [
    "tip_action",
    "tip_what",
    "tip_where",
    "tip_when",
    "tip_evidence",
    "tip_contact_wanted",
]
CONTACT_SLOTS = ["full_name", "phone"]
ADD_SLOTS = ["tip_action", "tip_reference", "tip_addition"]
FORM_SLOTS = (*NEW_SLOTS, *CONTACT_SLOTS, "tip_reference", "tip_addition")
# a description this long in the message that starts the form is the tip itself
MIN_WORDS_OF_A_DESCRIPTION = 10
# ... or this many words besides "(tôi muốn) báo tin / tố giác (về)"
MIN_WORDS_OF_WHAT_HAPPENED = 5
# tip references: "TB-" and 8 characters without look-alikes (services/tips.py)
_REFERENCE_RE = re.compile(r"\bTB[\s.\-]?([A-HJ-NP-Z2-9]{8})\b")
_YES = {"co", "dong y", "de lai", "duoc", "ok", "yes", "uh", "vang", "u"}
_NO = {"khong", "an danh", "giu an danh", "khong can", "thoi khoi", "no", "khoi"}
_NO_EVIDENCE = {"khong", "khong co", "chua co", "khoi", "xong", "het", "bo qua"}


def attachments(tracker: Tracker) -> List[Dict[str, Any]]:
    """Attachments of the latest message (the Zalo channel puts them in the
    metadata as {"attachments": [...]}): references, not the files."""
    metadata = tracker.latest_message.get("metadata") or {}
    found = metadata.get("attachments") if isinstance(metadata, dict) else None
    return [item for item in found or [] if isinstance(item, dict)]


def reference_in(text: str) -> str | None:
    match = _REFERENCE_RE.search((text or "").upper())
    return f"TB-{match.group(1)}" if match else None


# "(tôi/em) (muốn/xin) báo tin / tố giác / phản ánh (về / việc)": saying that,
# not what happened
_REPORTING = re.compile(
    r"^(?:(?:cho\s+)?(?:toi|t|tui|em|e|minh|mk|chau|con)\s+)?(?:muon\s+|can\s+|xin\s+)?"
    r"(?:bao\s+tin|to\s+giac|to\s+cao|bao\s+cao|phan\s+anh|trinh\s+bao|bao)?"
    r"(?:\s+(?:ve|viec|la|voi|cong\s+an|a|ad))*\s*"
)
# a place named after "ở"/"tại": an address word, then up to the end of the clause
_PLACE = re.compile(
    r"\b(?:o|tai)\s+((?:so|hem|ngo|ngach|kiet|duong|pho|thon|ap|xom|ban|khu|to|"
    r"xa|phuong|cho|quan|nha|tiem|truong|cong|bai|cau|nga)\b[^,.;!?\n]*)"
)


# where a place ends: a time ("ở chợ Đà Lạt sáng nay") or the next clause ("ở
# chợ xã có đứa chuyên móc túi"). Read on the message as typed when it has
# diacritics ("đang" is a clause, "Đặng" a street name); without them only the
# unambiguous markers count.
_TIME_AFTER = (
    r"(?:sang|trua|chieu|toi|dem)\s+(?:nay|qua|hom qua|mai)|hom\s+(?:qua|nay)|"
    r"luc|khoang|vao\s+(?:luc|ngay|khoang)|ngay\s+\d"
)
_PLACE_END = re.compile(
    r"\s+(?:(?:sáng|trưa|chiều|tối|đêm)\s+(?:nay|qua|hôm qua|mai)|hôm\s+(?:qua|nay)|"
    r"lúc|khoảng|vào\s+(?:lúc|ngày|khoảng)|ngày\s+\d|"
    r"có|bị|đang|thì|thường|chuyên|vừa|mới|hay|đã|nghi|thấy)\b"
)
_PLACE_END_FOLDED = re.compile(
    rf"\s+(?:{_TIME_AFTER}|"
    r"co\s+(?:nguoi|dua|thang|may|nhom|ke|doi|con|ong|ba|bon|tui|mot|\d)|"
    r"thuong|chuyen|nghi)\b"
)


def describes(text: str) -> bool:
    """Whether a message says what happened, beyond "I want to report"."""
    words = folded_words(text)
    if len(words) >= MIN_WORDS_OF_A_DESCRIPTION:
        return True
    rest = _REPORTING.sub("", " ".join(words), count=1).split()
    return len(rest) >= MIN_WORDS_OF_WHAT_HAPPENED


def place_in(text: str) -> str | None:
    """The place a description names ("... ở hẻm 12 đường Phan Đình Phùng"), as
    written; None when it names none."""
    folded = strip_diacritics(text or "").lower()
    if len(folded) != len(text or ""):  # decomposed input: offsets differ
        return None
    match = _PLACE.search(folded)
    if not match:
        return None
    end = match.end(1)
    if folded != text.lower():  # with diacritics: the markers as typed
        stop = _PLACE_END.search(text.lower(), match.start(1), end)
    else:
        stop = _PLACE_END_FOLDED.search(folded, match.start(1), end)
    place = text[match.start(1) : stop.start() if stop else end].strip()
    return place if len(place.split()) >= 2 else None


def _answer(text: str, vocabulary: set) -> bool:
    words = " ".join(w for w in folded_words(text) if w not in {"a", "nha", "nhe"})
    return words in vocabulary


def tip_unit(tracker: Tracker, where: str | None) -> str | None:
    """Where the tip goes: the conversation's unit, else the commune/ward named
    in "where", else the province's police (one province per deployment)."""
    code = unit_code(tracker)
    if code:
        return code
    from services.units import all_units, resolve_location

    found = resolve_location(where) if where else []
    if len(found) == 1:
        return found[0].code
    provinces = [unit for unit in all_units() if unit.level == "tinh"]
    return provinces[0].code if len(provinces) == 1 else None


def emergency_first(dispatcher: CollectingDispatcher, text: str) -> None:
    for line in emergency.reply(text):
        dispatcher.utter_message(text=line)


class ValidateTipForm(ValidatedForm):
    form_slots: ClassVar[Tuple[str, ...]] = FORM_SLOTS
    purpose: ClassVar[str] = "báo tin"
    free_text_slots: ClassVar[FrozenSet[str]] = frozenset(
        {"tip_what", "tip_where", "full_name", "tip_addition"}
    )

    def name(self) -> str:
        return "validate_tip_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        if in_danger_now(text):
            emergency_first(dispatcher, text)
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        if tracker.get_slot("tip_action") == "add":
            return list(ADD_SLOTS)
        if tracker.get_slot("tip_contact_wanted") is True:
            return [*NEW_SLOTS, *CONTACT_SLOTS]
        return list(NEW_SLOTS)

    # ---- from the message that started the form -------------------------------------
    def extract_tip_action(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("tip_action"):
            return {}
        text = tracker.latest_message.get("text") or ""
        joined = " ".join(folded_words(text))
        adding = re.search(r"\b(?:bo sung|them thong tin|gui them)\b", joined)
        reference = reference_in(text)
        if adding and reference:
            return {"tip_action": "add", "tip_reference": reference}
        if adding:
            return {"tip_action": "add"}
        return {"tip_action": "new"}

    def extract_tip_what(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """The message that starts the form is the tip itself when it says what
        happened ("báo tin có người buôn ma túy ở hẻm 12 ..."), not only that the
        citizen wants to report; a place it names fills "where" as well."""
        # no question asked yet: this is the message that started the form (the
        # form is already active when its validation first runs)
        starting = not tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        if not starting or tracker.get_slot("tip_what") or not describes(text):
            return {}
        extracted: Dict[str, Any] = {"tip_what": text}
        place = place_in(text)
        if place and not tracker.get_slot("tip_where"):
            extracted["tip_where"] = place
        return extracted

    def extract_tip_evidence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Files sent at any point of a new tip are kept as its evidence; sent
        in place of another answer, they leave that question to be asked again
        (its text is only the channel's "[hình ảnh]" marker)."""
        files = attachments(tracker)
        if not files or tracker.get_slot("tip_action") == "add":
            return {}
        kept = tracker.get_slot("tip_evidence")
        extracted: Dict[str, Any] = {
            "tip_evidence": [*(kept if isinstance(kept, list) else []), *files]
        }
        requested = tracker.get_slot("requested_slot")
        if requested and requested != "tip_evidence":
            extracted[requested] = None
        return extracted

    def extract_tip_where(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A location shared on Zalo answers "where" (address and coordinates)."""
        metadata = tracker.latest_message.get("metadata") or {}
        place = metadata.get("location") if isinstance(metadata, dict) else None
        if tracker.get_slot("requested_slot") != "tip_where" or not isinstance(
            place, dict
        ):
            return {}
        parts = [str(place.get("address") or "").strip()]
        if place.get("lat") is not None and place.get("long") is not None:
            parts.append(f"({place['lat']}, {place['long']})")
        where = " ".join(p for p in parts if p)
        return {"tip_where": where} if where else {}

    # ---- checks ---------------------------------------------------------------------
    def check_tip_action(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        return Verdict.accept("tip_action", value if value == "add" else "new")

    def check_tip_what(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        text = str(value).strip()
        if len(text.split()) >= 3:
            return Verdict.accept("tip_what", text)
        return Verdict.refuse(
            "Dạ, anh/chị kể rõ hơn giúp em: chuyện gì đã xảy ra, ai liên quan "
            "(nếu biết) ạ."
        )

    def check_tip_where(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        text = str(value).strip()
        if len(text) >= 3:
            return Verdict.accept("tip_where", text)
        return Verdict.refuse(
            "Dạ, anh/chị cho em biết địa điểm: số nhà, đường, ấp/khu phố, xã/phường ạ."
        )

    def check_tip_when(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        text = str(value).strip()
        if text:
            return Verdict.accept("tip_when", text)
        return Verdict.refuse("Dạ, việc này xảy ra khi nào ạ? (ví dụ: tối qua, 15/12)")

    def check_tip_evidence(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        if isinstance(value, list):
            return Verdict.accept("tip_evidence", value)
        text = str(value).strip()
        if _answer(text, _NO_EVIDENCE) or (
            (tracker.latest_message.get("intent") or {}).get("name") == "deny"
        ):
            return Verdict.accept("tip_evidence", [])
        # evidence described in words (a plate number, a link) is kept as text
        return Verdict.accept("tip_evidence", [{"type": "text", "text": text}])

    def check_tip_contact_wanted(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        if isinstance(value, bool):
            return Verdict.accept("tip_contact_wanted", value)
        text = str(value)
        if _answer(text, _YES):
            return Verdict.accept("tip_contact_wanted", True)
        if _answer(text, _NO):
            return Verdict.accept("tip_contact_wanted", False)
        return Verdict.refuse(
            'Dạ, anh/chị bấm "Giữ ẩn danh" hoặc "Để lại liên hệ" giúp em ạ.',
            (
                {"title": "Giữ ẩn danh", "payload": "/deny"},
                {"title": "Để lại liên hệ", "payload": "/affirm"},
            ),
        )

    def check_full_name(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        name = re.sub(r"\s+", " ", str(value)).strip()
        if 2 <= len(name) <= 60 and not re.search(r"\d", name):
            return Verdict.accept("full_name", name)
        return Verdict.refuse("Dạ, anh/chị nhập họ tên (hoặc tên gọi) giúp em ạ.")

    def check_tip_reference(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        reference = reference_in(str(value))
        if reference:
            return Verdict.accept("tip_reference", reference)
        return Verdict.refuse(
            "Dạ, em chưa thấy mã tin báo. Mã nằm trong tin nhắn em gửi lúc "
            "anh/chị báo tin ạ."
        )

    def check_tip_addition(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        text = str(value).strip()
        files = attachments(tracker)
        if files or len(text.split()) >= 2:
            return Verdict.accept("tip_addition", text, tip_evidence=files or None)
        return Verdict.refuse("Dạ, anh/chị nhập thông tin cần bổ sung giúp em ạ.")


class ActionSubmitTip(Action):
    """Stores the tip (or the addition) and gives the reference code; the tip's
    slots are cleared so its text and contact do not stay in the tracker."""

    def name(self) -> str:
        return "action_submit_tip"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        from services import tips
        from services.errors import ServiceError

        reset: List[EventType] = [
            SlotSet(slot, None) for slot in (*FORM_SLOTS, "form_failures")
        ]
        slot = tracker.get_slot
        try:
            if slot("tip_action") == "add":
                if not slot("tip_reference") or not slot("tip_addition"):
                    return reset  # the form was left before the end
                tips.add_to_tip(
                    slot("tip_reference"),
                    text=slot("tip_addition"),
                    evidence=slot("tip_evidence") or None,
                    conversation_id=tracker.sender_id,
                )
                dispatcher.utter_message(
                    response="utter_tip_added", reference=slot("tip_reference")
                )
                return reset
            if any(slot(name) is None for name in NEW_SLOTS):
                return reset
            unit = tip_unit(tracker, slot("tip_where"))
            if unit is None:  # nowhere to send it yet: ask the place again
                dispatcher.utter_message(
                    text="Dạ, em chưa biết việc này thuộc xã/phường nào để chuyển "
                    "đúng đơn vị ạ."
                )
                return [SlotSet("tip_where", None), FollowupAction("tip_form")]
            contact = None
            if slot("tip_contact_wanted") is True:
                contact = {"name": slot("full_name"), "phone": slot("phone")}
            reference = tips.file_tip(
                unit,
                slot("tip_what"),
                slot("tip_where"),
                slot("tip_when"),
                list(slot("tip_evidence") or []),
                contact,
                tracker.sender_id,
            )
        except ServiceError as error:
            dispatcher.utter_message(text=error.citizen_message)
            return reset
        dispatcher.utter_message(response="utter_tip_filed", reference=reference)
        return reset
