"""connectors.guard: a message the bot did not answer gets a request to resend,
unless an officer holds the conversation. (The real case, the action server
killed during a booking, is tests/test_server_booking_crash.py.)"""

from __future__ import annotations

import asyncio
from typing import Any, List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from connectors.guard import NO_REPLY_TEXT, answered


class Outbox(CollectingOutputChannel):
    @classmethod
    def name(cls) -> str:
        return "zalo"  # not the collector's own name: the proxy must pass it on


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def message(text: str = "cho em đặt lịch") -> UserMessage:
    return UserMessage(text, Outbox(), "citizen-1", input_channel="zalo")


def paused(value: bool):
    async def is_paused(sender_id: str) -> bool:
        assert sender_id == "citizen-1"
        return value

    return is_paused


def texts(m: UserMessage) -> List[str]:
    return [r.get("text") for r in m.output_channel.messages]


def test_a_reply_passes_through_untouched() -> None:
    seen = []

    async def rasa(m: UserMessage) -> None:
        seen.append(m.output_channel.name())
        await m.output_channel.send_response(m.sender_id, {"text": "Dạ, chào bạn"})

    m = message()
    assert run(answered(rasa, m, paused(False))) is False
    assert texts(m) == ["Dạ, chào bạn"]
    assert seen == ["zalo"]  # responses per channel still pick the right variant
    assert isinstance(m.output_channel, Outbox)  # the channel's own again


def test_silence_gets_the_request_to_resend() -> None:
    async def rasa(m: UserMessage) -> None:
        return None  # the action server died: Rasa logged it and sent nothing

    m = message()
    assert run(answered(rasa, m, paused(False))) is True
    assert texts(m) == [NO_REPLY_TEXT]
    assert NO_REPLY_TEXT.startswith("Dạ") and "gửi lại" in NO_REPLY_TEXT
    assert "113" in NO_REPLY_TEXT  # an emergency must not wait for a retry


def test_silence_while_an_officer_holds_the_conversation_stays_silent() -> None:
    async def rasa(m: UserMessage) -> None:
        return None

    m = message()
    assert run(answered(rasa, m, paused(True))) is False
    assert texts(m) == []


def test_an_unreadable_tracker_still_gets_the_request() -> None:
    async def rasa(m: UserMessage) -> None:
        return None

    async def broken(sender_id: str) -> bool:
        raise ConnectionError("tracker store down")

    m = message()
    assert run(answered(rasa, m, broken)) is True
    assert texts(m) == [NO_REPLY_TEXT]


def test_an_error_is_raised_again_for_a_channel_that_retries() -> None:
    async def rasa(m: UserMessage) -> None:
        raise RuntimeError("boom")

    m = message()
    with pytest.raises(RuntimeError):
        run(answered(rasa, m, paused(False)))
    assert texts(m) == []  # the inbox retries; no apology before the real answer


def test_an_error_on_rest_is_answered_and_its_text_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def rasa(m: UserMessage) -> None:
        await m.output_channel.send_response(m.sender_id, {"text": "Dạ, vâng"})
        raise RuntimeError("boom")

    m = message("nhà hàng xóm tàng trữ ma túy")
    with caplog.at_level("WARNING"):
        assert run(answered(rasa, m, paused(False), apologise_on_error=True))
    assert texts(m) == ["Dạ, vâng", NO_REPLY_TEXT]
    assert "ma túy" not in caplog.text
    assert "citizen-1" in caplog.text


def test_a_direct_send_counts_as_a_reply() -> None:
    async def rasa(m: UserMessage) -> None:
        await m.output_channel.send_text_message(m.sender_id, "Dạ, cán bộ đây")

    m = message()
    assert run(answered(rasa, m, paused(False))) is False
    assert texts(m) == ["Dạ, cán bộ đây"]
