"""Webhook acks before Rasa turns (connectors/zalo/priority.py), on a fake clock:
turns wait for the webhooks, but never longer than the bound; in a flood they
take turns with the acks; at most ``parallel`` turns at once."""

from __future__ import annotations

import asyncio
from typing import Callable, List

from connectors.zalo.priority import AckPriority


class Clock:
    """Time moves only when someone sleeps (each sleep also yields)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def priority(clock: Clock, **options: float) -> AckPriority:
    settings = {"quiet": 0.02, "max_defer": 1.0, "parallel": 2, "poll": 0.002}
    settings.update(options)
    return AckPriority(clock=clock, sleep=clock.sleep, **settings)  # type: ignore[arg-type]


async def spin(condition: Callable[[], bool], turns: int = 100_000) -> None:
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never reached")


def test_a_turn_waits_for_the_webhook_in_flight_and_a_quiet_moment() -> None:
    async def main() -> None:
        clock = Clock()
        gate = priority(clock)
        started: List[float] = []

        async def turn() -> None:
            async with gate.turn():
                started.append(clock.now)

        gate.arrived()
        task = asyncio.create_task(turn())
        await spin(lambda: clock.now >= 0.5)
        assert started == []  # half a second with a webhook in flight: waits
        gate.answered()
        answered_at = clock.now
        await task
        assert answered_at + 0.02 <= started[0] < answered_at + 0.03
        assert gate.forced_turns == 0 and gate.running == 0

    asyncio.run(main())


def test_a_flood_defers_turns_at_most_max_defer_then_shares_the_loop() -> None:
    async def main() -> None:
        clock = Clock()
        gate = priority(clock)
        spans: List[tuple] = []

        async def turn() -> None:
            async with gate.turn():
                began = clock.now
                await clock.sleep(0.03)  # the turn's own time
                spans.append((began, clock.now))

        gate.arrived()  # webhooks never stop: one is always in flight
        tasks = [asyncio.create_task(turn()) for _ in range(3)]
        await spin(lambda: len(spans) == 3)
        (b1, e1), (b2, e2), (b3, _) = spans
        assert b1 >= 1.0 and b1 < 1.01  # bounded: processing is late, never starved
        assert e1 + 0.03 <= b2 < e1 + 0.04  # then the acks get a turn's length
        assert e2 + 0.03 <= b3 < e2 + 0.04  # one whole turn at a time
        assert gate.forced_turns == 3
        gate.answered()  # the flood is over: back to quiet admission
        await asyncio.gather(*tasks)
        done = clock.now
        await turn()
        assert spans[-1][0] < done + 0.03 and gate.forced_turns == 3
        assert gate.share is None and gate.deferred_since is None

    asyncio.run(main())


def test_at_most_parallel_turns_run_at_once() -> None:
    async def main() -> None:
        clock = Clock()
        gate = priority(clock, parallel=2)
        release = asyncio.Event()
        started: List[int] = []

        async def turn(n: int) -> None:
            async with gate.turn():
                started.append(n)
                await release.wait()

        tasks = [asyncio.create_task(turn(n)) for n in range(3)]
        await spin(lambda: len(started) == 2)
        await spin(lambda: clock.now >= 2.0)  # long enough to be forced...
        assert started == [0, 1] and gate.running == 2  # ...but never a third
        release.set()
        await asyncio.gather(*tasks)
        assert started == [0, 1, 2] and gate.running == 0

    asyncio.run(main())
