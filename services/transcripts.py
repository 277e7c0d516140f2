"""What a citizen and the bot said in a conversation, read from the tracker store.

The console shows it to the officer who holds the conversation. Rasa's
``events`` table lives in the tracker database (``TRACKER_STORE_URL``, else
``DATABASE_URL``, else ``var/rasa_tracker.db``); its ``data`` column is sealed
by connectors.stores with the same keys, so it is opened here with
services.crypto (plain SQL: this module must not import Rasa).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import List

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services import crypto, db
from services.booking import VIETNAM

EVENT_CONTEXT = "rasa.events.data"  # as connectors.stores seals it
DEFAULT_SQLITE_PATH = db.PROJECT_ROOT / "var" / "rasa_tracker.db"
MAX_LINES = 200


@dataclass(frozen=True)
class Said:
    at: dt.datetime  # Vietnam time, naive like every other time of services/
    who: str  # "citizen" | "bot"
    text: str


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
    for type_name, timestamp, data in reversed(rows):
        if data and crypto.is_token(data):
            data = crypto.decrypt(data, EVENT_CONTEXT)
        try:
            said = (json.loads(data) if data else {}).get("text")
        except ValueError:
            continue
        at = dt.datetime.fromtimestamp(float(timestamp or 0), VIETNAM).replace(
            tzinfo=None
        )
        if not said or (since is not None and at < since):
            continue
        result.append(Said(at, "citizen" if type_name == "user" else "bot", said))
    return result
