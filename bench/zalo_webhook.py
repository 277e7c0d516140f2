"""Zalo webhook benchmark: how fast the channel acknowledges, and replies.

    .venv/bin/python bench/zalo_webhook.py [--requests N] [--turn-ms MS]
        [--databases sqlite,postgresql] [--postgres-url URL]

The configuration `make run` uses: ONE server process (Sanic on a local port)
serving the signed webhooks AND working the durable inbox, so message
processing really runs on the same event loop while the acks are measured.
Rasa is simulated, because a trained model cannot be loaded per run: each
message costs what a turn of our trained model costs on this machine (measured
with ``Agent.handle_message``: 20-35 ms of event-loop time, in stretches of up to
~35 ms). The simulated turn burns ``--turn-ms`` of CPU on the event loop, in
three stretches as Rasa does (NLU about 40 %, then two policy runs), with an
awaited 5 ms action-server call between them, then sends the reply to the fake
Zalo (its own process, its clock stamps each reply's arrival).

Each load row starts with a backlog of unprocessed messages (the worker is busy
with Rasa turns when the measured requests arrive), then sends ``--requests``
signed text events at the given concurrency. Printed per database:

    ack p50/p99 (ms) at 1 and 50 concurrent requests, acks/s, server CPU per
    event; reply latency (signed event posted -> reply at Zalo) of the row's
    messages, which queue behind the backlog and each other (the server does
    one turn per ``--turn-ms``); the server's longest event-loop stall and how
    many turns were forced through a flood (connectors/zalo/priority.py)
    during the row's acks; the inbox writer's longest commit and the longest a
    write waited for its commit (queued behind the commit in flight included)
    during the row; and the end-to-end reply latency of single messages
    on an idle server.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
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

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKLOG = 40  # messages waiting for Rasa when a row starts
ACTION_CALL_SECONDS = 0.005


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def burn_cpu(seconds: float) -> None:
    """Hold the event loop for ``seconds`` of this thread's CPU time (a busy
    machine stretches it in wall time, as it does a real Rasa turn)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class SimulatedRasa:
    """``on_new_message`` with the event-loop cost of a real Rasa turn."""

    def __init__(self, turn_seconds: float) -> None:
        self.turn = turn_seconds
        self.handled: set[tuple[str, str]] = set()

    async def on_new_message(self, message) -> None:  # type: ignore[no-untyped-def]
        burn_cpu(self.turn * 0.4)  # NLU: tokenizer, featurizers, DIET, CRF
        await asyncio.sleep(ACTION_CALL_SECONDS)  # the action server's answer
        burn_cpu(self.turn * 0.3)  # policies: the next action
        burn_cpu(self.turn * 0.3)  # policies again: action_listen
        self.handled.add((message.sender_id, message.message_id))
        await message.output_channel.send_text_message(
            message.sender_id, f"Dạ, em đã nhận: {message.text}"
        )

    # ConversationControl
    async def ready(self) -> None:
        return None

    async def already_handled(self, sender_id: str, message_id: str) -> bool:
        return (sender_id, message_id) in self.handled

    async def pause(self, sender_id: str) -> None:
        return None

    async def is_paused(self, sender_id: str) -> bool:
        return False


class LoopLag:
    """The longest stall of the event loop (a 5 ms timer firing late)."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - began - 0.005)

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst


async def serve_channel(port: int, turn_ms: float) -> None:
    """The server side (``--serve``): the channel, its worker, simulated Rasa."""
    from connectors.zalo.channel import ZaloInput
    from connectors.zalo.config import load_registry
    from tests.fakes import sanic_server

    rasa = SimulatedRasa(turn_ms / 1000)
    channel = ZaloInput(registry=load_registry(), control_factory=lambda _app: rasa)
    if os.environ.get("ZALO_BENCH_ACK_ONLY"):  # diagnosis: no worker at all
        channel.worker_enabled = False
    app = sanic_server.new_app("bench")
    app.blueprint(channel.blueprint(rasa.on_new_message), url_prefix="/webhooks/zalo")
    lags = LoopLag()

    @app.get("/bench/stats")
    async def stats(_request):  # type: ignore[no-untyped-def]
        """Since the last call: the longest event-loop stall, forced turns."""
        from sanic import response

        priority = channel.priority
        writes = channel.writer.take_timings() if channel.writer else {}
        answer = {
            "max_lag_ms": lags.take() * 1000,
            "forced_turns": priority.forced_turns if priority else 0,
            "max_commit_ms": writes.get("commit", 0.0) * 1000,
            "max_write_wait_ms": writes.get("wait", 0.0) * 1000,
        }
        return response.json(answer)

    sanic_server.free_port = lambda: port
    async with sanic_server.serve(app):
        monitor = asyncio.create_task(lags.run())
        print("ready", flush=True)
        await asyncio.Event().wait()
        monitor.cancel()


def fake_zalo_process(oa_count: int) -> Tuple[subprocess.Popen, str, List[str]]:
    """The fake Zalo in a process of its own (replies do not share the client's
    CPU time with the measured acks); answers its base URL and the OA file."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--fake-zalo"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    base = child.stdout.readline().strip()
    oas_yaml = child.stdout.readline().strip()
    return child, base, [oas_yaml]


class Events:
    """Signed text events, one user per message slot, made beforehand."""

    def __init__(self, oa: OAConfig) -> None:
        self.oa = oa

    def make(
        self, tag: str, count: int, users: int = 200
    ) -> List[Tuple[str, bytes, Dict[str, str]]]:
        made = []
        for n in range(count):
            msg_id = f"{tag}-{n}"
            event = user_event(
                self.oa, f"7{n % users:018d}", text=msg_id, msg_id=msg_id
            )
            raw, headers = sign(event, self.oa)
            made.append((msg_id, raw, headers))
        return made


async def post_all(
    session: aiohttp.ClientSession,
    url: str,
    work: List[Tuple[str, bytes, Dict[str, str]]],
    concurrency: int,
    started: Dict[str, float],
) -> Tuple[List[float], float]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    acks: List[float] = []

    async def client() -> None:
        while not queue.empty():
            msg_id, raw, headers = queue.get_nowait()
            began = time.perf_counter()
            started[msg_id] = time.time()
            async with session.post(url, data=raw, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            acks.append(time.perf_counter() - began)

    wall = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return acks, time.perf_counter() - wall


async def replies_of(
    fake_url: str, started: Dict[str, float], timeout: float
) -> Dict[str, float]:
    """Reply latency per message id, from the fake Zalo's arrival log."""
    replies: Dict[str, float] = {}
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            async with session.get(f"{fake_url}/bench/replies") as response:
                arrived: Dict[str, float] = await response.json()
            for msg_id, at in arrived.items():
                if msg_id in started:
                    replies[msg_id] = at - started[msg_id]
            if len(replies) == len(started):
                break
            await asyncio.sleep(0.1)
    return replies


async def measure_row(
    webhook: str,
    fake_url: str,
    events: Events,
    concurrency: int,
    count: int,
    tag: str,
    turn_ms: float,
) -> Dict[str, float]:
    backlog = events.make(f"{tag}-backlog", BACKLOG, users=BACKLOG)
    work = events.make(tag, count)
    started: Dict[str, float] = {}
    ignored: Dict[str, float] = {}
    async with aiohttp.ClientSession() as session:
        await post_all(session, webhook, backlog, 10, ignored)  # Rasa is busy now
        before = await server_stats(session, webhook)
        acks, wall = await post_all(session, webhook, work, concurrency, started)
        after = await server_stats(session, webhook)
    wait = 0 if os.environ.get("ZALO_BENCH_ACK_ONLY") else 60 + count * turn_ms / 250
    replies = await replies_of(fake_url, started, wait)
    await replies_of(fake_url, ignored, wait)  # the backlog drained too
    latencies = list(replies.values())
    return {
        "ack_p50": percentile(acks, 0.50) * 1000,
        "ack_p99": percentile(acks, 0.99) * 1000,
        "ack_max": max(acks) * 1000,
        "reply_p50": percentile(latencies, 0.50) * 1000,
        "reply_p99": percentile(latencies, 0.99) * 1000,
        "rate": count / wall,
        "replied": len(latencies),
        "max_lag": after["max_lag_ms"],
        "forced": after["forced_turns"] - before["forced_turns"],
        "max_commit": after["max_commit_ms"],
        "max_write_wait": after["max_write_wait_ms"],
    }


async def server_stats(
    session: aiohttp.ClientSession, webhook: str
) -> Dict[str, float]:
    url = webhook.replace(WEBHOOK, "/bench/stats")
    async with session.get(url) as response:
        answer: Dict[str, float] = await response.json()
    return answer


async def measure_idle_replies(
    webhook: str, fake_url: str, events: Events, count: int = 20
) -> Dict[str, float]:
    """One message at a time on an idle server: posted -> reply at Zalo."""
    latencies = []
    async with aiohttp.ClientSession() as session:
        for msg_id, raw, headers in events.make("idle", count):
            started = {msg_id: time.time()}
            async with session.post(webhook, data=raw, headers=headers) as response:
                assert response.status == 200
            replies = await replies_of(fake_url, started, 10)
            latencies.append(replies.get(msg_id, float("nan")))
            await asyncio.sleep(0.2)
    return {
        "p50": percentile(latencies, 0.5) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
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


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        probe = create_engine(url, future=True)
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
        probe.dispose()
        return True
    except Exception:
        return False


async def run(database: str, base_url: str, requests: int, turn_ms: float) -> None:
    from services import db

    workdir = Path(tempfile.mkdtemp(prefix="zalo-bench-"))
    url = base_url if database == "postgresql" else f"sqlite:///{workdir / 'app.db'}"
    schema = None
    if database == "postgresql":  # a schema of its own, dropped at the end
        schema = f"zalo_bench_{secrets.token_hex(4)}"
        url = with_schema(url, schema)
    db.upgrade(url)
    fake, fake_url, [oas_yaml] = fake_zalo_process(1)
    oas_file = workdir / "oas.yml"
    oas_file.write_text(base64.b64decode(oas_yaml).decode("utf-8"), "utf-8")
    from connectors.zalo.config import load_registry

    registry = load_registry(oas_file)
    assert registry is not None
    [oa] = registry.oas.values()
    port = free_port()
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "ZALO_OAS_FILE": str(oas_file),
        "ZALO_OPENAPI_BASE": fake_url,
        "ZALO_OAUTH_BASE": fake_url,
        "TIP_KEYS": f"kbench:{key}",  # the inbox payloads are encrypted
    }
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--turn-ms", str(turn_ms)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    rows = []
    try:
        assert server.stdout is not None
        line = await asyncio.to_thread(server.stdout.readline)
        assert line.strip() == "ready", line
        webhook = f"http://127.0.0.1:{port}{WEBHOOK}"
        events = Events(oa)
        async with aiohttp.ClientSession() as session:  # warm-up
            await post_all(session, webhook, events.make("warmup", 50), 5, {})
        await asyncio.sleep(50 * turn_ms / 1000 + 1)
        process = psutil.Process(server.pid)
        for concurrency in (1, 50):
            cpu = sum(process.cpu_times()[:2])
            result = await measure_row(
                webhook,
                fake_url,
                events,
                concurrency,
                requests,
                f"c{concurrency}",
                turn_ms,
            )
            cpu = sum(process.cpu_times()[:2]) - cpu
            result["cpu_ms"] = cpu * 1000 / (requests + BACKLOG)
            rows.append((concurrency, result))
        idle = {"p50": float("nan"), "p99": float("nan")}
        if not os.environ.get("ZALO_BENCH_ACK_ONLY"):
            idle = await measure_idle_replies(webhook, fake_url, events)
    finally:
        server.terminate()
        server.wait(10)
        fake.terminate()
        fake.wait(10)
        if schema is not None:
            drop_schema(url, schema)
    name = "PostgreSQL" if database == "postgresql" else "SQLite"
    mode = (
        "acks only, the worker off (ZALO_BENCH_ACK_ONLY)"
        if os.environ.get("ZALO_BENCH_ACK_ONLY")
        else "one process acks and processes"
    )
    print(
        f"\nZalo webhook, {name} inbox: {mode} "
        f"(Rasa turn simulated: {turn_ms:.0f} ms CPU on the event loop + a 5 ms "
        f"action call + the reply); each row: {BACKLOG} messages already "
        f"waiting for Rasa, then {requests} signed text events"
    )
    print(
        "| concurrency | ack p50 ms | ack p99 ms | ack max ms | acks/s "
        "| reply p50 ms | reply p99 ms | replied | server CPU ms/event "
        "| loop stall max ms | turns forced | commit max ms | write wait max ms |"
    )
    print("|" + "|".join("---" for _ in range(13)) + "|")
    for concurrency, r in rows:
        print(
            f"| {concurrency} | {r['ack_p50']:.1f} | {r['ack_p99']:.1f} "
            f"| {r['ack_max']:.1f} | {r['rate']:.0f} "
            f"| {r['reply_p50']:.0f} | {r['reply_p99']:.0f} "
            f"| {r['replied']:.0f}/{requests} | {r['cpu_ms']:.2f} "
            f"| {r['max_lag']:.0f} | {r['forced']:.0f} "
            f"| {r['max_commit']:.0f} | {r['max_write_wait']:.0f} |"
        )
    print(
        f"End-to-end reply latency, one message at a time on an idle server: "
        f"p50 {idle['p50']:.0f} ms, p99 {idle['p99']:.0f} ms"
    )


async def serve_fake_zalo() -> None:
    """``--fake-zalo``: the fake OpenAPI plus ``GET /bench/replies`` (the
    wall-clock arrival of each reply, by the message id it answers)."""
    from aiohttp import web

    fake = FakeZalo()
    arrived: Dict[str, float] = {}
    original = fake.message

    async def message(request: web.Request) -> web.Response:
        answer = await original(request)
        recorded = fake.requests[-1]
        text = ((recorded.json or {}).get("message") or {}).get("text") or ""
        arrived[text.rsplit(": ", 1)[-1]] = time.time()
        fake.requests.clear()  # keep memory flat
        return answer

    async def replies(_: web.Request) -> web.Response:
        return web.json_response(arrived)

    fake.message = message  # type: ignore[method-assign]
    app = fake.app()
    app.router.add_get("/bench/replies", replies)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    [oa] = make_oas(fake, 1)
    print(fake.base, flush=True)
    print(base64.b64encode(dump_oas([oa]).encode()).decode(), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--turn-ms", type=float, default=25.0)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--fake-zalo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_zalo:
        asyncio.run(serve_fake_zalo())
        return
    if args.serve:
        profile = os.environ.get("ZALO_BENCH_PROFILE")  # diagnosis: cProfile file
        if profile:
            import cProfile
            import signal

            profiler = cProfile.Profile()
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            profiler.enable()
            try:
                asyncio.run(serve_channel(args.serve, args.turn_ms))
            finally:
                profiler.disable()
                profiler.dump_stats(profile)
            return
        asyncio.run(serve_channel(args.serve, args.turn_ms))
        return
    for database in args.databases.split(","):
        if database == "postgresql" and not postgres_reachable(args.postgres_url):
            print(f"\nPostgreSQL at {args.postgres_url}: unreachable, skipped")
            continue
        asyncio.run(run(database, args.postgres_url, args.requests, args.turn_ms))


if __name__ == "__main__":
    main()
