"""Loads knowledge/ into the database: validate everything, then sync.

``python -m services.loader [--knowledge DIR]`` (``make seed``). Every file is
validated first (pydantic); if any value is bad the command names the file,
the entry and the field and loads nothing at all. Otherwise one transaction
compares the files with the database and inserts, updates or deletes only the
rows that differ, so a re-run changes nothing.

A file that is absent leaves its kind of content untouched (e.g. no forms.yml:
forms are not managed here); an entry removed from a present file is deleted.

Content changed in the officers' console survives a load: the console changes
a row but not its ``content_hash`` (the digest of the entry as last loaded), so
while the entry in knowledge/ stays as it was the load leaves the row alone.
Only when that entry itself changes (or is removed) does the file win; the
console edit is then replaced, and the load names each one it replaced
(``Report.replaced_edits``). News and scam alerts published in the console are
not in knowledge/ and are never touched; whether an item is unpublished is the
console's alone (a load never publishes it again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Type

import yaml
from pydantic import BaseModel, Extra, StrictBool, StrictStr, ValidationError
from pydantic import validator as field_validator
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services import db
from services.knowledge_models import (
    Fact,
    Form,
    KnowledgeNote,
    NewsItem,
    Procedure,
    ScamAlert,
    Unit,
)

DEFAULT_KNOWLEDGE_DIR = db.PROJECT_ROOT / "knowledge"

INFO_TYPES = (
    "documents",
    "fee",
    "duration",
    "place",
    "online",
    "form",
    "eligibility",
    "penalty",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
_KEY = re.compile(r"^[a-z0-9_]+$")


class LoaderError(Exception):
    """The knowledge files are invalid; ``problems`` lists every bad value."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ---- schemas -----------------------------------------------------------------


class DateValue(dt.date):
    """A calendar date written YYYY-MM-DD (not a number, not free text)."""

    @classmethod
    def __get_validators__(cls):  # type: ignore[no-untyped-def]
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            raise ValueError("not a date (a date and time was given)")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"not a date (expected YYYY-MM-DD, got {value!r})")


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True
        min_anystr_length = 1


def _info_type(value: str) -> str:
    if value not in INFO_TYPES:
        raise ValueError(
            f"unknown info_type {value!r} (expected one of {', '.join(INFO_TYPES)})"
        )
    return value


def _confidence(value: str) -> str:
    if value not in ("S", "M", "U"):
        raise ValueError(f"confidence must be S, M or U, got {value!r}")
    return value


class FactModel(Strict):
    info_type: StrictStr
    case: StrictStr | None = None
    text: StrictStr
    legal_basis: StrictStr
    source: StrictStr
    last_verified: DateValue
    confidence: StrictStr
    valid_from: DateValue | None = None
    valid_until: DateValue | None = None

    _check_info_type = field_validator("info_type", allow_reuse=True)(_info_type)
    _check_confidence = field_validator("confidence", allow_reuse=True)(_confidence)

    @field_validator("valid_until")
    def _period(cls, value: dt.date | None, values: Dict[str, Any]) -> Any:
        start = values.get("valid_from")
        if value is not None and start is not None and value < start:
            raise ValueError("valid_until is before valid_from")
        return value


class ProcedureFile(Strict):
    procedure: StrictStr
    title: StrictStr
    summary: StrictStr
    cases: Dict[StrictStr, StrictStr] = {}
    facts: List[FactModel]
    sample: StrictBool | None = None

    @field_validator("procedure")
    def _code(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(f"not a procedure code: {value!r}")
        return value

    @field_validator("facts")
    def _facts(cls, value: List[FactModel], values: Dict[str, Any]) -> Any:
        if not value:
            raise ValueError("at least one fact is needed")
        cases = values.get("cases") or {}
        for index, fact in enumerate(value):
            if fact.case is not None and fact.case not in cases:
                raise ValueError(f"[{index}].case: {fact.case!r} is not a key of cases")
        return value


class OverrideModel(Strict):
    procedure: StrictStr
    info_type: StrictStr
    case: StrictStr | None = None
    text: StrictStr
    legal_basis: StrictStr
    source: StrictStr | None = None
    last_verified: DateValue
    confidence: StrictStr = "S"
    valid_from: DateValue | None = None
    valid_until: DateValue | None = None
    # "add": shown after the national facts; "replace": shown instead of them
    mode: StrictStr = "add"

    _check_info_type = field_validator("info_type", allow_reuse=True)(_info_type)
    _check_confidence = field_validator("confidence", allow_reuse=True)(_confidence)

    @field_validator("mode")
    def _mode(cls, value: str) -> str:
        if value not in ("add", "replace"):
            raise ValueError(f"mode must be add or replace, got {value!r}")
        return value


class UnitModel(Strict):
    code: StrictStr
    name: StrictStr
    level: StrictStr
    parent: StrictStr | None = None
    address: StrictStr | None = None
    phone: StrictStr | None = None
    hotline: StrictStr | None = None
    working_hours: Dict[StrictStr, List[List[StrictStr]]] = {}
    working_hours_text: StrictStr | None = None
    zalo_oa_id: StrictStr | None = None
    map_link: StrictStr | None = None
    former_names: List[StrictStr] = []
    overrides: List[OverrideModel] = []

    @field_validator("code")
    def _code(cls, value: str) -> str:
        if not _UNIT_CODE.match(value):
            raise ValueError(f"unit code must be upper-case letters/digits: {value!r}")
        return value

    @field_validator("level")
    def _level(cls, value: str) -> str:
        if value not in ("tinh", "xa"):
            raise ValueError(f"level must be tinh or xa, got {value!r}")
        return value

    @field_validator("working_hours")
    def _hours(cls, value: Dict[str, List[List[str]]]) -> Any:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (mon..sun)")
            for span in spans:
                if len(span) != 2 or not all(_HHMM.match(t) for t in span):
                    raise ValueError(f'{day}: {span!r} is not ["HH:MM", "HH:MM"]')
                if span[0] >= span[1]:
                    raise ValueError(f"{day}: {span[0]} is not before {span[1]}")
        return value


class ProvinceModel(Strict):
    code: StrictStr
    name: StrictStr


class UnitsFile(Strict):
    sample: StrictBool = False
    province: ProvinceModel | None = None
    units: List[UnitModel]


class NewsModel(Strict):
    unit: StrictStr
    title: StrictStr
    summary: StrictStr
    link: StrictStr | None = None
    published_at: DateValue


class NewsFile(Strict):
    sample: StrictBool | None = None
    news: List[NewsModel]


class ScamModel(Strict):
    key: StrictStr
    title: StrictStr
    how_it_works: StrictStr
    signs: List[StrictStr]
    what_to_do: List[StrictStr]
    examples: List[StrictStr]
    keywords: List[StrictStr]
    legal_basis: StrictStr | None = None
    source: StrictStr | None = None
    last_verified: DateValue | None = None
    published_at: DateValue | None = None

    @field_validator("signs", "what_to_do", "examples", "keywords")
    def _not_empty(cls, value: List[str]) -> List[str]:
        if not value:
            raise ValueError("must not be empty")
        return value


class ScamsFile(Strict):
    sample: StrictBool | None = None
    always: StrictStr
    what_to_do_now: List[StrictStr] = []
    scams: List[ScamModel]


class HouseholdBookFile(Strict):
    text: StrictStr
    legal_basis: StrictStr
    source: StrictStr | None = None
    last_verified: DateValue
    confidence: StrictStr = "S"

    _check_confidence = field_validator("confidence", allow_reuse=True)(_confidence)


class FormModel(BaseModel):
    """Only what the knowledge tables keep; the PDF field list is FORMS' part."""

    code: StrictStr
    title: StrictStr
    procedures: List[StrictStr] = []
    file: StrictStr | None = None
    official_link: StrictStr | None = None
    version: StrictStr | None = None
    legal_basis: StrictStr | None = None
    last_verified: DateValue | None = None

    class Config:
        extra = Extra.ignore


class FormsFile(BaseModel):
    forms: List[FormModel]

    class Config:
        extra = Extra.ignore


# ---- reading and validating ------------------------------------------------------


def _location(loc: Tuple[Any, ...]) -> str:
    """('facts', 3, 'last_verified') -> 'facts[3].last_verified'."""
    text = ""
    for part in loc:
        if part == "__root__":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "value_error.missing":
        return "missing field"
    if kind == "value_error.extra":
        return "unknown field (a typo?)"
    if kind.startswith("type_error.str"):
        return "must be text"
    message = str(error.get("msg", "invalid value"))
    return (
        message[len("value error, ") :]
        if message.startswith("value error, ")
        else message
    )


@dataclass
class Content:
    """Everything read from one knowledge directory, validated."""

    procedures: Dict[str, ProcedureFile] = field(default_factory=dict)
    units: UnitsFile | None = None
    news: NewsFile | None = None
    scams: ScamsFile | None = None
    household_book: HouseholdBookFile | None = None
    forms: FormsFile | None = None


def _display(path: Path, root: Path) -> str:
    """The path as the message shows it: knowledge/procedures/passport.yml."""
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, shown: str, problems: List[str]) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        problems.append(f"{shown}: not valid YAML: {error}".replace("\n", " "))
        return None
    except OSError as error:
        problems.append(f"{shown}: cannot be read: {error}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{shown}: expected a mapping at the top level")
        return None
    return data


def _parse(
    model: Type[BaseModel], data: Any, shown: str, problems: List[str]
) -> Any | None:
    if data is None:
        return None
    try:
        return model.parse_obj(data)
    except ValidationError as error:
        for item in error.errors():
            where = _location(tuple(item["loc"]))
            message = _message(item)
            # validators on a list report "[i].field: ..." inside their message
            if message.startswith("[") and "]" in message:
                problems.append(f"{shown}: {where}{message}")
            else:
                problems.append(f"{shown}: {where}: {message}")
        return None


def _duplicates(
    codes: Sequence[str], shown: str, what: str, problems: List[str]
) -> None:
    seen: Dict[str, int] = {}
    for index, code in enumerate(codes):
        if code in seen:
            problems.append(
                f"{shown}: {what}[{index}]: duplicate code {code!r} "
                f"(also {what}[{seen[code]}])"
            )
        else:
            seen[code] = index


def read_knowledge(root: Path) -> Content:
    """Read and validate every file under ``root``; raise LoaderError listing
    every bad value (nothing is returned for a partly valid tree)."""
    problems: List[str] = []
    content = Content()
    if not root.is_dir():
        raise LoaderError([f"{root}: knowledge directory not found"])

    for path in sorted((root / "procedures").glob("*.yml")):
        shown = _display(path, root)
        parsed = _parse(
            ProcedureFile, _read_yaml(path, shown, problems), shown, problems
        )
        if parsed is None:
            continue
        if parsed.procedure != path.stem:
            problems.append(
                f"{shown}: procedure: {parsed.procedure!r} does not match the file "
                f"name (expected {path.stem!r})"
            )
            continue
        content.procedures[parsed.procedure] = parsed

    def optional(name: str, model: Type[BaseModel]) -> Any | None:
        path = root / name
        if not path.exists():
            return None
        shown = _display(path, root)
        return _parse(model, _read_yaml(path, shown, problems), shown, problems)

    content.units = optional("units.yml", UnitsFile)
    content.news = optional("news.yml", NewsFile)
    content.scams = optional("scams.yml", ScamsFile)
    content.household_book = optional("household_book.yml", HouseholdBookFile)
    content.forms = optional("forms.yml", FormsFile)

    _check_references(root, content, problems)
    if problems:
        raise LoaderError(problems)
    return content


def _check_references(root: Path, content: Content, problems: List[str]) -> None:
    """Codes that must be unique, and codes that must name something that exists."""
    if content.units is not None:
        shown = _display(root / "units.yml", root)
        codes = [unit.code for unit in content.units.units]
        _duplicates(codes, shown, "units", problems)
        known = set(codes)
        for index, unit in enumerate(content.units.units):
            if unit.parent is not None and unit.parent not in known:
                problems.append(
                    f"{shown}: units[{index}].parent: unknown unit {unit.parent!r}"
                )
            if unit.level == "xa" and unit.parent is None:
                problems.append(
                    f"{shown}: units[{index}].parent: a commune unit needs its "
                    "province unit"
                )
            for number, override in enumerate(unit.overrides):
                if override.procedure not in content.procedures:
                    problems.append(
                        f"{shown}: units[{index}].overrides[{number}].procedure: "
                        f"unknown procedure {override.procedure!r}"
                    )
                    continue
                cases = content.procedures[override.procedure].cases
                if override.case is not None and override.case not in cases:
                    problems.append(
                        f"{shown}: units[{index}].overrides[{number}].case: "
                        f"{override.case!r} is not a case of {override.procedure}"
                    )
    unit_codes = {u.code for u in content.units.units} if content.units else set()
    if content.news is not None:
        shown = _display(root / "news.yml", root)
        for index, item in enumerate(content.news.news):
            if item.unit not in unit_codes:
                problems.append(
                    f"{shown}: news[{index}].unit: unknown unit {item.unit!r}"
                )
        keys = [_news_key(item) for item in content.news.news]
        _duplicates(keys, shown, "news", problems)
    if content.scams is not None:
        shown = _display(root / "scams.yml", root)
        _duplicates([s.key for s in content.scams.scams], shown, "scams", problems)
    if content.forms is not None:
        shown = _display(root / "forms.yml", root)
        _duplicates([f.code for f in content.forms.forms], shown, "forms", problems)
        for index, form in enumerate(content.forms.forms):
            for procedure in form.procedures:
                if content.procedures and procedure not in content.procedures:
                    problems.append(
                        f"{shown}: forms[{index}].procedures: unknown procedure "
                        f"{procedure!r}"
                    )


# ---- rows --------------------------------------------------------------------------


def _digest(values: Dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _news_key(item: NewsModel) -> str:
    return _digest({"unit": item.unit, "title": item.title})[:32]


def _with_hash(values: Dict[str, Any]) -> Dict[str, Any]:
    values["content_hash"] = _digest(values)
    return values


def _fact_rows(content: Content) -> Dict[str, Dict[str, Any]]:
    """National facts and unit overrides, keyed by a key that survives edits of
    the text and insertions in other (info_type, case) groups."""
    rows: Dict[str, Dict[str, Any]] = {}

    def add(
        procedure: str,
        unit: str | None,
        mode: str | None,
        fact: Any,
        position: int,
    ) -> None:
        group = f"{procedure}:{unit or '*'}:{fact.info_type}:{fact.case or '-'}"
        number = sum(1 for key in rows if key.rsplit(":", 1)[0] == group)
        rows[f"{group}:{number}"] = _with_hash(
            {
                "key": f"{group}:{number}",
                "procedure": procedure,
                "info_type": fact.info_type,
                "case": fact.case,
                "text": fact.text,
                "legal_basis": fact.legal_basis,
                "source": fact.source,
                "last_verified": fact.last_verified,
                "confidence": fact.confidence,
                "valid_from": fact.valid_from,
                "valid_until": fact.valid_until,
                "unit": unit,
                "mode": mode,
                "position": position,
            }
        )

    for code, procedure in content.procedures.items():
        for position, fact in enumerate(procedure.facts):
            add(code, None, None, fact, position)
    if content.units is not None:
        for unit in content.units.units:
            for position, override in enumerate(unit.overrides):
                add(override.procedure, unit.code, override.mode, override, position)
    return rows


def _unit_rows(units: UnitsFile) -> Dict[str, Dict[str, Any]]:
    return {
        unit.code: _with_hash(
            {
                "code": unit.code,
                "name": unit.name,
                "level": unit.level,
                "parent": unit.parent,
                "address": unit.address,
                "phone": unit.phone,
                "hotline": unit.hotline,
                "working_hours": unit.working_hours,
                "working_hours_text": unit.working_hours_text,
                "zalo_oa_id": unit.zalo_oa_id,
                "map_link": unit.map_link,
                "is_sample": bool(units.sample),
                "former_names": unit.former_names,
            }
        )
        for unit in units.units
    }


def _procedure_rows(content: Content) -> Dict[str, Dict[str, Any]]:
    return {
        code: _with_hash(
            {
                "code": code,
                "title": procedure.title,
                "summary": procedure.summary,
                "cases": procedure.cases,
            }
        )
        for code, procedure in content.procedures.items()
    }


def _form_rows(forms: FormsFile) -> Dict[str, Dict[str, Any]]:
    return {
        form.code: _with_hash(
            {
                "code": form.code,
                "title": form.title,
                "procedures": form.procedures,
                "file": form.file,
                "official_link": form.official_link,
                "version": form.version,
                "legal_basis": form.legal_basis,
                "last_verified": form.last_verified,
            }
        )
        for form in forms.forms
    }


def _news_rows(news: NewsFile) -> Dict[str, Dict[str, Any]]:
    return {
        _news_key(item): _with_hash(
            {
                "key": _news_key(item),
                "unit": item.unit,
                "title": item.title,
                "summary": item.summary,
                "link": item.link,
                "published_at": item.published_at,
            }
        )
        for item in news.news
    }


def _scam_rows(scams: ScamsFile) -> Dict[str, Dict[str, Any]]:
    return {
        scam.key: _with_hash(
            {
                "key": scam.key,
                "title": scam.title,
                "how_it_works": scam.how_it_works,
                "signs": scam.signs,
                "what_to_do": scam.what_to_do,
                "examples": scam.examples,
                "keywords": scam.keywords,
                "published_at": scam.published_at,
                "source": scam.source,
                "legal_basis": scam.legal_basis,
                "last_verified": scam.last_verified,
            }
        )
        for scam in scams.scams
    }


NOTE_HOUSEHOLD_BOOK = "household_book"
NOTE_SCAM_ALWAYS = "scam_always"
NOTE_SCAM_FIRST_STEPS = "scam_what_to_do_now"


def _note_rows(content: Content) -> Dict[str, Dict[str, Any]]:
    rows: Dict[str, Dict[str, Any]] = {}
    book = content.household_book
    if book is not None:
        rows[NOTE_HOUSEHOLD_BOOK] = _with_hash(
            {
                "key": NOTE_HOUSEHOLD_BOOK,
                "text": book.text,
                "legal_basis": book.legal_basis,
                "source": book.source,
                "last_verified": book.last_verified,
                "confidence": book.confidence,
            }
        )
    if content.scams is not None:
        for key, text in (
            (NOTE_SCAM_ALWAYS, content.scams.always),
            (NOTE_SCAM_FIRST_STEPS, "\n".join(content.scams.what_to_do_now)),
        ):
            if text:
                rows[key] = _with_hash(
                    {
                        "key": key,
                        "text": text,
                        "legal_basis": None,
                        "source": None,
                        "last_verified": None,
                        "confidence": None,
                    }
                )
    return rows


# ---- syncing ----------------------------------------------------------------------


@dataclass
class Report:
    """What a load changed, per table: (inserted, updated, deleted)."""

    changes: Dict[str, List[int]] = field(default_factory=dict)
    # console edits replaced (or deleted) because their knowledge/ entry changed
    replaced_edits: List[str] = field(default_factory=list)

    def count(self, table: str, which: int) -> None:
        self.changes.setdefault(table, [0, 0, 0])[which] += 1

    @property
    def changed(self) -> bool:
        return any(sum(counts) for counts in self.changes.values())

    def summary(self) -> str:
        if not self.changed:
            return "Knowledge is up to date: nothing changed."
        return "; ".join(
            f"{table}: +{ins} ~{upd} -{dele}"
            for table, (ins, upd, dele) in sorted(self.changes.items())
            if ins or upd or dele
        )


def _natural_key(model: Type[Any]) -> str:
    return "key" if "key" in model.__table__.columns else "code"


def _upsert(
    session: Session,
    model: Type[Any],
    wanted: Dict[str, Dict[str, Any]],
    report: Report,
    delete_missing: bool = True,
) -> List[Any]:
    """Insert/update rows of ``model`` to match ``wanted``; return the rows no
    longer wanted (deleted here unless ``delete_missing`` is False)."""
    key_name = _natural_key(model)
    existing = {getattr(row, key_name): row for row in session.query(model).all()}
    table = model.__tablename__
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            session.add(model(**values))
            report.count(table, 0)
        elif row.content_hash != values["content_hash"]:
            _forget_edit(row, f"{table}:{key}", report)
            for name, value in values.items():
                setattr(row, name, value)
            report.count(table, 1)
    stale = [row for key, row in existing.items() if key not in wanted]
    if delete_missing:
        for row in stale:
            _forget_edit(row, f"{table}:{getattr(row, key_name)}", report)
            session.delete(row)
            report.count(table, 2)
    session.flush()
    return stale


def _forget_edit(row: Any, name: str, report: Report) -> None:
    """The file's entry changed: a console edit of this row gives way (named)."""
    if getattr(row, "edited_at", None) is not None:
        report.replaced_edits.append(f"{name} (edited by {row.edited_by})")
        row.edited_by = None
        row.edited_at = None


def sync(content: Content, session: Session) -> Report:
    """Make the tables match ``content`` (children deleted before their parents)."""
    report = Report()
    # parents first (inserts/updates), their deletions after the children's
    stale_units: List[Any] = []
    if content.units is not None:
        stale_units = _upsert(
            session, Unit, _unit_rows(content.units), report, delete_missing=False
        )
    stale_procedures = _upsert(
        session, Procedure, _procedure_rows(content), report, delete_missing=False
    )
    wanted_facts = _fact_rows(content)
    if content.units is None:  # overrides unmanaged: keep the existing ones
        for row in session.query(Fact).filter(Fact.unit.isnot(None)).all():
            wanted_facts[row.key] = _row_values(row)
    _upsert(session, Fact, wanted_facts, report)
    if content.news is not None:
        wanted_news = _news_rows(content.news)
        # news published from the officers' console is not in knowledge/: keep it
        for row in session.query(NewsItem).filter(NewsItem.key.like("console:%")):
            wanted_news[row.key] = _row_values(row)
        _upsert(session, NewsItem, wanted_news, report)
    elif stale_units:
        codes = [unit.code for unit in stale_units]
        for item in session.query(NewsItem).filter(NewsItem.unit.in_(codes)).all():
            session.delete(item)
            report.count(NewsItem.__tablename__, 2)
        session.flush()
    for row in stale_procedures:
        session.delete(row)
        report.count(Procedure.__tablename__, 2)
    for row in stale_units:
        session.delete(row)
        report.count(Unit.__tablename__, 2)
    session.flush()
    if content.scams is not None:
        wanted_scams = _scam_rows(content.scams)
        # scam alerts published from the officers' console: keep them too
        for row in session.query(ScamAlert).filter(ScamAlert.key.like("console-%")):
            wanted_scams[row.key] = _row_values(row)
        _upsert(session, ScamAlert, wanted_scams, report)
    if content.forms is not None:
        _upsert(session, Form, _form_rows(content.forms), report)
    notes = _note_rows(content)
    existing_notes = {row.key for row in session.query(KnowledgeNote).all()}
    # a note belongs to its file: an absent file leaves its notes alone
    if content.household_book is None and NOTE_HOUSEHOLD_BOOK in existing_notes:
        notes.setdefault(
            NOTE_HOUSEHOLD_BOOK, _existing_note(session, NOTE_HOUSEHOLD_BOOK)
        )
    if content.scams is None:
        for key in (NOTE_SCAM_ALWAYS, NOTE_SCAM_FIRST_STEPS):
            if key in existing_notes:
                notes.setdefault(key, _existing_note(session, key))
    _upsert(session, KnowledgeNote, notes, report)
    return report


def _existing_note(session: Session, key: str) -> Dict[str, Any]:
    return _row_values(session.get(KnowledgeNote, key))


def _row_values(row: Any) -> Dict[str, Any]:
    """A row's column values by attribute name (as the *_rows functions give)."""
    return {
        attribute.key: getattr(row, attribute.key)
        for attribute in sa_inspect(type(row)).column_attrs
        if attribute.key != "id"
    }


def load(knowledge_dir: Path | str | None = None, bind: Engine | None = None) -> Report:
    """Validate ``knowledge_dir`` and sync it into the database in one
    transaction; raises LoaderError (and changes nothing) on a bad file."""
    root = Path(knowledge_dir) if knowledge_dir else DEFAULT_KNOWLEDGE_DIR
    content = read_knowledge(root)
    with db.session_scope(bind) as session:
        return sync(content, session)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.loader",
        description="Load knowledge/ (procedures, units, news, scams, forms) "
        "into the application database.",
    )
    parser.add_argument(
        "--knowledge",
        default=str(DEFAULT_KNOWLEDGE_DIR),
        help="the knowledge directory (default: knowledge/)",
    )
    args = parser.parse_args(argv)
    try:
        report = load(args.knowledge)
    except LoaderError as error:
        print("Knowledge NOT loaded (nothing was changed):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(
            "Knowledge NOT loaded: the database is not ready (run `make migrate`): "
            f"{type(error).__name__}",
            file=sys.stderr,
        )
        return 1
    print(report.summary())
    for replaced in report.replaced_edits:
        print(
            f"Console edit replaced by the changed knowledge/ entry: {replaced}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
