"""The officers' desk: every console operation, scoped by a :class:`Viewer`.

Each function first finds which unit the record belongs to, checks that the
viewer sees that unit, and only then calls the capability's own service with
that unit. A record of a unit the viewer does not see raises the same
``*NotFound`` error as a record that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import IO, Any, Dict, List, Union

from sqlalchemy import select

from services import (
    applications,
    booking,
    crypto,
    handoff,
    outbound,
    tips,
    transcripts,
)
from services.db import session_scope
from services.errors import (
    ApplicationNotFound,
    BookingNotFound,
    ServiceError,
    TipNotFound,
)
from services.knowledge_models import Fact, NewsItem, Procedure, ScamAlert, Unit
from services.officers import Viewer

STALE_AFTER = dt.timedelta(days=180)
CONTEXT_BEFORE = dt.timedelta(hours=24)
CONSOLE_NEWS_PREFIX = "console:"


class ContentError(ServiceError):
    """A news item that cannot be published as given."""


# ---- units ----------------------------------------------------------------------


def unit_names(viewer: Viewer) -> Dict[str, str]:
    """Code -> name of the units the viewer sees."""
    with session_scope() as session:
        rows = session.execute(
            select(Unit.code, Unit.name).where(Unit.code.in_(sorted(viewer.units)))
        ).all()
        return {code: name for code, name in sorted(rows)}


def _unit_choice(viewer: Viewer, unit: str | None) -> str:
    """The unit a screen shows: the asked one if visible, else the viewer's own."""
    if unit and viewer.sees(unit):
        return unit
    if unit:
        raise BookingNotFound()  # a unit outside the viewer's sight reads as absent
    return viewer.unit


# ---- tips -----------------------------------------------------------------------


def list_tips(viewer: Viewer) -> List[tips.TipSummary]:
    """Every visible unit's tips, newest first (audit: one "list" line each)."""
    result: List[tips.TipSummary] = []
    for unit in sorted(viewer.units):
        result.extend(tips.list_tips(unit))
    result.sort(key=lambda t: t.created_at, reverse=True)
    if result:
        ids = tips.ids_of([t.reference for t in result])
        tips.log_access(ids, viewer.label, viewer.unit, "list")
    return result


def _tip_unit(viewer: Viewer, id_or_reference: Union[int, str]) -> str:
    unit = tips.unit_of(id_or_reference)
    if not viewer.sees(unit):
        raise TipNotFound()
    return unit


def get_tip(viewer: Viewer, id_or_reference: Union[int, str]) -> tips.TipView:
    """The decrypted tip, audit-logged; another unit's tip is not found."""
    unit = _tip_unit(viewer, id_or_reference)
    return tips.get_tip(id_or_reference, unit, officer=viewer.label)


def update_tip(
    viewer: Viewer,
    id_or_reference: Union[int, str],
    status: str | None = None,
    note: str | None = None,
) -> None:
    unit = _tip_unit(viewer, id_or_reference)
    tips.officer_update(id_or_reference, unit, viewer.label, status, note)


# ---- handoff --------------------------------------------------------------------


def queue(viewer: Viewer) -> List[handoff.TicketView]:
    """Open tickets of every visible unit: claimed first, then waiting in order."""
    views: List[handoff.TicketView] = []
    for unit in sorted(viewer.units):
        views.extend(handoff.queue(unit))
    return sorted(views, key=lambda v: (v.status != handoff.CLAIMED, v.id))


def ticket(viewer: Viewer, conversation_id: str) -> handoff.TicketView:
    """The open ticket of a conversation the viewer sees, else TicketNotFound."""
    with session_scope() as session:
        row = session.execute(
            select(handoff.HandoffTicket).where(
                handoff.HandoffTicket.active_key == conversation_id
            )
        ).scalar_one_or_none()
        unit = None if row is None else row.unit
    if not viewer.sees(unit):
        raise handoff.TicketNotFound("no open ticket visible to this officer")
    return handoff.get_ticket(conversation_id, str(unit))


async def claim(viewer: Viewer, conversation_id: str) -> handoff.TicketView:
    unit = ticket(viewer, conversation_id).unit
    return await handoff.claim(conversation_id, viewer.label, unit)


async def reply(viewer: Viewer, conversation_id: str, text: str) -> None:
    unit = ticket(viewer, conversation_id).unit
    await handoff.reply(conversation_id, viewer.label, unit, text)


async def release(viewer: Viewer, conversation_id: str) -> handoff.TicketView:
    unit = ticket(viewer, conversation_id).unit
    return await handoff.release(conversation_id, viewer.label, unit)


@dataclass(frozen=True)
class Line:
    """One line of a conversation as the officer reads it."""

    at: dt.datetime
    who: str  # "citizen" | "bot" | "officer:<name>"
    text: str
    delivered: bool


def transcript(viewer: Viewer, conversation_id: str) -> List[Line]:
    """The conversation as the officer reads it, oldest first: what the citizen
    and the bot said (tracker store, from a day before the request) and the
    officers' replies (outbound store, decrypted)."""
    view = ticket(viewer, conversation_id)
    lines = [
        Line(said.at, said.who, said.text, True)
        for said in transcripts.conversation(
            conversation_id, since=view.requested_at - CONTEXT_BEFORE
        )
    ]
    with session_scope() as session:
        rows = session.execute(
            select(outbound.OutboundMessage)
            .where(
                outbound.OutboundMessage.sender_id == conversation_id,
                outbound.OutboundMessage.channel == view.channel,
                outbound.OutboundMessage.created_at >= view.requested_at,
            )
            .order_by(outbound.OutboundMessage.id)
        ).scalars()
        for row in rows:
            meta = json.loads(row.meta) if row.meta else {}
            lines.append(
                Line(
                    row.created_at,
                    f"officer:{meta.get('officer', '?')}",
                    crypto.decrypt(row.text, "outbound_messages.text"),
                    row.status == outbound.SENT,
                )
            )
    return sorted(lines, key=lambda line: line.at)


# ---- appointments ---------------------------------------------------------------


def day_view(
    viewer: Viewer, day: dt.date, unit: str | None = None
) -> List[booking.AppointmentView]:
    """One unit's bookings of one day (cancelled ones included, marked)."""
    chosen = _unit_choice(viewer, unit)
    return booking.list_appointments(chosen, day, day, include_cancelled=True)


def set_capacity(
    viewer: Viewer,
    unit: str,
    capacity: int,
    weekday: int | None = None,
    start: dt.time | None = None,
) -> None:
    if not viewer.sees(unit):
        raise BookingNotFound()
    if not 0 <= capacity <= 100:
        raise ValueError("capacity must be 0-100")
    booking.set_capacity(unit, capacity, weekday, start)


def mark_no_show(viewer: Viewer, code: str) -> None:
    """Mark a booking of a visible unit as not attended."""
    for unit in sorted(viewer.units):
        try:
            booking.mark_no_show(code, unit)
            return
        except BookingNotFound:
            continue
    raise BookingNotFound()


# ---- applications ---------------------------------------------------------------


def update_application(
    viewer: Viewer, code: str, status: str, note: str | None
) -> applications.ApplicationView:
    for unit in sorted(viewer.units):
        try:
            return applications.update_status(code, status, note, viewer.label, unit)
        except ApplicationNotFound:
            continue
    raise ApplicationNotFound()


def import_applications(
    viewer: Viewer, unit: str, source: IO[str]
) -> applications.ImportReport:
    if not viewer.sees(unit):
        raise ApplicationNotFound()
    return applications.import_csv(source, unit, officer=viewer.label)


# ---- content --------------------------------------------------------------------


def publish_news(
    viewer: Viewer,
    unit: str,
    title: str,
    summary: str,
    link: str | None = None,
    day: dt.date | None = None,
) -> int:
    """Publish a news item of a visible unit; the assistant answers with it at
    once (it reads news_items on every question)."""
    if not viewer.sees(unit):
        raise ContentError("unit not visible")
    title, summary = (title or "").strip(), (summary or "").strip()
    if not title or len(title) > 300 or not summary or len(summary) > 2000:
        raise ContentError("title 1-300 and summary 1-2000 characters")
    if link and not link.startswith(("https://", "http://")):
        raise ContentError("the link must start with http(s)://")
    day = day or booking.local_now().date()
    digest = hashlib.sha256(f"{unit}\n{title}\n{day}".encode()).hexdigest()
    key = f"{CONSOLE_NEWS_PREFIX}{digest[:50]}"
    with session_scope() as session:
        if session.execute(select(NewsItem.id).where(NewsItem.key == key)).first():
            raise ContentError("this news item is published already")
        row = NewsItem(
            key=key,
            unit=unit,
            title=title,
            summary=summary,
            link=link or None,
            published_at=day,
            content_hash=hashlib.sha256(
                json.dumps([title, summary, link]).encode()
            ).hexdigest(),
        )
        session.add(row)
        session.flush()
        return int(row.id)


def _lines(items: List[str], limit: int = 20) -> List[str]:
    result = [item.strip() for item in items if item and item.strip()]
    if len(result) > limit or any(len(item) > 500 for item in result):
        raise ContentError(f"at most {limit} lines of 500 characters")
    return result


def publish_scam(
    viewer: Viewer,
    title: str,
    how_it_works: str,
    signs: List[str],
    what_to_do: List[str],
    keywords: List[str],
    examples: List[str],
    source: str | None = None,
) -> str:
    """Add a scam alert to the catalogue (province admins only: the catalogue is
    shared by every unit). The assistant matches citizens' messages against it
    and lists it among the latest warnings at once."""
    if viewer.role != "admin":
        raise ContentError("only an admin publishes scam alerts")
    title, how_it_works = (title or "").strip(), (how_it_works or "").strip()
    if not title or len(title) > 300 or not how_it_works or len(how_it_works) > 3000:
        raise ContentError("title 1-300 and description 1-3000 characters")
    signs, what_to_do = _lines(signs), _lines(what_to_do)
    keywords, examples = _lines(keywords, 40), _lines(examples)
    if not signs or not what_to_do or not (keywords or examples):
        raise ContentError("signs, what to do and keywords or examples are needed")
    key = "console-" + hashlib.sha256(title.encode()).hexdigest()[:40]
    values = [title, how_it_works, signs, what_to_do, keywords, examples]
    with session_scope() as session:
        if session.get(ScamAlert, key) is not None:
            raise ContentError("a scam alert with this title exists already")
        session.add(
            ScamAlert(
                key=key,
                title=title,
                how_it_works=how_it_works,
                signs=signs,
                what_to_do=what_to_do,
                examples=examples,
                keywords=keywords,
                published_at=booking.local_now().date(),
                source=(source or "").strip()[:500] or f"Console: {viewer.unit}",
                legal_basis=None,
                last_verified=booking.local_now().date(),
                content_hash=hashlib.sha256(
                    json.dumps(values, ensure_ascii=False).encode()
                ).hexdigest(),
            )
        )
    return key


@dataclass(frozen=True)
class FactLine:
    id: int
    procedure: str
    info_type: str
    text: str
    legal_basis: str
    last_verified: dt.date
    unit: str | None
    stale: bool


def facts(viewer: Viewer, stale_only: bool = False) -> List[FactLine]:
    """National facts and the viewer's units' overrides; ``stale`` when last
    verified more than 180 days ago (to re-check)."""
    today = booking.local_now().date()
    with session_scope() as session:
        query = (
            select(Fact)
            .join(Procedure, Procedure.code == Fact.procedure)
            .where((Fact.unit.is_(None)) | (Fact.unit.in_(sorted(viewer.units))))
            .order_by(Fact.last_verified, Fact.procedure, Fact.position)
        )
        if stale_only:
            query = query.where(Fact.last_verified < today - STALE_AFTER)
        return [
            FactLine(
                row.id,
                row.procedure,
                row.info_type,
                row.text,
                row.legal_basis,
                row.last_verified,
                row.unit,
                row.last_verified < today - STALE_AFTER,
            )
            for row in session.execute(query).scalars()
        ]


def as_dict(value: Any) -> Dict[str, Any]:
    """A dataclass view as a JSON-ready dict (dates as ISO text)."""
    result = {}
    for name, item in vars(value).items():
        if isinstance(item, (dt.date, dt.time, dt.datetime)):
            item = item.isoformat()
        result[name] = item
    return result
