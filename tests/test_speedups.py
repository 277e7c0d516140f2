"""vietnamese/speedups.py gives exactly what Rasa's originals give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from rasa.shared.nlu.training_data.schemas.data_schema import (
    entity_dict_schema,
    rasa_nlu_data_schema,
)
from rasa.shared.utils import validation
from rasa.shared.utils.validation import SchemaValidationError
from rasa.utils.tensorflow.data_generator import RasaDataGenerator
from rasa.utils.tensorflow.model_data import FeatureArray

from vietnamese import speedups

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_VALIDATE = validation.validate_training_data
ORIGINAL_VALUES = RasaDataGenerator.__dict__["_scipy_matrix_to_values"].__func__


@pytest.mark.parametrize(
    ("annotation", "valid"),
    [
        ({"entity": "procedure", "value": "thuong_tru"}, True),
        ({"entity": "procedure", "value": 12, "role": "from"}, True),
        ({"entity": "procedure"}, True),
        ({"value": "thuong_tru"}, False),  # no entity
        ({"entity": 5}, False),  # not a string
        ({"entity": "procedure", "value": ["a"]}, False),  # not string or number
        ({"entity": "procedure", "group": None}, False),
        ("not an object", False),
    ],
)
def test_validation_accepts_and_refuses_what_rasa_does(
    annotation: object, valid: bool
) -> None:
    def outcome(validate) -> str:  # type: ignore[no-untyped-def]
        try:
            validate(annotation, entity_dict_schema())
        except SchemaValidationError as error:
            return f"refused: {error}"
        return "accepted"

    ours = outcome(speedups._validate_training_data)
    assert ours == outcome(ORIGINAL_VALIDATE)
    assert (ours == "accepted") == valid


def test_one_validator_per_schema() -> None:
    speedups._checked_validator.cache_clear()
    for _ in range(3):
        speedups._validate_training_data({"entity": "x"}, entity_dict_schema())
    speedups._validate_training_data({"rasa_nlu_data": {}}, rasa_nlu_data_schema())
    info = speedups._checked_validator.cache_info()
    assert (info.misses, info.hits) == (2, 2)


def random_matrices(
    rng: np.random.Generator, count: int, fmt: str
) -> list[scipy.sparse.spmatrix]:
    matrices = []
    for _ in range(count):
        rows = int(rng.integers(1, 6))
        matrix = scipy.sparse.random(
            rows, 40, density=float(rng.uniform(0.0, 0.3)), format=fmt, random_state=rng
        )
        matrices.append(matrix)
    return matrices


@pytest.mark.parametrize("fmt", ["coo", "csr"])
def test_sparse_batch_values_equal_rasas(fmt: str) -> None:
    rng = np.random.default_rng(7)
    for count in (1, 2, 17, 64):
        array = FeatureArray(
            np.array(random_matrices(rng, count, fmt), dtype=object),
            number_of_dimensions=3,
        )
        expected = ORIGINAL_VALUES(array)
        ours = speedups.sparse_batch_values(array, original=ORIGINAL_VALUES)
        assert len(ours) == len(expected) == 3
        for mine, theirs in zip(ours, expected, strict=True):
            assert mine.dtype == theirs.dtype
            np.testing.assert_array_equal(mine, theirs)


def test_install_replaces_both_and_the_cli_runs_rasa() -> None:
    code = (
        "from vietnamese import speedups; speedups.install(); speedups.install();"
        "from rasa.shared.utils import validation;"
        "from rasa.utils.tensorflow.data_generator import RasaDataGenerator as G;"
        "print(validation.validate_training_data is speedups._validate_training_data,"
        " G._scipy_matrix_to_values.func is speedups.sparse_batch_values)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True
    )
    assert out.stdout.split() == ["True", "True"], out.stderr[-2000:]
    cli = subprocess.run(
        [sys.executable, "-m", "vietnamese.cli", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0 and "3.6.21" in cli.stdout, cli.stderr[-2000:]
