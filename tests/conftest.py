"""Shared fixtures: Rasa graph plumbing and trackers built from dicts."""

import os
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic
from sqlalchemy.engine import Engine

# Sanic rewrites its protocol methods when an app starts ("touchup"); in test
# mode it keeps the originals, so several apps can start in one test process.
Sanic.test_mode = True


@pytest.fixture
def model_storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def execution_context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


@pytest.fixture
def resource() -> Resource:
    return Resource("component")


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """A tracker whose latest user message is ``text`` parsed as ``intent``."""

    def make(
        text: str,
        intent: str,
        ranking: List[Dict[str, Any]] | None = None,
        slots: Dict[str, Any] | None = None,
        entities: List[Dict[str, Any]] | None = None,
        events: List[Dict[str, Any]] | None = None,
    ) -> Tracker:
        """``events``: what came before the latest message (this message's own
        user event is appended)."""
        latest = {"event": "user", "text": text, "parse_data": {}}
        return Tracker.from_dict(
            {
                "sender_id": "test-user",
                "slots": slots or {},
                "latest_message": {
                    "text": text,
                    "intent": {"name": intent, "confidence": 0.9},
                    "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
                    "entities": entities or [],
                },
                "events": [*(events or []), latest] if events else [],
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            }
        )

    return make


# ---- the application database, on SQLite and on PostgreSQL ----------------------

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_schema_url(schema: str) -> str:
    """The PostgreSQL URL with ``search_path`` set to ``schema``: each test gets
    its own schema, so parallel runs on the shared ``test`` database never meet."""
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, migrated database (SQLite file, or a new PostgreSQL schema);
    ``DATABASE_URL`` points at it for the test's duration."""
    from sqlalchemy import create_engine, text

    from services import db

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
        schema = None
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL, future=True)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_schema_url(schema)
    monkeypatch.setenv("DATABASE_URL", url)
    db.engine.cache_clear()
    db.upgrade(url)
    try:
        yield url
    finally:
        db.engine.cache_clear()
        if schema:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """The engine of :func:`database_url` (also what ``services.db.engine()`` gives)."""
    from services import db

    yield db.engine(database_url)


# ---- encryption keys and a fixed clock for the citizen services -----------------


@pytest.fixture
def crypto_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Test keys in a temporary key directory (never the project's var/keys)."""
    from services import crypto

    monkeypatch.delenv("TIP_KEYS", raising=False)
    monkeypatch.delenv("INDEX_KEY", raising=False)
    keys_dir = tmp_path / "keys"
    monkeypatch.setattr(crypto, "KEYS_DIR", keys_dir)
    monkeypatch.setattr(crypto, "KEYS_FILE", keys_dir / "tip_keys")
    monkeypatch.setattr(crypto, "INDEX_KEY_FILE", keys_dir / "index_key")
    crypto.reset()
    yield keys_dir
    crypto.reset()


@pytest.fixture
def privacy_restored() -> Iterator[None]:
    """Undo services.privacy.install() after a test that starts a component
    installing it, so later tests see their log lines as written."""
    from services import privacy

    yield
    privacy.uninstall()


# ---- the assistant as `make run` starts it (tests marked `model`) ----------------


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Action server + Rasa server over a seeded temporary database, one per
    test module; Rasa's log must show no traceback when the module is done."""
    from tests.servers import Assistant

    running = Assistant(tmp_path_factory.mktemp("assistant")).start()
    try:
        yield running
    finally:
        running.stop()
    log = running.rasa_log()
    assert "Traceback" not in log, log[-3000:]
