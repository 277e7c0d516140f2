"""Appointments at a police unit: free slots, booking, cancelling, moving.

Rules: only the unit's working days and hours (``services.units`` when it knows
the unit, else knowledge/booking.yml), never a public holiday
(knowledge/holidays.yml), never in the past, at most ``capacity`` citizens per
slot (the ``appointments_capacity`` table, else the default).

Two citizens racing for the last place: every active booking holds a seat number
and (unit, day, start, seat) is unique, so the database lets exactly one insert
win; the loser retries and finds the slot full. Cancelled bookings give their
seat back (seat NULL). A retried request (the action server died after the
commit and Rasa sent the action again) carries the same request key and gets the
booking it already made instead of a second one.

All times are Vietnam local time, naive (as citizens and units speak of them).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import Dict, List, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import content, crypto, privacy
from services.db import Base, session_scope
from services.errors import BookingNotFound, NotBookable, SlotFull

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# no O/0, I/1: a code read aloud or copied from a screenshot stays unambiguous
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
UNIT_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
ANY_WEEKDAY = -1
ANY_START = "*"
BOOKED = "booked"
CANCELLED = "cancelled"

Hours = Dict[str, List[Tuple[dt.time, dt.time]]]


# ---- tables ---------------------------------------------------------------------


class Appointment(Base):
    """One booking; ``seat`` is NULL once cancelled, so the place is free again."""

    __tablename__ = "appointments"
    __encrypted__ = ("full_name", "phone")
    __table_args__ = (
        UniqueConstraint(
            "unit", "day", "start_time", "seat", name="uq_appointments_seat"
        ),
        Index("ix_appointments_unit_day", "unit", "day"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    unit = Column(String(64), nullable=False)
    procedure = Column(String(64), nullable=False)
    day = Column(Date, nullable=False)
    start_time = Column(Time, nullable=False)
    end_time = Column(Time, nullable=False)
    seat = Column(Integer, nullable=True)
    status = Column(String(16), nullable=False)
    full_name = Column(Text, nullable=False)  # encrypted
    phone = Column(Text, nullable=False)  # encrypted
    key_id = Column(String(32), nullable=False)
    request_key = Column(String(64), nullable=True, unique=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class SlotCapacity(Base):
    """Citizens per slot for a unit; weekday -1 / start "*" mean every one."""

    __tablename__ = "appointments_capacity"
    __table_args__ = (
        UniqueConstraint(
            "unit", "weekday", "start_time", name="uq_appointments_capacity_slot"
        ),
    )

    id = Column(Integer, primary_key=True)
    unit = Column(String(64), nullable=False)
    weekday = Column(Integer, nullable=False)
    start_time = Column(String(5), nullable=False)
    capacity = Column(Integer, nullable=False)


# ---- values ---------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    unit: str
    day: dt.date
    start: dt.time
    end: dt.time
    free: int

    @property
    def label(self) -> str:
        """How a citizen reads it on a button: "08:00 thứ Năm 03/12"."""
        return f"{self.start:%H:%M} {weekday_name(self.day)} {self.day:%d/%m}"


@dataclass(frozen=True)
class Booking:
    code: str
    unit: str
    procedure: str
    day: dt.date
    start: dt.time
    status: str
    end: dt.time | None = None


@dataclass(frozen=True)
class AppointmentView:
    """A booking as an officer of its unit sees it (personal data decrypted)."""

    code: str
    unit: str
    procedure: str
    day: dt.date
    start: dt.time
    end: dt.time
    status: str
    full_name: str
    phone: str


@dataclass(frozen=True)
class UnitHours:
    code: str
    working_hours: Hours
    hours_text: str
    name: str | None = None


@dataclass(frozen=True)
class Holiday:
    day: dt.date
    name: str
    annual_decision: bool = False
    note: str | None = field(default=None)


def weekday_name(day: dt.date) -> str:
    names = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
    return names[day.weekday()]


def local_now() -> dt.datetime:
    """Now in Vietnam, naive (the clock every rule here reads)."""
    return dt.datetime.now(VIETNAM).replace(tzinfo=None)


# ---- content ----------------------------------------------------------------------


def settings() -> Dict:
    return content.load("booking")


def _parse_hours(raw: Dict) -> Hours:
    hours: Hours = {}
    for day, periods in (raw or {}).items():
        key = str(day)[:3].lower()
        if key not in WEEKDAYS:
            raise content.ContentError(f"unknown weekday {day!r} in working hours")
        hours[key] = [
            (_as_time(start), _as_time(end)) for start, end in (periods or [])
        ]
    return hours


def _as_time(value: object) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int):  # YAML reads 07:30 unquoted as sexagesimal minutes
        return dt.time(value // 60, value % 60)
    return dt.time.fromisoformat(str(value))


def holidays() -> Dict[dt.date, Holiday]:
    """Every closed day in knowledge/holidays.yml (ranges expanded)."""
    result: Dict[dt.date, Holiday] = {}
    for item in content.load("holidays").get("holidays", []):
        first = _as_date(item["date"])
        last = _as_date(item.get("until") or item["date"])
        day = first
        while day <= last:
            result[day] = Holiday(
                day, item["name"], bool(item.get("annual_decision")), item.get("note")
            )
            day += dt.timedelta(days=1)
    return result


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def unit_hours(code: str) -> UnitHours | None:
    """The unit's hours from ``services.units``; knowledge/booking.yml's defaults
    for a unit without hours. An unknown unit code is no unit (None)."""
    if not isinstance(code, str) or not UNIT_CODE.match(code):
        return None
    defaults = settings()
    default_hours = _parse_hours(defaults["working_hours"])
    from services import units  # looked up per call: tests swap the module

    info = units.get_unit(code)
    if info is None:
        return None
    hours = getattr(info, "working_hours", None) or default_hours
    text = getattr(info, "working_hours_text", None)
    if not getattr(info, "working_hours", None):
        text = defaults["working_hours_text"]
    return UnitHours(
        code,
        {
            str(day)[:3].lower(): [(_as_time(a), _as_time(b)) for a, b in periods]
            for day, periods in hours.items()
        },
        text or defaults["working_hours_text"],
        getattr(info, "name", None),
    )


def open_at(hours: UnitHours, moment: dt.datetime) -> bool:
    """Whether the unit receives citizens at ``moment`` (holidays included)."""
    if moment.date() in holidays():
        return False
    periods = hours.working_hours.get(WEEKDAYS[moment.weekday()], [])
    return any(start <= moment.time() < end for start, end in periods)


# ---- slots ------------------------------------------------------------------------


def _grid(hours: UnitHours, day: dt.date) -> List[Tuple[dt.time, dt.time]]:
    """Every slot of ``day`` by the unit's hours (empty on closed days)."""
    if day in holidays():
        return []
    step = dt.timedelta(minutes=int(settings()["slot_minutes"]))
    slots = []
    for start, end in hours.working_hours.get(WEEKDAYS[day.weekday()], []):
        moment = dt.datetime.combine(day, start)
        close = dt.datetime.combine(day, end)
        while moment + step <= close:
            slots.append((moment.time(), (moment + step).time()))
            moment += step
    return slots


def _bookable_from(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(minutes=int(settings()["min_lead_minutes"]))


def _too_far(day: dt.date, now: dt.datetime) -> bool:
    return day > now.date() + dt.timedelta(days=int(settings()["max_days_ahead"]))


def _capacities(session: Session, unit: str) -> Dict[Tuple[int, str], int]:
    rows = session.execute(
        select(
            SlotCapacity.weekday, SlotCapacity.start_time, SlotCapacity.capacity
        ).where(SlotCapacity.unit == unit)
    ).all()
    return {(weekday, start): capacity for weekday, start, capacity in rows}


def _capacity_of(
    table: Dict[Tuple[int, str], int], day: dt.date, start: dt.time
) -> int:
    hhmm = f"{start:%H:%M}"
    weekday = day.weekday()
    for key in ((weekday, hhmm), (weekday, ANY_START), (ANY_WEEKDAY, hhmm)):
        if key in table:
            return table[key]
    return table.get((ANY_WEEKDAY, ANY_START), int(settings()["default_capacity"]))


def _taken(session: Session, unit: str, day: dt.date) -> Dict[dt.time, int]:
    rows = session.execute(
        select(Appointment.start_time, func.count())
        .where(
            Appointment.unit == unit,
            Appointment.day == day,
            Appointment.seat.is_not(None),
        )
        .group_by(Appointment.start_time)
    ).all()
    return {start: count for start, count in rows}


def _slots(
    session: Session, hours: UnitHours, day: dt.date, now: dt.datetime
) -> List[Slot]:
    if _too_far(day, now):
        return []
    grid = _grid(hours, day)
    if not grid:
        return []
    earliest = _bookable_from(now)
    capacities = _capacities(session, hours.code)
    taken = _taken(session, hours.code, day)
    result = []
    for start, end in grid:
        if dt.datetime.combine(day, start) < earliest:
            continue
        free = _capacity_of(capacities, day, start) - taken.get(start, 0)
        if free > 0:
            result.append(Slot(hours.code, day, start, end, free))
    return result


def available_slots(
    unit: str,
    day: dt.date,
    procedure: str | None = None,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> List[Slot]:
    """Free slots of ``unit`` on ``day`` (empty when closed, past or unknown).

    ``procedure`` is accepted for the day when procedures get their own desks;
    today every procedure shares the unit's slots.
    """
    hours = unit_hours(unit)
    if hours is None:
        return []
    with session_scope(bind) as session:
        return _slots(session, hours, day, now or local_now())


def nearest_free(
    unit: str,
    day: dt.date,
    start: dt.time,
    limit: int = 3,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> List[Slot]:
    """The free slots closest in time to ``day`` ``start`` (for a full slot)."""
    hours = unit_hours(unit)
    if hours is None:
        return []
    now = now or local_now()
    wanted = dt.datetime.combine(day, start)
    span = int(settings()["nearest_search_days"])
    first = max(now.date(), day - dt.timedelta(days=span))
    candidates: List[Slot] = []
    with session_scope(bind) as session:
        current = first
        while current <= day + dt.timedelta(days=span):
            candidates.extend(_slots(session, hours, current, now))
            current += dt.timedelta(days=1)
    candidates = [s for s in candidates if (s.day, s.start) != (day, start)]
    candidates.sort(
        key=lambda s: (abs(dt.datetime.combine(s.day, s.start) - wanted), s.day)
    )
    return candidates[: max(0, limit)]


def set_capacity(
    unit: str,
    capacity: int,
    weekday: int | None = None,
    start: dt.time | None = None,
    bind: Engine | None = None,
) -> None:
    """Set how many citizens a unit receives per slot (all, a weekday, a time)."""
    if capacity < 0:
        raise ValueError("capacity must be zero or more")
    key_weekday = ANY_WEEKDAY if weekday is None else weekday
    key_start = ANY_START if start is None else f"{start:%H:%M}"
    with session_scope(bind) as session:
        row = session.execute(
            select(SlotCapacity).where(
                SlotCapacity.unit == unit,
                SlotCapacity.weekday == key_weekday,
                SlotCapacity.start_time == key_start,
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(
                SlotCapacity(
                    unit=unit,
                    weekday=key_weekday,
                    start_time=key_start,
                    capacity=capacity,
                )
            )
        else:
            row.capacity = capacity


# ---- booking ------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return re.sub(r"[\s.-]", "", code or "").upper()


def phone_key(phone: str) -> str:
    """Digits of a phone number, national form (+84 912... and 0912... match)."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def _check_slot(
    hours: UnitHours | None, day: dt.date, start: dt.time, now: dt.datetime
) -> dt.time:
    """The slot's end time, or :class:`NotBookable` with the reason."""
    if hours is None:
        raise NotBookable("unknown_unit")
    if dt.datetime.combine(day, start) < _bookable_from(now):
        raise NotBookable("past")
    if day in holidays():
        raise NotBookable("holiday")
    if _too_far(day, now):
        raise NotBookable("too_far")
    for slot_start, slot_end in _grid(hours, day):
        if slot_start == start:
            return slot_end
    raise NotBookable("closed")


def _view(row: Appointment) -> Booking:
    return Booking(
        row.code,
        row.unit,
        row.procedure,
        row.day,
        row.start_time,
        row.status,
        row.end_time,
    )


def _free_seat(session: Session, unit: str, day: dt.date, start: dt.time) -> int | None:
    capacity = _capacity_of(_capacities(session, unit), day, start)
    taken = set(
        session.execute(
            select(Appointment.seat).where(
                Appointment.unit == unit,
                Appointment.day == day,
                Appointment.start_time == start,
                Appointment.seat.is_not(None),
            )
        ).scalars()
    )
    for seat in range(1, capacity + 1):
        if seat not in taken:
            return seat
    return None


def _by_request_key(session: Session, key: str) -> Appointment | None:
    return session.execute(
        select(Appointment).where(Appointment.request_key == key)
    ).scalar_one_or_none()


def _require_text(value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise NotBookable("bad_input")
    return value.strip()


def book(
    unit: str,
    procedure: str,
    day: dt.date,
    start: dt.time,
    full_name: str,
    phone: str,
    conversation_id: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> Booking:
    """Book a place; the same request again returns the same booking."""
    now = now or local_now()
    procedure = _require_text(procedure, 64)
    full_name = _require_text(full_name, 120)
    privacy.register(full_name)
    phone = _require_text(phone, 32)
    if not phone_key(phone):
        raise NotBookable("bad_input")
    request_key = crypto.blind_index(
        f"booking|{conversation_id}|{unit}|{day}|{start:%H:%M}|{phone_key(phone)}"
    )
    with session_scope(bind) as session:
        # a retry is answered even if the slot has since become too near to book
        existing = _by_request_key(session, request_key)
        if existing is not None:
            return _view(existing)
    end = _check_slot(unit_hours(unit), day, start, now)
    attempts = 0
    while True:
        attempts += 1
        try:
            with session_scope(bind) as session:
                existing = _by_request_key(session, request_key)
                if existing is not None:
                    return _view(existing)
                seat = _free_seat(session, unit, day, start)
                if seat is None:
                    break
                row = Appointment(
                    code=new_code(),
                    unit=unit,
                    procedure=procedure,
                    day=day,
                    start_time=start,
                    end_time=end,
                    seat=seat,
                    status=BOOKED,
                    full_name=crypto.encrypt(full_name, "appointments.full_name"),
                    phone=crypto.encrypt(phone, "appointments.phone"),
                    key_id=crypto.keyring().current,
                    request_key=request_key,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                return _view(row)
        except IntegrityError:
            # another booking took this seat (or the same request won): look again
            if attempts > 20:
                raise
    raise SlotFull(nearest_free(unit, day, start, now=now, bind=bind))


def _owned(session: Session, code: str, phone: str) -> Appointment:
    row = session.execute(
        select(Appointment).where(Appointment.code == normalize_code(code))
    ).scalar_one_or_none()
    if row is None or not phone_key(phone):
        raise BookingNotFound()
    stored = crypto.decrypt(row.phone, "appointments.phone")
    if not secrets.compare_digest(phone_key(stored), phone_key(phone)):
        raise BookingNotFound()
    return row


def cancel(
    code: str,
    phone: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> Booking:
    """Cancel a booking (code and phone must both match); frees the place."""
    with session_scope(bind) as session:
        row = _owned(session, code, phone)
        if row.status != CANCELLED:
            row.status = CANCELLED
            row.seat = None
            row.request_key = None
            row.updated_at = now or local_now()
        return _view(row)


def move(
    code: str,
    phone: str,
    day: dt.date,
    start: dt.time,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> Booking:
    """Move a booking to another slot (code and phone must both match)."""
    now = now or local_now()
    with session_scope(bind) as session:
        row = _owned(session, code, phone)
        if row.status == CANCELLED:
            raise BookingNotFound()
        unit = row.unit
        if (row.day, row.start_time) == (day, start):
            return _view(row)
    end = _check_slot(unit_hours(unit), day, start, now)
    for _ in range(20):
        try:
            with session_scope(bind) as session:
                row = _owned(session, code, phone)
                seat = _free_seat(session, unit, day, start)
                if seat is None:
                    break
                row.day, row.start_time, row.end_time = day, start, end
                row.seat = seat
                row.request_key = None
                row.updated_at = now
                session.flush()
                return _view(row)
        except IntegrityError:
            continue
    raise SlotFull(nearest_free(unit, day, start, now=now, bind=bind))


def list_appointments(
    unit: str,
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
    include_cancelled: bool = False,
    bind: Engine | None = None,
) -> List[AppointmentView]:
    """A unit's bookings for its officers, in time order."""
    query = select(Appointment).where(Appointment.unit == unit)
    if day_from:
        query = query.where(Appointment.day >= day_from)
    if day_to:
        query = query.where(Appointment.day <= day_to)
    if not include_cancelled:
        query = query.where(Appointment.status == BOOKED)
    with session_scope(bind) as session:
        rows = session.execute(
            query.order_by(Appointment.day, Appointment.start_time, Appointment.seat)
        ).scalars()
        return [
            AppointmentView(
                row.code,
                row.unit,
                row.procedure,
                row.day,
                row.start_time,
                row.end_time,
                row.status,
                crypto.decrypt(row.full_name, "appointments.full_name"),
                crypto.decrypt(row.phone, "appointments.phone"),
            )
            for row in rows
        ]


NO_SHOW = "no_show"


def mark_no_show(code: str, unit: str, bind: Engine | None = None) -> None:
    """The citizen did not come: an officer of the unit marks the booking.

    Another unit's booking, or one already cancelled, is not found.
    """
    with session_scope(bind) as session:
        row = session.execute(
            select(Appointment).where(Appointment.code == normalize_code(code))
        ).scalar_one_or_none()
        if row is None or row.unit != unit or row.status == CANCELLED:
            raise BookingNotFound()
        row.status = NO_SHOW
        row.updated_at = local_now()
