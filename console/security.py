"""Session cookies and CSRF tokens of the console, signed with one secret.

The session is a signed cookie (username, issue time, a random id and a digest
of the officer's password hash, so changing the password ends old sessions);
nothing personal is in it. The CSRF token is an HMAC of the session id: every
POST form carries it and a POST without the right one is refused.
The secret comes from ``CONSOLE_SECRET`` or ``var/console_secret`` (created
0600 on first use, git-ignored like the rest of var/).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_FILE = PROJECT_ROOT / "var" / "console_secret"
SESSION_COOKIE = "console_session"
SESSION_SECONDS = 8 * 3600


def load_secret(path: Path | None = None) -> bytes:
    """The signing secret (env first, else the file, made on first use)."""
    from_env = os.environ.get("CONSOLE_SECRET")
    if from_env:
        return from_env.encode("utf-8")
    path = path or SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


@dataclass(frozen=True)
class Session:
    username: str
    sid: str
    issued: int
    fingerprint: str


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, data: bytes) -> str:
        digest = hmac.new(self._secret, purpose.encode() + b"\0" + data, "sha256")
        return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")

    def session_cookie(self, username: str, fingerprint: str) -> str:
        payload = json.dumps(
            [username, secrets.token_urlsafe(16), int(time.time()), fingerprint]
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._mac('session', body.encode())}"

    def read_session(self, cookie: str | None) -> Session | None:
        """The session in a cookie if its signature holds and it is fresh."""
        if not cookie or "." not in cookie or len(cookie) > 1000:
            return None
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._mac("session", body.encode())):
            return None
        try:
            padded = body + "=" * (-len(body) % 4)
            username, sid, issued, fingerprint = json.loads(
                base64.urlsafe_b64decode(padded)
            )
        except (ValueError, TypeError):
            return None
        if int(issued) + SESSION_SECONDS < time.time():
            return None
        return Session(str(username), str(sid), int(issued), str(fingerprint))

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf", session.sid.encode())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))

    def login_csrf(self, nonce: str) -> str:
        """The login form's token, bound to a pre-login cookie nonce."""
        return self._mac("login", nonce.encode())


def fingerprint_matches(stored: str | None, cookie: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, cookie)


def new_nonce() -> str:
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()[:32]
