"""Checks on what citizens type into forms: phone, CCCD number, dossier code.

Each check either gives the value in one canonical form or says, in polite
Vietnamese, what is wrong, so a form can re-ask precisely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Dict

import phonenumbers

# Province/city codes of the place of birth registration in the 12-digit
# personal identification number (Thông tư 07/2016/TT-BCA, Điều 7; the 63
# provinces before the 2025 merger, which the numbers already issued keep).
PROVINCE_CODES: Dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}
# The 4th digit gives the century of birth and the gender: 0/1 the 20th century
# (male/female), 2/3 the 21st, 4/5 the 22nd, and so on.
_CENTURY_START = {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100}
OLDEST_AGE = 120

_SEPARATORS_RE = re.compile(r"[\s.\-()]")
_APPLICATION_CODE_RES = (
    # national public-service portal: 000.00.12.H31-250115-0001, or the
    # receiving agency's short form H35.21-261120-0001
    re.compile(
        r"(?<![\w.])((?:\d{3}\.\d{2}\.\d{2}\.)?[A-Z]\d{2}(?:\.\d{2})?-\d{6}-\d{4})\b"
    ),
    # the unit's own dossier numbers: HS + 8 digits
    re.compile(r"\b(HS\d{8})\b"),
)


@dataclass(frozen=True)
class CccdCheck:
    ok: bool
    number: str | None = None
    problem: str | None = None


def parse_phone(text: str) -> str | None:
    """A Vietnamese phone number (mobile or landline, 0/+84/84, spaces, dots or
    dashes) in E.164 (+84912345678), or None."""
    if not text:
        return None
    candidate = _SEPARATORS_RE.sub("", text.strip())
    if not re.fullmatch(r"\+?\d{9,13}", candidate):
        return None
    if candidate.startswith("84") and len(candidate) >= 11:
        candidate = "+" + candidate
    try:
        number = phonenumbers.parse(candidate, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """What a reply may show of a phone number: 0912***678."""
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    return national[:4] + "***" + national[-3:]


def check_cccd(text: str, today: date | None = None) -> CccdCheck:
    """A 12-digit personal identification (CCCD) number, checked for its
    province code and its century/gender digit against a plausible birth year."""
    today = today or date.today()
    number = _SEPARATORS_RE.sub("", (text or "").strip())
    if not number.isdigit():
        return CccdCheck(False, None, "Dạ, số căn cước chỉ gồm 12 chữ số ạ.")
    if len(number) != 12:
        return CccdCheck(
            False,
            None,
            f"Dạ, số căn cước có 12 chữ số, anh/chị vừa nhập {len(number)} số ạ.",
        )
    if number[:3] not in PROVINCE_CODES:
        return CccdCheck(
            False,
            None,
            "Dạ, 3 số đầu không phải mã tỉnh nơi đăng ký khai sinh. "
            "Anh/chị kiểm tra lại số trên thẻ giúp em ạ.",
        )
    century_digit = int(number[3])
    start = _CENTURY_START.get(century_digit)
    birth_year = None if start is None else start + int(number[4:6])
    if birth_year is None or not (today.year - OLDEST_AGE <= birth_year <= today.year):
        return CccdCheck(
            False,
            None,
            "Dạ, số thứ 4 đến thứ 6 (thế kỷ, giới tính, năm sinh) không hợp lệ. "
            "Anh/chị kiểm tra lại số trên thẻ giúp em ạ.",
        )
    return CccdCheck(True, number, None)


def parse_application_code(text: str) -> str | None:
    """A dossier code in ``text`` (national portal, its short form, or HS + 8
    digits), upper-case."""
    if not text:
        return None
    compact = re.sub(r"\s+", "", text.upper())
    for pattern in _APPLICATION_CODE_RES:
        match = pattern.search(compact) or pattern.search(text.upper())
        if match:
            return match.group(1)
    return None


_PHONE_IN_TEXT_RE = re.compile(r"(?<![\d+])(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")


def find_phone(text: str) -> str | None:
    """The first valid phone number inside a sentence ("sđt em là 0912 345 678")."""
    whole = parse_phone(text)
    if whole:
        return whole
    for match in _PHONE_IN_TEXT_RE.finditer(text or ""):
        phone = parse_phone(match.group(0))
        if phone:
            return phone
    return None
