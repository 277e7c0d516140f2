"""Confidential crime tips: stored encrypted, read only by the tip's own unit.

What happened, where, when, the contact (only if the citizen agreed), the
conversation it came from, every evidence reference (Zalo attachment URL or id)
and every later addition are sealed with services.crypto (AES-GCM, key id on
each record). The citizen gets a reference code to add information later; an
officer reads a tip only through :func:`get_tip`, which checks the unit and
writes an audit line. Every field is registered with services.privacy, so it is
masked in any log line of this process.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Dict, List, Union

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import crypto, privacy
from services.booking import CODE_ALPHABET, UNIT_CODE, local_now
from services.db import Base, session_scope
from services.errors import ServiceError, TipNotFound, UnknownUnit

REFERENCE_PREFIX = "TB"
REFERENCE_LENGTH = 8
MAX_TEXT = 5000
MAX_EVIDENCE = 20


class BadTip(ServiceError):
    citizen_message = (
        "Dạ, nội dung tin báo chưa hợp lệ, anh/chị mô tả lại ngắn gọn giúp em ạ."
    )


class Tip(Base):
    __tablename__ = "tips"
    __encrypted__ = ("what_text", "place", "occurred", "contact", "conversation")

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    unit = Column(String(64), nullable=False, index=True)
    key_id = Column(String(32), nullable=False)
    what_text = Column(Text, nullable=False)
    place = Column(Text, nullable=True)
    occurred = Column(Text, nullable=True)
    contact = Column(Text, nullable=True)
    conversation = Column(Text, nullable=True)
    status = Column(String(16), nullable=False)
    request_key = Column(String(64), nullable=True, unique=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class TipEvidence(Base):
    __tablename__ = "tips_evidence"
    __encrypted__ = ("ref",)

    id = Column(Integer, primary_key=True)
    tip_id = Column(Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False)
    key_id = Column(String(32), nullable=False)
    ref = Column(Text, nullable=False)
    added_at = Column(DateTime, nullable=False)


class TipNote(Base):
    """Information added later, by the citizen (author "citizen") or an officer."""

    __tablename__ = "tips_notes"
    __encrypted__ = ("text",)

    id = Column(Integer, primary_key=True)
    tip_id = Column(Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False)
    key_id = Column(String(32), nullable=False)
    author = Column(String(120), nullable=False)
    text = Column(Text, nullable=False)
    added_at = Column(DateTime, nullable=False)


class TipAccess(Base):
    """Audit: which officer of which unit read or listed which tip, when."""

    __tablename__ = "tips_access_log"

    id = Column(Integer, primary_key=True)
    tip_id = Column(Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False)
    officer = Column(String(120), nullable=False)
    unit = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    at = Column(DateTime, nullable=False)


@dataclass(frozen=True)
class TipSummary:
    reference: str
    unit: str
    status: str
    created_at: dt.datetime
    evidence_count: int
    note_count: int


@dataclass(frozen=True)
class TipNoteView:
    author: str
    text: str
    added_at: dt.datetime


@dataclass(frozen=True)
class TipView:
    id: int
    reference: str
    unit: str
    status: str
    what: str
    where: str | None
    when: str | None
    contact: Dict[str, Any] | None
    evidence: List[Dict[str, Any]]
    notes: List[TipNoteView]
    created_at: dt.datetime


def _text(value: str | None, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadTip("empty text")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadTip("text too long or not text")
    return value.strip()


def _evidence(items: List[Dict[str, Any]] | None) -> List[str]:
    """Evidence references as JSON, checked (a list of small JSON objects)."""
    if not items:
        return []
    if not isinstance(items, list) or len(items) > MAX_EVIDENCE:
        raise BadTip("evidence must be a short list")
    result = []
    for item in items:
        if not isinstance(item, dict):
            raise BadTip("each evidence item must be an object")
        try:
            encoded = json.dumps(item, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError) as error:
            raise BadTip("evidence is not JSON") from error
        if len(encoded) > 4000:
            raise BadTip("evidence item too large")
        privacy.register(*(v for v in item.values() if isinstance(v, str)))
        result.append(encoded)
    return result


def new_reference() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{REFERENCE_PREFIX}-{body}"


def normalize_reference(reference: str) -> str:
    compact = re.sub(r"[\s.\-]", "", reference or "").upper()
    if compact.startswith(REFERENCE_PREFIX):
        compact = compact[len(REFERENCE_PREFIX) :]
    return f"{REFERENCE_PREFIX}-{compact}"


def _seal(value: str | None, field: str) -> str | None:
    return crypto.encrypt_optional(value, f"tips.{field}")


def _add_evidence(
    session: Session, tip_id: int, items: List[str], now: dt.datetime
) -> None:
    for encoded in items:
        session.add(
            TipEvidence(
                tip_id=tip_id,
                key_id=crypto.keyring().current,
                ref=crypto.encrypt(encoded, "tips_evidence.ref"),
                added_at=now,
            )
        )


def _insert_tip(
    unit: str,
    fields: List[str | None],
    items: List[str],
    request_key: str | None,
    now: dt.datetime,
    bind: Engine | None,
) -> str | None:
    """Insert the tip; the existing reference for a repeated request; None if
    the drawn reference is taken."""
    what_text, place, occurred, contact_json, conversation_id = fields
    reference = new_reference()
    with session_scope(bind) as session:
        if request_key is not None:
            existing = session.execute(
                select(Tip.reference).where(Tip.request_key == request_key)
            ).scalar_one_or_none()
            if existing is not None:
                return str(existing)
        if session.execute(select(Tip.id).where(Tip.reference == reference)).first():
            return None
        tip = Tip(
            reference=reference,
            unit=unit,
            key_id=crypto.keyring().current,
            what_text=_seal(what_text, "what_text"),
            place=_seal(place, "place"),
            occurred=_seal(occurred, "occurred"),
            contact=_seal(contact_json, "contact"),
            conversation=_seal(conversation_id, "conversation"),
            status="new",
            request_key=request_key,
            created_at=now,
            updated_at=now,
        )
        session.add(tip)
        session.flush()
        _add_evidence(session, tip.id, items, now)
        return reference


def file_tip(
    unit: str,
    what: str,
    where: str | None,
    when: str | None,
    evidence: List[Dict[str, Any]] | None,
    contact: Dict[str, Any] | None,
    conversation_id: str | None,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> str:
    """Store a tip encrypted; returns the reference code for the citizen.

    The same tip sent again from the same conversation (a retried action) gets
    the reference it already has instead of a second copy.
    """
    now = now or local_now()
    if not isinstance(unit, str) or not UNIT_CODE.match(unit):
        raise UnknownUnit(f"unknown unit {unit!r}")
    what_text = _text(what, required=True)
    place, occurred = _text(where), _text(when)
    if contact is not None and not isinstance(contact, dict):
        raise BadTip("contact must be an object")
    contact_json = json.dumps(contact, ensure_ascii=False) if contact else None
    privacy.register(what_text, place, occurred)
    if contact:
        privacy.register(*(v for v in contact.values() if isinstance(v, str)))
    items = _evidence(evidence)
    request_key = None
    if conversation_id:
        request_key = crypto.blind_index(
            json.dumps(["tip", conversation_id, unit, what_text, place, occurred])
        )
    for _ in range(10):
        try:
            reference = _insert_tip(
                unit,
                [what_text, place, occurred, contact_json, conversation_id],
                items,
                request_key,
                now,
                bind,
            )
        except IntegrityError:  # the same tip racing itself, or a taken code
            continue
        if reference is not None:
            return reference
    raise ServiceError("could not allocate a tip reference")


def _find(session: Session, id_or_reference: Union[int, str]) -> Tip | None:
    if isinstance(id_or_reference, int) or str(id_or_reference).isdigit():
        return session.get(Tip, int(id_or_reference))
    return session.execute(
        select(Tip).where(Tip.reference == normalize_reference(str(id_or_reference)))
    ).scalar_one_or_none()


def add_to_tip(
    reference: str,
    text: str | None = None,
    evidence: List[Dict[str, Any]] | None = None,
    conversation_id: str | None = None,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> None:
    """Add the citizen's later information to the tip with this reference.

    ``conversation_id`` is accepted for the audit of who added; the reference
    code itself is the citizen's key (about 40 random bits, not guessable).
    """
    now = now or local_now()
    note = _text(text)
    items = _evidence(evidence)
    if note is None and not items:
        raise BadTip("nothing to add")
    privacy.register(note)
    with session_scope(bind) as session:
        tip = session.execute(
            select(Tip).where(Tip.reference == normalize_reference(reference))
        ).scalar_one_or_none()
        if tip is None:
            raise TipNotFound()
        if note is not None:
            session.add(
                TipNote(
                    tip_id=tip.id,
                    key_id=crypto.keyring().current,
                    author="citizen",
                    text=crypto.encrypt(note, "tips_notes.text"),
                    added_at=now,
                )
            )
        _add_evidence(session, tip.id, items, now)
        tip.updated_at = now


def list_tips(unit: str, bind: Engine | None = None) -> List[TipSummary]:
    """A unit's tips, newest first, without their content (nothing decrypted)."""
    with session_scope(bind) as session:
        evidence = (
            select(TipEvidence.tip_id, func.count().label("n"))
            .group_by(TipEvidence.tip_id)
            .subquery()
        )
        notes = (
            select(TipNote.tip_id, func.count().label("n"))
            .group_by(TipNote.tip_id)
            .subquery()
        )
        rows = session.execute(
            select(Tip, evidence.c.n, notes.c.n)
            .outerjoin(evidence, evidence.c.tip_id == Tip.id)
            .outerjoin(notes, notes.c.tip_id == Tip.id)
            .where(Tip.unit == unit)
            .order_by(Tip.created_at.desc(), Tip.id.desc())
        ).all()
        return [
            TipSummary(
                tip.reference, tip.unit, tip.status, tip.created_at, e or 0, n or 0
            )
            for tip, e, n in rows
        ]


def get_tip(
    id_or_reference: Union[int, str],
    viewer_unit: str,
    officer: str = "unknown",
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> TipView:
    """The decrypted tip, for an officer of its own unit (audit-logged).

    Another unit's tip is reported as not found, like a tip that does not exist.
    """
    with session_scope(bind) as session:
        tip = _find(session, id_or_reference)
        if tip is None or tip.unit != viewer_unit:
            raise TipNotFound()
        session.add(
            TipAccess(
                tip_id=tip.id,
                officer=officer,
                unit=viewer_unit,
                action="read",
                at=now or local_now(),
            )
        )
        if tip.status == "new":
            tip.status = "read"
        evidence = session.execute(
            select(TipEvidence)
            .where(TipEvidence.tip_id == tip.id)
            .order_by(TipEvidence.id)
        ).scalars()
        notes = session.execute(
            select(TipNote).where(TipNote.tip_id == tip.id).order_by(TipNote.id)
        ).scalars()
        contact = crypto.decrypt_optional(tip.contact, "tips.contact")
        return TipView(
            id=tip.id,
            reference=tip.reference,
            unit=tip.unit,
            status=tip.status,
            what=crypto.decrypt(tip.what_text, "tips.what_text"),
            where=crypto.decrypt_optional(tip.place, "tips.place"),
            when=crypto.decrypt_optional(tip.occurred, "tips.occurred"),
            contact=json.loads(contact) if contact else None,
            evidence=[
                json.loads(crypto.decrypt(item.ref, "tips_evidence.ref"))
                for item in evidence
            ],
            notes=[
                TipNoteView(
                    note.author,
                    crypto.decrypt(note.text, "tips_notes.text"),
                    note.added_at,
                )
                for note in notes
            ],
            created_at=tip.created_at,
        )


def access_log(tip_id: int, bind: Engine | None = None) -> List[tuple]:
    """(officer, unit, action, at) of every access to a tip, oldest first."""
    with session_scope(bind) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    TipAccess.officer, TipAccess.unit, TipAccess.action, TipAccess.at
                )
                .where(TipAccess.tip_id == tip_id)
                .order_by(TipAccess.id)
            ).all()
        ]


STATUSES = ("new", "read", "in_progress", "closed")


def unit_of(id_or_reference: Union[int, str], bind: Engine | None = None) -> str:
    """The unit a tip belongs to (no content read, nothing logged), or
    :class:`TipNotFound`; callers check the unit before reading the tip."""
    with session_scope(bind) as session:
        tip = _find(session, id_or_reference)
        if tip is None:
            raise TipNotFound()
        return str(tip.unit)


def log_access(
    tip_ids: List[int],
    officer: str,
    unit: str,
    action: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> None:
    """Write one audit line per tip (e.g. "list" when the inbox shows them)."""
    at = now or local_now()
    with session_scope(bind) as session:
        for tip_id in tip_ids:
            session.add(
                TipAccess(
                    tip_id=tip_id, officer=officer, unit=unit, action=action[:32], at=at
                )
            )


def ids_of(references: List[str], bind: Engine | None = None) -> List[int]:
    with session_scope(bind) as session:
        return list(
            session.execute(
                select(Tip.id).where(Tip.reference.in_(references))
            ).scalars()
        )


def officer_update(
    id_or_reference: Union[int, str],
    viewer_unit: str,
    officer: str,
    status: str | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> None:
    """An officer of the tip's unit changes its status and/or adds a note
    (encrypted); audit-logged like a read. Another unit's tip: not found."""
    now = now or local_now()
    if status is not None and status not in STATUSES:
        raise BadTip(f"unknown status {status!r}")
    text = _text(note)
    if status is None and text is None:
        raise BadTip("nothing to change")
    privacy.register(text)
    with session_scope(bind) as session:
        tip = _find(session, id_or_reference)
        if tip is None or tip.unit != viewer_unit:
            raise TipNotFound()
        if status is not None and status != tip.status:
            tip.status = status
            session.add(
                TipAccess(
                    tip_id=tip.id,
                    officer=officer,
                    unit=viewer_unit,
                    action=f"status:{status}",
                    at=now,
                )
            )
        if text is not None:
            session.add(
                TipNote(
                    tip_id=tip.id,
                    key_id=crypto.keyring().current,
                    author=officer[:120],
                    text=crypto.encrypt(text, "tips_notes.text"),
                    added_at=now,
                )
            )
            session.add(
                TipAccess(
                    tip_id=tip.id,
                    officer=officer,
                    unit=viewer_unit,
                    action="note",
                    at=now,
                )
            )
        tip.updated_at = now
