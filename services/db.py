"""The application database: one URL, SQLite under var/ by default.

``DATABASE_URL`` (e.g. ``postgresql://user@127.0.0.1:5432/test``) switches to
PostgreSQL; the Rasa tracker store reads the same variable (connectors/stores.py).
Schema changes go through Alembic (``services/migrations``); ``upgrade()`` applies
every head, so each capability's migration only needs the base revision.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path
from typing import Iterator

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "app.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Stable constraint names, so migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def database_url() -> str:
    """``DATABASE_URL``, or the SQLite file under var/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`database_url`)."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


@functools.cache
def engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (cached per URL)."""
    return make_engine(url)


def sessionmaker_for(bind: Engine) -> sessionmaker:
    return sessionmaker(bind=bind, future=True, expire_on_commit=False)


@contextlib.contextmanager
def session_scope(bind: Engine | None = None) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    session = sessionmaker_for(bind or engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser reads "%" as interpolation: escape it (URL-encoded options)
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Apply every migration (all heads) to the database at ``url``."""
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


if __name__ == "__main__":  # python -m services.db: migrate the configured DB
    upgrade()
    print("Database schema is up to date.")
