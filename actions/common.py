"""Reply building shared by every action, and the unit a conversation is with."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from rasa_sdk import Tracker

from services import menu


def intent_buttons(intents: Iterable[str]) -> List[Dict[str, str]]:
    """Buttons that send an intent directly, titled for citizens."""
    return [
        {"title": menu.label(intent), "payload": f"/{intent}"} for intent in intents
    ]


def unit_code(tracker: Tracker) -> str | None:
    """The police unit this conversation is with: the ``unit`` slot, else
    ``metadata["unit"]`` of the latest user message (REST clients send it; the
    Zalo channel sets it from the OA), else None (interfaces.md §3)."""
    slot = tracker.get_slot("unit")
    if isinstance(slot, str) and slot.strip():
        return slot.strip().upper()
    metadata: Dict[str, Any] = tracker.latest_message.get("metadata") or {}
    unit = metadata.get("unit") if isinstance(metadata, dict) else None
    if isinstance(unit, str) and unit.strip():
        return unit.strip().upper()
    return None
