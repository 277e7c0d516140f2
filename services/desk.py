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
from typing import IO, Any, Dict, List, Tuple, Union

from sqlalchemy import select

from services import (
    applications,
    audit,
    booking,
    crypto,
    handoff,
    outbound,
    tip_attachments,
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
    """Content that cannot be published or changed as given."""


class ContentNotFound(ServiceError):
    """No such content, or content of a unit the viewer does not see."""


class NotAllowed(ContentError):
    """Content the viewer sees but may not change (Viewer.edits)."""


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


def _tip_id(id_or_reference: Union[int, str]) -> int:
    if isinstance(id_or_reference, int) or str(id_or_reference).isdigit():
        return int(id_or_reference)
    found = tips.ids_of([tips.normalize_reference(str(id_or_reference))])
    if not found:
        raise TipNotFound()
    return found[0]


def tip_attachments_of(
    viewer: Viewer, id_or_reference: Union[int, str]
) -> List[tip_attachments.AttachmentInfo]:
    """The officers' files of a visible tip (names only: shown with the tip,
    whose read is logged already)."""
    _tip_unit(viewer, id_or_reference)
    return tip_attachments.list_for(_tip_id(id_or_reference))


def add_tip_attachment(
    viewer: Viewer, id_or_reference: Union[int, str], name: str | None, data: bytes
) -> int:
    """Add an officer's file to a visible tip (encrypted, audit-logged)."""
    _tip_unit(viewer, id_or_reference)
    tip_id = _tip_id(id_or_reference)
    attachment = tip_attachments.add(tip_id, viewer.label, name, data)
    tips.log_access([tip_id], viewer.label, viewer.unit, f"attachment:add:{attachment}")
    return attachment


def open_tip_attachment(
    viewer: Viewer,
    id_or_reference: Union[int, str],
    attachment_id: int,
    inline: bool = False,
) -> tip_attachments.AttachmentFile:
    """A file of a visible tip; each view (inline) and download is logged."""
    _tip_unit(viewer, id_or_reference)
    tip_id = _tip_id(id_or_reference)
    found = tip_attachments.read(tip_id, attachment_id)
    action = "view" if inline and found.info.image else "download"
    tips.log_access(
        [tip_id], viewer.label, viewer.unit, f"attachment:{action}:{attachment_id}"
    )
    return found


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
    text: str  # a button press: the button's title (never its payload)
    delivered: bool
    buttons: Tuple[str, ...] = ()  # the bot's buttons' titles
    pressed: bool = False  # the citizen pressed a button


def transcript(viewer: Viewer, conversation_id: str) -> List[Line]:
    """The conversation as the officer reads it, oldest first: what the citizen
    and the bot said (tracker store, from a day before the request) and the
    officers' replies (outbound store, decrypted)."""
    view = ticket(viewer, conversation_id)
    lines = [
        Line(said.at, said.who, said.text, True, said.buttons, said.pressed)
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
#
# Who may change what is Viewer.edits (services.officers), one rule for all
# content. Content the viewer does not see (another unit's news or override)
# is ContentNotFound, like a guessed id; content it sees but may not change
# (national facts, the scam catalogue, for a commune officer) is NotAllowed.
# Every change writes a content_audit line in the same transaction. Console
# edits leave content_hash as the loader wrote it, so `make seed` keeps them
# (see services.loader).


def _now() -> dt.datetime:
    return booking.local_now()


def _check_link(link: str | None) -> str | None:
    link = (link or "").strip() or None
    if link and (
        not link.startswith(("https://", "http://"))
        or len(link) > 500
        or any(c.isspace() for c in link)
    ):
        raise ContentError("the link must start with http(s)://")
    return link


def _news_text(title: str, summary: str) -> Tuple[str, str]:
    title, summary = (title or "").strip(), (summary or "").strip()
    if not title or len(title) > 300 or not summary or len(summary) > 2000:
        raise ContentError("title 1-300 and summary 1-2000 characters")
    return title, summary


def _changes(row: Any, values: Dict[str, Any]) -> Dict[str, Tuple[Any, Any]]:
    """Set ``values`` on ``row``; the (old, new) pairs of what really changed."""
    changed = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changed[name] = (old, value)
            setattr(row, name, value)
    return changed


def _edited(row: Any, viewer: Viewer, now: dt.datetime) -> None:
    row.edited_by = viewer.label[:64]
    row.edited_at = now


def _edit(
    session: Any,
    viewer: Viewer,
    row: Any,
    values: Dict[str, Any],
    kind: str,
    key: str,
    now: dt.datetime,
) -> None:
    """Set ``values`` on a content row; if anything changed, mark the row as
    edited in the console and audit the (old, new) pairs."""
    changed = _changes(row, values)
    if changed:
        _edited(row, viewer, now)
        audit.record_content(
            session, viewer.label, viewer.unit, "edit", kind, key, changed, now
        )


def publish_news(
    viewer: Viewer,
    unit: str,
    title: str,
    summary: str,
    link: str | None = None,
    day: dt.date | None = None,
) -> int:
    """Publish a news item of a unit the viewer may edit for; the assistant
    answers with it at once (it reads news_items on every question)."""
    if not viewer.edits(unit):
        raise ContentError("unit not visible")
    title, summary = _news_text(title, summary)
    link = _check_link(link)
    day = day or _now().date()
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
            link=link,
            published_at=day,
            content_hash=hashlib.sha256(
                json.dumps([title, summary, link]).encode()
            ).hexdigest(),
        )
        session.add(row)
        session.flush()
        audit.record_content(
            session, viewer.label, viewer.unit, "publish", "news", str(row.id)
        )
        return int(row.id)


@dataclass(frozen=True)
class NewsLine:
    id: int
    unit: str
    title: str
    summary: str
    link: str | None
    published_at: dt.date
    published: bool  # False: unpublished in the console
    from_console: bool  # published in the console (else from knowledge/)
    edited_by: str | None


def _news_line(row: NewsItem) -> NewsLine:
    return NewsLine(
        int(row.id),
        row.unit,
        row.title,
        row.summary,
        row.link,
        row.published_at,
        row.withdrawn_at is None,
        row.key.startswith(CONSOLE_NEWS_PREFIX),
        row.edited_by,
    )


def news_items(viewer: Viewer) -> List[NewsLine]:
    """News of the units the viewer may edit for, unpublished ones included,
    newest first."""
    with session_scope() as session:
        rows = session.execute(
            select(NewsItem)
            .where(NewsItem.unit.in_(sorted(viewer.units)))
            .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
        ).scalars()
        return [_news_line(row) for row in rows if viewer.edits(row.unit)]


def _news_row(session: Any, viewer: Viewer, news_id: int) -> NewsItem:
    row = session.get(NewsItem, int(news_id))
    if row is None or not viewer.edits(row.unit):
        raise ContentNotFound()
    return row


def get_news(viewer: Viewer, news_id: int) -> NewsLine:
    with session_scope() as session:
        return _news_line(_news_row(session, viewer, news_id))


def edit_news(
    viewer: Viewer, news_id: int, title: str, summary: str, link: str | None
) -> None:
    """Change a news item's title, summary or link (audited)."""
    title, summary = _news_text(title, summary)
    link = _check_link(link)
    now = _now()
    with session_scope() as session:
        row = _news_row(session, viewer, news_id)
        _edit(
            session,
            viewer,
            row,
            {"title": title, "summary": summary, "link": link},
            "news",
            str(row.id),
            now,
        )


def set_news_published(viewer: Viewer, news_id: int, published: bool) -> None:
    """Unpublish (the assistant stops answering with it at once) or publish
    again; audited."""
    with session_scope() as session:
        row = _news_row(session, viewer, news_id)
        _set_published(session, viewer, row, published, "news", str(row.id))


def _set_published(
    session: Any, viewer: Viewer, row: Any, published: bool, kind: str, key: str
) -> None:
    """Withdraw a news item or scam alert, or bring it back; audited."""
    if (row.withdrawn_at is None) == published:
        return
    now = _now()
    row.withdrawn_at = None if published else now
    row.withdrawn_by = None if published else viewer.label[:64]
    audit.record_content(
        session,
        viewer.label,
        viewer.unit,
        "publish" if published else "unpublish",
        kind,
        key,
        now=now,
    )


def _lines(items: List[str], limit: int = 20) -> List[str]:
    result = [item.strip() for item in items if item and item.strip()]
    if len(result) > limit or any(len(item) > 500 for item in result):
        raise ContentError(f"at most {limit} lines of 500 characters")
    return result


def _scam_values(
    title: str,
    how_it_works: str,
    signs: List[str],
    what_to_do: List[str],
    keywords: List[str],
    examples: List[str],
) -> Dict[str, Any]:
    title, how_it_works = (title or "").strip(), (how_it_works or "").strip()
    if not title or len(title) > 300 or not how_it_works or len(how_it_works) > 3000:
        raise ContentError("title 1-300 and description 1-3000 characters")
    signs, what_to_do = _lines(signs), _lines(what_to_do)
    keywords, examples = _lines(keywords, 40), _lines(examples)
    if not signs or not what_to_do or not (keywords or examples):
        raise ContentError("signs, what to do and keywords or examples are needed")
    return {
        "title": title,
        "how_it_works": how_it_works,
        "signs": signs,
        "what_to_do": what_to_do,
        "keywords": keywords,
        "examples": examples,
    }


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
    if not viewer.edits(None):
        raise NotAllowed("only a province admin publishes scam alerts")
    values = _scam_values(title, how_it_works, signs, what_to_do, keywords, examples)
    key = "console-" + hashlib.sha256(values["title"].encode()).hexdigest()[:40]
    today = _now().date()
    with session_scope() as session:
        if session.get(ScamAlert, key) is not None:
            raise ContentError("a scam alert with this title exists already")
        session.add(
            ScamAlert(
                key=key,
                **values,
                published_at=today,
                source=(source or "").strip()[:500] or f"Console: {viewer.unit}",
                legal_basis=None,
                last_verified=today,
                content_hash=hashlib.sha256(
                    json.dumps(list(values.values()), ensure_ascii=False).encode()
                ).hexdigest(),
            )
        )
        audit.record_content(session, viewer.label, viewer.unit, "publish", "scam", key)
    return key


@dataclass(frozen=True)
class ScamLine:
    key: str
    title: str
    how_it_works: str
    signs: List[str]
    what_to_do: List[str]
    keywords: List[str]
    examples: List[str]
    source: str | None
    published_at: dt.date | None
    published: bool
    from_console: bool
    edited_by: str | None
    editable: bool


def _scam_line(row: ScamAlert, viewer: Viewer) -> ScamLine:
    return ScamLine(
        row.key,
        row.title,
        row.how_it_works,
        list(row.signs),
        list(row.what_to_do),
        list(row.keywords),
        list(row.examples),
        row.source,
        row.published_at,
        row.withdrawn_at is None,
        row.key.startswith("console-"),
        row.edited_by,
        viewer.edits(None),
    )


def scam_alerts(viewer: Viewer) -> List[ScamLine]:
    """The whole catalogue (shared by every unit), newest first."""
    with session_scope() as session:
        rows = session.execute(
            select(ScamAlert).order_by(ScamAlert.published_at.desc(), ScamAlert.key)
        ).scalars()
        return [_scam_line(row, viewer) for row in rows]


def _scam_row(session: Any, viewer: Viewer, key: str, change: bool) -> ScamAlert:
    row = session.get(ScamAlert, str(key)[:60])
    if row is None:
        raise ContentNotFound()
    if change and not viewer.edits(None):
        raise NotAllowed("only a province admin changes scam alerts")
    return row


def get_scam(viewer: Viewer, key: str) -> ScamLine:
    with session_scope() as session:
        return _scam_line(_scam_row(session, viewer, key, False), viewer)


def edit_scam(
    viewer: Viewer,
    key: str,
    title: str,
    how_it_works: str,
    signs: List[str],
    what_to_do: List[str],
    keywords: List[str],
    examples: List[str],
    source: str | None = None,
) -> None:
    """Change a scam alert (province admins only, audited); matching uses the
    new text at once."""
    values = _scam_values(title, how_it_works, signs, what_to_do, keywords, examples)
    values["source"] = (source or "").strip()[:500] or None
    now = _now()
    with session_scope() as session:
        row = _scam_row(session, viewer, key, True)
        _edit(session, viewer, row, values, "scam", row.key, now)


def set_scam_published(viewer: Viewer, key: str, published: bool) -> None:
    """Unpublish a scam alert (no longer matched or listed) or publish it
    again (province admins only, audited)."""
    with session_scope() as session:
        row = _scam_row(session, viewer, key, True)
        _set_published(session, viewer, row, published, "scam", row.key)


@dataclass(frozen=True)
class FactLine:
    id: int
    procedure: str
    info_type: str
    case: str | None
    text: str
    legal_basis: str
    source: str | None
    last_verified: dt.date
    confidence: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    unit: str | None
    stale: bool
    editable: bool
    edited_by: str | None


def _fact_line(row: Fact, viewer: Viewer, today: dt.date) -> FactLine:
    return FactLine(
        int(row.id),
        row.procedure,
        row.info_type,
        row.case,
        row.text,
        row.legal_basis,
        row.source,
        row.last_verified,
        row.confidence,
        row.valid_from,
        row.valid_until,
        row.unit,
        row.last_verified < today - STALE_AFTER,
        viewer.edits(row.unit),
        row.edited_by,
    )


def facts(viewer: Viewer, stale_only: bool = False) -> List[FactLine]:
    """National facts and the viewer's units' overrides; ``stale`` when last
    verified more than 180 days ago (to re-check)."""
    today = _now().date()
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
            _fact_line(row, viewer, today) for row in session.execute(query).scalars()
        ]


def _fact_row(session: Any, viewer: Viewer, fact_id: int, change: bool) -> Fact:
    row = session.get(Fact, int(fact_id))
    if row is None or (row.unit is not None and not viewer.sees(row.unit)):
        raise ContentNotFound()
    if change and not viewer.edits(row.unit):
        raise NotAllowed("only a province admin changes national facts")
    return row


def get_fact(viewer: Viewer, fact_id: int) -> FactLine:
    with session_scope() as session:
        return _fact_line(
            _fact_row(session, viewer, fact_id, False), viewer, _now().date()
        )


CONFIDENCES = ("S", "M", "U")


def edit_fact(
    viewer: Viewer,
    fact_id: int,
    text: str,
    legal_basis: str,
    source: str | None,
    last_verified: dt.date,
    confidence: str,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> None:
    """Change a procedure fact (audited); the assistant answers with it at once.

    National facts and the province's overrides: the province admin; a
    commune's overrides: its officers too (Viewer.edits)."""
    text, legal_basis = (text or "").strip(), (legal_basis or "").strip()
    if not text or len(text) > 3000 or not legal_basis or len(legal_basis) > 1000:
        raise ContentError("text 1-3000 and legal basis 1-1000 characters")
    if confidence not in CONFIDENCES:
        raise ContentError("confidence must be S, M or U")
    today = _now().date()
    if not isinstance(last_verified, dt.date) or last_verified > today:
        raise ContentError("last_verified must be a date, not in the future")
    if valid_from and valid_until and valid_until < valid_from:
        raise ContentError("valid_until is before valid_from")
    values = {
        "text": text,
        "legal_basis": legal_basis,
        "source": (source or "").strip()[:1000] or None,
        "last_verified": last_verified,
        "confidence": confidence,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
    now = _now()
    with session_scope() as session:
        row = _fact_row(session, viewer, fact_id, True)
        if row.unit is None and values["source"] is None:
            raise ContentError("a national fact needs its source")
        _edit(session, viewer, row, values, "fact", str(row.id), now)


def verify_fact(viewer: Viewer, fact_id: int) -> None:
    """ "Đã kiểm tra lại hôm nay": the fact was checked today, unchanged."""
    now = _now()
    with session_scope() as session:
        row = _fact_row(session, viewer, fact_id, True)
        changed = _changes(row, {"last_verified": now.date()})
        _edited(row, viewer, now)
        audit.record_content(
            session,
            viewer.label,
            viewer.unit,
            "verify",
            "fact",
            str(row.id),
            changed,
            now,
        )


def as_dict(value: Any) -> Dict[str, Any]:
    """A dataclass view as a JSON-ready dict (dates as ISO text)."""
    result = {}
    for name, item in vars(value).items():
        if isinstance(item, (dt.date, dt.time, dt.datetime)):
            item = item.isoformat()
        result[name] = item
    return result
