"""Confidential tips: encrypted at rest, reference code, unit-only reading."""

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services import tips
from services.errors import TipNotFound, UnknownUnit

pytestmark = pytest.mark.usefixtures("crypto_keys")

UNIT = "XA-TEST"
WHAT = "Nhà số 12 đường Lý Thường Kiệt có người tàng trữ ma túy"
PHONE = "0912345678"
CCCD = "079201001234"


def file_one() -> str:
    return tips.file_tip(
        UNIT,
        WHAT,
        "Ngõ 7 phường Dĩ An",
        "khoảng 22h tối qua",
        [{"type": "image", "url": "https://zalo.example/photo-1.jpg"}],
        {"name": "Trần Thị B", "phone": PHONE, "cccd": CCCD},
        "zalo-user-42",
        now=dt.datetime(2026, 12, 1, 9, 0),
    )


def dump(db_engine: Engine) -> str:
    """Every value of every tips table, as one string."""
    values = []
    with db_engine.connect() as connection:
        for table in ("tips", "tips_evidence", "tips_notes"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                values.extend(str(v) for v in row)
    return " ".join(values)


def test_a_tip_round_trips_and_nothing_is_in_clear(db_engine: Engine) -> None:
    reference = file_one()
    assert reference.startswith("TB-") and len(reference) == 11
    tips.add_to_tip(reference, "Có thêm một xe máy biển 59X1", conversation_id="c")
    stored = dump(db_engine)
    for secret in (
        WHAT,
        "Ngõ 7",
        "22h tối",
        "Trần Thị B",
        PHONE,
        CCCD,
        "zalo-user-42",
        "photo-1",
        "biển 59X1",
    ):
        assert secret not in stored
    view = tips.get_tip(reference, UNIT, officer="can-bo-1")
    assert view.what == WHAT and view.where == "Ngõ 7 phường Dĩ An"
    assert view.when == "khoảng 22h tối qua"
    assert view.contact == {"name": "Trần Thị B", "phone": PHONE, "cccd": CCCD}
    assert view.evidence == [
        {"type": "image", "url": "https://zalo.example/photo-1.jpg"}
    ]
    assert [n.text for n in view.notes] == ["Có thêm một xe máy biển 59X1"]
    assert view.status == "read"


def test_anonymous_tip_without_place_time_or_contact(db_engine: Engine) -> None:
    reference = tips.file_tip(UNIT, "Có đánh bạc", None, None, [], None, None)
    view = tips.get_tip(reference, UNIT)
    assert (view.where, view.when, view.contact, view.evidence) == (
        None,
        None,
        None,
        [],
    )


def test_other_units_and_wrong_references_see_nothing(db_engine: Engine) -> None:
    reference = file_one()
    with pytest.raises(TipNotFound):
        tips.get_tip(reference, "XA-OTHER", officer="spy")
    view = tips.get_tip(reference.lower().replace("-", " "), UNIT)
    with pytest.raises(TipNotFound):
        tips.get_tip(view.id, "XA-OTHER")
    with pytest.raises(TipNotFound):
        tips.add_to_tip("TB-AAAAAAAA", "thêm")
    assert [s.reference for s in tips.list_tips(UNIT)] == [reference]
    assert tips.list_tips("XA-OTHER") == []


def test_reads_are_audit_logged(db_engine: Engine) -> None:
    reference = file_one()
    view = tips.get_tip(reference, UNIT, officer="can-bo-1")
    tips.get_tip(reference, UNIT, officer="can-bo-2")
    log = tips.access_log(view.id)
    assert [(o, u, a) for o, u, a, _ in log] == [
        ("can-bo-1", UNIT, "read"),
        ("can-bo-2", UNIT, "read"),
    ]


def test_list_counts_evidence_and_additions(db_engine: Engine) -> None:
    reference = file_one()
    tips.add_to_tip(reference, evidence=[{"type": "file", "id": "f-1"}])
    tips.add_to_tip(reference, "thêm chi tiết")
    (summary,) = tips.list_tips(UNIT)
    assert (summary.evidence_count, summary.note_count) == (2, 1)


@pytest.mark.parametrize(
    "what, evidence, contact",
    [
        ("", [], None),
        ("x" * 6000, [], None),
        ("ok", ["not an object"], None),
        ("ok", [{"n": 1}] * 30, None),
        ("ok", [], "0912345678"),
    ],
)
def test_bad_tips_are_refused_with_a_citizen_message(
    db_engine: Engine, what: str, evidence: list, contact: object
) -> None:
    with pytest.raises(tips.BadTip) as error:
        tips.file_tip(UNIT, what, None, None, evidence, contact, None)  # type: ignore[arg-type]
    assert error.value.citizen_message.startswith("Dạ")


def test_nothing_to_add_is_refused(db_engine: Engine) -> None:
    reference = file_one()
    with pytest.raises(tips.BadTip):
        tips.add_to_tip(reference)


def test_a_retried_tip_is_stored_once(db_engine: Engine) -> None:
    first = file_one()
    assert file_one() == first
    assert len(tips.list_tips(UNIT)) == 1
    # without a conversation there is nothing to recognise a retry by
    one = tips.file_tip(UNIT, "Có đánh nhau", None, None, [], None, None)
    two = tips.file_tip(UNIT, "Có đánh nhau", None, None, [], None, None)
    assert one != two


def test_a_tip_needs_a_unit(db_engine: Engine) -> None:
    with pytest.raises(UnknownUnit):
        tips.file_tip(None, "Có đánh nhau", None, None, [], None, "c")  # type: ignore[arg-type]
