"""Issue 6: the action server killed (SIGKILL) during a booking leaves the
booking made exactly once or not at all, and the citizen's retry after the
restart never makes a second one.

The kill happens inside the real action server at the final submit: a
``sitecustomize`` written by this test (and put on the PYTHONPATH of that one
subprocess only) wraps ``services.booking.book`` to kill its own process just
before or just after the booking is committed. Production code has no hook.

Marked `model`: runs after training (`make test` runs it with `pytest -m model`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from tests.servers import ROOT, Assistant, reply_text, throwaway_keys

pytestmark = pytest.mark.model

UNIT = "XA-XUANHUONG"  # a sample commune of knowledge/units.yml

CRASH_HOOK = '''\
"""Test-only: the action server kills itself at the booking submit."""
import os
import signal
from pathlib import Path


def _install() -> None:
    from services import booking

    original = booking.book
    moment = os.environ["CRASH_BOOKING"]
    marker = Path(os.environ["CRASH_MARKER"])

    def book(*args, **kwargs):
        if moment == "before_commit":
            marker.write_text(moment)
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        marker.write_text(moment)
        os.kill(os.getpid(), signal.SIGKILL)
        return result

    booking.book = book


if os.environ.get("CRASH_BOOKING"):
    _install()
'''


@pytest.fixture(scope="module")
def rasa_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """Rasa up, its action server left to each test (started with the hook)."""
    running = Assistant(tmp_path_factory.mktemp("crash"))
    running.start_rasa()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def servers_database(
    rasa_only: Assistant, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """This process reads the servers' database with their throw-away keys."""
    from services import crypto, db

    for name, value in throwaway_keys().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", rasa_only.database_url)
    crypto.reset()
    db.engine.cache_clear()
    yield
    crypto.reset()
    db.engine.cache_clear()


def working_day() -> dt.date:
    """The first day from the day after tomorrow on which the unit takes
    bookings at 09:00 (so the test never depends on today's date)."""
    from services import booking

    for ahead in range(2, 30):
        day = dt.date.today() + dt.timedelta(days=ahead)
        slots = booking.available_slots(UNIT, day)
        if any(s.start == dt.time(9, 0) and s.free > 0 for s in slots):
            return day
    raise AssertionError(f"{UNIT} has no free 09:00 slot in the next four weeks")


def day_of(code: str) -> Tuple[dt.date, dt.time]:
    """When the booking ``code`` is."""
    from services import booking

    rows = booking.list_appointments(UNIT, include_cancelled=True)
    return next((row.day, row.start) for row in rows if row.code == code)


def bookings_of(phone: str) -> List[str]:
    """Codes of every booking (cancelled ones too) made with ``phone``."""
    from services import booking

    rows = booking.list_appointments(UNIT, include_cancelled=True)
    return [
        r.code for r in rows if booking.phone_key(r.phone) == booking.phone_key(phone)
    ]


class Citizen:
    """One citizen talking to the assistant over REST from ``UNIT``."""

    def __init__(self, assistant: Assistant, sender: str) -> None:
        self.assistant, self.sender = assistant, sender

    def say(self, message: str) -> str:
        """The reply's texts and button titles, as one string."""
        status, replies = self.assistant.say(message, self.sender, {"unit": UNIT})
        assert status == 200, replies
        buttons = [b["title"] for r in replies for b in r.get("buttons") or []]
        return f"{reply_text(replies)} {buttons}".strip()


def book_until_the_crash(
    assistant: Assistant, tmp_path: Path, moment: str, citizen: Citizen, phone: str
) -> Tuple[dt.date, str]:
    """Fill the appointment form (09:00 on a working day) with the action
    server set to die at ``moment`` of the submit: the day and the reply to
    the last answer (the phone)."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH_HOOK, encoding="utf-8")
    marker = tmp_path / "killed"
    assistant.start_actions(
        PYTHONPATH=f"{hook}:{ROOT}",
        CRASH_BOOKING=moment,
        CRASH_MARKER=str(marker),
    )
    day = working_day()
    assert "ngày nào" in citizen.say("cho em đặt lịch làm căn cước với ạ")
    assert "09:00" in citizen.say(day.strftime("%d/%m/%Y"))
    assert "họ và tên" in citizen.say("9h")
    assert "điện thoại" in citizen.say("Trần Thị Hoa")
    crashed = citizen.say(phone)  # the final submit: the action server dies in it
    assert marker.read_text() == moment, "the action server did not reach book()"
    assert assistant.actions is not None
    assistant.actions.wait(30)  # it really died
    return day, crashed


@pytest.mark.parametrize("moment", ["before_commit", "after_commit"])
def test_killed_action_server_books_once_or_not_at_all(
    rasa_only: Assistant, servers_database: None, tmp_path: Path, moment: str
) -> None:
    assistant = rasa_only
    citizen = Citizen(assistant, f"crash-{moment}")
    phone = "0912345601" if moment == "before_commit" else "0912345602"
    try:
        day, crashed = book_until_the_crash(assistant, tmp_path, moment, citizen, phone)
        made = bookings_of(phone)
        assert len(made) == (0 if moment == "before_commit" else 1)
        assert not any(code in crashed for code in made)  # no confirmation got out
        assert "gửi lại" in crashed, crashed  # but the citizen is told to resend

        # the action server comes back; the citizen, unanswered, asks again
        assistant.start_actions()
        retried = citizen.say("đặt lịch giúp em với, nãy chưa thấy xác nhận")
        made = bookings_of(phone)
        assert len(made) == 1, (made, retried)
        assert made[0] in retried, retried
        assert day_of(made[0]) == (day, dt.time(9, 0))
        assert day.strftime("%d/%m/%Y") in retried and "09:00" in retried

        # and asking once more still makes no second booking
        citizen.say("đặt lịch giúp em với, nãy chưa thấy xác nhận")
        assert bookings_of(phone) == made
    finally:
        assistant.kill_actions()


def test_citizen_is_told_when_the_submit_was_cut_off(
    rasa_only: Assistant, servers_database: None, tmp_path: Path
) -> None:
    citizen = Citizen(rasa_only, "crash-told")
    try:
        _, crashed = book_until_the_crash(
            rasa_only, tmp_path, "before_commit", citizen, "0912345603"
        )
    finally:
        rasa_only.kill_actions()
    assert bookings_of("0912345603") == []
    # with the action server gone Rasa itself sends nothing: the channel asks
    # the citizen to send the message again (connectors/guard.py)
    assert crashed.startswith("Dạ"), "the citizen got no answer at all"
    assert "gửi lại" in crashed, crashed
