"""Tracker and lock stores chosen by the environment.

``endpoints.yml`` names these classes so one file serves every deployment:
SQLite under ``var/`` when nothing is set (``make run`` on a laptop),
PostgreSQL when ``TRACKER_STORE_URL`` or ``DATABASE_URL`` is set, and a Redis
lock store (which keeps each conversation's messages in order across Rasa
processes) when ``REDIS_URL`` is set.

Conversations are personal data (a tip is typed as plain messages, slots hold
phone and CCCD numbers), so the tracker store encrypts each event's serialized
``data`` column with services.crypto (AES-GCM, key id in every value) and
decrypts it on read. The columns Rasa queries (sender, event type, timestamp,
intent and action names) stay in clear. Rows written before encryption was on
are still read as they are.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, _create_sequence
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import Column, Float, Integer, String, Text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

from services import crypto, privacy

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "rasa_tracker.db"


def tracker_store_url() -> str:
    """The database URL for conversation trackers."""
    url = os.environ.get("TRACKER_STORE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def describe_url(url: str) -> str:
    """The URL without its password, for logs."""
    return str(make_url(url).set(password="***" if make_url(url).password else None))


EVENT_CONTEXT = "rasa.events.data"


class EncryptedText(TypeDecorator):
    """Text sealed with services.crypto on write and opened on read."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return crypto.encrypt(value, EVENT_CONTEXT)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not crypto.is_token(value):
            return value  # stored before encryption was switched on
        return crypto.decrypt(value, EVENT_CONTEXT)


EncryptedEventsBase = declarative_base()


class EncryptedSQLEvent(EncryptedEventsBase):  # type: ignore[misc,valid-type]
    """Rasa's ``events`` table, column for column, with ``data`` encrypted."""

    __tablename__ = "events"

    id = Column(Integer, _create_sequence(__tablename__), primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    type_name = Column(String(255), nullable=False)
    timestamp = Column(Float)
    intent_name = Column(String(255))
    action_name = Column(String(255))
    data = Column(EncryptedText)


class EnvTrackerStore(SQLTrackerStore):
    """SQLTrackerStore configured from one database URL, event data encrypted."""

    Base = EncryptedEventsBase
    SQLEvent = EncryptedSQLEvent

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        privacy.install()  # the Rasa server's logs: no personal data
        url = make_url(tracker_store_url())
        logger.info("Tracker store: %s", describe_url(str(url)))
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "rasa.db",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query) or None,
            **kwargs,
        )


class EnvLockStore:
    """Factory: a RedisLockStore when REDIS_URL is set, else in memory.

    Rasa instantiates custom lock stores as ``cls(endpoint_config=...)``;
    ``__new__`` hands back the real store, so Rasa uses it directly.
    """

    def __new__(
        cls, endpoint_config: EndpointConfig | None = None, **kwargs: Any
    ) -> LockStore:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            logger.info("Lock store: in memory (set REDIS_URL for Redis)")
            return InMemoryLockStore()
        url = make_url(redis_url)
        logger.info("Lock store: %s", describe_url(redis_url))
        return RedisLockStore(
            host=url.host or "localhost",
            port=url.port or 6379,
            db=int(url.database or 1),
            username=url.username,
            password=url.password,
            use_ssl=url.drivername == "rediss",
            key_prefix="cong_an",
        )


def rotate_events(store: SQLTrackerStore | None = None, batch: int = 500) -> int:
    """Seal every event with the current key (old keys and legacy plain rows).

    Run after ``python -m services.crypto add-key``; returns how many rows changed.
    """
    from sqlalchemy import text

    store = store or EnvTrackerStore()
    current = f"{crypto.PREFIX}:{crypto.keyring().current}:%"
    changed = 0
    while True:
        with store.engine.begin() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, data FROM events WHERE data IS NOT NULL "
                    "AND data NOT LIKE :current ORDER BY id LIMIT :batch"
                ),
                {"current": current, "batch": batch},
            ).all()
            for row_id, data in rows:
                sealed = (
                    crypto.reencrypt(data, EVENT_CONTEXT)
                    if crypto.is_token(data)
                    else crypto.encrypt(data, EVENT_CONTEXT)
                )
                connection.execute(
                    text("UPDATE events SET data = :data WHERE id = :id"),
                    {"data": sealed, "id": row_id},
                )
        changed += len(rows)
        if len(rows) < batch:
            return changed


if __name__ == "__main__":  # python -m connectors.stores rotate
    import sys

    if sys.argv[1:] != ["rotate"]:
        print("usage: python -m connectors.stores rotate", file=sys.stderr)
        sys.exit(2)
    print(f"Re-encrypted {rotate_events()} tracker event(s).")
