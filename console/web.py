"""The officers' web console (Sanic, server-rendered HTML in Vietnamese).

Every page needs a signed session cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS); every POST needs the CSRF token of that session. What a page shows is
decided by services.desk with the officer's Viewer, so a record of another
unit answers 404 whatever the URL. The token JSON API of console.api is served
by the same app under /api/.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import uuid
from typing import Any, Callable, Coroutine, List, Tuple
from urllib.parse import quote

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, raw, redirect

from console import api
from console import pages as p
from console.security import SESSION_COOKIE, SESSION_SECONDS, Signer, load_secret
from services import applications, booking, desk, officers, privacy, tip_attachments
from services.errors import (
    ApplicationNotFound,
    BookingNotFound,
    HandoffError,
    ServiceError,
    TipNotFound,
)
from services.handoff import TicketNotFound
from services.officers import TooManyAttempts, Viewer
from services.rasa_api import RasaUnavailable

LOGIN_COOKIE = "console_login"
# an officer's file for a tip (tip_attachments.MAX_BYTES) and its form around it
MAX_REQUEST = tip_attachments.MAX_BYTES + 256 * 1024
NOT_FOUND = (
    TipNotFound,
    TicketNotFound,
    BookingNotFound,
    ApplicationNotFound,
    desk.ContentNotFound,
)
DONE = {
    "published": "Đã đăng.",
    "saved": "Đã lưu.",
    "unpublished": "Đã gỡ: trợ lý ảo không còn trả lời bằng nội dung này.",
    "republished": "Đã đăng lại: trợ lý ảo trả lời bằng nội dung này ngay.",
    "verified": "Đã ghi nhận: kiểm tra lại hôm nay.",
    "attached": "Đã đính kèm tệp (lưu mã hóa).",
}

Page = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https" or (
        request.scheme == "https"
    )


def _set_cookie(
    request: Request, response: HTTPResponse, name: str, value: str, max_age: int
) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Lax"
    cookie["path"] = "/"
    cookie["max-age"] = max_age
    if _secure(request):
        cookie["secure"] = True


def _field(request: Request, name: str, limit: int = 2000) -> str | None:
    value = request.form.get(name) if request.form else None
    if value is None:
        return None
    return value[:limit]


def create_app(name: str | None = None, secret: bytes | None = None) -> Sanic:
    """The console app (with the token API of console.api under /api/)."""
    privacy.install()
    app = Sanic(name or f"console_{uuid.uuid4().hex[:8]}")
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST
    signer = Signer(secret or load_secret())
    api.create_app(app=app)

    def current(request: Request) -> tuple[Viewer, str] | None:
        session = signer.read_session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        account = officers.account(session.username)
        if account is None or account.fingerprint != session.fingerprint:
            return None
        viewer = officers.viewer_for(session.username, account.unit, account.role)
        return viewer, signer.csrf_token(session)

    def page(handler: Page) -> Page:
        """Session check, CSRF check on POST, and errors turned into pages."""

        @functools.wraps(handler)
        async def wrapper(request: Request, **params: Any) -> HTTPResponse:
            found = current(request)
            if found is None:
                if request.path.endswith(".json"):
                    return json({"error": "login required"}, status=401)
                return redirect("/login")
            viewer, csrf = found
            if request.method == "POST":
                session = signer.read_session(request.cookies.get(SESSION_COOKIE))
                assert session is not None
                if not signer.csrf_ok(session, _field(request, "csrf_token", 200)):
                    return html(
                        p.layout("Yêu cầu bị từ chối", "<p>Thiếu mã CSRF.</p>"),
                        status=403,
                    )
            try:
                return await handler(request, viewer, csrf, **params)
            except NOT_FOUND:
                return html(p.not_found(viewer, csrf), status=404)
            except desk.NotAllowed:
                message = (
                    "Đồng chí không có quyền sửa nội dung này (nội dung cấp tỉnh "
                    "hoặc toàn quốc do quản trị cấp tỉnh sửa)."
                )
                return html(
                    p.layout("Không có quyền", "", viewer, csrf, message, True), 403
                )
            except RasaUnavailable:
                message = "Không kết nối được trợ lý ảo, đồng chí thử lại sau."
                return html(p.layout("Lỗi", "", viewer, csrf, message, True), 502)
            except (HandoffError, ServiceError, ValueError) as error:
                message = f"Không thực hiện được: {error}"
                return html(p.layout("Lỗi", "", viewer, csrf, message, True), 400)

        return wrapper

    # ---- login ----------------------------------------------------------------

    def login_page(request: Request, message: str | None, status: int) -> HTTPResponse:
        from console.security import new_nonce

        nonce = new_nonce()
        response = html(p.login(signer.login_csrf(nonce), message), status=status)
        _set_cookie(request, response, LOGIN_COOKIE, nonce, 3600)
        return response

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        return login_page(request, None, 200)

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        nonce = request.cookies.get(LOGIN_COOKIE) or ""
        token = _field(request, "csrf_token", 200) or ""
        if not nonce or token != signer.login_csrf(nonce):
            return login_page(request, "Phiên đăng nhập đã hết hạn, mời thử lại.", 403)
        username = _field(request, "username", 64) or ""
        password = _field(request, "password", 256) or ""
        try:
            viewer = officers.authenticate(username, password, request.ip or "?")
        except TooManyAttempts:
            return login_page(
                request, "Đăng nhập sai quá nhiều lần. Mời thử lại sau 15 phút.", 429
            )
        if viewer is None:
            return login_page(request, "Sai tên đăng nhập hoặc mật khẩu.", 401)
        account = officers.account(viewer.username)
        assert account is not None
        response = redirect("/tips")
        _set_cookie(
            request,
            response,
            SESSION_COOKIE,
            signer.session_cookie(viewer.username, account.fingerprint),
            SESSION_SECONDS,
        )
        return response

    @app.post("/logout")
    @page
    async def logout(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        response = redirect("/login")
        _set_cookie(request, response, SESSION_COOKIE, "", 0)
        return response

    @app.get("/")
    async def home(request: Request) -> HTTPResponse:
        return redirect("/tips")

    # ---- tips -----------------------------------------------------------------

    @app.get("/tips")
    @page
    async def tips_inbox(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        items = desk.list_tips(viewer)
        body = p.table(
            ["Mã", "Đơn vị", "Trạng thái", "Nhận lúc", "Bằng chứng", "Ghi chú"],
            p.rows(
                [
                    f'<a href="/tips/{p.e(t.reference)}">{p.e(t.reference)}</a>',
                    p.e(t.unit),
                    p.e(p.TIP_STATUS.get(t.status, t.status)),
                    p.e(t.created_at),
                    p.e(t.evidence_count),
                    p.e(t.note_count),
                ]
                for t in items
            ),
            "Chưa có tin báo nào.",
        )
        return html(p.layout("Tin báo", body, viewer, csrf))

    @app.get("/tips/<reference:str>")
    @page
    async def tip_detail(
        request: Request, viewer: Viewer, csrf: str, reference: str
    ) -> HTTPResponse:
        tip = desk.get_tip(viewer, reference)
        files = desk.tip_attachments_of(viewer, tip.reference)
        contact = ", ".join(f"{k}: {v}" for k, v in (tip.contact or {}).items())
        evidence = "".join(
            f"<li>{p.evidence_item(item)}</li>"
            for item in tip.evidence
            if isinstance(item, dict)
        )
        notes = "".join(
            f"<li>{p.e(n.added_at)} – {p.e(n.author)}: {p.e(n.text)}</li>"
            for n in tip.notes
        )
        base = f"/tips/{p.e(tip.reference)}"
        attached = "".join(
            "<li>"
            + (
                f'<img class="evidence" src="{base}/files/{f.id}?view=1" '
                f'alt="{p.e(f.name)}"><br>'
                if f.image
                else ""
            )
            + f'<a href="{base}/files/{f.id}">{p.e(f.name)}</a> '
            f"({p.e(p.size_text(f.size))}) – {p.e(f.added_by)}, {p.e(f.added_at)}</li>"
            for f in files
        )
        body = (
            f"<p><strong>Đơn vị:</strong> {p.e(tip.unit)} · <strong>Trạng thái:"
            f"</strong> {p.e(p.TIP_STATUS.get(tip.status, tip.status))} · "
            f"<strong>Nhận lúc:</strong> {p.e(tip.created_at)}</p>"
            f"<p><strong>Sự việc:</strong> {p.e(tip.what)}</p>"
            f"<p><strong>Ở đâu:</strong> {p.place(tip.where)}</p>"
            f"<p><strong>Khi nào:</strong> {p.e(tip.when or '—')}</p>"
            f"<p><strong>Liên hệ:</strong> {p.e(contact or 'Ẩn danh')}</p>"
            "<h2>Bằng chứng người dân gửi</h2>"
            f'<ul id="evidence">{evidence or "<li>Không có</li>"}</ul>'
            "<h2>Tệp cán bộ đính kèm</h2>"
            f'<ul id="files">{attached or "<li>Chưa có</li>"}</ul>'
            f'<form method="post" action="{base}/files" enctype="multipart/form-data">'
            f"{p.csrf_field(csrf)}<label>Thêm tệp (tối đa "
            f"{tip_attachments.MAX_BYTES // (1024 * 1024)} MB, lưu mã hóa) "
            '<input type="file" name="file" required></label> '
            '<button type="submit">Đính kèm</button></form>'
            f"<h2>Ghi chú</h2><ul>{notes or '<li>Chưa có</li>'}</ul>"
            f'<form method="post" action="{base}">'
            f"{p.csrf_field(csrf)}<p><label>Trạng thái "
            f"{p.select('status', p.TIP_STATUS, tip.status)}</label></p>"
            '<p><label>Ghi chú mới<textarea name="note" maxlength="5000"></textarea>'
            '</label></p><button type="submit">Lưu</button></form>'
        )
        flash = DONE.get(request.args.get("done", ""))
        return html(p.layout(f"Tin báo {tip.reference}", body, viewer, csrf, flash))

    @app.post("/tips/<reference:str>")
    @page
    async def tip_update(
        request: Request, viewer: Viewer, csrf: str, reference: str
    ) -> HTTPResponse:
        note = (_field(request, "note", 5000) or "").strip() or None
        desk.update_tip(viewer, reference, _field(request, "status", 32), note)
        return redirect(f"/tips/{reference}")

    @app.post("/tips/<reference:str>/files")
    @page
    async def tip_attach(
        request: Request, viewer: Viewer, csrf: str, reference: str
    ) -> HTTPResponse:
        upload = request.files.get("file") if request.files else None
        if upload is None or not upload.body:
            raise ValueError("chưa chọn tệp")
        desk.add_tip_attachment(viewer, reference, upload.name, upload.body)
        return redirect(f"/tips/{reference}?done=attached")

    @app.get("/tips/<reference:str>/files/<number:int>")
    @page
    async def tip_file(
        request: Request, viewer: Viewer, csrf: str, reference: str, number: int
    ) -> HTTPResponse:
        inline = request.args.get("view") == "1"
        found = desk.open_tip_attachment(viewer, reference, number, inline)
        show = inline and found.info.image
        name = quote(found.info.name)
        return raw(
            found.data,
            content_type=found.info.content_type
            if show
            else "application/octet-stream",
            headers={
                "Content-Disposition": (
                    f"{'inline' if show else 'attachment'}; filename*=UTF-8''{name}"
                ),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    # ---- handoff queue ----------------------------------------------------------

    @app.get("/queue")
    @page
    async def queue_page(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        body = (
            '<p>Danh sách tự cập nhật mỗi 3 giây.</p><div id="queue">'
            f"{_queue_table(desk.queue(viewer))}</div>"
            "<script>setInterval(async()=>{try{const r=await fetch('/queue.json');"
            "if(r.ok){const d=await r.json();"
            "document.getElementById('queue').innerHTML=d.html;}}catch(e){}},3000);"
            "</script>"
        )
        return html(p.layout("Hàng chờ trò chuyện", body, viewer, csrf))

    @app.get("/queue.json")
    @page
    async def queue_json(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        items = desk.queue(viewer)
        return json(
            {
                "tickets": [desk.as_dict(t) for t in items],
                "html": _queue_table(items),
            }
        )

    @app.get("/queue/<conversation:str>")
    @page
    async def conversation_page(
        request: Request, viewer: Viewer, csrf: str, conversation: str
    ) -> HTTPResponse:
        ticket = desk.ticket(viewer, conversation)
        lines = "".join(
            f"<li>{p.e(line.at)} – {p.e(_speaker(line.who))}"
            f"{' (bấm nút)' if line.pressed else ''}: {p.e(line.text)}"
            + (f" [nút: {p.e(' · '.join(line.buttons))}]" if line.buttons else "")
            + f"{'' if line.delivered else ' (chờ người dân nhận)'}</li>"
            for line in desk.transcript(viewer, conversation)
        )
        target = f"/queue/{p.e(conversation)}"
        mine = ticket.status == "claimed" and ticket.claimed_by == viewer.label
        actions = (
            f'<form method="post" action="{target}/reply">{p.csrf_field(csrf)}'
            '<label>Trả lời người dân<textarea name="text" maxlength="2000" required>'
            '</textarea></label><button type="submit">Gửi</button></form>'
            f'<form method="post" action="{target}/release">{p.csrf_field(csrf)}'
            '<button type="submit">Trả lại cho trợ lý ảo</button></form>'
            if mine
            else f'<form method="post" action="{target}/claim">{p.csrf_field(csrf)}'
            '<button type="submit">Nhận trò chuyện</button></form>'
        )
        body = (
            f"<p>Kênh: {p.e(ticket.channel)} · Đơn vị: {p.e(ticket.unit)} · "
            f"Yêu cầu lúc {p.e(ticket.requested_at)} · "
            f"Người nhận: {p.e(ticket.claimed_by or '—')}</p>"
            f"<h2>Nội dung trò chuyện</h2><ol>{lines or '<li>Chưa có</li>'}</ol>"
            f"{actions}"
        )
        return html(p.layout("Trò chuyện", body, viewer, csrf))

    @app.post("/queue/<conversation:str>/<action:str>")
    @page
    async def conversation_action(
        request: Request, viewer: Viewer, csrf: str, conversation: str, action: str
    ) -> HTTPResponse:
        if action == "claim":
            await desk.claim(viewer, conversation)
        elif action == "reply":
            await desk.reply(viewer, conversation, _field(request, "text") or "")
        elif action == "release":
            await desk.release(viewer, conversation)
            return redirect("/queue")
        else:
            raise TicketNotFound("unknown action")
        return redirect(f"/queue/{conversation}")

    # ---- appointments -------------------------------------------------------------

    @app.get("/appointments")
    @page
    async def appointments_page(
        request: Request, viewer: Viewer, csrf: str
    ) -> HTTPResponse:
        day = _date(request.args.get("day")) or booking.local_now().date()
        unit = request.args.get("unit") or viewer.unit
        items = desk.day_view(viewer, day, unit)
        units = desk.unit_names(viewer)
        rows = p.rows(
            [
                p.e(f"{a.start:%H:%M}–{a.end:%H:%M}"),
                p.e(a.code),
                p.e(a.procedure),
                p.e(a.full_name),
                p.e(a.phone),
                p.e(p.APPOINTMENT_STATUS.get(a.status, a.status)),
                (
                    f'<form method="post" action="/appointments/{p.e(a.code)}'
                    f'/no-show">{p.csrf_field(csrf)}'
                    '<button type="submit">Vắng mặt</button></form>'
                    if a.status == "booked"
                    else ""
                ),
            ]
            for a in items
        )
        body = (
            '<form method="get" action="/appointments">'
            f'<label>Ngày <input type="date" name="day" value="{day}"></label> '
            f"<label>Đơn vị {p.select('unit', units, unit)}</label> "
            '<button type="submit">Xem</button></form>'
            + p.table(
                ["Giờ", "Mã", "Thủ tục", "Họ tên", "Điện thoại", "Trạng thái", ""],
                rows,
                "Không có lịch hẹn trong ngày này.",
            )
            + '<h2>Số người mỗi khung giờ</h2><form method="post" '
            f'action="/appointments/capacity">{p.csrf_field(csrf)}'
            f'<input type="hidden" name="unit" value="{p.e(unit)}">'
            '<label>Số chỗ <input type="number" name="capacity" min="0" max="100" '
            "required></label> <label>Thứ (0=T2 … 6=CN, để trống = mọi ngày) "
            '<input type="number" name="weekday" min="0" max="6"></label> '
            '<label>Giờ bắt đầu (HH:MM, để trống = mọi giờ) <input name="start" '
            'maxlength="5"></label> <button type="submit">Lưu</button></form>'
        )
        flash = "Đã lưu." if request.args.get("saved") else None
        return html(p.layout("Lịch hẹn", body, viewer, csrf, flash))

    @app.post("/appointments/capacity")
    @page
    async def capacity(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        unit = _field(request, "unit", 40) or viewer.unit
        weekday = _field(request, "weekday", 2)
        start = _field(request, "start", 5)
        desk.set_capacity(
            viewer,
            unit,
            int(_field(request, "capacity", 4) or ""),
            int(weekday) if weekday else None,
            dt.time.fromisoformat(start) if start else None,
        )
        return redirect(f"/appointments?unit={unit}&saved=1")

    @app.post("/appointments/<code:str>/no-show")
    @page
    async def no_show(
        request: Request, viewer: Viewer, csrf: str, code: str
    ) -> HTTPResponse:
        desk.mark_no_show(viewer, code)
        return redirect("/appointments?saved=1")

    # ---- applications -------------------------------------------------------------

    @app.get("/applications")
    @page
    async def applications_page(
        request: Request, viewer: Viewer, csrf: str
    ) -> HTTPResponse:
        return _applications_screen(viewer, csrf, None)

    @app.post("/applications/status")
    @page
    async def application_status(
        request: Request, viewer: Viewer, csrf: str
    ) -> HTTPResponse:
        view = desk.update_application(
            viewer,
            _field(request, "code", 64) or "",
            _field(request, "status", 32) or "",
            (_field(request, "note", 1000) or "").strip() or None,
        )
        return _applications_screen(
            viewer, csrf, f"Đã cập nhật {view.code}: {view.status_label}."
        )

    @app.post("/applications/import")
    @page
    async def application_import(
        request: Request, viewer: Viewer, csrf: str
    ) -> HTTPResponse:
        upload = request.files.get("file") if request.files else None
        if upload is None:
            raise ValueError("chưa chọn tệp")
        try:
            text = upload.body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValueError("tệp phải là CSV mã hóa UTF-8") from error
        report = desk.import_applications(
            viewer, _field(request, "unit", 40) or viewer.unit, io.StringIO(text)
        )
        if report.ok:
            flash = f"Đã nhập: {report.created} mới, {report.updated} cập nhật."
        else:
            flash = "Không nhập dòng nào: " + "; ".join(
                str(x) for x in report.errors[:5]
            )
        return _applications_screen(viewer, csrf, flash)

    # ---- content ------------------------------------------------------------------

    @app.get("/content")
    @page
    async def content_page(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        stale_only = request.args.get("stale") == "1"
        units = {u: n for u, n in desk.unit_names(viewer).items() if viewer.edits(u)}
        body = (
            '<p><a href="#news">Tin tức</a> · <a href="#scams">Cảnh báo lừa đảo</a>'
            ' · <a href="#facts">Nội dung thủ tục</a></p>'
            '<h2 id="news">Tin tức</h2>'
            + (_news_form(csrf, units) if units else "")
            + _news_table(desk.news_items(viewer), csrf)
            + '<h2 id="scams">Cảnh báo lừa đảo</h2>'
            + (_scam_form(csrf) if viewer.edits(None) else "")
            + _scam_table(desk.scam_alerts(viewer), csrf)
            + '<h2 id="facts">Nội dung thủ tục</h2><p>'
            + (
                '<a href="/content#facts">Xem tất cả</a>'
                if stale_only
                else '<a href="/content?stale=1#facts">Chỉ xem mục quá 180 ngày '
                "chưa kiểm tra lại</a>"
            )
            + "</p><p>Nội dung toàn quốc và cấp tỉnh do quản trị cấp tỉnh sửa; "
            "nội dung riêng của xã, phường do cán bộ đơn vị đó sửa.</p>"
            + _facts_table(desk.facts(viewer, stale_only=stale_only), csrf, stale_only)
        )
        flash = DONE.get(request.args.get("done", "")) or (
            DONE["published"] if request.args.get("published") else None
        )
        return html(p.layout("Nội dung", body, viewer, csrf, flash))

    @app.post("/content/news")
    @page
    async def publish(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        desk.publish_news(
            viewer,
            _field(request, "unit", 40) or viewer.unit,
            _field(request, "title", 300) or "",
            _field(request, "summary", 2000) or "",
            (_field(request, "link", 500) or "").strip() or None,
        )
        return redirect("/content?done=published#news")

    @app.get("/content/news/<number:int>")
    @page
    async def news_page(
        request: Request, viewer: Viewer, csrf: str, number: int
    ) -> HTTPResponse:
        item = desk.get_news(viewer, number)
        state = "Đang hiển thị" if item.published else "Đã gỡ"
        body = (
            f"<p>Đơn vị: {p.e(item.unit)} · Ngày đăng: {p.e(item.published_at)} · "
            f"{state} · Nguồn: {p.e(_origin(item.from_console))}"
            "</p>"
            f'<form method="post" action="/content/news/{item.id}">{p.csrf_field(csrf)}'
            + p.field("title", "Tiêu đề", item.title, limit=300, required=True)
            + p.area("summary", "Tóm tắt", item.summary, 2000, True)
            + p.field("link", "Liên kết", item.link or "", limit=500)
            + '<button type="submit">Lưu</button></form><p>'
            + _news_toggle(item, csrf)
            + '</p><p><a href="/content#news">Quay lại</a></p>'
        )
        flash = DONE.get(request.args.get("done", ""))
        return html(p.layout("Sửa tin tức", body, viewer, csrf, flash))

    @app.post("/content/news/<number:int>")
    @page
    async def news_edit(
        request: Request, viewer: Viewer, csrf: str, number: int
    ) -> HTTPResponse:
        desk.edit_news(
            viewer,
            number,
            _field(request, "title", 300) or "",
            _field(request, "summary", 2000) or "",
            _field(request, "link", 500),
        )
        return redirect(f"/content/news/{number}?done=saved")

    @app.post("/content/news/<number:int>/<action:str>")
    @page
    async def news_toggle(
        request: Request, viewer: Viewer, csrf: str, number: int, action: str
    ) -> HTTPResponse:
        if action not in ("publish", "unpublish"):
            raise desk.ContentNotFound()
        desk.set_news_published(viewer, number, action == "publish")
        done = "republished" if action == "publish" else "unpublished"
        return redirect(f"/content?done={done}#news")

    @app.post("/content/scams")
    @page
    async def publish_scam(request: Request, viewer: Viewer, csrf: str) -> HTTPResponse:
        desk.publish_scam(viewer, *_scam_values(request))
        return redirect("/content?done=published#scams")

    @app.get("/content/scams/<key:str>")
    @page
    async def scam_page(
        request: Request, viewer: Viewer, csrf: str, key: str
    ) -> HTTPResponse:
        scam = desk.get_scam(viewer, key)
        state = "Đang dùng" if scam.published else "Đã gỡ"
        if scam.editable:
            form = (
                f'<form method="post" action="/content/scams/{p.e(scam.key)}">'
                f"{p.csrf_field(csrf)}{p.scam_fields(scam)}"
                '<button type="submit">Lưu</button></form><p>'
                + _scam_toggle(scam, csrf)
                + "</p>"
            )
        else:
            form = (
                f"<p><strong>{p.e(scam.title)}</strong></p><p>{p.e(scam.how_it_works)}"
                "</p><p>Chỉ quản trị cấp tỉnh sửa được cảnh báo lừa đảo (dùng chung "
                "cho mọi đơn vị).</p>"
            )
        body = (
            f"<p>{state} · "
            f"Nguồn: {p.e(_origin(scam.from_console))}"
            f'</p>{form}<p><a href="/content#scams">Quay lại</a></p>'
        )
        flash = DONE.get(request.args.get("done", ""))
        return html(p.layout("Cảnh báo lừa đảo", body, viewer, csrf, flash))

    @app.post("/content/scams/<key:str>")
    @page
    async def scam_edit(
        request: Request, viewer: Viewer, csrf: str, key: str
    ) -> HTTPResponse:
        desk.edit_scam(
            viewer, key, *_scam_values(request), _field(request, "source", 500)
        )
        return redirect(f"/content/scams/{quote(key)}?done=saved")

    @app.post("/content/scams/<key:str>/<action:str>")
    @page
    async def scam_toggle(
        request: Request, viewer: Viewer, csrf: str, key: str, action: str
    ) -> HTTPResponse:
        if action not in ("publish", "unpublish"):
            raise desk.ContentNotFound()
        desk.set_scam_published(viewer, key, action == "publish")
        done = "republished" if action == "publish" else "unpublished"
        return redirect(f"/content?done={done}#scams")

    @app.get("/content/facts/<number:int>")
    @page
    async def fact_page(
        request: Request, viewer: Viewer, csrf: str, number: int
    ) -> HTTPResponse:
        fact = desk.get_fact(viewer, number)
        where = fact.unit or "toàn quốc"
        head = (
            f"<p>Thủ tục: {p.e(fact.procedure)} · Loại: {p.e(fact.info_type)}"
            f"{' · Trường hợp: ' + p.e(fact.case) if fact.case else ''} · "
            f"Phạm vi: {p.e(where)} · Kiểm tra lần cuối: {p.e(fact.last_verified)}"
            f"{' (quá 180 ngày)' if fact.stale else ''}"
            f"{' · Sửa lần cuối bởi ' + p.e(fact.edited_by) if fact.edited_by else ''}"
            "</p>"
        )
        if fact.editable:
            form = (
                f'<form method="post" action="/content/facts/{fact.id}">'
                f"{p.csrf_field(csrf)}"
                + p.area("text", "Nội dung", fact.text, 3000, True)
                + p.area("legal_basis", "Căn cứ pháp lý", fact.legal_basis, 1000, True)
                + p.field("source", "Nguồn", fact.source or "", limit=1000)
                + p.field(
                    "last_verified",
                    "Kiểm tra lần cuối",
                    fact.last_verified,
                    kind="date",
                    limit=10,
                    required=True,
                )
                + "<p><label>Độ tin cậy "
                + p.select("confidence", p.CONFIDENCE, fact.confidence)
                + "</label></p>"
                + p.field(
                    "valid_from",
                    "Hiệu lực từ",
                    fact.valid_from or "",
                    kind="date",
                    limit=10,
                )
                + p.field(
                    "valid_until",
                    "Hiệu lực đến",
                    fact.valid_until or "",
                    kind="date",
                    limit=10,
                )
                + '<button type="submit">Lưu</button></form><p>'
                + p.post_button(
                    f"/content/facts/{fact.id}/verify",
                    csrf,
                    "Đã kiểm tra lại hôm nay",
                    {"back": "fact"},
                )
                + "</p>"
            )
        else:
            form = (
                f"<p>{p.e(fact.text)}</p><p>Căn cứ: {p.e(fact.legal_basis)}</p>"
                "<p>Chỉ quản trị cấp tỉnh sửa được nội dung toàn quốc và cấp tỉnh.</p>"
            )
        body = head + form + '<p><a href="/content#facts">Quay lại</a></p>'
        flash = DONE.get(request.args.get("done", ""))
        return html(p.layout("Nội dung thủ tục", body, viewer, csrf, flash))

    @app.post("/content/facts/<number:int>")
    @page
    async def fact_edit(
        request: Request, viewer: Viewer, csrf: str, number: int
    ) -> HTTPResponse:
        last_verified = _date(_field(request, "last_verified", 10))
        if last_verified is None:
            raise ValueError("ngày kiểm tra lần cuối không hợp lệ")
        desk.edit_fact(
            viewer,
            number,
            _field(request, "text", 3000) or "",
            _field(request, "legal_basis", 1000) or "",
            _field(request, "source", 1000),
            last_verified,
            _field(request, "confidence", 1) or "",
            _optional_date(request, "valid_from"),
            _optional_date(request, "valid_until"),
        )
        return redirect(f"/content/facts/{number}?done=saved")

    @app.post("/content/facts/<number:int>/verify")
    @page
    async def fact_verify(
        request: Request, viewer: Viewer, csrf: str, number: int
    ) -> HTTPResponse:
        desk.verify_fact(viewer, number)
        back = _field(request, "back", 10)
        if back == "fact":
            return redirect(f"/content/facts/{number}?done=verified")
        stale = "stale=1&" if back == "stale" else ""
        return redirect(f"/content?{stale}done=verified#facts")

    return app


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _applications_screen(viewer: Viewer, csrf: str, flash: str | None) -> HTTPResponse:
    """The applications screen (after a status update or an import too)."""
    labels = {k: v.get("label", k) for k, v in applications.statuses().items()}
    units = desk.unit_names(viewer)
    body = (
        '<h2>Cập nhật trạng thái</h2><form method="post" '
        f'action="/applications/status">{p.csrf_field(csrf)}'
        '<label>Mã hồ sơ <input name="code" required maxlength="64"></label> '
        f"<label>Trạng thái {p.select('status', labels)}</label> "
        '<label>Ghi chú <input name="note" maxlength="1000"></label> '
        '<button type="submit">Cập nhật</button></form>'
        '<h2>Nhập từ tệp CSV</h2><form method="post" action="/applications/import" '
        f'enctype="multipart/form-data">{p.csrf_field(csrf)}'
        f"<label>Đơn vị {p.select('unit', units, viewer.unit)}</label> "
        '<input type="file" name="file" accept=".csv,text/csv" required> '
        '<button type="submit">Nhập</button></form>'
    )
    return html(p.layout("Hồ sơ", body, viewer, csrf, flash))


def _optional_date(request: Request, name: str) -> dt.date | None:
    value = (_field(request, name, 10) or "").strip()
    if not value:
        return None
    found = _date(value)
    if found is None:
        raise ValueError(f"{name}: ngày không hợp lệ")
    return found


ScamValues = Tuple[str, str, List[str], List[str], List[str], List[str]]


def _scam_values(request: Request) -> ScamValues:
    """title, how_it_works, signs, what_to_do, keywords, examples of a form."""

    def lines(name: str) -> List[str]:
        return (_field(request, name, 10000) or "").splitlines()

    return (
        _field(request, "title", 300) or "",
        _field(request, "how_it_works", 3000) or "",
        lines("signs"),
        lines("what_to_do"),
        (_field(request, "keywords", 5000) or "").split(","),
        lines("examples"),
    )


def _scam_form(csrf: str) -> str:
    return (
        '<h3>Đăng cảnh báo mới</h3><form method="post" action="/content/scams">'
        f"{p.csrf_field(csrf)}{p.scam_fields()}"
        '<button type="submit">Đăng cảnh báo</button></form>'
    )


def _news_form(csrf: str, units: dict) -> str:
    return (
        '<h3>Đăng tin mới</h3><form method="post" action="/content/news">'
        f"{p.csrf_field(csrf)}<label>Đơn vị {p.select('unit', units)}</label>"
        '<p><label>Tiêu đề <input name="title" required maxlength="300" '
        'size="60"></label></p><p><label>Tóm tắt <textarea name="summary" '
        'required maxlength="2000"></textarea></label></p><p><label>Liên kết '
        '<input name="link" maxlength="500" size="60"></label></p>'
        '<button type="submit">Đăng ngay</button></form>'
    )


def _origin(from_console: bool) -> str:
    return "bảng điều khiển" if from_console else "knowledge/"


def _news_toggle(item: desk.NewsLine, csrf: str) -> str:
    if item.published:
        return p.post_button(f"/content/news/{item.id}/unpublish", csrf, "Gỡ tin")
    return p.post_button(f"/content/news/{item.id}/publish", csrf, "Đăng lại")


def _news_table(items: list, csrf: str) -> str:
    return "<h3>Tin đã đăng</h3>" + p.table(
        ["Ngày", "Đơn vị", "Tiêu đề", "Trạng thái", "Nguồn", ""],
        "".join(
            f'<tr class="{"" if n.published else "withdrawn"}"><td>'
            f"{p.e(n.published_at)}</td><td>{p.e(n.unit)}</td><td>{p.e(n.title)}</td>"
            f"<td>{'Đang hiển thị' if n.published else 'Đã gỡ'}</td>"
            f"<td>{p.e(_origin(n.from_console))}</td><td>"
            f'<a href="/content/news/{n.id}">Sửa</a> {_news_toggle(n, csrf)}</td></tr>'
            for n in items
        ),
        "Chưa có tin nào.",
    )


def _scam_toggle(scam: desk.ScamLine, csrf: str) -> str:
    target = f"/content/scams/{quote(scam.key)}"
    if scam.published:
        return p.post_button(f"{target}/unpublish", csrf, "Gỡ cảnh báo")
    return p.post_button(f"{target}/publish", csrf, "Đăng lại")


def _scam_table(items: list, csrf: str) -> str:
    return "<h3>Danh mục cảnh báo</h3>" + p.table(
        ["Tiêu đề", "Trạng thái", "Nguồn", ""],
        "".join(
            f'<tr class="{"" if s.published else "withdrawn"}"><td>{p.e(s.title)}</td>'
            f"<td>{'Đang dùng' if s.published else 'Đã gỡ'}</td>"
            f"<td>{p.e(_origin(s.from_console))}</td><td>"
            f'<a href="/content/scams/{p.e(quote(s.key))}">'
            f"{'Sửa' if s.editable else 'Xem'}</a> "
            f"{_scam_toggle(s, csrf) if s.editable else ''}</td></tr>"
            for s in items
        ),
        "Chưa có cảnh báo nào.",
    )


def _facts_table(items: list, csrf: str, stale_only: bool) -> str:
    back = {"back": "stale" if stale_only else "all"}
    return p.table(
        [
            "Thủ tục",
            "Loại",
            "Phạm vi",
            "Nội dung",
            "Căn cứ pháp lý",
            "Kiểm tra lần cuối",
            "",
        ],
        "".join(
            f'<tr class="{"stale" if f.stale else ""}"><td>{p.e(f.procedure)}'
            f"</td><td>{p.e(f.info_type)}</td><td>{p.e(f.unit or 'toàn quốc')}</td>"
            f"<td>{p.e(f.text)}</td><td>{p.e(f.legal_basis)}</td>"
            f"<td>{p.e(f.last_verified)}</td><td>"
            f'<a href="/content/facts/{f.id}">{"Sửa" if f.editable else "Xem"}</a> '
            + (
                p.post_button(
                    f"/content/facts/{f.id}/verify",
                    csrf,
                    "Đã kiểm tra lại hôm nay",
                    back,
                )
                if f.editable
                else ""
            )
            + "</td></tr>"
            for f in items
        ),
        "Không có mục nào.",
    )


def _speaker(who: str) -> str:
    if who == "citizen":
        return "Người dân"
    if who == "bot":
        return "Trợ lý ảo"
    return "Cán bộ " + who.partition(":")[2]


def _queue_table(items: list) -> str:
    return p.table(
        ["Trò chuyện", "Đơn vị", "Kênh", "Trạng thái", "Yêu cầu lúc", "Người nhận"],
        p.rows(
            [
                f'<a href="/queue/{p.e(t.conversation_id)}">'
                f"{p.e(t.conversation_id[:24])}</a>",
                p.e(t.unit),
                p.e(t.channel),
                "Đang trò chuyện" if t.status == "claimed" else "Đang chờ",
                p.e(t.requested_at),
                p.e(t.claimed_by or "—"),
            ]
            for t in items
        ),
        "Không có ai đang chờ.",
    )
