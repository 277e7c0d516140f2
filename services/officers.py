"""Officer accounts of the web console and what each one may see.

Passwords are hashed with argon2. Every console read or write goes through a
:class:`Viewer` (unit, role, province): an officer sees only their own unit; an
admin of a province unit sees every unit whose parent is that province. Scoping
lives here, in the service layer, so a guessed id of another unit's record is
answered exactly like one that does not exist (the ``*NotFound`` errors).
Failed logins are counted per (username, IP) in the database so the limit
holds across processes; only a keyed hash of that pair is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import FrozenSet, List

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, Column, DateTime, Integer, String, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from services import crypto
from services.booking import local_now
from services.db import Base, session_scope
from services.errors import ServiceError, UnknownUnit
from services.knowledge_models import Unit

ROLES = ("officer", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not tell.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


class OfficerError(ServiceError):
    """A bad account request (username, role, password, unit)."""


class TooManyAttempts(ServiceError):
    """Too many failed logins for this username from this address."""


class Officer(Base):
    __tablename__ = "officers"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    unit = Column(String(40), nullable=False, index=True)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)


class LoginFailure(Base):
    __tablename__ = "officer_login_failures"

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False, index=True)  # keyed hash (user, IP)
    at = Column(DateTime, nullable=False)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the officer's name, unit, role and the units they see."""

    username: str
    unit: str
    role: str
    province: str | None
    units: FrozenSet[str]

    def sees(self, unit: str | None) -> bool:
        return unit is not None and unit in self.units

    @property
    def province_admin(self) -> bool:
        """An admin of the province unit itself (not of a commune)."""
        return self.role == "admin" and self.unit == self.province

    def edits(self, unit: str | None) -> bool:
        """Whether the viewer may change public content owned by ``unit``.

        The one rule for news, scam alerts and procedure facts: a commune's
        content by that commune's officers and by the province admin; the
        province unit's own content, and content of no unit (national facts,
        the scam catalogue shared by every unit), only by the province admin.
        """
        if unit is None or unit == self.province:
            return self.province_admin
        return self.sees(unit)

    @property
    def label(self) -> str:
        """Officer name as written in audit logs and ticket claims."""
        return self.username


def _units_of(unit: Unit | None, role: str, session) -> FrozenSet[str]:  # type: ignore[no-untyped-def]
    if unit is None:
        return frozenset()
    if role == "admin" and (unit.level == "tinh" or unit.parent is None):
        children = session.execute(
            select(Unit.code).where(Unit.parent == unit.code)
        ).scalars()
        return frozenset({unit.code, *children})
    return frozenset({unit.code})


def viewer_for(
    username: str, unit: str, role: str, bind: Engine | None = None
) -> Viewer:
    """The Viewer of an officer of ``unit`` (units resolved from the unit table)."""
    with session_scope(bind) as session:
        row = session.get(Unit, unit)
        province = None
        if row is not None:
            province = row.code if row.parent is None else row.parent
        return Viewer(username, unit, role, province, _units_of(row, role, session))


def add_officer(
    unit: str, username: str, role: str, password: str, bind: Engine | None = None
) -> Viewer:
    """Create an account (the unit must exist; the password is hashed)."""
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise OfficerError("username: 3-64 of a-z 0-9 . _ -")
    if role not in ROLES:
        raise OfficerError(f"role must be one of {', '.join(ROLES)}")
    if not isinstance(password, str) or not (
        MIN_PASSWORD <= len(password) <= MAX_PASSWORD
    ):
        raise OfficerError(f"password: {MIN_PASSWORD}-{MAX_PASSWORD} characters")
    unit = (unit or "").strip().upper()
    try:
        with session_scope(bind) as session:
            if session.get(Unit, unit) is None:
                raise UnknownUnit(f"unknown unit {unit!r}")
            session.add(
                Officer(
                    username=username,
                    unit=unit,
                    role=role,
                    password_hash=_hasher.hash(password),
                    active=True,
                    created_at=local_now(),
                )
            )
    except IntegrityError as error:
        raise OfficerError("this username exists already") from error
    return viewer_for(username, unit, role, bind)


def _failure_key(username: str, address: str) -> str:
    return crypto.blind_index(f"login:{username.lower()}:{address}")


def _recent_failures(session, key: str, now: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    return len(
        session.execute(
            select(LoginFailure.id).where(
                LoginFailure.key == key, LoginFailure.at > now - FAILURE_WINDOW
            )
        ).all()
    )


def authenticate(
    username: str,
    password: str,
    address: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> Viewer | None:
    """The Viewer for a right username and password, else None.

    After :data:`MAX_FAILURES` failures within :data:`FAILURE_WINDOW` for this
    username from this address, :class:`TooManyAttempts` is raised even for
    the right password, until the window has passed.
    """
    now = now or local_now()
    username = (username or "").strip().lower()[:64]
    password = (password or "")[:MAX_PASSWORD]
    key = _failure_key(username, address)
    with session_scope(bind) as session:
        if _recent_failures(session, key, now) >= MAX_FAILURES:
            raise TooManyAttempts("login rate limit")
        row = session.execute(
            select(Officer).where(Officer.username == username)
        ).scalar_one_or_none()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
            ok = row is not None and bool(row.active)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            session.add(LoginFailure(key=key, at=now))
            return None
        session.execute(delete(LoginFailure).where(LoginFailure.key == key))
        unit, role = row.unit, row.role
    return viewer_for(username, unit, role, bind)


def officers(unit: str | None = None, bind: Engine | None = None) -> List[str]:
    """Usernames (of one unit, or all), for the CLI and tests."""
    with session_scope(bind) as session:
        query = select(Officer.username).order_by(Officer.username)
        if unit:
            query = query.where(Officer.unit == unit)
        return list(session.execute(query).scalars())


@dataclass(frozen=True)
class Account:
    unit: str
    role: str
    fingerprint: str  # digest of the password hash: sessions end when it changes


def account(username: str, bind: Engine | None = None) -> Account | None:
    """The active account of ``username``, or None."""
    with session_scope(bind) as session:
        row = session.execute(
            select(Officer).where(Officer.username == username)
        ).scalar_one_or_none()
        if row is None or not row.active:
            return None
        digest = hashlib.sha256(row.password_hash.encode()).hexdigest()[:32]
        return Account(row.unit, row.role, digest)
