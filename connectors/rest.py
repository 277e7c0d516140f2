"""The REST channel (tests, web chat), hardened against bad input.

Rasa's RestInput answers 500 when the body is JSON but not an object, passes a
missing message on as None, and lets NUL bytes through to the tracker store
(PostgreSQL rejects them). This channel keeps Rasa's URL
(/webhooks/rest/webhook) and behaviour, and answers 400 with a reason for
anything it cannot accept. Message text is NFC-normalised and control
characters become spaces; nothing else of what the citizen typed is changed.
"""

from __future__ import annotations

import re
from typing import Any, Dict

from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from vietnamese.text import sanitize

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
