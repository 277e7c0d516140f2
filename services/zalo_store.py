"""Storage of the Zalo channel: the durable inbox, OA tokens and sent messages.

Plain SQLAlchemy on ``services.db.Base`` (no Rasa imports), so the channel, the
officer console and the tests share it.

- ``zalo_inbox``: every verified webhook event worth keeping, written before the
  webhook answers 200, so a crash after the ack loses nothing. Unique on
  ``(oa_id, dedupe_key)``: Zalo's retries and replays are dropped by the
  database. The payload (the citizen's words) is encrypted at rest with
  ``services/crypto`` (context ``zalo_inbox.payload``, the key's id in
  ``key_id``, as for tips), decrypted when the worker reads it, and cleared once
  processed.
- ``zalo_tokens``: the rotated OA tokens. Zalo refresh tokens are single use: the
  new pair is written in one transaction before it is used. Both tokens are
  encrypted at rest like the inbox payload (contexts ``zalo_tokens.<column>``):
  a copy of the database alone cannot speak for the OA.
- ``zalo_outbox``: every send to Zalo, sent or failed. Failures (closed 7-day
  window, lost grant) are kept for the console; sent ids tell our own echoes
  from an officer typing in Zalo's OA chat.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from services import crypto
from services.db import Base, _sqlite_pragmas, database_url, engine

PENDING = "pending"
DONE = "done"
FAILED = "failed"

# what the worker does with a row
KIND_MESSAGE = "message"  # goes to Rasa
KIND_ECHO = "echo"  # a message the OA sent: ours, or an officer's (pauses the bot)
KIND_RECORD = "record"  # kept for the record only (unfollow)

PAYLOAD_CONTEXT = "zalo_inbox.payload"


def utcnow() -> dt.datetime:
    """Naive UTC: the same on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class ZaloInbox(Base):
    __tablename__ = "zalo_inbox"
    __encrypted__ = ("payload",)  # crypto.rotate() re-encrypts pending rows
    __table_args__ = (
        UniqueConstraint("oa_id", "dedupe_key", name="uq_zalo_inbox_oa_id_dedupe_key"),
        Index("ix_zalo_inbox_status_id", "status", "id"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    oa_id = Column(String(32), nullable=False)
    dedupe_key = Column(String(200), nullable=False)
    event_name = Column(String(64), nullable=False)
    user_id = Column(String(64), nullable=False)
    kind = Column(String(16), nullable=False)
    payload = Column(Text, nullable=True)  # encrypted (crypto token)
    key_id = Column(String(32), nullable=True)  # None: no payload
    status = Column(String(16), nullable=False, default=PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    received_at = Column(DateTime, nullable=False)
    processed_at = Column(DateTime, nullable=True)
    error = Column(String(200), nullable=True)


class ZaloToken(Base):
    __tablename__ = "zalo_tokens"
    __encrypted__ = ("access_token", "refresh_token")  # crypto.rotate()

    oa_id = Column(String(32), primary_key=True)
    access_token = Column(Text, nullable=False)  # encrypted (crypto token)
    refresh_token = Column(Text, nullable=False)  # encrypted (crypto token)
    key_id = Column(String(32), nullable=True)  # None: stored before encryption
    expires_at = Column(DateTime, nullable=True)
    # fingerprint of the refresh token in the OA file this chain started from:
    # a different one in the file means an admin re-authorised the OA
    seed_fingerprint = Column(String(64), nullable=False)
    updated_at = Column(DateTime, nullable=False)


class ZaloOutbox(Base):
    __tablename__ = "zalo_outbox"
    __table_args__ = (Index("ix_zalo_outbox_oa_id_message_id", "oa_id", "message_id"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    oa_id = Column(String(32), nullable=False)
    user_id = Column(String(64), nullable=False)
    message_id = Column(String(64), nullable=True)
    status = Column(String(16), nullable=False)  # sent | failed
    error_code = Column(Integer, nullable=True)
    error_text = Column(String(200), nullable=True)
    created_at = Column(DateTime, nullable=False)


@dataclass(frozen=True)
class InboxRow:
    """A row as the worker sees it."""

    id: int
    oa_id: str
    event_name: str
    user_id: str
    kind: str
    payload: str | None
    attempts: int
    received_at: dt.datetime
    # why the row cannot be processed (its payload does not decrypt)
    unreadable: str | None = None
    # False when no earlier attempt can have reached Rasa (set by the worker):
    # the handler may skip asking the tracker whether it was handled already
    maybe_handled: bool = True

    @property
    def sender_id(self) -> str:
        """The Rasa conversation id: user ids are OA-scoped."""
        return f"{self.oa_id}:{self.user_id}"


@dataclass(frozen=True)
class TokenRecord:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime | None
    seed_fingerprint: str


def fingerprint(secret: str) -> str:
    """A stable, non-reversible name for a secret (never store or log it twice)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def channel_engine(url: str | None = None) -> Engine:
    """``services.db.engine()``, except that SQLite connections stay open.

    SQLAlchemy 1.4 gives SQLite files a NullPool: a new connection (and its
    PRAGMAs) per transaction, ~12 ms each, most of a webhook's ack. The channel
    writes on every webhook, so it keeps a small pool of its own.
    """
    return _pooled_engine(url or database_url())


_ENGINES: Dict[str, Engine] = {}


def _pooled_engine(url: str) -> Engine:
    if url in _ENGINES:
        return _ENGINES[url]
    if not url.startswith("sqlite"):
        pooled = engine(url)
    else:
        pooled = create_engine(
            url,
            future=True,
            connect_args={"check_same_thread": False},
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=4,
        )
        event.listen(pooled, "connect", _sqlite_pragmas)
    _ENGINES[url] = pooled
    return pooled


def dispose_channel_engines() -> None:
    """Close the channel's pooled connections (tests: one database each)."""
    for pooled in _ENGINES.values():
        pooled.dispose()
    _ENGINES.clear()


def _bind(bind: Engine | None) -> Engine:
    return bind or channel_engine()


# ---- inbox ----------------------------------------------------------------------


def insert_inbox(rows: Sequence[Dict[str, Any]], bind: Engine | None = None) -> None:
    """Insert verified events in one transaction; duplicates are skipped.

    Each row: oa_id, dedupe_key, event_name, user_id, kind, payload. Raises on a
    storage failure (the webhook must then not answer 200).
    """
    apply_batch(inserts=rows, bind=bind)


@dataclass(frozen=True)
class Finish:
    row_id: int
    status: str = DONE
    error: str | None = None


@dataclass(frozen=True)
class Send:
    oa_id: str
    user_id: str
    message_id: str | None
    status: str  # sent | failed
    error_code: int | None = None
    error_text: str | None = None


def apply_batch(
    inserts: Sequence[Dict[str, Any]] = (),
    finishes: Sequence[Finish] = (),
    sends: Sequence[Send] = (),
    bind: Engine | None = None,
) -> None:
    """Inbox inserts, processed marks and outbox records in ONE transaction.

    The channel group-commits through this: one commit (one fsync) serves many
    webhooks and worker updates at once. All or nothing.
    """
    if not (inserts or finishes or sends):
        return
    bind = _bind(bind)
    now = utcnow()
    with bind.begin() as connection:
        if inserts:
            values = [
                {**_sealed(row), "status": PENDING, "attempts": 0, "received_at": now}
                for row in inserts
            ]
            connection.execute(_insert_ignoring_duplicates(bind), values)
        inbox = ZaloInbox.__table__
        for finish in finishes:
            connection.execute(
                update(inbox)
                .where(inbox.c.id == finish.row_id)
                .values(
                    status=finish.status,
                    processed_at=now,
                    payload=None,
                    key_id=None,
                    error=(finish.error or None) and finish.error[:200],
                )
            )
        if sends:
            connection.execute(
                ZaloOutbox.__table__.insert(),
                [
                    {
                        "oa_id": send.oa_id,
                        "user_id": send.user_id,
                        "message_id": send.message_id,
                        "status": send.status,
                        "error_code": send.error_code,
                        "error_text": (send.error_text or None)
                        and send.error_text[:200],
                        "created_at": now,
                    }
                    for send in sends
                ],
            )


def parallel_commits(bind: Engine | None = None) -> int:
    """How many inbox transactions may be in flight at once: SQLite has a
    single writer; PostgreSQL takes several (and groups their WAL flushes).

    Concurrent transactions may commit out of id order: rows of webhooks that
    were in flight together can become visible in either order, which was
    never defined anyway (Zalo had sent them without waiting for an answer);
    a later webhook, sent after an earlier one's 200, always gets a later id.
    Two batches inserting the same two duplicate events in opposite orders
    could deadlock; PostgreSQL then aborts one, whose webhooks answer 429 and
    are delivered again (nothing accepted is lost)."""
    return 4 if _bind(bind).dialect.name == "postgresql" else 1


def _sealed(row: Dict[str, Any]) -> Dict[str, Any]:
    """The row with its payload encrypted (the citizen's words never hit the
    disk in clear) and the sealing key's id beside it."""
    payload = row.get("payload")
    if payload is None:
        return {**row, "key_id": None}
    token = crypto.encrypt(payload, PAYLOAD_CONTEXT)
    return {**row, "payload": token, "key_id": crypto.key_id(token)}


def _opened(row: Any) -> InboxRow:
    """A stored row with its payload in clear (rows stored before encryption,
    with no key id, are read as they are). A payload that does not decrypt
    (its key was removed) makes the row unreadable, not the whole batch."""
    payload, unreadable = row.payload, None
    if payload is not None and row.key_id is not None:
        try:
            payload = crypto.decrypt(payload, PAYLOAD_CONTEXT)
        except crypto.CryptoError:
            payload, unreadable = None, f"payload does not decrypt (key {row.key_id})"
    return InboxRow(
        id=row.id,
        oa_id=row.oa_id,
        event_name=row.event_name,
        user_id=row.user_id,
        kind=row.kind,
        payload=payload,
        attempts=row.attempts,
        received_at=row.received_at,
        unreadable=unreadable,
    )


def _insert_ignoring_duplicates(bind: Engine) -> Any:
    table = ZaloInbox.__table__
    if bind.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing(
            index_elements=["oa_id", "dedupe_key"]
        )
    if bind.dialect.name == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing(
            index_elements=["oa_id", "dedupe_key"]
        )
    raise RuntimeError(f"unsupported database {bind.dialect.name}")


def pending_rows(
    limit: int = 200,
    after_id: int = 0,
    bind: Engine | None = None,
) -> List[InboxRow]:
    """Unprocessed rows in arrival order (id), after ``after_id``."""
    table = ZaloInbox.__table__
    query = (
        select(table)
        .where(table.c.status == PENDING, table.c.id > after_id)
        .order_by(table.c.id)
        .limit(limit)
    )
    with _bind(bind).connect() as connection:
        return [_opened(row) for row in connection.execute(query)]


def max_inbox_id(bind: Engine | None = None) -> int:
    """The highest row id so far (0 for an empty inbox)."""
    from sqlalchemy import func

    table = ZaloInbox.__table__
    with _bind(bind).connect() as connection:
        return int(connection.execute(select(func.max(table.c.id))).scalar() or 0)


def finish_row(
    row_id: int,
    status: str = DONE,
    error: str | None = None,
    bind: Engine | None = None,
) -> None:
    """Mark a row processed (or given up) and drop the citizen's payload."""
    apply_batch(finishes=[Finish(row_id, status, error)], bind=bind)


def record_attempt(row_id: int, error: str, bind: Engine | None = None) -> int:
    """Count a failed attempt; returns the new count."""
    table = ZaloInbox.__table__
    with _bind(bind).begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(attempts=table.c.attempts + 1, error=error[:200])
        )
        return int(
            connection.execute(
                select(table.c.attempts).where(table.c.id == row_id)
            ).scalar_one()
        )


def purge_processed(
    older_than: dt.timedelta = dt.timedelta(days=7), bind: Engine | None = None
) -> int:
    """Delete rows processed before ``older_than`` ago; returns how many.

    Safe for dedupe: events older than the webhook's freshness window (hours)
    are refused anyway, so a purged key can never be accepted again.
    """
    table = ZaloInbox.__table__
    cutoff = utcnow() - older_than
    with _bind(bind).begin() as connection:
        return int(
            connection.execute(
                table.delete().where(
                    table.c.status != PENDING, table.c.processed_at < cutoff
                )
            ).rowcount
        )


def inbox_counts(bind: Engine | None = None) -> Dict[str, int]:
    """Rows per status (for health checks and tests)."""
    table = ZaloInbox.__table__
    with _bind(bind).connect() as connection:
        counts: Dict[str, int] = {}
        for (status,) in connection.execute(select(table.c.status)):
            counts[status] = counts.get(status, 0) + 1
        return counts


# ---- tokens ---------------------------------------------------------------------


class TokensUnreadable(RuntimeError):
    """The stored pair does not decrypt: its key is missing from the keyring.

    Never fall back to the OA file's tokens then: its refresh token was spent
    when the stored pair was made, so using it would fail, and an admin would
    have to re-authorise the OA. Restoring the key brings the pair back."""


def _token_context(column: str) -> str:
    return f"{ZaloToken.__tablename__}.{column}"


def load_tokens(oa_id: str, bind: Engine | None = None) -> TokenRecord | None:
    """The OA's stored pair in clear (a pair stored before encryption, with no
    key id, is read as it is and sealed at its next rotation). Raises
    ``TokensUnreadable`` when its key is gone."""
    table = ZaloToken.__table__
    with _bind(bind).connect() as connection:
        row = connection.execute(select(table).where(table.c.oa_id == oa_id)).first()
    if row is None:
        return None
    access_token, refresh_token = row.access_token, row.refresh_token
    if row.key_id is not None:
        try:
            access_token = crypto.decrypt(access_token, _token_context("access_token"))
            refresh_token = crypto.decrypt(
                refresh_token, _token_context("refresh_token")
            )
        except crypto.CryptoError as error:
            raise TokensUnreadable(
                f"Zalo tokens of OA {oa_id} do not decrypt (key {row.key_id}): "
                "restore that key (TIP_KEYS or var/keys/)"
            ) from error
    return TokenRecord(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=row.expires_at,
        seed_fingerprint=row.seed_fingerprint,
    )


def save_tokens(oa_id: str, record: TokenRecord, bind: Engine | None = None) -> None:
    """Replace the OA's token pair in one transaction (all or nothing), sealed
    with the current key."""
    table = ZaloToken.__table__
    access_token = crypto.encrypt(record.access_token, _token_context("access_token"))
    values = {
        "access_token": access_token,
        "refresh_token": crypto.encrypt(
            record.refresh_token, _token_context("refresh_token")
        ),
        "key_id": crypto.key_id(access_token),
        "expires_at": record.expires_at,
        "seed_fingerprint": record.seed_fingerprint,
        "updated_at": utcnow(),
    }
    with _bind(bind).begin() as connection:
        changed = connection.execute(
            update(table).where(table.c.oa_id == oa_id).values(**values)
        ).rowcount
        if not changed:
            connection.execute(table.insert().values(oa_id=oa_id, **values))


# PostgreSQL: a transaction-scoped advisory lock (gone at commit, rollback or a
# dead session, and safe with pooled connections), keyed by schema and OA
TOKEN_LOCK_SQL = (
    "SELECT pg_try_advisory_xact_lock("
    "hashtext('zalo_token:' || current_schema() || ':' || :oa_id))"
)


def _file_lock(bind: Engine, name: str) -> tuple[bool, Any]:
    """An exclusive lock on ``<sqlite file>.<name>.lock`` without waiting:
    (held, open handle to keep while held). A private database (in memory)
    is shared with no other process: held, with no file."""
    import fcntl

    database = bind.url.database
    if not database or database == ":memory:":
        return True, None
    handle = open(f"{database}.{name}.lock", "a+")  # noqa: SIM115
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False, None
    return True, handle


class TokenLock:
    """One OA's token refresh, single-flight across processes.

    Zalo refresh tokens are single use: if the Rasa server and the officer
    console both refreshed with the same one, the second would be refused and
    the OA lost. Whoever holds this lock re-reads the stored pair first and
    refreshes only if nobody did meanwhile. PostgreSQL: an advisory lock inside
    an open transaction. SQLite: an exclusive file lock next to the database
    file (not ``BEGIN IMMEDIATE``: that would hold SQLite's only write lock
    during the HTTP call to Zalo, and every webhook's inbox insert would wait).
    Both die with the process that holds them.
    """

    def __init__(self, oa_id: str, bind: Engine | None = None) -> None:
        self.oa_id = oa_id
        self.bind = _bind(bind)
        self._connection: Any = None
        self._transaction: Any = None
        self._file: Any = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free (never waits)."""
        if self.bind.dialect.name == "postgresql":
            return self._try_postgres()
        return self._try_file()

    def _try_postgres(self) -> bool:
        from sqlalchemy import text

        connection = self.bind.connect()
        transaction = connection.begin()
        try:
            held = connection.execute(
                text(TOKEN_LOCK_SQL), {"oa_id": self.oa_id}
            ).scalar()
        except Exception:
            transaction.rollback()
            connection.close()
            raise
        if not held:
            transaction.rollback()
            connection.close()
            return False
        self._connection, self._transaction = connection, transaction
        return True

    def _try_file(self) -> bool:
        import re

        safe = re.sub(r"[^0-9A-Za-z_-]", "_", self.oa_id)
        held, handle = _file_lock(self.bind, f"zalo-token-{safe}")
        if held:
            self._file = handle
        return held

    def release(self) -> None:
        if self._transaction is not None:
            with contextlib.suppress(Exception):
                self._transaction.rollback()  # ends the transaction: the lock goes
            self._transaction = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None


# ---- outbox ---------------------------------------------------------------------


def record_send(
    oa_id: str,
    user_id: str,
    message_id: str | None,
    status: str,
    error_code: int | None = None,
    error_text: str | None = None,
    bind: Engine | None = None,
) -> None:
    send = Send(oa_id, user_id, message_id, status, error_code, error_text)
    apply_batch(sends=[send], bind=bind)


def sent_by_us(oa_id: str, message_id: str, bind: Engine | None = None) -> bool:
    """Whether the OA message ``message_id`` went out through our client."""
    table = ZaloOutbox.__table__
    with _bind(bind).connect() as connection:
        return (
            connection.execute(
                select(table.c.id).where(
                    table.c.oa_id == oa_id, table.c.message_id == message_id
                )
            ).first()
            is not None
        )


def failed_sends(
    oa_id: str | None = None, bind: Engine | None = None
) -> List[Dict[str, Any]]:
    """Sends Zalo refused (for the console: who could not be reached, and why)."""
    table = ZaloOutbox.__table__
    query = select(table).where(table.c.status == "failed").order_by(table.c.id)
    if oa_id is not None:
        query = query.where(table.c.oa_id == oa_id)
    with _bind(bind).connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


# ---- one inbox worker per database --------------------------------------------------

# PostgreSQL advisory locks are per database: the key names the schema too, so
# deployments (and test runs) in different schemas of one database do not meet
WORKER_LOCK_SQL = (
    "SELECT pg_try_advisory_lock(hashtext('zalo_inbox:' || current_schema()))"
)


class WorkerLease:
    """Elects one inbox worker per database among the Rasa processes.

    Two workers would race on the same rows (and answer twice), so a process
    works only while it holds the lease: a PostgreSQL session advisory lock on a
    connection kept open, or an exclusive file lock next to the SQLite file. Both
    die with the process, so another process takes over after a crash.
    """

    def __init__(self, bind: Engine | None = None) -> None:
        self.bind = _bind(bind)
        self._connection: Any = None
        self._file: Any = None

    def acquire(self) -> bool:
        """Take the lease if free (or check we still hold it)."""
        if self.bind.dialect.name == "postgresql":
            return self._acquire_postgres()
        return self._acquire_file()

    def _acquire_postgres(self) -> bool:
        from sqlalchemy import text

        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # the session (and the lock) is gone
                self.release()
        connection = self.bind.connect()
        try:
            held = connection.execute(text(WORKER_LOCK_SQL)).scalar()
        except Exception:
            connection.close()
            raise
        if not held:
            connection.close()
            return False
        self._connection = connection
        return True

    def _acquire_file(self) -> bool:
        if self._file is not None:
            return True
        held, handle = _file_lock(self.bind, "zalo-worker")
        if held:
            self._file = handle
        return held

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                # a pooled connection would keep the session (and the lock)
                # alive: discard it, so the session really ends
                self._connection.invalidate()
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None
