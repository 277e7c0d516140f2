"""The featurizers: messages typed with and without diacritics match; the
sentence-only option leaves out per-token features and nothing else."""

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vietnamese.featurizers import (
    BagCountVectorsFeaturizer,
    BagRegexFeaturizer,
    FoldedCountVectorsFeaturizer,
    OneStepFeaturizer,
)
from vietnamese.tokenizer import VietnameseTokenizer


def features(featurizer: FoldedCountVectorsFeaturizer, text: str) -> list:
    message = Message({TEXT: text})
    VietnameseTokenizer(VietnameseTokenizer.get_default_config()).process([message])
    featurizer.process([message])
    _, sentence = message.get_sparse_features(TEXT)
    return sentence.features.toarray().tolist()


def test_same_features_with_and_without_diacritics(
    model_storage: LocalModelStorage,
    resource: Resource,
    execution_context: ExecutionContext,
) -> None:
    featurizer = FoldedCountVectorsFeaturizer.create(
        FoldedCountVectorsFeaturizer.get_default_config(),
        model_storage,
        resource,
        execution_context,
    )
    data = TrainingData(
        [
            Message({TEXT: "đăng ký tạm trú ở đâu", "intent": "a"}),
            Message({TEXT: "làm hộ chiếu mất bao lâu", "intent": "b"}),
        ]
    )
    VietnameseTokenizer(VietnameseTokenizer.get_default_config()).process_training_data(
        data
    )
    featurizer.train(data)
    with_marks = features(featurizer, "đăng ký tạm trú ở đâu")
    without = features(featurizer, "dang ky tam tru o dau")
    teencode = features(featurizer, "đk tạm trú o dau")
    assert with_marks == without == teencode
    assert with_marks != features(featurizer, "làm hộ chiếu mất bao lâu")


def trained(
    cls: type,
    config: dict,
    model_storage: LocalModelStorage,
    resource: Resource,
    execution_context: ExecutionContext,
):  # type: ignore[no-untyped-def]
    featurizer = cls.create(
        {**cls.get_default_config(), **config},
        model_storage,
        resource,
        execution_context,
    )
    data = TrainingData(
        [
            Message({TEXT: "đăng ký tạm trú ở đâu", "intent": "a"}),
            Message({TEXT: "số 012345678901 là gì", "intent": "b"}),
        ]
    )
    data.regex_features = [{"name": "number", "pattern": r"\d{9,12}"}]
    VietnameseTokenizer(VietnameseTokenizer.get_default_config()).process_training_data(
        data
    )
    featurizer.train(data)
    return featurizer


def text_features(featurizer, text: str) -> tuple:  # type: ignore[no-untyped-def]
    message = Message({TEXT: text})
    VietnameseTokenizer(VietnameseTokenizer.get_default_config()).process([message])
    featurizer.process([message])
    return message, message.get_sparse_features(TEXT)


@pytest.mark.parametrize(
    "cls", [BagCountVectorsFeaturizer, FoldedCountVectorsFeaturizer, BagRegexFeaturizer]
)
def test_sentence_features_only_when_asked(
    cls: type,
    model_storage: LocalModelStorage,
    resource: Resource,
    execution_context: ExecutionContext,
) -> None:
    text = "tạm trú số 012345678901"
    both = trained(cls, {}, model_storage, resource, execution_context)
    message, (sequence, sentence) = text_features(both, text)
    tokens = message.get("text_tokens")
    assert sequence is not None and sequence.features.shape[0] == len(tokens)
    assert sentence is not None and sentence.features.shape[0] == 1
    bag = trained(
        cls, {"sequence_features": False}, model_storage, resource, execution_context
    )
    message, (no_sequence, same_sentence) = text_features(bag, text)
    assert no_sequence is None
    assert same_sentence is not None
    assert (same_sentence.features != sentence.features).nnz == 0
    if cls is BagRegexFeaturizer:  # the CRF still sees which tokens match
        patterns = [t.get("pattern") for t in message.get("text_tokens")]
        assert patterns[-1] == {"number": True}


def test_one_step_sequence(
    model_storage: LocalModelStorage,
    resource: Resource,
    execution_context: ExecutionContext,
) -> None:
    step = OneStepFeaturizer.create(
        OneStepFeaturizer.get_default_config(),
        model_storage,
        resource,
        execution_context,
    )
    message, (sequence, sentence) = text_features(step, "cho hỏi làm căn cước")
    assert sentence is None
    assert sequence is not None and sequence.features.toarray().tolist() == [[1.0]]
    empty = Message({TEXT: ""})
    step.process([empty])
    assert empty.get_sparse_features(TEXT) == (None, None)
