"""What a citizen and the bot said in a conversation, read from the tracker store.

The console shows it to the officer who holds the conversation. Rasa's
``events`` table lives in the tracker database (``TRACKER_STORE_URL``, else
``DATABASE_URL``, else ``var/rasa_tracker.db``); its ``data`` column is sealed
by connectors.stores with the same keys, so it is opened here with
services.crypto (plain SQL: this module must not import Rasa).

A button the citizen pressed reaches Rasa as its payload
(``/inform{"procedure": ...}``, ``/main_menu``); the officer reads what the
citizen saw instead: the title of the button with that payload among those the
bot offered since the citizen's previous message, else a Vietnamese rendering
of the payload (the menu label of the intent and the names of its values),
never the raw payload.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services import content, crypto, db, knowledge, units
from services.booking import VIETNAM
from services.procedures import INTENT_BY_PROCEDURE

EVENT_CONTEXT = "rasa.events.data"  # as connectors.stores seals it
DEFAULT_SQLITE_PATH = db.PROJECT_ROOT / "var" / "rasa_tracker.db"
MAX_LINES = 200
PAYLOAD = re.compile(r"^/([A-Za-z0-9_]+)\s*(\{.*)?$", re.S)
# payload intents that are no intent of the menu (labels of knowledge/menu.yml)
EXTRA_LABELS = {"show_public_services": "Dịch vụ công", "inform": "Chọn thông tin"}


@dataclass(frozen=True)
class Said:
    at: dt.datetime  # Vietnam time, naive like every other time of services/
    who: str  # "citizen" | "bot"
    text: str
    buttons: Tuple[str, ...] = ()  # bot: titles of the buttons it offered
    pressed: bool = False  # citizen: a button press (text is what it showed)


def _label(intent: str) -> str:
    labels = content.load("menu").get("intent_labels") or {}
    return str(labels.get(intent) or EXTRA_LABELS.get(intent) or "một lựa chọn")


def _value_label(name: str, value: Any) -> str | None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    value = str(value)[:100]
    if name == "procedure":
        intent = INTENT_BY_PROCEDURE.get(value)
        return knowledge.procedure_title(value) or (_label(intent) if intent else value)
    if name == "info_type":
        return knowledge.INFO_PHRASES.get(value, value)
    if name == "location":
        unit = units.get_unit(value)
        return unit.name if unit else value
    return value


def payload_text(payload: str) -> str | None:
    """A button payload in Vietnamese ("Đăng ký tạm trú – lệ phí"), or None
    when the text is no payload."""
    found = PAYLOAD.match(payload.strip())
    if not found:
        return None
    entities: Dict[str, Any] = {}
    if found.group(2):
        try:
            parsed = json.loads(found.group(2))
        except ValueError:
            parsed = {}
        entities = parsed if isinstance(parsed, dict) else {}
    parts = [_value_label(k, v) for k, v in entities.items()]
    shown = [p for p in parts if p]
    label = _label(found.group(1))
    return f"{label} – {', '.join(shown)}" if shown else label


def tracker_url() -> str | None:
    url = os.environ.get("TRACKER_STORE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}" if DEFAULT_SQLITE_PATH.exists() else None


def conversation(
    sender_id: str, since: dt.datetime | None = None, url: str | None = None
) -> List[Said]:
    """The user and bot messages of ``sender_id`` (the last 200), oldest first.

    No tracker database or no events table yet: an empty list, not an error.
    """
    url = url or tracker_url()
    if url is None:
        return []
    query = text(
        "SELECT type_name, timestamp, data FROM events WHERE sender_id = :sender"
        " AND type_name IN ('user', 'bot') ORDER BY id DESC LIMIT :limit"
    )
    try:
        with db.engine(url).connect() as connection:
            rows = connection.execute(
                query, {"sender": sender_id, "limit": MAX_LINES}
            ).all()
    except SQLAlchemyError:
        return []
    result = []
    offered: Dict[str, str] = {}  # payload -> title, since the citizen last spoke
    for type_name, timestamp, data in reversed(rows):
        if data and crypto.is_token(data):
            data = crypto.decrypt(data, EVENT_CONTEXT)
        try:
            event = json.loads(data) if data else {}
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        said = event.get("text")
        at = dt.datetime.fromtimestamp(float(timestamp or 0), VIETNAM).replace(
            tzinfo=None
        )
        if type_name == "bot":
            buttons = _buttons(event)
            offered.update({p: t for t, p in buttons if p})
            line = Said(at, "bot", said or "", tuple(t for t, _ in buttons))
        else:
            line, offered = _citizen(at, said, offered), {}
        if not (line.text or line.buttons) or (since is not None and at < since):
            continue
        result.append(line)
    return result


def _buttons(event: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(title, payload) of the buttons of a bot event (newest offer wins)."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    found = []
    for button in (data or {}).get("buttons") or []:
        if isinstance(button, dict) and button.get("title"):
            found.append((str(button["title"]), str(button.get("payload") or "")))
    return found


def _citizen(at: dt.datetime, said: Any, offered: Dict[str, str]) -> Said:
    text = str(said or "")
    if text in offered:
        return Said(at, "citizen", offered[text], pressed=True)
    rendered = payload_text(text)
    if rendered is not None:
        return Said(at, "citizen", rendered, pressed=True)
    return Said(at, "citizen", text)
