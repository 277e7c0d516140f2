"""A fake Zalo OpenAPI + OAuth server on 127.0.0.1 (random port).

It records every request, keeps the token rules of the real one (access tokens
checked on every call, refresh tokens single use and rotated on refresh) and
can be told to fail: ``expire_tokens()`` (next calls get -216),
``fail_next(code, times)`` (e.g. -32 rate limit, -230 closed 7-day window),
``refresh_delay`` to widen races. ``files`` are served at ``/files/<name>`` so a
file send can be fetched from somewhere. Used by the tests and by
``make zalo-sim`` (``python -m connectors.zalo.sim``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    json: Any = None
    form: Dict[str, str] = field(default_factory=dict)
    files: Dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.perf_counter)  # when it arrived


class FakeZalo:
    def __init__(self, app_secrets: Dict[str, str] | None = None) -> None:
        self.app_secrets = dict(app_secrets or {})  # app_id -> app secret
        self.requests: List[Recorded] = []
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.used_refresh: set[str] = set()
        self.refresh_calls = 0
        self.refresh_delay = 0.0
        self.injected: List[int] = []
        self.files: Dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- set-up
    def issue_tokens(self) -> tuple[str, str]:
        """A fresh valid pair (what an admin's consent would give)."""
        access, refresh = "at-" + secrets.token_hex(6), "rt-" + secrets.token_hex(6)
        self.valid_access.add(access)
        self.valid_refresh.add(refresh)
        return access, refresh

    def expire_tokens(self) -> None:
        self.valid_access.clear()

    def fail_next(self, code: int, times: int = 1) -> None:
        self.injected.extend([code] * times)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def messages(self) -> List[Recorded]:
        return [r for r in self.requests if r.path == "/v3.0/oa/message/cs"]

    # -- handlers
    async def _record(self, request: web.Request) -> Recorded:
        recorded = Recorded(request.method, request.path, dict(request.headers))
        if request.content_type == "application/json":
            recorded.json = json.loads(await request.read())
        elif request.content_type == "application/x-www-form-urlencoded":
            recorded.form = {k: str(v) for k, v in (await request.post()).items()}
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                content = await part.read()
                if part.filename:
                    recorded.files[part.filename] = bytes(content)
                else:
                    recorded.form[str(part.name)] = content.decode()
        self.requests.append(recorded)
        return recorded

    def _token_error(self, request: web.Request) -> web.Response | None:
        if request.headers.get("access_token") not in self.valid_access:
            return web.json_response(
                {"error": -216, "message": "Access token is invalid"}
            )
        if self.injected:
            code = self.injected.pop(0)
            return web.json_response({"error": code, "message": f"injected {code}"})
        return None

    async def message(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        failure = self._token_error(request)
        if failure is not None:
            return failure
        body = recorded.json or {}
        text = (body.get("message") or {}).get("text")
        if isinstance(text, str) and len(text) > 2000:
            return web.json_response({"error": -201, "message": "text is invalid!"})
        return web.json_response(
            {
                "error": 0,
                "message": "Success",
                "data": {
                    "message_id": f"sent{next(self._ids):06d}",
                    "user_id": (body.get("recipient") or {}).get("user_id"),
                },
            }
        )

    async def upload(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        failure = self._token_error(request)
        if failure is not None:
            return failure
        if "file" not in recorded.form and not recorded.files:
            return web.json_response({"error": -201, "message": "file is invalid!"})
        key = "attachment_id" if request.path.endswith("/image") else "token"
        return web.json_response(
            {"error": 0, "message": "Success", "data": {key: f"up{next(self._ids)}"}}
        )

    async def access_token(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        self.refresh_calls += 1
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        form = recorded.form
        app_id = form.get("app_id", "")
        if self.app_secrets.get(app_id) != request.headers.get("secret_key"):
            return web.json_response({"error": -14014, "error_name": "Invalid secret"})
        refresh = form.get("refresh_token", "")
        if form.get("grant_type") != "refresh_token" or refresh not in (
            self.valid_refresh
        ):
            return web.json_response(
                {"error": -14020, "error_name": "Refresh token is invalid"}
            )
        self.valid_refresh.discard(refresh)
        self.used_refresh.add(refresh)
        access, new_refresh = self.issue_tokens()
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": new_refresh,
                "expires_in": "90000",
            }
        )

    async def file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/pdf")

    # -- lifecycle
    def app(self) -> web.Application:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_post("/v3.0/oa/message/cs", self.message)
        app.router.add_post("/v2.0/oa/upload/file", self.upload)
        app.router.add_post("/v2.0/oa/upload/image", self.upload)
        app.router.add_post("/v4/oa/access_token", self.access_token)
        app.router.add_get("/files/{name}", self.file)
        return app

    async def start(self) -> FakeZalo:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeZalo:
        return await self.start()

    async def __aexit__(self, *_: Any) -> None:
        await self.stop()

    def start_in_thread(self) -> FakeZalo:
        """Serve from a background thread (for synchronous callers)."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()

        threading.Thread(target=serve, daemon=True, name="fake-zalo").start()
        ready.wait(10)
        return self
