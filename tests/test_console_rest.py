"""The console against the running assistant: a citizen files a tip and asks for
an officer over the REST channel; in Chromium the officer reads the tip, claims
the conversation, replies, and the citizen's next REST answer carries the reply.

Marked ``model`` and ``browser``: it needs the trained model (run after
training, like tests/test_server.py) and /usr/bin/chromium.
"""

import asyncio
import os
import re
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests
from sanic import Sanic

from console.web import create_app
from services import crypto, db, handoff
from tests import console_support as cs
from tests.servers import TOKEN, Assistant, free_port, throwaway_keys
from tests.test_console_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS

pytestmark = [
    pytest.mark.model,
    pytest.mark.browser,
    pytest.mark.usefixtures("privacy_restored"),
]

CITIZEN = "rest-citizen-console"
TIP_MESSAGES = [
    "em muốn báo có ổ cờ bạc trong xóm, bọn nó đứng canh trước quán nét",  # what
    "ở ngã ba chợ, gần tiệm vàng",
    "tối qua",
    "dạ không có hình",
    "/deny",  # the "Giữ ẩn danh" button
]
REFERENCE = re.compile(r"TB-[A-Z0-9]{8}")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """The assistant (tests/servers.py) and this process on one seeded database
    with the same throw-away keys, plus the console's sample units and officers."""
    running = Assistant(tmp_path_factory.mktemp("console_rest"))
    env = {
        "DATABASE_URL": running.database_url,
        "TRACKER_STORE_URL": running.env["TRACKER_STORE_URL"],
        "RASA_API_TOKEN": TOKEN,
        **throwaway_keys(),
    }
    saved = {name: os.environ.get(name) for name in [*env, "RASA_URL"]}
    os.environ.update(env)
    crypto.reset()
    db.engine.cache_clear()
    cs.seed_units()
    cs.seed_officers()
    running.start()
    os.environ["RASA_URL"] = running.url
    try:
        yield {"rasa": running.url}
    finally:
        running.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        crypto.reset()
        db.engine.cache_clear()


def say(rasa: str, text: str) -> List[Dict]:
    reply = requests.post(
        f"{rasa}/webhooks/rest/webhook",
        json={"sender": CITIZEN, "message": text, "metadata": {"unit": cs.UNIT_A}},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


async def _officer(base: str, reference: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{base}/login")
            await page.fill("input[name=username]", "canbo.a")
            await page.fill("input[name=password]", cs.PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/tips")
            await page.click(f"text={reference}")
            assert "quán nét" in await page.inner_text("main")
            await page.screenshot(path=str(SHOTS / "rest-01-tip.png"))
            await page.goto(f"{base}/queue")
            await page.click(f"text={CITIZEN}")
            await page.click("text=Nhận trò chuyện")
            transcript = await page.inner_text("main")
            assert "cán bộ" in transcript  # the transcript
            # the "Giữ ẩn danh" button press reads as its title, not "/deny"
            assert "Người dân (bấm nút): Giữ ẩn danh" in transcript
            assert "/deny" not in transcript
            await page.fill("textarea[name=text]", "Dạ, em là cán bộ trực ban ạ.")
            await page.click('button:has-text("Gửi")')
            await page.wait_for_selector("text=chờ người dân nhận")
            await page.screenshot(path=str(SHOTS / "rest-02-conversation.png"))
        finally:
            await browser.close()


async def _serve(reference: str) -> None:
    app = create_app(secret=b"rest-browser-test")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    await server.startup()
    await server.after_start()
    try:
        await _officer(f"http://127.0.0.1:{port}", reference)
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


def test_tip_and_reply_through_the_rest_channel(assistant: Dict[str, str]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    rasa = assistant["rasa"]
    answers: List[str] = []
    for text in TIP_MESSAGES:
        answers += [m.get("text", "") for m in say(rasa, text)]
    found = REFERENCE.search(" ".join(answers))
    assert found, answers
    say(rasa, "tôi cần gặp trực tiếp cán bộ để trình bày thêm")
    assert handoff.is_waiting(CITIZEN)
    Sanic.test_mode = True
    asyncio.run(_serve(found.group(0)))
    assert handoff.is_held(CITIZEN)
    reply = say(rasa, "dạ em chào anh")
    from_officer = [m for m in reply if (m.get("custom") or {}).get("from_officer")]
    assert [m["text"] for m in from_officer] == ["Dạ, em là cán bộ trực ban ạ."]
    assert Path(SHOTS / "rest-02-conversation.png").exists()
