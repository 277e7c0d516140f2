"""The console against the running assistant: a citizen files a tip and asks for
an officer over the REST channel; in Chromium the officer reads the tip, claims
the conversation, replies, and the citizen's next REST answer carries the reply.

Marked ``model`` and ``browser``: it needs the trained model (run after
training, like tests/test_server.py) and /usr/bin/chromium.
"""

import asyncio
import base64
import os
import re
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests
from sanic import Sanic

from console.web import create_app
from services import crypto, db, handoff
from tests import console_support as cs
from tests.test_console_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS
from tests.test_server import MODEL, RASA, ROOT, TOKEN, free_port, wait_until_up

pytestmark = [
    pytest.mark.model,
    pytest.mark.browser,
    pytest.mark.usefixtures("privacy_restored"),
]

CITIZEN = "rest-citizen-console"
TIP_MESSAGES = [
    "em muốn báo có ổ cờ bạc trong xóm",
    "bọn nó đứng canh trước quán nét",
    "ở ngã ba chợ, gần tiệm vàng",
    "tối qua",
    "dạ không có hình",
    "/deny",  # the "Giữ ẩn danh" button
]
REFERENCE = re.compile(r"TB-[A-Z0-9]{8}")


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """Action server and Rasa on one fresh database, with shared keys."""
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` first")
    tmp = tmp_path_factory.mktemp("console_rest")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'app.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{tmp / 'tracker.db'}",
        "TIP_KEYS": f"k1:{_key()}",
        "INDEX_KEY": _key(),
        "RASA_API_TOKEN": TOKEN,
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    crypto.reset()
    db.engine.cache_clear()
    db.upgrade()
    cs.seed_units()
    cs.seed_officers()
    actions_port, rasa_port = free_port(), free_port()
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(
        (ROOT / "endpoints.yml")
        .read_text(encoding="utf-8")
        .replace("127.0.0.1:5055", f"127.0.0.1:{actions_port}")
    )
    child_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child_env.pop("REDIS_URL", None)
    logs = (tmp / "actions.log").open("w"), (tmp / "rasa.log").open("w")
    actions = subprocess.Popen(
        [RASA, "run", "actions", "--port", str(actions_port)],
        cwd=ROOT,
        env=child_env,
        stdout=logs[0],
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            RASA,
            "run",
            "--model",
            str(MODEL),
            "--enable-api",
            "--auth-token",
            TOKEN,
            "--port",
            str(rasa_port),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            str(endpoints),
        ],  # fmt: skip
        cwd=ROOT,
        env=child_env,
        stdout=logs[1],
        stderr=subprocess.STDOUT,
    )
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    os.environ["RASA_URL"] = rasa_url
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions)
        wait_until_up(f"{rasa_url}/", rasa)
        yield {"rasa": rasa_url}
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            process.wait(timeout=30)
        for log in logs:
            log.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.environ.pop("RASA_URL", None)
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
            assert "cán bộ" in await page.inner_text("main")  # the transcript
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
