"""The webhook fuzzed with hypothesis: whatever arrives, never a 5xx.

Bodies range from random bytes and random JSON to well-signed events whose
fields hold anything, so the checks past the signature (routing, storage,
the worker) are exercised too.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Dict, Iterator, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.zalo.client import dumps
from services import zalo_store
from tests.fakes.zalo_harness import (  # noqa: F401  (fixture)
    Harness,
    channel_engines_closed,
    harness,
    sign,
    user_event,
)

pytestmark = pytest.mark.usefixtures("crypto_keys", "channel_engines_closed")

EVENT_NAMES = [
    "user_send_text",
    "user_send_link",
    "user_send_image",
    "user_send_file",
    "user_send_location",
    "user_submit_info",
    "follow",
    "unfollow",
    "oa_send_text",
    "user_seen_message",
    "user_send_group_text",
    "made_up_event",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture
def running(database_url: str) -> Iterator[Tuple[Harness, asyncio.AbstractEventLoop]]:
    """The channel in a background event loop, so hypothesis can drive it."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop: Dict[str, Any] = {}
    box: Dict[str, Harness] = {}

    async def main() -> None:
        async with harness() as h:
            box["h"] = h
            stop["event"] = asyncio.Event()
            started.set()
            await stop["event"].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),))
    thread.start()
    assert started.wait(20)
    yield box["h"], loop
    loop.call_soon_threadsafe(stop["event"].set)
    thread.join(20)
    loop.close()


@st.composite
def events(draw: st.DrawFn, oa_ids: Tuple[str, ...]) -> Dict[str, Any]:
    ids = st.sampled_from(oa_ids) | st.text(max_size=20) | st.integers()
    event: Dict[str, Any] = {
        "event_name": draw(st.sampled_from(EVENT_NAMES) | st.text(max_size=10)),
        "timestamp": draw(
            st.just(str(int(time.time() * 1000)))
            | st.integers(min_value=-(2**63), max_value=2**63)
            | json_values
        ),
    }
    for key in ("sender", "recipient", "follower"):
        if draw(st.booleans()):
            event[key] = draw(st.fixed_dictionaries({"id": ids}) | json_values)
    if draw(st.booleans()):
        event["oa_id"] = draw(ids)
    if draw(st.booleans()):
        event["message"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "msg_id": st.text(max_size=70) | st.integers() | json_values,
                    "text": st.text(max_size=200) | json_values,
                    "attachments": json_values
                    | st.lists(
                        st.fixed_dictionaries(
                            {"type": st.text(max_size=8), "payload": json_values}
                        ),
                        max_size=2,
                    ),
                    "location": json_values,
                },
            )
        )
    if draw(st.booleans()):
        event["info"] = draw(json_values)
    return event


def test_webhook_never_answers_5xx(
    running: Tuple[Harness, asyncio.AbstractEventLoop],
) -> None:
    h, loop = running
    oa_ids = tuple(oa.oa_id for oa in h.oas)
    statuses: Dict[int, int] = {}

    def post(raw: bytes, headers: Dict[str, str]) -> int:
        future = asyncio.run_coroutine_threadsafe(h.post(raw, headers), loop)
        status, _ = future.result(30)
        statuses[status] = statuses.get(status, 0) + 1
        return status

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        kind=st.sampled_from(["bytes", "json", "signed", "unsigned", "plausible"]),
        text=st.text(max_size=300),
        extra=json_values,
        raw_bytes=st.binary(max_size=300),
        value=json_values,
        event=events(oa_ids),
        mac=st.none() | st.text(max_size=80),
        oa_index=st.integers(min_value=0, max_value=1),
    )
    def check(
        kind: str,
        raw_bytes: bytes,
        value: Any,
        event: Dict[str, Any],
        mac: str | None,
        oa_index: int,
        text: str,
        extra: Any,
    ) -> None:
        headers = {"Content-Type": "application/json"}
        if mac is not None and mac.isprintable() and mac.isascii():
            headers["X-ZEvent-Signature"] = mac
        if kind == "bytes":
            raw = raw_bytes
        elif kind == "json":
            raw = json.dumps(value).encode()
        elif kind == "signed":
            oa = h.oas[oa_index]
            raw = dumps(event)
            headers = sign(event, oa)[1] if _signable(event) else headers
        elif kind == "plausible":  # well signed, addressed right, odd content
            oa = h.oas[oa_index]
            name = str(event["event_name"])
            plausible = user_event(oa, "5" * 19, name, text=text, msg_id=text[:60])
            plausible["message"]["attachments"] = extra
            plausible["info"] = extra
            raw, headers = sign(plausible, oa)
        else:
            raw = dumps(event)
        assert post(raw, headers) < 500

    check()
    # the run really reached every kind of answer, accepted events included
    assert statuses.get(200, 0) > 0 and statuses.get(400, 0) > 0
    assert statuses.get(401, 0) > 0
    # and whatever was accepted, the worker handled without error
    asyncio.run_coroutine_threadsafe(h.settle(60), loop).result(70)
    counts = zalo_store.inbox_counts()
    assert counts.get("done", 0) > 0 and set(counts) == {"done"}


def _signable(event: Dict[str, Any]) -> bool:
    stamp = event.get("timestamp")
    return isinstance(stamp, (str, int)) and not isinstance(stamp, bool)
