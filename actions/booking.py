"""Appointments: book, cancel or move one, through ``appointment_form``.

The form asks what it needs for the kind of request ("đặt", "hủy", "đổi"),
read from the message that started it. Dates, hours, capacity and holidays are
the booking service's business (services/booking.py, interfaces.md §8); this
module only turns answers into values and service results into replies.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, ClassVar, Dict, FrozenSet, List, Tuple
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import unit_code
from actions.forms_base import ValidatedForm, Verdict, folded_words
from services import dates, menu
from services.procedures import INTENT_BY_PROCEDURE
from services.validation import mask_phone

# What can be booked, in the order the buttons show them.
BOOKABLE = (
    "identity_card",
    "temporary_residence",
    "permanent_residence",
    "residence_confirmation",
    "passport",
    "vehicle_registration",
    "electronic_id",
    "temporary_absence",
)
NEW_SLOTS = [
    "appointment_action",
    "appointment_procedure",
    "appointment_unit",
    "appointment_date",
    "appointment_time",
    "full_name",
    "phone",
]
CANCEL_SLOTS = ["appointment_action", "booking_code", "phone"]
MOVE_SLOTS = [
    "appointment_action",
    "booking_code",
    "phone",
    "appointment_date",
    "appointment_time",
]
FORM_SLOTS = (*NEW_SLOTS, "booking_code", "appointment_part_of_day")
MAX_TIME_BUTTONS = 6
# booking codes: 6 characters without look-alikes (services/booking.py), or
# the older "LH" + digits some units printed
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_RE = re.compile(rf"[{_CODE_ALPHABET}]{{6}}")
_LEGACY_CODE_RE = re.compile(r"\b([A-Z]{1,4}-?\d{4,10})\b")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_NAME_RE = re.compile(r"^[^\W\d_]+(?: [^\W\d_]+){1,6}$")


def procedure_label(procedure: str) -> str:
    intent = INTENT_BY_PROCEDURE.get(procedure)
    return menu.label(intent) if intent else procedure


def unit_name(code: str) -> str:
    """The unit's name for replies; its code when the unit list is not there."""
    try:
        from services.units import get_unit
    except ImportError:  # pragma: no cover - KNOWLEDGE provides services.units
        return code
    unit = get_unit(code)
    return unit.name if unit else code


def slot_button(slot: Any, with_day: bool = False) -> Dict[str, str]:
    """A button for a free slot; its payload is the time (and date) as typed."""
    start = slot.start.strftime("%H:%M")
    if with_day:
        label = f"{start} {slot.day.strftime('%d/%m')}"
        return {"title": label, "payload": label}
    return {"title": start, "payload": start}


# moving an appointment: "đổi/dời/chuyển/lùi/hoãn (lại) lịch/hẹn/ngày/giờ",
# "đặt lại lịch", "chuyển sang/qua ..." — the verb right before what is moved,
# so "đặt lịch đổi căn cước" (cấp đổi) and "sáng thứ 5" (folded "sang") are not
# read as moving
_MOVE = re.compile(
    r"\b(?:doi|chuyen|lui|hoan|dat\s+lai)\s+(?:lai\s+)?(?:cai\s+|buoi\s+)?"
    r"(?:lich|hen|gio|ngay(?!\s+sinh))\b"
    r"|\b(?:doi|chuyen|lui|hoan)\s+(?:lai\s+)?(?:sang|qua)\b"
)


def request_kind(text: str) -> str:
    """ "cancel", "move" or "new", from the message that started the form."""
    words = folded_words(text)
    if "huy" in words:
        return "cancel"
    return "move" if _MOVE.search(" ".join(words)) else "new"


def parse_booking_code(text: str) -> str | None:
    """The booking code in a message: a 6-character code with a digit or written
    in capitals, as printed ("hủy lịch K7M2QX", "đổi lịch LTPYUA"), or a message
    that is only a code ("ltpyua")."""
    text = text or ""
    words = re.findall(r"\w+", text)
    codes = [
        word
        for word in re.findall(r"[A-Za-z0-9]+", text)
        if _CODE_RE.fullmatch(word.upper()) and word in words  # not a word's part
    ]
    printed = [c for c in codes if c.isupper() or any(ch.isdigit() for ch in c)]
    if printed:
        return printed[0].upper()
    if len(words) == 1 and codes:
        return codes[0].upper()
    legacy = _LEGACY_CODE_RE.search(text.upper())
    return legacy.group(1) if legacy else None


def _now() -> datetime:
    """Vietnam's wall-clock time, whatever the server's time zone."""
    return datetime.now(VIETNAM).replace(tzinfo=None)


def _today() -> date:
    return _now().date()


class ValidateAppointmentForm(ValidatedForm):
    form_slots: ClassVar[Tuple[str, ...]] = FORM_SLOTS
    purpose: ClassVar[str] = "đặt lịch hẹn"
    free_text_slots: ClassVar[FrozenSet[str]] = frozenset(
        {"appointment_unit", "full_name"}
    )

    def name(self) -> str:
        return "validate_appointment_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        kind = tracker.get_slot("appointment_action")
        if kind == "cancel":
            return list(CANCEL_SLOTS)
        if kind == "move":
            return list(MOVE_SLOTS)
        return list(NEW_SLOTS)

    # ---- values taken from the context, not asked --------------------------------
    def extract_appointment_action(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("appointment_action"):
            return {}
        text = tracker.latest_message.get("text") or ""
        kind = request_kind(text)
        code = parse_booking_code(text) if kind != "new" else None
        extracted: Dict[str, Any] = {"appointment_action": kind}
        if code:
            extracted["booking_code"] = code
        return extracted

    def extract_appointment_procedure(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("appointment_procedure"):
            return {}
        for entity in tracker.latest_message.get("entities") or []:
            if entity.get("entity") == "procedure" and entity.get("value") in BOOKABLE:
                return {"appointment_procedure": entity["value"]}
        return {}

    def extract_appointment_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A day named in the message that starts a new booking ("đặt lịch làm
        căn cước sáng thứ 5 tuần sau") is its date, checked like an answer."""
        if tracker.get_slot("requested_slot") or tracker.get_slot("appointment_date"):
            return {}
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/") or request_kind(text) != "new":
            return {}
        reading = dates.read_date(text, _today())
        return {"appointment_date": text} if reading.value or reading.problem else {}

    def extract_appointment_unit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("appointment_unit"):
            return {}
        code = unit_code(tracker)
        return {"appointment_unit": code} if code else {}

    # ---- checks ---------------------------------------------------------------------
    def check_appointment_action(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        kind = value if value in ("new", "cancel", "move") else "new"
        return Verdict.accept("appointment_action", kind)

    def check_appointment_procedure(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        if value in BOOKABLE:
            return Verdict.accept("appointment_procedure", value)
        return Verdict.refuse(
            "Dạ, anh/chị chọn giúp em thủ tục cần làm trong các nút dưới đây ạ.",
            tuple(procedure_buttons()),
        )

    def check_appointment_unit(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        from services.units import get_unit, resolve_location

        text = str(value).strip()
        unit = get_unit(text.upper())
        if unit is not None:
            return Verdict.accept("appointment_unit", unit.code)
        candidates = resolve_location(text)
        if len(candidates) == 1:
            return Verdict.accept("appointment_unit", candidates[0].code)
        if candidates:
            return Verdict.refuse(
                "Dạ, có mấy đơn vị trùng tên này, anh/chị chọn giúp em ạ:",
                tuple({"title": u.name, "payload": u.code} for u in candidates[:5]),
            )
        return Verdict.refuse(
            "Dạ, em chưa tìm thấy xã/phường này. Anh/chị nhập lại tên xã/phường "
            "(tên mới hay tên cũ trước sáp nhập đều được) ạ."
        )

    def check_appointment_date(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        from services import booking

        text = str(value)
        reading = dates.read_date(text, _today())
        if reading.problem:
            return Verdict.refuse(reading.problem)
        day = reading.value
        if not isinstance(day, date):
            return Verdict.refuse(
                "Dạ, em chưa hiểu ngày anh/chị muốn đến. Anh/chị nhập ví dụ: "
                '"mai", "thứ 2 tuần sau" hoặc "15/12" ạ.'
            )
        if day < _today():
            return Verdict.refuse("Dạ, ngày này đã qua rồi ạ. Anh/chị chọn ngày khác.")
        others: Dict[str, Any] = {"appointment_part_of_day": dates.part_of_day(text)}
        unit = tracker.get_slot("appointment_unit")
        if unit:  # a new booking: the unit's free slots that day
            free = [
                s
                for s in booking.available_slots(
                    unit,
                    day,
                    tracker.get_slot("appointment_procedure"),
                    now=_now(),
                )
                if s.free > 0
            ]
            if not free:
                return Verdict.refuse(
                    f"Dạ, ngày {day.strftime('%d/%m/%Y')} đơn vị không nhận lịch "
                    "(nghỉ, lễ hoặc đã kín). Anh/chị chọn ngày khác giúp em ạ."
                )
        start = dates.parse_time(text)
        if start is not None:
            others["appointment_time"] = start.strftime("%H:%M")
        return Verdict.accept("appointment_date", day.isoformat(), **others)

    def check_appointment_time(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        from services import booking

        reading = dates.read_time(str(value))
        if reading.problem:
            return Verdict.refuse(reading.problem)
        start = reading.value
        if not isinstance(start, time):
            return Verdict.refuse(
                "Dạ, em chưa hiểu giờ anh/chị muốn đến. Anh/chị chọn một nút "
                'hoặc nhập ví dụ "9h30", "2 giờ chiều" ạ.'
            )
        unit = tracker.get_slot("appointment_unit")
        day_text = tracker.get_slot("appointment_date")
        # a button of another day ("09:30 16/12") moves the date as well
        other_day = dates.parse_date(str(value), _today())
        others = {"appointment_date": other_day.isoformat()} if other_day else {}
        if not unit or not day_text:  # moving a booking: the service decides
            return Verdict.accept("appointment_time", start.strftime("%H:%M"), **others)
        day = other_day or date.fromisoformat(day_text)
        slots = booking.available_slots(
            unit, day, tracker.get_slot("appointment_procedure"), now=_now()
        )
        match = next((s for s in slots if s.start == start), None)
        if match is not None and match.free > 0:
            return Verdict.accept("appointment_time", start.strftime("%H:%M"), **others)
        nearest = booking.nearest_free(unit, day, start, limit=3, now=_now())
        buttons = tuple(slot_button(s, with_day=s.day != day) for s in nearest)
        if match is not None:
            return Verdict.refuse(
                f"Dạ, khung {start.strftime('%H:%M')} đã kín chỗ. "
                "Anh/chị chọn giờ trống gần nhất ạ:",
                buttons,
            )
        # (services/booking.py lists only free slots: full or closed look alike)
        return Verdict.refuse(
            f"Dạ, lúc {start.strftime('%H:%M')} không còn chỗ hoặc không phải giờ "
            "nhận hồ sơ. Anh/chị chọn giờ trống gần nhất ạ:",
            buttons,
        )

    def check_full_name(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        name = re.sub(r"\s+", " ", str(value)).strip()
        if len(name) <= 60 and _NAME_RE.match(name):
            return Verdict.accept("full_name", name.title())
        return Verdict.refuse(
            "Dạ, anh/chị nhập họ và tên đầy đủ, chỉ gồm chữ, ví dụ: Nguyễn Văn An."
        )

    def check_booking_code(
        self, value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict
    ) -> Verdict:
        code = parse_booking_code(str(value))
        if code:
            return Verdict.accept("booking_code", code)
        return Verdict.refuse(
            "Dạ, em chưa thấy mã lịch hẹn. Mã nằm trong tin nhắn xác nhận "
            "lúc đặt lịch, anh/chị nhập lại giúp em ạ."
        )


def procedure_buttons() -> List[Dict[str, str]]:
    return [
        {
            "title": procedure_label(p),
            "payload": f'/book_appointment{{"procedure": "{p}"}}',
        }
        for p in BOOKABLE
    ]


class ActionAskAppointmentProcedure(Action):
    def name(self) -> str:
        return "action_ask_appointment_procedure"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(
            response="utter_ask_appointment_procedure", buttons=procedure_buttons()
        )
        return []


def offered_this_turn(tracker: Tracker) -> bool:
    """Whether a reply since the citizen's last message already had buttons."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("data") or {}).get("buttons"):
            return True
    return False


class ActionAskAppointmentTime(Action):
    """The free slots of the chosen day as buttons (morning or afternoon only
    when the citizen said "sáng"/"chiều")."""

    def name(self) -> str:
        return "action_ask_appointment_time"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if offered_this_turn(tracker):
            return []  # the refusal just offered the nearest free times
        unit = tracker.get_slot("appointment_unit")
        day_text = tracker.get_slot("appointment_date")
        if not unit or not day_text:
            dispatcher.utter_message(response="utter_ask_appointment_time")
            return []
        from services import booking

        day = date.fromisoformat(day_text)
        free = [
            s
            for s in booking.available_slots(
                unit, day, tracker.get_slot("appointment_procedure"), now=_now()
            )
            if s.free > 0
        ]
        part = tracker.get_slot("appointment_part_of_day")
        if part == "morning":
            free = [s for s in free if s.start < time(12, 0)] or free
        elif part == "afternoon":
            free = [s for s in free if s.start >= time(12, 0)] or free
        dispatcher.utter_message(
            response="utter_ask_appointment_time_on",
            day=day.strftime("%d/%m/%Y"),
            buttons=[slot_button(s) for s in free[:MAX_TIME_BUTTONS]],
        )
        return []


def _reset() -> List[EventType]:
    return [SlotSet(slot, None) for slot in (*FORM_SLOTS, "form_failures")]


class ActionSubmitAppointment(Action):
    """Books, cancels or moves once the form is complete; a slot taken in the
    meantime sends the citizen back to choose another time."""

    def name(self) -> str:
        return "action_submit_appointment"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        from services import booking
        from services.errors import ServiceError

        kind = tracker.get_slot("appointment_action") or "new"
        needed = {"cancel": CANCEL_SLOTS, "move": MOVE_SLOTS}.get(kind, NEW_SLOTS)
        if any(tracker.get_slot(slot) is None for slot in needed):
            return []  # the form was left before the end: nothing to do
        phone = tracker.get_slot("phone")
        try:
            if kind == "cancel":
                result = booking.cancel(tracker.get_slot("booking_code"), phone)
                dispatcher.utter_message(
                    response="utter_appointment_cancelled", code=result.code
                )
                return _reset()
            day = date.fromisoformat(tracker.get_slot("appointment_date"))
            start = time.fromisoformat(tracker.get_slot("appointment_time"))
            if kind == "move":
                result = booking.move(
                    tracker.get_slot("booking_code"), phone, day, start, now=_now()
                )
                response = "utter_appointment_moved"
            else:
                result = booking.book(
                    tracker.get_slot("appointment_unit"),
                    tracker.get_slot("appointment_procedure"),
                    day,
                    start,
                    tracker.get_slot("full_name"),
                    phone,
                    tracker.sender_id,
                    now=_now(),
                )
                response = "utter_appointment_booked"
        except ServiceError as error:
            dispatcher.utter_message(text=error.citizen_message)
            if getattr(error, "nearest", None):  # taken meanwhile: another time
                return [
                    SlotSet("appointment_time", None),
                    FollowupAction("appointment_form"),
                ]
            if getattr(error, "reason", None):  # not bookable: another day
                return [
                    SlotSet("appointment_date", None),
                    SlotSet("appointment_time", None),
                    FollowupAction("appointment_form"),
                ]
            return _reset()  # e.g. no booking with this code and phone
        dispatcher.utter_message(
            response=response,
            code=result.code,
            procedure=procedure_label(result.procedure),
            unit=unit_name(result.unit),
            day=result.day.strftime("%d/%m/%Y"),
            start=result.start.strftime("%H:%M"),
            phone=mask_phone(phone),
        )
        return _reset()
