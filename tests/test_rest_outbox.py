"""Officer replies to a REST conversation arrive with the citizen's next answer."""

import asyncio
import socket
import uuid
from typing import Any, List

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sqlalchemy.engine import Engine

from connectors.rest import RestInput
from services import outbound

pytestmark = pytest.mark.usefixtures("crypto_keys")


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several Sanic apps in one process, as sanic-testing allows them."""
    monkeypatch.setattr(Sanic, "test_mode", True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def on_new_message(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, "Dạ, bot đây")


async def exchange(posts: List[Any], wait: Any = None) -> List[Any]:
    app = Sanic(f"rest_outbox_{uuid.uuid4().hex[:8]}")
    app.blueprint(RestInput().blueprint(on_new_message), url_prefix="/webhooks/rest")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    await server.startup()
    await server.after_start()
    answers = []
    try:
        async with aiohttp.ClientSession() as session:
            for body in posts:
                async with session.post(
                    f"http://127.0.0.1:{port}/webhooks/rest/webhook", json=body
                ) as reply:
                    answers.append((reply.status, await reply.json(content_type=None)))
        if wait is not None:
            await wait()
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
    return answers


def test_waiting_officer_messages_come_first_and_once(db_engine: Engine) -> None:
    asyncio.run(outbound.send("rest", "citizen-1", "Dạ, cán bộ Minh đây ạ"))
    asyncio.run(outbound.send("rest", "citizen-2", "Tin cho người khác"))
    first, second, invalid = asyncio.run(
        exchange(
            [
                {"sender": "citizen-1", "message": "alo"},
                {"sender": "citizen-1", "message": "còn đó không"},
                {"sender": "", "message": "x"},
            ]
        )
    )
    assert first[0] == 200
    assert [m["text"] for m in first[1]] == ["Dạ, cán bộ Minh đây ạ", "Dạ, bot đây"]
    assert first[1][0]["custom"] == {"from_officer": True}
    assert [m["text"] for m in second[1]] == ["Dạ, bot đây"]
    assert invalid[0] == 400
    # the other citizen's message is still waiting for them
    assert [m["text"] for m in outbound.take_pending("rest", "citizen-2")] == [
        "Tin cho người khác"
    ]


def test_the_rasa_server_delivers_waiting_push_messages(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written by the console (no Zalo client there), sent by the Rasa server."""
    monkeypatch.setenv("OUTBOUND_INTERVAL", "0.2")
    sent: List[str] = []

    async def zalo(sender_id: str, text: str, metadata: dict) -> None:
        sent.append(f"{sender_id}: {text}")

    asyncio.run(outbound.send("zalo", "zalo-9", "Dạ, cán bộ trả lời ạ"))
    assert sent == []

    async def until_sent() -> None:
        for _ in range(50):
            if sent:
                return
            await asyncio.sleep(0.1)

    outbound.register("zalo", zalo)
    try:
        asyncio.run(exchange([], wait=until_sent))
    finally:
        outbound.unregister("zalo")
    assert sent == ["zalo-9: Dạ, cán bộ trả lời ạ"]
