"""The Zalo channel in the assistant as `make run` starts it (real model, real
actions), Zalo faked: replies arrive, duplicates are answered once, an officer's
echo pauses the bot, and a Rasa server killed with SIGKILL after acknowledging
answers every accepted message exactly once after its restart.

Marked `model`: runs after training (`make test` runs it with `pytest -m model`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests

from connectors.zalo.config import OAConfig, dump_oas
from tests.fakes.sanic_server import free_port
from tests.fakes.zalo_harness import echo_event, make_oas, sign, user_event
from tests.fakes.zalo_openapi import FakeZalo

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(os.environ.get("ZALO_TEST_MODEL") or ROOT / "models" / "current.tar.gz")
RASA = str(Path(sys.executable).with_name("rasa"))


class Assistant:
    """Action server + Rasa server with the Zalo channel, restartable."""

    def __init__(self, tmp: Path, fake: FakeZalo, oa: OAConfig) -> None:
        self.tmp = tmp
        self.port = free_port()
        actions_port = free_port()
        self.endpoints = tmp / "endpoints.yml"
        self.endpoints.write_text(
            (ROOT / "endpoints.yml")
            .read_text(encoding="utf-8")
            .replace("127.0.0.1:5055", f"127.0.0.1:{actions_port}")
        )
        (tmp / "oas.yml").write_text(dump_oas([oa]), encoding="utf-8")
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{tmp / 'app.db'}",
            "TRACKER_STORE_URL": f"sqlite:///{tmp / 'tracker.db'}",
            "ZALO_OAS_FILE": str(tmp / "oas.yml"),
            "ZALO_OPENAPI_BASE": fake.base,
            "ZALO_OAUTH_BASE": fake.base,
            "ZALO_ECHO_GRACE_SECONDS": "1",
        }
        self.env.pop("REDIS_URL", None)
        subprocess.run(
            [sys.executable, "-m", "services.db"], cwd=ROOT, env=self.env, check=True
        )
        self.actions = subprocess.Popen(
            [RASA, "run", "actions", "--port", str(actions_port)],
            cwd=ROOT,
            env=self.env,
            stdout=(tmp / "actions.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: up(f"http://127.0.0.1:{actions_port}/health"), 240)
        self.rasa: subprocess.Popen | None = None
        self.webhook = f"http://127.0.0.1:{self.port}/webhooks/zalo/webhook"

    def start(self, **env: str) -> None:
        self.rasa = subprocess.Popen(
            [RASA, "run", "--model", str(MODEL), "--port", str(self.port)]
            + ["--credentials", "credentials.yml", "--endpoints", str(self.endpoints)],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=(self.tmp / "rasa.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        channel = f"http://127.0.0.1:{self.port}/webhooks/zalo/"
        wait_until(lambda: up(channel), 240, self.rasa)

    def kill(self) -> None:
        assert self.rasa is not None
        self.rasa.send_signal(signal.SIGKILL)
        self.rasa.wait(30)

    def stop(self) -> None:
        for process in (self.rasa, self.actions):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(30)


def up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def wait_until(check: Callable[[], bool], seconds: float, process: Any = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        if check():
            return
        time.sleep(0.3)
    raise AssertionError("not reached in time")


@pytest.fixture(scope="module")
def zalo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` first")
    fake = FakeZalo().start_in_thread()
    [oa] = make_oas(fake, 1)
    assistant = Assistant(tmp_path_factory.mktemp("zalo"), fake, oa)
    try:
        assistant.start()
        yield {"fake": fake, "oa": oa, "assistant": assistant}
    finally:
        assistant.stop()


def post(zalo: Dict[str, Any], event: Dict[str, Any]) -> int:
    raw, headers = sign(event, zalo["oa"])
    return requests.post(
        zalo["assistant"].webhook, data=raw, headers=headers, timeout=10
    ).status_code


def texts_to(zalo: Dict[str, Any], user: str) -> List[str]:
    return [
        r.json["message"].get("text", "")
        for r in list(zalo["fake"].messages())
        if r.json["recipient"]["user_id"] == user
    ]


def test_emergency_over_zalo_is_answered_once(zalo: Dict[str, Any]) -> None:
    user = "5100000000000000001"
    event = user_event(
        zalo["oa"], user, text="nhà hàng xóm cháy to lắm rồi", msg_id="z1"
    )
    assert post(zalo, event) == 200
    assert post(zalo, event) == 200  # Zalo's retry
    wait_until(lambda: bool(texts_to(zalo, user)), 60)
    time.sleep(3)
    replies = texts_to(zalo, user)
    assert replies[0].startswith("☎️ GỌI NGAY 114")
    assert len([t for t in replies if t.startswith("☎️")]) == 1


def test_officer_echo_pauses_the_bot(zalo: Dict[str, Any]) -> None:
    user = "5100000000000000002"
    oa = zalo["oa"]
    assert post(zalo, user_event(oa, user, text="xin chào", msg_id="p1")) == 200
    wait_until(lambda: bool(texts_to(zalo, user)), 60)
    assert post(zalo, echo_event(oa, user, "typed-in-zalo", "Chào anh")) == 200
    time.sleep(4)
    before = len(texts_to(zalo, user))
    assert post(zalo, user_event(oa, user, text="xin chào", msg_id="p2")) == 200
    time.sleep(6)
    assert len(texts_to(zalo, user)) == before


def test_kill_9_after_ack_then_every_message_answered_once(
    zalo: Dict[str, Any],
) -> None:
    assistant: Assistant = zalo["assistant"]
    oa = zalo["oa"]
    users = [f"52000000000000000{n:02d}" for n in range(4)]
    assistant.kill()
    # a server that only acknowledges (its worker off), killed before processing
    assistant.start(ZALO_INBOX_WORKER="0")
    for n, user in enumerate(users):
        event = user_event(oa, user, text="nhà tôi bị cháy", msg_id=f"k{n}")
        assert post(zalo, event) == 200
    time.sleep(1)
    assert all(not texts_to(zalo, user) for user in users)
    assistant.kill()
    assistant.start()
    for user in users:
        wait_until(lambda user=user: bool(texts_to(zalo, user)), 90)
    time.sleep(3)
    for user in users:
        replies = texts_to(zalo, user)
        assert len([t for t in replies if t.startswith("☎️ GỌI NGAY 114")]) == 1
