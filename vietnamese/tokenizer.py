"""A Rasa tokenizer for Vietnamese as citizens type it.

Tokens are words found by underthesea's segmenter over normalised syllables
("đk tạm trú" -> "đăng_ký", "tạm_trú"), while each token's ``start``/``end``
point into the message exactly as typed, so entities extract correctly. The
normalised word is the token's lemma, which Rasa's featurizers read.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Set

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from vietnamese.segmenter import segment
from vietnamese.text import WORD, Piece, split_pieces, word_runs

SEGMENT_WORDS = "word"
SEGMENT_SYLLABLES = "syllable"
# One token per syllable, each carrying the word underthesea found around it
# as its lemma: the featurizers see words, while entity spans and the entity
# CRF see syllables, which stay the same when a message is typed without
# diacritics (underthesea segments "tam tru" differently from "tạm trú").
SEGMENT_SYLLABLES_WITH_WORDS = "syllable_word"


def tokenize_text(
    text: str, segmentation: str = SEGMENT_WORDS, boundaries: Iterable[int] = ()
) -> List[Token]:
    """Tokens of ``text``; no token crosses an offset listed in ``boundaries``."""
    cuts: Set[int] = set(boundaries)
    tokens: List[Token] = []
    for run in word_runs(split_pieces(text)):
        if run[0].kind != WORD:
            piece = run[0]
            tokens.append(Token(piece.text, piece.start, piece.end, lemma=piece.norm))
            continue
        tokens.extend(_word_tokens(text, run, segmentation, cuts))
    return tokens


def _word_tokens(
    text: str, run: List[Piece], segmentation: str, cuts: Set[int]
) -> List[Token]:
    syllables: List[str] = []
    owners: List[int] = []  # index of the piece each syllable came from
    for index, piece in enumerate(run):
        for syllable in piece.syllables:
            syllables.append(syllable)
            owners.append(index)

    if segmentation in (SEGMENT_WORDS, SEGMENT_SYLLABLES_WITH_WORDS):
        words = segment(syllables)
    else:
        words = [[index] for index in range(len(syllables))]

    # A teencode expansion ("sdt" -> "số điện thoại") is one piece of the
    # original text: its syllables must stay in one token.
    groups: List[List[int]] = []
    for word in words:
        if groups and owners[groups[-1][-1]] == owners[word[0]]:
            groups[-1].extend(word)
        else:
            groups.append(list(word))

    # An annotated entity boundary inside a word splits the word there. Syllable
    # tokens already end at every such boundary, and cutting the word would give
    # training lemmas ("đăng", "ký") that inference never sees ("đăng_ký").
    if segmentation == SEGMENT_SYLLABLES_WITH_WORDS:
        cuts = set()
    split_groups: List[List[int]] = []
    for group in groups:
        current = [group[0]]
        for position in group[1:]:
            previous_piece = run[owners[current[-1]]]
            piece = run[owners[position]]
            if piece is not previous_piece and (
                piece.start in cuts or previous_piece.end in cuts
            ):
                split_groups.append(current)
                current = [position]
            else:
                current.append(position)
        split_groups.append(current)

    tokens = []
    for group in split_groups:
        lemma = "_".join(syllables[index] for index in group)
        if segmentation == SEGMENT_SYLLABLES_WITH_WORDS:
            for index in sorted({owners[position] for position in group}):
                piece = run[index]
                tokens.append(Token(piece.text, piece.start, piece.end, lemma=lemma))
            continue
        first, last = run[owners[group[0]]], run[owners[group[-1]]]
        tokens.append(
            Token(text[first.start : last.end], first.start, last.end, lemma=lemma)
        )
    return tokens


def keep_head_and_tail(tokens: List[Token], limit: int) -> List[Token]:
    """At most ``limit`` tokens: the first third and the last two thirds."""
    if limit <= 0 or len(tokens) <= limit:
        return tokens
    head = limit // 3
    return tokens[:head] + tokens[len(tokens) - (limit - head) :]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class VietnameseTokenizer(Tokenizer):
    """Normalising, word-segmenting tokenizer with offsets into the original."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # "word": underthesea word segmentation; "syllable": one token per
            # syllable (kept for measuring, see bench/nlu.py)
            "segmentation": SEGMENT_WORDS,
            # Long messages keep their first third and last two thirds of this
            # many tokens: the question of a rambling message is usually at
            # its end, and DIET's attention grows with the square of length.
            "max_tokens": 192,
        }

    @staticmethod
    def supported_languages() -> List[str] | None:
        return ["vi"]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute) or ""
        boundaries: List[int] = []
        if attribute == TEXT:
            for entity in message.get(ENTITIES) or []:
                boundaries.append(entity[ENTITY_ATTRIBUTE_START])
                boundaries.append(entity[ENTITY_ATTRIBUTE_END])
        tokens = tokenize_text(text, self._config["segmentation"], boundaries)
        tokens = keep_head_and_tail(tokens, self._config["max_tokens"])
        if not tokens and text.strip():
            # only emoji or punctuation: keep one token so featurizers see it
            tokens = [Token(text, 0, len(text), lemma=text.strip())]
        return self._apply_token_pattern(tokens)
