"""The web console over HTTP: login CSRF, rate limit, cookie flags, CSRF on
forms, cross-unit 404, escaping, and the JSON API on the same app."""

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable, Tuple

import aiohttp
import pytest
from sanic import Sanic
from sqlalchemy import select

from console.web import create_app
from services import db, officers, tips
from tests import console_support as cs

pytestmark = pytest.mark.usefixtures("crypto_keys", "privacy_restored")

SECRET = b"test-console-secret"
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def seeded(database_url: str) -> None:
    cs.seed_units()
    cs.seed_officers()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """An HTTP client with its own cookie jar, against the running console."""

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base, self.session = base, session

    async def get(self, path: str, **kw: Any) -> Tuple[int, str, Any]:
        async with self.session.get(
            self.base + path, allow_redirects=False, **kw
        ) as reply:
            return reply.status, await reply.text(), reply

    async def post(self, path: str, data: Any, **kw: Any) -> Tuple[int, str, Any]:
        async with self.session.post(
            self.base + path, data=data, allow_redirects=False, **kw
        ) as reply:
            return reply.status, await reply.text(), reply

    async def token(self, path: str) -> str:
        status, body, _ = await self.get(path)
        assert status == 200, body
        found = TOKEN_FIELD.search(body)
        assert found, body
        return found.group(1)

    async def login(self, username: str, password: str = cs.PASSWORD, **kw: Any):  # type: ignore[no-untyped-def]
        token = await self.token("/login")
        return await self.post(
            "/login",
            {"username": username, "password": password, "csrf_token": token},
            **kw,
        )


Scenario = Callable[[Callable[[], Browser]], Awaitable[None]]


async def _serve(scenario: Scenario) -> None:
    app = create_app(secret=SECRET)
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    await server.startup()
    await server.after_start()
    sessions = []

    def browser() -> Browser:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Browser(f"http://127.0.0.1:{port}", session)

    try:
        await scenario(browser)
    finally:
        for session in sessions:
            await session.close()
        await server.before_stop()
        await server.close()
        await server.after_stop()


def run(scenario: Scenario) -> None:
    Sanic.test_mode = True
    asyncio.run(_serve(scenario))


def _set_cookie(reply: Any, name: str) -> str:
    headers = [h for h in reply.headers.getall("Set-Cookie") if h.startswith(name)]
    assert headers, reply.headers
    return headers[0]


def test_login_needs_csrf_and_sets_safe_cookies(seeded: None) -> None:
    async def scenario(browser: Callable[[], Browser]) -> None:
        anonymous = browser()
        status, _, reply = await anonymous.get("/tips")
        assert status == 302 and reply.headers["Location"] == "/login"
        status, _, _ = await anonymous.get("/queue.json")
        assert status == 401
        # no token: refused, even with the right password
        status, _, _ = await anonymous.post(
            "/login", {"username": "canbo.a", "password": cs.PASSWORD}
        )
        assert status == 403
        status, _, reply = await anonymous.login("canbo.a")
        assert status == 302 and reply.headers["Location"] == "/tips"
        cookie = _set_cookie(reply, "console_session").lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" not in cookie.replace("console_session", "")
        status, body, _ = await anonymous.get("/tips")
        assert status == 200 and "Tin báo" in body
        behind_tls = browser()
        _, _, reply = await behind_tls.login(
            "canbo.b", headers={"X-Forwarded-Proto": "https"}
        )
        assert "; secure" in _set_cookie(reply, "console_session").lower()

    run(scenario)


def test_login_rate_limit(seeded: None) -> None:
    async def scenario(browser: Callable[[], Browser]) -> None:
        client = browser()
        for _ in range(5):
            status, body, _ = await client.login("canbo.a", "sai-mat-khau")
            assert status == 401 and "Sai tên đăng nhập" in body
        status, body, _ = await client.login("canbo.a")
        assert status == 429 and "15 phút" in body
        status, _, _ = await client.login("canbo.b")  # another account: fine
        assert status == 302

    run(scenario)


def test_forms_need_csrf_and_other_units_get_404(seeded: None) -> None:
    ref = tips.file_tip(
        cs.UNIT_A, "<script>alert(1)</script> trộm xe", None, None, None, None, "c-1"
    )

    async def scenario(browser: Callable[[], Browser]) -> None:
        officer_a, officer_b = browser(), browser()
        await officer_a.login("canbo.a")
        await officer_b.login("canbo.b")
        status, body, _ = await officer_a.get(f"/tips/{ref}")
        assert status == 200
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt; trộm xe" in body
        status, _, _ = await officer_a.post(f"/tips/{ref}", {"status": "closed"})
        assert status == 403
        status, _, _ = await officer_a.post(
            f"/tips/{ref}", {"status": "closed", "csrf_token": "forged"}
        )
        assert status == 403
        token = await officer_a.token(f"/tips/{ref}")
        status, _, _ = await officer_a.post(
            f"/tips/{ref}", {"status": "in_progress", "csrf_token": token}
        )
        assert status == 302
        status, body, _ = await officer_a.get(f"/tips/{ref}")
        assert "Đang xử lý" in body
        # unit B: not in its list, 404 by reference and by guessed numeric id
        _, body, _ = await officer_b.get("/tips")
        assert ref not in body
        tip_id = tips.ids_of([ref])[0]
        for path in (f"/tips/{ref}", f"/tips/{tip_id}", "/queue/c-1"):
            status, body, _ = await officer_b.get(path)
            assert status == 404 and "trộm xe" not in body
        token_b = await officer_b.token("/tips")
        status, _, _ = await officer_b.post(
            f"/tips/{ref}", {"status": "closed", "csrf_token": token_b}
        )
        assert status == 404
        # a token of one session does not work in another
        status, _, _ = await officer_b.post(
            "/content/news",
            {"unit": cs.UNIT_B, "title": "x", "summary": "y", "csrf_token": token},
        )
        assert status == 403
        status, body, _ = await officer_b.get("/api/health")
        assert status == 200 and "ok" in body

    run(scenario)


def test_every_screen_renders(seeded: None) -> None:
    async def scenario(browser: Callable[[], Browser]) -> None:
        admin = browser()
        await admin.login("quantri")
        for path, text in [
            ("/tips", "Chưa có tin báo"),
            ("/queue", "Không có ai đang chờ"),
            ("/appointments?day=2026-12-02", "Lịch hẹn"),
            ("/appointments?day=not-a-date", "Lịch hẹn"),
            ("/applications", "Nhập từ tệp CSV"),
            ("/content", "Căn cứ pháp lý"),
            ("/content", "Đăng cảnh báo mới"),  # admins publish scams
            ("/content?stale=1", "Nội dung thủ tục"),
        ]:
            status, body, _ = await admin.get(path)
            assert status == 200 and text in body, path
        status, _, _ = await admin.get(f"/appointments?unit={cs.OTHER_UNIT}")
        assert status == 404
        token = await admin.token("/applications")
        status, body, _ = await admin.post(
            "/applications/status",
            {"code": "NOPE", "status": "ready", "csrf_token": token},
        )
        assert status == 404
        status, body, _ = await admin.post(
            "/appointments/capacity",
            {"unit": cs.UNIT_A, "capacity": "abc", "csrf_token": token},
        )
        assert status == 400

    run(scenario)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_add_officer_command_reads_the_password_from_stdin(database_url: str) -> None:
    cs.seed_units()
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "console", "add-officer", "--unit", cs.UNIT_A]

    def add(username: str, role: str, password: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, "--username", username, "--role", role],
            input=password + "\n",
            capture_output=True,
            text=True,
            cwd=root,
            env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(root)},
            timeout=120,
        )

    done = add("canbo.moi", "officer", "mot-mat-khau-dai")
    assert done.returncode == 0, done.stderr
    assert "canbo.moi" in done.stdout and "mot-mat-khau-dai" not in done.stdout
    assert officers.authenticate("canbo.moi", "mot-mat-khau-dai", "127.0.0.1")
    short = add("canbo.hai", "officer", "ngan")
    assert short.returncode == 2 and "password" in short.stderr
    again = add("canbo.moi", "officer", "mot-mat-khau-dai")
    assert again.returncode == 2 and "exists" in again.stderr
    wrong_role = add("canbo.ba", "chief", "mot-mat-khau-dai")
    assert wrong_role.returncode == 2


def test_applications_import_and_status_over_http(seeded: None) -> None:
    csv_text = (
        "code,procedure,phone,status,last_changed,note\n"
        "H35.21-261120-0009,identity_card,0912000009,received,2026-11-20,\n"
    )

    async def scenario(browser: Callable[[], Browser]) -> None:
        officer_a, officer_b = browser(), browser()
        await officer_a.login("canbo.a")
        await officer_b.login("canbo.b")
        token = await officer_a.token("/applications")
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("unit", cs.UNIT_A)
        form.add_field("file", csv_text.encode(), filename="hs.csv")
        status, body, _ = await officer_a.post("/applications/import", form)
        assert status == 200 and "Đã nhập: 1 mới" in body
        token_b = await officer_b.token("/applications")
        change = {"code": "H35.21-261120-0009", "status": "ready"}
        status, _, _ = await officer_b.post(
            "/applications/status", {**change, "csrf_token": token_b}
        )
        assert status == 404
        status, body, _ = await officer_a.post(
            "/applications/status", {**change, "csrf_token": token}
        )
        assert status == 200 and "Đã cập nhật H35.21-261120-0009" in body

    run(scenario)


def test_content_edit_and_unpublish_over_http(seeded: None) -> None:
    from services import desk, knowledge
    from services.knowledge_models import Fact

    news_id = desk.publish_news(
        officers.viewer_for("canbo.a", cs.UNIT_A, "officer"),
        cs.UNIT_A,
        "Tin <b>thử</b>",
        "Nội dung",
    )
    with db.session_scope() as session:
        national = (
            session.execute(select(Fact).where(Fact.unit.is_(None)).order_by(Fact.id))
            .scalars()
            .first()
        )
        fact_id, info_type, procedure = (
            national.id,
            national.info_type,
            national.procedure,
        )

    async def scenario(browser: Callable[[], Browser]) -> None:
        officer_a, officer_b, admin = browser(), browser(), browser()
        await officer_a.login("canbo.a")
        await officer_b.login("canbo.b")
        await admin.login("quantri")
        status, body, _ = await officer_a.get("/content")
        assert status == 200 and "Tin &lt;b&gt;thử&lt;/b&gt;" in body
        assert f'action="/content/news/{news_id}/unpublish"' in body
        token_a = await officer_a.token("/content")
        path = f"/content/news/{news_id}/unpublish"
        status, _, _ = await officer_a.post(path, {})  # no CSRF token
        assert status == 403
        token_b = await officer_b.token("/content")
        status, _, _ = await officer_b.post(path, {"csrf_token": token_b})
        assert status == 404
        status, body, _ = await officer_b.get(f"/content/news/{news_id}")
        assert status == 404 and "thử" not in body
        status, _, reply = await officer_a.post(path, {"csrf_token": token_a})
        assert status == 302 and "done=unpublished" in reply.headers["Location"]
        assert "Tin <b>thử</b>" not in [n.title for n in knowledge.news(cs.UNIT_A)]
        status, _, _ = await officer_a.post(
            f"/content/news/{news_id}",
            {
                "title": "Tin đã sửa",
                "summary": "Nội dung mới",
                "link": "",
                "csrf_token": token_a,
            },
        )
        assert status == 302
        await officer_a.post(
            f"/content/news/{news_id}/publish", {"csrf_token": token_a}
        )
        assert "Tin đã sửa" in [n.title for n in knowledge.news(cs.UNIT_A)]

        # a national fact: shown to the officer, changed only by the admin
        status, body, _ = await officer_a.get(f"/content/facts/{fact_id}")
        assert status == 200 and 'name="legal_basis"' not in body
        form = {
            "text": "Nội dung do quản trị sửa.",
            "legal_basis": "Luật Cư trú 2020",
            "source": "Cổng Dịch vụ công",
            "last_verified": "2026-01-05",
            "confidence": "S",
            "valid_from": "",
            "valid_until": "",
        }
        status, body, _ = await officer_a.post(
            f"/content/facts/{fact_id}", {**form, "csrf_token": token_a}
        )
        assert status == 403 and "không có quyền" in body
        status, _, _ = await officer_a.post(
            f"/content/facts/{fact_id}/verify", {"csrf_token": token_a}
        )
        assert status == 403
        token = await admin.token(f"/content/facts/{fact_id}")
        status, body, _ = await admin.post(
            f"/content/facts/{fact_id}",
            {**form, "last_verified": "không phải ngày", "csrf_token": token},
        )
        assert status == 400
        status, _, _ = await admin.post(
            f"/content/facts/{fact_id}", {**form, "csrf_token": token}
        )
        assert status == 302
        answer = knowledge.answer(procedure, info_type, case=national.case)
        assert "Nội dung do quản trị sửa." in " ".join(answer.messages)
        status, _, reply = await admin.post(
            f"/content/facts/{fact_id}/verify", {"back": "stale", "csrf_token": token}
        )
        assert status == 302 and reply.headers["Location"].startswith(
            "/content?stale=1&done=verified"
        )
        status, body, _ = await admin.get(f"/content/facts/{fact_id}")
        assert "Sửa lần cuối bởi quantri" in body

        # the scam catalogue: the officer reads it, the admin unpublishes
        status, body, _ = await officer_a.post(
            "/content/scams/fake_vneid_update/unpublish", {"csrf_token": token_a}
        )
        assert status == 403
        status, _, _ = await admin.post(
            "/content/scams/fake_vneid_update/unpublish", {"csrf_token": token}
        )
        assert status == 302
        status, body, _ = await admin.get("/content")
        assert "Đã gỡ" in body and "/content/scams/fake_vneid_update/publish" in body

    run(scenario)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_tip_evidence_and_officer_files_over_http(seeded: None) -> None:
    evidence = [
        {"type": "image", "url": "https://zalo.example/anh.jpg", "name": "anh.jpg"},
        {"type": "image", "url": "javascript:alert(1)"},
        {"type": "file", "url": "https://zalo.example/video.mp4", "name": "v<i>.mp4"},
        {"type": "location", "lat": 11.94, "long": 108.44, "address": "Chợ"},
        {"type": "text", "text": "<script>alert(2)</script> biển số 49A"},
    ]
    ref = tips.file_tip(
        cs.UNIT_A,
        "Trộm xe",
        "Chợ Đà Lạt (11.9404, 108.4583)",
        None,
        evidence,
        None,
        "c-ev",
    )
    tip_id = tips.ids_of([ref])[0]

    async def scenario(browser: Callable[[], Browser]) -> None:
        officer_a, officer_b = browser(), browser()
        await officer_a.login("canbo.a")
        await officer_b.login("canbo.b")
        status, body, _ = await officer_a.get(f"/tips/{ref}")
        assert status == 200
        assert (
            '<img class="evidence" src="https://zalo.example/anh.jpg" '
            'alt="Ảnh người dân gửi" referrerpolicy="no-referrer"'
        ) in body
        assert "javascript:" not in body.replace("javascript:alert(1)", "")
        assert 'href="javascript' not in body and 'src="javascript' not in body
        assert ">v&lt;i&gt;.mp4</a>" in body
        assert "https://www.google.com/maps?q=11.94,108.44" in body
        assert "https://www.google.com/maps?q=11.9404,108.4583" in body
        assert "<script>alert(2)" not in body and "&lt;script&gt;" in body

        token = await officer_a.token(f"/tips/{ref}")
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", PNG, filename="hien-truong.png")
        status, _, reply = await officer_a.post(f"/tips/{ref}/files", form)
        assert status == 302 and reply.headers["Location"].endswith("done=attached")
        status, body, _ = await officer_a.get(f"/tips/{ref}")
        found = re.search(rf"/tips/{ref}/files/(\d+)\?view=1", body)
        assert found and "hien-truong.png" in body
        path = f"/tips/{ref}/files/{found.group(1)}"
        async with officer_a.session.get(officer_a.base + path + "?view=1") as view:
            assert view.status == 200 and await view.read() == PNG
            assert view.headers["Content-Type"] == "image/png"
            assert view.headers["Content-Disposition"].startswith("inline")
        async with officer_a.session.get(officer_a.base + path) as download:
            assert await download.read() == PNG
            assert download.headers["Content-Disposition"].startswith("attachment")
            assert download.headers["X-Content-Type-Options"] == "nosniff"
            assert download.headers["Content-Type"] == "application/octet-stream"
        for target in (
            path,
            path + "?view=1",
            f"/tips/{tip_id}/files/{found.group(1)}",
        ):
            status, body, _ = await officer_b.get(target)
            assert status == 404 and "PNG" not in body
        token_b = await officer_b.token("/tips")
        form = aiohttp.FormData()
        form.add_field("csrf_token", token_b)
        form.add_field("file", b"x", filename="x.txt")
        status, _, _ = await officer_b.post(f"/tips/{ref}/files", form)
        assert status == 404
        form = aiohttp.FormData()  # no CSRF token
        form.add_field("file", b"x", filename="x.txt")
        status, _, _ = await officer_a.post(f"/tips/{ref}/files", form)
        assert status == 403
        big = aiohttp.FormData()
        big.add_field("csrf_token", token)
        big.add_field("file", b"x" * (5 * 1024 * 1024 + 1), filename="big.bin")
        status, body, _ = await officer_a.post(f"/tips/{ref}/files", big)
        assert status == 400 and "5 MB" in body
        actions = [row[2] for row in tips.access_log(tip_id)]
        number = found.group(1)
        assert f"attachment:add:{number}" in actions
        assert f"attachment:view:{number}" in actions
        assert f"attachment:download:{number}" in actions

    run(scenario)
