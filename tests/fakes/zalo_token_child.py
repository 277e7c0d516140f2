"""A second process sending through the same OA (like the officer console next
to the Rasa server): ``python -m tests.fakes.zalo_token_child USER COUNT``.

DATABASE_URL, ZALO_OAS_FILE and the Zalo bases come from the environment. It
prints ``ready``, waits for a line on stdin (so both processes send at once),
sends COUNT texts to USER of the first OA and prints one JSON line: the results.
"""

from __future__ import annotations

import asyncio
import json
import sys

from connectors.zalo.client import ZaloClient
from connectors.zalo.config import load_registry


async def main(user: str, count: int) -> None:
    registry = load_registry()
    assert registry is not None, "no OA file"
    client = ZaloClient(registry)
    oa_id = next(iter(registry.oas))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    results = await asyncio.gather(
        *(client.send_text(oa_id, user, f"cán bộ trả lời {n}") for n in range(count))
    )
    await client.close()
    print(json.dumps([r.ok for [r] in results]), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
