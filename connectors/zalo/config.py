"""The OA registry: which Official Accounts this deployment serves.

One git-ignored YAML file (``var/zalo_oas.yml`` or ``ZALO_OAS_FILE``) lists the
OAs, one per police unit, each with its app credentials and its first token
pair. ``ZALO_OPENAPI_BASE`` and ``ZALO_OAUTH_BASE`` point the client at other
hosts (tests and ``make zalo-sim`` use a local fake). No Rasa imports: the
officer console uses the same client.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OAS_FILE = PROJECT_ROOT / "var" / "zalo_oas.yml"
DEFAULT_OPENAPI_BASE = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE = "https://oauth.zaloapp.com"

REQUIRED_FIELDS = (
    "oa_id",
    "unit",
    "app_id",
    "app_secret",
    "oa_secret_key",
    "access_token",
    "refresh_token",
)


class OAFileError(ValueError):
    """The OA file is unreadable or an entry is incomplete (no secrets in it)."""


@dataclass(frozen=True)
class OAConfig:
    """One Official Account. Secrets stay out of ``repr`` (and so out of logs)."""

    oa_id: str
    unit: str
    app_id: str
    app_secret: str = field(repr=False)
    oa_secret_key: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class Registry:
    oas: Dict[str, OAConfig]
    openapi_base: str = DEFAULT_OPENAPI_BASE
    oauth_base: str = DEFAULT_OAUTH_BASE
    source: Path | None = None

    def get(self, oa_id: str) -> OAConfig | None:
        return self.oas.get(oa_id)


def oas_file() -> Path:
    return Path(os.environ.get("ZALO_OAS_FILE") or DEFAULT_OAS_FILE)


def _text(entry: Dict[str, Any], key: str, position: int) -> str:
    value = entry.get(key)
    # YAML reads unquoted 19-digit ids as int: str() keeps every digit
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise OAFileError(f"OA entry #{position}: '{key}' is missing or not text")
    text = str(value).strip()
    if not text:
        raise OAFileError(f"OA entry #{position}: '{key}' is empty")
    return text


def parse_oas(data: Any) -> Dict[str, OAConfig]:
    """OAs from the file's content: a list (or ``{"oas": [...]}``)."""
    if isinstance(data, dict) and "oas" in data:
        data = data["oas"]
    if not isinstance(data, list) or not data:
        raise OAFileError("the OA file must hold a non-empty list of OAs")
    oas: Dict[str, OAConfig] = {}
    for position, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise OAFileError(f"OA entry #{position} is not a mapping")
        oa = OAConfig(**{key: _text(entry, key, position) for key in REQUIRED_FIELDS})
        if oa.oa_id in oas:
            raise OAFileError(f"OA entry #{position}: oa_id {oa.oa_id} is repeated")
        oas[oa.oa_id] = oa
    return oas


def load_registry(path: Path | None = None) -> Registry | None:
    """The registry, or None when there is no OA file (the channel is off)."""
    path = Path(path) if path else oas_file()
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise OAFileError(f"cannot read {path}: {type(error).__name__}") from error
    return Registry(
        oas=parse_oas(data),
        openapi_base=(
            os.environ.get("ZALO_OPENAPI_BASE") or DEFAULT_OPENAPI_BASE
        ).rstrip("/"),
        oauth_base=(os.environ.get("ZALO_OAUTH_BASE") or DEFAULT_OAUTH_BASE).rstrip(
            "/"
        ),
        source=path,
    )


def dump_oas(oas: List[OAConfig]) -> str:
    """YAML for an OA file (used by tests and the simulator)."""
    return yaml.safe_dump(
        [{key: getattr(oa, key) for key in REQUIRED_FIELDS} for oa in oas],
        allow_unicode=True,
        sort_keys=False,
    )
