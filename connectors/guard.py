"""No message goes unanswered without the citizen being told.

When the action server dies in the middle of a turn (or an action fails),
Rasa logs the error and carries on: the turn ends with no bot message at all,
and a citizen whose booking was or was not made sees nothing. Every input
channel (REST, Zalo) hands its messages to Rasa through :func:`answered`,
which counts what the bot sent; if a message got no reply while the
conversation is not paused for an officer (the only deliberate silence), it
sends :data:`NO_REPLY_TEXT`, asking the citizen to send the message again.
Retrying is safe: the services are idempotent (a booking retried after a crash
is made exactly once, ``tests/test_server_booking_crash.py``).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import OutputChannel, UserMessage

logger = logging.getLogger(__name__)

NO_REPLY_TEXT = (
    "Dạ, xin lỗi anh/chị, hệ thống đang gặp trục trặc nên chưa xử lý xong tin "
    "nhắn vừa rồi (yêu cầu có thể chưa được ghi nhận). Anh/chị vui lòng gửi lại "
    "sau ít phút ạ. Nếu khẩn cấp, hãy gọi ngay 113 (công an), 114 (cứu hỏa, cứu "
    "nạn) hoặc 115 (cấp cứu)."
)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
IsPaused = Callable[[str], Awaitable[bool]]


class CountingOutput:
    """Stands in for an output channel and counts what is sent through it.

    Every attribute is the inner channel's (its ``name()`` picks the channel's
    responses, the REST collector keeps its ``messages``); each call of a
    ``send_*`` method (Rasa uses ``send_response``, our own code may call
    ``send_text_message`` and the like) counts once, however the inner channel
    implements it.
    """

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self.inner, attribute)
        if not attribute.startswith("send_") or not callable(value):
            return value

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.sent += 1
            return await value(*args, **kwargs)

        return counted


async def answered(
    on_new_message: OnNewMessage,
    message: UserMessage,
    is_paused: IsPaused,
    apologise_on_error: bool = False,
) -> bool:
    """Let Rasa handle ``message``; if the bot said nothing and the conversation
    is not paused, tell the citizen to send it again. Returns whether the
    apology was sent.

    An exception from Rasa is re-raised, for a channel that retries the message
    (Zalo's inbox). With ``apologise_on_error`` (a channel that will not retry
    it, such as REST) it is logged (without the message text: it may be a tip)
    and the citizen gets the apology instead.
    """
    output = message.output_channel
    counting = CountingOutput(output)
    message.output_channel = counting
    try:
        await on_new_message(message)
    except Exception:
        if not apologise_on_error:
            raise
        logger.exception("Rasa failed on a message of %s", message.sender_id)
        await _apologise(output, message, "an error")
        return True
    finally:
        message.output_channel = output
    if counting.sent:
        return False
    try:
        if await is_paused(message.sender_id):
            return False  # an officer holds the conversation: silence is right
    except Exception:  # the tracker store is down as well: still tell the citizen
        logger.exception("Could not read whether %s is paused", message.sender_id)
    await _apologise(output, message, "no reply")
    return True


async def _apologise(output: OutputChannel, message: UserMessage, why: str) -> None:
    logger.warning(
        "%s to a message of %s (action server down?): asked the citizen to resend",
        why.capitalize(),
        message.sender_id,
    )
    try:
        await output.send_response(message.sender_id, {"text": NO_REPLY_TEXT})
    except Exception:
        logger.exception("Could not send the resend request")


def tracker_is_paused(get_agent: Callable[[], Any | None]) -> IsPaused:
    """``is_paused`` reading the conversation from the agent's tracker store."""

    async def is_paused(sender_id: str) -> bool:
        agent = get_agent()
        if agent is None:
            return False
        tracker = await agent.tracker_store.retrieve(sender_id)
        return tracker is not None and tracker.is_paused()

    return is_paused
