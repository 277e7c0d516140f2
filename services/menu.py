"""Menus and suggestions: what to offer a citizen as buttons."""

from __future__ import annotations

from typing import Iterable, List, Tuple

from services import content

# Below this confidence an intent is not worth suggesting.
MIN_SUGGESTION_CONFIDENCE = 0.05


def label(intent: str) -> str:
    labels = content.load("menu")["intent_labels"]
    return str(labels.get(intent, intent))


def text(key: str) -> str:
    return str(content.load("menu")[key])


def suggestions(ranking: Iterable[Tuple[str, float]], limit: int = 3) -> List[str]:
    """The 2-3 likeliest intents worth asking "did you mean...?" about."""
    menu = content.load("menu")
    excluded = set(menu["not_suggested"]) | {"nlu_fallback"}
    known = set(menu["intent_labels"])
    picked = [
        intent
        for intent, confidence in sorted(ranking, key=lambda item: -item[1])
        if intent in known
        and intent not in excluded
        and confidence >= MIN_SUGGESTION_CONFIDENCE
    ]
    return picked[:limit]


def public_services() -> List[str]:
    return list(content.load("menu")["public_services"])
