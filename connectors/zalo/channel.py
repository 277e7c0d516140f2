"""The Zalo OA channel for Rasa 3.6: ``POST /webhooks/zalo/webhook``.

The webhook only checks and stores: size, JSON, OA, signature, freshness, then
one row in the durable inbox (``services/zalo_store.py``), then 200. Everything
else happens in the background worker (``inbox.py``), which hands each
conversation's messages to Rasa one at a time, in order. Answers:

- 400: not JSON, not a Zalo event, or a body over 1 MB;
- 401: signature missing, forged, or the event is stale (outside the window);
- 404: an OA this deployment does not serve (or no OA file: channel off);
- 429 + Retry-After: the inbox could not be written. Zalo retries any non-2xx,
  so nothing accepted is lost; a 5xx is never sent (the issue forbids it, and a
  storage outage is "come back later", not a bug in the request);
- 200: stored (or a duplicate of a stored event, or an event we ignore).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import time
from typing import Any, Awaitable, Callable, Dict, List, Protocol

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import ConversationPaused, UserUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import answered, tracker_is_paused
from connectors.zalo import events, signature
from connectors.zalo.client import SendResult, ZaloClient, split_text
from connectors.zalo.config import OAFileError, Registry, load_registry
from connectors.zalo.inbox import InboxWorker, InboxWriter
from connectors.zalo.priority import AckPriority
from services import outbound, zalo_store
from services.zalo_store import InboxRow, utcnow
from vietnamese.text import sanitize

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_EVENT_AGE_SECONDS = float(os.environ.get("ZALO_MAX_EVENT_AGE_SECONDS", 6 * 3600))
MAX_CLOCK_SKEW_SECONDS = 600.0
ECHO_GRACE_SECONDS = float(os.environ.get("ZALO_ECHO_GRACE_SECONDS", 3.0))
RETRY_AFTER_SECONDS = "30"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class ConversationControl(Protocol):
    """What the worker needs from Rasa besides ``on_new_message``."""

    async def ready(self) -> None: ...

    async def already_handled(self, sender_id: str, message_id: str) -> bool: ...

    async def pause(self, sender_id: str) -> None: ...

    async def is_paused(self, sender_id: str) -> bool: ...


class AgentControl:
    """ConversationControl through the Rasa server's agent (``app.ctx.agent``)."""

    def __init__(self, app: Sanic) -> None:
        self.app = app

    def _agent(self) -> Any:
        return getattr(self.app.ctx, "agent", None)

    async def ready(self) -> None:
        while True:  # the model may still be loading: wait, do not drop messages
            agent = self._agent()
            if agent is not None and agent.is_ready():
                return
            await asyncio.sleep(0.5)

    async def already_handled(self, sender_id: str, message_id: str) -> bool:
        tracker = await self._agent().tracker_store.retrieve(sender_id)
        if tracker is None:
            return False
        return any(
            isinstance(event, UserUttered) and event.message_id == message_id
            for event in tracker.events
        )

    async def is_paused(self, sender_id: str) -> bool:
        return await tracker_is_paused(self._agent)(sender_id)

    async def pause(self, sender_id: str) -> None:
        agent = self._agent()
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
            if not tracker.is_paused():
                tracker.update(ConversationPaused())
                await agent.tracker_store.save(tracker)


def _split_sender(recipient_id: str) -> tuple[str, str]:
    oa_id, _, user_id = recipient_id.partition(":")
    return oa_id, user_id


class ZaloOutput(OutputChannel):
    """Rasa's replies as Zalo consultation messages (through ZaloClient)."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        oa_id, user_id = _split_sender(recipient_id)
        await self.client.send_text(oa_id, user_id, text)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        oa_id, user_id = _split_sender(recipient_id)
        await self.client.send_text(oa_id, user_id, text, buttons)

    async def send_quick_replies(
        self,
        recipient_id: str,
        text: str,
        quick_replies: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(
        self, recipient_id: str, image: str, **kwargs: Any
    ) -> None:
        oa_id, user_id = _split_sender(recipient_id)
        await self.client.send_image(oa_id, user_id, image)

    async def send_attachment(
        self, recipient_id: str, attachment: Any, **kwargs: Any
    ) -> None:
        """A URL or ``{"type": "file"|"image", "url", "name"}``: files are fetched,
        uploaded to Zalo and sent (how forms reach the citizen)."""
        oa_id, user_id = _split_sender(recipient_id)
        if isinstance(attachment, str):
            attachment = {"type": "file", "url": attachment}
        if not isinstance(attachment, dict) or not isinstance(
            attachment.get("url"), str
        ):
            logger.warning("Zalo: an attachment without a URL was not sent")
            return
        if attachment.get("type") == "image":
            await self.client.send_image(oa_id, user_id, attachment["url"])
        else:
            await self.client.send_file(
                oa_id, user_id, attachment["url"], attachment.get("name")
            )

    async def send_custom_json(
        self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any
    ) -> None:
        """``{"type": "file", "url", "name"}`` sends a file;
        ``{"type": "request_user_info", "title", "subtitle", "image_url"}`` asks
        for name and phone (the answer comes back as ``user_submit_info``);
        ``{"zalo": {...}}`` (or a bare Zalo ``message`` object) goes out as written."""
        oa_id, user_id = _split_sender(recipient_id)
        if json_message.get("type") in ("file", "image") and json_message.get("url"):
            await self.send_attachment(recipient_id, json_message)
            return
        if json_message.get("type") == "request_user_info":
            await self.client.send_request_user_info(
                oa_id,
                user_id,
                str(json_message.get("title") or ""),
                str(json_message.get("subtitle") or ""),
                str(json_message.get("image_url") or ""),
            )
            return
        message = json_message.get("zalo", json_message)
        if isinstance(message, dict) and ("text" in message or "attachment" in message):
            await self.client.send_message(oa_id, user_id, message)
        else:
            logger.warning("Zalo: a custom message of unknown shape was not sent")

    async def send_elements(
        self, recipient_id: str, elements: Any, **kwargs: Any
    ) -> None:
        for element in elements if isinstance(elements, list) else []:
            if not isinstance(element, dict):
                continue
            text = "\n".join(
                str(element[key]) for key in ("title", "subtitle") if element.get(key)
            )
            if element.get("image_url"):
                await self.send_image_url(recipient_id, str(element["image_url"]))
            if text or element.get("buttons"):
                await self.send_text_with_buttons(
                    recipient_id, text, element.get("buttons") or []
                )


def _text_of(raw: bytes, event: Dict[str, Any]) -> str:
    """The body as stored: the bytes as received when they are UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # JSON may arrive as UTF-16/32
        return json.dumps(event, ensure_ascii=False)


def _reply(status: int, reason: str, **headers: str) -> HTTPResponse:
    return response.json({"status": reason}, status=status, headers=headers or None)


class ZaloInput(InputChannel):
    """Many OAs from one deployment; each message's sender is ``<oa_id>:<user_id>``."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(oas_file=credentials.get("oas_file"))

    def __init__(
        self,
        oas_file: str | None = None,
        registry: Registry | None = None,
        client: ZaloClient | None = None,
        control_factory: Callable[[Sanic], ConversationControl] = AgentControl,
    ) -> None:
        if registry is None:
            try:
                registry = load_registry(oas_file)  # type: ignore[arg-type]
                if registry is None:
                    logger.info(
                        "Zalo channel off: no OA file (var/zalo_oas.yml or "
                        "ZALO_OAS_FILE)"
                    )
            except OAFileError as error:
                logger.error("Zalo channel off: %s", error)
        self.registry = registry
        if registry is None:
            self.client: ZaloClient | None = None
        else:
            self.client = client or ZaloClient(registry)
            outbound.register("zalo", self.client.send_outbound)
            logger.info("Zalo channel: %d OA(s)", len(registry.oas))
        self.control_factory = control_factory
        self.control: ConversationControl | None = None
        self.worker: InboxWorker | None = None
        self.writer: InboxWriter | None = None
        self._on_new_message: OnNewMessage | None = None
        # ZALO_INBOX_WORKER=0: this process only stores; another one processes
        self.worker_enabled = os.environ.get("ZALO_INBOX_WORKER", "1") != "0"
        self.priority: AckPriority | None = None

    def get_output_channel(self) -> OutputChannel | None:
        return ZaloOutput(self.client) if self.client is not None else None

    # -- lifecycle
    async def start(self, app: Sanic, on_new_message: OnNewMessage) -> None:
        """Start the inbox writer and worker (pending rows are processed now)."""
        if self.registry is None or self.worker is not None:
            return
        self._on_new_message = on_new_message
        self.control = self.control_factory(app)
        self.writer = InboxWriter()
        self.priority = AckPriority()
        self.worker = InboxWorker(
            self._handle_row, finish=self.writer.finish, admit=self.priority.turn
        )
        self.writer.on_committed = self.worker.wake
        if self.client is not None:  # outbox records join the group commit
            self.client.recorder = self._record_send
        if self.worker_enabled:
            self.worker.start()
        if os.environ.get("ZALO_GC_FREEZE", "1") != "0":
            # Rasa's imports (TensorFlow & co.) leave millions of long-lived
            # objects; every full collection walked them all, stalling the event
            # loop (and every webhook in flight) for ~100 ms. Freeze them.
            gc.collect()
            gc.freeze()

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        if self.writer is not None:
            await self.writer.close()
        if self.client is not None:
            await self.client.close()
        self.worker = self.writer = None

    async def _record_send(self, oa_id: str, user_id: str, result: SendResult) -> None:
        send = zalo_store.Send(
            oa_id,
            user_id,
            result.message_id,
            "sent" if result.ok else "failed",
            result.error_code,
            result.error_text,
        )
        if self.writer is not None:
            self.writer.record_send(send)
        else:
            await asyncio.to_thread(zalo_store.apply_batch, (), (), [send])

    # -- the webhook
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = Blueprint("zalo_webhook", __name__)

        @blueprint.listener("after_server_start")
        async def _start(app: Sanic, _loop: Any) -> None:
            await self.start(app, on_new_message)

        @blueprint.listener("before_server_stop")
        async def _stop(_app: Sanic, _loop: Any) -> None:
            await self.stop()

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if self.registry is None:
                return response.json({"status": "off"})
            return response.json({"status": "ok", "oas": len(self.registry.oas)})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.priority is not None:
                self.priority.arrived()  # Rasa turns wait for the acks
            try:
                return await self.receive(request.body or b"", request.headers)
            except Exception:  # never a 5xx: log, and say the request was bad
                logger.exception("Zalo webhook: unexpected error")
                return _reply(400, "cannot be processed")
            finally:
                if self.priority is not None:
                    self.priority.answered()

        return blueprint

    async def receive(self, raw: bytes, headers: Any) -> HTTPResponse:
        """Check and store one webhook call (see the module docstring)."""
        if self.registry is None or self.writer is None:
            return _reply(404, "Zalo channel is off")
        if len(raw) > MAX_BODY_BYTES:
            return _reply(400, "body too large")
        mac = headers.get(signature.HEADER)
        if not mac:
            return _reply(401, "signature missing")
        try:
            event = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _reply(400, "body is not JSON")
        if not isinstance(event, dict):
            return _reply(400, "body is not a JSON object")
        try:
            env = events.envelope(event)
        except events.MalformedEvent as error:
            return _reply(400, str(error))
        oa = self.registry.get(env.oa_id)
        if oa is None:
            return _reply(404, "unknown OA")
        if not signature.verify(mac, oa.app_id, raw, env.timestamp, oa.oa_secret_key):
            logger.warning("Zalo webhook: bad signature for OA %s", oa.oa_id)
            return _reply(401, "bad signature")
        age = time.time() - int(env.timestamp) / 1000.0
        if age > MAX_EVENT_AGE_SECONDS or age < -MAX_CLOCK_SKEW_SECONDS:
            logger.warning("Zalo webhook: stale event for OA %s", oa.oa_id)
            return _reply(401, "stale event")
        if env.kind in (events.RECEIPT, events.IGNORED):
            return _reply(200, "ignored")
        kind = {
            events.MESSAGE: zalo_store.KIND_MESSAGE,
            events.ECHO: zalo_store.KIND_ECHO,
            events.RECORD: zalo_store.KIND_RECORD,
        }[env.kind]
        row = {
            "oa_id": oa.oa_id,
            "dedupe_key": env.dedupe_key,
            "event_name": env.event_name,
            "user_id": env.user_id,
            "kind": kind,
            "payload": None if kind == zalo_store.KIND_RECORD else _text_of(raw, event),
        }
        try:
            await self.writer.accept(row)
        except Exception:
            return _reply(
                429, "try again later", **{"Retry-After": RETRY_AFTER_SECONDS}
            )
        return _reply(200, "accepted")

    # -- the worker's handler
    async def _handle_row(self, row: InboxRow) -> None:
        if row.kind == zalo_store.KIND_RECORD or not row.payload:
            return  # unfollow: the row is the record; no reply
        assert self.registry is not None and self.control is not None
        oa = self.registry.get(row.oa_id)
        if oa is None:
            logger.warning("Zalo inbox: row %s for an OA no longer served", row.id)
            return
        event = json.loads(row.payload)
        env = events.envelope(event)
        if row.kind == zalo_store.KIND_ECHO:
            await self._handle_echo(row, env)
            return
        rasa_input = events.to_rasa(event, env, oa)
        text = sanitize(rasa_input.text).strip()
        if not text:
            return
        message_id = env.msg_id or f"zalo:{row.oa_id}:{env.dedupe_key}"
        await self.control.ready()
        if row.maybe_handled and await self.control.already_handled(
            row.sender_id, message_id
        ):
            return  # handled before a crash, not yet marked: do not answer twice
        assert self._on_new_message is not None and self.client is not None
        # a turn that sends nothing (the action server down) gets a request to
        # resend; an exception is raised again, so the inbox retries the row
        await answered(
            self._on_new_message,
            UserMessage(
                text=text,
                output_channel=ZaloOutput(self.client),
                sender_id=row.sender_id,
                input_channel=self.name(),
                message_id=message_id,
                metadata=rasa_input.metadata,
            ),
            self.control.is_paused,
        )

    async def _handle_echo(self, row: InboxRow, env: events.Envelope) -> None:
        """An OA message we did not send: an officer answers in Zalo's own OA
        chat, so the bot steps aside for that conversation."""
        assert self.client is not None and self.control is not None
        if not env.msg_id:
            return
        waited = (utcnow() - row.received_at).total_seconds()
        if waited < ECHO_GRACE_SECONDS:  # our own send may not be recorded yet
            await asyncio.sleep(ECHO_GRACE_SECONDS - waited)
        if env.msg_id in self.client.sent_ids:
            return
        if await asyncio.to_thread(zalo_store.sent_by_us, row.oa_id, env.msg_id):
            return
        await self.control.ready()
        await self.control.pause(row.sender_id)
        logger.info("Zalo OA %s: an officer replied in Zalo; bot paused", row.oa_id)


__all__ = ["ZaloInput", "ZaloOutput", "AgentControl", "split_text"]
