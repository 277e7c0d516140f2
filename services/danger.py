"""Whether a message says someone is in danger *now* (not a past event).

A tip ("hôm qua bị trộm xe") goes through the tip form; a tip saying that
something is happening now ("thằng đó đang cầm dao đứng trước nhà") must get
the emergency number first. The emergency words are the content of
knowledge/emergency.yml (services.emergency); this module adds the words that
make them present.
"""

from __future__ import annotations

import re

from services import emergency
from vietnamese.text import normalize, strip_diacritics

# folded words saying "now", "help" or "danger"
_NOW = (
    "dang",
    "ngay bay gio",
    "bay gio",
    "luc nay",
    "hien gio",
    "hien dang",
    "van con",
    "nguy hiem",
    "khan cap",
)
_HELP = ("cuu voi", "cuu em", "cuu toi", "cuu con", "cuu me", "cuu chau", "help")


def _has(folded: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", folded) is not None


def in_danger_now(text: str) -> bool:
    """A call for help, or an emergency word with a word saying it is happening
    now; typed with or without diacritics."""
    # as typed and as normalised ("ko" -> "không"; but "cuu" -> "cu")
    readings = {
        re.sub(r"\s+", " ", strip_diacritics(reading).lower()).strip()
        for reading in (text or "", normalize(text or ""))
    }
    return any(_reads_as_danger(folded) for folded in readings if folded)


def _reads_as_danger(folded: str) -> bool:
    if any(_has(folded, phrase) for phrase in _HELP):
        return True
    if not any(_has(folded, phrase) for phrase in _NOW):
        return False
    return any(
        _has(folded, strip_diacritics(word).lower())
        for number in emergency.numbers()
        for word in number.words
    )
