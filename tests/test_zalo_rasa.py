"""The channel inside Rasa 3.6's own plumbing: credentials loading, route
registration, and the agent's tracker and lock stores (no model needed)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any, List

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.run import create_http_input_channels
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from connectors.rest import RestInput
from connectors.zalo.channel import AgentControl, ZaloInput
from connectors.zalo.config import Registry, dump_oas
from services.zalo_store import InboxRow
from tests.fakes.sanic_server import new_app, serve
from tests.fakes.zalo_harness import (  # noqa: F401  (fixture)
    channel_engines_closed,
    make_oas,
    sign,
    user_event,
)
from tests.fakes.zalo_openapi import FakeZalo

pytestmark = pytest.mark.usefixtures("crypto_keys", "channel_engines_closed")

ROOT = Path(__file__).resolve().parent.parent
USER = "2468458835296117922"


class FakeAgent:
    """Rasa's Agent as the channel sees it: real in-memory stores; handling a
    message logs the UserUttered in the tracker, as MessageProcessor does."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.handled: List[UserMessage] = []

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message: UserMessage) -> None:
        async with self.lock_store.lock(message.sender_id):
            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            tracker.update(UserUttered(message.text, message_id=message.message_id))
            await self.tracker_store.save(tracker)
            self.handled.append(message)


def test_project_credentials_load_the_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeZalo()
    path = tmp_path / "oas.yml"
    path.write_text(dump_oas(make_oas(fake, 1)), encoding="utf-8")
    monkeypatch.setenv("ZALO_OAS_FILE", str(path))
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    kinds = {type(channel) for channel in channels}
    assert {RestInput, ZaloInput} <= kinds
    app = new_app()
    register(channels, app, route="/webhooks/")
    uris = {route.uri for route in app.router.routes}
    assert "/webhooks/zalo/webhook" in uris


def test_through_rasas_handler_with_the_agents_stores(database_url: str) -> None:
    async def main() -> None:
        async with FakeZalo() as fake:
            [oa] = make_oas(fake, 1)
            registry = Registry({oa.oa_id: oa}, fake.base, fake.base)
            channel = ZaloInput(registry=registry)  # AgentControl: the real one
            app = new_app()
            agent = FakeAgent()
            app.ctx.agent = agent
            register([channel], app, route="/webhooks/")
            async with serve(app) as url, aiohttp.ClientSession() as session:
                raw, headers = sign(user_event(oa, USER, msg_id="r1"), oa)
                webhook = url + "/webhooks/zalo/webhook"
                async with session.post(webhook, data=raw, headers=headers) as r:
                    assert r.status == 200
                for _ in range(100):
                    if agent.handled:
                        break
                    await asyncio.sleep(0.05)
                [message] = agent.handled
                assert message.sender_id == f"{oa.oa_id}:{USER}"
                assert message.output_channel.name() == "zalo"
                # a re-delivery after a crash finds the message in the tracker
                row = InboxRow(
                    id=999,
                    oa_id=oa.oa_id,
                    event_name="user_send_text",
                    user_id=USER,
                    kind="message",
                    payload=json.dumps(json.loads(raw)),
                    attempts=0,
                    received_at=dt.datetime(2026, 1, 1),
                )
                await channel._handle_row(row)
                assert len(agent.handled) == 1

    asyncio.run(main())


def test_agent_control_pauses_once_and_finds_handled_messages() -> None:
    async def main() -> None:
        app = new_app()
        agent = FakeAgent()
        app.ctx.agent = agent
        control = AgentControl(app)
        await control.ready()
        sender = "1:2"
        assert not await control.already_handled(sender, "m1")
        await agent.handle_message(
            UserMessage("chào", sender_id=sender, message_id="m1")
        )
        assert await control.already_handled(sender, "m1")
        assert not await control.already_handled(sender, "m2")
        await control.pause(sender)
        await control.pause(sender)
        tracker = await agent.tracker_store.retrieve(sender)
        assert tracker is not None and tracker.is_paused()
        names: List[Any] = [e.type_name for e in tracker.events]
        assert names.count("pause") == 1

    asyncio.run(main())
