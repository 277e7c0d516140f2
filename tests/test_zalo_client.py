"""The Zalo OpenAPI client against the fake Zalo: text, buttons, files, tokens,
errors. Token and outbox storage run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import unicodedata
from pathlib import Path
from typing import Any, Awaitable, Callable, List

import pytest

from connectors.zalo.channel import ZaloInput, ZaloOutput
from connectors.zalo.client import (
    MAX_TEXT_CHARS,
    DbTokenStore,
    ZaloClient,
    ZaloError,
    split_text,
    zalo_button,
)
from connectors.zalo.config import OAConfig, Registry, dump_oas
from services import crypto, outbound, zalo_store
from services.zalo_store import TokenRecord, fingerprint, utcnow
from tests.fakes.zalo_harness import (  # noqa: F401  (fixture)
    channel_engines_closed,
    make_oas,
)
from tests.fakes.zalo_openapi import FakeZalo

pytestmark = pytest.mark.usefixtures("crypto_keys", "channel_engines_closed")

USER = "2468458835296117922"
ROOT = Path(__file__).resolve().parent.parent


# ---- text and buttons (no network) ------------------------------------------------


def test_short_text_is_one_nfc_chunk() -> None:
    decomposed = unicodedata.normalize("NFD", "Dạ, anh/chị mang căn cước ạ.")
    assert split_text(decomposed) == ["Dạ, anh/chị mang căn cước ạ."]
    assert split_text("   ") == []


def test_long_text_is_cut_between_sentences() -> None:
    sentence = "Dạ, hồ sơ đăng ký tạm trú gồm tờ khai CT01 và giấy tờ chỗ ở hợp pháp. "
    text = sentence * 80  # about 5,600 characters
    chunks = split_text(text)
    assert len(chunks) == 3
    assert all(len(chunk) <= MAX_TEXT_CHARS for chunk in chunks)
    assert all(chunk.endswith("hợp pháp.") for chunk in chunks)
    assert " ".join(chunks).split() == text.split()


def test_nfd_text_is_counted_after_normalisation() -> None:
    text = unicodedata.normalize("NFD", "Thủ tục đăng ký cư trú. " * 80)
    assert len(text) > MAX_TEXT_CHARS  # NFD: over the limit before normalising
    chunks = split_text(text)
    assert all(unicodedata.is_normalized("NFC", chunk) for chunk in chunks)
    assert all(len(chunk) <= MAX_TEXT_CHARS for chunk in chunks)
    assert len(chunks) == 1


def test_sentence_without_breaks_is_cut_at_words_then_hard() -> None:
    words = "chữ " * 1200
    chunks = split_text(words)
    assert all(len(c) <= MAX_TEXT_CHARS for c in chunks)
    assert " ".join(chunks).split() == words.split()
    blob = "x" * 4500
    assert [len(c) for c in split_text(blob)] == [2000, 2000, 500]


def test_buttons_map_to_zalo_types() -> None:
    assert zalo_button({"title": "Tạm trú", "payload": "/ask_temporary_residence"}) == {
        "title": "Tạm trú",
        "type": "oa.query.hide",
        "payload": "/ask_temporary_residence",
    }
    show = zalo_button({"title": "Có", "payload": "có"})
    assert show is not None and show["type"] == "oa.query.show"
    assert zalo_button({"title": "Web", "url": "https://dichvucong.gov.vn"}) == {
        "title": "Web",
        "type": "oa.open.url",
        "payload": {"url": "https://dichvucong.gov.vn"},
    }
    call = zalo_button({"title": "Gọi 113", "payload": "tel:113"})
    assert call is not None and call["payload"] == {"phone_code": "113"}
    long_title = zalo_button({"title": "x" * 50, "payload": "/a"})
    assert long_title is not None and len(long_title["title"]) == 35
    assert zalo_button({"title": "", "payload": "/a"}) is None
    assert zalo_button({"title": "t", "payload": "/a" * 600}) is None


# ---- against the fake ------------------------------------------------------


def with_fake(
    test: Callable[[FakeZalo, List[OAConfig], ZaloClient], Awaitable[Any]],
    sleeps: List[float] | None = None,
) -> None:
    async def main() -> None:
        async with FakeZalo() as fake:
            oas = make_oas(fake, 2)
            registry = Registry(
                {oa.oa_id: oa for oa in oas},
                openapi_base=fake.base,
                oauth_base=fake.base,
            )

            async def sleep(seconds: float) -> None:
                if sleeps is not None:
                    sleeps.append(seconds)

            client = ZaloClient(registry, sleep=sleep)
            try:
                await test(fake, oas, client)
            finally:
                await client.close()

    asyncio.run(main())


def test_exactly_one_refresh_under_20_concurrent_sends(database_url: str) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        fake.expire_tokens()
        fake.refresh_delay = 0.2  # every send sees the expired token first
        results = await asyncio.gather(
            *(client.send_text(oa.oa_id, f"{USER}{n}", f"tin {n}") for n in range(20))
        )
        assert all(r.ok for [r] in results)
        assert fake.refresh_calls == 1
        stored = zalo_store.load_tokens(oa.oa_id)
        assert stored is not None
        # the rotated pair is the one the fake issued, and it is persisted
        assert stored.refresh_token in fake.valid_refresh
        assert stored.access_token in fake.valid_access
        assert stored.seed_fingerprint == fingerprint(oa.refresh_token)
        assert stored.expires_at is not None and stored.expires_at > utcnow()
        # a restarted process continues with the stored pair (the file's refresh
        # token is spent: using it again would lose the OA)
        fresh = ZaloClient(client.registry)
        fake.expire_tokens()
        [result] = await fresh.send_text(oa.oa_id, USER, "sau khi khởi động lại")
        await fresh.close()
        assert result.ok
        assert fake.refresh_calls == 2
        refreshes = [r for r in fake.requests if r.path == "/v4/oa/access_token"]
        assert refreshes[0].form["refresh_token"] == oa.refresh_token
        assert refreshes[1].form["refresh_token"] == stored.refresh_token
        assert refreshes[0].headers["secret_key"] == oa.app_secret
        assert refreshes[0].form["grant_type"] == "refresh_token"

    with_fake(test)


def test_two_clients_on_their_own_engines_refresh_once(database_url: str) -> None:
    """Two clients that share nothing but the database (as two processes do)."""
    from services.db import make_engine

    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        engines = [make_engine(database_url) for _ in range(2)]
        clients = [
            ZaloClient(client.registry, token_store=DbTokenStore(bind))
            for bind in engines
        ]
        fake.expire_tokens()
        fake.refresh_delay = 0.3  # both see the expired token before either saves
        try:
            results = await asyncio.gather(
                *(
                    c.send_text(oa.oa_id, f"{USER}{n}", f"tin {n}")
                    for c in clients
                    for n in range(10)
                )
            )
        finally:
            for c in clients:
                await c.close()
            for bind in engines:
                bind.dispose()
        assert all(r.ok for [r] in results)
        assert fake.refresh_calls == 1  # the second client used the rotated pair
        stored = zalo_store.load_tokens(oa.oa_id)
        assert stored is not None and stored.access_token in fake.valid_access
        assert stored.refresh_token in fake.valid_refresh
        delivered = [
            m
            for m in fake.messages()
            if m.headers["access_token"] in (fake.valid_access)
        ]
        assert len(delivered) == 20

    with_fake(test)


def test_two_processes_refresh_once(database_url: str, tmp_path: Path) -> None:
    """The Rasa server and the officer console, as two real processes, hit the
    expired token at once: one refresh, every send delivered."""

    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        oas_file = tmp_path / "oas.yml"
        oas_file.write_text(dump_oas([oa]), encoding="utf-8")
        crypto.keyring()  # creates this test's key file
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fakes.zalo_token_child",
            USER,
            "10",
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "ZALO_OAS_FILE": str(oas_file),
                "ZALO_OPENAPI_BASE": fake.base,
                "ZALO_OAUTH_BASE": fake.base,
                # this test's keys (the stored tokens are sealed with them)
                "TIP_KEYS": ",".join(crypto.KEYS_FILE.read_text().split()),
            },
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            assert (await child.stdout.readline()).strip() == b"ready"
            fake.expire_tokens()
            fake.refresh_delay = 0.5
            child.stdin.write(b"go\n")
            await child.stdin.drain()
            mine = await asyncio.gather(
                *(client.send_text(oa.oa_id, USER, f"bot {n}") for n in range(10))
            )
            theirs = json.loads(await child.stdout.readline())
        finally:
            if child.returncode is None:
                child.kill()
            await child.wait()
        assert all(r.ok for [r] in mine) and theirs == [True] * 10
        assert fake.refresh_calls == 1
        refresh = [r for r in fake.requests if r.path == "/v4/oa/access_token"]
        assert [r.form["refresh_token"] for r in refresh] == [oa.refresh_token]
        stored = zalo_store.load_tokens(oa.oa_id)
        assert stored is not None and stored.refresh_token in fake.valid_refresh

    with_fake(test)


def test_a_new_grant_in_the_file_wins_over_the_stored_chain(database_url: str) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        zalo_store.save_tokens(
            oa.oa_id,
            TokenRecord("at-old", "rt-old", None, fingerprint("rt-previous-grant")),
        )
        [result] = await client.send_text(oa.oa_id, USER, "xin chào")
        assert result.ok
        assert fake.messages()[0].headers["access_token"] == oa.access_token

    with_fake(test)


def test_proactive_refresh_before_expiry(database_url: str) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        zalo_store.save_tokens(
            oa.oa_id,
            TokenRecord(
                oa.access_token,
                oa.refresh_token,
                utcnow() + dt.timedelta(minutes=20),
                fingerprint(oa.refresh_token),
            ),
        )
        [result] = await client.send_text(oa.oa_id, USER, "xin chào")
        assert result.ok
        assert fake.refresh_calls == 1
        assert fake.messages()[0].headers["access_token"] != oa.access_token

    with_fake(test)


def test_retry_once_after_refresh_then_give_up(database_url: str) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        fake.fail_next(-216, 2)
        [result] = await client.send_text(oa.oa_id, USER, "xin chào")
        assert not result.ok and result.error_code == -216
        assert fake.refresh_calls == 1
        assert len(fake.messages()) == 2
        [failure] = zalo_store.failed_sends(oa.oa_id)
        assert failure["error_code"] == -216 and failure["user_id"] == USER

    with_fake(test)


def test_closed_window_is_recorded_not_retried(database_url: str) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        fake.fail_next(-230)
        [result] = await client.send_text(oa.oa_id, USER, "nhắc lịch hẹn")
        assert result.error_code == -230
        assert len(fake.messages()) == 1 and fake.refresh_calls == 0
        assert [f["error_code"] for f in zalo_store.failed_sends()] == [-230]
        fake.fail_next(-230)
        with pytest.raises(ZaloError) as raised:  # the officer console sees it
            await client.send_outbound(f"{oa.oa_id}:{USER}", "Dạ, ...", {})
        assert raised.value.code == -230

    with_fake(test)


def test_rate_limit_backs_off_then_sends(database_url: str) -> None:
    sleeps: List[float] = []

    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        fake.fail_next(-32, 2)
        [result] = await client.send_text(oas[0].oa_id, USER, "xin chào")
        assert result.ok and result.message_id
        assert len(fake.messages()) == 3

    with_fake(test, sleeps)
    assert sleeps == [1.0, 3.0]


def test_spent_refresh_token_is_reported_not_looped(database_url: str) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        fake.valid_refresh.discard(oa.refresh_token)
        fake.expire_tokens()
        with pytest.raises(ZaloError):
            await client.send_outbound(f"{oa.oa_id}:{USER}", "xin chào", {})
        assert fake.refresh_calls == 1

    with_fake(test)


def test_file_is_fetched_uploaded_and_sent(database_url: str) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        oa = oas[0]
        fake.files["CT01.pdf"] = b"%PDF-1.4 to khai"
        output = ZaloOutput(client)
        await output.send_custom_json(
            f"{oa.oa_id}:{USER}",
            {"type": "file", "url": f"{fake.base}/files/CT01.pdf", "name": "CT01.pdf"},
        )
        [upload] = [r for r in fake.requests if r.path == "/v2.0/oa/upload/file"]
        assert upload.files == {"CT01.pdf": b"%PDF-1.4 to khai"}
        [sent] = fake.messages()
        assert sent.json["message"] == {
            "attachment": {"type": "file", "payload": {"token": "up1"}}
        }
        await output.send_attachment(f"{oa.oa_id}:{USER}", f"{fake.base}/files/no.pdf")
        assert [f["error_code"] for f in zalo_store.failed_sends()] == [-404]

    with_fake(test)


def test_buttons_images_and_elements_through_the_output_channel(
    database_url: str,
) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        recipient = f"{oas[0].oa_id}:{USER}"
        output = ZaloOutput(client)
        buttons = [{"title": f"Mục {n}", "payload": f"/intent_{n}"} for n in range(7)]
        await output.send_response(
            recipient, {"text": "Dạ, anh/chị cần gì ạ?", "buttons": buttons}
        )
        await output.send_response(recipient, {"image": "https://x.invalid/a.png"})
        ask = {
            "type": "request_user_info",
            "title": "Công an phường",
            "subtitle": "Xin SĐT",
        }
        await output.send_response(recipient, {"custom": ask})
        await output.send_response(recipient, {"custom": {"zalo": {"text": "thô"}}})
        first, second, image, info, raw = (r.json["message"] for r in fake.messages())
        assert info["attachment"]["payload"]["template_type"] == "request_user_info"
        assert info["attachment"]["payload"]["elements"][0]["title"] == "Công an phường"
        assert raw == {"text": "thô"}
        assert first["text"] == "Dạ, anh/chị cần gì ạ?"
        assert [b["payload"] for b in first["attachment"]["payload"]["buttons"]] == [
            f"/intent_{n}" for n in range(5)
        ]
        assert [b["title"] for b in second["attachment"]["payload"]["buttons"]] == [
            "Mục 5",
            "Mục 6",
        ]
        assert image["attachment"]["payload"]["elements"] == [
            {"media_type": "image", "url": "https://x.invalid/a.png"}
        ]

    with_fake(test)


def test_channel_registers_the_zalo_outbound_sender(
    database_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        from connectors.zalo.config import dump_oas

        path = tmp_path / "oas.yml"
        path.write_text(dump_oas(oas), encoding="utf-8")
        monkeypatch.setenv("ZALO_OAS_FILE", str(path))
        monkeypatch.setenv("ZALO_OPENAPI_BASE", fake.base)
        monkeypatch.setenv("ZALO_OAUTH_BASE", fake.base)
        channel = ZaloInput.from_credentials(None)
        assert isinstance(channel, ZaloInput)
        await outbound.send("zalo", f"{oas[1].oa_id}:{USER}", "Dạ, cán bộ trả lời ạ.")
        [sent] = fake.messages()
        assert sent.headers["access_token"] == oas[1].access_token
        assert sent.json["message"]["text"] == "Dạ, cán bộ trả lời ạ."
        assert channel.client is not None
        await channel.client.close()

    with_fake(test)


def test_no_oa_file_means_channel_off(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ZALO_OAS_FILE", str(tmp_path / "missing.yml"))
    with caplog.at_level("INFO"):
        channel = ZaloInput.from_credentials({})
    assert channel.get_output_channel() is None
    assert "Zalo channel off" in caplog.text


def test_console_process_registers_zalo_without_rasa(
    database_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.zalo.client import register_outbound
    from connectors.zalo.config import dump_oas

    async def test(fake: FakeZalo, oas: List[OAConfig], client: ZaloClient) -> None:
        path = tmp_path / "oas.yml"
        path.write_text(dump_oas(oas), encoding="utf-8")
        monkeypatch.setenv("ZALO_OAS_FILE", str(path))
        monkeypatch.setenv("ZALO_OPENAPI_BASE", fake.base)
        console_client = register_outbound()
        assert console_client is not None
        await outbound.send(
            "zalo",
            f"{oas[0].oa_id}:{USER}",
            "Dạ, lịch hẹn của anh/chị là 9h sáng mai.",
            {"buttons": [{"title": "Hủy lịch", "payload": "/cancel_appointment"}]},
        )
        await console_client.close()
        [sent] = fake.messages()
        buttons = sent.json["message"]["attachment"]["payload"]["buttons"]
        assert buttons[0]["payload"] == "/cancel_appointment"
        monkeypatch.setenv("ZALO_OAS_FILE", str(tmp_path / "none.yml"))
        assert register_outbound() is None

    with_fake(test)
