"""End to end: a tip, a booking and a lookup leave no tip text, phone or CCCD
number in any log line (DEBUG, SQLAlchemy's statement log included) nor in the
SQLite files."""

import asyncio
import datetime as dt
import io
import logging
import sys
import types
from pathlib import Path
from typing import Iterator

import pytest

import services
from services import applications, booking, handoff, outbound, privacy, tips

pytestmark = pytest.mark.usefixtures("crypto_keys")

UNIT = "XA-TEST"
TIP = "Bà Năm ở số 14 ngõ Hòa Bình cho vay nặng lãi và đe dọa người vay"
PHONE = "0987654321"
CCCD = "036095012345"
NAME = "Phạm Thị Dung"


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    info = types.SimpleNamespace(working_hours={}, working_hours_text=None)
    module = types.ModuleType("services.units")
    module.get_unit = lambda code: info  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "services.units", module)
    monkeypatch.setattr(services, "units", module, raising=False)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql = logging.getLogger("sqlalchemy.engine")
    sql.setLevel(logging.INFO)  # every statement with its parameters
    privacy.install()
    yield stream
    privacy.uninstall()
    privacy.forget_registered()
    root.removeHandler(handler)
    root.setLevel(old_level)
    sql.setLevel(logging.WARNING)


def test_no_personal_data_in_logs_or_sqlite_files(
    database_url: str, logs: io.StringIO
) -> None:
    now = dt.datetime(2026, 12, 1, 8, 0)
    reference = tips.file_tip(
        UNIT,
        TIP,
        "ngõ Hòa Bình",
        "tối 30/11",
        [{"type": "image", "url": "u"}],
        {"name": NAME, "phone": PHONE, "cccd": CCCD},
        "zalo-1",
        now=now,
    )
    tips.add_to_tip(reference, f"Số của bà ấy là {PHONE}, CCCD {CCCD}")
    made = booking.book(
        UNIT,
        "identity_card",
        dt.date(2026, 12, 2),
        dt.time(8, 0),
        NAME,
        PHONE,
        "zalo-1",
        now=now,
    )
    booking.cancel(made.code, PHONE)
    applications.seed_samples(UNIT)
    with pytest.raises(applications.ApplicationNotFound):
        applications.lookup("H35.21-261118-0002", PHONE, "zalo-1", now=now)
    handoff.request_handoff("zalo-1", UNIT, "rest", now=now)
    asyncio.run(outbound.send("rest", "zalo-1", f"Dạ, chị {NAME} gọi {PHONE} nhé"))
    view = tips.get_tip(reference, UNIT, officer="can-bo")
    logging.getLogger("rasa.core.processor").debug(
        "Received user message '%s' with intent 'report_crime'", TIP
    )
    logging.getLogger("actions.tips").info("tip %s: %s", reference, view)
    output = logs.getvalue()
    assert "INSERT INTO tips" in output  # the statement log was on
    for secret in (TIP, PHONE, CCCD, NAME, "ngõ Hòa Bình"):
        assert secret not in output, secret
    path = (
        Path(database_url.replace("sqlite:///", ""))
        if "sqlite" in database_url
        else None
    )
    if path is not None:
        from services import db

        db.engine(database_url).dispose()
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for secret in (TIP, PHONE, CCCD, NAME, "ngõ Hòa Bình"):
            assert secret.encode() not in raw, secret
