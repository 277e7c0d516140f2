"""`make zalo-sim`: typed lines become the right signed events, and what Zalo
received is shown with its buttons and files."""

from __future__ import annotations

import asyncio

import pytest

from connectors.zalo import sim
from connectors.zalo.config import OAConfig
from tests.fakes.zalo_harness import (  # noqa: F401  (fixture)
    Harness,
    channel_engines_closed,
    harness,
)
from tests.fakes.zalo_openapi import Recorded

pytestmark = pytest.mark.usefixtures("crypto_keys", "channel_engines_closed")


def citizen(oa: OAConfig, webhook: str = "http://unused") -> sim.Citizen:
    return sim.Citizen(oa, webhook, "4000000000000000004")


OA = OAConfig("1000000000000000001", "XA-DIAN", "2000", "s", "k", "a", "r")


def test_lines_become_events() -> None:
    c = citizen(OA)
    text = c.parse("đăng ký tạm trú")
    assert text is not None and text["event_name"] == "user_send_text"
    assert text["recipient"] == {"id": OA.oa_id}
    assert text["message"]["text"] == "đăng ký tạm trú"
    location = c.parse("/location 10.9 106.7")
    assert location is not None
    payload = location["message"]["attachments"][0]["payload"]
    assert payload == {"coordinates": {"latitude": "10.9", "longitude": "106.7"}}
    follow = c.parse("/follow")
    assert follow is not None and follow["follower"] == {"id": c.user_id}
    info = c.parse("/info Nguyễn Văn A 0912345678")
    assert info is not None
    assert info["info"] == {"name": "Nguyễn Văn A", "phone": "0912345678"}
    image = c.parse("/image https://x.invalid/a.jpg")
    assert image is not None and image["event_name"] == "user_send_image"


def test_buttons_are_shown_and_tapped(capsys: pytest.CaptureFixture[str]) -> None:
    c = citizen(OA)
    buttons = [
        {
            "title": "Tạm trú",
            "type": "oa.query.hide",
            "payload": "/ask_temporary_residence",
        },
        {"title": "Cổng DVC", "type": "oa.open.url", "payload": {"url": "https://x"}},
    ]
    message = {
        "text": "Dạ, anh/chị chọn:",
        "attachment": {"type": "template", "payload": {"buttons": buttons}},
    }
    sim.show(Recorded("POST", "/v3.0/oa/message/cs", {}, json={"message": message}), c)
    sim.show(
        Recorded(
            "POST",
            "/v3.0/oa/message/cs",
            {},
            json={
                "message": {"attachment": {"type": "file", "payload": {"token": "t1"}}}
            },
        ),
        c,
    )
    sim.show(
        Recorded("POST", "/v2.0/oa/upload/file", {}, files={"CT01.pdf": b"123"}), c
    )
    out = capsys.readouterr().out
    assert "Dạ, anh/chị chọn:" in out
    assert "[1] Tạm trú  → /ask_temporary_residence" in out
    assert "[file] token t1" in out and "[upload] CT01.pdf (3 bytes)" in out
    tapped = c.parse("1")
    assert (
        tapped is not None and tapped["message"]["text"] == "/ask_temporary_residence"
    )
    assert c.parse("2") is None  # a URL button sends nothing


def test_a_typed_line_reaches_rasa_through_the_real_webhook(database_url: str) -> None:
    async def main() -> None:
        async with harness(oa_count=1) as h:
            await check(h)

    async def check(h: Harness) -> None:
        c = citizen(h.oas[0], h.url + "/webhooks/zalo/webhook")
        event = c.parse("cho hỏi thủ tục hộ chiếu")
        assert event is not None
        assert await c.send(h.session, event) == 200
        await h.settle()
        assert [m.text for m in h.rasa.messages] == ["cho hỏi thủ tục hộ chiếu"]

    asyncio.run(main())
