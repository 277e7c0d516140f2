"""The assistant as `make run` starts it, over REST: bad input never breaks it.

Marked `model`: runs after training (`make test` runs it with `pytest -m model`).
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
RASA = str(Path(sys.executable).with_name("rasa"))
TOKEN = "test-token-not-secret"

pytestmark = pytest.mark.model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen, seconds: int = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(1)
    raise RuntimeError(f"{url} did not come up in {seconds} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` first")
    tmp = tmp_path_factory.mktemp("server")
    actions_port, rasa_port = free_port(), free_port()
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(
        (ROOT / "endpoints.yml")
        .read_text(encoding="utf-8")
        .replace("127.0.0.1:5055", f"127.0.0.1:{actions_port}")
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TRACKER_STORE_URL": f"sqlite:///{tmp / 'tracker.db'}",
    }
    env.pop("REDIS_URL", None)
    logs = (tmp / "actions.log").open("w"), (tmp / "rasa.log").open("w")
    actions = subprocess.Popen(
        [RASA, "run", "actions", "--port", str(actions_port)],
        cwd=ROOT,
        env=env,
        stdout=logs[0],
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            RASA,
            "run",
            "--model",
            str(MODEL),
            "--enable-api",
            "--auth-token",
            TOKEN,
            "--port",
            str(rasa_port),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            str(endpoints),
        ],
        cwd=ROOT,
        env=env,
        stdout=logs[1],
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", rasa)
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            process.wait(timeout=30)
        for log in logs:
            log.close()
        rasa_log = (tmp / "rasa.log").read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in rasa_log, rasa_log[-3000:]


def say(server: str, message: Any, sender: str = "citizen") -> Tuple[int, List[Dict]]:
    response = requests.post(
        f"{server}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=60,
    )
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else None
    )
    return response.status_code, body or []


def test_emergency_number_comes_first(server: str) -> None:
    status, replies = say(server, "nhà hàng xóm cháy to lắm rồi", "fire")
    assert status == 200
    assert replies[0]["text"].startswith("☎️ GỌI NGAY 114")


def test_emergency_without_diacritics(server: str) -> None:
    status, replies = say(server, "co nguoi bi tai nan xe nam bat tinh giua duong")
    assert status == 200
    assert replies[0]["text"].startswith("☎️ GỌI NGAY 115")


def test_procedure_question_names_the_procedure(server: str) -> None:
    status, replies = say(server, "lam ho chieu cho con nho can nhung gi vay ad", "pp")
    assert status == 200
    assert "Hộ chiếu" in replies[0]["text"]


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "😀😀😀🙏",
        "hello, what is the weather like today?",
        "tạm\x00trú\x07 ở\x1b đâu\u200b",
        "em hỏi chuyện này hơi dài dòng chút ạ " * 500,  # ~18,000 characters
        "a" * 10_000,
    ],
    ids=["empty", "spaces", "emoji", "english", "control", "long-vi", "long-a"],
)
def test_odd_messages_get_a_polite_reply(server: str, message: str) -> None:
    status, replies = say(server, message, f"odd-{hash(message)}")
    assert status == 200
    assert replies, "no reply at all"
    assert all(reply.get("text", "").startswith(("Dạ", "☎️")) for reply in replies[:1])


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"sender": "x", "message": ',
        b"\xff\xfe\x00garbage",
        b"[]",
        b'"just a string"',
        b'{"sender": "x"}',
        b'{"sender": "x", "message": 12}',
        b'{"sender": ["x"], "message": "hi"}',
    ],
    ids=[
        "broken",
        "truncated",
        "binary",
        "list",
        "string",
        "no-message",
        "number",
        "sender-list",
    ],
)
def test_malformed_requests_get_400(server: str, body: bytes) -> None:
    response = requests.post(
        f"{server}/webhooks/rest/webhook",
        data=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, response.text[:300]


def test_api_needs_the_token(server: str) -> None:
    payload = json.dumps({"text": "chào"})
    assert (
        requests.post(f"{server}/model/parse", data=payload, timeout=30).status_code
        == 401
    )
    wrong = requests.post(f"{server}/model/parse?token=guess", data=payload, timeout=30)
    assert wrong.status_code == 401
    authorised = requests.post(
        f"{server}/model/parse", params={"token": TOKEN}, data=payload, timeout=30
    )
    assert authorised.status_code == 200
    assert authorised.json()["intent"]["name"] == "greet"
