"""Tracker and lock stores chosen by the environment, on SQLite and PostgreSQL."""

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from connectors import stores

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")

pytestmark = pytest.mark.usefixtures("crypto_keys", "privacy_restored")


@pytest.fixture
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def round_trip(store: TrackerStore, domain: Domain) -> DialogueStateTracker:
    sender = f"test-{uuid.uuid4()}"
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update(UserUttered("làm hộ chiếu ở đâu", {"name": "ask_passport"}))
    tracker.update(SlotSet("procedure", "passport"))

    async def save_and_load() -> DialogueStateTracker:
        await store.save(tracker)
        loaded = await store.retrieve(sender)
        assert loaded is not None
        return loaded

    return asyncio.run(save_and_load())


def test_sqlite_under_var_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, domain: Domain
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    monkeypatch.setattr(stores, "DEFAULT_SQLITE_PATH", tmp_path / "var" / "t.db")
    store = TrackerStore.create(
        EndpointConfig(type="connectors.stores.EnvTrackerStore"), domain
    )
    assert isinstance(store, stores.EnvTrackerStore)
    assert store.engine.dialect.name == "sqlite"
    loaded = round_trip(store, domain)
    assert loaded.get_slot("procedure") == "passport"
    assert (tmp_path / "var" / "t.db").exists()


@pytest.mark.postgres
def test_postgres_from_database_url(
    monkeypatch: pytest.MonkeyPatch, domain: Domain
) -> None:
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    store = TrackerStore.create(
        EndpointConfig(type="connectors.stores.EnvTrackerStore"), domain
    )
    assert store.engine.dialect.name == "postgresql"
    loaded = round_trip(store, domain)
    assert loaded.latest_message.text == "làm hộ chiếu ở đâu"


@pytest.mark.postgres
def test_tracker_store_url_wins_over_database_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, domain: Domain
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "app.db"))
    monkeypatch.setenv("TRACKER_STORE_URL", POSTGRES_URL)
    store = stores.EnvTrackerStore(domain=domain)
    assert store.engine.dialect.name == "postgresql"


def test_in_memory_lock_store_without_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = stores.EnvLockStore(endpoint_config=EndpointConfig())
    assert isinstance(store, InMemoryLockStore)


def test_redis_lock_store_orders_across_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two Rasa processes (two store instances) share one queue per user."""
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    first = stores.EnvLockStore(endpoint_config=EndpointConfig())
    second = stores.EnvLockStore(endpoint_config=EndpointConfig())
    assert isinstance(first, RedisLockStore)
    conversation = f"test-{uuid.uuid4()}"
    try:
        ticket_a = first.issue_ticket(conversation)
        ticket_b = second.issue_ticket(conversation)
        lock = second.get_lock(conversation)
        assert lock is not None
        assert not lock.is_locked(ticket_a)  # served first
        assert lock.is_locked(ticket_b)  # waits for the first
    finally:
        first.delete_lock(conversation)


def test_password_is_hidden_in_logs() -> None:
    described = stores.describe_url("postgresql://user:s3cret@db:5432/app")
    assert "s3cret" not in described and "user" in described


# ---- event data encrypted at rest --------------------------------------------------

SECRETS = ("0912345678", "079201001234", "Ông Tư bán ma túy ở hẻm 9")


def test_event_data_is_encrypted_at_rest(
    database_url: str, monkeypatch: pytest.MonkeyPatch, domain: Domain, tmp_path: Path
) -> None:
    from sqlalchemy import text

    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    store = stores.EnvTrackerStore(domain=domain)
    sender = f"test-{uuid.uuid4()}"
    tracker = DialogueStateTracker(sender, domain.slots)
    message = f"{SECRETS[2]}, sđt {SECRETS[0]}, cccd {SECRETS[1]}"
    tracker.update(UserUttered(message, {"name": "report_crime"}))
    tracker.update(SlotSet("procedure", "passport"))

    async def save_and_load() -> DialogueStateTracker:
        await store.save(tracker)
        loaded = await store.retrieve(sender)
        assert loaded is not None
        return loaded

    loaded = asyncio.run(save_and_load())
    assert loaded.latest_message.text == message
    assert loaded.get_slot("procedure") == "passport"
    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT type_name, intent_name, data FROM events WHERE sender_id = :s"
            ),
            {"s": sender},
        ).all()
    assert {"user", "slot"} <= {row.type_name for row in rows}
    assert "report_crime" in {row.intent_name for row in rows}  # kept for queries
    for row in rows:
        assert row.data.startswith("v1:")
        assert not any(secret in row.data for secret in SECRETS)
    if database_url.startswith("sqlite"):
        store.engine.dispose()
        path = Path(database_url.replace("sqlite:///", ""))
        raw = b"".join(
            p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file()
        )
        assert raw and not any(s.encode() in raw for s in SECRETS)


def test_rows_written_before_encryption_still_read(
    database_url: str, monkeypatch: pytest.MonkeyPatch, domain: Domain
) -> None:
    import json

    from rasa.core.tracker_store import SQLTrackerStore

    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    store = stores.EnvTrackerStore(domain=domain)
    sender = f"test-{uuid.uuid4()}"
    with store.session_scope() as session:  # as plain Rasa wrote it
        event = UserUttered("chào", {"name": "greet"}).as_dict()
        session.add(
            SQLTrackerStore.SQLEvent(
                sender_id=sender,
                type_name="user",
                timestamp=event["timestamp"],
                intent_name="greet",
                data=json.dumps(event),
            )
        )
        session.commit()
    loaded = asyncio.run(store.retrieve(sender))
    assert loaded is not None and loaded.latest_message.text == "chào"


def test_rotation_reseals_old_and_plain_events(
    database_url: str, monkeypatch: pytest.MonkeyPatch, domain: Domain
) -> None:
    from sqlalchemy import text

    from services import crypto

    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    store = stores.EnvTrackerStore(domain=domain)
    sender = f"test-{uuid.uuid4()}"
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update(UserUttered("số tôi 0912345678", {"name": "greet"}))
    asyncio.run(store.save(tracker))
    with store.engine.begin() as connection:  # one legacy plain row too
        connection.execute(
            text(
                "INSERT INTO events (sender_id, type_name, timestamp, data) "
                "VALUES (:s, 'action', 1, :d)"
            ),
            {"s": sender, "d": '{"event": "action", "name": "action_listen"}'},
        )
    old = crypto.keyring().current
    new = crypto.add_key()
    assert stores.rotate_events(store) >= 2
    with store.engine.connect() as connection:
        data = (
            connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s"), {"s": sender}
            )
            .scalars()
            .all()
        )
    assert all(crypto.key_id(d) == new for d in data) and old != new
    loaded = asyncio.run(store.retrieve(sender))
    assert loaded is not None and loaded.latest_message.text == "số tôi 0912345678"
    assert stores.rotate_events(store) == 0
