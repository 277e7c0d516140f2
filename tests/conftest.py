"""Shared fixtures: Rasa graph plumbing and trackers built from dicts."""

from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


@pytest.fixture
def model_storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def execution_context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


@pytest.fixture
def resource() -> Resource:
    return Resource("component")


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """A tracker whose latest user message is ``text`` parsed as ``intent``."""

    def make(
        text: str,
        intent: str,
        ranking: List[Dict[str, Any]] | None = None,
        slots: Dict[str, Any] | None = None,
        entities: List[Dict[str, Any]] | None = None,
    ) -> Tracker:
        return Tracker.from_dict(
            {
                "sender_id": "test-user",
                "slots": slots or {},
                "latest_message": {
                    "text": text,
                    "intent": {"name": intent, "confidence": 0.9},
                    "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
                    "entities": entities or [],
                },
                "events": [],
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            }
        )

    return make
