"""Stand-ins for the citizen services (interfaces.md §2, §8):
services.booking, applications, tips, handoff and units, raising the real
services.errors.

The action tests use them through the ``fakes`` fixture (tests/form_trackers.py),
so they need no database; ``python -m tests.fake_action_server`` serves the
actions on them (units stay real there). They follow the services' names and
signatures; their behaviour is the smallest that exercises every branch of the
actions: 09:00 is always full, weekends are closed, one known application, one
known unit name with two namesakes.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, List

# the real errors: the actions catch them
from services.errors import (
    ApplicationNotFound,
    BookingNotFound,
    LookupLocked,
    SlotFull,
    TipNotFound,
)

FULL_AT = time(9, 0)
KNOWN_APPLICATION = ("HS20251234", "+84912345678")
HOURS_TEXT = "Thứ Hai – Thứ Sáu: 7h30–11h30, 13h30–17h"


# ---- services.booking --------------------------------------------------------------
@dataclass
class Slot:
    unit: str
    day: date
    start: time
    end: time
    free: int


@dataclass
class Booking:
    code: str
    unit: str
    procedure: str
    day: date
    start: time
    status: str = "booked"
    phone: str = ""


def _code_digits(number: int, width: int) -> str:
    """A number written without 0 and 1, as the real codes avoid look-alikes."""
    return f"{number:0{width}d}".replace("0", "A").replace("1", "B")


@dataclass
class BookingState:
    bookings: Dict[str, Booking] = field(default_factory=dict)
    calls: List[str] = field(default_factory=list)


BOOKING = BookingState()


def _starts() -> List[time]:
    starts, moment = [], datetime(2000, 1, 1, 7, 30)
    while moment.time() < time(17, 0):
        if not time(11, 30) <= moment.time() < time(13, 30):
            starts.append(moment.time())
        moment += timedelta(minutes=30)
    return starts


def available_slots(
    unit: str, day: date, procedure: str | None = None, now: Any = None
) -> List[Slot]:
    BOOKING.calls.append(f"available_slots {unit} {day}")
    if day.weekday() >= 5:
        return []
    # like services/booking.py: only slots with a free place
    return [
        Slot(
            unit,
            day,
            s,
            (datetime.combine(day, s) + timedelta(minutes=30)).time(),
            3,
        )
        for s in _starts()
        if s != FULL_AT
    ]


def nearest_free(
    unit: str, day: date, start: time, limit: int = 3, now: Any = None
) -> List[Slot]:
    free = [s for s in available_slots(unit, day) if s.free > 0]

    def distance(slot: Slot) -> float:
        return abs(
            (
                datetime.combine(day, slot.start) - datetime.combine(day, start)
            ).total_seconds()
        )

    return sorted(free, key=distance)[:limit]


def book(
    unit: str,
    procedure: str,
    day: date,
    start: time,
    full_name: str,
    phone: str,
    conversation_id: str,
    now: Any = None,
) -> Booking:
    BOOKING.calls.append(f"book {unit} {procedure} {day} {start}")
    if start == FULL_AT:
        raise SlotFull(nearest=nearest_free(unit, day, start))
    code = "KMP" + _code_digits(len(BOOKING.bookings) + 2, 3)
    BOOKING.bookings[code] = Booking(code, unit, procedure, day, start, phone=phone)
    return BOOKING.bookings[code]


def _find(code: str, phone: str) -> Booking:
    found = BOOKING.bookings.get(code)
    if found is None or found.phone != phone:
        raise BookingNotFound()
    return found


def cancel(code: str, phone: str) -> Booking:
    BOOKING.calls.append(f"cancel {code}")
    found = _find(code, phone)
    found.status = "cancelled"
    return found


def move(code: str, phone: str, day: date, start: time, now: Any = None) -> Booking:
    BOOKING.calls.append(f"move {code} {day} {start}")
    found = _find(code, phone)
    found.day, found.start = day, start
    return found


# ---- services.applications ---------------------------------------------------------
@dataclass
class ApplicationView:
    code: str
    status_label: str
    last_changed: date
    next_step: str


WRONG_TRIES: Dict[str, int] = {}


def lookup(
    code: str, phone: str, conversation_id: str, now: Any = None
) -> ApplicationView:
    if WRONG_TRIES.get(conversation_id, 0) >= 5:
        raise LookupLocked(datetime(2026, 11, 29, 10, 15))
    if (code, phone) != KNOWN_APPLICATION:
        WRONG_TRIES[conversation_id] = WRONG_TRIES.get(conversation_id, 0) + 1
        raise ApplicationNotFound()
    return ApplicationView(
        code, "Đang giải quyết", date(2026, 11, 20), "Chờ tin nhắn hẹn trả kết quả."
    )


# ---- services.tips -----------------------------------------------------------------


TIPS: Dict[str, Dict[str, Any]] = {}


def file_tip(
    unit: str | None,
    what: str,
    where: str,
    when: str,
    evidence: List[Dict[str, Any]],
    contact: Dict[str, Any] | None,
    conversation_id: str,
) -> str:
    reference = "TB-QX" + _code_digits(len(TIPS) + 2, 6)
    TIPS[reference] = {
        "unit": unit,
        "what": what,
        "where": where,
        "when": when,
        "evidence": evidence,
        "contact": contact,
        "additions": [],
    }
    return reference


def add_to_tip(
    reference: str,
    text: str | None = None,
    evidence: List[Dict[str, Any]] | None = None,
    conversation_id: str | None = None,
) -> None:
    if reference not in TIPS:
        raise TipNotFound()
    TIPS[reference]["additions"].append({"text": text, "evidence": evidence})


# ---- services.handoff --------------------------------------------------------------
@dataclass
class QueueTicket:
    position: int
    expected_wait_minutes: int
    hours_text: str
    open_now: bool


HANDOFFS: List[Dict[str, Any]] = []
OPEN_NOW = {"value": True}


def request_handoff(
    conversation_id: str, unit: str, channel: str, now: Any = None
) -> QueueTicket:
    HANDOFFS.append({"conversation": conversation_id, "unit": unit, "channel": channel})
    return QueueTicket(len(HANDOFFS), 5 * len(HANDOFFS), HOURS_TEXT, OPEN_NOW["value"])


# ---- services.units ----------------------------------------------------------------
@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    level: str = "xa"


UNITS = {
    "TINH-BINHDUONG": UnitInfo("TINH-BINHDUONG", "Công an tỉnh Bình Dương", "tinh"),
    "XA-DIAN": UnitInfo("XA-DIAN", "Công an phường Dĩ An"),
    "XA-TANDONGHIEP-1": UnitInfo("XA-TANDONGHIEP-1", "Công an phường Tân Đông Hiệp"),
    "XA-TANDONGHIEP-2": UnitInfo("XA-TANDONGHIEP-2", "Công an xã Tân Đông Hiệp"),
}


def all_units() -> List[UnitInfo]:
    return list(UNITS.values())


def get_unit(code: str | None) -> UnitInfo | None:
    return UNITS.get((code or "").upper())


def resolve_location(text: str) -> List[UnitInfo]:
    from vietnamese.text import strip_diacritics

    folded = strip_diacritics(text).lower()
    if "di an" in folded:
        return [UNITS["XA-DIAN"]]
    if "tan dong hiep" in folded:
        return [UNITS["XA-TANDONGHIEP-1"], UNITS["XA-TANDONGHIEP-2"]]
    return []


# ---- installing them -----------------------------------------------------------------
_MODULES = {
    "booking": [
        "Slot",
        "Booking",
        "available_slots",
        "nearest_free",
        "book",
        "cancel",
        "move",
    ],
    "applications": ["ApplicationView", "lookup"],
    "tips": ["file_tip", "add_to_tip"],
    "handoff": ["QueueTicket", "request_handoff"],
    "units": ["UnitInfo", "all_units", "get_unit", "resolve_location"],
}


def modules() -> Dict[str, types.ModuleType]:
    """``services.<name>`` modules made of this file's fakes."""
    made = {}
    here = sys.modules[__name__]
    for name, attributes in _MODULES.items():
        module = types.ModuleType(f"services.{name}")
        for attribute in attributes:
            setattr(module, attribute, getattr(here, attribute))
        made[f"services.{name}"] = module
    return made


def reset() -> None:
    BOOKING.bookings.clear()
    BOOKING.calls.clear()
    WRONG_TRIES.clear()
    TIPS.clear()
    HANDOFFS.clear()
    OPEN_NOW["value"] = True


def install() -> None:
    """Put the fakes of the SERVICES modules in place of the real ones for a
    whole process (the action server); units stay real: they need the seeded
    database (make seed), as the other actions do."""
    import services

    for qualified, module in modules().items():
        if qualified == "services.units":
            continue
        sys.modules[qualified] = module
        setattr(services, qualified.split(".")[1], module)
