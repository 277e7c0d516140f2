"""Keeping citizens' personal data out of log lines.

:func:`install` masks, in every log record of the process, phone numbers
(Vietnamese mobile and landline, 0… or +84…, with spaces, dots or dashes),
12-digit CCCD numbers, values of sensitive slots, the text of user messages in
Rasa's own debug lines (a tip is typed as a plain message), and any string
registered with :func:`register` (tip fields). Masking covers the message, its
arguments, exception text and stack info.

It works twice over: a log-record factory masks every record as it is created
(whatever logger or handler, even ones made later), and a filter on the handlers
of the root logger and of every existing logger catches records made by hand
(``logging.makeLogRecord``). Call :func:`install` once at start-up of each
process (Rasa server, action server, console).
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections import OrderedDict
from typing import Any, Callable, Iterable

MASK = "***"
# 0/84 prefixes, then 8-10 more digits in groups separated by space . or -
PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
CCCD = re.compile(r"(?<!\d)\d{12}(?!\d)")
SENSITIVE_SLOTS = (
    "tip_what",
    "tip_where",
    "tip_when",
    "tip_contact",
    "tip_text",
    "full_name",
    "phone_number",
    "phone",
    "cccd_number",
    "contact",
)
# Fields whose whole value is personal: Rasa's own list of anonymizable structlog
# keys (rasa/utils/log_utils.py) and our sensitive slots. Rasa renders them as
# JSON ("key": value) or key=value; dict reprs read 'key': value.
SENSITIVE_FIELDS = (
    "text",
    "response_text",
    "user_text",
    "slot_values",
    "parse_data_text",
    "parse_data_entities",
    "prediction_events",
    "tracker_latest_message",
    "prefilled_slots",
    "message",
    "response",
    "slot_candidates",
    "rasa_event",
    "rasa_events",
    "tracker_states",
    "current_states",
    "old_states",
    "states",
    "entity",
    "current_entity",
    "next_entity",
    "token_text",
    "user_message",
    "json_message",
    "value",
) + SENSITIVE_SLOTS
_FIELD_NAMES = "|".join(sorted(SENSITIVE_FIELDS, key=len, reverse=True))
_FIELD = re.compile(
    r"(?<![\w])(?P<quote>['\"]?)(?P<key>"
    + _FIELD_NAMES
    + r")(?P=quote)\s*(?P<sep>[:=])\s*"
)
# plain "tip_what: value" lines (slot dumps in our own logs)
_SLOT_LINE = re.compile(
    r"(?m)^(?P<key>\s*(?:" + "|".join(SENSITIVE_SLOTS) + r"):\s)(?P<value>.*)$"
)
# Rasa's older plain-text debug line that quotes what the user typed
_USER_TEXT = re.compile(
    r"(?P<head>Received user message ')(?P<value>.*?)(?P<tail>' with intent)", re.DOTALL
)
_CLOSING = {"[": "]", "{": "}", "(": ")"}
MAX_REGISTERED = 5000
MIN_REGISTERED_CHARS = 4

_registered: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_installed = False
_previous_factory: Callable[..., logging.LogRecord] | None = None


def register(*values: str | None) -> None:
    """Mask these strings in every later log line of this process."""
    with _lock:
        for value in values:
            if isinstance(value, str) and len(value.strip()) >= MIN_REGISTERED_CHARS:
                _registered[value.strip()] = None
                _registered.move_to_end(value.strip())
        while len(_registered) > MAX_REGISTERED:
            _registered.popitem(last=False)


def forget_registered() -> None:
    with _lock:
        _registered.clear()


def _value_end(text: str, start: int) -> int:
    """Where the value starting at ``start`` ends: a quoted string, a bracketed
    structure (quotes inside respected) or a bare word."""
    if start >= len(text):
        return start
    first = text[start]
    if first in "'\"":
        index = start + 1
        while index < len(text):
            if text[index] == "\\":
                index += 2
                continue
            if text[index] == first:
                return index + 1
            index += 1
        return len(text)
    if first in _CLOSING:
        depth, index, quote = 0, start, ""
        while index < len(text):
            char = text[index]
            if quote:
                if char == "\\":
                    index += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in _CLOSING:
                depth += 1
            elif char in _CLOSING.values():
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        return len(text)
    match = re.compile(r"[^\s,}\]]*").match(text, start)
    return match.end() if match else start


def _mask_fields(text: str) -> str:
    parts = []
    position = 0
    for match in _FIELD.finditer(text):
        if match.start() < position:
            continue  # inside a value already masked
        end = _value_end(text, match.end())
        if end == match.end():
            continue
        value = text[match.end() : end]
        if value in ("null", "None", "[]", "{}", "''", '""'):
            continue
        quote = value[0] if value[0] in "'\"" else ""
        parts.append(text[position : match.end()] + f"{quote}{MASK}{quote}")
        position = end
    parts.append(text[position:])
    return "".join(parts)


def mask(text: str) -> str:
    """``text`` with personal data replaced by ``***``."""
    if not text:
        return text
    with _lock:
        registered = sorted(_registered, key=len, reverse=True)
    for value in registered:
        if value in text:
            text = text.replace(value, MASK)
    text = _USER_TEXT.sub(lambda m: m["head"] + MASK + m["tail"], text)
    text = _mask_fields(text)
    text = _SLOT_LINE.sub(lambda m: m["key"] + MASK, text)
    text = CCCD.sub(MASK, text)
    return PHONE.sub(MASK, text)


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    # already masked, and not changed since (makeLogRecord fills a record
    # made by the factory afterwards, so a flag alone would not do)
    if getattr(record, "_privacy_masked", None) is record.msg and not record.args:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what can be shown
        message = f"{record.msg!r} {record.args!r}"
    record.msg = mask(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = mask(text)
        record.exc_info = None  # no handler may format the unmasked original
    elif record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    record._privacy_masked = record.msg
    return record


class MaskingFilter(logging.Filter):
    """A handler filter that masks the record; it never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


FILTER = MaskingFilter()


def _loggers() -> Iterable[logging.Logger]:
    yield logging.getLogger()
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            yield logger


def _attach_filters() -> None:
    for logger in _loggers():
        for handler in logger.handlers:
            if FILTER not in handler.filters:
                handler.addFilter(FILTER)


def install() -> None:
    """Mask personal data in every log record of this process (idempotent)."""
    global _installed, _previous_factory
    with _lock:
        if not _installed:
            previous = logging.getLogRecordFactory()
            _previous_factory = previous

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                return _mask_record(previous(*args, **kwargs))

            logging.setLogRecordFactory(factory)
            _installed = True
    _attach_filters()


def uninstall() -> None:
    """Undo :func:`install` (tests)."""
    global _installed
    with _lock:
        if _installed and _previous_factory is not None:
            logging.setLogRecordFactory(_previous_factory)
        _installed = False
    for logger in _loggers():
        for handler in logger.handlers:
            handler.removeFilter(FILTER)
