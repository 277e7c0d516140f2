"""A small client of Rasa's HTTP API, for pausing and resuming a conversation.

Rasa's own mechanism stops the bot for one conversation: a ``pause`` event
(ConversationPaused) makes Rasa log the citizen's messages without answering, a
``resume`` event (ConversationResumed) lets it answer again. Server:
``RASA_URL`` (default http://127.0.0.1:5005); token: ``RASA_API_TOKEN`` or the
file var/api_token that ``make run`` generates.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import quote

import aiohttp

from services.errors import HandoffError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN_FILE = PROJECT_ROOT / "var" / "api_token"
DEFAULT_URL = "http://127.0.0.1:5005"


class RasaUnavailable(HandoffError):
    """Rasa did not take the events (down, wrong token, error)."""


def api_token() -> str | None:
    token = os.environ.get("RASA_API_TOKEN")
    if token:
        return token
    try:
        return TOKEN_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class RasaApi:
    """Appends events to a conversation through Rasa's HTTP API."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.url = (url or os.environ.get("RASA_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else api_token()
        self.timeout = timeout

    async def append_events(
        self, conversation_id: str, events: List[Dict[str, Any]]
    ) -> None:
        """POST the events; :class:`HandoffError` if Rasa does not take them."""
        path = f"/conversations/{quote(conversation_id, safe='')}/tracker/events"
        params = {"token": self.token} if self.token else {}
        try:
            async with (
                aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=self.timeout)
                ) as session,
                session.post(self.url + path, params=params, json=events) as reply,
            ):
                if reply.status >= 300:
                    raise RasaUnavailable(f"Rasa answered {reply.status} to {path}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaUnavailable(
                f"Rasa API unreachable: {type(error).__name__}"
            ) from error

    async def pause(self, conversation_id: str) -> None:
        await self.append_events(
            conversation_id, [{"event": "pause", "timestamp": time.time()}]
        )

    async def resume(self, conversation_id: str) -> None:
        await self.append_events(
            conversation_id, [{"event": "resume", "timestamp": time.time()}]
        )
