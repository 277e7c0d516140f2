"""The Zalo webhook and its worker, against a fake Zalo and a fake Rasa.

Each test runs on SQLite and PostgreSQL (the inbox is in the app database).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable

import pytest

from services import zalo_store
from tests.fakes.zalo_harness import (
    Harness,
    channel_engines_closed,  # noqa: F401  (fixture)
    echo_event,
    harness,
    now_ms,
    sign,
    user_event,
)

pytestmark = pytest.mark.usefixtures("crypto_keys", "channel_engines_closed")

USER = "2468458835296117922"


def run(test: Callable[[Harness], Awaitable[Any]], **options: Any) -> None:
    async def main() -> None:
        async with harness(**options) as h:
            await test(h)

    asyncio.run(main())


def test_text_reaches_rasa_with_unit_metadata_and_reply_goes_out(
    database_url: str,
) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]
        assert (
            await h.send(user_event(oa, USER, text="tạm trú cần gì", msg_id="m1"))
            == 200
        )
        await h.settle()
        [message] = h.rasa.messages
        assert message.text == "tạm trú cần gì"
        assert message.sender_id == f"{oa.oa_id}:{USER}"
        assert message.message_id == "m1"
        assert message.input_channel == "zalo"
        assert message.metadata["unit"] == oa.unit
        assert message.metadata["oa_id"] == oa.oa_id
        assert message.metadata["zalo_user_id"] == USER
        [sent] = h.fake.messages()
        assert sent.headers["access_token"] == oa.access_token
        assert sent.json == {
            "recipient": {"user_id": USER},
            "message": {"text": "Dạ, em đã nhận: tạm trú cần gì"},
        }
        # processed rows keep no citizen text
        assert zalo_store.inbox_counts() == {"done": 1}

    run(test)


def test_a_turn_that_sends_nothing_gets_a_request_to_resend(
    database_url: str,
) -> None:
    """The action server down: Rasa's turn ends with no message. The citizen is
    asked to send again, unless an officer holds the conversation."""
    from connectors.guard import NO_REPLY_TEXT

    async def test(h: Harness) -> None:
        oa = h.oas[0]
        h.rasa.reply = False
        await h.send(user_event(oa, USER, text="đặt lịch giúp em", msg_id="s1"))
        await h.settle()
        [sent] = h.fake.messages()
        assert sent.json["message"]["text"] == NO_REPLY_TEXT
        assert zalo_store.inbox_counts() == {"done": 1}

        h.rasa.paused.append(f"{oa.oa_id}:{USER}")  # an officer took it over
        await h.send(user_event(oa, USER, text="alo", msg_id="s2"))
        await h.settle()
        assert len(h.fake.messages()) == 1  # nothing more
        assert [m.message_id for m in h.rasa.messages] == ["s1", "s2"]

    run(test)


def test_forged_missing_and_stale_signatures_are_refused(database_url: str) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]
        raw, headers = sign(user_event(oa, USER, msg_id="f1"), oa)
        tampered = raw.replace("Xin chào".encode(), "Chuyển tiền".encode())
        assert (await h.post(tampered, headers))[0] == 401
        no_header = {"Content-Type": "application/json"}
        assert (await h.post(raw, no_header))[0] == 401
        other_secret = dict(headers)
        other_secret["X-ZEvent-Signature"] = sign(
            user_event(oa, USER, msg_id="f1"), h.oas[1]
        )[1]["X-ZEvent-Signature"]
        assert (await h.post(raw, other_secret))[0] == 401
        old = str(int(time.time() * 1000) - 7 * 3600 * 1000)
        assert await h.send(user_event(oa, USER, msg_id="f2", timestamp=old)) == 401
        future = str(int(time.time() * 1000) + 3600 * 1000)
        assert await h.send(user_event(oa, USER, msg_id="f3", timestamp=future)) == 401
        await asyncio.sleep(0.3)
        assert h.rasa.messages == []
        assert zalo_store.inbox_counts() == {}
        # a forged copy must not poison dedupe: the genuine event still gets in
        assert (await h.post(raw, headers))[0] == 200
        await h.settle()
        assert [m.message_id for m in h.rasa.messages] == ["f1"]

    run(test)


def test_bad_requests_get_4xx(database_url: str) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]
        headers = {"X-ZEvent-Signature": "mac=00", "Content-Type": "application/json"}
        assert (await h.post(b"{not json", headers))[0] == 400
        assert (await h.post(b"[1,2]", headers))[0] == 400
        assert (await h.post(b"\xff\xfe\x00", headers))[0] == 400
        no_time = user_event(oa, USER)
        del no_time["timestamp"]
        assert (await h.post(json.dumps(no_time).encode(), headers))[0] == 400
        huge = user_event(oa, USER, text="a" * (1024 * 1024), msg_id="big")
        assert await h.send(huge) == 400
        unknown = user_event(oa, USER, msg_id="u1")
        unknown["recipient"]["id"] = "999"
        assert await h.send(unknown) == 404

    run(test)


def test_duplicates_and_replays_are_answered_once(database_url: str) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]
        raw, headers = sign(user_event(oa, USER, msg_id="d1"), oa)
        statuses = await asyncio.gather(*(h.post(raw, headers) for _ in range(5)))
        assert [s for s, _ in statuses] == [200] * 5
        await h.settle()
        assert (await h.post(raw, headers))[0] == 200  # replay after processing
        # the same msg_id again (Zalo's retry carries a new timestamp)
        assert await h.send(user_event(oa, USER, msg_id="d1")) == 200
        await h.settle()
        assert [m.message_id for m in h.rasa.messages] == ["d1"]
        assert len(h.fake.messages()) == 1

    run(test)


def test_each_users_order_is_kept_under_concurrency(database_url: str) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]
        users = [f"70000000000000000{n:02d}" for n in range(5)]

        # Zalo delivers one user's messages one after the other; users in parallel
        async def user_sends(user: str) -> None:
            for n in range(8):
                event = user_event(oa, user, text=f"tin {n}", msg_id=f"{user}-{n}")
                assert await h.send(event) == 200

        await asyncio.gather(*(user_sends(u) for u in users))
        await h.settle(20)
        for user in users:
            texts = [m.text for m in h.rasa.messages if m.sender_id.endswith(user)]
            assert texts == [f"tin {n}" for n in range(8)]

    run(test, delay=0.01)


def test_echoes_and_receipts_never_reach_rasa_officer_echo_pauses(
    database_url: str,
) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]
        assert await h.send(user_event(oa, USER, msg_id="e1")) == 200
        await h.settle()
        [ours] = h.fake.messages()
        # our own reply echoed back (its id is the one the fake gave us)
        our_id = "sent000001"
        assert await h.send(echo_event(oa, USER, our_id, "Dạ, em đã nhận")) == 200
        seen = {
            "app_id": oa.app_id,
            "event_name": "user_seen_message",
            "timestamp": now_ms(),
            "sender": {"id": oa.oa_id},
            "recipient": {"id": USER},
            "message": {"msg_ids": [our_id]},
        }
        assert await h.send(seen) == 200
        await h.settle()
        assert h.rasa.paused == []
        # an officer typed in Zalo's OA chat: not our id -> pause this user only
        assert await h.send(echo_event(oa, USER, "officer1", "Chào anh")) == 200
        await h.settle()
        assert h.rasa.paused == [f"{oa.oa_id}:{USER}"]
        assert [m.message_id for m in h.rasa.messages] == ["e1"]
        assert ours.json["recipient"]["user_id"] == USER

    import connectors.zalo.channel as channel_module

    original = channel_module.ECHO_GRACE_SECONDS
    channel_module.ECHO_GRACE_SECONDS = 0.2
    try:
        run(test)
    finally:
        channel_module.ECHO_GRACE_SECONDS = original


def test_multi_oa_routing(database_url: str) -> None:
    async def test(h: Harness) -> None:
        first, second = h.oas
        assert await h.send(user_event(first, USER, text="một", msg_id="x")) == 200
        # same user id and msg id under another OA: a different conversation
        assert (
            await h.send(user_event(second, USER, text="hai", msg_id="x"), second)
            == 200
        )
        await h.settle()
        by_unit = {m.metadata["unit"]: m for m in h.rasa.messages}
        assert by_unit[first.unit].sender_id == f"{first.oa_id}:{USER}"
        assert by_unit[second.unit].sender_id == f"{second.oa_id}:{USER}"
        tokens = {
            r.json["message"]["text"]: r.headers["access_token"]
            for r in h.fake.messages()
        }
        assert tokens["Dạ, em đã nhận: một"] == first.access_token
        assert tokens["Dạ, em đã nhận: hai"] == second.access_token
        # signed with the first OA's secret but addressed to the second: refused
        forged = user_event(second, USER, msg_id="y")
        assert (await h.post(*sign(forged, first)))[0] == 401

    run(test)


def test_media_location_follow_info_and_unfollow(database_url: str) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]
        image = user_event(
            oa,
            USER,
            "user_send_image",
            text=None,
            msg_id="i1",
            attachments=[
                {"type": "image", "payload": {"url": "https://x.invalid/a.jpg"}}
            ],
        )
        location = user_event(
            oa,
            USER,
            "user_send_location",
            text="Dĩ An",
            msg_id="l1",
            attachments=[
                {
                    "type": "location",
                    "payload": {
                        "coordinates": {"latitude": "10.9", "longitude": "106.77"}
                    },
                }
            ],
        )
        follow = {
            "app_id": oa.app_id,
            "event_name": "follow",
            "timestamp": now_ms(),
            "oa_id": oa.oa_id,
            "follower": {"id": USER},
            "source": "oa_profile",
        }
        info = user_event(oa, USER, "user_submit_info", text=None)
        info["info"] = {"name": "Nguyễn Văn A", "phone": "84912345678"}
        unfollow = dict(follow, event_name="unfollow", timestamp=str(int(now_ms()) + 1))
        for event in (image, location, follow, info, unfollow):
            assert await h.send(event) == 200
        await h.settle()
        texts = [m.text for m in h.rasa.messages]
        assert texts == [
            "[hình ảnh]",
            "[vị trí] Dĩ An",
            "/main_menu",
            "[thông tin liên hệ]",
        ]
        image_msg, location_msg, _, info_msg = h.rasa.messages
        assert image_msg.metadata["attachments"] == [
            {"type": "image", "url": "https://x.invalid/a.jpg"}
        ]
        assert location_msg.metadata["location"] == {
            "lat": 10.9,
            "long": 106.77,
            "address": "Dĩ An",
        }
        assert info_msg.metadata["user_info"] == {
            "name": "Nguyễn Văn A",
            "phone": "84912345678",
        }
        assert "Nguyễn" not in info_msg.text
        # unfollow: recorded, no reply
        assert len(h.fake.messages()) == 4
        assert zalo_store.inbox_counts() == {"done": 5}

    run(test)


def test_storage_failure_is_not_acknowledged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def test(h: Harness) -> None:
        oa = h.oas[0]

        def broken(*_: Any, **__: Any) -> None:
            raise RuntimeError("database down")

        raw, headers = sign(user_event(oa, USER, msg_id="s1"), oa)
        with monkeypatch.context() as patch:
            patch.setattr(zalo_store, "apply_batch", broken)
            status, _ = await h.post(raw, headers)
            assert status == 429  # Zalo retries; never a 5xx
        assert (await h.post(raw, headers))[0] == 200  # the retry is accepted
        await h.settle()
        assert [m.message_id for m in h.rasa.messages] == ["s1"]

    run(test)


def test_slow_rasa_does_not_slow_the_ack(database_url: str) -> None:
    async def test(h: Harness) -> None:
        started = time.perf_counter()
        assert await h.send(user_event(h.oas[0], USER, msg_id="slow")) == 200
        assert time.perf_counter() - started < 1.0
        await h.settle()
        assert len(h.rasa.messages) == 1

    run(test, delay=2.0)
