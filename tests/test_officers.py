"""Console service layer: accounts, login limit, and every permission rule of
services.desk (own unit only; a province admin sees the province's units)."""

import asyncio
import datetime as dt
import io
import json
from typing import Dict, Iterator, List, Tuple

import pytest
from sqlalchemy import select

from services import booking, db, desk, handoff, knowledge, loader, officers, outbound
from services import tips as tip_service
from services.errors import (
    ApplicationNotFound,
    BookingNotFound,
    TipNotFound,
    UnknownUnit,
)
from services.knowledge_models import NewsItem
from services.officers import Viewer
from tests import console_support as cs
from tests.test_handoff import TOKEN as RASA_TOKEN
from tests.test_handoff import FakeRasa

pytestmark = pytest.mark.usefixtures("crypto_keys", "privacy_restored")

CSV = (
    "code,procedure,phone,status,last_changed,note\n"
    "{code},identity_card,0912000001,received,2026-11-20,\n"
)


@pytest.fixture
def who(database_url: str) -> Iterator[Dict[str, Viewer]]:
    cs.seed_units()
    yield cs.seed_officers()


def _tip(unit: str, what: str = "Có người trộm xe máy") -> str:
    return tip_service.file_tip(
        unit, what, "Chợ Đà Lạt", "tối qua", None, {"phone": "0912345678"}, "conv-1"
    )


# ---- accounts and login ------------------------------------------------------------


def test_accounts_are_checked_and_hashed(who: Dict[str, Viewer]) -> None:
    with pytest.raises(officers.OfficerError):
        officers.add_officer(cs.UNIT_A, "x", "officer", cs.PASSWORD)  # short name
    with pytest.raises(officers.OfficerError):
        officers.add_officer(cs.UNIT_A, "canbo.c", "chief", cs.PASSWORD)
    with pytest.raises(officers.OfficerError):
        officers.add_officer(cs.UNIT_A, "canbo.c", "officer", "short")
    with pytest.raises(UnknownUnit):
        officers.add_officer("XA-NOWHERE", "canbo.c", "officer", cs.PASSWORD)
    with pytest.raises(officers.OfficerError):
        officers.add_officer(cs.UNIT_B, "CANBO.A", "officer", cs.PASSWORD)  # taken
    with db.session_scope() as session:
        stored = session.execute(
            select(officers.Officer.password_hash).where(
                officers.Officer.username == "canbo.a"
            )
        ).scalar_one()
    assert stored.startswith("$argon2") and cs.PASSWORD not in stored


def test_login_and_rate_limit_per_username_and_address(
    who: Dict[str, Viewer],
) -> None:
    now = dt.datetime(2026, 12, 1, 9, 0)
    ok = officers.authenticate("CanBo.A", cs.PASSWORD, "10.0.0.1", now=now)
    assert ok is not None and ok.unit == cs.UNIT_A and ok.units == {cs.UNIT_A}
    assert officers.authenticate("nobody", cs.PASSWORD, "10.0.0.1", now=now) is None
    for _ in range(officers.MAX_FAILURES):
        assert officers.authenticate("canbo.a", "wrong", "10.0.0.1", now=now) is None
    with pytest.raises(officers.TooManyAttempts):  # even the right password
        officers.authenticate("canbo.a", cs.PASSWORD, "10.0.0.1", now=now)
    # another address, and another username from the same address, still work
    assert officers.authenticate("canbo.a", cs.PASSWORD, "10.0.0.2", now=now)
    assert officers.authenticate("canbo.b", cs.PASSWORD, "10.0.0.1", now=now)
    later = now + officers.FAILURE_WINDOW + dt.timedelta(minutes=1)
    assert officers.authenticate("canbo.a", cs.PASSWORD, "10.0.0.1", now=later)


def test_who_sees_which_units(who: Dict[str, Viewer]) -> None:
    assert who["a"].units == {cs.UNIT_A}
    assert who["b"].units == {cs.UNIT_B}
    assert {cs.PROVINCE, cs.UNIT_A, cs.UNIT_B} <= who["admin"].units
    assert cs.OTHER_UNIT not in who["admin"].units
    assert who["other"].units == {cs.OTHER_PROVINCE, cs.OTHER_UNIT}
    commune_admin = officers.add_officer(cs.UNIT_A, "truong.a", "admin", cs.PASSWORD)
    assert commune_admin.units == {cs.UNIT_A}  # admin of a commune: that commune


# ---- tips -------------------------------------------------------------------------


def test_tips_are_scoped_and_audited(who: Dict[str, Viewer]) -> None:
    ref_a, ref_b = _tip(cs.UNIT_A), _tip(cs.UNIT_B, "Đánh nhau ở quán")
    assert [t.reference for t in desk.list_tips(who["a"])] == [ref_a]
    assert [t.reference for t in desk.list_tips(who["b"])] == [ref_b]
    assert {t.reference for t in desk.list_tips(who["admin"])} == {ref_a, ref_b}
    assert desk.list_tips(who["other"]) == []
    tip = desk.get_tip(who["a"], ref_a)
    assert tip.what == "Có người trộm xe máy" and tip.contact == {"phone": "0912345678"}
    for viewer, key in [(who["a"], ref_b), (who["other"], ref_a), (who["b"], ref_a)]:
        with pytest.raises(TipNotFound):
            desk.get_tip(viewer, key)
    with pytest.raises(TipNotFound):  # guessed numeric id of another unit's tip
        desk.get_tip(who["a"], str(tip_service.ids_of([ref_b])[0]))
    with pytest.raises(TipNotFound):
        desk.get_tip(who["a"], "TB-ZZZZZZZZ")
    assert desk.get_tip(who["admin"], ref_b).what == "Đánh nhau ở quán"
    log = tip_service.access_log(tip.id)
    assert log[0][:3] == ("canbo.a", cs.UNIT_A, "list")
    assert ("canbo.a", cs.UNIT_A, "read") in [row[:3] for row in log]


def test_tip_status_and_notes(who: Dict[str, Viewer]) -> None:
    ref = _tip(cs.UNIT_A)
    desk.update_tip(who["a"], ref, "in_progress", "Đã cử tổ tuần tra")
    with pytest.raises(TipNotFound):
        desk.update_tip(who["b"], ref, "closed", None)
    with pytest.raises(tip_service.BadTip):
        desk.update_tip(who["a"], ref, "archived", None)
    desk.update_tip(who["admin"], ref, "closed", None)
    tip = desk.get_tip(who["a"], ref)
    assert tip.status == "closed"
    assert [(n.author, n.text) for n in tip.notes] == [("canbo.a", "Đã cử tổ tuần tra")]
    actions = [row[2] for row in tip_service.access_log(tip.id)]
    assert "status:in_progress" in actions and "status:closed" in actions
    assert "note" in actions


def _tracker_events(sender: str, said: List[Tuple[str, str, dt.datetime]]) -> None:
    """Events as the encrypting tracker store writes them (same database here)."""
    from connectors.stores import EncryptedEventsBase, EncryptedSQLEvent

    EncryptedEventsBase.metadata.create_all(db.engine())
    with db.session_scope() as session:
        for kind, text, at in said:
            stamp = at.replace(tzinfo=booking.VIETNAM).timestamp()
            session.add(
                EncryptedSQLEvent(
                    sender_id=sender,
                    type_name=kind,
                    timestamp=stamp,
                    data=json.dumps({"event": kind, "text": text}),
                )
            )


# ---- handoff ----------------------------------------------------------------------


def test_queue_is_scoped_and_reply_reaches_the_citizen(
    who: Dict[str, Viewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    said_at = booking.local_now() - dt.timedelta(minutes=2)
    _tracker_events(
        "citizen-a",
        [
            ("user", "cho em gặp cán bộ", said_at),
            ("bot", "Dạ, em chuyển anh/chị tới cán bộ ạ.", said_at),
            ("user", "chuyện hôm kia", said_at - dt.timedelta(days=2)),  # too old
        ],
    )
    handoff.request_handoff("citizen-a", cs.UNIT_A, "rest")
    handoff.request_handoff("citizen-b", cs.UNIT_B, "rest")
    assert [t.conversation_id for t in desk.queue(who["a"])] == ["citizen-a"]
    assert {t.conversation_id for t in desk.queue(who["admin"])} == {
        "citizen-a",
        "citizen-b",
    }
    assert desk.queue(who["other"]) == []

    async def scenario() -> None:
        async with FakeRasa() as rasa:
            monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{rasa.port}")
            monkeypatch.setenv("RASA_API_TOKEN", RASA_TOKEN)
            with pytest.raises(handoff.TicketNotFound):
                await desk.claim(who["b"], "citizen-a")
            await desk.claim(who["a"], "citizen-a")
            with pytest.raises(handoff.TicketNotFound):
                await desk.reply(who["other"], "citizen-a", "xin chào")
            await desk.reply(who["a"], "citizen-a", "Dạ, em là cán bộ trực ạ.")
            last = desk.transcript(who["a"], "citizen-a")[-1]
            assert (last.text, last.delivered) == ("Dạ, em là cán bộ trực ạ.", False)
            lines = desk.transcript(who["admin"], "citizen-a")
            assert [(line.who, line.text) for line in lines] == [
                ("citizen", "cho em gặp cán bộ"),
                ("bot", "Dạ, em chuyển anh/chị tới cán bộ ạ."),
                ("officer:canbo.a", "Dạ, em là cán bộ trực ạ."),
            ]
            await desk.release(who["a"], "citizen-a")

    asyncio.run(scenario())
    received = outbound.take_pending("rest", "citizen-a")
    assert [m["text"] for m in received] == ["Dạ, em là cán bộ trực ạ."]
    with pytest.raises(handoff.TicketNotFound):
        desk.ticket(who["a"], "citizen-b")


# ---- appointments and applications ------------------------------------------------


def test_appointments_are_scoped(who: Dict[str, Viewer]) -> None:
    now = dt.datetime(2026, 12, 1, 8, 0)
    day = dt.date(2026, 12, 2)
    slots = booking.available_slots(cs.UNIT_A, day, now=now)
    made = booking.book(
        cs.UNIT_A,
        "identity_card",
        day,
        slots[0].start,
        "Nguyễn Văn A",
        "0912000001",
        "conv-a",
        now=now,
    )
    assert [a.code for a in desk.day_view(who["a"], day)] == [made.code]
    assert desk.day_view(who["b"], day) == []
    assert [a.code for a in desk.day_view(who["admin"], day, cs.UNIT_A)] == [made.code]
    with pytest.raises(BookingNotFound):
        desk.day_view(who["b"], day, cs.UNIT_A)
    with pytest.raises(BookingNotFound):
        desk.mark_no_show(who["b"], made.code)
    with pytest.raises(BookingNotFound):
        desk.set_capacity(who["b"], cs.UNIT_A, 1)
    desk.mark_no_show(who["a"], made.code)
    assert desk.day_view(who["a"], day)[0].status == booking.NO_SHOW
    desk.set_capacity(who["admin"], cs.UNIT_A, 0)
    assert booking.available_slots(cs.UNIT_A, day, now=now) == []


def test_applications_are_scoped(who: Dict[str, Viewer]) -> None:
    code = "H35.21-261120-0001"
    with pytest.raises(ApplicationNotFound):
        desk.import_applications(
            who["b"], cs.UNIT_A, io.StringIO(CSV.format(code=code))
        )
    report = desk.import_applications(
        who["a"], cs.UNIT_A, io.StringIO(CSV.format(code=code))
    )
    assert report.ok and report.created == 1
    with pytest.raises(ApplicationNotFound):
        desk.update_application(who["b"], code, "ready", None)
    with pytest.raises(ApplicationNotFound):
        desk.update_application(who["other"], code, "ready", None)
    assert desk.update_application(who["a"], code, "ready", None).status == "ready"
    assert desk.update_application(who["admin"], code, "processing", "x").status == (
        "processing"
    )


# ---- content ----------------------------------------------------------------------


def test_published_news_is_answered_at_once_and_survives_reload(
    who: Dict[str, Viewer],
) -> None:
    with pytest.raises(desk.ContentError):
        desk.publish_news(who["b"], cs.UNIT_A, "Tiêu đề", "Tóm tắt")
    with pytest.raises(desk.ContentError):
        desk.publish_news(who["a"], cs.UNIT_A, "", "Tóm tắt")
    with pytest.raises(desk.ContentError):
        desk.publish_news(who["a"], cs.UNIT_A, "T", "S", link="javascript:alert(1)")
    title = "Cảnh báo lừa đảo mạo danh công an"
    desk.publish_news(who["a"], cs.UNIT_A, title, "Không chuyển tiền cho ai.")
    assert title in [n.title for n in knowledge.news(cs.UNIT_A, limit=20)]
    assert title not in [n.title for n in knowledge.news(cs.UNIT_B, limit=20)]
    loader.load()  # reloading knowledge/ keeps what officers published
    with db.session_scope() as session:
        assert session.execute(
            select(NewsItem.id).where(NewsItem.title == title)
        ).first()


def test_facts_with_stale_list(who: Dict[str, Viewer]) -> None:
    all_facts = desk.facts(who["a"])
    assert all_facts and all(f.legal_basis for f in all_facts)
    stale = desk.facts(who["a"], stale_only=True)
    today = booking.local_now().date()
    assert all(today - f.last_verified > desk.STALE_AFTER for f in stale)
    assert {f.id for f in stale} == {f.id for f in all_facts if f.stale}


def test_scam_alert_published_by_an_admin_is_matched_at_once(
    who: Dict[str, Viewer],
) -> None:
    alert = dict(
        title="Giả danh nhân viên điện lực dọa cắt điện",
        how_it_works="Gọi điện báo nợ tiền điện, đòi chuyển khoản ngay.",
        signs=["Dọa cắt điện trong 2 giờ", ""],
        what_to_do=["Gọi tổng đài điện lực để kiểm tra"],
        keywords=["cắt điện", "nợ tiền điện"],
        examples=["Alo bên điện lực báo nhà chị nợ tiền điện, chuyển khoản ngay"],
    )
    with pytest.raises(desk.ContentError):
        desk.publish_scam(who["a"], **alert)  # an officer, not an admin
    with pytest.raises(desk.ContentError):
        desk.publish_scam(who["admin"], **{**alert, "signs": []})
    key = desk.publish_scam(who["admin"], **alert)
    matches = knowledge.match_scam("có người gọi bảo nhà em nợ tiền điện sắp cắt điện")
    assert matches and matches[0].key == key
    with pytest.raises(desk.ContentError):
        desk.publish_scam(who["admin"], **alert)  # the same title twice
    loader.load()
    assert knowledge.match_scam("nợ tiền điện sắp bị cắt điện")[0].key == key
