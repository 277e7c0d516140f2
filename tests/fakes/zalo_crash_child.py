"""A Zalo channel process for the crash test: ``python -m tests.fakes.zalo_crash_child
PORT RECORD_DB DELAY``.

It serves the real webhook and inbox worker (DATABASE_URL, ZALO_OAS_FILE from
the environment); its "Rasa" writes every message it handles to RECORD_DB (a
plain SQLite file, committed per message) and reads it back to tell what was
already handled, like Rasa's tracker store. The test kills it with SIGKILL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys

from rasa.core.channels.channel import UserMessage

from connectors.zalo.channel import ZaloInput
from connectors.zalo.config import load_registry
from tests.fakes.sanic_server import new_app, serve


class RecordingRasa:
    def __init__(self, path: str, delay: float) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS handled "
            "(n INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT, message_id TEXT)"
        )
        self.delay = delay

    async def on_new_message(self, message: UserMessage) -> None:
        await asyncio.sleep(self.delay)  # NLU and actions take time
        self.db.execute(
            "INSERT INTO handled (sender, message_id) VALUES (?, ?)",
            (message.sender_id, message.message_id),
        )

    async def ready(self) -> None:
        return None

    async def already_handled(self, sender_id: str, message_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM handled WHERE sender = ? AND message_id = ?",
            (sender_id, message_id),
        ).fetchone()
        return row is not None

    async def pause(self, sender_id: str) -> None:
        return None

    async def is_paused(self, sender_id: str) -> bool:
        return False


async def main(port: int, record: str, delay: float) -> None:
    rasa = RecordingRasa(record, delay)
    channel = ZaloInput(registry=load_registry(), control_factory=lambda _app: rasa)
    app = new_app("crash")
    app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/zalo")
    import tests.fakes.sanic_server as server

    server.free_port = lambda: port  # serve on the port the test chose
    async with serve(app):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
