"""Kill -9 between the ack and the processing: after a restart every accepted
message is handled exactly once, each user's in order (SQLite and PostgreSQL);
what the crash left pending is encrypted at rest."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import aiohttp
import pytest
from sqlalchemy import select

from connectors.zalo.config import dump_oas
from services import crypto, zalo_store
from tests.fakes.sanic_server import free_port
from tests.fakes.zalo_harness import (  # noqa: F401  (fixture)
    WEBHOOK,
    channel_engines_closed,
    make_oas,
    sign,
    user_event,
)
from tests.fakes.zalo_openapi import FakeZalo

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.usefixtures("channel_engines_closed")


def start_child(port: int, record: Path, delay: float, env: dict) -> subprocess.Popen:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.zalo_crash_child",
            str(port),
            str(record),
            str(delay),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()  # "ready" once the server listens
    assert line.strip() == "ready", f"child did not start: {line!r}"
    return child


def handled(record: Path) -> List[tuple]:
    if not record.exists():
        return []
    with sqlite3.connect(record) as db:
        return db.execute(
            "SELECT sender, message_id FROM handled ORDER BY n"
        ).fetchall()


def wait_for(predicate, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def stored_pending() -> List[tuple]:
    """(payload, key_id) of the pending rows, as the database holds them."""
    table = zalo_store.ZaloInbox.__table__
    query = select(table.c.payload, table.c.key_id).where(
        table.c.status == zalo_store.PENDING
    )
    with zalo_store.channel_engine().connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def test_kill_9_after_ack_then_restart_handles_each_message_once(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    crypto_keys: Path,  # keys reset afterwards
) -> None:
    key = "kcrash:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("TIP_KEYS", key)  # the same key for both children
    crypto.reset()
    oa = make_oas(FakeZalo(), 1)[0]
    oas_file = tmp_path / "oas.yml"
    oas_file.write_text(dump_oas([oa]), encoding="utf-8")
    record = tmp_path / "handled.db"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "ZALO_OAS_FILE": str(oas_file),
        "ZALO_OPENAPI_BASE": "http://127.0.0.1:9",
    }
    users = [f"80000000000000000{n:02d}" for n in range(3)]
    sent = [(user, f"{user}-{n}") for n in range(12) for user in users]
    port = free_port()
    child = start_child(port, record, 0.15, env)

    async def post_all() -> List[int]:
        async with aiohttp.ClientSession() as session:

            async def one(user: str, msg_id: str) -> int:
                raw, headers = sign(
                    user_event(oa, user, text=msg_id, msg_id=msg_id), oa
                )
                url = f"http://127.0.0.1:{port}{WEBHOOK}"
                async with session.post(url, data=raw, headers=headers) as response:
                    return response.status

            statuses = []
            for user, msg_id in sent:  # each user's messages in order
                statuses.append(await one(user, msg_id))
            return statuses

    try:
        assert asyncio.run(post_all()) == [200] * len(sent)
        wait_for(lambda: len(handled(record)) >= 4)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    before = len(handled(record))
    pending = zalo_store.inbox_counts().get("pending", 0)
    assert before < len(sent) and pending > 0  # the crash left work undone
    left = stored_pending()
    assert len(left) == pending
    for payload, key_id in left:  # the citizens' words wait encrypted
        assert key_id == "kcrash" and crypto.key_id(payload) == "kcrash"
        # (a long needle: a short one like "Xin" turns up in base64 by chance)
        assert "800000000000000000" not in payload
        assert "800000000000000000" in crypto.decrypt(payload, "zalo_inbox.payload")

    child = start_child(port, record, 0.01, env)
    try:
        wait_for(lambda: not zalo_store.inbox_counts().get("pending"))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    rows = handled(record)
    ids = [message_id for _, message_id in rows]
    assert sorted(ids) == sorted(msg_id for _, msg_id in sent)  # each exactly once
    for user in users:
        mine = [message_id for sender, message_id in rows if sender.endswith(user)]
        assert mine == [f"{user}-{n}" for n in range(12)]
    assert zalo_store.inbox_counts() == {"done": len(sent)}
