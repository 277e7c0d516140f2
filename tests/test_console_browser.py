"""The console in a real browser (Playwright driving Debian's /usr/bin/chromium).

An officer logs in, sees a tip filed through the service layer, watches a new
handoff request appear in the queue without reloading, claims it, replies, and
the citizen's REST conversation receives the reply; publishes a news item and
unpublishes it (the assistant stops answering with it), edits a fact of the
unit and marks it re-checked; an officer of another unit is refused the tip.
A screenshot of each screen goes to results/console/.
"""

import asyncio
import os
import socket
import struct
import zlib
from pathlib import Path

import pytest
from sanic import Sanic
from sqlalchemy import select

from console.web import create_app
from services import db, handoff, knowledge, outbound, tips
from services.knowledge_models import Fact
from tests import console_support as cs
from tests.test_handoff import TOKEN as RASA_TOKEN
from tests.test_handoff import FakeRasa

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("crypto_keys", "privacy_restored"),
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parent.parent / "results" / "console"
NEWS_TITLE = "Lịch tiếp công dân tháng 12"
FACT_TEXT = "Khách lưu trú được thông báo qua VNeID trước 23 giờ (đã sửa trên bảng)."


def _png(size: int = 48) -> bytes:
    """A small red square, a real PNG (the console shows it inline)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xc0\x20\x20" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _scenario(base: str, reference: str, fact_id: int, shots: Path) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{base}/login")
            await page.screenshot(path=str(shots / "01-login.png"))
            await page.fill("input[name=username]", "canbo.a")
            await page.fill("input[name=password]", cs.PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/tips")
            assert reference in await page.inner_text("main")
            await page.screenshot(path=str(shots / "02-tips.png"))
            await page.click(f"text={reference}")
            assert "Xe máy bị lấy trộm" in await page.inner_text("main")
            # the officer adds a photo: stored encrypted, shown inline
            await page.set_input_files(
                "input[name=file]",
                files=[
                    {
                        "name": "hien-truong.png",
                        "mimeType": "image/png",
                        "buffer": _png(),
                    }
                ],
            )
            await page.click('button:has-text("Đính kèm")')
            await page.wait_for_selector("text=Đã đính kèm tệp")
            image = page.locator("#files img.evidence")
            await image.wait_for()
            assert await image.evaluate("img => img.naturalWidth") == 48
            text = await page.inner_text("main")
            assert "Vị trí: Chợ Đà Lạt 11.9404, 108.4583" in text
            assert "Tệp: camera.mp4" in text
            await page.screenshot(path=str(shots / "03-tip.png"), full_page=True)

            await page.goto(f"{base}/queue")
            assert "Không có ai đang chờ" in await page.inner_text("#queue")
            # a citizen asks for an officer now: it shows up without a reload
            handoff.request_handoff("web-citizen-1", cs.UNIT_A, "rest")
            await page.wait_for_selector("text=web-citizen-1", timeout=10000)
            await page.screenshot(path=str(shots / "04-queue.png"))
            await page.click("text=web-citizen-1")
            await page.click("text=Nhận trò chuyện")
            await page.fill("textarea[name=text]", "Dạ, em là cán bộ trực, em nghe ạ.")
            await page.click('button:has-text("Gửi")')
            await page.wait_for_selector("text=chờ người dân nhận")
            await page.screenshot(path=str(shots / "05-conversation.png"))
            received = outbound.take_pending("rest", "web-citizen-1")
            assert [m["text"] for m in received] == [
                "Dạ, em là cán bộ trực, em nghe ạ."
            ]
            await page.click("text=Trả lại cho trợ lý ảo")
            await page.wait_for_url(f"{base}/queue")

            for name, path in [
                ("06-appointments", "/appointments"),
                ("07-applications", "/applications"),
                ("08-content", "/content"),
                ("09-stale-facts", "/content?stale=1"),
            ]:
                await page.goto(base + path)
                await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

            # content: publish a news item, unpublish it; edit and re-check a fact
            await page.goto(f"{base}/content")
            await page.fill("input[name=title]", NEWS_TITLE)
            await page.fill("textarea[name=summary]", "Sáng thứ 5 hằng tuần.")
            await page.click('button:has-text("Đăng ngay")')
            await page.wait_for_selector("text=Đã đăng.")
            assert NEWS_TITLE in [n.title for n in knowledge.news(cs.UNIT_A)]
            row = page.locator("tr", has_text=NEWS_TITLE)
            await row.locator('button:has-text("Gỡ tin")').click()
            await page.wait_for_selector("text=Đã gỡ: trợ lý ảo không còn trả lời")
            assert NEWS_TITLE not in [n.title for n in knowledge.news(cs.UNIT_A)]
            assert "Đăng lại" in await row.inner_text()
            await page.screenshot(path=str(shots / "11-news-unpublished.png"))
            await page.goto(f"{base}/content/facts/{fact_id}")
            await page.fill("textarea[name=text]", FACT_TEXT)
            await page.click('button:has-text("Lưu")')
            await page.wait_for_selector("text=Đã lưu.")
            await page.click('button:has-text("Đã kiểm tra lại hôm nay")')
            await page.wait_for_selector("text=Đã ghi nhận: kiểm tra lại hôm nay.")
            assert "Sửa lần cuối bởi canbo.a" in await page.inner_text("main")
            await page.screenshot(
                path=str(shots / "12-fact-edited.png"), full_page=True
            )

            other = await (await browser.new_context()).new_page()
            await other.goto(f"{base}/login")
            await other.fill("input[name=username]", "canbo.b")
            await other.fill("input[name=password]", cs.PASSWORD)
            await other.click("button[type=submit]")
            await other.wait_for_url(f"{base}/tips")
            assert reference not in await other.inner_text("main")
            reply = await other.goto(f"{base}/tips/{reference}")
            assert reply is not None and reply.status == 404
            text = await other.inner_text("main")
            assert "Không tìm thấy" in text and "Xe máy" not in text
            await other.screenshot(path=str(shots / "10-other-unit-refused.png"))
        finally:
            await browser.close()


async def _run(monkeypatch: pytest.MonkeyPatch, reference: str, fact_id: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    app = create_app(secret=b"browser-test-secret")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    await server.startup()
    await server.after_start()
    try:
        async with FakeRasa() as rasa:
            monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{rasa.port}")
            monkeypatch.setenv("RASA_API_TOKEN", RASA_TOKEN)
            await _scenario(f"http://127.0.0.1:{port}", reference, fact_id, SHOTS)
            assert [kind for _, kind in rasa.kinds()] == ["pause", "resume"]
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_console_in_chromium(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see README)")
    cs.seed_units()
    cs.seed_officers()
    reference = tips.file_tip(
        cs.UNIT_A,
        "Xe máy bị lấy trộm trước cổng chợ",
        "Chợ Đà Lạt",
        "sáng nay",
        [
            {
                "type": "location",
                "lat": 11.9404,
                "long": 108.4583,
                "address": "Chợ Đà Lạt",
            },
            {
                "type": "file",
                "url": "https://example.invalid/camera.mp4",
                "name": "camera.mp4",
            },
        ],
        None,
        "citizen-tip-1",
    )
    with db.session_scope() as session:  # an override of the officer's own unit
        fact_id = (
            session.execute(
                select(Fact.id).where(Fact.unit == cs.UNIT_A).order_by(Fact.id)
            )
            .scalars()
            .first()
        )
    Sanic.test_mode = True
    asyncio.run(_run(monkeypatch, reference, fact_id))
    with db.session_scope() as session:
        fact = session.get(Fact, fact_id)
        assert (fact.text, fact.edited_by) == (FACT_TEXT, "canbo.a")
    answer = knowledge.answer(fact.procedure, fact.info_type, unit=cs.UNIT_A)
    assert FACT_TEXT in " ".join(answer.messages)
