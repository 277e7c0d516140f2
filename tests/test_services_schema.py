"""The 0004_services migration creates exactly what the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from services import models  # noqa: F401
from services.db import Base

OURS = (
    "appointments",
    "applications",
    "tips",
    "handoff",
    "outbound",
    "officer_api",
    "content_audit",
)


def _ours(name: str) -> bool:
    return name.startswith(OURS)


def _table_of(diff: object) -> str:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:  # type: ignore[index]
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        name = getattr(part, "name", None)
        if isinstance(name, str):
            return name
    return str(item)


def test_migration_matches_models(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    ours = [d for d in diffs if _ours(_table_of(d))]
    assert ours == []
