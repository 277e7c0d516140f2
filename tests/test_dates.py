"""Vietnamese dates and times, read against a frozen today (Sunday 29/11/2026)."""

from datetime import date, time

import pytest

from services.dates import parse_date, parse_time, part_of_day, read_date, read_time

TODAY = date(2026, 11, 29)  # a Sunday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mai", date(2026, 11, 30)),
        ("ngày mai", date(2026, 11, 30)),
        ("ngay mai nhe", date(2026, 11, 30)),
        ("mốt", date(2026, 12, 1)),
        ("ngày kia", date(2026, 12, 1)),
        ("hôm nay", date(2026, 11, 29)),
        ("thứ 2", date(2026, 11, 30)),
        ("thứ hai", date(2026, 11, 30)),
        ("t2", date(2026, 11, 30)),
        # Sunday ends the week: next week's Monday is tomorrow
        ("thứ 2 tuần sau", date(2026, 11, 30)),
        ("thu hai tuan sau", date(2026, 11, 30)),
        ("sáng thứ 5", date(2026, 12, 3)),
        ("chieu thu nam", date(2026, 12, 3)),
        ("thứ sáu", date(2026, 12, 4)),
        ("thu bay", date(2026, 12, 5)),
        ("chủ nhật", date(2026, 11, 29)),
        ("15/12", date(2026, 12, 15)),
        ("15-12", date(2026, 12, 15)),
        ("15.12.2026", date(2026, 12, 15)),
        ("3/1", date(2027, 1, 3)),
        ("29/11", date(2026, 11, 29)),
        ("28/11", date(2027, 11, 28)),
        ("ngày 3 tháng 1", date(2027, 1, 3)),
        ("ngay 3 thang 1", date(2027, 1, 3)),
        ("ngày 3 tháng 1 năm 2028", date(2028, 1, 3)),
        ("29/2", date(2028, 2, 29)),
        ("2026-12-24", date(2026, 12, 24)),
        ("25 tháng mười hai", date(2026, 12, 25)),
        ("cho em dat lich 9h30 sang 15/12 nha", date(2026, 12, 15)),
        ("", None),
        ("tôi muốn đặt lịch", None),
        ("0912345678", None),
        ("Nguyễn Văn An", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thứ 2 tuần sau", date(2026, 12, 7)),
        ("t2 tuần tới", date(2026, 12, 7)),
        ("thứ 2", date(2026, 12, 7)),
        ("thứ 4", date(2026, 12, 2)),
        ("thứ 5", date(2026, 12, 3)),
        ("thu 5 tuan sau", date(2026, 12, 10)),
        ("chủ nhật tuần sau", date(2026, 12, 13)),
    ],
)
def test_weekdays_from_a_wednesday(text: str, expected: date) -> None:
    assert parse_date(text, date(2026, 12, 2)) == expected


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("31/2", "tháng 2 chỉ có 28 hoặc 29 ngày"),
        ("31/4", "tháng 4 chỉ có 30 ngày"),
        ("29/2/2027", "tháng 2 năm 2027 chỉ có 28 ngày"),
        ("ngay 31 thang 6", "tháng 6 chỉ có 30 ngày"),
        ("12/13", "không có tháng 13"),
        ("0/5", "không có ngày 0"),
    ],
)
def test_impossible_dates_say_why(text: str, reason_part: str) -> None:
    reading = read_date(text, TODAY)
    assert reading.value is None
    assert reading.problem is not None and reason_part in reading.problem
    assert parse_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9h30", time(9, 30)),
        ("9h", time(9, 0)),
        ("9g30", time(9, 30)),
        ("9 giờ 30", time(9, 30)),
        ("9 gio 30 phut", time(9, 30)),
        ("9 giờ rưỡi", time(9, 30)),
        ("9 gio ruoi", time(9, 30)),
        ("2 giờ chiều", time(14, 0)),
        ("2 gio chieu", time(14, 0)),
        ("chiều 3h", time(15, 0)),
        ("14h", time(14, 0)),
        ("14:30", time(14, 30)),
        ("7 giờ sáng", time(7, 0)),
        ("12 giờ trưa", time(12, 0)),
        ("1 giờ trưa", time(13, 0)),
        ("lúc 8", time(8, 0)),
        ("10", time(10, 0)),
        ("2pm", time(14, 0)),
        ("sáng thứ 5 lúc 8h", time(8, 0)),
        ("thứ 5", None),
        ("15/12", None),
        ("mai", None),
        ("", None),
    ],
)
def test_parse_time(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [("25h", "từ 0 đến 23"), ("9h75", "từ 0 đến 59"), ("15 giờ sáng", "từ 0 đến 23")],
)
def test_impossible_times_say_why(text: str, reason_part: str) -> None:
    reading = read_time(text)
    assert reading.value is None
    assert reading.problem is not None and reason_part in reading.problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [("sáng thứ 5", "morning"), ("chieu mai", "afternoon"), ("15/12", None)],
)
def test_part_of_day(text: str, expected: str | None) -> None:
    assert part_of_day(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "tôi" (I) and "hộ chiếu" (passport) typed without diacritics are no part
        # of the day
        ("toi muon hen 9h", time(9, 0)),
        ("tôi đến lúc 9 giờ", time(9, 0)),
        ("9h toi", time(21, 0)),
        ("7 gio toi nay", time(19, 0)),
        ("2 giờ chiều", time(14, 0)),
    ],
)
def test_the_pronoun_toi_is_not_the_evening(text: str, expected: time) -> None:
    assert read_time(text).value == expected


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("tôi muốn đặt lịch đăng ký tạm trú", None),
        ("dat lich lam ho chieu cho con 5 tuoi", None),
        ("toi muon hen sang mai", "morning"),
        ("dat lich lam can cuoc sang thu 5 tuan sau", "morning"),
        ("chieu a", "afternoon"),
        ("sáng thứ 5", "morning"),
    ],
)
def test_part_of_day_only_when_said(text: str, part: str | None) -> None:
    assert part_of_day(text) == part
