"""The Zalo channel in the assistant as `make run` starts it (real model, real
actions), Zalo faked: replies arrive, duplicates are answered once, an officer's
echo pauses the bot, and a Rasa server killed with SIGKILL after acknowledging
answers every accepted message exactly once after its restart.

Marked `model`: runs after training (`make test` runs it with `pytest -m model`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from connectors.zalo.config import OAConfig, dump_oas
from tests.fakes.zalo_harness import echo_event, make_oas, sign, user_event
from tests.fakes.zalo_openapi import FakeZalo
from tests.servers import ROOT, Assistant, wait_until

pytestmark = pytest.mark.model

MODEL = Path(os.environ.get("ZALO_TEST_MODEL") or ROOT / "models" / "current.tar.gz")


class ZaloAssistant(Assistant):
    """The shared assistant with the Zalo channel pointed at the fake Zalo;
    its Rasa server restartable with extra environment."""

    def __init__(self, tmp: Path, fake: FakeZalo, oa: OAConfig) -> None:
        super().__init__(tmp, MODEL)
        (tmp / "oas.yml").write_text(dump_oas([oa]), encoding="utf-8")
        self.env.update(
            ZALO_OAS_FILE=str(tmp / "oas.yml"),
            ZALO_OPENAPI_BASE=fake.base,
            ZALO_OAUTH_BASE=fake.base,
            ZALO_ECHO_GRACE_SECONDS="1",
        )
        self.start_actions()
        self.webhook = f"{self.url}/webhooks/zalo/webhook"

    def start(self, **env: str) -> None:  # type: ignore[override]
        self.start_rasa("/webhooks/zalo/", **env)

    def kill(self) -> None:
        self.kill_rasa()


@pytest.fixture(scope="module")
def zalo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` first")
    fake = FakeZalo().start_in_thread()
    [oa] = make_oas(fake, 1)
    assistant = ZaloAssistant(tmp_path_factory.mktemp("zalo"), fake, oa)
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
    assistant: ZaloAssistant = zalo["assistant"]
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
