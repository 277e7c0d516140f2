"""Audit of officers' actions outside the tips' own log (services.tips).

``officer_api_audit``: the officer HTTP API, who did what, for which unit, with
what result; only the method, the path (object codes, never message text) and
the status are kept.
``content_audit``: every change made in the console to the public content
(facts, news, scam alerts): who, when, what object, and the changed fields
with their old and new values (public content, no personal data).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Tuple

from sqlalchemy import Column, DateTime, Integer, String, Text, select
from sqlalchemy.engine import Engine

from services.booking import local_now
from services.db import Base, session_scope


class OfficerApiAudit(Base):
    __tablename__ = "officer_api_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    officer = Column(String(120), nullable=False)
    unit = Column(String(64), nullable=False)
    method = Column(String(8), nullable=False)
    path = Column(String(255), nullable=False)
    status = Column(Integer, nullable=False)


def record(
    officer: str,
    unit: str,
    method: str,
    path: str,
    status: int,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> None:
    with session_scope(bind) as session:
        session.add(
            OfficerApiAudit(
                at=now or local_now(),
                officer=officer[:120],
                unit=unit[:64],
                method=method[:8],
                path=path[:255],
                status=status,
            )
        )


class ContentAudit(Base):
    __tablename__ = "content_audit"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    officer = Column(String(120), nullable=False)
    unit = Column(String(64), nullable=False)  # the officer's unit
    action = Column(String(32), nullable=False)  # edit | verify | publish | ...
    kind = Column(String(16), nullable=False)  # fact | news | scam
    object_key = Column(String(200), nullable=False, index=True)
    changes = Column(Text, nullable=True)  # {"field": [old, new]} as JSON


def record_content(
    session: Any,
    officer: str,
    unit: str,
    action: str,
    kind: str,
    object_key: str,
    changes: Dict[str, Tuple[Any, Any]] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Add a content_audit line in the caller's session (the same transaction
    as the change itself, so there is no change without its audit line)."""
    session.add(
        ContentAudit(
            at=now or local_now(),
            officer=officer[:120],
            unit=unit[:64],
            action=action[:32],
            kind=kind[:16],
            object_key=str(object_key)[:200],
            changes=(
                json.dumps(
                    {k: [old, new] for k, (old, new) in changes.items()},
                    ensure_ascii=False,
                    default=str,
                )
                if changes
                else None
            ),
        )
    )


def content_log(
    kind: str, object_key: str, bind: Engine | None = None
) -> List[Tuple[str, str, str, Dict[str, Any], dt.datetime]]:
    """(officer, unit, action, changes, at) of one object, oldest first."""
    with session_scope(bind) as session:
        rows = session.execute(
            select(ContentAudit)
            .where(
                ContentAudit.kind == kind,
                ContentAudit.object_key == str(object_key),
            )
            .order_by(ContentAudit.id)
        ).scalars()
        return [
            (
                row.officer,
                row.unit,
                row.action,
                json.loads(row.changes) if row.changes else {},
                row.at,
            )
            for row in rows
        ]
