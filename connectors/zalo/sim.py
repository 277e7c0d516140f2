"""``make zalo-sim``: chat with the running assistant as a Zalo citizen would.

    python -m connectors.zalo.sim [--assistant http://127.0.0.1:5005] [--port 5099]

It starts a fake Zalo OpenAPI in this process (tests/fakes/zalo_openapi.py),
writes an OA file pointing at it (``var/zalo_sim_oas.yml``, kept between runs),
and waits until the assistant serves the Zalo channel with that file. Start the
assistant with the three variables it prints, e.g.

    ZALO_OAS_FILE=var/zalo_sim_oas.yml ZALO_OPENAPI_BASE=http://127.0.0.1:5099 \\
    ZALO_OAUTH_BASE=http://127.0.0.1:5099 make run

Each line you type goes through the real webhook as a signed ``user_send_text``
event; what the assistant sent back to "Zalo" is printed: texts, buttons
(type their number to tap one), images and files. Commands: ``/image URL``,
``/file URL NAME``, ``/location LAT LONG``, ``/follow``, ``/info NAME PHONE``,
``/quit``. Anything else starting with ``/`` is sent as typed (an intent).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import aiohttp
import yaml

from connectors.zalo import signature
from connectors.zalo.client import dumps
from connectors.zalo.config import PROJECT_ROOT, OAConfig, dump_oas, parse_oas
from tests.fakes.zalo_openapi import FakeZalo, Recorded

OAS_FILE = PROJECT_ROOT / "var" / "zalo_sim_oas.yml"


def load_or_create_oa(path: Path, unit: str) -> OAConfig:
    """The simulator's OA (made up ids, fresh secrets on the first run)."""
    if path.is_file():
        return next(iter(parse_oas(yaml.safe_load(path.read_text("utf-8"))).values()))
    oa = OAConfig(
        oa_id="1000000000000000001",
        unit=unit,
        app_id="2000000000000000002",
        app_secret=secrets.token_hex(12),
        oa_secret_key=secrets.token_hex(12),
        access_token="sim-at-" + secrets.token_hex(8),
        refresh_token="sim-rt-" + secrets.token_hex(8),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_oas([oa]), encoding="utf-8")
    path.chmod(0o600)
    return oa


class Citizen:
    def __init__(self, oa: OAConfig, webhook: str, user_id: str) -> None:
        self.oa = oa
        self.webhook = webhook
        self.user_id = user_id
        self.buttons: List[Dict[str, Any]] = []
        self._count = 0

    def event(self, name: str, **fields: Any) -> Dict[str, Any]:
        self._count += 1
        body: Dict[str, Any] = {
            "app_id": self.oa.app_id,
            "user_id_by_app": "3" + self.user_id[1:],
            "event_name": name,
            "timestamp": str(int(time.time() * 1000)),
        }
        if name == "follow":
            body.update(oa_id=self.oa.oa_id, follower={"id": self.user_id})
        else:
            body.update(sender={"id": self.user_id}, recipient={"id": self.oa.oa_id})
        body.update(fields)
        return body

    def message(self, **content: Any) -> Dict[str, Any]:
        return {"msg_id": f"sim{int(time.time())}{self._count:04d}", **content}

    def parse(self, line: str) -> Dict[str, Any] | None:
        """The event a typed line stands for (None: nothing to send)."""
        words = line.split()
        if line.isdigit() and 0 < int(line) <= len(self.buttons):
            button = self.buttons[int(line) - 1]
            payload = button.get("payload")
            if isinstance(payload, str):
                return self.event("user_send_text", message=self.message(text=payload))
            print(f"   (this button opens {payload}; nothing is sent)")
            return None
        if words[0] == "/image" and len(words) > 1:
            attachment = {"type": "image", "payload": {"url": words[1]}}
            return self.event(
                "user_send_image", message=self.message(attachments=[attachment])
            )
        if words[0] == "/file" and len(words) > 1:
            name = words[2] if len(words) > 2 else words[1].rsplit("/", 1)[-1]
            attachment = {"type": "file", "payload": {"url": words[1], "name": name}}
            return self.event(
                "user_send_file", message=self.message(attachments=[attachment])
            )
        if words[0] == "/location" and len(words) == 3:
            coordinates = {"latitude": words[1], "longitude": words[2]}
            attachment = {"type": "location", "payload": {"coordinates": coordinates}}
            return self.event(
                "user_send_location", message=self.message(attachments=[attachment])
            )
        if words[0] == "/follow":
            return self.event("follow", source="oa_profile")
        if words[0] == "/info" and len(words) >= 3:
            info = {"name": " ".join(words[1:-1]), "phone": words[-1]}
            return self.event("user_submit_info", info=info)
        return self.event("user_send_text", message=self.message(text=line))

    async def send(self, session: aiohttp.ClientSession, event: Dict[str, Any]) -> int:
        raw = dumps(event)
        headers = {
            "Content-Type": "application/json",
            signature.HEADER: signature.header_value(
                self.oa.app_id, raw, event["timestamp"], self.oa.oa_secret_key
            ),
        }
        async with session.post(self.webhook, data=raw, headers=headers) as response:
            return response.status


def show(recorded: Recorded, citizen: Citizen) -> None:
    """Print one request the fake Zalo received, as the citizen would see it."""
    if recorded.path.startswith("/v2.0/oa/upload"):
        for name, content in recorded.files.items():
            print(f"   [upload] {name} ({len(content)} bytes)")
        return
    if recorded.path == "/v4/oa/access_token":
        print("   [token refreshed]")
        return
    if recorded.path != "/v3.0/oa/message/cs" or not isinstance(recorded.json, dict):
        return
    message = recorded.json.get("message") or {}
    if message.get("text"):
        print("🤖 " + str(message["text"]).replace("\n", "\n   "))
    attachment = message.get("attachment") or {}
    payload = attachment.get("payload") or {}
    if attachment.get("type") == "file":
        print(f"   [file] token {payload.get('token')}")
    for element in payload.get("elements") or []:
        print(f"   [{element.get('media_type', 'element')}] {element.get('url', '')}")
    buttons = payload.get("buttons") or []
    if buttons:
        citizen.buttons = list(buttons)
        for number, button in enumerate(buttons, start=1):
            print(f"   [{number}] {button.get('title')}  → {button.get('payload')}")


async def wait_for_assistant(base: str, fake: FakeZalo, oas_file: Path) -> None:
    url = base.rstrip("/") + "/webhooks/zalo/"
    told = False
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        body = await response.json(content_type=None)
                        if body.get("status") == "ok":
                            return
            except aiohttp.ClientError:
                pass
            if not told:
                print(
                    "Waiting for the assistant's Zalo channel at "
                    f"{url}.\nStart it with:\n\n"
                    f"  ZALO_OAS_FILE={oas_file} ZALO_OPENAPI_BASE={fake.base} "
                    f"ZALO_OAUTH_BASE={fake.base} make run\n"
                )
                told = True
            await asyncio.sleep(1)


async def read_line(prompt: str) -> str | None:
    print(prompt, end="", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    return line.rstrip("\n") if line else None


async def chat(args: argparse.Namespace) -> None:
    oas_file = Path(args.oas_file)
    oa = load_or_create_oa(oas_file, args.unit)
    fake = FakeZalo({oa.app_id: oa.app_secret})
    fake.valid_access.add(oa.access_token)
    fake.valid_refresh.add(oa.refresh_token)
    fake.port = args.port
    await start_on_port(fake, args.port)
    await wait_for_assistant(args.assistant, fake, oas_file)
    webhook = args.assistant.rstrip("/") + "/webhooks/zalo/webhook"
    citizen = Citizen(oa, webhook, args.user)
    print(f"Connected: OA {oa.oa_id} (unit {oa.unit}). /quit ends.\n")
    async with aiohttp.ClientSession() as session:
        while True:
            line = await read_line("👤 ")
            if line is None or line.strip() == "/quit":
                break
            if not line.strip():
                continue
            event = citizen.parse(line.strip())
            if event is None:
                continue
            seen = len(fake.requests)
            status = await citizen.send(session, event)
            if status != 200:
                print(f"   (webhook answered {status})")
                continue
            await drain(fake, seen, citizen, args.wait)
    await fake.stop()


async def drain(fake: FakeZalo, seen: int, citizen: Citizen, wait: float) -> None:
    """Print what Zalo receives until it has been quiet for a moment."""
    deadline = time.monotonic() + wait
    last = None
    while time.monotonic() < deadline:
        if len(fake.requests) > seen:
            for recorded in fake.requests[seen:]:
                show(recorded, citizen)
            seen = len(fake.requests)
            last = time.monotonic()
        elif last is not None and time.monotonic() - last > 1.5:
            return
        await asyncio.sleep(0.1)
    if last is None:
        print("   (no answer yet)")


async def start_on_port(fake: FakeZalo, port: int) -> None:
    from aiohttp import web

    fake._runner = web.AppRunner(fake.app(), access_log=None)
    await fake._runner.setup()
    await web.TCPSite(fake._runner, "127.0.0.1", port).start()


def main() -> None:
    parser = argparse.ArgumentParser(description="Chat as a Zalo citizen.")
    parser.add_argument("--assistant", default="http://127.0.0.1:5005")
    parser.add_argument("--port", type=int, default=5099, help="fake Zalo's port")
    parser.add_argument("--oas-file", default=str(OAS_FILE))
    parser.add_argument("--unit", default="XA-DIAN", help="unit code of the OA")
    parser.add_argument("--user", default="4000000000000000004", help="Zalo user id")
    parser.add_argument("--wait", type=float, default=30.0, help="reply timeout (s)")
    asyncio.run(chat(parser.parse_args()))


if __name__ == "__main__":
    main()
