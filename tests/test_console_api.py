"""The officers' HTTP API: token auth, one unit per token, the queue flow, tips."""

import asyncio
import datetime as dt
import socket
import stat
import sys
import types
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import aiohttp
import pytest
from sanic import Sanic
from sqlalchemy import text
from sqlalchemy.engine import Engine

import services
from console import api
from services import applications, booking, handoff, outbound, tips
from tests.test_handoff import TOKEN as RASA_TOKEN
from tests.test_handoff import FakeRasa

pytestmark = pytest.mark.usefixtures("crypto_keys", "privacy_restored")

UNIT_A, UNIT_B = "XA-A", "XA-B"
TOKENS = {
    api._hash("token-a"): api.Officer("can-bo-a", UNIT_A),
    api._hash("token-b"): api.Officer("can-bo-b", UNIT_B),
}


@pytest.fixture(autouse=True)
def setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    info = types.SimpleNamespace(working_hours={}, working_hours_text=None)
    module = types.ModuleType("services.units")
    module.get_unit = lambda code: info  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "services.units", module)
    monkeypatch.setattr(services, "units", module, raising=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Call = Tuple[str, str, str | None, Dict[str, Any] | None]


async def calls(requests: List[Call]) -> List[Tuple[int, Any]]:
    """Run the API on a free port and make the calls in order."""
    app = api.create_app(f"officer_api_{uuid.uuid4().hex[:8]}", tokens=TOKENS)
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    await server.startup()
    await server.after_start()
    results = []
    try:
        async with aiohttp.ClientSession() as session:
            for method, path, token, body in requests:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with session.request(
                    method,
                    f"http://127.0.0.1:{port}{path}",
                    json=body,
                    headers=headers,
                ) as reply:
                    results.append((reply.status, await reply.json(content_type=None)))
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
    return results


def test_tokens_are_required(db_engine: Engine) -> None:
    results = asyncio.run(
        calls(
            [
                ("GET", "/api/health", None, None),
                ("GET", "/api/queue", None, None),
                ("GET", "/api/queue", "wrong", None),
                ("GET", "/api/tips", "token-a", None),
            ]
        )
    )
    assert [status for status, _ in results] == [200, 401, 401, 200]


def test_queue_claim_reply_release(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    handoff.request_handoff("citizen-1", UNIT_A, "rest")

    async def scenario() -> Tuple[List[Tuple[int, Any]], List[str]]:
        async with FakeRasa() as rasa:
            monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{rasa.port}")
            monkeypatch.setenv("RASA_API_TOKEN", RASA_TOKEN)
            conv = {"conversation_id": "citizen-1"}
            results = await calls(
                [
                    ("GET", "/api/queue", "token-a", None),
                    ("GET", "/api/queue", "token-b", None),
                    ("POST", "/api/queue/claim", "token-b", conv),  # other unit
                    ("POST", "/api/queue/claim", "token-a", conv),
                    ("POST", "/api/queue/reply", "token-a", {**conv, "text": "Dạ"}),
                    ("POST", "/api/queue/reply", "token-a", {**conv, "text": ""}),
                    ("POST", "/api/queue/release", "token-a", conv),
                    ("POST", "/api/queue/release", "token-a", conv),  # gone
                    ("POST", "/api/queue/claim", "token-a", {"x": 1}),
                ]
            )
            return results, [kind for _, kind in rasa.kinds()]

    results, events = asyncio.run(scenario())
    statuses = [status for status, _ in results]
    assert statuses == [200, 200, 404, 200, 200, 400, 200, 404, 400]
    assert [t["conversation_id"] for t in results[0][1]["tickets"]] == ["citizen-1"]
    assert results[1][1] == {"tickets": []}
    assert results[3][1]["claimed_by"] == "can-bo-a"
    assert events == ["pause", "resume"]
    assert [m["text"] for m in outbound.take_pending("rest", "citizen-1")] == ["Dạ"]


def test_claim_answers_502_when_rasa_is_down(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    handoff.request_handoff("citizen-2", UNIT_A, "zalo")
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")
    (result,) = asyncio.run(
        calls(
            [("POST", "/api/queue/claim", "token-a", {"conversation_id": "citizen-2"})]
        )
    )
    assert result[0] == 502
    assert handoff.is_waiting("citizen-2")


def test_tips_are_read_only_by_their_unit_and_audited(db_engine: Engine) -> None:
    reference = tips.file_tip(
        UNIT_A, "Có người trộm xe", "chợ", "sáng nay", [], {"phone": "0912345678"}, "c"
    )
    results = asyncio.run(
        calls(
            [
                ("GET", "/api/tips", "token-a", None),
                ("GET", "/api/tips", "token-b", None),
                ("GET", f"/api/tips/{reference}", "token-b", None),
                ("GET", f"/api/tips/{reference}", "token-a", None),
                ("GET", "/api/tips/TB-NOTHERE", "token-a", None),
            ]
        )
    )
    assert [status for status, _ in results] == [200, 200, 404, 200, 404]
    assert [t["reference"] for t in results[0][1]["tips"]] == [reference]
    assert results[1][1] == {"tips": []}
    assert results[3][1]["what"] == "Có người trộm xe"
    assert results[3][1]["contact"] == {"phone": "0912345678"}
    view = tips.get_tip(reference, UNIT_A, officer="check")
    assert [entry[0] for entry in tips.access_log(view.id)] == ["can-bo-a", "check"]
    with db_engine.connect() as connection:
        audit_rows = connection.execute(
            text(
                "SELECT officer, unit, path, status FROM officer_api_audit ORDER BY id"
            )
        ).all()
    assert ("can-bo-b", UNIT_B, f"/api/tips/{reference}", 404) in [
        tuple(row) for row in audit_rows
    ]
    assert len(audit_rows) == 5


def test_appointments_and_application_status(db_engine: Engine) -> None:
    now = dt.datetime(2026, 12, 1, 8, 0)
    made = booking.book(
        UNIT_A,
        "passport",
        dt.date(2026, 12, 2),
        dt.time(9, 0),
        "Lê C",
        "0912345678",
        "c",
        now=now,
    )
    applications.seed_samples(UNIT_A)
    code = "H35.21-261118-0002"
    results = asyncio.run(
        calls(
            [
                (
                    "GET",
                    "/api/appointments?from=2026-12-01&to=2026-12-31",
                    "token-a",
                    None,
                ),
                ("GET", "/api/appointments", "token-b", None),
                ("GET", "/api/appointments?from=hôm-nay", "token-a", None),
                (
                    "POST",
                    f"/api/applications/{code}/status",
                    "token-b",
                    {"status": "ready"},
                ),
                (
                    "POST",
                    f"/api/applications/{code}/status",
                    "token-a",
                    {"status": "nope"},
                ),
                (
                    "POST",
                    f"/api/applications/{code}/status",
                    "token-a",
                    {"status": "ready", "note": "Mời nhận"},
                ),
            ]
        )
    )
    assert [status for status, _ in results] == [200, 200, 400, 404, 400, 200]
    (appointment,) = results[0][1]["appointments"]
    assert (appointment["code"], appointment["phone"]) == (made.code, "0912345678")
    assert results[1][1] == {"appointments": []}
    assert results[5][1]["status_label"] == "Đã có kết quả"


def test_add_token_stores_only_a_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "officer_tokens.yml"
    token = api.add_token(UNIT_A, "can-bo-a", path)
    assert token not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("OFFICER_API_TOKENS", "envtoken@XA-C@can-bo-c")
    monkeypatch.setenv("OFFICER_API_TOKEN", "single")
    monkeypatch.setenv("OFFICER_API_UNIT", "XA-D")
    known = api.load_tokens(path)
    assert known[api._hash(token)] == api.Officer("can-bo-a", UNIT_A)
    assert known[api._hash("envtoken")] == api.Officer("can-bo-c", "XA-C")
    assert known[api._hash("single")].unit == "XA-D"


def test_python_m_console_api_serves(tmp_path: Path) -> None:
    import os
    import subprocess
    import time

    import requests

    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = dict(
        os.environ,
        CONSOLE_PORT=str(port),
        PYTHONPATH=str(root),
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
        OFFICER_API_TOKENS="",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "console.api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert health.json() == {"status": "ok"}
        assert (
            requests.get(f"http://127.0.0.1:{port}/api/queue", timeout=5).status_code
            == 401
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
