"""The right emergency number comes first."""

from typing import List

import pytest

from services import emergency


@pytest.mark.parametrize(
    "message, first",
    [
        ("cháy nhà rồi cứu với", ["114"]),
        ("chay nha roi cuu voi", ["114"]),
        ("nha ben canh boc chay to lam", ["114"]),
        ("có người đuối nước ở sông", ["114"]),
        ("tai nạn xe máy có người bất tỉnh", ["115"]),
        ("ba toi bi dot quy roi", ["115"]),
        ("có trộm đột nhập vào nhà em", ["113"]),
        ("có đứa cầm mã tấu đòi chém", ["113"]),
        ("alo", ["113"]),
        ("xe tải đâm vào nhà cháy, có người bị thương", ["114", "115"]),
        ("co nguoi cam dao dam nguoi chay mau nhieu lam", ["113", "115"]),
        ("hàng xóm đang đánh con nhỏ dã man", ["111", "113"]),
    ],
)
def test_primary_numbers(message: str, first: List[str]) -> None:
    assert [n.number for n in emergency.primary(message)] == first


def test_reply_opens_with_the_number_and_lists_the_others() -> None:
    lines = emergency.reply("cháy nhà")
    assert lines[0].startswith("☎️ GỌI NGAY 114")
    assert all(number in lines[-1] for number in ("113", "115", "111"))
    assert "114" not in lines[-1]


def test_every_number_is_known() -> None:
    assert sorted(n.number for n in emergency.numbers()) == ["111", "113", "114", "115"]
