"""The folded featurizer: messages typed with and without diacritics match."""

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vietnamese.featurizers import FoldedCountVectorsFeaturizer
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
