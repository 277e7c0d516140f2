"""HTML of the console, in Vietnamese: small functions, every value escaped.

No template engine is installed with Rasa, so pages are built from strings;
:func:`e` escapes every value that is not literal markup of this module.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from typing import Any, Dict, Iterable, List
from urllib.parse import urlsplit

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
.stale{background:#fff1f1}button{cursor:pointer}form.inline{display:inline}
img.evidence{max-width:320px;max-height:240px;border:1px solid #ccc}
.withdrawn{color:#777;background:#f0f0f0}
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


# ---- a tip's evidence ---------------------------------------------------------------

COORDINATES = re.compile(r"\(\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*\)")
MEDIA_LABELS = {
    "image": "Ảnh",
    "gif": "Ảnh động",
    "sticker": "Nhãn dán",
    "file": "Tệp",
    "video": "Video",
    "audio": "Ghi âm",
    "link": "Liên kết",
}


def safe_url(value: Any) -> str | None:
    """``value`` when it is an absolute http(s) URL with a host, else None
    (javascript:, data:, relative and malformed URLs are never linked)."""
    if not isinstance(value, str) or len(value) > 2000:
        return None
    value = value.strip()
    if any(c.isspace() or not c.isprintable() for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def _coordinate(value: Any, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit and number == number else None


def map_link(lat: Any, long: Any) -> str | None:
    """Coordinates and a map link, or None when they are no coordinates."""
    latitude, longitude = _coordinate(lat, 90), _coordinate(long, 180)
    if latitude is None or longitude is None:
        return None
    url = f"https://www.google.com/maps?q={latitude},{longitude}"
    return (
        f'{latitude}, {longitude} (<a href="{e(url)}" target="_blank" '
        'rel="noopener noreferrer" referrerpolicy="no-referrer">xem bản đồ</a>)'
    )


def place(text: str | None) -> str:
    """The "where" of a tip, escaped, with a map link for shared coordinates."""
    if not text:
        return "—"
    found = COORDINATES.search(text)
    link = map_link(found.group(1), found.group(2)) if found else None
    return e(text) + (f" · {link}" if link else "")


def _link(url: str, label: str) -> str:
    return (
        f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer" '
        f'referrerpolicy="no-referrer">{e(label)}</a>'
    )


def evidence_item(item: Dict[str, Any]) -> str:
    """One piece of the citizen's evidence: a picture inline, a file as a link,
    a location as coordinates with a map link, text as text. Only http(s)
    URLs are ever linked or loaded; everything is escaped."""
    kind = str(item.get("type") or "")
    url = safe_url(item.get("url"))
    label = MEDIA_LABELS.get(kind, kind or "Tệp")
    if kind == "text":
        return e(item.get("text"))
    if kind == "location":
        coordinates = item.get("coordinates")
        where: Dict[str, Any] = coordinates if isinstance(coordinates, dict) else item
        lat = where.get("lat", where.get("latitude"))
        long = where.get("long", where.get("longitude"))
        shown = map_link(lat, long)
        address = e(item.get("address")) + " " if item.get("address") else ""
        return f"Vị trí: {address}{shown or '(tọa độ không hợp lệ)'}"
    if kind in ("image", "gif", "sticker") and url:
        thumbnail = safe_url(item.get("thumbnail")) or url
        return (
            f'<a href="{e(url)}" target="_blank" rel="noopener noreferrer" '
            f'referrerpolicy="no-referrer"><img class="evidence" src="{e(thumbnail)}" '
            f'alt="{e(label)} người dân gửi" referrerpolicy="no-referrer" '
            'loading="lazy"></a>'
        )
    if url:
        name = str(item.get("name") or label)
        size = item.get("size")
        extra = f" ({e(size)} byte)" if isinstance(size, int) else ""
        return f"{e(label)}: {_link(url, name)}{extra}"
    details = ", ".join(
        f"{k}: {v}" for k, v in item.items() if k not in ("payload", "type")
    )
    return (
        f"{e(label)}"
        + (f" – {e(details)}" if details else "")
        + (" (đường dẫn không hợp lệ, không mở)" if item.get("url") else "")
    )


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} byte"


# ---- content ---------------------------------------------------------------------

CONFIDENCE = {
    "S": "S – đã đối chiếu văn bản",
    "M": "M – cần theo dõi",
    "U": "U – chưa chắc chắn (trợ lý nhắc kiểm tra lại)",
}


def post_button(
    action: str, csrf: str, label: str, fields: Dict[str, str] | None = None
) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">'
        for k, v in (fields or {}).items()
    )
    return (
        f'<form class="inline" method="post" action="{e(action)}">{csrf_field(csrf)}'
        f'{hidden}<button type="submit">{e(label)}</button></form>'
    )


def area(
    name: str, label: str, value: str = "", limit: int = 10000, required: bool = False
) -> str:
    return (
        f'<p><label>{e(label)}<textarea name="{e(name)}" maxlength="{limit}"'
        f"{' required' if required else ''}>{e(value)}</textarea></label></p>"
    )


def field(
    name: str,
    label: str,
    value: Any = "",
    kind: str = "text",
    limit: int = 500,
    required: bool = False,
    size: int = 60,
) -> str:
    return (
        f'<p><label>{e(label)} <input type="{kind}" name="{e(name)}" '
        f'value="{e(value.isoformat() if isinstance(value, dt.date) else value)}" '
        f'maxlength="{limit}" size="{size}"{" required" if required else ""}>'
        "</label></p>"
    )


def scam_fields(scam: Any = None) -> str:
    """The fields of a scam alert (empty, or those of ``scam`` to edit)."""

    def lines(name: str) -> str:
        return "\n".join(getattr(scam, name)) if scam is not None else ""

    return (
        field("title", "Tiêu đề", scam.title if scam else "", limit=300, required=True)
        + area(
            "how_it_works", "Thủ đoạn", scam.how_it_works if scam else "", 3000, True
        )
        + area("signs", "Dấu hiệu (mỗi dòng một ý)", lines("signs"))
        + area("what_to_do", "Cần làm gì (mỗi dòng một ý)", lines("what_to_do"))
        + field(
            "keywords",
            "Từ khóa (cách nhau bởi dấu phẩy)",
            ", ".join(scam.keywords) if scam else "",
            limit=5000,
        )
        + area(
            "examples", "Tin nhắn mẫu của kẻ gian (mỗi dòng một mẫu)", lines("examples")
        )
        + field("source", "Nguồn", (scam.source or "") if scam else "", limit=500)
    )
