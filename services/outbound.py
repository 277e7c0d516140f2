"""Messages to citizens outside a Rasa turn (officer replies), per channel.

A channel that can push (Zalo) registers a :data:`Sender` with :func:`register`
in the process that owns its API client. :func:`send` stores every message
(text encrypted) and delivers it at once when this process has the channel's
sender; otherwise it stays pending and :func:`deliver_pending` (run by the
process that has the sender, e.g. :func:`delivery_loop` in the Rasa server)
sends it later.

REST cannot push: a message for a "rest" conversation waits until the citizen
writes again; the REST channel (connectors/rest.py) then calls
:func:`take_pending` and puts the waiting messages before the bot's answer in
that response.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, select, update
from sqlalchemy.engine import Engine

from services import crypto
from services.booking import local_now
from services.db import Base, session_scope
from services.errors import DeliveryError

logger = logging.getLogger(__name__)

Sender = Callable[
    [str, str, Dict[str, Any]], Awaitable[None]
]  # (sender_id, text, metadata)
PULL_CHANNELS = frozenset({"rest"})  # delivered in the citizen's next response
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MAX_TEXT = 2000
MAX_ATTEMPTS = 5

_senders: Dict[str, Sender] = {}


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    __encrypted__ = ("text",)
    __table_args__ = (
        Index("ix_outbound_messages_pending", "channel", "status", "sender_id"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    sender_id = Column(String(255), nullable=False)
    key_id = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)  # encrypted
    meta = Column(Text, nullable=True)  # JSON: buttons, officer, no personal data
    status = Column(String(16), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    error = Column(String(255), nullable=True)
    created_at = Column(DateTime, nullable=False)
    delivered_at = Column(DateTime, nullable=True)


def register(channel: str, sender: Sender) -> None:
    """Let this process push messages of ``channel`` through ``sender``."""
    _senders[channel] = sender


def unregister(channel: str) -> None:
    _senders.pop(channel, None)


def _store(
    channel: str,
    sender_id: str,
    text: str,
    metadata: Dict[str, Any],
    bind: Engine | None,
) -> int:
    with session_scope(bind) as session:
        row = OutboundMessage(
            channel=channel,
            sender_id=sender_id,
            key_id=crypto.keyring().current,
            text=crypto.encrypt(text, "outbound_messages.text"),
            meta=json.dumps(metadata, ensure_ascii=False) if metadata else None,
            status=PENDING,
            attempts=0,
            created_at=local_now(),
        )
        session.add(row)
        session.flush()
        return int(row.id)


def _claim(message_id: int, bind: Engine | None) -> bool:
    """Take a pending message for delivery (one process wins)."""
    with session_scope(bind) as session:
        result = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.status == PENDING)
            .values(status=SENDING, attempts=OutboundMessage.attempts + 1)
        )
        return bool(result.rowcount)


def _finish(message_id: int, error: str | None, bind: Engine | None) -> None:
    with session_scope(bind) as session:
        row = session.get(OutboundMessage, message_id)
        if row is None:
            return
        if error is None:
            row.status, row.delivered_at, row.error = SENT, local_now(), None
        else:
            row.status = FAILED if row.attempts >= MAX_ATTEMPTS else PENDING
            row.error = error[:255]


async def _push(message_id: int, bind: Engine | None) -> None:
    if not _claim(message_id, bind):
        return
    with session_scope(bind) as session:
        row = session.get(OutboundMessage, message_id)
        assert row is not None
        channel, sender_id = row.channel, row.sender_id
        text = crypto.decrypt(row.text, "outbound_messages.text")
        metadata = json.loads(row.meta) if row.meta else {}
    try:
        await _senders[channel](sender_id, text, metadata)
    except Exception as error:  # the channel's API failed: keep it for a retry
        _finish(message_id, type(error).__name__, bind)
        raise DeliveryError(
            f"{channel} delivery failed: {type(error).__name__}"
        ) from error
    _finish(message_id, None, bind)


async def send(
    channel: str,
    sender_id: str,
    text: str,
    metadata: Dict[str, Any] | None = None,
    bind: Engine | None = None,
) -> None:
    """Send ``text`` to the citizen ``sender_id`` on ``channel`` (stored first)."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise ValueError(f"a message must be 1-{MAX_TEXT} characters")
    if not channel or not sender_id:
        raise ValueError("channel and sender_id are required")
    message_id = _store(channel, sender_id, text.strip(), dict(metadata or {}), bind)
    if channel in PULL_CHANNELS or channel not in _senders:
        return
    await _push(message_id, bind)


def take_pending(
    channel: str, sender_id: str, bind: Engine | None = None
) -> List[Dict[str, Any]]:
    """The waiting messages for ``sender_id``, as REST reply dicts, marked sent."""
    result = []
    with session_scope(bind) as session:
        rows = session.execute(
            select(OutboundMessage)
            .where(
                OutboundMessage.channel == channel,
                OutboundMessage.sender_id == sender_id,
                OutboundMessage.status == PENDING,
            )
            .order_by(OutboundMessage.id)
        ).scalars()
        for row in rows:
            claimed = session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row.id, OutboundMessage.status == PENDING)
                .values(status=SENT, delivered_at=local_now())
            )
            if not claimed.rowcount:
                continue
            message: Dict[str, Any] = {
                "recipient_id": sender_id,
                "text": crypto.decrypt(row.text, "outbound_messages.text"),
            }
            meta = json.loads(row.meta) if row.meta else {}
            if meta.get("buttons"):
                message["buttons"] = meta["buttons"]
            message["custom"] = {"from_officer": True}
            result.append(message)
    return result


async def deliver_pending(limit: int = 100, bind: Engine | None = None) -> int:
    """Push waiting messages of every channel this process can send; returns sent."""
    channels = [c for c in _senders if c not in PULL_CHANNELS]
    if not channels:
        return 0
    with session_scope(bind) as session:
        ids = list(
            session.execute(
                select(OutboundMessage.id)
                .where(
                    OutboundMessage.channel.in_(channels),
                    OutboundMessage.status == PENDING,
                )
                .order_by(OutboundMessage.id)
                .limit(limit)
            ).scalars()
        )
    sent = 0
    for message_id in ids:
        try:
            await _push(message_id, bind)
            sent += 1
        except DeliveryError as error:
            logger.warning("Outbound message %s not delivered: %s", message_id, error)
    return sent


async def delivery_loop(interval: float = 3.0, bind: Engine | None = None) -> None:
    """Deliver waiting messages every ``interval`` seconds, until cancelled."""
    while True:
        try:
            await deliver_pending(bind=bind)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is away for a moment: try again later
            logger.exception("Outbound delivery round failed")
        await asyncio.sleep(interval)


def status_of(message_id: int, bind: Engine | None = None) -> str | None:
    with session_scope(bind) as session:
        row = session.get(OutboundMessage, message_id)
        return None if row is None else str(row.status)
