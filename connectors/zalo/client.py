"""An async client for the Zalo OA OpenAPI v3: messages, uploads, tokens.

aiohttp only, no Rasa imports: the Rasa output channel, the officer console and
reminders all send through it. Rules it keeps (see shared/reference/zalo-oa.md):

- text is NFC-normalised and cut at 2000 characters on sentence boundaries;
- Zalo reports business errors with HTTP 200 and ``error != 0``: every answer
  is checked;
- tokens: refreshed ahead of expiry and on an expired-token error, one refresh
  per OA at a time: in the process (``asyncio.Lock``) and across processes (the
  Rasa server and the officer console share the OA: a database lock, under
  which the stored pair is read again, so whoever waited uses the token the
  other one got instead of spending the refresh token twice); the rotated pair
  is written to the database before it is used (refresh tokens are single use:
  losing the new one loses the OA);
- a send is retried once after a refresh, backs off on rate limits, and gives
  up and is recorded on errors that retrying cannot fix (the 7-day window).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import (
    Any,
    AsyncContextManager,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    List,
    Protocol,
)

import aiohttp
from sqlalchemy.engine import Engine

from connectors.zalo.config import OAConfig, Registry
from services import zalo_store
from services.zalo_store import TokenRecord, fingerprint, utcnow

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 35
MAX_BUTTON_PAYLOAD = 1000
MAX_FILE_BYTES = 5 * 1024 * 1024
REFRESH_MARGIN = dt.timedelta(hours=1)
RATE_LIMIT_DELAYS = (1.0, 3.0, 8.0)
TOKEN_LOCK_WAIT = 60.0  # seconds: longer than a refresh call (15 s timeout)
TOKEN_LOCK_POLL = 0.05

TOKEN_ERRORS = {-216, -220, -124}
RATE_ERRORS = {-32}
# retrying cannot help: the user is out of reach for now (7-day window & co.)
WINDOW_ERRORS = {-213, -217, -227, -230, -232, -234, -244}
SENT_IDS_KEPT = 5000
MORE_BUTTONS_TEXT = "Dạ, anh/chị có thể chọn thêm:"


class ZaloError(Exception):
    """Zalo refused a call; ``code`` is Zalo's error number (or the HTTP status)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code
        self.message = message


class ZaloWindowClosed(ZaloError):
    """The user cannot be messaged now (no interaction within 7 days, blocked)."""


class ZaloGrantLost(ZaloError):
    """The refresh token was refused: an OA admin must authorise the app again."""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message_id: str | None = None
    error_code: int | None = None
    error_text: str | None = None


# ---- text -----------------------------------------------------------------------

_SENTENCE_RE = re.compile(r"[^.!?…\n]*(?:[.!?…]+[\"'”’)\]]*|\n+|$)\s*")


def _pieces(text: str, limit: int) -> List[str]:
    """Sentences with their trailing space; longer ones cut at words, then hard."""
    pieces: List[str] = []
    for sentence in _SENTENCE_RE.findall(text):
        if not sentence:
            continue
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        for word in re.findall(r"\S+\s*", sentence):
            while len(word) > limit:
                pieces.append(word[:limit])
                word = word[limit:]
            if word:
                pieces.append(word)
    return pieces


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> List[str]:
    """NFC text in chunks of at most ``limit`` characters, cut between sentences
    where possible (then between words); no chunk is empty."""
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: List[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if len(current) + len(piece.rstrip()) <= limit:
            current += piece
        else:
            if current.strip():
                chunks.append(current.strip())
            current = piece
    if current.strip():
        chunks.append(current.strip())
    return chunks


def _title(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text)).strip()
    return text if len(text) <= MAX_BUTTON_TITLE else text[: MAX_BUTTON_TITLE - 1] + "…"


def zalo_button(button: Dict[str, Any]) -> Dict[str, Any] | None:
    """A Rasa button as a Zalo template button; None when it cannot be one.

    ``/intent{...}`` payloads use ``oa.query.hide`` (Zalo sends the payload back
    as the user's text without showing it), plain text ``oa.query.show``; URLs
    open in the browser; ``tel:`` numbers start a call.
    """
    title = _title(button.get("title") or "")
    url = button.get("url")
    payload = button.get("payload")
    if not title:
        return None
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return {"title": title, "type": "oa.open.url", "payload": {"url": url}}
    if not isinstance(payload, str) or not payload.strip():
        return None
    payload = unicodedata.normalize("NFC", payload.strip())
    if payload.startswith("tel:"):
        return {
            "title": title,
            "type": "oa.open.phone",
            "payload": {"phone_code": payload[4:].strip()},
        }
    if payload.startswith(("http://", "https://")):
        return {"title": title, "type": "oa.open.url", "payload": {"url": payload}}
    if len(payload) > MAX_BUTTON_PAYLOAD:
        return None
    kind = "oa.query.hide" if payload.startswith("/") else "oa.query.show"
    return {"title": title, "type": kind, "payload": payload}


# ---- tokens ---------------------------------------------------------------------


class TokenStore(Protocol):
    async def load(self, oa_id: str) -> TokenRecord | None: ...

    async def save(self, oa_id: str, record: TokenRecord) -> None: ...

    def refresh_lock(self, oa_id: str) -> AsyncContextManager[None]:
        """Held around a refresh: one refresh per OA across processes."""
        ...


class DbTokenStore:
    """Tokens in ``zalo_tokens`` (services/zalo_store.py), off the event loop."""

    def __init__(self, bind: Engine | None = None) -> None:
        self.bind = bind

    async def load(self, oa_id: str) -> TokenRecord | None:
        return await asyncio.to_thread(zalo_store.load_tokens, oa_id, self.bind)

    async def save(self, oa_id: str, record: TokenRecord) -> None:
        await asyncio.to_thread(zalo_store.save_tokens, oa_id, record, self.bind)

    @contextlib.asynccontextmanager
    async def refresh_lock(self, oa_id: str) -> AsyncIterator[None]:
        """``zalo_store.TokenLock``, polled without blocking the event loop."""
        lock = zalo_store.TokenLock(oa_id, self.bind)
        deadline = time.monotonic() + TOKEN_LOCK_WAIT
        while not await asyncio.to_thread(lock.try_acquire):
            if time.monotonic() > deadline:
                raise ZaloError(-1, "another process holds the token refresh")
            await asyncio.sleep(TOKEN_LOCK_POLL)
        try:
            yield
        finally:
            await asyncio.to_thread(lock.release)


class _OAState:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.tokens: TokenRecord | None = None


# ---- the client -------------------------------------------------------------------

Recorder = Callable[[str, str, SendResult], Awaitable[None]]


async def record_in_db(oa_id: str, user_id: str, result: SendResult) -> None:
    await asyncio.to_thread(
        zalo_store.record_send,
        oa_id,
        user_id,
        result.message_id,
        "sent" if result.ok else "failed",
        result.error_code,
        result.error_text,
    )


class ZaloClient:
    def __init__(
        self,
        registry: Registry,
        token_store: TokenStore | None = None,
        recorder: Recorder | None = record_in_db,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        timeout: float = 15.0,
    ) -> None:
        self.registry = registry
        self.token_store: TokenStore = token_store or DbTokenStore()
        self.recorder = recorder
        self.sleep = sleep
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._states: Dict[str, _OAState] = {}
        self._session: aiohttp.ClientSession | None = None
        self.sent_ids: Dict[str, float] = {}  # recent message ids, for echoes

    # -- plumbing
    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def oa(self, oa_id: str) -> OAConfig:
        oa = self.registry.get(oa_id)
        if oa is None:
            raise KeyError(f"unknown OA {oa_id}")
        return oa

    def _state(self, oa_id: str) -> _OAState:
        if oa_id not in self._states:
            self._states[oa_id] = _OAState()
        return self._states[oa_id]

    # -- tokens
    async def _current(self, oa: OAConfig) -> TokenRecord:
        """The OA's tokens: the database's rotated pair when it descends from the
        file's refresh token, else the file's (an admin re-authorised)."""
        state = self._state(oa.oa_id)
        if state.tokens is None:
            seed = fingerprint(oa.refresh_token)
            stored = await self.token_store.load(oa.oa_id)
            if stored is not None and stored.seed_fingerprint == seed:
                state.tokens = stored
            else:
                state.tokens = TokenRecord(
                    oa.access_token, oa.refresh_token, None, seed
                )
        return state.tokens

    async def access_token(self, oa: OAConfig) -> str:
        tokens = await self._current(oa)
        if tokens.expires_at is not None and tokens.expires_at - utcnow() < (
            REFRESH_MARGIN
        ):
            return await self.refresh(oa, tokens.access_token)
        return tokens.access_token

    async def refresh(self, oa: OAConfig, stale_access_token: str) -> str:
        """Refresh once for everyone holding ``stale_access_token``: the sends
        of this process (asyncio lock) and of other processes (database lock)."""
        state = self._state(oa.oa_id)
        async with state.lock:
            tokens = await self._current(oa)
            if tokens.access_token != stale_access_token:
                return tokens.access_token  # another send refreshed meanwhile
            async with self.token_store.refresh_lock(oa.oa_id):
                stored = await self.token_store.load(oa.oa_id)
                if (
                    stored is not None
                    and stored.seed_fingerprint == tokens.seed_fingerprint
                ):
                    state.tokens = tokens = stored
                    if stored.access_token != stale_access_token:
                        # another process rotated it: use theirs, never spend
                        # the old refresh token a second time
                        return stored.access_token
                return await self._refresh_now(oa, tokens)

    async def _refresh_now(self, oa: OAConfig, tokens: TokenRecord) -> str:
        """Call Zalo's OAuth with ``tokens``' refresh token (locks held)."""
        state = self._state(oa.oa_id)
        url = f"{self.registry.oauth_base}/v4/oa/access_token"
        form = {
            "refresh_token": tokens.refresh_token,
            "app_id": oa.app_id,
            "grant_type": "refresh_token",
        }
        session = self._session_now()
        async with session.post(
            url, data=form, headers={"secret_key": oa.app_secret}
        ) as response:
            try:
                body = await response.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                body = None
        if not isinstance(body, dict) or not body.get("access_token"):
            code = body.get("error", -1) if isinstance(body, dict) else -1
            logger.error(
                "Zalo OA %s: token refresh refused (%s). An OA admin must "
                "authorise the app again.",
                oa.oa_id,
                code,
            )
            raise ZaloGrantLost(
                int(code) if isinstance(code, int) else -1, "refresh refused"
            )
        try:
            lifetime = int(body.get("expires_in") or 90000)
        except (TypeError, ValueError):
            lifetime = 90000
        new = TokenRecord(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or tokens.refresh_token),
            expires_at=utcnow() + dt.timedelta(seconds=lifetime),
            seed_fingerprint=tokens.seed_fingerprint,
        )
        await self.token_store.save(oa.oa_id, new)  # persisted before use
        state.tokens = new
        logger.info("Zalo OA %s: access token refreshed", oa.oa_id)
        return new.access_token

    # -- calls
    async def _request_once(
        self,
        oa: OAConfig,
        token: str,
        path: str,
        payload: Dict[str, Any] | None = None,
        form: aiohttp.FormData | None = None,
    ) -> Dict[str, Any]:
        url = f"{self.registry.openapi_base}{path}"
        headers = {"access_token": token}
        session = self._session_now()
        async with session.post(
            url, json=payload if form is None else None, data=form, headers=headers
        ) as response:
            status = response.status
            try:
                body = await response.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                body = None
        if status == 401:
            raise ZaloError(-216, "HTTP 401")
        if status == 429:
            raise ZaloError(-32, "HTTP 429")
        if not isinstance(body, dict):
            raise ZaloError(-status if status >= 400 else -1, f"HTTP {status}")
        code = body.get("error", 0)
        if code not in (0, "0", None):
            code = int(code) if str(code).lstrip("-").isdigit() else -1
            text = str(body.get("message") or "")[:200]
            if code in WINDOW_ERRORS:
                raise ZaloWindowClosed(code, text)
            raise ZaloError(code, text)
        return body

    async def call(
        self,
        oa: OAConfig,
        path: str,
        payload: Dict[str, Any] | None = None,
        form_factory: Callable[[], aiohttp.FormData] | None = None,
    ) -> Dict[str, Any]:
        """POST with the OA's token: refresh and retry once on an expired token,
        back off on rate limits, raise on anything else."""
        refreshed = False
        delays = list(RATE_LIMIT_DELAYS)
        while True:
            token = await self.access_token(oa)
            try:
                return await self._request_once(
                    oa, token, path, payload, form_factory() if form_factory else None
                )
            except ZaloWindowClosed:
                raise
            except ZaloError as error:
                if error.code in TOKEN_ERRORS and not refreshed:
                    refreshed = True
                    await self.refresh(oa, token)
                    continue
                if error.code in RATE_ERRORS and delays:
                    await self.sleep(delays.pop(0))
                    continue
                raise

    async def send_message(
        self, oa_id: str, user_id: str, message: Dict[str, Any]
    ) -> SendResult:
        """One consultation message; never raises for Zalo's refusals (they are
        recorded, and a closed window is not worth retrying)."""
        oa = self.oa(oa_id)
        body = {"recipient": {"user_id": user_id}, "message": message}
        try:
            answer = await self.call(oa, "/v3.0/oa/message/cs", body)
            data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
            assert isinstance(data, dict)
            message_id = str(data.get("message_id") or "") or None
            result = SendResult(ok=True, message_id=message_id)
            if message_id:
                self._remember(message_id)
        except ZaloError as error:
            level = (
                logging.INFO if isinstance(error, ZaloWindowClosed) else logging.ERROR
            )
            logger.log(level, "Zalo OA %s: send failed (%s)", oa_id, error.code)
            result = SendResult(
                ok=False, error_code=error.code, error_text=error.message
            )
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("Zalo OA %s: send failed (%s)", oa_id, type(error).__name__)
            result = SendResult(
                ok=False, error_code=-1, error_text=type(error).__name__
            )
        if self.recorder is not None:
            try:
                await self.recorder(oa_id, user_id, result)
            except Exception:  # the send happened; a failed record must not undo it
                logger.exception("Zalo OA %s: could not record a send", oa_id)
        return result

    def _remember(self, message_id: str) -> None:
        """Recent sent ids, to recognise our own echoes (older ones: the outbox)."""
        now = time.monotonic()
        self.sent_ids[message_id] = now
        if len(self.sent_ids) > SENT_IDS_KEPT:
            cutoff = now - 600
            for key in [k for k, at in self.sent_ids.items() if at < cutoff]:
                del self.sent_ids[key]

    # -- message kinds
    async def send_text(
        self,
        oa_id: str,
        user_id: str,
        text: str,
        buttons: List[Dict[str, Any]] | None = None,
    ) -> List[SendResult]:
        """Text in ≤ 2000-character parts; buttons (≤ 5 per message) on the last."""
        chunks = split_text(text) or ([MORE_BUTTONS_TEXT] if buttons else [])
        zalo_buttons = [b for b in (zalo_button(x) for x in buttons or []) if b]
        results: List[SendResult] = []
        for index, chunk in enumerate(chunks):
            message: Dict[str, Any] = {"text": chunk}
            if index == len(chunks) - 1 and zalo_buttons:
                message["attachment"] = _buttons_template(zalo_buttons[:MAX_BUTTONS])
            results.append(await self.send_message(oa_id, user_id, message))
        rest = zalo_buttons[MAX_BUTTONS:]
        while rest:
            message = {
                "text": MORE_BUTTONS_TEXT,
                "attachment": _buttons_template(rest[:MAX_BUTTONS]),
            }
            results.append(await self.send_message(oa_id, user_id, message))
            rest = rest[MAX_BUTTONS:]
        return results

    async def send_image(
        self, oa_id: str, user_id: str, url: str, caption: str | None = None
    ) -> SendResult:
        message: Dict[str, Any] = {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "image", "url": url}],
                },
            }
        }
        if caption:
            message["text"] = split_text(caption)[0]
        return await self.send_message(oa_id, user_id, message)

    async def upload_file(self, oa_id: str, content: bytes, name: str) -> str:
        """Upload a document (PDF/DOC, ≤ 5 MB); returns Zalo's file token."""
        oa = self.oa(oa_id)

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("file", content, filename=name)
            return data

        answer = await self.call(oa, "/v2.0/oa/upload/file", form_factory=form)
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        assert isinstance(data, dict)
        token = data.get("token")
        if not token:
            raise ZaloError(-1, "upload answered without a token")
        return str(token)

    async def fetch(self, url: str) -> bytes:
        """Download a file we are about to send (our own forms, ≤ 5 MB)."""
        session = self._session_now()
        async with session.get(url) as response:
            if response.status != 200:
                raise ZaloError(
                    -response.status, f"download failed: HTTP {response.status}"
                )
            content = await response.content.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            raise ZaloError(-1, "file larger than 5 MB")
        return content

    async def send_file(
        self, oa_id: str, user_id: str, url: str, name: str | None = None
    ) -> SendResult:
        """Fetch ``url``, upload it to Zalo, send it (forms go out this way)."""
        name = name or url.rstrip("/").rsplit("/", 1)[-1] or "tep.pdf"
        try:
            content = await self.fetch(url)
            token = await self.upload_file(oa_id, content, name)
        except ZaloError as error:
            logger.error("Zalo OA %s: file not sent (%s)", oa_id, error.code)
            result = SendResult(
                ok=False, error_code=error.code, error_text=error.message
            )
            if self.recorder is not None:
                await self.recorder(oa_id, user_id, result)
            return result
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("Zalo OA %s: file not sent (%s)", oa_id, type(error).__name__)
            result = SendResult(
                ok=False, error_code=-1, error_text=type(error).__name__
            )
            if self.recorder is not None:
                await self.recorder(oa_id, user_id, result)
            return result
        return await self.send_message(
            oa_id,
            user_id,
            {"attachment": {"type": "file", "payload": {"token": token}}},
        )

    async def send_request_user_info(
        self, oa_id: str, user_id: str, title: str, subtitle: str, image_url: str
    ) -> SendResult:
        """Zalo's form asking the user to share name and phone (→ user_submit_info)."""
        element = {"title": title, "subtitle": subtitle, "image_url": image_url}
        message = {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "request_user_info",
                    "elements": [element],
                },
            }
        }
        return await self.send_message(oa_id, user_id, message)

    # -- outbound messages outside a Rasa turn (services/outbound.py)
    async def send_outbound(
        self, sender_id: str, text: str, metadata: Dict[str, Any]
    ) -> None:
        """The "zalo" outbound sender: ``sender_id`` is ``<oa_id>:<user_id>``.
        Raises ZaloError when Zalo refuses, so the officer sees it failed."""
        oa_id, _, user_id = sender_id.partition(":")
        if not user_id or self.registry.get(oa_id) is None:
            raise ZaloError(-201, "not a Zalo conversation of this deployment")
        buttons = metadata.get("buttons") if isinstance(metadata, dict) else None
        results = await self.send_text(oa_id, user_id, text, buttons or None)
        failed = [r for r in results if not r.ok]
        if failed:
            raise ZaloError(failed[0].error_code or -1, failed[0].error_text or "")
        attachment = metadata.get("attachment") if isinstance(metadata, dict) else None
        if isinstance(attachment, dict) and attachment.get("url"):
            result = await self.send_file(
                oa_id, user_id, str(attachment["url"]), attachment.get("name")
            )
            if not result.ok:
                raise ZaloError(result.error_code or -1, result.error_text or "")


def register_outbound() -> ZaloClient | None:
    """For processes other than Rasa (the officer console, reminders): load the
    OA file and register the "zalo" outbound sender. None when Zalo is off."""
    from connectors.zalo.config import load_registry
    from services import outbound

    registry = load_registry()
    if registry is None:
        return None
    client = ZaloClient(registry)
    outbound.register("zalo", client.send_outbound)
    return client


def _buttons_template(buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"type": "template", "payload": {"buttons": buttons}}


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, as Zalo sends it (used by the fake and the simulator)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
