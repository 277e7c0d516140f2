"""The NLU gates of `make test` fail when they should."""

import json
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from tests import quality_gates
from tests.quality_gates import check, strip


def write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_stripped_copy_keeps_annotations_aligned(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "t.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_passport\n  examples: |\n'
        '    - làm [hộ chiếu]{"entity": "procedure", "value": "passport"} ở đâu ạ\n',
        encoding="utf-8",
    )
    strip(source, tmp_path / "out")
    message = load_data(str(tmp_path / "out")).intent_examples[0]
    assert message.get("text") == "lam ho chieu o dau a"
    entity = message.get("entities")[0]
    assert message.get("text")[entity["start"] : entity["end"]] == "ho chieu"
    assert entity["value"] == "passport"


def test_gates(tmp_path: Path) -> None:
    write(tmp_path / "nlu" / "intent_report.json", {"accuracy": 0.97})
    write(tmp_path / "nlu_stripped" / "intent_report.json", {"accuracy": 0.92})
    write(
        tmp_path / "nlu" / "CRFEntityExtractor_report.json",
        {"micro avg": {"f1-score": 0.95}},
    )
    lines = check(tmp_path)
    assert [line[:4] for line in lines] == ["ok  ", "FAIL", "ok  "]


def test_missing_reports_fail(tmp_path: Path) -> None:
    assert all(line.startswith("FAIL") for line in check(tmp_path))


def test_between_floor_and_target_passes_but_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        quality_gates,
        "GATES",
        {"intent": ("nlu/intent_report.json", "accuracy", 0.95, 0.90)},
    )
    write(tmp_path / "nlu" / "intent_report.json", {"accuracy": 0.92})
    assert check(tmp_path)[0].startswith("BELOW TARGET")
    write(tmp_path / "nlu" / "intent_report.json", {"accuracy": 0.89})
    assert check(tmp_path)[0].startswith("FAIL")
