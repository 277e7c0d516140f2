"""Application progress: code + phone, lockout, CSV import, status changes."""

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from services import applications
from services.applications import Application
from services.errors import ApplicationNotFound, LookupLocked

pytestmark = pytest.mark.usefixtures("crypto_keys")

ROOT = Path(__file__).resolve().parent.parent
UNIT = "XA-TEST"
NOW = dt.datetime(2026, 12, 1, 9, 0)
CODE = "H35.21-261118-0002"  # sample: identity_card, processing, 0912000002


@pytest.fixture
def seeded(db_engine: Engine) -> Engine:
    report = applications.seed_samples(UNIT)
    assert report.ok and report.created == 6
    return db_engine


def test_lookup_with_code_and_phone(seeded: Engine) -> None:
    view = applications.lookup(CODE, "+84 912 000 002", "conv", now=NOW)
    assert (view.status, view.status_label) == ("processing", "Đang giải quyết")
    assert view.last_changed == dt.date(2026, 11, 23)
    assert view.next_step and view.procedure == "identity_card"
    assert applications.lookup(CODE.lower(), "0912000002", "conv", now=NOW).code == CODE


def test_wrong_code_and_wrong_phone_get_the_same_answer(seeded: Engine) -> None:
    with pytest.raises(ApplicationNotFound) as wrong_phone:
        applications.lookup(CODE, "0912000003", "conv", now=NOW)
    with pytest.raises(ApplicationNotFound) as wrong_code:
        applications.lookup("H35.21-000000-9999", "0912000002", "conv", now=NOW)
    assert wrong_phone.value.citizen_message == wrong_code.value.citizen_message
    with pytest.raises(ApplicationNotFound):
        applications.lookup(CODE, "", "conv", now=NOW)


def test_five_wrong_tries_lock_for_fifteen_minutes(seeded: Engine) -> None:
    clock = NOW
    for _ in range(4):
        with pytest.raises(ApplicationNotFound):
            applications.lookup(CODE, "0900000000", "conv", now=clock)
        clock += dt.timedelta(minutes=1)
    with pytest.raises(LookupLocked) as locked:  # the 5th wrong try locks
        applications.lookup(CODE, "0900000000", "conv", now=clock)
    assert locked.value.until == clock + dt.timedelta(minutes=15)
    assert "5 lần" in locked.value.citizen_message
    # even the right answer is refused while locked; other conversations are not
    with pytest.raises(LookupLocked):
        applications.lookup(
            CODE, "0912000002", "conv", now=clock + dt.timedelta(minutes=14)
        )
    assert applications.lookup(CODE, "0912000002", "other", now=clock).code == CODE
    # 15 minutes later it opens, with a fresh count
    later = clock + dt.timedelta(minutes=15)
    assert applications.lookup(CODE, "0912000002", "conv", now=later).code == CODE
    for _ in range(4):
        with pytest.raises(ApplicationNotFound):
            applications.lookup(CODE, "0900000000", "conv", now=later)


def test_a_right_answer_resets_the_count(seeded: Engine) -> None:
    for _ in range(4):
        with pytest.raises(ApplicationNotFound):
            applications.lookup(CODE, "0900000000", "conv", now=NOW)
    applications.lookup(CODE, "0912000002", "conv", now=NOW)
    for _ in range(4):
        with pytest.raises(ApplicationNotFound):
            applications.lookup(CODE, "0900000000", "conv", now=NOW)


def test_status_update_and_history(seeded: Engine) -> None:
    later = NOW + dt.timedelta(days=1)
    view = applications.update_status(
        CODE, "ready", "Mời nhận", "can-bo-1", UNIT, later
    )
    assert view.status_label == "Đã có kết quả" and view.last_changed == later.date()
    assert applications.lookup(CODE, "0912000002", "c", now=later).status == "ready"
    assert [h[:2] for h in applications.history(CODE)] == [
        ("processing", "sample"),
        ("ready", "can-bo-1"),
    ]
    with pytest.raises(ApplicationNotFound):
        applications.update_status(CODE, "returned", None, "spy", "XA-OTHER")
    with pytest.raises(ValueError):
        applications.update_status(CODE, "teleported", None, "can-bo-1", UNIT)


def test_phones_are_encrypted(seeded: Engine) -> None:
    with seeded.connect() as connection:
        phones = connection.execute(text("SELECT phone FROM applications")).scalars()
        assert all("091200000" not in p for p in phones)


CSV_OK = """code,procedure,phone,status,last_changed,note
A1-2612-0001,passport,0987000001,received,01/12/2026,
A1-2612-0002,passport,0987000002,processing,2026-12-01,đang xác minh
"""
CSV_BAD = """code,procedure,phone,status,last_changed
A1-2612-0003,passport,0987000003,received,2026-12-01
A1-2612-0004,passport,12345,received,2026-12-01
A1-2612-0005,passport,0987000005,lost,2026-12-01
A1-2612-0003,passport,0987000003,received,31/02/2026
"""


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(Application)
        ).scalar()


def test_csv_import_creates_and_updates(db_engine: Engine) -> None:
    report = applications.import_csv(io.StringIO(CSV_OK), UNIT, now=NOW)
    assert report.ok and (report.created, report.updated) == (2, 0)
    again = CSV_OK.replace("processing", "ready")
    report = applications.import_csv(io.StringIO(again), UNIT, now=NOW)
    assert (report.created, report.updated) == (0, 2)
    assert (
        applications.lookup("A1-2612-0002", "0987000002", "c", now=NOW).status
        == "ready"
    )


def test_csv_with_bad_rows_imports_nothing(db_engine: Engine) -> None:
    report = applications.import_csv(io.StringIO(CSV_BAD), UNIT, now=NOW)
    assert not report.ok
    found = {(e.line, e.column) for e in report.errors}
    assert found == {(3, "phone"), (4, "status"), (5, "code"), (5, "last_changed")}
    assert count(db_engine) == 0


def test_csv_missing_columns_and_other_units_codes(db_engine: Engine) -> None:
    report = applications.import_csv(io.StringIO("code,phone\nX,1\n"), UNIT)
    assert not report.ok and report.errors[0].column == "procedure,status,last_changed"
    applications.import_csv(io.StringIO(CSV_OK), UNIT, now=NOW)
    report = applications.import_csv(io.StringIO(CSV_OK), "XA-OTHER", now=NOW)
    assert not report.ok and report.errors[0].message == "belongs to another unit"
    assert count(db_engine) == 2
    assert not applications.import_csv(
        io.StringIO("code,procedure,phone,status,last_changed\n"), UNIT
    ).ok


def test_semicolon_csv_from_excel(db_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "hoso.csv"
    path.write_text(CSV_OK.replace(",", ";"), encoding="utf-8-sig")
    report = applications.import_csv(path, UNIT, now=NOW)
    assert report.ok and report.created == 2


def test_command_line_import(
    database_url: str, tmp_path: Path, crypto_keys: Path
) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(CSV_OK, encoding="utf-8")
    bad.write_text(CSV_BAD, encoding="utf-8")
    env = {
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "TIP_KEYS": "k1:" + "A" * 43 + "=",
        "INDEX_KEY": "B" * 43 + "=",
    }
    run = [sys.executable, "-m", "services.applications", "import"]
    failed = subprocess.run(
        run + [str(bad), "--unit", UNIT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1
    assert "Nothing imported" in failed.stderr and "line 3, phone" in failed.stderr
    done = subprocess.run(
        run + [str(good), "--unit", UNIT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 new" in done.stdout


def test_many_conversations_cannot_guess_one_codes_phone(seeded: Engine) -> None:
    clock = NOW
    for attempt in range(applications.CODE_MAX_FAILURES):
        with pytest.raises(ApplicationNotFound):  # a new conversation each time
            applications.lookup(CODE, f"09000000{attempt:02d}", f"bot-{attempt}", clock)
        clock += dt.timedelta(seconds=30)
    with pytest.raises(LookupLocked) as locked:
        applications.lookup(CODE, "0912000002", "fresh-conversation", now=clock)
    assert locked.value.until == NOW + dt.timedelta(minutes=60)
    # other codes are not affected, and the code opens when the window has passed
    other = "H35.21-261120-0001"
    assert applications.lookup(other, "0912000001", "fresh", now=clock).code == other
    later = NOW + dt.timedelta(minutes=61)
    assert applications.lookup(CODE, "0912000002", "fresh", now=later).code == CODE
