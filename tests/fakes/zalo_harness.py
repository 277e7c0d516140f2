"""The Zalo channel wired to fakes: fake Zalo OpenAPI, fake Rasa, signed events.

A trained model cannot run in the tests, so Rasa's ``on_new_message`` is a
``FakeRasa`` that records each ``UserMessage`` and answers through the message's
own output channel (so replies really travel to the fake Zalo), and the
channel's ConversationControl is answered from the same records.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, Iterator, List, Set, Tuple

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.zalo import signature
from connectors.zalo.channel import ZaloInput
from connectors.zalo.client import ZaloClient, dumps
from connectors.zalo.config import OAConfig, Registry
from tests.fakes.sanic_server import new_app, serve
from tests.fakes.zalo_openapi import FakeZalo

WEBHOOK = "/webhooks/zalo/webhook"


@pytest.fixture
def channel_engines_closed() -> Iterator[None]:
    """After the test, close the channel's pooled connections: every test has a
    database of its own, and open pools would pile up on PostgreSQL."""
    from services import zalo_store

    yield
    zalo_store.dispose_channel_engines()


def make_oas(fake: FakeZalo, count: int = 2) -> List[OAConfig]:
    """``count`` OAs on distinct apps, with tokens the fake accepts."""
    oas = []
    for index in range(1, count + 1):
        access, refresh = fake.issue_tokens()
        app_id = f"{index}00000000000000001"
        fake.app_secrets[app_id] = f"app-secret-{index}"
        oas.append(
            OAConfig(
                oa_id=f"{index}11111111111111111",
                unit=f"XA-TEST{index}",
                app_id=app_id,
                app_secret=f"app-secret-{index}",
                oa_secret_key=f"oa-secret-{index}",
                access_token=access,
                refresh_token=refresh,
            )
        )
    return oas


def now_ms() -> str:
    return str(int(time.time() * 1000))


def user_event(
    oa: OAConfig,
    user_id: str,
    event_name: str = "user_send_text",
    text: str | None = "Xin chào",
    msg_id: str | None = None,
    timestamp: str | None = None,
    **message: Any,
) -> Dict[str, Any]:
    """A user → OA event as Zalo sends it."""
    body: Dict[str, Any] = {
        "app_id": oa.app_id,
        "user_id_by_app": "9" + user_id[1:],
        "event_name": event_name,
        "timestamp": timestamp or now_ms(),
        "sender": {"id": user_id},
        "recipient": {"id": oa.oa_id},
    }
    content: Dict[str, Any] = dict(message)
    if msg_id is not None:
        content["msg_id"] = msg_id
    if text is not None:
        content["text"] = text
    if content:
        body["message"] = content
    return body


def echo_event(oa: OAConfig, user_id: str, msg_id: str, text: str) -> Dict[str, Any]:
    return {
        "app_id": oa.app_id,
        "event_name": "oa_send_text",
        "timestamp": now_ms(),
        "sender": {"id": oa.oa_id},
        "recipient": {"id": user_id},
        "message": {"msg_id": msg_id, "text": text},
    }


def sign(event: Dict[str, Any], oa: OAConfig) -> Tuple[bytes, Dict[str, str]]:
    """The exact bytes to send and their headers."""
    raw = dumps(event)
    mac = signature.header_value(
        oa.app_id, raw, str(event["timestamp"]), oa.oa_secret_key
    )
    return raw, {"X-ZEvent-Signature": mac, "Content-Type": "application/json"}


@dataclass
class FakeRasa:
    """Stands in for ``agent.handle_message`` and the tracker store."""

    messages: List[UserMessage] = field(default_factory=list)
    handled: Set[Tuple[str, str]] = field(default_factory=set)
    paused: List[str] = field(default_factory=list)
    delay: float = 0.0
    reply: bool = True

    async def on_new_message(self, message: UserMessage) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message)
        self.handled.add((message.sender_id, message.message_id))
        if self.reply:
            await message.output_channel.send_text_message(
                message.sender_id, f"Dạ, em đã nhận: {message.text}"
            )

    # ConversationControl
    async def ready(self) -> None:
        return None

    async def already_handled(self, sender_id: str, message_id: str) -> bool:
        return (sender_id, message_id) in self.handled

    async def pause(self, sender_id: str) -> None:
        self.paused.append(sender_id)

    async def is_paused(self, sender_id: str) -> bool:
        return sender_id in self.paused


@dataclass
class Harness:
    fake: FakeZalo
    rasa: FakeRasa
    channel: ZaloInput
    oas: List[OAConfig]
    url: str
    session: aiohttp.ClientSession

    async def post(
        self, raw: bytes, headers: Dict[str, str]
    ) -> Tuple[int, Dict[str, Any]]:
        async with self.session.post(
            self.url + WEBHOOK, data=raw, headers=headers
        ) as r:
            try:
                body = await r.json(content_type=None)
            except ValueError:
                body = {}
            return r.status, body

    async def send(self, event: Dict[str, Any], oa: OAConfig | None = None) -> int:
        status, _ = await self.post(*sign(event, oa or self.oas[0]))
        return status

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the worker has processed every pending row."""
        assert self.channel.worker is not None
        deadline = time.monotonic() + timeout
        await asyncio.sleep(0.05)
        while time.monotonic() < deadline:
            self.channel.worker.wake()
            await asyncio.sleep(0.1)
            if self.channel.worker.idle.is_set():
                from services import zalo_store

                counts = await asyncio.to_thread(zalo_store.inbox_counts)
                if not counts.get("pending"):
                    return
        raise AssertionError("the inbox did not drain")


@contextlib.asynccontextmanager
async def harness(oa_count: int = 2, **rasa_options: Any) -> AsyncIterator[Harness]:
    """The channel served by Sanic with its blueprint at /webhooks/zalo, Zalo
    faked; needs DATABASE_URL set to a migrated database."""
    async with FakeZalo() as fake:
        oas = make_oas(fake, oa_count)
        registry = Registry(
            oas={oa.oa_id: oa for oa in oas},
            openapi_base=fake.base,
            oauth_base=fake.base,
        )
        rasa = FakeRasa(**rasa_options)
        channel = ZaloInput(
            registry=registry,
            client=ZaloClient(registry),
            control_factory=lambda _app: rasa,
        )
        app: Sanic = new_app()
        app.blueprint(
            channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/zalo"
        )
        async with serve(app) as url, aiohttp.ClientSession() as session:
            yield Harness(fake, rasa, channel, oas, url, session)
