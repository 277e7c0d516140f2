"""The normaliser: teencode, tone placement, stretched letters, protected numbers."""

import unicodedata

import pytest

from vietnamese.text import (
    CODE,
    DATE,
    NUMBER,
    TIME,
    WORD,
    clean,
    fold,
    has_diacritics,
    normalize,
    split_pieces,
    strip_diacritics,
    teencode,
)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Cho e hỏi đk tạm trú cần j ạ???", "cho em hỏi đăng ký tạm trú cần gì ạ"),
        ("ko dc ak", "không được ak"),
        ("hông biết làm sao dzậy nha", "không biết làm sao vậy nha"),
        ("sdt cua ad la bn", "số điện thoại cua admin la bao nhiêu"),
        ("lam ntn z mn", "lam như thế nào vậy mọi người"),
        ("NHẬP HỘ KHẨU", "nhập hộ khẩu"),
        ("thuỷ hoà qúy", "thủy hòa quý"),  # old tone placement -> new
        ("nhaaaa đcccc okkk", "nha được ok"),
        ("xoong nồi", "xoong nồi"),  # a real double letter stays
        ("cccd bị mất", "căn cước công dân bị mất"),
        ("đăng kí", "đăng ký"),
    ],
)
def test_normalize(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


@pytest.mark.parametrize(
    "typed, piece, kind, norm",
    [
        ("số cccd 079203001234 nhé", "079203001234", NUMBER, "079203001234"),
        ("sdt 0912.345.678 ạ", "0912.345.678", NUMBER, "0912345678"),
        ("goi +84 912 345 678 nha", "+84 912 345 678", NUMBER, "+84912345678"),
        ("ma 000.00.12.H31-250115-0001 r", "000.00.12.H31-250115-0001", CODE, None),
        ("hồ sơ HS20251234", "HS20251234", CODE, "hs20251234"),
        ("ngày 15/12/2026 nhé", "15/12/2026", DATE, "15/12/2026"),
        ("hẹn 15/12", "15/12", DATE, "15/12"),
        ("lúc 9h30 sáng", "9h30", TIME, "9h30"),
        ("lúc 14:00", "14:00", TIME, "14:00"),
        ("mẫu TK01a", "TK01a", CODE, "tk01a"),
        ("mất 50tr", "50tr", NUMBER, "50tr"),
    ],
)
def test_numbers_codes_dates_stay_whole(
    typed: str, piece: str, kind: str, norm: str
) -> None:
    pieces = {p.text: p for p in split_pieces(typed)}
    assert piece in pieces, [p.text for p in split_pieces(typed)]
    assert pieces[piece].kind == kind
    assert typed[pieces[piece].start : pieces[piece].end] == piece
    if norm is not None:
        assert pieces[piece].norm == norm


def test_offsets_point_into_the_original() -> None:
    typed = "  Cho  e hỏi\tđk   TẠM TRÚ 😀 ở đâu?? "
    for piece in split_pieces(typed):
        assert typed[piece.start : piece.end] == piece.text
    assert [p.text for p in split_pieces(typed) if p.kind == WORD][:3] == [
        "Cho",
        "e",
        "hỏi",
    ]


def test_decomposed_unicode_from_old_keyboards() -> None:
    composed = "Đăng ký tạm trú"
    decomposed = unicodedata.normalize("NFD", composed)
    pieces = split_pieces(decomposed)
    assert [p.norm for p in pieces] == ["đăng", "ký", "tạm", "trú"]
    assert [decomposed[p.start : p.end] for p in pieces] == decomposed.split()


def test_emoji_punctuation_and_control_characters_are_dropped() -> None:
    assert split_pieces("😭😭😭 ??? !!!") == []
    assert normalize("tạm\x00trú\x07") == "tạm trú"
    assert clean("a\u200bb\x1f c") == "a b c"


def test_diacritics() -> None:
    assert strip_diacritics("Đăng ký tạm trú ở đâu ạ") == "Dang ky tam tru o dau a"
    assert len(strip_diacritics("Hộ chiếu")) == len("Hộ chiếu")
    assert has_diacritics("hộ chiếu") and not has_diacritics("ho chieu")
    assert fold("Đk TẠM TRÚ") == fold("dang ky tam tru") == "dang ky tam tru"


def test_teencode_dictionary_is_consistent() -> None:
    table = teencode()
    assert table["ko"] == "không" and table["dc"] == "được"
    # ambiguous spellings are deliberately absent
    assert "dk" not in table and "bh" not in table
    # an expansion never maps to itself twice over
    for spelling, expansion in table.items():
        assert spelling != expansion or spelling == "admin", spelling
