"""Appointments: hours, holidays, past, capacity, nearest free, code+phone, races."""

import datetime as dt
import os
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any, List

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import services
from services import booking, crypto
from services.booking import Appointment, Slot
from services.errors import BookingNotFound, NotBookable, SlotFull

ROOT = Path(__file__).resolve().parent.parent
UNIT = "XA-TEST"
OTHER = "XA-OTHER"
NOW = dt.datetime(2026, 12, 1, 8, 0)  # a Tuesday, 8:00
WED = dt.date(2026, 12, 2)
SAT = dt.date(2026, 12, 5)
SUN = dt.date(2026, 12, 6)
T = dt.time
EIGHT = dt.time(8, 0)

pytestmark = pytest.mark.usefixtures("crypto_keys")


def fake_units(units: dict) -> types.ModuleType:
    module = types.ModuleType("services.units")
    module.get_unit = lambda code: units.get(code)  # type: ignore[attr-defined]
    return module


@pytest.fixture(autouse=True)
def known_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """UNIT and OTHER exist with no hours of their own (booking.yml's apply);
    whatever services.units the tree has, these tests see this one."""
    info = types.SimpleNamespace(working_hours={}, working_hours_text=None, name="X")
    module = fake_units({UNIT: info, OTHER: info})
    monkeypatch.setitem(sys.modules, "services.units", module)
    monkeypatch.setattr(services, "units", module, raising=False)


def book(
    day: dt.date = WED,
    start: T = EIGHT,
    phone: str = "0912345678",
    conversation: str = "conv-1",
    unit: str = UNIT,
    now: dt.datetime = NOW,
) -> booking.Booking:
    return booking.book(
        unit, "identity_card", day, start, "Nguyễn Văn A", phone, conversation, now=now
    )


def count(db_engine: Engine) -> int:
    with db_engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(Appointment)
        ).scalar()


# ---- hours, holidays, past ------------------------------------------------------


def test_slots_follow_the_default_working_hours(db_engine: Engine) -> None:
    slots = booking.available_slots(UNIT, WED, now=NOW)
    starts = [s.start for s in slots]
    assert starts[0] == T(7, 30) and starts[-1] == T(16, 30)
    assert len(slots) == 8 + 7  # 7:30-11:30 and 13:30-17:00 in 30-minute slots
    assert T(12, 0) not in starts and T(11, 30) not in starts
    assert all(s.free == 3 and s.end > s.start for s in slots)
    assert len(booking.available_slots(UNIT, SAT, now=NOW)) == 8  # morning only
    assert booking.available_slots(UNIT, SUN, now=NOW) == []


def test_no_slot_in_the_past_or_too_soon(db_engine: Engine) -> None:
    today = booking.available_slots(UNIT, NOW.date(), now=NOW)
    assert today[0].start == T(8, 30)  # 8:00 is now, and 30 minutes' notice
    assert (
        booking.available_slots(UNIT, NOW.date() - dt.timedelta(days=1), now=NOW) == []
    )
    with pytest.raises(NotBookable) as error:
        book(day=NOW.date(), start=T(8, 0))
    assert error.value.reason == "past"
    assert "đã qua" in error.value.citizen_message


def test_holidays_are_closed(db_engine: Engine) -> None:
    new_year = dt.date(2027, 1, 1)  # a Friday, Tết Dương lịch
    assert booking.available_slots(UNIT, new_year, now=NOW) == []
    with pytest.raises(NotBookable) as error:
        book(day=new_year, start=T(8, 0))
    assert error.value.reason == "holiday"
    assert new_year - dt.timedelta(days=1) not in booking.holidays()
    assert booking.available_slots(UNIT, dt.date(2026, 12, 31), now=NOW)


def test_holiday_list_covers_tet_and_gio_to(db_engine: Engine) -> None:
    days = booking.holidays()
    assert dt.date(2026, 2, 17) in days  # mùng 1 Tết Bính Ngọ
    assert dt.date(2026, 4, 26) in days  # Giỗ Tổ 2026
    assert dt.date(2027, 2, 6) in days  # mùng 1 Tết Đinh Mùi
    assert dt.date(2027, 4, 16) in days  # Giỗ Tổ 2027
    assert days[dt.date(2026, 2, 17)].annual_decision


def test_closed_times_and_off_grid_starts(db_engine: Engine) -> None:
    for start in (T(12, 0), T(7, 45), T(17, 0), T(6, 0)):
        with pytest.raises(NotBookable) as error:
            book(start=start)
        assert error.value.reason == "closed"
    with pytest.raises(NotBookable) as error:
        book(day=SUN, start=T(8, 0))
    assert error.value.reason == "closed"


def test_too_far_ahead(db_engine: Engine) -> None:
    with pytest.raises(NotBookable) as error:
        book(day=dt.date(2027, 3, 3))
    assert error.value.reason == "too_far"


def test_bad_input_is_refused_clearly(db_engine: Engine) -> None:
    with pytest.raises(NotBookable) as error:
        booking.book(UNIT, "identity_card", WED, T(8, 0), "  ", "0912345678", "c", NOW)
    assert error.value.reason == "bad_input"
    with pytest.raises(NotBookable):
        booking.book(UNIT, "identity_card", WED, T(8, 0), "A", "abc", "c", now=NOW)


def test_unit_hours_come_from_services_units(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    afternoon = types.SimpleNamespace(
        working_hours={"wed": [(T(14, 0), T(15, 0))]},
        working_hours_text="Chiều thứ Tư",
        name="Công an xã Thử",
    )
    module = fake_units({"XA-AFTERNOON": afternoon})
    monkeypatch.setitem(sys.modules, "services.units", module)
    monkeypatch.setattr(services, "units", module)
    slots = booking.available_slots("XA-AFTERNOON", WED, now=NOW)
    assert [s.start for s in slots] == [T(14, 0), T(14, 30)]
    assert booking.unit_hours("XA-AFTERNOON").hours_text == "Chiều thứ Tư"
    # a unit the units module does not know is not bookable
    assert booking.available_slots("XA-NOWHERE", WED, now=NOW) == []
    with pytest.raises(NotBookable) as error:
        book(unit="XA-NOWHERE")
    assert error.value.reason == "unknown_unit"


def test_defaults_without_the_units_module(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "services.units", None)  # import fails
    monkeypatch.delattr(services, "units", raising=False)
    assert len(booking.available_slots("XA-ANY", WED, now=NOW)) == 15
    assert booking.unit_hours("not a code!") is None


# ---- capacity, nearest free ----------------------------------------------------------


def test_capacity_from_the_database_and_nearest_free(db_engine: Engine) -> None:
    booking.set_capacity(UNIT, 2)
    first = book(phone="0912000001", conversation="a")
    second = book(phone="0912000002", conversation="b")
    assert first.code != second.code
    with pytest.raises(SlotFull) as error:
        book(phone="0912000003", conversation="c")
    nearest = error.value.nearest
    assert [(s.day, s.start) for s in nearest[:2]] in (
        [(WED, T(7, 30)), (WED, T(8, 30))],
        [(WED, T(8, 30)), (WED, T(7, 30))],
    )
    assert all(isinstance(s, Slot) and s.free == 2 for s in nearest)
    assert len(nearest) == 3
    free = {s.start: s.free for s in booking.available_slots(UNIT, WED, now=NOW)}
    assert T(8, 0) not in free and free[T(8, 30)] == 2
    # other units are not affected
    assert book(unit=OTHER, phone="0912000003", conversation="c").unit == OTHER


def test_capacity_per_weekday_and_time(db_engine: Engine) -> None:
    booking.set_capacity(UNIT, 5)
    booking.set_capacity(UNIT, 1, weekday=WED.weekday())
    booking.set_capacity(UNIT, 0, weekday=WED.weekday(), start=T(9, 0))
    slots = {s.start: s.free for s in booking.available_slots(UNIT, WED, now=NOW)}
    assert slots[T(8, 0)] == 1 and T(9, 0) not in slots
    thursday = booking.available_slots(UNIT, WED + dt.timedelta(days=1), now=NOW)
    assert thursday[0].free == 5
    booking.set_capacity(UNIT, 2, weekday=WED.weekday())  # update, not a second row
    slots = {s.start: s.free for s in booking.available_slots(UNIT, WED, now=NOW)}
    assert slots[T(8, 0)] == 2


def test_nearest_free_skips_closed_days(db_engine: Engine) -> None:
    booking.set_capacity(UNIT, 0, weekday=SAT.weekday())
    nearest = booking.nearest_free(UNIT, SAT, T(9, 0), limit=2, now=NOW)
    assert all(s.day.weekday() not in (5, 6) for s in nearest)
    assert nearest and nearest[0].day in (dt.date(2026, 12, 4), dt.date(2026, 12, 7))


# ---- codes, cancel, move -----------------------------------------------------------


def test_codes_are_short_unambiguous_and_unique(db_engine: Engine) -> None:
    codes = {book(phone=f"09120000{i:02d}", conversation=str(i)).code for i in range(3)}
    codes |= {booking.new_code() for _ in range(500)}
    assert all(len(c) == 6 and not set(c) & set("O0I1") for c in codes)
    assert len(codes) == 503


def test_cancel_needs_code_and_phone(db_engine: Engine) -> None:
    booking.set_capacity(UNIT, 1)
    made = book(phone="+84 912 345 678")
    with pytest.raises(BookingNotFound) as wrong_phone:
        booking.cancel(made.code, "0912345679")
    with pytest.raises(BookingNotFound) as wrong_code:
        booking.cancel("ABCDEF" if made.code != "ABCDEF" else "ABCDEG", "0912345678")
    assert wrong_phone.value.citizen_message == wrong_code.value.citizen_message
    with pytest.raises(SlotFull):
        book(phone="0987654321", conversation="other")
    cancelled = booking.cancel(made.code.lower(), "0912.345.678")
    assert cancelled.status == "cancelled"
    assert booking.cancel(made.code, "0912345678").status == "cancelled"  # again: same
    # the place is free again
    assert book(phone="0987654321", conversation="other").status == "booked"


def test_move_needs_code_and_phone_and_a_free_slot(db_engine: Engine) -> None:
    booking.set_capacity(UNIT, 1)
    mine = book(phone="0912345678")
    other = book(start=T(9, 0), phone="0987654321", conversation="x")
    with pytest.raises(BookingNotFound):
        booking.move(mine.code, "0900000000", WED, T(10, 0), now=NOW)
    with pytest.raises(SlotFull):
        booking.move(mine.code, "0912345678", WED, T(9, 0), now=NOW)
    with pytest.raises(NotBookable):
        booking.move(mine.code, "0912345678", SUN, T(9, 0), now=NOW)
    moved = booking.move(mine.code, "0912345678", WED, T(10, 0), now=NOW)
    assert (moved.code, moved.day, moved.start) == (mine.code, WED, T(10, 0))
    assert moved.end == T(10, 30)
    starts = {s.start for s in booking.available_slots(UNIT, WED, now=NOW)}
    assert T(8, 0) in starts and T(10, 0) not in starts and T(9, 0) not in starts
    assert other.status == "booked"
    booking.cancel(mine.code, "0912345678")
    with pytest.raises(BookingNotFound):
        booking.move(mine.code, "0912345678", WED, T(11, 0), now=NOW)


def test_officers_list_with_personal_data_decrypted(db_engine: Engine) -> None:
    made = book(phone="0912345678")
    book(unit=OTHER)
    views = booking.list_appointments(UNIT)
    assert [(v.code, v.full_name, v.phone) for v in views] == [
        (made.code, "Nguyễn Văn A", "0912345678")
    ]
    with db_engine.connect() as connection:
        stored = connection.execute(
            select(Appointment.full_name, Appointment.phone)
        ).all()
    assert all("0912345678" not in p and "Nguyễn" not in n for n, p in stored)


# ---- idempotency and races ---------------------------------------------------------


def test_a_retried_request_books_once(db_engine: Engine) -> None:
    first = book()
    again = book()
    assert again == first
    assert count(db_engine) == 1
    # retried late, when the slot could no longer be booked: still the same
    assert book(now=dt.datetime(2026, 12, 2, 7, 50)) == first
    different_phone = book(phone="0987654321")
    assert different_phone.code != first.code
    assert count(db_engine) == 2


def test_action_server_killed_after_commit_then_retried(
    db_engine: Engine, database_url: str, crypto_keys: Path
) -> None:
    """The first attempt commits and dies before answering; Rasa retries the
    action: the citizen has exactly one booking, the one made first."""
    script = f"""
import datetime as dt, os, sys, types
import services
from services import booking, crypto
crypto.KEYS_DIR = {str(crypto_keys)!r}
from pathlib import Path
crypto.KEYS_FILE = Path({str(crypto_keys / "tip_keys")!r})
crypto.INDEX_KEY_FILE = Path({str(crypto_keys / "index_key")!r})
info = types.SimpleNamespace(working_hours={{}}, working_hours_text=None)
module = types.ModuleType("services.units")
module.get_unit = lambda code: info
sys.modules["services.units"] = module
services.units = module
made = booking.book({UNIT!r}, "identity_card", dt.date(2026, 12, 2), dt.time(8, 0),
    "Nguyễn Văn A", "0912345678", "conv-1", now=dt.datetime(2026, 12, 1, 8, 0))
print(made.code, flush=True)
os._exit(9)  # killed before the reply reaches Rasa
"""
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 9, result.stderr[-2000:]
    first_code = result.stdout.strip()
    retried = book()
    assert retried.code == first_code
    assert count(db_engine) == 1


def race(n: int, target: Any) -> List[Any]:
    barrier = threading.Barrier(n)
    results: List[Any] = [None] * n

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = target(index)
        except Exception as error:  # the outcome is what the test checks
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_race_for_the_last_place_has_one_winner(db_engine: Engine) -> None:
    booking.set_capacity(UNIT, 1)
    results = race(
        8, lambda i: book(phone=f"09120000{i:02d}", conversation=f"racer-{i}")
    )
    winners = [r for r in results if isinstance(r, booking.Booking)]
    losers = [r for r in results if isinstance(r, SlotFull)]
    assert len(winners) == 1, results
    assert len(losers) == 7, results
    assert count(db_engine) == 1


def test_race_for_two_places_has_two_winners(db_engine: Engine) -> None:
    booking.set_capacity(UNIT, 2)
    results = race(
        6, lambda i: book(phone=f"09120000{i:02d}", conversation=f"racer-{i}")
    )
    assert sum(isinstance(r, booking.Booking) for r in results) == 2, results
    assert sum(isinstance(r, SlotFull) for r in results) == 4, results


def test_the_same_request_racing_itself_books_once(db_engine: Engine) -> None:
    results = race(5, lambda i: book())
    codes: set[str | None] = {getattr(r, "code", None) for r in results}
    assert len(codes) == 1 and None not in codes, results
    assert count(db_engine) == 1


RACER = """
import datetime as dt, sys, time, types
from pathlib import Path
import services
from services import booking, crypto
from services.errors import SlotFull
keys = Path(sys.argv[1])
crypto.KEYS_DIR, crypto.KEYS_FILE = keys, keys / "tip_keys"
crypto.INDEX_KEY_FILE = keys / "index_key"
info = types.SimpleNamespace(working_hours={}, working_hours_text=None)
module = types.ModuleType("services.units")
module.get_unit = lambda code: info
sys.modules["services.units"] = module
services.units = module
booking.available_slots("XA-TEST", dt.date(2026, 12, 2),
                        now=dt.datetime(2026, 12, 1, 8, 0))  # connect and warm up
while time.time() < float(sys.argv[3]):
    pass
try:
    made = booking.book("XA-TEST", "passport", dt.date(2026, 12, 2), dt.time(8, 0),
        "Racer", "09120000" + sys.argv[2], "proc-" + sys.argv[2],
        now=dt.datetime(2026, 12, 1, 8, 0))
    print("WON", made.code)
except SlotFull:
    print("FULL")
"""


def test_race_between_processes_has_one_winner(
    db_engine: Engine, database_url: str, crypto_keys: Path
) -> None:
    import time

    booking.set_capacity(UNIT, 1)
    crypto.keyring()  # create the keys before the racers read them
    crypto.blind_index("warm")
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    start = str(time.time() + 4)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(crypto_keys), f"{i:02d}", start],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err[-2000:]
        outcomes.append(out.split()[0])
    assert sorted(outcomes) == ["FULL", "FULL", "FULL", "WON"]
    assert count(db_engine) == 1
