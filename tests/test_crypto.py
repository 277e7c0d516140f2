"""Encryption at rest: round trip, tampering, key file, rotation."""

import base64
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services import crypto, tips

pytestmark = pytest.mark.usefixtures("crypto_keys")


def key_spec(kid: str, fill: int) -> str:
    return f"{kid}:{base64.b64encode(bytes([fill]) * 32).decode()}"


def test_round_trip_and_key_id() -> None:
    token = crypto.encrypt("Số 0912 345 678, CCCD 079201001234", "tips.what_text")
    assert "0912 345 678" not in token and "079201001234" not in token
    assert crypto.key_id(token) == crypto.keyring().current
    assert crypto.decrypt(token, "tips.what_text").endswith("079201001234")
    assert crypto.encrypt("x", "c") != crypto.encrypt("x", "c")  # fresh nonce


def test_a_token_does_not_open_elsewhere_or_after_tampering() -> None:
    token = crypto.encrypt("bí mật", "tips.what_text")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(token, "tips.place")
    body = token.rsplit(":", 1)[1]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(token.rsplit(":", 1)[0] + ":" + flipped, "tips.what_text")
    for bad in ("", "plain text", "v1:nokey", "v1:k:!!!"):
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt(bad, "tips.what_text")


def test_key_file_is_created_private(crypto_keys: Path) -> None:
    crypto.encrypt("x", "c")
    path = crypto_keys / "tip_keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(crypto_keys.stat().st_mode) == 0o700
    kid, _, key = path.read_text().strip().partition(":")
    assert kid == crypto.keyring().current
    assert len(base64.urlsafe_b64decode(key)) == 32


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIP_KEYS", key_spec("new", 2) + "," + key_spec("old", 1))
    crypto.reset()
    assert crypto.keyring().current == "new"
    monkeypatch.setenv("TIP_KEYS", key_spec("old", 1))
    crypto.reset()
    old_token = crypto.encrypt("cũ", "c")
    monkeypatch.setenv("TIP_KEYS", key_spec("new", 2) + "," + key_spec("old", 1))
    crypto.reset()
    assert crypto.decrypt(old_token, "c") == "cũ"
    assert crypto.key_id(crypto.encrypt("mới", "c")) == "new"
    with pytest.raises(crypto.CryptoError):
        crypto.add_key()  # the operator edits TIP_KEYS instead


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "nocolon",
        "k:notbase64!",
        "k:" + base64.b64encode(b"short").decode(),
        "bad id:" + base64.b64encode(b"k" * 32).decode(),
    ],
)
def test_bad_key_specs_are_refused(spec: str) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.parse_keys(spec)


def test_rotation_reencrypts_old_records(db_engine: Engine) -> None:
    old_kid = crypto.keyring().current
    reference = tips.file_tip(
        "XA-TEST",
        "Có người buôn bán ma túy",
        "Hẻm 5",
        "Tối qua",
        [{"type": "image", "url": "https://zalo.example/a.jpg"}],
        {"phone": "0912345678"},
        "conv-1",
    )
    new_kid = crypto.add_key()
    assert new_kid != old_kid and crypto.keyring().current == new_kid
    assert set(crypto.keyring().keys) == {old_kid, new_kid}
    # new records use the new key, old ones still open
    assert crypto.key_id(crypto.encrypt("x", "c")) == new_kid
    assert tips.get_tip(reference, "XA-TEST").what == "Có người buôn bán ma túy"
    changed = crypto.rotate(db_engine)
    assert changed == 2  # the tip and its evidence
    with db_engine.connect() as connection:
        row = connection.execute(select(tips.Tip.key_id, tips.Tip.what_text)).one()
        evidence = connection.execute(select(tips.TipEvidence.ref)).scalar_one()
    assert row.key_id == new_kid and crypto.key_id(row.what_text) == new_kid
    assert crypto.key_id(evidence) == new_kid
    # with the old key gone, everything still opens
    lines = crypto.KEYS_FILE.read_text().splitlines()
    crypto.KEYS_FILE.write_text(lines[0] + "\n")
    os.chmod(crypto.KEYS_FILE, 0o600)
    crypto.reset()
    view = tips.get_tip(reference, "XA-TEST")
    assert view.contact == {"phone": "0912345678"}
    assert view.evidence == [{"type": "image", "url": "https://zalo.example/a.jpg"}]
    assert crypto.rotate(db_engine) == 0
