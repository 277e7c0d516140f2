"""Phone numbers, CCCD numbers and dossier codes as citizens type them."""

from datetime import date

import pytest

from services.validation import (
    check_cccd,
    find_phone,
    mask_phone,
    parse_application_code,
    parse_phone,
)

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("091-234-5678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0387654321", "+84387654321"),
        ("0703123456", "+84703123456"),
        ("0865432109", "+84865432109"),
        ("024 3825 1234", "+842438251234"),  # Hà Nội landline
        ("0283 822 1234", "+842838221234"),  # TP HCM landline
        ("091234567", None),  # too short
        ("09123456789", None),  # too long
        ("0112345678", None),  # no such prefix
        ("+1 202 555 0143", None),  # not Vietnamese
        ("số em là 0912345678", None),  # a form asks for the number alone
        ("abc", None),
        ("", None),
    ],
)
def test_parse_phone(text: str, expected: str | None) -> None:
    assert parse_phone(text) == expected


def test_mask_phone_hides_the_middle() -> None:
    assert mask_phone("+84912345678") == "0912***678"


@pytest.mark.parametrize(
    "text",
    [
        "001090012345",  # Hà Nội, male, born 1990
        "079195001234",  # TP HCM, female, born 1995
        "074 205 001234",  # Bình Dương, male, born 2005, spaces
        "096.301.012345",  # Cà Mau, female, born 2001, dots
        "038 0 26 123456",  # born 1926: old but plausible
    ],
)
def test_valid_cccd(text: str) -> None:
    check = check_cccd(text, today=TODAY)
    assert check.ok and check.problem is None
    assert check.number == "".join(c for c in text if c.isdigit())


@pytest.mark.parametrize(
    ("text", "problem_part"),
    [
        ("00109001234", "12 chữ số, anh/chị vừa nhập 11 số"),
        ("0010900123456", "vừa nhập 13 số"),
        ("00109001234a", "chỉ gồm 12 chữ số"),
        ("", "chỉ gồm 12 chữ số"),
        ("003090012345", "mã tỉnh"),  # 003 is not a province code
        ("097090012345", "mã tỉnh"),
        ("000090012345", "mã tỉnh"),
        ("001290012345", "năm sinh"),  # born 2090: in the future
        ("001430012345", "năm sinh"),  # 22nd century
        ("001800012345", "năm sinh"),  # digit 8: no such century code here
        ("001000012345", "năm sinh"),  # born 1900: older than 120
    ],
)
def test_invalid_cccd_says_why(text: str, problem_part: str) -> None:
    check = check_cccd(text, today=TODAY)
    assert not check.ok and check.number is None
    assert check.problem is not None and problem_part in check.problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("000.00.12.H31-250115-0001", "000.00.12.H31-250115-0001"),
        ("000.00.12.h31-250115-0001", "000.00.12.H31-250115-0001"),
        ("mã hồ sơ 000.00.12.H31-250115-0001 ạ", "000.00.12.H31-250115-0001"),
        ("H35.21-261120-0001", "H35.21-261120-0001"),
        ("ho so h35.21-261120-0001 cua e", "H35.21-261120-0001"),
        ("HS20251234", "HS20251234"),
        ("hs20251234", "HS20251234"),
        ("ma HS20251234 sdt 0912345678", "HS20251234"),
        ("HS 2025 1234", "HS20251234"),
        ("HS2025123", None),
        ("000.00.12.H31-250115", None),
        ("0912345678", None),
        ("", None),
    ],
)
def test_parse_application_code(text: str, expected: str | None) -> None:
    assert parse_application_code(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912345678", "+84912345678"),
        ("sđt em là 0912 345 678 nha", "+84912345678"),
        ("so cua chi: +84 387 654 321", "+84387654321"),
        ("mã HS20251234 số 0912.345.678", "+84912345678"),
        ("số em là 091234567", None),
        ("001090012345", None),  # a CCCD number is not a phone number
        ("không có số", None),
    ],
)
def test_find_phone_in_a_sentence(text: str, expected: str | None) -> None:
    assert find_phone(text) == expected
