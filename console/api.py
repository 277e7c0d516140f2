"""The officers' HTTP API (for integrations; the console calls services directly).

``python -m console.api`` serves it on ``CONSOLE_HOST``:``CONSOLE_PORT``
(default 127.0.0.1:8080). Every call but ``/api/health`` needs
``Authorization: Bearer <token>``; each token belongs to one unit and one
officer, and sees only that unit: another unit's ticket, tip, appointment or
application answers 404, exactly like one that does not exist.

Tokens:
- ``var/officer_tokens.yml`` (git-ignored, 0600): SHA-256 hashes of tokens with
  their unit and officer; ``python -m console.api add-token --unit U --officer N``
  makes a token, stores its hash and prints the token once;
- ``OFFICER_API_TOKENS`` = ``token@UNIT@officer,...``;
- ``OFFICER_API_TOKEN`` with ``OFFICER_API_UNIT`` (and ``OFFICER_API_OFFICER``).

Routes (JSON in and out):
  GET  /api/queue                      the unit's handoff queue
  POST /api/queue/claim                {"conversation_id"}: take it, Rasa pauses
  POST /api/queue/reply                {"conversation_id", "text"}: to the citizen
  POST /api/queue/release              {"conversation_id"}: back to the bot
  GET  /api/tips                       the unit's tips (no content)
  GET  /api/tips/<reference>           one tip, decrypted (audit-logged)
  GET  /api/appointments?from=&to=     bookings (YYYY-MM-DD)
  POST /api/applications/<code>/status {"status", "note"}
Every authenticated call is written to ``officer_api_audit``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import secrets
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Coroutine, Dict, List

import yaml
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from services import applications, audit, booking, handoff, privacy, tips
from services.errors import ApplicationNotFound, HandoffError, TipNotFound
from services.rasa_api import RasaUnavailable

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKENS_FILE = PROJECT_ROOT / "var" / "officer_tokens.yml"
DEFAULT_PORT = 8080
MAX_BODY = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Officer:
    name: str
    unit: str


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_tokens(path: Path | None = None) -> Dict[str, Officer]:
    """Token hash -> officer, from the environment and the tokens file."""
    result: Dict[str, Officer] = {}
    for item in filter(None, os.environ.get("OFFICER_API_TOKENS", "").split(",")):
        token, _, rest = item.strip().partition("@")
        unit, _, name = rest.partition("@")
        if token and unit:
            result[_hash(token)] = Officer(name or "officer", unit)
    single = os.environ.get("OFFICER_API_TOKEN")
    if single and os.environ.get("OFFICER_API_UNIT"):
        result[_hash(single)] = Officer(
            os.environ.get("OFFICER_API_OFFICER", "officer"),
            os.environ["OFFICER_API_UNIT"],
        )
    path = path or TOKENS_FILE
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("tokens", []):
            result[str(entry["sha256"])] = Officer(
                str(entry.get("officer", "officer")), str(entry["unit"])
            )
    return result


def add_token(unit: str, officer: str, path: Path | None = None) -> str:
    """Create a token for ``officer`` of ``unit``; only its hash is stored."""
    path = path or TOKENS_FILE
    token = secrets.token_urlsafe(32)
    data: Dict[str, Any] = {"tokens": []}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {"tokens": []}
    data.setdefault("tokens", []).append(
        {"sha256": _hash(token), "unit": unit, "officer": officer}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, allow_unicode=True)
    os.chmod(path, 0o600)
    return token


def _json(data: Any, status: int = 200) -> HTTPResponse:
    def default(value: Any) -> Any:
        if isinstance(value, (dt.date, dt.time, dt.datetime)):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return HTTPResponse(
        json.dumps(data, ensure_ascii=False, default=default),
        status=status,
        content_type="application/json",
    )


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _body(request: Request) -> Dict[str, Any]:
    if len(request.body or b"") > MAX_BODY:
        raise ApiError(413, "body too large")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "the body is not valid JSON") from error
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _text_field(body: Dict[str, Any], name: str, limit: int = 255) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ApiError(400, f"'{name}' must be a non-empty string")
    return value.strip()


def _day(request: Request, name: str) -> dt.date | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise ApiError(400, f"'{name}' must be a date YYYY-MM-DD") from error


Handler = Callable[..., Coroutine[Any, Any, Any]]
Route = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def create_app(
    name: str = "officer_api",
    tokens: Dict[str, Officer] | None = None,
    app: Sanic | None = None,
) -> Sanic:
    """The API app; ``tokens`` (hash -> officer) default to :func:`load_tokens`.

    Given ``app`` (the web console), the routes are added to it instead.
    """
    privacy.install()
    app = app or Sanic(name)
    known = tokens if tokens is not None else load_tokens()

    def authenticated(handler: Handler) -> Route:
        @functools.wraps(handler)
        async def wrapper(request: Request, **params: Any) -> HTTPResponse:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            digest = _hash(token.strip()) if scheme.lower() == "bearer" else ""
            officer = next(
                (o for h, o in known.items() if hmac.compare_digest(h, digest)), None
            )
            if officer is None:
                return _json({"error": "unauthorized"}, 401)
            try:
                result = await handler(request, officer, **params)
                reply = _json(result)
            except ApiError as error:
                reply = _json({"error": error.message}, error.status)
            except (TipNotFound, ApplicationNotFound, handoff.TicketNotFound):
                reply = _json({"error": "not found"}, 404)
            except RasaUnavailable:
                reply = _json({"error": "the assistant could not be reached"}, 502)
            except HandoffError as error:
                reply = _json({"error": str(error)}, 409)
            audit.record(
                officer.name, officer.unit, request.method, request.path, reply.status
            )
            return reply

        return wrapper

    @app.get("/api/health")
    async def health(request: Request) -> HTTPResponse:
        return _json({"status": "ok"})

    @app.get("/api/queue")
    @authenticated
    async def queue(request: Request, officer: Officer) -> Any:
        return {"tickets": [_plain(t) for t in handoff.queue(officer.unit)]}

    @app.post("/api/queue/claim")
    @authenticated
    async def claim(request: Request, officer: Officer) -> Any:
        conversation = _text_field(_body(request), "conversation_id")
        ticket = await handoff.claim(conversation, officer.name, officer.unit)
        return _plain(ticket)

    @app.post("/api/queue/reply")
    @authenticated
    async def reply(request: Request, officer: Officer) -> Any:
        body = _body(request)
        conversation = _text_field(body, "conversation_id")
        text = _text_field(body, "text", limit=2000)
        await handoff.reply(conversation, officer.name, officer.unit, text)
        return {"status": "sent"}

    @app.post("/api/queue/release")
    @authenticated
    async def release(request: Request, officer: Officer) -> Any:
        conversation = _text_field(_body(request), "conversation_id")
        ticket = await handoff.release(conversation, officer.name, officer.unit)
        return _plain(ticket)

    @app.get("/api/tips")
    @authenticated
    async def list_tips(request: Request, officer: Officer) -> Any:
        return {"tips": [_plain(t) for t in tips.list_tips(officer.unit)]}

    @app.get("/api/tips/<reference:str>")
    @authenticated
    async def read_tip(request: Request, officer: Officer, reference: str) -> Any:
        return _plain(tips.get_tip(reference, officer.unit, officer=officer.name))

    @app.get("/api/appointments")
    @authenticated
    async def appointments(request: Request, officer: Officer) -> Any:
        views = booking.list_appointments(
            officer.unit, _day(request, "from"), _day(request, "to")
        )
        return {"appointments": [_plain(v) for v in views]}

    @app.post("/api/applications/<code:str>/status")
    @authenticated
    async def application_status(request: Request, officer: Officer, code: str) -> Any:
        body = _body(request)
        status = _text_field(body, "status", limit=32)
        note = body.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > 1000):
            raise ApiError(400, "'note' must be a string")
        if status not in applications.statuses():
            raise ApiError(
                400, f"unknown status; use one of {list(applications.statuses())}"
            )
        view = applications.update_status(
            code, status, note, officer.name, officer.unit
        )
        return _plain(view)

    return app


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.api")
    commands = parser.add_subparsers(dest="command")
    token = commands.add_parser("add-token", help="create a token for an officer")
    token.add_argument("--unit", required=True)
    token.add_argument("--officer", required=True)
    args = parser.parse_args(argv)
    if args.command == "add-token":
        print(add_token(args.unit, args.officer))
        print(
            f"(stored as a hash in {TOKENS_FILE}; this is the only copy)",
            file=sys.stderr,
        )
        return 0
    port = int(os.environ.get("CONSOLE_PORT", DEFAULT_PORT))
    host = os.environ.get("CONSOLE_HOST", "127.0.0.1")
    create_app(f"officer_api_{uuid.uuid4().hex[:6]}").run(
        host=host, port=port, access_log=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
