"""The durable inbox: write before acknowledging, then process in order.

``InboxWriter`` batches the webhook's inserts: each request queues its row and
waits; the writer commits everything queued in a single transaction (one
commit for 50 concurrent webhooks instead of 50), then wakes the worker. On
PostgreSQL a few such transactions may be in flight at once, so a webhook that
arrives during a commit does not wait for it (``zalo_store.parallel_commits``).
A failed commit fails every request of the batch, so none of them answers 200.

``InboxWorker`` reads pending rows in arrival order and gives each conversation
(``<oa_id>:<user_id>``) its own queue: one user's messages are handled one after
the other, different users' side by side. A row is marked done only after its
handler returned, so a crash re-delivers it on the next start (at least once);
the handler makes that idempotent (the channel skips a message whose id Rasa's
tracker already holds). That check reads the whole conversation from the tracker
store, on the event loop, so rows that cannot have reached Rasa before (stored
after this worker took the lease, first attempt, not left unmarked) carry
``maybe_handled=False`` and skip it. No Rasa imports.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import (
    Any,
    AsyncContextManager,
    Awaitable,
    Callable,
    Deque,
    Dict,
    List,
    Set,
    Tuple,
)

from services import zalo_store
from services.zalo_store import FAILED, InboxRow

logger = logging.getLogger(__name__)

MAX_BATCH = 500
MAX_ATTEMPTS = 3
RETRY_DELAYS = (1.0, 5.0)
POLL_SECONDS = float(os.environ.get("ZALO_INBOX_POLL_SECONDS", 1.0))
LEASE_RETRY_SECONDS = 5.0
PURGE_EVERY = 3600.0

Handler = Callable[[InboxRow], Awaitable[None]]
Pending = Tuple[Any, asyncio.Future, float]  # a write, its result, when queued


class InboxWriter:
    """Group commit of the channel's writes: inbox rows (``accept``), processed
    marks (``finish``) and outbox records (``record_send``) queued by many
    tasks go to the database together, in one transaction per batch, with at
    most ``parallel`` transactions in flight (writes that arrive meanwhile
    form the next batch). Each call returns once its write is durable, or
    raises if it failed."""

    def __init__(
        self,
        on_committed: Callable[[], None] | None = None,
        parallel: int | None = None,
    ) -> None:
        self.on_committed = on_committed  # called after a commit with new rows
        # transactions in flight at once: SQLite has one writer, so one; on
        # PostgreSQL a write that arrives during a commit need not wait for it
        # (its own commit overlaps; the server groups their WAL flushes)
        self.parallel = parallel or zalo_store.parallel_commits()
        self._commits: Set[asyncio.Task] = set()
        self._queue: asyncio.Queue[Pending] | None = None
        self._task: asyncio.Task | None = None
        # the longest commit and the longest wait of a write for its commit
        # since ``take_timings`` was last called (operators, bench/)
        self._slowest_commit = 0.0
        self._slowest_wait = 0.0
        self._executor = ThreadPoolExecutor(
            max_workers=self.parallel, thread_name_prefix="zinbox"
        )

    async def accept(self, row: Dict[str, Any]) -> None:
        """Make an inbox row durable (raises if the database refused it)."""
        await self._submit(row)

    async def finish(
        self, row_id: int, status: str = zalo_store.DONE, error: str | None = None
    ) -> None:
        await self._submit(zalo_store.Finish(row_id, status, error))

    def record_send(self, send: zalo_store.Send) -> None:
        """Queue an outbox record without waiting: it joins the next commit
        (usually with the row's processed mark: one commit instead of two)."""
        done = self._enqueue(send)
        done.add_done_callback(_log_failure)

    async def _submit(self, item: Any) -> None:
        await self._enqueue(item)

    def take_timings(self) -> Dict[str, float]:
        """The longest commit and the longest wait of a write (queued until
        committed), in seconds, since the previous call."""
        timings = {"commit": self._slowest_commit, "wait": self._slowest_wait}
        self._slowest_commit = self._slowest_wait = 0.0
        return timings

    def _enqueue(self, item: Any) -> asyncio.Future:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(self._queue))
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, done, time.perf_counter()))
        return done

    async def _run(self, queue: asyncio.Queue) -> None:
        slots = asyncio.Semaphore(self.parallel)
        while True:
            batch = [await queue.get()]
            # while every slot is busy, later writes gather into this batch
            await slots.acquire()
            while not queue.empty() and len(batch) < MAX_BATCH:
                batch.append(queue.get_nowait())
            commit = asyncio.create_task(self._commit(batch, slots))
            self._commits.add(commit)
            commit.add_done_callback(self._commits.discard)

    async def _commit(self, batch: List[Pending], slots: asyncio.Semaphore) -> None:
        """One transaction for ``batch``; then its slot is free again."""
        items = [item for item, _, _ in batch]
        inserts = [item for item in items if isinstance(item, dict)]
        finishes = [i for i in items if isinstance(i, zalo_store.Finish)]
        sends = [item for item in items if isinstance(item, zalo_store.Send)]
        started = time.perf_counter()
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, zalo_store.apply_batch, inserts, finishes, sends
            )
        except Exception as error:  # the database is down: nobody gets a 200
            logger.error("Zalo inbox: write failed (%s)", type(error).__name__)
            for _, done, _ in batch:
                if not done.done():
                    done.set_exception(error)
            return
        finally:
            slots.release()
        finished = time.perf_counter()
        self._slowest_commit = max(self._slowest_commit, finished - started)
        self._slowest_wait = max(
            self._slowest_wait, finished - min(queued for _, _, queued in batch)
        )
        for _, done, _ in batch:
            if not done.done():
                done.set_result(None)
        if inserts and self.on_committed is not None:
            self.on_committed()

    async def close(self) -> None:
        tasks = [t for t in [self._task, *self._commits] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._executor.shutdown(wait=False)


class InboxWorker:
    """Processes pending rows: per conversation in order, conversations in
    parallel (at most ``concurrency`` handlers at once)."""

    def __init__(
        self,
        handler: Handler,
        finish: Callable[[int, str, str | None], Awaitable[None]] | None = None,
        admit: Callable[[], AsyncContextManager[Any]] | None = None,
        concurrency: int = 8,
        poll_seconds: float = POLL_SECONDS,
        lease: zalo_store.WorkerLease | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.handler = handler
        self.finish = finish or _finish_in_thread
        self.admit = admit  # around each handler call (acks first: priority.py)
        self.poll_seconds = poll_seconds
        self.sleep = sleep
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._queues: Dict[str, Deque[InboxRow]] = {}
        self._runners: Dict[str, asyncio.Task] = {}
        self._in_flight: Set[int] = set()
        self._task: asyncio.Task | None = None
        self._backlog = False
        self._last_purge: float | None = None
        self.lease = lease if lease is not None else zalo_store.WorkerLease()
        self.is_leader = False
        self.idle = asyncio.Event()
        # rows above this id were stored after this worker took the lease: no
        # earlier worker saw them (None: unknown, every row may be handled)
        self._fresh_after: int | None = None
        self._unmarked: Set[int] = set()  # handled, but the done mark failed
        # rows marked done since the current read of pending rows began: that
        # read's snapshot may still show them pending (PostgreSQL's MVCC)
        self._finished_since_read: Set[int] = set()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._runners.values()] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self.lease.release)
        self.is_leader = False
        self._runners.clear()
        self._queues.clear()
        self._in_flight.clear()

    async def _purge_now_and_then(self) -> None:
        """Processed rows go after a week (hourly check, by the worker only)."""
        now = time.monotonic()
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        try:
            purged = await asyncio.to_thread(zalo_store.purge_processed)
        except Exception as error:
            logger.error("Zalo inbox: purge failed (%s)", type(error).__name__)
            return
        if purged:
            logger.info("Zalo inbox: %d processed rows purged", purged)

    async def _hold_lease(self) -> bool:
        try:
            held = await asyncio.to_thread(self.lease.acquire)
        except Exception as error:
            logger.error("Zalo inbox: lease check failed (%s)", type(error).__name__)
            held = False
        if held and not self.is_leader:
            try:  # before reading any row: what a predecessor may have seen
                self._fresh_after = await asyncio.to_thread(zalo_store.max_inbox_id)
            except Exception:
                self._fresh_after = None
        if held != self.is_leader:
            logger.info(
                "Zalo inbox: this process %s the inbox worker",
                "is now" if held else "is no longer",
            )
            self.is_leader = held
        return held

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            if not await self._hold_lease():  # another process works the inbox
                await self.sleep(LEASE_RETRY_SECONDS)
                continue
            await self._purge_now_and_then()
            self._finished_since_read = set()
            try:
                rows = await asyncio.to_thread(zalo_store.pending_rows, 500)
            except Exception as error:
                logger.error("Zalo inbox: read failed (%s)", type(error).__name__)
                rows = []
            fresh = [
                row
                for row in rows
                if row.id not in self._in_flight
                and row.id not in self._finished_since_read
            ]
            for row in fresh:
                self._in_flight.add(row.id)
                if self._is_new(row):
                    row = dataclasses.replace(row, maybe_handled=False)
                key = _queue_key(row)
                self._queues.setdefault(key, collections.deque()).append(row)
                runner = self._runners.get(key)
                if runner is None or runner.done():
                    self._runners[key] = asyncio.create_task(self._drain(key))
            if not self._in_flight:
                self.idle.set()
            else:
                self.idle.clear()
            self._backlog = len(rows) >= 500
            if self._backlog and fresh:
                continue  # more are waiting
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    def _is_new(self, row: InboxRow) -> bool:
        """Whether no attempt at ``row`` can have reached Rasa yet."""
        return (
            self._fresh_after is not None
            and row.id > self._fresh_after
            and row.attempts == 0
            and row.id not in self._unmarked
        )

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        while queue:
            row = queue[0]
            await self._process(row)
            queue.popleft()
            self._in_flight.discard(row.id)
            if self._backlog:
                self.wake()
        self._queues.pop(key, None)
        self._runners.pop(key, None)
        if not self._in_flight:
            self.idle.set()

    async def _process(self, row: InboxRow) -> None:
        if row.unreadable:  # retrying cannot help; kept as failed, with why
            logger.error("Zalo inbox: row %s: %s", row.id, row.unreadable)
            await self._finish(row, FAILED, row.unreadable)
            return
        attempts = row.attempts
        while True:
            try:
                async with self._semaphore:
                    if self.admit is None:
                        await self.handler(row)
                    else:
                        async with self.admit():
                            await self.handler(row)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                reason = type(error).__name__
                # the type only: a message could carry the citizen's words
                logger.error("Zalo inbox: row %s failed (%s)", row.id, reason)
                logger.debug("Zalo inbox: row %s traceback", row.id, exc_info=True)
                try:
                    attempts = await asyncio.to_thread(
                        zalo_store.record_attempt, row.id, reason
                    )
                except Exception:
                    attempts += 1
                if attempts >= MAX_ATTEMPTS:
                    await self._finish(row, FAILED, reason)
                    return
                # the failed attempt may have got as far as Rasa
                row = dataclasses.replace(row, maybe_handled=True)
                await self.sleep(RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1])
                continue
            await self._finish(row)
            return

    async def _finish(
        self, row: InboxRow, status: str = zalo_store.DONE, error: str | None = None
    ) -> None:
        for delay in (0.5, 2.0, 5.0, 10.0):
            try:
                await self.finish(row.id, status, error)
                self._unmarked.discard(row.id)
                self._finished_since_read.add(row.id)
                return
            except Exception as failure:  # handled, but not marked: retry the mark
                logger.error(
                    "Zalo inbox: cannot mark row %s (%s)",
                    row.id,
                    type(failure).__name__,
                )
                await self.sleep(delay)
        # left pending: processed again (here, or after a restart); the handler
        # is idempotent as long as it asks the tracker first
        self._unmarked.add(row.id)


def _log_failure(done: asyncio.Future) -> None:
    if not done.cancelled() and done.exception() is not None:
        logger.error("Zalo outbox: record lost (%s)", type(done.exception()).__name__)


async def _finish_in_thread(row_id: int, status: str, error: str | None) -> None:
    await asyncio.to_thread(zalo_store.finish_row, row_id, status, error)


def _queue_key(row: InboxRow) -> str:
    # echoes wait a little (our own send may not be recorded yet): their own queue
    prefix = "echo|" if row.kind == zalo_store.KIND_ECHO else ""
    return prefix + row.sender_id


def summary(rows: List[InboxRow]) -> Dict[str, int]:
    """Counts per event name (for logs: never the payloads)."""
    return dict(collections.Counter(row.event_name for row in rows))
