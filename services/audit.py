"""Audit of the officer HTTP API: who did what, for which unit, with what result.

Only the method, the path (object codes, never message text) and the status are
kept.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Integer, String
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
