"""The Zalo Official Account channel (credentials.yml: ``connectors.zalo.ZaloInput``).

``channel.py`` is the Rasa side (webhook, output channel), ``client.py`` the
OpenAPI client, ``inbox.py`` the durable inbox and its worker, ``events.py`` and
``signature.py`` the event rules, ``config.py`` the OA registry.
"""

from connectors.zalo.channel import ZaloInput, ZaloOutput

__all__ = ["ZaloInput", "ZaloOutput"]
