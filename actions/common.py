"""Reply building and tracker reading shared by every action."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from services import menu
from services.units import UnitInfo, get_unit, resolve_location
from vietnamese.text import fold

# The slot that remembers which action asked "which commune/ward?".
AWAITING_LOCATION = "awaiting_location"
# A reply to "which commune/ward?" is short; longer messages are new questions.
MAX_LOCATION_REPLY_WORDS = 7

Responder = Callable[[CollectingDispatcher, Tracker], List[Dict[str, Any]]]
# action name -> its answer, for replies to "which commune/ward?" that NLU read
# as another intent (or as nothing): registered by actions/contact.py, news.py
LOCATION_ANSWERS: Dict[str, Responder] = {}


def intent_buttons(intents: Iterable[str]) -> List[Dict[str, str]]:
    """Buttons that send an intent directly, titled for citizens."""
    return [
        {"title": menu.label(intent), "payload": f"/{intent}"} for intent in intents
    ]


def payload(intent: str, **entities: str) -> str:
    """A button payload: the intent and entities as Rasa parses them."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}"


def latest_entity(tracker: Tracker, name: str) -> str | None:
    """The value of entity ``name`` in the latest user message (not the slot)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in (None, ""):
            return str(entity["value"])
    return None


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def unit_code(tracker: Tracker) -> str | None:
    """The citizen's unit: the ``unit`` slot, else ``metadata["unit"]`` of the
    latest user message (REST metadata, or set by the Zalo channel from the
    OA), else None."""
    slot = tracker.get_slot("unit")
    if isinstance(slot, str) and slot.strip():
        return slot.strip().upper()
    metadata = tracker.latest_message.get("metadata") or {}
    if not metadata:
        for event in reversed(tracker.events or []):
            if event.get("event") == "user":
                metadata = event.get("metadata") or {}
                break
    code = metadata.get("unit") if isinstance(metadata, dict) else None
    return str(code).strip().upper() if code else None


def _short(text: str) -> bool:
    """Short enough to be a commune/ward name, or written as an address."""
    words = len(fold(text).split())
    return 0 < words <= MAX_LOCATION_REPLY_WORDS or ("," in text and words <= 25)


def is_location_reply(tracker: Tracker, action: str) -> bool:
    """The latest message answers this action's "which commune/ward?"."""
    return tracker.get_slot(AWAITING_LOCATION) == action and (
        latest_entity(tracker, "location") is not None or _short(latest_text(tracker))
    )


def find_unit(
    tracker: Tracker,
    dispatcher: CollectingDispatcher,
    action: str,
    intent: str,
) -> Tuple[UnitInfo | None, List[Dict[str, Any]]]:
    """The unit a unit-specific answer is about, or a question asking for it.

    A commune/ward named in the message wins; then the known unit (slot or
    channel metadata); then, right after we asked, the whole reply read as a
    commune/ward name. When nothing is known, ask (and remember who asked);
    when the name fits several units, offer them as buttons.
    """
    named = latest_entity(tracker, "location")
    if named is None and tracker.get_slot(AWAITING_LOCATION) == action:
        text = latest_text(tracker)
        if _short(text) and not text.startswith("/"):
            named = text
    if named is None:
        unit = get_unit(unit_code(tracker))
        if unit is not None:
            stale = tracker.get_slot(AWAITING_LOCATION) is not None
            return unit, [SlotSet(AWAITING_LOCATION, None)] if stale else []
        dispatcher.utter_message(
            text="Dạ, anh/chị cho em biết mình ở xã/phường nào để em trả lời đúng "
            "đơn vị ạ? (ví dụ: phường Xuân Hương - Đà Lạt)"
        )
        return None, [SlotSet(AWAITING_LOCATION, action)]
    candidates = resolve_location(named)
    if len(candidates) == 1:
        unit = candidates[0]
        return unit, [SlotSet("unit", unit.code), SlotSet(AWAITING_LOCATION, None)]
    if not candidates:
        dispatcher.utter_message(
            text="Dạ, em chưa tìm thấy xã/phường này trong danh sách đơn vị. "
            "Anh/chị nhập lại tên xã/phường giúp em (có dấu hoặc không dấu đều "
            "được) ạ."
        )
        return None, [SlotSet(AWAITING_LOCATION, action)]
    dispatcher.utter_message(
        text="Dạ, tên này ứng với nhiều đơn vị (một số là tên cũ trước khi sáp "
        "nhập). Anh/chị chọn đúng đơn vị giúp em ạ:",
        buttons=[
            {"title": unit.name, "payload": payload(intent, location=unit.code)}
            for unit in candidates[:6]
        ],
    )
    return None, [SlotSet(AWAITING_LOCATION, action)]


def send(
    dispatcher: CollectingDispatcher,
    messages: List[str],
    buttons: List[Dict[str, str]] | None = None,
) -> None:
    """Send the messages in order; buttons go with the last one."""
    for index, message in enumerate(messages):
        last = index == len(messages) - 1
        if last and buttons:
            dispatcher.utter_message(text=message, buttons=buttons)
        else:
            dispatcher.utter_message(text=message)


def answer_pending_location(
    dispatcher: CollectingDispatcher, tracker: Tracker, current: str | None
) -> List[Dict[str, Any]] | None:
    """If the message replies to another action's "which commune/ward?", give
    that action's answer (and return its events); else None."""
    pending = tracker.get_slot(AWAITING_LOCATION)
    if not pending or pending == current or pending not in LOCATION_ANSWERS:
        return None
    if not is_location_reply(tracker, pending):
        return None
    named = latest_entity(tracker, "location") or latest_text(tracker)
    if not resolve_location(named):
        return None
    return LOCATION_ANSWERS[pending](dispatcher, tracker)
