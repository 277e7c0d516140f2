"""Messages to citizens outside a Rasa turn (officer replies, reminders).

Each channel that can push registers a sender under its name; callers pick the
channel the conversation came from (``tracker.get_latest_input_channel()``).
Minimal registry as fixed in the team's interfaces (section 5); the citizen
services branch owns the full module.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict

Sender = Callable[[str, str, Dict[str, Any]], Awaitable[None]]

_senders: Dict[str, Sender] = {}


def register(channel: str, sender: Sender) -> None:
    """Make ``channel`` reachable (a later registration replaces an earlier one)."""
    _senders[channel] = sender


async def send(
    channel: str,
    sender_id: str,
    text: str,
    metadata: Dict[str, Any] | None = None,
) -> None:
    """Send ``text`` to ``sender_id`` through ``channel``; KeyError if unknown."""
    if channel not in _senders:
        raise KeyError(f"no outbound sender for channel {channel!r}")
    await _senders[channel](sender_id, text, metadata or {})
