"""Entity extraction that reads a word the same with or without diacritics.

Rasa's CRFEntityExtractor builds its features (lower case, prefixes, suffixes,
case shape) from each token's text. Here the CRF sees the text with diacritics
removed but case kept, so "Phường Dĩ An" and "phuong di an" share features and
a procedure name typed either way is tagged alike. Offsets and entity values
still come from the message as typed.

A CRF trains in seconds where DIET's entity layer needs a transformer over
every token (bench/nlu.py compares them).
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken
from rasa.shared.nlu.training_data.message import Message

from vietnamese.text import strip_diacritics


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class FoldedCRFEntityExtractor(CRFEntityExtractor):
    """CRFEntityExtractor whose token features ignore diacritics."""

    def _convert_to_crf_tokens(self, message: Message) -> List[CRFToken]:
        crf_tokens = super()._convert_to_crf_tokens(message)
        for crf_token in crf_tokens:
            crf_token.text = strip_diacritics(crf_token.text)
        return crf_tokens
