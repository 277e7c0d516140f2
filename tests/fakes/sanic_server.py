"""Serve a Sanic app inside the running event loop (tests and benchmarks).

sanic-testing is not a dependency; this starts the real server on a free
127.0.0.1 port with the app's listeners, as ``rasa run`` would.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from typing import AsyncIterator

from sanic import Sanic


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_app(prefix: str = "zalo") -> Sanic:
    """A Sanic app with a unique name (Sanic keeps a registry of names).

    ``test_mode`` lets several apps start in one process (Sanic 21.12 rewrites
    its request handling at start-up, and a second rewrite fails otherwise).
    """
    Sanic.test_mode = True
    return Sanic(f"{prefix}_{uuid.uuid4().hex[:10]}", configure_logging=False)


@contextlib.asynccontextmanager
async def serve(app: Sanic) -> AsyncIterator[str]:
    """Run ``app`` until the block ends; yields its base URL."""
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
