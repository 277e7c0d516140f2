"""The Zalo channel's storage (SQLite and PostgreSQL): inbox dedupe and order,
payloads encrypted at rest and dropped once processed, token rows (encrypted
too), one worker per database."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Awaitable, Callable, List

import pytest
from sqlalchemy import select

from connectors.zalo.inbox import InboxWorker, InboxWriter
from services import crypto, zalo_store
from services.zalo_store import InboxRow, TokenRecord, WorkerLease, utcnow
from tests.fakes.zalo_harness import channel_engines_closed  # noqa: F401

pytestmark = pytest.mark.usefixtures("crypto_keys", "channel_engines_closed")


def row(key: str, user: str = "u1", kind: str = "message") -> dict:
    return {
        "oa_id": "oa1",
        "dedupe_key": key,
        "event_name": "user_send_text",
        "user_id": user,
        "kind": kind,
        "payload": '{"text": "bí mật"}',
    }


def test_inbox_dedupes_and_keeps_order(database_url: str) -> None:
    zalo_store.insert_inbox([row("m:1"), row("m:2"), row("m:1")])
    zalo_store.insert_inbox([row("m:2"), row("m:3", user="u2")])
    pending = zalo_store.pending_rows()
    assert [(r.user_id, r.sender_id) for r in pending] == [
        ("u1", "oa1:u1"),
        ("u1", "oa1:u1"),
        ("u2", "oa1:u2"),
    ]
    assert [r.id for r in pending] == sorted(r.id for r in pending)
    zalo_store.finish_row(pending[0].id)
    assert [r.id for r in zalo_store.pending_rows()] == [p.id for p in pending[1:]]
    assert zalo_store.record_attempt(pending[1].id, "Boom") == 1
    assert zalo_store.record_attempt(pending[1].id, "Boom") == 2
    zalo_store.finish_row(pending[1].id, zalo_store.FAILED, "Boom")
    assert zalo_store.inbox_counts() == {"done": 1, "failed": 1, "pending": 1}
    stored = stored_rows()
    assert stored[pending[0].id] == (None, None)  # processed: no citizen text left
    assert stored[pending[1].id] == (None, None)
    [left] = zalo_store.pending_rows()
    assert left.payload == '{"text": "bí mật"}'  # the worker reads it in clear


def stored_rows() -> dict:
    """id -> (payload, key_id) as the database holds them."""
    table = zalo_store.ZaloInbox.__table__
    with zalo_store.channel_engine().connect() as connection:
        query = select(table.c.id, table.c.payload, table.c.key_id)
        return {r.id: (r.payload, r.key_id) for r in connection.execute(query)}


SECRET = "Tôi báo tin: nhà số 12 ngõ Trạm có người buôn ma túy, số 0912345678"


def test_pending_payload_is_encrypted_at_rest(database_url: str) -> None:
    event = json.dumps({"message": {"text": SECRET}}, ensure_ascii=False)
    zalo_store.insert_inbox([{**row("m:secret"), "payload": event}])
    [(payload, key_id)] = stored_rows().values()
    assert crypto.is_token(payload) and key_id == crypto.keyring().current
    assert SECRET not in payload and "0912345678" not in payload
    if database_url.startswith("sqlite"):  # nor anywhere in the files on disk
        database = Path(database_url.removeprefix("sqlite:///"))
        files = [database, *database.parent.glob(database.name + "-*")]
        on_disk = b"".join(f.read_bytes() for f in files if f.is_file())
        assert b"0912345678" not in on_disk
        assert SECRET.encode("utf-8") not in on_disk
        assert event.encode("utf-8") not in on_disk
    [pending] = zalo_store.pending_rows()
    assert pending.payload == event and pending.unreadable is None
    # bound to its place: the token does not open as another column's value
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(payload, "tips.what_text")


def test_rotation_reseals_pending_payloads(database_url: str) -> None:
    zalo_store.insert_inbox([row("m:1")])
    [(_, old_key)] = stored_rows().values()
    new_key = crypto.add_key()
    assert crypto.rotate() == 1
    [(payload, key_id)] = stored_rows().values()
    assert (key_id, crypto.key_id(payload)) == (new_key, new_key) != (old_key,) * 2
    assert zalo_store.pending_rows()[0].payload == '{"text": "bí mật"}'


def test_undecryptable_row_is_failed_not_blocking(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zalo_store.insert_inbox([row("m:lost-key")])
    monkeypatch.setenv("TIP_KEYS", "other:" + "A" * 43)  # the row's key is gone
    crypto.reset()
    zalo_store.insert_inbox([row("m:readable", user="u2")])
    lost, readable = zalo_store.pending_rows()
    assert lost.payload is None and "does not decrypt" in (lost.unreadable or "")
    assert readable.payload == '{"text": "bí mật"}'

    async def main() -> List[int]:
        handled: List[int] = []

        async def handle(r: InboxRow) -> None:
            handled.append(r.id)

        worker = InboxWorker(handle, poll_seconds=0.05)
        worker.start()
        for _ in range(100):
            if not zalo_store.inbox_counts().get("pending"):
                break
            await asyncio.sleep(0.05)
        await worker.stop()
        return handled

    assert asyncio.run(main()) == [readable.id]
    assert zalo_store.inbox_counts() == {"done": 1, "failed": 1}


def test_a_row_finished_during_a_read_is_not_handled_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of pending rows that began while a row was being handled (its
    snapshot shows the row pending) and returns after the row was marked done
    must not hand the row out again (seen on PostgreSQL under load)."""
    zalo_store.insert_inbox([row("m:once")])
    real = zalo_store.pending_rows
    finished = threading.Event()
    reads: List[int] = []

    def stale_read(limit: int = 500) -> List[InboxRow]:
        rows = real(limit)
        reads.append(len(rows))
        if len(reads) == 2:  # the read that overlaps the handling
            finished.wait(10)
        return rows

    monkeypatch.setattr(zalo_store, "pending_rows", stale_read)

    async def main() -> List[int]:
        handled: List[int] = []

        async def handle(r: InboxRow) -> None:
            handled.append(r.id)
            worker.wake()  # another row arrived: a second read starts now
            await asyncio.sleep(0.2)  # ... and takes its snapshot meanwhile

        worker = InboxWorker(handle, poll_seconds=0.05)
        worker.start()
        while not handled:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        while not worker.idle.is_set():  # handled, marked done, out of flight
            await asyncio.sleep(0.01)
        finished.set()  # only now does the stale read return
        for _ in range(20):
            await asyncio.sleep(0.05)
        await worker.stop()
        return handled

    handled = asyncio.run(main())
    assert len(reads) >= 3 and reads[1] == 1  # the second read saw it pending
    assert len(handled) == 1, handled
    assert zalo_store.inbox_counts() == {"done": 1}


def test_token_rows_are_replaced_whole(database_url: str) -> None:
    assert zalo_store.load_tokens("oa1") is None
    first = TokenRecord("a1", "r1", utcnow(), "seed")
    zalo_store.save_tokens("oa1", first)
    second = TokenRecord("a2", "r2", None, "seed")
    zalo_store.save_tokens("oa1", second)
    assert zalo_store.load_tokens("oa1") == second


def stored_tokens() -> dict:
    """oa_id -> (access_token, refresh_token, key_id) as the database holds them."""
    table = zalo_store.ZaloToken.__table__
    with zalo_store.channel_engine().connect() as connection:
        query = select(
            table.c.oa_id, table.c.access_token, table.c.refresh_token, table.c.key_id
        )
        return {r.oa_id: tuple(r)[1:] for r in connection.execute(query)}


def test_tokens_are_encrypted_at_rest_and_rotate(database_url: str) -> None:
    secret = TokenRecord("access-SECRET-1", "refresh-SECRET-1", None, "seed")
    zalo_store.save_tokens("oa1", secret)
    [(access, refresh, key_id)] = stored_tokens().values()
    assert crypto.is_token(access) and crypto.is_token(refresh)
    assert key_id == crypto.keyring().current
    assert "SECRET" not in access + refresh
    # each token is bound to its column: swapping them does not decrypt
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(access, "zalo_tokens.refresh_token")
    assert zalo_store.load_tokens("oa1") == secret
    new_key = crypto.add_key()
    assert crypto.rotate() == 1
    [(access2, _, key_id2)] = stored_tokens().values()
    assert key_id2 == crypto.key_id(access2) == new_key != key_id
    assert zalo_store.load_tokens("oa1") == secret


def test_tokens_stored_before_encryption_are_read_then_sealed(
    database_url: str,
) -> None:
    table = zalo_store.ZaloToken.__table__
    with zalo_store.channel_engine().begin() as connection:
        connection.execute(
            table.insert().values(
                oa_id="oa1",
                access_token="plain-access",
                refresh_token="plain-refresh",
                key_id=None,
                seed_fingerprint="seed",
                updated_at=utcnow(),
            )
        )
    old = zalo_store.load_tokens("oa1")
    assert old == TokenRecord("plain-access", "plain-refresh", None, "seed")
    assert crypto.rotate() == 1  # the rotation command seals old pairs too
    [(access, refresh, key_id)] = stored_tokens().values()
    assert key_id is not None and "plain" not in access + refresh
    assert zalo_store.load_tokens("oa1") == old


def test_tokens_whose_key_is_gone_are_an_error_not_the_seed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zalo_store.save_tokens("oa1", TokenRecord("a1", "r1", None, "seed"))
    monkeypatch.setenv("TIP_KEYS", "other:" + "A" * 43)
    crypto.reset()
    with pytest.raises(zalo_store.TokensUnreadable, match="restore that key"):
        zalo_store.load_tokens("oa1")


def test_writer_overlaps_commits_only_where_the_database_allows(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a webhook arriving during a slow commit is stored without
    waiting for it. SQLite (one writer): it waits, then commits."""
    real = zalo_store.apply_batch
    gate = threading.Event()
    calls: List[int] = []

    def slow_first(inserts=(), finishes=(), sends=(), bind=None):  # type: ignore[no-untyped-def]
        calls.append(len(inserts))
        if len(calls) == 1:
            gate.wait(10)  # the first commit hangs until released
        real(inserts, finishes, sends, bind)

    monkeypatch.setattr(zalo_store, "apply_batch", slow_first)

    async def main() -> bool:
        writer = InboxWriter()
        first = asyncio.create_task(writer.accept(row("m:1")))
        for _ in range(100):  # until the first commit is under way
            if calls:
                break
            await asyncio.sleep(0.01)
        second = asyncio.create_task(writer.accept(row("m:2")))
        done, _ = await asyncio.wait({second}, timeout=2.0)
        gate.set()
        await asyncio.gather(first, second)
        await writer.close()
        return second in done

    overlapped = asyncio.run(main())
    assert overlapped == database_url.startswith("postgresql")
    assert calls == [1, 1]
    assert zalo_store.inbox_counts() == {"pending": 2}


def test_outbox_records_and_echo_lookup(database_url: str) -> None:
    zalo_store.record_send("oa1", "u1", "mid1", "sent")
    zalo_store.record_send("oa1", "u1", None, "failed", -230, "window closed")
    assert zalo_store.sent_by_us("oa1", "mid1")
    assert not zalo_store.sent_by_us("oa2", "mid1")
    [failure] = zalo_store.failed_sends()
    assert (failure["error_code"], failure["user_id"]) == (-230, "u1")


def test_one_worker_per_database_and_takeover(database_url: str) -> None:
    zalo_store.insert_inbox([row(f"m:{n}") for n in range(3)])

    async def main() -> None:
        handled: List[str] = []

        async def handler(name: str) -> Callable[[InboxRow], Awaitable[None]]:
            async def handle(r: InboxRow) -> None:
                handled.append(name)

            return handle

        async def fast_sleep(_: float) -> None:
            await asyncio.sleep(0.05)

        first = InboxWorker(await handler("first"), sleep=fast_sleep, poll_seconds=0.1)
        second = InboxWorker(
            await handler("second"), sleep=fast_sleep, poll_seconds=0.1
        )
        first.start()
        await asyncio.sleep(0.5)
        second.start()
        await asyncio.sleep(0.5)
        assert first.is_leader and not second.is_leader
        assert handled == ["first"] * 3
        await first.stop()  # the leader goes away: the other one takes over
        zalo_store.insert_inbox([row("m:late")])
        for _ in range(60):
            if second.is_leader and len(handled) == 4:
                break
            await asyncio.sleep(0.1)
        assert second.is_leader and handled[-1] == "second"
        await second.stop()

    asyncio.run(main())
    assert zalo_store.inbox_counts() == {"done": 4}
    lease = WorkerLease()
    assert lease.acquire()  # released by both
    lease.release()


def test_processed_rows_are_purged_after_a_week(database_url: str) -> None:
    import datetime as dt

    from sqlalchemy import update

    zalo_store.insert_inbox([row("m:old"), row("m:new"), row("m:pending")])
    old, new, _ = zalo_store.pending_rows()
    zalo_store.finish_row(old.id)
    zalo_store.finish_row(new.id)
    table = zalo_store.ZaloInbox.__table__
    with zalo_store.channel_engine().begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id == old.id)
            .values(processed_at=utcnow() - dt.timedelta(days=8))
        )
    assert zalo_store.purge_processed() == 1
    assert zalo_store.inbox_counts() == {"done": 1, "pending": 1}


def test_token_lock_is_one_holder_per_oa_across_engines(database_url: str) -> None:
    from services.db import make_engine

    engines = [make_engine(database_url) for _ in range(2)]
    try:
        first = zalo_store.TokenLock("oa1", engines[0])
        second = zalo_store.TokenLock("oa1", engines[1])
        other_oa = zalo_store.TokenLock("oa2", engines[1])
        assert first.try_acquire()
        assert not second.try_acquire()  # held elsewhere: refused, not waited
        assert other_oa.try_acquire()  # OAs do not block each other
        zalo_store.save_tokens("oa1", TokenRecord("a", "r", None, "seed"))
        assert zalo_store.load_tokens("oa1") is not None  # writes go on meanwhile
        first.release()
        assert second.try_acquire()
        second.release()
        other_oa.release()
    finally:
        for bind in engines:
            bind.dispose()


def test_only_rows_a_predecessor_may_have_seen_ask_the_tracker(
    database_url: str,
) -> None:
    """Rows pending when the worker took the lease, and retried rows, may have
    reached Rasa: the handler must check. Rows stored later need not."""
    zalo_store.insert_inbox([row("m:before")])

    async def main() -> dict:
        seen: dict = {}
        failures = {"m:retried": 1}

        async def handle(r: InboxRow) -> None:
            key = json.loads(r.payload or "{}").get("key")
            seen.setdefault(key, []).append(r.maybe_handled)
            if failures.get(key):
                failures[key] -= 1
                raise RuntimeError("Rasa is down")

        async def no_wait(_: float) -> None:
            await asyncio.sleep(0)

        worker = InboxWorker(handle, poll_seconds=0.05, sleep=no_wait)
        worker.start()
        for _ in range(100):
            if "m:before" in seen:
                break
            await asyncio.sleep(0.05)
        zalo_store.insert_inbox(
            [
                {**row("m:after"), "payload": '{"key": "m:after"}'},
                {**row("m:retried", user="u2"), "payload": '{"key": "m:retried"}'},
            ]
        )
        worker.wake()
        for _ in range(100):
            if not zalo_store.inbox_counts().get("pending"):
                break
            await asyncio.sleep(0.05)
        await worker.stop()
        return seen

    seen = asyncio.run(main())
    assert seen == {
        None: [True],  # m:before (payload without a key): pending at the start
        "m:after": [False],
        "m:retried": [False, True],  # the failed attempt may have reached Rasa
    }
