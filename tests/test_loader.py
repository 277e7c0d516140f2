"""The knowledge loader: validation messages, all-or-nothing, idempotence, updates."""

import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from services import loader
from services.knowledge_models import Fact, NewsItem, Procedure, Unit
from services.loader import LoaderError, load

FIXTURE = Path(__file__).parent / "fixtures" / "knowledge"
TABLES = (
    "units",
    "procedures",
    "facts",
    "forms",
    "news_items",
    "scam_alerts",
    "knowledge_notes",
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A writable copy of the fixture tree, named knowledge/ like the real one."""
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, target)
    return target


def edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def snapshot(engine: Engine) -> Dict[str, List[Tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table: sorted(
                tuple(str(value) for value in row)
                for row in connection.execute(text(f"SELECT * FROM {table}"))
            )
            for table in TABLES
        }


def problems_of(tree: Path, engine: Engine) -> List[str]:
    with pytest.raises(LoaderError) as caught:
        load(tree, engine)
    return caught.value.problems


def test_loads_every_kind_of_content(db_engine: Engine) -> None:
    report = load(FIXTURE, db_engine)
    rows = snapshot(db_engine)
    assert len(rows["procedures"]) == 2
    assert len(rows["units"]) == 5
    assert len(rows["facts"]) == 18 + 3  # national facts + three unit overrides
    assert len(rows["news_items"]) == 7
    assert len(rows["scam_alerts"]) == 4
    assert len(rows["forms"]) == 1
    assert len(rows["knowledge_notes"]) == 3
    assert report.changes["facts"] == [21, 0, 0]


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda d: d["facts"][3].update(last_verified="2026-02-30"),
            "knowledge/procedures/temporary_residence.yml: facts[3].last_verified: "
            "not a date",
        ),
        (
            lambda d: d["facts"][1].update(last_verified="hôm qua"),
            "knowledge/procedures/temporary_residence.yml: facts[1].last_verified: "
            "not a date",
        ),
        (
            lambda d: d["facts"][0].update(info_type="price"),
            "knowledge/procedures/temporary_residence.yml: facts[0].info_type: "
            "unknown info_type 'price'",
        ),
        (
            lambda d: d["facts"][2].pop("legal_basis"),
            "knowledge/procedures/temporary_residence.yml: facts[2].legal_basis: "
            "missing field",
        ),
        (
            lambda d: d["facts"][4].update(confidence="X"),
            "knowledge/procedures/temporary_residence.yml: facts[4].confidence: "
            "confidence must be S, M or U",
        ),
        (
            lambda d: d["facts"][5].update(case="winter"),
            "knowledge/procedures/temporary_residence.yml: facts[5].case: 'winter' "
            "is not a key of cases",
        ),
        (
            lambda d: d["facts"][6].update(legal_bases="typo"),
            "knowledge/procedures/temporary_residence.yml: facts[6].legal_bases: "
            "unknown field",
        ),
        (
            lambda d: d["facts"][2].update(valid_from="2027-01-01"),
            "knowledge/procedures/temporary_residence.yml: facts[2].valid_until: "
            "valid_until is before valid_from",
        ),
        (
            lambda d: d.update(procedure="passport"),
            "knowledge/procedures/temporary_residence.yml: procedure: 'passport' "
            "does not match the file name",
        ),
    ],
)
def test_bad_procedure_file_is_named_and_nothing_loads(
    tree: Path, db_engine: Engine, change: Any, expected: str
) -> None:
    edit(tree / "procedures" / "temporary_residence.yml", change)
    problems = problems_of(tree, db_engine)
    assert any(problem.startswith(expected) for problem in problems), problems
    # not even the valid files (passport.yml, units.yml, ...) were loaded
    assert all(not rows for rows in snapshot(db_engine).values())


def test_duplicate_unit_code_is_named(tree: Path, db_engine: Engine) -> None:
    edit(tree / "units.yml", lambda d: d["units"][3].update(code="XA-DUCTRONG"))
    problems = problems_of(tree, db_engine)
    assert (
        "knowledge/units.yml: units[3]: duplicate code 'XA-DUCTRONG' (also units[2])"
        in problems
    )


def test_duplicate_scam_key_and_unknown_news_unit(
    tree: Path, db_engine: Engine
) -> None:
    edit(tree / "scams.yml", lambda d: d["scams"][2].update(key="vneid_update_link"))
    edit(tree / "news.yml", lambda d: d["news"][0].update(unit="XA-NOWHERE"))
    problems = problems_of(tree, db_engine)
    assert any(
        p.startswith("knowledge/scams.yml: scams[2]: duplicate") for p in problems
    )
    assert "knowledge/news.yml: news[0].unit: unknown unit 'XA-NOWHERE'" in problems


def test_bad_unit_fields(tree: Path, db_engine: Engine) -> None:
    def change(data: Dict[str, Any]) -> None:
        data["units"][1]["working_hours"]["mon"] = [["13:30", "07:00"]]
        data["units"][2]["level"] = "huyen"
        data["units"][1]["overrides"][0]["procedure"] = "fishing_licence"

    edit(tree / "units.yml", change)
    problems = problems_of(tree, db_engine)
    assert any(
        p.startswith("knowledge/units.yml: units[1].working_hours: mon:")
        for p in problems
    ), problems
    assert any(p.startswith("knowledge/units.yml: units[2].level:") for p in problems)


def test_invalid_yaml_is_reported(tree: Path, db_engine: Engine) -> None:
    (tree / "news.yml").write_text("news: [unclosed", encoding="utf-8")
    problems = problems_of(tree, db_engine)
    assert problems[0].startswith("knowledge/news.yml: not valid YAML")


def test_a_bad_file_leaves_the_loaded_content_untouched(
    tree: Path, db_engine: Engine
) -> None:
    load(tree, db_engine)
    before = snapshot(db_engine)
    edit(tree / "procedures" / "passport.yml", lambda d: d["facts"][0].pop("text"))
    edit(
        tree / "procedures" / "temporary_residence.yml",
        lambda d: d.update(title="Đổi tên nhưng không được nạp"),
    )
    problems_of(tree, db_engine)
    assert snapshot(db_engine) == before


def test_command_line_reports_problems(
    tree: Path, database_url: str, capsys: pytest.CaptureFixture
) -> None:
    edit(tree / "procedures" / "passport.yml", lambda d: d["facts"][1].pop("source"))
    assert loader.main(["--knowledge", str(tree)]) == 1
    err = capsys.readouterr().err
    assert "knowledge/procedures/passport.yml: facts[1].source: missing field" in err
    assert loader.main(["--knowledge", str(FIXTURE)]) == 0
    assert loader.main(["--knowledge", str(FIXTURE)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_rerun_changes_no_row(db_engine: Engine) -> None:
    load(FIXTURE, db_engine)
    before = snapshot(db_engine)
    statements: List[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", record)
    try:
        report = load(FIXTURE, db_engine)
    finally:
        event.remove(db_engine, "before_cursor_execute", record)
    assert statements == []
    assert not report.changed
    assert snapshot(db_engine) == before


def test_edit_updates_exactly_the_changed_rows(tree: Path, db_engine: Engine) -> None:
    load(tree, db_engine)
    before = snapshot(db_engine)

    def change(data: Dict[str, Any]) -> None:
        data["facts"][4]["text"] = "Hồ sơ được giải quyết trong 2 ngày làm việc."

    edit(tree / "procedures" / "temporary_residence.yml", change)
    edit(tree / "news.yml", lambda d: d["news"].pop(0))
    report = load(tree, db_engine)
    assert report.changes == {"facts": [0, 1, 0], "news_items": [0, 0, 1]}
    after = snapshot(db_engine)
    for table in ("units", "procedures", "forms", "scam_alerts", "knowledge_notes"):
        assert after[table] == before[table]
    with db_engine.connect() as connection:
        duration = connection.execute(
            text("SELECT text FROM facts WHERE key = :k"),
            {"k": "temporary_residence:*:duration:-:0"},
        ).scalar()
    assert duration == "Hồ sơ được giải quyết trong 2 ngày làm việc."
    # the other facts kept their ids (compared, not deleted and re-inserted)
    unchanged = [row for row in before["facts"] if "duration" not in row[1]]
    assert set(unchanged) <= set(after["facts"])


def test_removed_entries_are_deleted(tree: Path, db_engine: Engine) -> None:
    from services import db

    load(tree, db_engine)
    (tree / "procedures" / "passport.yml").unlink()
    edit(tree / "units.yml", lambda d: d["units"].pop(4))  # XA-DIAN
    edit(
        tree / "units.yml",
        lambda d: d["units"][1].update(overrides=d["units"][1]["overrides"][:1]),
    )
    report = load(tree, db_engine)
    assert report.changes["procedures"] == [0, 0, 1]
    assert report.changes["units"] == [0, 0, 1]
    assert report.changes["facts"] == [0, 0, 8 + 1]
    with db.session_scope(db_engine) as session:
        assert session.get(Procedure, "passport") is None
        assert session.get(Unit, "XA-DIAN") is None
        assert session.query(Fact).filter(Fact.procedure == "passport").count() == 0
        assert session.query(Fact).filter(Fact.unit == "XA-XUANHUONG").count() == 1


def test_absent_file_leaves_its_content_alone(tree: Path, db_engine: Engine) -> None:
    from services import db

    load(tree, db_engine)
    (tree / "news.yml").unlink()
    (tree / "forms.yml").unlink()
    report = load(tree, db_engine)
    assert not report.changed
    with db.session_scope(db_engine) as session:
        assert session.query(NewsItem).count() == 7


def test_dates_are_stored_as_dates(db_engine: Engine) -> None:
    from services import db

    load(FIXTURE, db_engine)
    with db.session_scope(db_engine) as session:
        fact = session.query(Fact).filter(Fact.valid_until.isnot(None)).one()
        assert fact.valid_until == dt.date(2026, 12, 31)
        assert fact.info_type == "fee"
