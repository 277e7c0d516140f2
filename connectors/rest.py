"""The REST channel (tests, web chat), hardened against bad input.

Rasa's RestInput answers 500 when the body is JSON but not an object, passes a
missing message on as None, and lets NUL bytes through to the tracker store
(PostgreSQL rejects them). This channel keeps Rasa's URL
(/webhooks/rest/webhook) and behaviour, and answers 400 with a reason for
anything it cannot accept. Message text is NFC-normalised and control
characters become spaces; nothing else of what the citizen typed is changed.

REST cannot push, so an officer's reply to a REST conversation (services.outbound)
waits in the database; the next response to that sender carries it, before the
bot's own messages (each marked ``"custom": {"from_officer": true}``).

The REST channel is always on, so it also runs, in the Rasa server, the loop that
delivers officers' replies for push channels whose sender is registered in this
process (Zalo) but were written from another process (the officer console):
``services.outbound.delivery_loop`` every ``OUTBOUND_INTERVAL`` seconds (3).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import answered, tracker_is_paused
from services import outbound
from vietnamese.text import sanitize

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 20_000
MAX_SENDER_CHARS = 128
UNIT_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except InvalidUsage:
        raise
    except Exception as error:  # undecodable bytes and the like
        raise InvalidUsage("the body is not valid JSON") from error
    if not isinstance(body, dict):
        raise InvalidUsage("the body must be a JSON object")
    return body


class RestInput(RasaRestInput):
    """Rasa's REST channel with input validation (name and URL unchanged)."""

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise InvalidUsage("'sender' must be a non-empty string")
        if len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"'sender' is longer than {MAX_SENDER_CHARS} characters")
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string")
        if len(message) > MAX_MESSAGE_CHARS:
            raise InvalidUsage(
                f"'message' is longer than {MAX_MESSAGE_CHARS} characters"
            )
        return sanitize(message)

    def _extract_input_channel(self, req: Request) -> str:
        # a client must not pass itself off as another channel (e.g. Zalo)
        return self.name()

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        if metadata is None:
            return None
        if not isinstance(metadata, dict):
            raise InvalidUsage("'metadata' must be a JSON object")
        unit = metadata.get("unit")
        if unit is not None and (
            not isinstance(unit, str) or not UNIT_CODE.match(unit)
        ):
            raise InvalidUsage("'metadata.unit' must be a unit code")
        return metadata

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's REST blueprint, plus officers' waiting replies in each answer,
        and a request to resend when the bot could not answer (connectors.guard)."""
        served: Dict[str, Any] = {}

        def agent() -> Any:
            app = served.get("app")
            return getattr(app.ctx, "agent", None) if app is not None else None

        is_paused = tracker_is_paused(agent)

        async def handle(message: UserMessage) -> None:
            await answered(on_new_message, message, is_paused, apologise_on_error=True)

        blueprint = super().blueprint(handle)

        # a plain function: Sanic's blueprint takes a bound method for a decorator
        async def with_officer_messages(
            request: Request, response: HTTPResponse
        ) -> HTTPResponse | None:
            return await self._with_officer_messages(request, response)

        blueprint.middleware(with_officer_messages, attach_to="response")

        async def start_delivery(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            served["app"] = app
            interval = float(os.environ.get("OUTBOUND_INTERVAL", "3"))
            app.ctx.outbound_delivery = loop.create_task(
                outbound.delivery_loop(interval)
            )

        async def stop_delivery(app: Any, loop: asyncio.AbstractEventLoop) -> None:
            task = getattr(app.ctx, "outbound_delivery", None)
            if task is not None:
                task.cancel()

        blueprint.listener(start_delivery, "after_server_start")
        blueprint.listener(stop_delivery, "before_server_stop")
        return blueprint

    async def _with_officer_messages(
        self, request: Request, response: HTTPResponse
    ) -> HTTPResponse | None:
        if (
            request.method != "POST"
            or not request.path.endswith("/webhook")
            or not isinstance(response, HTTPResponse)
            or response.status != 200
            or not (response.content_type or "").startswith("application/json")
        ):
            return None
        try:
            sender = _body(request).get("sender")
            waiting = outbound.take_pending(self.name(), sender) if sender else []
        except Exception:  # never lose the bot's answer over the officers' outbox
            logger.exception("Could not read waiting officer messages")
            return None
        if not waiting:
            return None
        messages = json.loads(response.body or b"[]")
        return HTTPResponse(
            json.dumps(waiting + messages, ensure_ascii=False),
            status=200,
            content_type="application/json",
        )
