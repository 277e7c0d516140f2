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

from typing import Any, Dict, List

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vietnamese.text import strip_diacritics


class SentenceFeaturesOnly:
    """A featurizer that can leave out its per-token ("sequence") features of
    the text, with ``sequence_features: false``.

    Why: our DIET has no transformer and no entity recognition, so it
    classifies a message from its sentence features alone; the per-token
    features only made every padded token of every batch go through DIET's
    hidden layer, every epoch (most of ``make train``'s time). DIET still needs
    a sequence: ``OneStepFeaturizer`` gives it one step.
    """

    _config: Dict[str, Any]

    @staticmethod
    def sequence_default() -> Dict[str, Any]:
        return {"sequence_features": True}  # Rasa's behaviour

    def add_features_to_message(
        self,
        sequence: Any,
        sentence: Any,
        attribute: str,
        message: Message,
    ) -> None:
        if attribute == TEXT and not self._config["sequence_features"]:
            sequence = None
        super().add_features_to_message(  # type: ignore[misc]
            sequence, sentence, attribute, message
        )


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class BagCountVectorsFeaturizer(SentenceFeaturesOnly, CountVectorsFeaturizer):
    """Rasa's CountVectorsFeaturizer; ``sequence_features: false`` keeps only
    the bag of words of the text (see ``SentenceFeaturesOnly``)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **CountVectorsFeaturizer.get_default_config(),
            **SentenceFeaturesOnly.sequence_default(),
        }


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class BagRegexFeaturizer(SentenceFeaturesOnly, RegexFeaturizer):
    """Rasa's RegexFeaturizer; ``sequence_features: false`` keeps only which
    patterns the text matches (tokens still carry their patterns for the CRF)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **RegexFeaturizer.get_default_config(),
            **SentenceFeaturesOnly.sequence_default(),
        }


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class OneStepFeaturizer(SparseFeaturizer, GraphComponent):
    """A one-step sequence for the text: DIET requires per-token features, and
    with every other featurizer giving only sentence features, this constant
    step is the whole sequence (DIET reads the sentence position after it)."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OneStepFeaturizer:
        return cls(execution_context.node_name, config)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """Nothing to configure."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TEXT):
                step = scipy.sparse.coo_matrix(np.ones((1, 1), dtype=np.float32))
                self.add_features_to_message(step, None, TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class FoldedCountVectorsFeaturizer(BagCountVectorsFeaturizer):
    """CountVectorsFeaturizer over token syllables with diacritics removed."""

    def _get_message_tokens_by_attribute(
        self, message: Message, attribute: str
    ) -> List[str]:
        tokens = super()._get_message_tokens_by_attribute(message, attribute)
        return [strip_diacritics(token).replace("_", " ") for token in tokens]
