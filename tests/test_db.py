"""The application database: URL choice and migrations on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from services import db


def test_sqlite_under_var_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(db, "DEFAULT_SQLITE_PATH", tmp_path / "var" / "app.db")
    assert db.database_url() == f"sqlite:///{tmp_path / 'var' / 'app.db'}"
    assert (tmp_path / "var").is_dir()


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/d")
    assert db.database_url() == "postgresql://u@h:5432/d"


def test_migrations_reach_every_head(db_engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(db.alembic_config()).get_heads())
    with db_engine.connect() as connection:
        applied = {
            row[0]
            for row in connection.execute(
                text("SELECT version_num FROM alembic_version")
            )
        }
    assert applied == heads
    # every table declared on Base exists after the migrations
    tables = set(inspect(db_engine).get_table_names())
    assert set(db.Base.metadata.tables) <= tables


def test_upgrade_is_idempotent(database_url: str) -> None:
    db.upgrade(database_url)  # a second run changes nothing and does not fail


def test_session_scope_rolls_back_on_error(db_engine: Engine) -> None:
    with db_engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY)"))
    with pytest.raises(RuntimeError), db.session_scope(db_engine) as session:
        session.execute(text("INSERT INTO scratch (id) VALUES (1)"))
        raise RuntimeError("boom")
    with db.session_scope(db_engine) as session:
        assert session.execute(text("SELECT COUNT(*) FROM scratch")).scalar() == 0
