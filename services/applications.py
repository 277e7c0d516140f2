"""How far a citizen's application has got, and the officers' side of it.

A citizen looks an application up with its code and the phone number given on
it; a wrong code and a wrong phone get the same answer. After 5 wrong tries in
one conversation the lookup is locked for 15 minutes (a right answer resets the
count). Officers load applications from CSV (all rows or none) and change their
status; every change is kept in ``applications_history``.

``python -m services.applications import FILE --unit CODE`` imports a CSV;
``python -m services.applications seed --unit CODE`` loads the sample data.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Dict, List, Tuple, Union

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services import content, crypto
from services.booking import local_now, phone_key
from services.db import Base, session_scope
from services.errors import ApplicationNotFound, ImportFailed, LookupLocked

MAX_FAILURES = 5
LOCK_MINUTES = 15
# Across conversations (a REST client can make new ones at will): a code with
# this many wrong phones within the window is locked until the window passes.
CODE_MAX_FAILURES = 20
CODE_WINDOW_MINUTES = 60
CODE = re.compile(r"^[A-Z0-9][A-Z0-9./-]{3,63}$")
SAMPLE_CSV = content.KNOWLEDGE_DIR / "applications_sample.csv"
REQUIRED_COLUMNS = ("code", "procedure", "phone", "status", "last_changed")


class Application(Base):
    __tablename__ = "applications"
    __encrypted__ = ("phone",)

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)
    unit = Column(String(64), nullable=False, index=True)
    procedure = Column(String(64), nullable=False)
    phone = Column(Text, nullable=False)  # encrypted
    key_id = Column(String(32), nullable=False)
    status = Column(String(32), nullable=False)
    note = Column(Text, nullable=True)
    last_changed = Column(Date, nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class ApplicationStatusChange(Base):
    __tablename__ = "applications_history"

    id = Column(Integer, primary_key=True)
    application_id = Column(
        Integer, ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    status = Column(String(32), nullable=False)
    note = Column(Text, nullable=True)
    officer = Column(String(120), nullable=False)
    changed_at = Column(DateTime, nullable=False)


class LookupAttempt(Base):
    __tablename__ = "applications_lookup_attempts"
    __table_args__ = (
        Index("ix_applications_lookup_attempts_conversation", "conversation_id", "at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    code_key = Column(String(64), nullable=False, index=True)  # keyed hash
    at = Column(DateTime, nullable=False)
    success = Column(Boolean, nullable=False)


@dataclass(frozen=True)
class ApplicationView:
    code: str
    unit: str
    procedure: str
    status: str
    status_label: str
    last_changed: dt.date
    next_step: str
    note: str | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: List[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def statuses() -> Dict[str, Dict[str, str]]:
    return content.load("application_statuses")["statuses"]


def normalize_code(code: str) -> str:
    return re.sub(r"\s+", "", code or "").upper()


def _view(row: Application) -> ApplicationView:
    info = statuses().get(row.status, {"label": row.status, "next_step": ""})
    return ApplicationView(
        row.code,
        row.unit,
        row.procedure,
        row.status,
        info["label"],
        row.last_changed,
        info["next_step"],
        row.note,
    )


# ---- lookup with lockout --------------------------------------------------------


def _locked_until(
    session: Session, conversation_id: str, now: dt.datetime
) -> dt.datetime | None:
    """When the conversation's lock ends, if it is locked at ``now``.

    Failures count since the last success; the 5th starts a lock of 15 minutes
    and a lock that has ended starts the count again.
    """
    since = now - dt.timedelta(days=1)
    rows = session.execute(
        select(LookupAttempt.at, LookupAttempt.success)
        .where(
            LookupAttempt.conversation_id == conversation_id, LookupAttempt.at >= since
        )
        .order_by(LookupAttempt.at, LookupAttempt.id)
    ).all()
    failures = 0
    until: dt.datetime | None = None
    for at, success in rows:
        if until is not None and at >= until:
            failures, until = 0, None
        if success:
            failures = 0
            continue
        failures += 1
        if failures >= MAX_FAILURES:
            until = at + dt.timedelta(minutes=LOCK_MINUTES)
    return until if until is not None and now < until else None


def _code_locked_until(
    session: Session, code_key: str, now: dt.datetime
) -> dt.datetime | None:
    since = now - dt.timedelta(minutes=CODE_WINDOW_MINUTES)
    failures = list(
        session.execute(
            select(LookupAttempt.at)
            .where(
                LookupAttempt.code_key == code_key,
                LookupAttempt.success.is_(False),
                LookupAttempt.at > since,
            )
            .order_by(LookupAttempt.at)
        ).scalars()
    )
    if len(failures) < CODE_MAX_FAILURES:
        return None
    return failures[-CODE_MAX_FAILURES] + dt.timedelta(minutes=CODE_WINDOW_MINUTES)


def lookup(
    code: str,
    phone: str,
    conversation_id: str,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> ApplicationView:
    """The application's status for the citizen who gave its code and phone."""
    now = now or local_now()
    code_key = crypto.blind_index(f"application|{normalize_code(code)}")
    with session_scope(bind) as session:
        until = _locked_until(session, conversation_id, now) or _code_locked_until(
            session, code_key, now
        )
        if until is not None:
            raise LookupLocked(until)
        row = session.execute(
            select(Application).where(Application.code == normalize_code(code))
        ).scalar_one_or_none()
        matches = False
        if row is not None and phone_key(phone):
            stored = phone_key(crypto.decrypt(row.phone, "applications.phone"))
            matches = secrets.compare_digest(stored, phone_key(phone))
        session.add(
            LookupAttempt(
                conversation_id=conversation_id,
                code_key=code_key,
                at=now,
                success=matches,
            )
        )
        session.flush()
        if matches and row is not None:
            return _view(row)
        until = _locked_until(session, conversation_id, now)
    if until is not None:
        raise LookupLocked(until)
    raise ApplicationNotFound()


# ---- officers ------------------------------------------------------------------------


def update_status(
    code: str,
    status: str,
    note: str | None,
    officer: str,
    unit: str | None = None,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> ApplicationView:
    """Change an application's status (only within ``unit`` when given)."""
    if status not in statuses():
        raise ValueError(f"unknown status {status!r}; known: {', '.join(statuses())}")
    now = now or local_now()
    with session_scope(bind) as session:
        row = session.execute(
            select(Application).where(Application.code == normalize_code(code))
        ).scalar_one_or_none()
        if row is None or (unit is not None and row.unit != unit):
            raise ApplicationNotFound()
        row.status, row.note = status, note
        row.last_changed, row.updated_at = now.date(), now
        session.add(
            ApplicationStatusChange(
                application_id=row.id,
                status=status,
                note=note,
                officer=officer,
                changed_at=now,
            )
        )
        session.flush()
        return _view(row)


def history(
    code: str, bind: Engine | None = None
) -> List[Tuple[str, str, dt.datetime]]:
    """(status, officer, when) of every change, oldest first."""
    with session_scope(bind) as session:
        rows = session.execute(
            select(
                ApplicationStatusChange.status,
                ApplicationStatusChange.officer,
                ApplicationStatusChange.changed_at,
            )
            .join(Application, Application.id == ApplicationStatusChange.application_id)
            .where(Application.code == normalize_code(code))
            .order_by(ApplicationStatusChange.id)
        ).all()
        return [tuple(row) for row in rows]


def _parse_day(text: str) -> dt.date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class _Row:
    code: str
    procedure: str
    phone: str
    status: str
    last_changed: dt.date
    note: str | None


def _read_rows(source: IO[str], report: ImportReport) -> List[_Row]:
    sample = source.read()
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(sample), dialect=dialect)
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        report.errors.append(RowError(1, ",".join(missing), "missing column(s)"))
        return []
    reader.fieldnames = header
    rows: List[_Row] = []
    seen: Dict[str, int] = {}
    known = statuses()
    for line, raw in enumerate(reader, start=2):
        values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        errors_before = len(report.errors)
        code = normalize_code(values.get("code", ""))
        if not CODE.match(code):
            report.errors.append(RowError(line, "code", "not an application code"))
        elif code in seen:
            report.errors.append(RowError(line, "code", f"also on line {seen[code]}"))
        seen.setdefault(code, line)
        procedure = values.get("procedure", "")
        if not re.match(r"^[a-z_]{2,64}$", procedure):
            report.errors.append(RowError(line, "procedure", "not a procedure name"))
        phone = values.get("phone", "")
        if not re.match(r"^0\d{9,10}$", phone_key(phone)):
            report.errors.append(
                RowError(line, "phone", "not a Vietnamese phone number")
            )
        status = values.get("status", "")
        if status not in known:
            report.errors.append(
                RowError(line, "status", f"unknown; use one of {', '.join(known)}")
            )
        day = _parse_day(values.get("last_changed", ""))
        if day is None:
            report.errors.append(
                RowError(line, "last_changed", "not a date (YYYY-MM-DD or DD/MM/YYYY)")
            )
        if len(report.errors) == errors_before and day is not None:
            rows.append(
                _Row(code, procedure, phone, status, day, values.get("note") or None)
            )
    return rows


def import_csv(
    path_or_file: Union[str, Path, IO[str]],
    unit: str,
    officer: str = "import",
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> ImportReport:
    """Create or update a unit's applications from CSV: every row, or none.

    Columns: code, procedure, phone, status, last_changed, note (optional).
    A row whose code belongs to another unit is an error, not a takeover.
    """
    now = now or local_now()
    report = ImportReport()
    if isinstance(path_or_file, (str, Path)):
        try:
            with open(path_or_file, encoding="utf-8-sig", newline="") as handle:
                rows = _read_rows(handle, report)
        except (OSError, UnicodeDecodeError) as error:
            raise ImportFailed(f"cannot read {path_or_file}: {error}") from error
    else:
        rows = _read_rows(path_or_file, report)
    if report.errors:
        return report
    if not rows:
        report.errors.append(RowError(1, "-", "no rows"))
        return report
    with session_scope(bind) as session:
        existing = {
            row.code: row
            for row in session.execute(
                select(Application).where(Application.code.in_([r.code for r in rows]))
            ).scalars()
        }
        for line, item in enumerate(rows, start=2):
            row = existing.get(item.code)
            if row is not None and row.unit != unit:
                report.errors.append(RowError(line, "code", "belongs to another unit"))
        if report.errors:
            return report
        for item in rows:
            row = existing.get(item.code)
            phone = crypto.encrypt(item.phone, "applications.phone")
            if row is None:
                row = Application(
                    code=item.code,
                    unit=unit,
                    created_at=now,
                    procedure=item.procedure,
                    phone=phone,
                    key_id=crypto.keyring().current,
                    status=item.status,
                    note=item.note,
                    last_changed=item.last_changed,
                    updated_at=now,
                )
                session.add(row)
                report.created += 1
            else:
                changed = row.status != item.status
                row.procedure, row.phone = item.procedure, phone
                row.key_id = crypto.keyring().current
                row.status, row.note = item.status, item.note
                row.last_changed, row.updated_at = item.last_changed, now
                report.updated += 1
                if not changed:
                    continue
            session.flush()
            session.add(
                ApplicationStatusChange(
                    application_id=row.id,
                    status=item.status,
                    note=item.note,
                    officer=officer,
                    changed_at=now,
                )
            )
    return report


def seed_samples(unit: str, bind: Engine | None = None) -> ImportReport:
    """Load knowledge/applications_sample.csv for ``unit`` (idempotent)."""
    return import_csv(SAMPLE_CSV, unit, officer="sample", bind=bind)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.applications")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("import", help="import a CSV of applications")
    load.add_argument("file")
    load.add_argument("--unit", required=True)
    load.add_argument("--officer", default="import")
    seed = commands.add_parser("seed", help="load the sample applications")
    seed.add_argument("--unit", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            report = import_csv(args.file, args.unit, officer=args.officer)
        else:
            report = seed_samples(args.unit)
    except ImportFailed as error:
        print(f"Nothing imported: {error}", file=sys.stderr)
        return 1
    if not report.ok:
        print("Nothing imported. Fix these rows and run again:", file=sys.stderr)
        for row_error in report.errors:
            print(f"  {row_error}", file=sys.stderr)
        return 1
    print(f"Imported: {report.created} new, {report.updated} updated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
