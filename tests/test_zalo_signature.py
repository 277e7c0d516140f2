"""Webhook signatures and event routing: vectors computed here, independently,
from the documented formula sha256(app_id + raw body + timestamp + OA secret)."""

from __future__ import annotations

import hashlib
import json

import pytest

from connectors.zalo import events, signature
from connectors.zalo.config import OAConfig

APP_ID = "1234567890123456789"
SECRET = "TEST_OA_SECRET_KEY_abc123"
TIMESTAMP = "1700000000000"
BODY = (
    '{"app_id":"1234567890123456789","user_id_by_app":"5555555555555555555",'
    '"event_name":"user_send_text","timestamp":"1700000000000",'
    '"sender":{"id":"2468458835296117922"},"recipient":{"id":"1111111111111111111"},'
    '"message":{"msg_id":"a1b2c3d4e5f6a7b8c9d0","text":"Xin chào"}}'
).encode()


def expected(app_id: str, raw: bytes, timestamp: str, secret: str) -> str:
    joined = app_id.encode() + raw + timestamp.encode() + secret.encode()
    return hashlib.sha256(joined).hexdigest()


def test_reference_vector() -> None:
    assert len(BODY) == 271
    digest = expected(APP_ID, BODY, TIMESTAMP, SECRET)
    # the worked example of the reference, and our own computation, agree
    assert digest == "83e8a98a2df26b58224a9ebc32713dfb9311109ba8735f551b15ffcb9ae13b82"
    assert signature.compute(APP_ID, BODY, TIMESTAMP, SECRET) == digest
    assert signature.verify("mac=" + digest, APP_ID, BODY, TIMESTAMP, SECRET)
    assert signature.verify("MAC=" + digest.upper(), APP_ID, BODY, TIMESTAMP, SECRET)
    assert signature.verify(digest, APP_ID, BODY, TIMESTAMP, SECRET)


def test_follow_vector() -> None:
    raw = (
        b'{"app_id":"1234567890123456789","event_name":"follow",'
        b'"timestamp":"1700000000000","oa_id":"1111111111111111111",'
        b'"follower":{"id":"2468458835296117922"},"source":"oa_profile",'
        b'"user_id_by_app":"5555555555555555555"}'
    )
    digest = "80c243d2b102ebfe8564cf515fc23f49142f5b1a49f290f8c055c167cb15c682"
    assert expected(APP_ID, raw, TIMESTAMP, SECRET) == digest
    assert signature.verify("mac=" + digest, APP_ID, raw, TIMESTAMP, SECRET)


@pytest.mark.parametrize(
    "raw",
    [
        BODY.replace("Xin chào".encode(), b"Xin ch\\u00e0o"),  # same JSON, escaped
        json.dumps(json.loads(BODY)).encode(),  # re-serialised
        BODY + b"\n",
    ],
)
def test_only_the_exact_bytes_verify(raw: bytes) -> None:
    good = "mac=" + expected(APP_ID, BODY, TIMESTAMP, SECRET)
    assert json.loads(raw) == json.loads(BODY)
    assert not signature.verify(good, APP_ID, raw, TIMESTAMP, SECRET)
    assert signature.verify(
        "mac=" + expected(APP_ID, raw, TIMESTAMP, SECRET),
        APP_ID,
        raw,
        TIMESTAMP,
        SECRET,
    )


def test_wrong_secret_app_or_timestamp_fail() -> None:
    good = "mac=" + expected(APP_ID, BODY, TIMESTAMP, SECRET)
    assert not signature.verify(good, APP_ID, BODY, TIMESTAMP, "WRONG")
    assert not signature.verify(good, "1111111111111111111", BODY, TIMESTAMP, SECRET)
    assert not signature.verify(good, APP_ID, BODY, "1700000000001", SECRET)
    assert not signature.verify("mac=", APP_ID, BODY, TIMESTAMP, SECRET)
    assert not signature.verify("mac=zzzé", APP_ID, BODY, TIMESTAMP, SECRET)


OA = OAConfig("1111111111111111111", "XA-DIAN", APP_ID, "s", SECRET, "a", "r")


def test_routing_follows_the_direction_rule() -> None:
    user = events.envelope(json.loads(BODY))
    assert (user.kind, user.oa_id, user.user_id) == (
        events.MESSAGE,
        "1111111111111111111",
        "2468458835296117922",
    )
    assert user.dedupe_key == "m:a1b2c3d4e5f6a7b8c9d0"
    echo = events.envelope(
        {
            "event_name": "oa_send_text",
            "timestamp": "1",
            "sender": {"id": "1111111111111111111"},
            "recipient": {"id": "42"},
            "message": {"msg_id": "z"},
        }
    )
    assert (echo.kind, echo.oa_id, echo.user_id) == (events.ECHO, OA.oa_id, "42")
    follow = events.envelope(
        {"event_name": "follow", "timestamp": 5, "oa_id": 7, "follower": {"id": "42"}}
    )
    assert (follow.oa_id, follow.user_id, follow.timestamp) == ("7", "42", "5")
    assert follow.dedupe_key == "e:follow:42:5"
    seen = events.envelope(
        {"event_name": "user_seen_message", "timestamp": "1", "sender": {"id": "7"}}
    )
    assert seen.kind == events.RECEIPT
    assert events.kind_of("oa_send_group_text") == events.IGNORED


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"event_name": "user_send_text"},
        {"event_name": "user_send_text", "timestamp": "12a"},
        {"event_name": "user_send_text", "timestamp": True},
        {"event_name": "user_send_text", "timestamp": "1", "sender": {"id": "1"}},
        {"event_name": 5, "timestamp": "1"},
    ],
)
def test_unroutable_events_are_malformed(event: dict) -> None:
    with pytest.raises(events.MalformedEvent):
        events.envelope(event)


def test_location_shapes_are_all_read() -> None:
    shapes = [
        {
            "attachments": [
                {"payload": {"coordinates": {"latitude": "1.5", "longitude": 2}}}
            ]
        },
        {"attachments": [{"payload": {"lat": 1.5, "long": "2"}}]},
        {"location": {"latitude": 1.5, "longitude": 2.0}},
    ]
    for message in shapes:
        assert events.location_of(message) == {"lat": 1.5, "long": 2.0}
    assert events.location_of({"location": {"lat": "north", "long": 1}}) is None


def test_user_info_both_shapes() -> None:
    flat = {"info": {"name": "A", "phone": "84912345678", "ward": "Dĩ An"}}
    nested = {
        "info": {
            "name": "A",
            "phone": 84912345678,
            "full_address": {"user_ward": "Dĩ An", "user_city": "Bình Dương"},
        }
    }
    assert events.user_info_of(flat) == {
        "name": "A",
        "phone": "84912345678",
        "ward": "Dĩ An",
    }
    assert events.user_info_of(nested) == {
        "name": "A",
        "phone": "84912345678",
        "ward": "Dĩ An",
        "city": "Bình Dương",
    }
