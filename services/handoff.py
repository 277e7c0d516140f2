"""Handing a conversation to an officer of its unit.

The citizen's request puts the conversation in its unit's queue (one open ticket
per conversation: ``active_key`` is unique and NULL once closed). An officer
claims it: the ticket is marked and Rasa pauses the conversation (a ``pause``
event through its HTTP API), so the bot stops answering. Officer replies go out
through services.outbound on the channel the conversation came from. Release
resumes the bot (a ``resume`` event) and closes the ticket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import List

from sqlalchemy import Column, DateTime, Index, Integer, String, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from services import booking, content, outbound
from services.db import Base, session_scope
from services.errors import HandoffError, UnknownUnit
from services.rasa_api import RasaApi

WAITING, CLAIMED, CLOSED = "waiting", "claimed", "closed"


class HandoffTicket(Base):
    __tablename__ = "handoff_tickets"
    __table_args__ = (Index("ix_handoff_tickets_unit_status", "unit", "status"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    active_key = Column(String(255), nullable=True, unique=True)
    unit = Column(String(64), nullable=False)
    channel = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False)
    requested_at = Column(DateTime, nullable=False)
    claimed_at = Column(DateTime, nullable=True)
    claimed_by = Column(String(120), nullable=True)
    closed_at = Column(DateTime, nullable=True)


@dataclass(frozen=True)
class QueueTicket:
    """What the citizen is told on asking for an officer."""

    position: int
    expected_wait_minutes: int
    hours_text: str
    open_now: bool


@dataclass(frozen=True)
class TicketView:
    id: int
    conversation_id: str
    unit: str
    channel: str
    status: str
    requested_at: dt.datetime
    claimed_by: str | None
    claimed_at: dt.datetime | None


def _view(row: HandoffTicket) -> TicketView:
    return TicketView(
        row.id,
        row.conversation_id,
        row.unit,
        row.channel,
        row.status,
        row.requested_at,
        row.claimed_by,
        row.claimed_at,
    )


def _position(session, row: HandoffTicket) -> int:  # type: ignore[no-untyped-def]
    ahead = session.execute(
        select(HandoffTicket.id).where(
            HandoffTicket.unit == row.unit,
            HandoffTicket.status == WAITING,
            HandoffTicket.id < row.id,
        )
    ).all()
    return len(ahead) + 1


def request_handoff(
    conversation_id: str,
    unit: str,
    channel: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> QueueTicket:
    """Queue the conversation for its unit (asking twice keeps one place)."""
    hours = booking.unit_hours(unit)
    if hours is None:
        raise UnknownUnit(f"unknown unit {unit!r}")
    now = now or booking.local_now()
    minutes = int(content.load("handoff")["minutes_per_conversation"])
    for _ in range(3):
        try:
            with session_scope(bind) as session:
                row = session.execute(
                    select(HandoffTicket).where(
                        HandoffTicket.active_key == conversation_id
                    )
                ).scalar_one_or_none()
                if row is None:
                    row = HandoffTicket(
                        conversation_id=conversation_id,
                        active_key=conversation_id,
                        unit=unit,
                        channel=channel or "rest",
                        status=WAITING,
                        requested_at=now,
                    )
                    session.add(row)
                    session.flush()
                position = _position(session, row) if row.status == WAITING else 0
            break
        except IntegrityError:  # the same conversation asked twice at once
            continue
    else:
        raise HandoffError("could not queue the conversation")
    return QueueTicket(
        position=position,
        expected_wait_minutes=position * minutes,
        hours_text=hours.hours_text,
        open_now=booking.open_at(hours, now),
    )


def _open_ticket(session, conversation_id: str) -> HandoffTicket | None:  # type: ignore[no-untyped-def]
    return session.execute(
        select(HandoffTicket).where(HandoffTicket.active_key == conversation_id)
    ).scalar_one_or_none()


def is_held(conversation_id: str, bind: Engine | None = None) -> bool:
    """Whether an officer holds the conversation now (the bot keeps quiet)."""
    with session_scope(bind) as session:
        row = _open_ticket(session, conversation_id)
        return row is not None and row.status == CLAIMED


def is_waiting(conversation_id: str, bind: Engine | None = None) -> bool:
    with session_scope(bind) as session:
        row = _open_ticket(session, conversation_id)
        return row is not None and row.status == WAITING


def queue(unit: str, bind: Engine | None = None) -> List[TicketView]:
    """The unit's open tickets: claimed ones, then the waiting ones in order."""
    with session_scope(bind) as session:
        rows = session.execute(
            select(HandoffTicket)
            .where(HandoffTicket.unit == unit, HandoffTicket.status != CLOSED)
            .order_by(HandoffTicket.id)
        ).scalars()
        views = [_view(row) for row in rows]
    return sorted(views, key=lambda v: (v.status != CLAIMED, v.id))


class TicketNotFound(HandoffError):
    """No open ticket for this conversation in this unit (or another unit's)."""


def _ticket_of_unit(session, conversation_id: str, unit: str) -> HandoffTicket:  # type: ignore[no-untyped-def]
    row = _open_ticket(session, conversation_id)
    if row is None or row.unit != unit:
        raise TicketNotFound("no open ticket for this conversation in this unit")
    return row


def get_ticket(
    conversation_id: str, unit: str, bind: Engine | None = None
) -> TicketView:
    with session_scope(bind) as session:
        return _view(_ticket_of_unit(session, conversation_id, unit))


def cancel_request(
    conversation_id: str, now: dt.datetime | None = None, bind: Engine | None = None
) -> bool:
    """The citizen no longer waits ("thôi"): close a waiting ticket."""
    with session_scope(bind) as session:
        result = session.execute(
            update(HandoffTicket)
            .where(
                HandoffTicket.active_key == conversation_id,
                HandoffTicket.status == WAITING,
            )
            .values(
                status=CLOSED, active_key=None, closed_at=now or booking.local_now()
            )
        )
        return bool(result.rowcount)


async def claim(
    conversation_id: str,
    officer: str,
    unit: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
    rasa: RasaApi | None = None,
) -> TicketView:
    """The officer takes the conversation; Rasa pauses it.

    If Rasa cannot be reached the claim is undone, so the bot never goes quiet
    on a conversation nobody holds.
    """
    now = now or booking.local_now()
    with session_scope(bind) as session:
        row = _ticket_of_unit(session, conversation_id, unit)
        if row.status == CLAIMED:
            if row.claimed_by == officer:
                return _view(row)
            raise HandoffError("already claimed by another officer")
        taken = session.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id == row.id, HandoffTicket.status == WAITING)
            .values(status=CLAIMED, claimed_by=officer, claimed_at=now)
        )
        if not taken.rowcount:
            raise HandoffError("already claimed by another officer")
        ticket_id = row.id
    try:
        await (rasa or RasaApi()).pause(conversation_id)
    except HandoffError:
        with session_scope(bind) as session:
            session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id)
                .values(status=WAITING, claimed_by=None, claimed_at=None)
            )
        raise
    with session_scope(bind) as session:
        return _view(session.get(HandoffTicket, ticket_id))


async def reply(
    conversation_id: str,
    officer: str,
    unit: str,
    text: str,
    bind: Engine | None = None,
) -> None:
    """Send the officer's message to the citizen through the conversation's channel."""
    with session_scope(bind) as session:
        row = _ticket_of_unit(session, conversation_id, unit)
        if row.status != CLAIMED or row.claimed_by != officer:
            raise HandoffError("claim the conversation before replying")
        channel = row.channel
    await outbound.send(
        channel, conversation_id, text, {"officer": officer, "unit": unit}, bind=bind
    )


async def release(
    conversation_id: str,
    officer: str,
    unit: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
    rasa: RasaApi | None = None,
) -> TicketView:
    """Hand the conversation back to the bot: Rasa resumes, the ticket closes."""
    with session_scope(bind) as session:
        row = _ticket_of_unit(session, conversation_id, unit)
        if row.status != CLAIMED or row.claimed_by != officer:
            raise HandoffError("only the officer holding it can release it")
        ticket_id = row.id
    await (rasa or RasaApi()).resume(conversation_id)
    with session_scope(bind) as session:
        row = session.get(HandoffTicket, ticket_id)
        row.status, row.active_key = CLOSED, None
        row.closed_at = now or booking.local_now()
        session.flush()
        return _view(row)
