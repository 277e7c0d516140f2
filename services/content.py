"""Loading the editable content in knowledge/ (one place, cached)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict

import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


class ContentError(ValueError):
    """A knowledge file is missing or malformed; the message names the file."""


@functools.cache
def load(name: str) -> Dict[str, Any]:
    """The mapping in knowledge/<name>.yml."""
    path = KNOWLEDGE_DIR / f"{name}.yml"
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise ContentError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top level")
    return data
