"""Faster, equivalent versions of two hot spots of Rasa 3.6's training.

Installed by ``python -m vietnamese.cli`` (the Makefile's ``$(RASA)``), before
Rasa's own command line runs; plain ``rasa train`` gives the same model, only
slower. Each replacement returns exactly what the original returns (tested in
``tests/test_speedups.py`` against the original on the same inputs). Measured
with py-spy on ``rasa train`` of our data:

- ``validate_training_data``: every ``{"entity": …, "value": …}`` annotation
  of the NLU data is validated with ``jsonschema.validate``, which checks the
  schema itself against its meta-schema on every call (about 1.6 ms, more than
  3,000 annotations, and ``rasa train`` reads the data twice). Here the checked
  validator is kept per schema; the instance is validated the same way, and a
  failure raises the same error.
- ``RasaDataGenerator._scipy_matrix_to_values``: turns each batch's sparse
  matrices into (indices, values, shape) with several small numpy calls per
  example, for every batch of every epoch of DIET and TED. Here it is done
  with one concatenation per array.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Dict, List

import numpy as np
import scipy.sparse

_installed = False


@functools.lru_cache(maxsize=32)
def _checked_validator(schema_json: str) -> Any:
    """A validator for ``schema_json``, its schema checked once."""
    from jsonschema.validators import validator_for

    schema = json.loads(schema_json)
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_with_cached_schema(schema: Dict[str, Any], instance: Any) -> None:
    """``jsonschema.validate(instance, schema)`` without re-checking the schema:
    raises the same ``ValidationError`` (the best match) or nothing."""
    from jsonschema import exceptions

    validator = _checked_validator(json.dumps(schema, sort_keys=True))
    error = exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def _validate_training_data(json_data: Dict[str, Any], schema: Dict[str, Any]) -> None:
    """``rasa.shared.utils.validation.validate_training_data``, same errors."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_URL_TRAINING_DATA
    from rasa.shared.utils.validation import SchemaValidationError

    try:
        validate_with_cached_schema(schema, json_data)
    except ValidationError as e:
        e.message += (
            f". Failed to validate data, make sure your data "
            f"is valid. For more information about the format visit "
            f"{DOCS_URL_TRAINING_DATA}."
        )
        raise SchemaValidationError.create_from(e) from e


def sparse_batch_values(
    array_of_sparse: Any, original: Callable[[Any], List[np.ndarray]]
) -> List[np.ndarray]:
    """``RasaDataGenerator._scipy_matrix_to_values`` for 3-D feature arrays:
    [indices (example, row, column) int64, values float32, shape int64].
    4-D arrays (dialogue histories) go to ``original``."""
    if array_of_sparse.number_of_dimensions == 4:
        return original(array_of_sparse)
    matrices = [
        x if isinstance(x, scipy.sparse.coo_matrix) else x.tocoo()
        for x in array_of_sparse
    ]
    counts = [len(x.row) for x in matrices]
    example = np.repeat(np.arange(len(matrices), dtype=np.int64), counts)
    rows = np.concatenate([x.row for x in matrices]).astype(np.int64)
    columns = np.concatenate([x.col for x in matrices]).astype(np.int64)
    indices = np.stack([example, rows, columns], axis=1)
    data = np.concatenate([x.data for x in matrices]).astype(np.float32)
    shape = np.array(
        (len(matrices), max(x.shape[0] for x in matrices), matrices[0].shape[-1]),
        dtype=np.int64,
    )
    return [indices, data, shape]


def install() -> None:
    """Put the replacements in place (idempotent)."""
    global _installed
    if _installed:
        return
    import rasa.shared.utils.validation as validation
    from rasa.utils.tensorflow.data_generator import RasaDataGenerator

    original = RasaDataGenerator._scipy_matrix_to_values
    validation.validate_training_data = _validate_training_data
    RasaDataGenerator._scipy_matrix_to_values = staticmethod(
        functools.partial(sparse_batch_values, original=original)
    )
    _installed = True
