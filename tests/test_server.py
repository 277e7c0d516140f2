"""The assistant as `make run` starts it, over REST: bad input never breaks it.

Marked `model`: runs after training (`make test` runs it with `pytest -m model`).
"""

import json
from typing import Any, Dict, List, Tuple

import pytest
import requests

from tests.servers import TOKEN, Assistant

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def server(assistant: Assistant) -> str:
    """The REST base URL of the assistant (tests/conftest.py starts it)."""
    return assistant.url


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
