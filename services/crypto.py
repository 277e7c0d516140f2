"""Encryption at rest for citizens' personal data (AES-GCM, rotating keys).

Keys: ``TIP_KEYS`` (``kid:base64key,kid2:base64key``; the first is current) or,
when unset, the git-ignored file ``var/keys/tip_keys`` (one ``kid:base64key`` per
line, first = current), created with 0600 permissions on first use.

Every token names the key that sealed it (``v1:<kid>:<base64 nonce+ciphertext>``)
and every encrypted record also keeps that ``key_id`` in a column, so after a new
key is added (:func:`add_key`) new records use it, old ones still decrypt, and
:func:`rotate` re-encrypts the old ones. A token is bound to its place
(``context``, e.g. ``tips.what``) as associated data: a value copied to another
column does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import hmac
import os
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Tuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KEYS_DIR = PROJECT_ROOT / "var" / "keys"
KEYS_FILE = KEYS_DIR / "tip_keys"
INDEX_KEY_FILE = KEYS_DIR / "index_key"
PREFIX = "v1"
KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NONCE_BYTES = 12


class CryptoError(ValueError):
    """A key or token is malformed, unknown or was tampered with."""


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: Dict[str, bytes]


def _decode_key(kid: str, encoded: str) -> bytes:
    if not KID.match(kid):
        raise CryptoError(f"bad key id {kid!r}: letters, digits, - and _ only")
    text = encoded.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
    except (binascii.Error, ValueError) as error:
        raise CryptoError(f"key {kid}: not base64") from error
    if len(raw) not in (16, 24, 32):
        raise CryptoError(f"key {kid}: {len(raw)} bytes, expected 16, 24 or 32")
    return raw


def parse_keys(spec: str) -> KeyRing:
    """A key ring from ``kid:base64key`` items separated by commas or lines."""
    keys: Dict[str, bytes] = {}
    order = []
    for item in re.split(r"[,\n]", spec):
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        kid, sep, encoded = item.partition(":")
        if not sep:
            raise CryptoError("each key must read kid:base64key")
        if kid in keys:
            raise CryptoError(f"key id {kid} given twice")
        keys[kid] = _decode_key(kid, encoded)
        order.append(kid)
    if not order:
        raise CryptoError("no key given")
    return KeyRing(current=order[0], keys=keys)


def _new_key_line() -> str:
    kid = "k" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    key = base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()
    return f"{kid}:{key}"


def _write_private(path: Path, text: str, exclusive: bool) -> None:
    """Write ``text`` to ``path``, readable by the owner only, all at once.

    The text goes to a private temporary file first; ``exclusive`` links it in
    place only if ``path`` does not exist yet (FileExistsError otherwise), so a
    concurrent reader never sees a half-written key file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _new_index_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _read_or_create(path: Path, make: Callable[[], str] = _new_key_line) -> str:
    if not path.exists():
        # another process may create it first: then read theirs
        with contextlib.suppress(FileExistsError):
            _write_private(path, make() + "\n", True)
    return path.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def keyring() -> KeyRing:
    """The keys in use (cached: call :func:`reset` after changing them)."""
    spec = os.environ.get("TIP_KEYS")
    if spec:
        return parse_keys(spec)
    return parse_keys(_read_or_create(KEYS_FILE))


@functools.lru_cache(maxsize=1)
def _index_key() -> bytes:
    spec = os.environ.get("INDEX_KEY")
    if spec:
        return _decode_key("index", spec)
    return _decode_key("index", _read_or_create(INDEX_KEY_FILE, _new_index_key))


def reset() -> None:
    """Forget cached keys (after :func:`add_key`, or in tests)."""
    keyring.cache_clear()
    _index_key.cache_clear()


def add_key() -> str:
    """Generate a new current key in the key file; returns its id.

    With ``TIP_KEYS`` set, the operator adds the key there instead.
    """
    if os.environ.get("TIP_KEYS"):
        raise CryptoError("TIP_KEYS is set: put the new key first in TIP_KEYS")
    old = _read_or_create(KEYS_FILE)
    line = _new_key_line()
    kid = line.split(":", 1)[0]
    if kid in parse_keys(old).keys:
        kid = f"{kid}-{secrets.token_hex(2)}"
        line = kid + ":" + line.split(":", 1)[1]
    _write_private(KEYS_FILE, line + "\n" + old, exclusive=False)
    reset()
    return kid


def encrypt(plaintext: str, context: str) -> str:
    """Seal ``plaintext`` with the current key, bound to ``context``."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current]).encrypt(
        nonce, plaintext.encode("utf-8"), _aad(ring.current, context)
    )
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
    return f"{PREFIX}:{ring.current}:{body}"


def _aad(kid: str, context: str) -> bytes:
    return f"{PREFIX}|{kid}|{context}".encode()


def _split(token: str) -> Tuple[str, bytes]:
    parts = token.split(":", 2) if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != PREFIX:
        raise CryptoError("not an encrypted value")
    try:
        raw = base64.urlsafe_b64decode(parts[2].encode("ascii"))
    except (binascii.Error, ValueError) as error:
        raise CryptoError("damaged encrypted value") from error
    if len(raw) <= NONCE_BYTES:
        raise CryptoError("damaged encrypted value")
    return parts[1], raw


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def key_id(token: str) -> str:
    """The id of the key that sealed ``token``."""
    return _split(token)[0]


def decrypt(token: str, context: str) -> str:
    """The plaintext of ``token``; :class:`CryptoError` if it cannot be opened."""
    kid, raw = _split(token)
    key = keyring().keys.get(kid)
    if key is None:
        raise CryptoError(f"unknown key id {kid}")
    try:
        plain = AESGCM(key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(kid, context)
        )
    except InvalidTag as error:
        raise CryptoError(
            "encrypted value does not open (wrong key or place)"
        ) from error
    return plain.decode("utf-8")


def encrypt_optional(value: str | None, context: str) -> str | None:
    return None if value is None else encrypt(value, context)


def decrypt_optional(token: str | None, context: str) -> str | None:
    return None if token is None else decrypt(token, context)


def reencrypt(token: str, context: str) -> str:
    """``token`` sealed again with the current key (unchanged if it already is)."""
    if key_id(token) == keyring().current:
        return token
    return encrypt(decrypt(token, context), context)


def blind_index(value: str) -> str:
    """A keyed hash to find or compare a value without storing it in clear."""
    return hmac.new(_index_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def rotate(bind: Engine | None = None, batch: int = 500) -> int:
    """Re-encrypt every record not sealed with the current key; returns how many.

    Models opt in with ``__encrypted__`` (column attribute names) and a ``key_id``
    column; the context of each value is ``<table>.<attribute>``. A row with
    values but no key id was stored before its table was encrypted: its values
    are in clear, and are sealed now.
    """
    from sqlalchemy import and_, or_, select

    from services import models  # noqa: F401  (registers every model)
    from services.db import Base, session_scope

    current = keyring().current
    changed = 0
    for mapper in Base.registry.mappers:
        model = mapper.class_
        fields = getattr(model, "__encrypted__", None)
        if not fields:
            continue
        table = model.__tablename__
        in_clear = and_(
            model.key_id.is_(None),
            or_(*[getattr(model, field).isnot(None) for field in fields]),
        )
        while True:
            with session_scope(bind) as session:
                rows = (
                    session.execute(
                        select(model)
                        .where(or_(model.key_id != current, in_clear))
                        .limit(batch)
                    )
                    .scalars()
                    .all()
                )
                for row in rows:
                    seal = encrypt if row.key_id is None else reencrypt
                    for field in fields:
                        value = getattr(row, field)
                        if value is not None:
                            setattr(row, field, seal(value, f"{table}.{field}"))
                    row.key_id = current
                changed += len(rows)
            if len(rows) < batch:
                break
    return changed


def main(argv: list[str]) -> int:
    """``python -m services.crypto add-key | rotate``."""
    try:
        if argv == ["add-key"]:
            print(f"New current key: {add_key()}")
        elif argv == ["rotate"]:
            print(f"Re-encrypted {rotate()} record(s) with key {keyring().current}.")
        else:
            print("usage: python -m services.crypto add-key | rotate", file=sys.stderr)
            return 2
    except CryptoError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
