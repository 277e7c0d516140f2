"""The Zalo Official Account channel (credentials.yml: ``connectors.zalo.ZaloInput``).

``channel.py`` is the Rasa side (webhook, output channel), ``client.py`` the
OpenAPI client, ``inbox.py`` the durable inbox and its worker, ``events.py`` and
``signature.py`` the event rules, ``config.py`` the OA registry. The Rasa side is
imported on first use only, so the officer console can use ``client.py`` without
loading Rasa.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ZaloInput", "ZaloOutput"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from connectors.zalo import channel

        return getattr(channel, name)
    raise AttributeError(name)
