"""Dates and times as citizens type them in Vietnamese, for booking forms.

Two layers. The first reads what dateparser (pinned in requirements.txt) does
not: "mai", "mốt", "ngày kia", "thứ 2 / thứ hai / t2 (tuần sau)", "chủ nhật",
"15/12", "ngày 3 tháng 1" with or without diacritics, "9h30", "9 giờ rưỡi",
"2 giờ chiều", and it says *why* an impossible date or time ("31/2", "25h")
cannot be used. What the first layer does not recognise goes to dateparser
("25 tháng mười hai", "Dec 15", "14:30", "2pm"). A date without a year is the
next occurrence on or after today.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Dict

import dateparser

from vietnamese.text import strip_diacritics

# folded weekday words -> Monday=0 ... Sunday=6
_WEEKDAYS: Dict[str, int] = {
    "2": 0,
    "hai": 0,
    "3": 1,
    "ba": 1,
    "4": 2,
    "tu": 2,
    "5": 3,
    "nam": 3,
    "6": 4,
    "sau": 4,
    "7": 5,
    "bay": 5,
}
_WEEKDAY_RE = re.compile(
    r"\b(?:thu\s*(?P<word>2|3|4|5|6|7|hai|ba|tu|nam|sau|bay)|t(?P<short>[2-7])"
    r"|(?P<sunday>chu\s*nhat|cn))\b"
)
_NEXT_WEEK_RE = re.compile(r"\btuan\s*(?:sau|toi)\b")
_RELATIVE = [
    (re.compile(r"\b(?:hom\s*nay|ngay\s*hom\s*nay|bua\s*nay)\b"), 0),
    (re.compile(r"\b(?:ngay\s*kia|ngay\s*mot|mot)\b"), 2),
    (re.compile(r"\b(?:ngay\s*mai|mai)\b"), 1),
]
_DAY_MONTH_WORDS_RE = re.compile(
    r"\b(?:ngay\s*)?(?P<day>\d{1,2})\s*thang\s*(?P<month>\d{1,2})"
    r"(?:\s*(?:nam\s*)?(?P<year>\d{4}))?\b"
)
_DAY_MONTH_NUMERIC_RE = re.compile(
    r"(?<![\d/.\-])(?P<day>\d{1,2})\s*[/.\-]\s*(?P<month>\d{1,2})"
    r"(?:\s*[/.\-]\s*(?P<year>\d{4}|\d{2}))?(?![\d/.\-]*\d)"
)
_ISO_RE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
# only text naming a month or an English date goes to dateparser: on a bare
# number (a phone number, "9") it guesses a date the citizen never meant
_LIBRARY_HINT_RE = re.compile(
    r"thang|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|tomorrow|today|next"
)

_TIME_RE = re.compile(
    r"(?<![\d/.])(?P<hour>\d{1,2})\s*(?:gio|h|g|:)\s*(?:(?P<minute>\d{1,2})"
    r"\s*(?:p|ph|phut)?|(?P<half>ruoi))?(?![\d/])"
)
_BARE_HOUR_RE = re.compile(r"^(?:luc\s*)?(?P<hour>\d{1,2})$")
# parts of the day. Typed with diacritics they are unambiguous; without them
# "toi" is also "tôi" (I), "chieu" is in "hộ chiếu", "sang" is "sang" (over to):
# there a part of the day counts only next to a time or a day ("9h toi", "sang
# mai", "chieu thu 5") or as the whole answer ("chieu a").
_PERIOD_MARKED_RE = re.compile(r"\b(sáng|trưa|chiều|tối|đêm)\b")
_PERIOD_FOLDED = {"sáng": "sang", "trưa": "trua", "chiều": "chieu", "tối": "toi"}
_PERIOD_PLAIN = {"sang", "trua", "chieu", "toi", "dem"}
_DAY_WORDS = {"mai", "nay", "qua", "thu", "ngay", "hom", "chu", "cn", "mot", "t2"}
_TIME_WORD_RE = re.compile(r"\d|^(?:gio|h|ruoi|phut|kem)$")
_POLITE = {"a", "nha", "nhe", "ak", "ah", "di"}

# Shown to citizens when a date or a time cannot be used.
_MONTH_TOO_SHORT = "Dạ, tháng {month} năm {year} chỉ có {days} ngày ạ."
_MONTH_TOO_SHORT_ANY_YEAR = "Dạ, tháng {month} chỉ có {days} ngày ạ."
_BAD_MONTH = "Dạ, không có tháng {month} ạ. Anh/chị nhập lại ngày, ví dụ 15/12."
_BAD_DAY = "Dạ, không có ngày {day} ạ. Anh/chị nhập lại ngày, ví dụ 15/12."
_BAD_HOUR = "Dạ, giờ chỉ từ 0 đến 23 ạ. Anh/chị nhập lại, ví dụ 9h30 hoặc 14h."
_BAD_MINUTE = "Dạ, phút chỉ từ 0 đến 59 ạ. Anh/chị nhập lại, ví dụ 9h30."


@dataclass(frozen=True)
class Reading:
    """What was read from a message: a value, or a reason it cannot be used
    (``problem``, polite Vietnamese), or neither when nothing was recognised."""

    value: Any = None
    problem: str | None = None


def _fold(text: str) -> str:
    folded = strip_diacritics(text or "").lower()
    return re.sub(r"\s+", " ", folded).strip()


def _build(day: int, month: int, year: int | None, today: date) -> Reading:
    """The date, checked; without a year the next occurrence from ``today``."""
    if not 1 <= month <= 12:
        return Reading(problem=_BAD_MONTH.format(month=month))
    if day < 1:
        return Reading(problem=_BAD_DAY.format(day=day))
    if year is not None:
        year = year + 2000 if year < 100 else year
        days = calendar.monthrange(year, month)[1]
        if day > days:
            return Reading(
                problem=_MONTH_TOO_SHORT.format(month=month, year=year, days=days)
            )
        return Reading(value=date(year, month, day))
    # no year: this year if still ahead, else next year; 29/2 waits for a leap year
    for candidate_year in range(today.year, today.year + 9):
        days = calendar.monthrange(candidate_year, month)[1]
        if day > days:
            if month != 2 or day != 29:
                longest = "28 hoặc 29" if month == 2 else str(days)
                return Reading(
                    problem=_MONTH_TOO_SHORT_ANY_YEAR.format(month=month, days=longest)
                )
            continue
        candidate = date(candidate_year, month, day)
        if candidate >= today:
            return Reading(value=candidate)
    return Reading(problem=_BAD_MONTH.format(month=month))


def _weekday(folded: str, today: date) -> date | None:
    match = _WEEKDAY_RE.search(folded)
    if match is None:
        return None
    if match.group("sunday"):
        target = 6
    else:
        target = _WEEKDAYS[match.group("word") or match.group("short")]
    if _NEXT_WEEK_RE.search(folded):
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=target)
    return today + timedelta(days=(target - today.weekday()) % 7)


def read_date(text: str, today: date) -> Reading:
    """The date in ``text`` (see the module docstring for what is understood)."""
    folded = _fold(text)
    if not folded:
        return Reading()
    for pattern in (_ISO_RE, _DAY_MONTH_WORDS_RE, _DAY_MONTH_NUMERIC_RE):
        match = pattern.search(folded)
        if match:
            year = match.group("year")
            return _build(
                int(match.group("day")),
                int(match.group("month")),
                int(year) if year else None,
                today,
            )
    weekday = _weekday(folded, today)
    if weekday is not None:
        return Reading(value=weekday)
    for pattern, days in _RELATIVE:
        if pattern.search(folded):
            return Reading(value=today + timedelta(days=days))
    if _LIBRARY_HINT_RE.search(folded):
        parsed = dateparser.parse(
            text,
            languages=["vi", "en"],
            settings={
                "RELATIVE_BASE": datetime.combine(today, time(0, 0)),
                "PREFER_DATES_FROM": "future",
                "DATE_ORDER": "DMY",
            },
        )
        if parsed is not None:
            return Reading(value=parsed.date())
    return Reading()


def parse_date(text: str, today: date) -> date | None:
    """The date in ``text``, or None (unrecognised or impossible: see read_date)."""
    value = read_date(text, today).value
    return value if isinstance(value, date) else None


def _with_period(hour: int, period: str | None) -> int:
    """ "2 giờ chiều" is 14:00, "7 giờ tối" 19:00, "12 giờ trưa" stays 12:00."""
    if period in ("chieu", "toi") and 1 <= hour < 12:
        return hour + 12
    if period == "trua" and 1 <= hour < 5:
        return hour + 12
    if period == "dem" and hour == 12:
        return 0
    if period == "sang" and hour == 12:
        return 0
    return hour


def _period(text: str) -> str | None:
    """The part of the day named in ``text`` ("sang", "trua", "chieu", "toi",
    "dem"), or None."""
    lowered = " ".join(unicodedata.normalize("NFC", text or "").lower().split())
    folded = _fold(text)
    if folded != lowered:  # typed with diacritics
        marked = _PERIOD_MARKED_RE.search(lowered)
        return _PERIOD_FOLDED.get(marked.group(1), "dem") if marked else None
    words = re.findall(r"\w+", folded)
    said = [w for w in words if w not in _POLITE]
    for at, word in enumerate(words):
        if word not in _PERIOD_PLAIN:
            continue
        before = words[at - 1] if at else ""
        after = words[at + 1] if at + 1 < len(words) else ""
        if before == "ho":  # hộ chiếu
            continue
        if (
            len(said) == 1
            or _TIME_WORD_RE.search(before)
            or after in _DAY_WORDS
            or after[:1].isdigit()
        ):
            return word
    return None


def read_time(text: str) -> Reading:
    """The time of day in ``text``: "9h30", "9 giờ rưỡi", "2 giờ chiều", "14h"."""
    folded = _fold(text)
    if not folded:
        return Reading()
    period = _period(text)
    match = _TIME_RE.search(folded) or _BARE_HOUR_RE.match(folded)
    if match is not None:
        hour = int(match.group("hour"))
        groups = match.groupdict()
        minute = 30 if groups.get("half") else int(groups.get("minute") or 0)
        if hour > 23 or (hour > 12 and period in ("sang",)):
            return Reading(problem=_BAD_HOUR)
        if minute > 59:
            return Reading(problem=_BAD_MINUTE)
        return Reading(value=time(_with_period(hour, period), minute))
    if re.search(r"\d", folded) and re.search(r"am|pm|:", folded):
        parsed = dateparser.parse(text, languages=["en"])
        if parsed is not None:
            return Reading(value=parsed.time().replace(second=0, microsecond=0))
    return Reading()


def parse_time(text: str) -> time | None:
    """The time in ``text``, or None (unrecognised or impossible: see read_time)."""
    value = read_time(text).value
    return value if isinstance(value, time) else None


def part_of_day(text: str) -> str | None:
    """ "morning" or "afternoon" when the citizen only said "sáng"/"chiều"."""
    period = _period(text)
    if period is None:
        return None
    return "morning" if period == "sang" else "afternoon"
