"""Zalo webhook benchmark: how fast the channel acknowledges, and replies.

    .venv/bin/python bench/zalo_webhook.py [--requests N] [--database-url URL]

The channel runs as in production, in its own process: Sanic on a local port,
signed webhooks in, the durable inbox (SQLite under a temp dir by default, or
--database-url), the worker, the output channel. Rasa is replaced by a handler
that answers at once, so the reply latency is the channel's own overhead. Zalo
is faked in this process; its clock says when each reply arrived. One table:

    concurrency, ack p50/p99 (ms), reply p50/p99 (ms), acks/s, replies
    received, and the server's CPU time per event (ack + processing + reply),
    which does not depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psutil  # noqa: E402

from connectors.zalo.config import OAConfig, dump_oas  # noqa: E402
from tests.fakes.sanic_server import free_port  # noqa: E402
from tests.fakes.zalo_harness import WEBHOOK, make_oas, sign, user_event  # noqa: E402
from tests.fakes.zalo_openapi import FakeZalo  # noqa: E402


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def serve_channel(port: int) -> None:
    """The server side (``--serve``): the channel with an instant fake Rasa."""
    from connectors.zalo.channel import ZaloInput
    from connectors.zalo.config import load_registry
    from tests.fakes import sanic_server
    from tests.fakes.zalo_harness import FakeRasa

    rasa = FakeRasa()
    channel = ZaloInput(registry=load_registry(), control_factory=lambda _app: rasa)
    if os.environ.get("ZALO_BENCH_ACK_ONLY"):  # diagnosis: no worker at all
        channel.worker_enabled = False
    app = sanic_server.new_app("bench")
    app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/zalo")
    sanic_server.free_port = lambda: port
    async with sanic_server.serve(app):
        print("ready", flush=True)
        await asyncio.Event().wait()


async def measure(
    url: str, oa: OAConfig, fake: FakeZalo, concurrency: int, count: int, tag: str
) -> Dict[str, float]:
    """``count`` text messages from many users, ``concurrency`` in flight."""
    work: asyncio.Queue[Tuple[str, bytes, Dict[str, str]]] = asyncio.Queue()
    for n in range(count):  # signed beforehand: the client spends little CPU
        msg_id = f"{tag}-{n}"
        event = user_event(oa, f"7{n % 200:018d}", text=msg_id, msg_id=msg_id)
        work.put_nowait((msg_id, *sign(event, oa)))
    acks: List[float] = []
    started: Dict[str, float] = {}

    async with aiohttp.ClientSession() as session:

        async def client() -> None:
            while not work.empty():
                msg_id, raw, headers = work.get_nowait()
                began = time.perf_counter()
                started[msg_id] = began
                async with session.post(url, data=raw, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                acks.append(time.perf_counter() - began)

        wall = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        wall = time.perf_counter() - wall

    replies: Dict[str, float] = {}
    wait = 0 if os.environ.get("ZALO_BENCH_ACK_ONLY") else 120
    deadline = time.monotonic() + wait
    while len(replies) < count and time.monotonic() < deadline:
        for recorded in list(fake.messages()):
            text = recorded.json["message"]["text"]
            msg_id = text.rsplit(": ", 1)[-1]
            if msg_id in started and msg_id not in replies:
                replies[msg_id] = recorded.at - started[msg_id]
        await asyncio.sleep(0.05)
    latencies = list(replies.values())
    return {
        "ack_p50": percentile(acks, 0.50) * 1000,
        "ack_p99": percentile(acks, 0.99) * 1000,
        "reply_p50": percentile(latencies, 0.50) * 1000 if latencies else float("nan"),
        "reply_p99": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "rate": count / wall,
        "replied": len(latencies),
    }


def with_schema(url: str, schema: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


async def run(requests: int, database_url: str | None) -> None:
    from services import db

    workdir = Path(tempfile.mkdtemp(prefix="zalo-bench-"))
    url = database_url or f"sqlite:///{workdir / 'app.db'}"
    schema = None
    if url.startswith("postgresql"):  # a schema of its own, dropped at the end
        schema = f"zalo_bench_{secrets.token_hex(4)}"
        url = with_schema(url, schema)
    db.upgrade(url)
    fake = FakeZalo().start_in_thread()  # its own loop: replies do not delay acks
    [oa] = make_oas(fake, 1)
    (workdir / "oas.yml").write_text(dump_oas([oa]), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "ZALO_OAS_FILE": str(workdir / "oas.yml"),
        "ZALO_OPENAPI_BASE": fake.base,
        "ZALO_OAUTH_BASE": fake.base,
    }
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = await asyncio.to_thread(server.stdout.readline)
        assert line.strip() == "ready", line
        webhook = f"http://127.0.0.1:{port}{WEBHOOK}"
        await measure(webhook, oa, fake, 5, 50, "warmup")
        rows = []
        process = psutil.Process(server.pid)
        for concurrency in (1, 50):
            fake.requests.clear()
            cpu = sum(process.cpu_times()[:2])
            result = await measure(
                webhook, oa, fake, concurrency, requests, f"c{concurrency}"
            )
            cpu = sum(process.cpu_times()[:2]) - cpu
            result["cpu_ms"] = cpu * 1000 / requests
            rows.append((concurrency, result))
    finally:
        server.terminate()
        server.wait(10)
        if schema is not None:
            drop_schema(url, schema)
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"\nZalo webhook ({database} inbox, {requests} signed text events per row)")
    header = (
        "| concurrency | ack p50 ms | ack p99 ms | reply p50 ms | reply p99 ms "
        "| acks/s | replied | server CPU ms/event |"
    )
    print(header)
    print("|" + "|".join("---" for _ in range(8)) + "|")
    for concurrency, r in rows:
        print(
            f"| {concurrency} | {r['ack_p50']:.1f} | {r['ack_p99']:.1f} "
            f"| {r['reply_p50']:.1f} | {r['reply_p99']:.1f} | {r['rate']:.0f} "
            f"| {r['replied']:.0f}/{requests} | {r['cpu_ms']:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_channel(args.serve))
    else:
        asyncio.run(run(args.requests, args.database_url))


if __name__ == "__main__":
    main()
