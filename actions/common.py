"""Reply building shared by every action."""

from __future__ import annotations

from typing import Dict, Iterable, List

from services import menu


def intent_buttons(intents: Iterable[str]) -> List[Dict[str, str]]:
    """Buttons that send an intent directly, titled for citizens."""
    return [
        {"title": menu.label(intent), "payload": f"/{intent}"} for intent in intents
    ]
