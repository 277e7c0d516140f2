"""Trackers and domain for form-validation tests (Tracker.from_dict fixtures)."""

from __future__ import annotations

import asyncio
import functools
import sys
import types
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 29, 10, 0)  # a Sunday


@functools.cache
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def form_tracker(
    text: str,
    intent: str = "nlu_fallback",
    *,
    form: str | None = None,
    requested: str | None = None,
    slots: Dict[str, Any] | None = None,
    new_slots: Dict[str, Any] | None = None,
    confidence: float = 0.9,
    entities: List[Dict[str, Any]] | None = None,
    metadata: Dict[str, Any] | None = None,
) -> Tracker:
    """A tracker as a form's validation action sees it: the latest user message,
    then the slots extracted from it (``new_slots``) as the last events."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
        "metadata": metadata or {},
    }
    all_slots = {"requested_slot": requested, **(slots or {}), **(new_slots or {})}
    events: List[Dict[str, Any]] = [
        {
            "event": "user",
            "text": text,
            "parse_data": latest,
            "metadata": metadata,
            "input_channel": "rest",
        }
    ]
    events += [
        {"event": "slot", "name": name, "value": value}
        for name, value in (new_slots or {}).items()
    ]
    return Tracker.from_dict(
        {
            "sender_id": "citizen-1",
            "slots": all_slots,
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": form} if form else {},
            "latest_action_name": "action_listen",
            "latest_input_channel": "rest",
        }
    )


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The slots an action set, by name (the last value wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("text") or m.get("response") or "" for m in messages]


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The fake citizen services (tests/fake_services.py) in place of the real
    ones for one test, with today frozen at Sunday 29/11/2026 10:00."""
    import services
    from actions import booking, common
    from tests import fake_services

    fake_services.reset()
    for name, module in fake_services.modules().items():
        monkeypatch.setitem(sys.modules, name, module)
        monkeypatch.setattr(services, name.split(".")[1], module, raising=False)
    # actions/common.py binds the unit look-ups at import
    monkeypatch.setattr(common, "get_unit", fake_services.get_unit)
    monkeypatch.setattr(common, "resolve_location", fake_services.resolve_location)
    monkeypatch.setattr(booking, "_today", lambda: NOW.date())
    monkeypatch.setattr(booking, "_now", lambda: NOW)
    yield fake_services


def run(action: Any, tracker: Tracker) -> Tuple[List[Dict[str, Any]], Any]:
    """Runs an action (a validation action is async) on a fresh dispatcher."""
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, domain())
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, dispatcher
