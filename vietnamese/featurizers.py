"""Featurisation of the diacritic-free reading of a message.

Many citizens type without diacritics ("dang ky tam tru o dau"). A second
count-vector featurisation over the folded syllables of each token
("đăng_ký" -> "dang ky") lets a message typed either way share features, while
the first featurisation keeps words and the distinctions diacritics carry
("mã"/"mà"). Syllables, not words: underthesea segments unaccented text
differently ("dang", "ky" where it finds "đăng_ký"), syllables are the same. The choice
of this over a single folded view or no folding is measured in bench/nlu.py.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.training_data.message import Message

from vietnamese.text import strip_diacritics


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class FoldedCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer over token syllables with diacritics removed."""

    def _get_message_tokens_by_attribute(
        self, message: Message, attribute: str
    ) -> List[str]:
        tokens = super()._get_message_tokens_by_attribute(message, attribute)
        return [strip_diacritics(token).replace("_", " ") for token in tokens]
