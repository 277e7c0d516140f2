"""The webhook signature: ``X-ZEvent-Signature: mac=<hex>``.

Zalo signs with a plain SHA-256 (not an HMAC) of the concatenation
``app_id + raw body + timestamp + OA secret key``, where the timestamp is the
``timestamp`` field of the body. It must be computed over the exact bytes that
arrived: re-serialising the JSON changes the digest.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-ZEvent-Signature"


def compute(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The lowercase hex digest Zalo sends (without the ``mac=`` prefix)."""
    digest = hashlib.sha256()
    digest.update(app_id.encode("utf-8"))
    digest.update(raw_body)
    digest.update(timestamp.encode("utf-8"))
    digest.update(oa_secret_key.encode("utf-8"))
    return digest.hexdigest()


def header_value(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    return "mac=" + compute(app_id, raw_body, timestamp, secret)


def verify(
    header: str, app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str
) -> bool:
    """Constant-time check of a received header against the expected digest."""
    received = header.strip()
    if received[:4].lower() == "mac=":
        received = received[4:]
    expected = compute(app_id, raw_body, timestamp, oa_secret_key)
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode())
