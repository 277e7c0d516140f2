"""Vietnamese text normalisation that never loses track of the original text.

Citizens type on phones: with or without diacritics, old or new tone placement
("hoà"/"hòa"), teencode ("ko", "dc", "sdt"), stretched letters ("nhaaa"). The
NLU must read all of these alike, while entity offsets must still point into
the message exactly as it was typed. So normalisation works piece by piece:
:func:`split_pieces` cuts the original text into pieces with their offsets, and
each piece carries its normalised form. Numbers, phone numbers, CCCD numbers,
dates, times and dossier codes are kept whole and unchanged.

Plain Python, no Rasa imports: the Rasa components in this package wrap it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import yaml
from underthesea.pipeline.text_normalize import token_normalize

TEENCODE_FILE = Path(__file__).with_name("teencode.yml")

# Kinds of pieces. Only WORD pieces are normalised and segmented into words.
WORD = "word"
NUMBER = "number"  # digits, phone/CCCD numbers, money amounts
CODE = "code"  # form codes (CT01, TK01a), dossier codes, URLs, e-mails
DATE = "date"
TIME = "time"

# Order matters: the first alternative that matches at a position wins.
_PIECE_PATTERNS: List[Tuple[str, str]] = [
    (CODE, r"(?:https?://|www\.)[^\s]+"),
    (CODE, r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # national public-service portal dossier code: 000.00.12.H31-250115-0001
    (CODE, r"\d{3}\.\d{2}\.\d{2}\.[A-Za-z]\d{2}-\d{6}-\d{4}"),
    (DATE, r"\d{1,2}[/\-.]\d{1,2}[/\-.]\d{2,4}(?![\d.])"),
    (DATE, r"\d{1,2}/\d{1,2}(?![\d/])"),
    # phone numbers written in groups: 0912 345 678, 0912.345.678, +84 912 345 678
    (NUMBER, r"(?:\+84|84|0)(?:[ .\-]?\d){9}(?!\d)"),
    # 9h30, 9h, 14:00, 2g, 9h30p
    (TIME, r"\d{1,2}(?:h\d{1,2}p|[hg:]\d{2}|[hg](?![^\W\d_]))(?!\w)"),
    # amounts: 50k, 5tr, 15.000đ, 1,5 triệu
    (NUMBER, r"\d+(?:[.,]\d+)*(?:k|tr|đ|d|vnd|vnđ|củ|cu)?(?![^\W_])"),
    # letter+digit codes: CT01, TK01a, HS20251234, H31
    (CODE, r"[^\W\d_]+\d\w*"),
    # letters, with combining tone marks ("Unicode tổ hợp" keyboards)
    (WORD, r"(?:[^\W\d_][\u0300-\u036f]*)+"),
    (NUMBER, r"\d+"),
]
_PIECE_RE = re.compile(
    "|".join(f"(?P<g{i}>{pattern})" for i, (_, pattern) in enumerate(_PIECE_PATTERNS)),
    re.IGNORECASE,
)
_KIND_OF_GROUP = {f"g{i}": kind for i, (kind, _) in enumerate(_PIECE_PATTERNS)}

_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]"
)


@dataclass(frozen=True)
class Piece:
    """A run of the original text with its offsets and normalised form."""

    text: str  # exactly as in the original message
    start: int
    end: int
    kind: str
    norm: str  # normalised; a teencode expansion may contain spaces

    @property
    def syllables(self) -> List[str]:
        return self.norm.split()


@functools.lru_cache(maxsize=1)
def teencode() -> Dict[str, str]:
    """The trainer-editable abbreviation dictionary, keys normalised."""
    with TEENCODE_FILE.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    table: Dict[str, str] = {}
    for expansion, spellings in raw.items():
        for spelling in spellings:
            if not _PIECE_RE.fullmatch(str(spelling)):
                raise ValueError(
                    f"{TEENCODE_FILE.name}: '{spelling}' is not a single word"
                )
            key = _normalize_word(str(spelling))
            if key in table and table[key] != expansion:
                raise ValueError(
                    f"{TEENCODE_FILE.name}: '{spelling}' expands to both "
                    f"'{table[key]}' and '{expansion}'"
                )
            table[key] = str(expansion)
    return table


def strip_diacritics(text: str) -> str:
    """'Đăng ký tạm trú' -> 'Dang ky tam tru' (keeps length and offsets)."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped).replace("đ", "d").replace("Đ", "D")


def has_diacritics(text: str) -> bool:
    return strip_diacritics(text) != text


def sanitize(text: str) -> str:
    """What a channel passes on: NFC, control characters replaced by spaces.

    Offsets stay meaningful (one character for one), and no NUL byte reaches a
    database that cannot store it.
    """
    return _CONTROL_RE.sub(" ", unicodedata.normalize("NFC", text))


def clean(text: str) -> str:
    """NFC, control characters to spaces, spacing collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_RE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def _collapse_repeats(word: str) -> str:
    """'nhaaaa' -> 'nha', 'okkk' -> 'ok', 'đcc' -> 'đc'; keeps 'xoong'."""
    word = re.sub(r"(.)\1{2,}", r"\1", word)
    return re.sub(
        r"(.)\1",
        lambda m: m.group(0) if m.group(1) == "o" else m.group(1),
        word,
    )


def _normalize_word(word: str) -> str:
    """Case, Unicode form, tone placement and stretched letters of one word."""
    word = unicodedata.normalize("NFC", word.lower())
    word = _collapse_repeats(word)
    # underthesea maps old tone placement and stray code points to one form:
    # "hoà" -> "hòa", "thuỷ" -> "thủy", "qúy" -> "quý"
    return str(token_normalize(word))


def _normalize_piece(text: str, kind: str) -> str:
    if kind == WORD:
        word = _normalize_word(text)
        return teencode().get(word, word)
    if kind == CODE:
        return text.lower()
    if kind == NUMBER:
        return re.sub(r"[ .\-]", "", text.lower()) if len(text) > 8 else text.lower()
    return text.lower()


def split_pieces(text: str) -> List[Piece]:
    """Cut ``text`` into pieces; punctuation, emoji and spaces are left out."""
    pieces = []
    for match in _PIECE_RE.finditer(text):
        group = match.lastgroup or ""
        kind = _KIND_OF_GROUP[group]
        raw = match.group(0)
        pieces.append(
            Piece(
                text=raw,
                start=match.start(),
                end=match.end(),
                kind=kind,
                norm=_normalize_piece(raw, kind),
            )
        )
    return pieces


def normalize(text: str) -> str:
    """The normalised reading of a whole message, pieces joined by spaces."""
    return " ".join(piece.norm for piece in split_pieces(clean(text)))


def fold(text: str) -> str:
    """Normalised and without diacritics: the key for matching spellings."""
    return strip_diacritics(normalize(text))


def word_runs(pieces: List[Piece]) -> Iterator[List[Piece]]:
    """Consecutive WORD pieces (the units that word segmentation sees)."""
    run: List[Piece] = []
    for piece in pieces:
        if piece.kind == WORD:
            run.append(piece)
        else:
            if run:
                yield run
            run = []
            yield [piece]
    if run:
        yield run
