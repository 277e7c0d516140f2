"""Zalo webhook events: which OA and user they concern, and what Rasa hears.

Pure functions over the decoded body, no Rasa imports. Routing follows the
direction rule of the OA API: ``user_*`` events go user → OA (``sender`` is the
user), ``oa_*`` echoes and delivery/seen receipts go OA → user (``sender`` is
the OA), follow/unfollow carry ``follower.id`` and a top-level ``oa_id``.

What reaches Rasa (``to_rasa``), a contract with the dialogue side:

- text and links: the text itself.
- image/gif/sticker/file/audio/video: ``metadata.attachments`` =
  ``[{"type", "url", "name"?, "thumbnail"?}]`` and, as text, the caption or a
  marker such as ``"[hình ảnh]"``; an open tip form takes the attachments as
  evidence, otherwise the fallback answers politely.
- location: ``metadata.location = {"lat", "long"}`` (+ ``"address"``) and a
  ``"[vị trí] ..."`` text.
- follow: ``/main_menu`` (welcome and the menu), ``metadata.zalo_event = "follow"``.
- user_submit_info: ``metadata.user_info = {"name", "phone", ...}`` with the
  text ``"[thông tin liên hệ]"`` (the personal data stays out of the text).
Every message also carries ``unit``, ``oa_id``, ``zalo_user_id``, ``zalo_event``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List

from connectors.zalo.config import OAConfig

MESSAGE = "message"
ECHO = "echo"
RECORD = "record"
RECEIPT = "receipt"
IGNORED = "ignored"

USER_TEXT_EVENTS = {"user_send_text", "user_send_link"}
USER_MEDIA_EVENTS = {
    "user_send_image": "image",
    "user_send_gif": "gif",
    "user_send_sticker": "sticker",
    "user_send_file": "file",
    "user_send_audio": "audio",
    "user_send_video": "video",
}
USER_OTHER_EVENTS = {
    "user_send_location",
    "user_submit_info",
    "user_send_business_card",
    "follow",
}
RECEIPT_EVENTS = {"user_received_message", "user_seen_message"}

MEDIA_MARKERS = {
    "image": "[hình ảnh]",
    "gif": "[ảnh động]",
    "sticker": "[nhãn dán]",
    "file": "[tệp đính kèm]",
    "audio": "[tin nhắn thoại]",
    "video": "[video]",
    "business_card": "[danh thiếp]",
}
MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class Envelope:
    """Who and what an event is about; enough to verify, dedupe and route."""

    event_name: str
    kind: str
    oa_id: str
    user_id: str
    msg_id: str | None
    timestamp: str

    @property
    def dedupe_key(self) -> str:
        if self.msg_id:
            return f"m:{self.msg_id}"[:200]
        return f"e:{self.event_name}:{self.user_id}:{self.timestamp}"[:200]


@dataclass(frozen=True)
class RasaInput:
    text: str
    metadata: Dict[str, Any]


class MalformedEvent(ValueError):
    """The body is JSON but not a Zalo event we can route."""


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= 64:
        return value.strip()
    return None


def _nested_id(event: Dict[str, Any], key: str) -> str | None:
    part = event.get(key)
    return _id(part.get("id")) if isinstance(part, dict) else None


def kind_of(event_name: str) -> str:
    if event_name in USER_TEXT_EVENTS or event_name in USER_MEDIA_EVENTS:
        return MESSAGE
    if event_name in USER_OTHER_EVENTS:
        return MESSAGE
    if event_name == "unfollow":
        return RECORD
    if event_name in RECEIPT_EVENTS:
        return RECEIPT
    if event_name.startswith("oa_send_") and not event_name.startswith("oa_send_group"):
        return ECHO
    return IGNORED


def timestamp_of(event: Dict[str, Any]) -> str:
    """The ``timestamp`` field as it takes part in the signature."""
    value = event.get("timestamp")
    if isinstance(value, bool):
        raise MalformedEvent("timestamp is not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise MalformedEvent("timestamp is missing or not a number")


def envelope(event: Dict[str, Any]) -> Envelope:
    """Route an event; raises MalformedEvent when it cannot be routed."""
    name = event.get("event_name")
    if not isinstance(name, str) or not name or len(name) > 64:
        raise MalformedEvent("event_name is missing")
    timestamp = timestamp_of(event)
    kind = kind_of(name)
    if name in ("follow", "unfollow"):
        oa_id = _id(event.get("oa_id")) or _nested_id(event, "recipient")
        user_id = _nested_id(event, "follower") or _nested_id(event, "sender")
    elif kind in (ECHO, RECEIPT):
        oa_id, user_id = _nested_id(event, "sender"), _nested_id(event, "recipient")
    else:
        oa_id = _nested_id(event, "recipient") or _id(event.get("oa_id"))
        user_id = _nested_id(event, "sender")
    if oa_id is None or (user_id is None and kind not in (RECEIPT, IGNORED)):
        raise MalformedEvent("the OA or the user cannot be told from the event")
    message = event.get("message")
    msg_id = _id(message.get("msg_id")) if isinstance(message, dict) else None
    return Envelope(
        event_name=name,
        kind=kind,
        oa_id=oa_id,
        user_id=user_id or "",
        msg_id=msg_id,
        timestamp=timestamp,
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return value[:MAX_TEXT_CHARS]


def _attachments(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    items = message.get("attachments")
    return (
        [item for item in items if isinstance(item, dict)]
        if isinstance(items, list)
        else []
    )


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -180.0 <= number <= 180.0 else None


def location_of(message: Dict[str, Any]) -> Dict[str, float] | None:
    """Coordinates from any of the shapes seen: coordinates.latitude/longitude,
    lat/long, or message.location."""
    candidates: List[Dict[str, Any]] = []
    for item in _attachments(message):
        payload = item.get("payload")
        if isinstance(payload, dict):
            candidates.append(payload)
            if isinstance(payload.get("coordinates"), dict):
                candidates.append(payload["coordinates"])
    if isinstance(message.get("location"), dict):
        candidates.append(message["location"])
    for place in candidates:
        lat = _float(place.get("latitude", place.get("lat")))
        long = _float(place.get("longitude", place.get("long", place.get("lng"))))
        if lat is not None and long is not None and abs(lat) <= 90:
            return {"lat": lat, "long": long}
    return None


def user_info_of(event: Dict[str, Any]) -> Dict[str, str]:
    """Name, phone and address from both shapes of ``info`` seen in the wild."""
    info = event.get("info")
    if not isinstance(info, dict):
        return {}
    result: Dict[str, str] = {}
    for key in ("name", "phone", "address", "city", "district", "ward"):
        if isinstance(info.get(key), (str, int)) and not isinstance(
            info.get(key), bool
        ):
            result[key] = str(info[key])[:300]
    full = info.get("full_address")
    if isinstance(full, dict):
        for source, target in (
            ("user_address", "address"),
            ("user_ward", "ward"),
            ("user_city", "city"),
        ):
            if isinstance(full.get(source), str):
                result.setdefault(target, full[source][:300])
    return result


def to_rasa(event: Dict[str, Any], env: Envelope, oa: OAConfig) -> RasaInput:
    """What Rasa receives for a MESSAGE event (see the module docstring)."""
    metadata: Dict[str, Any] = {
        "unit": oa.unit,
        "oa_id": oa.oa_id,
        "zalo_user_id": env.user_id,
        "zalo_event": env.event_name,
    }
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(message, dict)
    caption = _text(message.get("text")).strip()
    name = env.event_name
    if name == "follow":
        return RasaInput("/main_menu", metadata)
    if name == "user_submit_info":
        metadata["user_info"] = user_info_of(event)
        return RasaInput("[thông tin liên hệ]", metadata)
    if name == "user_send_location":
        place = location_of(message)
        if place is not None:
            metadata["location"] = dict(place, address=caption) if caption else place
        return RasaInput(f"[vị trí] {caption}".strip(), metadata)
    if name in USER_MEDIA_EVENTS:
        kind = USER_MEDIA_EVENTS[name]
        attachments = []
        for item in _attachments(message):
            payload = (
                item.get("payload") if isinstance(item.get("payload"), dict) else {}
            )
            assert isinstance(payload, dict)
            entry: Dict[str, Any] = {"type": str(item.get("type") or kind)[:20]}
            for key in ("url", "thumbnail", "name", "size"):
                if isinstance(payload.get(key), (str, int)):
                    entry[key] = payload[key]
            attachments.append(entry)
        metadata["attachments"] = attachments or [{"type": kind}]
        return RasaInput(caption or MEDIA_MARKERS[kind], metadata)
    if name == "user_send_business_card":
        return RasaInput(MEDIA_MARKERS["business_card"], metadata)
    return RasaInput(caption, metadata)
