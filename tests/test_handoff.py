"""Handoff queue, pause/resume through a fake Rasa HTTP API, outbound delivery."""

import asyncio
import datetime as dt
import socket
import sys
import types
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import Engine

import services
from services import handoff, outbound
from services.errors import DeliveryError, HandoffError, UnknownUnit
from services.rasa_api import RasaApi

pytestmark = pytest.mark.usefixtures("crypto_keys")

UNIT, OTHER = "XA-TEST", "XA-OTHER"
TOKEN = "rasa-test-token"
TUESDAY_9 = dt.datetime(2026, 12, 1, 9, 0)
SUNDAY = dt.datetime(2026, 12, 6, 9, 0)


@pytest.fixture(autouse=True)
def known_units(monkeypatch: pytest.MonkeyPatch) -> None:
    info = types.SimpleNamespace(working_hours={}, working_hours_text=None)
    module = types.ModuleType("services.units")
    module.get_unit = lambda code: info if code in (UNIT, OTHER) else None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "services.units", module)
    monkeypatch.setattr(services, "units", module, raising=False)


@pytest.fixture(autouse=True)
def no_senders() -> Iterator[None]:
    yield
    outbound.unregister("zalo")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeRasa:
    """Rasa's POST /conversations/{id}/tracker/events, recording what it gets."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, str], Any]] = []
        self.port = free_port()

    async def events(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return web.json_response({"status": "failure"}, status=401)
        body = await request.json()
        self.calls.append((request.match_info["sender"], dict(request.query), body))
        return web.json_response({"sender_id": request.match_info["sender"]})

    async def __aenter__(self) -> "FakeRasa":
        app = web.Application()
        app.router.add_post("/conversations/{sender}/tracker/events", self.events)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.runner.cleanup()

    def api(self, token: str = TOKEN) -> RasaApi:
        return RasaApi(f"http://127.0.0.1:{self.port}", token)

    def kinds(self) -> List[Tuple[str, str]]:
        return [(sender, body[0]["event"]) for sender, _, body in self.calls]


def test_queue_positions_and_wait(db_engine: Engine) -> None:
    first = handoff.request_handoff("c1", UNIT, "zalo", now=TUESDAY_9)
    second = handoff.request_handoff("c2", UNIT, "rest", now=TUESDAY_9)
    elsewhere = handoff.request_handoff("c3", OTHER, "zalo", now=TUESDAY_9)
    assert (first.position, second.position, elsewhere.position) == (1, 2, 1)
    assert second.expected_wait_minutes == 20
    assert second.open_now and "Thứ Hai" in second.hours_text
    again = handoff.request_handoff("c2", UNIT, "rest", now=TUESDAY_9)
    assert again.position == 2  # asking twice keeps one place
    assert [t.conversation_id for t in handoff.queue(UNIT)] == ["c1", "c2"]
    closed = handoff.request_handoff("c4", UNIT, "zalo", now=SUNDAY)
    assert not closed.open_now
    assert handoff.cancel_request("c1")
    assert handoff.request_handoff("c2", UNIT, "rest").position == 1
    with pytest.raises(UnknownUnit) as error:
        handoff.request_handoff("c5", "XA-NOWHERE", "zalo")
    assert error.value.citizen_message.startswith("Dạ")


def test_claim_pauses_and_release_resumes(db_engine: Engine) -> None:
    handoff.request_handoff("citizen/1", UNIT, "rest")
    handoff.request_handoff("c2", UNIT, "rest")

    async def scenario() -> List[Tuple[str, str]]:
        async with FakeRasa() as rasa:
            ticket = await handoff.claim("citizen/1", "can-bo-1", UNIT, rasa=rasa.api())
            assert ticket.status == "claimed" and ticket.claimed_by == "can-bo-1"
            assert handoff.is_held("citizen/1") and not handoff.is_held("c2")
            again = await handoff.claim("citizen/1", "can-bo-1", UNIT, rasa=rasa.api())
            assert again.id == ticket.id  # idempotent for the same officer
            with pytest.raises(HandoffError):
                await handoff.claim("citizen/1", "can-bo-2", UNIT, rasa=rasa.api())
            with pytest.raises(HandoffError):
                await handoff.claim("c2", "can-bo-9", OTHER, rasa=rasa.api())
            with pytest.raises(HandoffError):
                await handoff.release("citizen/1", "can-bo-2", UNIT, rasa=rasa.api())
            closed = await handoff.release(
                "citizen/1", "can-bo-1", UNIT, rasa=rasa.api()
            )
            assert closed.status == "closed"
            assert rasa.calls[0][1] == {"token": TOKEN}
            return rasa.kinds()

    assert asyncio.run(scenario()) == [("citizen/1", "pause"), ("citizen/1", "resume")]
    assert not handoff.is_held("citizen/1")
    assert [t.conversation_id for t in handoff.queue(UNIT)] == ["c2"]
    assert handoff.request_handoff("citizen/1", UNIT, "rest").position == 2


def test_claim_is_undone_when_rasa_cannot_pause(db_engine: Engine) -> None:
    handoff.request_handoff("c1", UNIT, "zalo")

    async def scenario() -> None:
        dead = RasaApi(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=3)
        with pytest.raises(HandoffError):
            await handoff.claim("c1", "can-bo-1", UNIT, rasa=dead)
        async with FakeRasa() as rasa:
            with pytest.raises(HandoffError):  # wrong token: Rasa says 401
                await handoff.claim("c1", "can-bo-1", UNIT, rasa=rasa.api("wrong"))
            assert rasa.calls == []

    asyncio.run(scenario())
    assert not handoff.is_held("c1") and handoff.is_waiting("c1")


def test_replies_on_rest_wait_for_the_next_response(db_engine: Engine) -> None:
    handoff.request_handoff("web-1", UNIT, "rest")

    async def scenario() -> None:
        async with FakeRasa() as rasa:
            with pytest.raises(HandoffError):  # not claimed yet
                await handoff.reply("web-1", "can-bo-1", UNIT, "Chào anh")
            await handoff.claim("web-1", "can-bo-1", UNIT, rasa=rasa.api())
            await handoff.reply("web-1", "can-bo-1", UNIT, "Dạ, anh gọi 0912345678")
            await handoff.reply("web-1", "can-bo-1", UNIT, "Em là cán bộ trực")

    asyncio.run(scenario())
    with db_engine.connect() as connection:
        stored = " ".join(
            connection.execute(text("SELECT text FROM outbound_messages")).scalars()
        )
    assert "0912345678" not in stored and "cán bộ" not in stored
    messages = outbound.take_pending("rest", "web-1")
    assert [m["text"] for m in messages] == [
        "Dạ, anh gọi 0912345678",
        "Em là cán bộ trực",
    ]
    assert all(m["recipient_id"] == "web-1" for m in messages)
    assert outbound.take_pending("rest", "web-1") == []  # delivered once
    assert outbound.take_pending("rest", "someone-else") == []


def test_push_channel_delivers_at_once_and_retries_failures(db_engine: Engine) -> None:
    sent: List[Tuple[str, str, Dict[str, Any]]] = []
    failing = {"on": True}

    async def zalo(sender_id: str, message: str, metadata: Dict[str, Any]) -> None:
        if failing["on"]:
            raise ConnectionError("Zalo API down")
        sent.append((sender_id, message, metadata))

    async def scenario() -> None:
        outbound.register("zalo", zalo)
        with pytest.raises(DeliveryError):
            await outbound.send("zalo", "zalo-user-1", "Lần một", {"officer": "cb"})
        failing["on"] = False
        await outbound.send("zalo", "zalo-user-1", "Lần hai")
        assert await outbound.deliver_pending() == 1  # the failed one, again
        assert await outbound.deliver_pending() == 0

    asyncio.run(scenario())
    assert sent == [
        ("zalo-user-1", "Lần hai", {}),
        ("zalo-user-1", "Lần một", {"officer": "cb"}),
    ]


def test_messages_wait_for_the_process_that_can_send(db_engine: Engine) -> None:
    """The console process has no Zalo client: the Rasa process delivers."""
    sent: List[str] = []

    async def zalo(sender_id: str, message: str, metadata: Dict[str, Any]) -> None:
        sent.append(message)

    async def scenario() -> None:
        await outbound.send("zalo", "zalo-user-2", "Chờ gửi")
        assert sent == []
        assert await outbound.deliver_pending() == 0  # no sender here yet
        outbound.register("zalo", zalo)
        assert await outbound.deliver_pending() == 1

    asyncio.run(scenario())
    assert sent == ["Chờ gửi"]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 2001])
def test_bad_messages_are_refused(db_engine: Engine, bad: str) -> None:
    with pytest.raises(ValueError):
        asyncio.run(outbound.send("rest", "u", bad))
