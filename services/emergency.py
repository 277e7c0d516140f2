"""Which emergency number a citizen needs, first line first.

When someone is in danger the reply must open with the right number before
anything else: 114 for fire and rescue, 115 for medical emergencies, 111 for
child protection, 113 for the police (the default). The words that pick a
number are content, kept in knowledge/emergency.yml.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import List, Tuple

from services import content
from vietnamese.text import has_diacritics, normalize, strip_diacritics


@dataclass(frozen=True)
class EmergencyNumber:
    number: str
    name: str
    advice: str
    words: Tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.number} – {self.name}"


@functools.lru_cache(maxsize=1)
def numbers() -> List[EmergencyNumber]:
    """The numbers with their words normalised once (content is cached too)."""
    data = content.load("emergency")
    return [
        EmergencyNumber(
            number=str(item["number"]),
            name=item["name"],
            advice=item["advice"],
            words=tuple(normalize(word) for word in item["words"]),
        )
        for item in data["numbers"]
    ]


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def _score(number: EmergencyNumber, text: str, folded: str, typed_plain: bool) -> float:
    """Each matching word counts by its length in syllables; a match found only
    by ignoring diacritics counts half, as "nổ" and "nó" both read "no"."""
    score = 0.0
    for word in number.words:
        if _contains(text, word):
            score += len(word.split())
        elif typed_plain and _contains(folded, strip_diacritics(word)):
            score += len(word.split()) / 2
    return score


def _ranked(message: str) -> List[Tuple[EmergencyNumber, float]]:
    """Every number with its score, best first; the message is read once."""
    text = normalize(message)
    folded, typed_plain = strip_diacritics(text), not has_diacritics(text)
    scored = [(n, _score(n, text, folded, typed_plain)) for n in numbers()]
    default = str(content.load("emergency")["default"])
    nothing_matched = not any(score for _, score in scored)

    def order(item: Tuple[EmergencyNumber, float]) -> Tuple[float, bool]:
        number, score = item
        if nothing_matched and number.number == default:
            score = 1.0
        # ties go to the default (the police), then the file's order
        return (-score, number.number != default)

    return sorted(scored, key=order)


def choose(message: str) -> List[EmergencyNumber]:
    """All numbers, the ones the message calls for first (best first)."""
    return [number for number, _ in _ranked(message)]


def _primary(ranked: List[Tuple[EmergencyNumber, float]]) -> List[EmergencyNumber]:
    best = ranked[0][1]
    return [ranked[0][0]] + [
        number for number, score in ranked[1:3] if score >= 1 and score >= best / 2
    ]


def primary(message: str) -> List[EmergencyNumber]:
    """The number(s) for the first line: the best, plus any other the message
    clearly calls for too (a fire with injured people: 114 and 115)."""
    return _primary(_ranked(message))


def reply(message: str) -> List[str]:
    """The emergency reply as separate chat messages; the first line is the number."""
    data = content.load("emergency")
    ranked = _ranked(message)
    first = _primary(ranked)
    rest = [number for number, _ in ranked if number not in first]
    lines = [
        data["first_line"].format(numbers=" và ".join(n.label for n in first)),
        " ".join([data["after"], *(n.advice for n in first)]),
        data["others"].format(numbers=", ".join(n.label for n in rest)),
    ]
    return lines
