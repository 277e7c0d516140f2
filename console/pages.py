"""HTML of the console, in Vietnamese: small functions, every value escaped.

No template engine is installed with Rasa, so pages are built from strings;
:func:`e` escapes every value that is not literal markup of this module.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, Dict, Iterable, List

from services.officers import Viewer

TIP_STATUS = {
    "new": "Mới",
    "read": "Đã xem",
    "in_progress": "Đang xử lý",
    "closed": "Đã đóng",
}
APPOINTMENT_STATUS = {"booked": "Đã đặt", "cancelled": "Đã hủy", "no_show": "Vắng mặt"}
STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{background:#7a1010;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;
flex-wrap:wrap;align-items:center}
header a{color:#fff;text-decoration:none}header form{margin-left:auto}
main{padding:1rem;max-width:1100px}table{border-collapse:collapse;width:100%;
background:#fff}td,th{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;
vertical-align:top}.flash{background:#fff3cd;padding:.5rem;border:1px solid #e0c36b}
.error{background:#fde2e2;border-color:#e08b8b}textarea{width:100%;min-height:4rem}
.stale{background:#fff1f1}button{cursor:pointer}
"""


def e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.strftime("%d/%m/%Y %H:%M")
    elif isinstance(value, dt.date):
        value = value.strftime("%d/%m/%Y")
    return escape(str(value), quote=True)


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def layout(
    title: str,
    body: str,
    viewer: Viewer | None = None,
    csrf: str = "",
    flash: str | None = None,
    error: bool = False,
) -> str:
    nav = ""
    if viewer is not None:
        nav = (
            '<a href="/tips">Tin báo</a><a href="/queue">Hàng chờ trò chuyện</a>'
            '<a href="/appointments">Lịch hẹn</a><a href="/applications">Hồ sơ</a>'
            '<a href="/content">Nội dung</a>'
            f"<span>{e(viewer.username)} · {e(viewer.unit)}"
            f"{' (quản trị)' if viewer.role == 'admin' else ''}</span>"
            f'<form method="post" action="/logout">{csrf_field(csrf)}'
            '<button type="submit">Đăng xuất</button></form>'
        )
    note = ""
    if flash:
        note = (
            f'<p class="flash{" error" if error else ""}" role="status">{e(flash)}</p>'
        )
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)} · Bảng điều khiển cán bộ</title><style>{STYLE}</style>"
        f"</head><body><header><strong>Công an – cán bộ</strong>{nav}</header>"
        f"<main><h1>{e(title)}</h1>{note}{body}</main></body></html>"
    )


def login(token: str, message: str | None = None) -> str:
    body = (
        '<form method="post" action="/login">'
        f"{csrf_field(token)}"
        '<p><label>Tên đăng nhập <input name="username" autocomplete="username" '
        'required maxlength="64"></label></p>'
        '<p><label>Mật khẩu <input name="password" type="password" '
        'autocomplete="current-password" required maxlength="256"></label></p>'
        '<p><button type="submit">Đăng nhập</button></p></form>'
    )
    return layout("Đăng nhập", body, flash=message, error=bool(message))


def not_found(viewer: Viewer | None, csrf: str) -> str:
    return layout(
        "Không tìm thấy",
        "<p>Không tìm thấy mục này, hoặc mục này không thuộc đơn vị của đồng chí.</p>",
        viewer,
        csrf,
    )


def rows(cells: Iterable[Iterable[str]]) -> str:
    return "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in cells
    )


def table(headers: List[str], body_rows: str, empty: str) -> str:
    if not body_rows:
        return f"<p>{e(empty)}</p>"
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table>"


def select(name: str, options: Dict[str, str], chosen: str | None = None) -> str:
    items = "".join(
        f'<option value="{e(k)}"{" selected" if k == chosen else ""}>{e(v)}</option>'
        for k, v in options.items()
    )
    return f'<select name="{e(name)}">{items}</select>'
