"""Webhook acks before Rasa turns, on the one event loop they share.

`make run` serves Zalo's webhook and processes the inbox in one Rasa process.
A Rasa turn holds the event loop for 20-35 ms (NLU and policies run
synchronously), so a webhook arriving meanwhile waits, and several turns in a
row make it wait several times that: Zalo wants its 200 within 2 s, we aim at
p99 < 50 ms at 50 concurrent requests. Turns therefore go through
:meth:`AckPriority.turn`:

- a turn starts only when no webhook is in flight and none arrived or was
  answered in the last ``quiet`` seconds (a burst in progress: closed-loop
  senders come back right after their answer), and turns are admitted one at a
  time, each admission first letting the loop read what arrived meanwhile;
- at most ``parallel`` admitted turns run at once: a turn that awaits (the
  action server, Zalo) resumes later whatever the webhooks do, so many of them
  would hold the loop one after the other when a burst lands;
- the deferral is bounded: once turns have waited ``max_defer`` seconds without
  a quiet moment (a flood longer than that), they are admitted anyway, one
  whole turn at a time, each followed by as long a window for the acks as the
  turn took (half the loop each), until the loop is quiet again. Replies are
  late in a flood, never starved; an ack then waits at most one turn.

No Rasa imports; the clock and sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any, AsyncIterator, Awaitable, Callable

QUIET_SECONDS = float(os.environ.get("ZALO_QUIET_SECONDS", 0.02))
MAX_DEFER_SECONDS = float(os.environ.get("ZALO_MAX_DEFER_SECONDS", 1.0))
PARALLEL_TURNS = int(os.environ.get("ZALO_PARALLEL_TURNS", 2))
POLL_SECONDS = 0.002


class AckPriority:
    def __init__(
        self,
        quiet: float = QUIET_SECONDS,
        max_defer: float = MAX_DEFER_SECONDS,
        parallel: int = PARALLEL_TURNS,
        poll: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.quiet_seconds = quiet
        self.max_defer = max_defer
        self.parallel = parallel
        self.poll = poll
        self.clock = clock
        self.sleep = sleep
        self.in_flight = 0
        self.last_activity = float("-inf")  # a webhook arrived or was answered
        self.running = 0  # turns admitted and not finished
        self.deferred_since: float | None = None  # turns waiting since then
        self.share: float | None = None  # in a flood: the acks' time between turns
        self.forced_turns = 0  # turns admitted in a flood (for logs and tests)
        self._admission = asyncio.Lock()

    # -- the webhook side
    def arrived(self) -> None:
        self.in_flight += 1
        self.last_activity = self.clock()

    def answered(self) -> None:
        self.in_flight -= 1
        self.last_activity = self.clock()  # the same client may send again

    def is_quiet(self) -> bool:
        return (
            self.in_flight == 0
            and self.clock() - self.last_activity >= self.quiet_seconds
        )

    # -- the worker side
    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Around one Rasa turn: wait for the webhooks (bounded), then run."""
        await self._admission.acquire()  # one admission at a time
        held = True
        try:
            # first let the loop poll its sockets: requests that arrived while
            # the previous turn held the loop must count before we decide
            await self.sleep(self.poll)
            forced = False
            while True:
                now = self.clock()
                quiet_in = self.quiet_seconds - (now - self.last_activity)
                busy = self.in_flight > 0 or self.running >= self.parallel
                if not busy and quiet_in <= 0:
                    break
                if self.deferred_since is None:
                    self.deferred_since = now
                limit = self.max_defer if self.share is None else self.share
                left = limit - (now - self.deferred_since)
                if left <= 0 and not self.running:
                    forced = True
                    break
                # sleep until something can have changed, not in a tight poll:
                # the end of the quiet window, else a window's length
                step = self.quiet_seconds if busy else quiet_in
                if left > 0:
                    step = min(step, left)
                await self.sleep(max(step, self.poll))
            self.running += 1
            if forced:  # a flood: one whole turn at a time, acks in between
                self.forced_turns += 1
                started = self.clock()
                try:
                    yield
                finally:
                    self.running -= 1
                    # the acks get as long as this turn took: half the loop each
                    self.share = max(self.clock() - started, self.poll)
                    self.deferred_since = self.clock()
                return
            self.deferred_since = None
            self.share = None
            self._admission.release()
            held = False
            try:
                yield
            finally:
                self.running -= 1
        finally:
            if held:
                self._admission.release()
