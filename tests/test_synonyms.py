"""Entity values map to canonical values however citizens spell them."""

from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

from vietnamese.synonyms import VietnameseSynonymMapper


@pytest.fixture
def mapper(
    model_storage: LocalModelStorage,
    resource: Resource,
    execution_context: ExecutionContext,
) -> VietnameseSynonymMapper:
    return VietnameseSynonymMapper.create(
        {},
        model_storage,
        resource,
        execution_context,
        synonyms={
            "nhập hộ khẩu": "permanent_residence",
            "đăng ký tạm trú": "temporary_residence",
            "lệ phí": "fee",
        },
    )


@pytest.mark.parametrize(
    "typed, value",
    [
        ("nhập hộ khẩu", "permanent_residence"),
        ("NHAP HO KHAU", "permanent_residence"),
        ("nhap ho khau", "permanent_residence"),
        ("đk tạm trú", "temporary_residence"),
        ("dang ky tam tru", "temporary_residence"),
        ("le phi", "fee"),
        ("hộ chiếu", "hộ chiếu"),  # unknown spellings are left alone
    ],
)
def test_folded_lookup(mapper: VietnameseSynonymMapper, typed: str, value: str) -> None:
    entities: List[Dict[str, Any]] = [
        {"entity": "procedure", "value": typed, "start": 0, "end": len(typed)}
    ]
    mapper.replace_synonyms(entities)
    assert entities[0]["value"] == value
