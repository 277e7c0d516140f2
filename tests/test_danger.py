"""Whether a message says someone is in danger now (services/danger.py)."""

import pytest

from services.danger import in_danger_now


@pytest.mark.parametrize(
    ("text", "danger"),
    [
        ("thằng đó đang cầm dao đứng trước cửa nhà em", True),
        ("co nguoi dang danh nhau o cho", True),
        ("cứu em với", True),
        ("cuu voi", True),
        ("nha ben canh dang chay", True),
        ("", False),
        ("hôm qua nhà em bị trộm xe máy", False),
        ("tuần trước có vụ cháy ở chợ", False),
        ("đang có người bán ma túy ở quán nét", False),
    ],
)
def test_danger_now(text: str, danger: bool) -> None:
    assert in_danger_now(text) is danger
