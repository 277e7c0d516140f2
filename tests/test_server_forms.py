"""Forms over REST in the assistant as `make run` starts it: an emergency in
the middle of a form gets the emergency number as the very first line, and
"hủy"/"thôi" leave a form cleanly so the next question is answered as usual.

Marked `model`: runs after training (`make test` runs it with `pytest -m model`).
"""

from __future__ import annotations

import datetime as dt
from typing import Dict, List

import pytest

from tests.servers import Assistant, reply_text

pytestmark = pytest.mark.model

UNIT = {"unit": "XA-XUANHUONG"}  # a sample commune of knowledge/units.yml


def a_weekday() -> str:
    """A Monday-to-Friday date next week, as a citizen types it."""
    day = dt.date.today() + dt.timedelta(days=7)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return day.strftime("%d/%m/%Y")


def talk(assistant: Assistant, sender: str, messages: List[str]) -> List[Dict]:
    """Say each message in turn; the replies to the last one."""
    replies: List[Dict] = []
    for message in messages:
        status, replies = assistant.say(message, sender, UNIT)
        assert status == 200, replies
    return replies


@pytest.mark.parametrize(
    "opening, emergency, number",
    [
        ("em muốn đặt lịch làm hộ chiếu", "cứu với nhà bên cạnh đang cháy lớn", "114"),
        ("dat lich lam can cuoc", "co nguoi dang cam dao doa giet toi", "113"),
        ("em muốn tố giác tội phạm", "ba em ngã bất tỉnh không thở nữa rồi", "115"),
    ],
    ids=["booking-fire", "booking-knife-no-diacritics", "tip-medical"],
)
def test_emergency_mid_form_puts_the_number_first(
    assistant: Assistant, opening: str, emergency: str, number: str
) -> None:
    sender = f"emergency-{number}-{len(opening)}"
    first = reply_text(talk(assistant, sender, [opening]))
    assert first.startswith("Dạ") and "?" in first  # the form asks its first slot
    replies = talk(assistant, sender, [emergency])
    assert replies[0]["text"].startswith(f"☎️ GỌI NGAY {number}"), replies


@pytest.mark.parametrize(
    "form, cancel",
    [
        (["đặt lịch làm căn cước", a_weekday()], "hủy"),
        (["dat lich lam ho chieu"], "thoi"),
        (["toi muon bao cong an ve mot vu trom cho"], "huy"),
    ],
    ids=["booking-after-date", "booking-no-diacritics", "tip"],
)
def test_cancel_leaves_the_form(
    assistant: Assistant, form: List[str], cancel: str
) -> None:
    sender = f"cancel-{cancel}-{len(form[0])}"
    talk(assistant, sender, form)
    left = reply_text(talk(assistant, sender, [cancel]))
    assert left.startswith("Dạ, em đã dừng việc"), left
    # the next message is a question again, not an answer to the form
    answer = reply_text(talk(assistant, sender, ["lam tam tru het bao nhieu tien"]))
    assert "lệ phí của thủ tục Đăng ký tạm trú" in answer, answer
    assert "Căn cứ:" in answer


def test_a_name_that_looks_like_a_place_is_taken_as_the_name(
    assistant: Assistant,
) -> None:
    sender = "name-like-place"
    talk(assistant, sender, ["đặt lịch làm căn cước", a_weekday(), "9h"])
    asked = reply_text(talk(assistant, sender, ["Nguyễn Văn An"]))
    assert "số điện thoại" in asked, asked


def test_plain_request_to_report_a_crime_starts_the_tip_form(
    assistant: Assistant,
) -> None:
    asked = reply_text(talk(assistant, "tip-plain", ["em muốn báo tin tội phạm"]))
    assert asked.startswith("Dạ, em ghi nhận tin báo"), asked
