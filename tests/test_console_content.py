"""Content in the console (services.desk): editing, unpublishing and publishing
again news and scam alerts, editing and re-checking procedure facts; who may
change what (Viewer.edits), the audit of every change, the assistant's answers
(services.knowledge) changing at once, and `make seed` (services.loader)
keeping console edits. On SQLite and PostgreSQL."""

import datetime as dt
import shutil
from pathlib import Path
from typing import Dict, Iterator

import pytest
import yaml
from sqlalchemy import select

from services import audit, booking, db, desk, knowledge, loader, officers
from services.knowledge_models import Fact, NewsItem, ScamAlert
from services.officers import Viewer
from tests import console_support as cs

pytestmark = pytest.mark.usefixtures("crypto_keys", "privacy_restored")

SCAM = "fake_vneid_update"


@pytest.fixture
def who(database_url: str) -> Iterator[Dict[str, Viewer]]:
    cs.seed_units()
    viewers = cs.seed_officers()
    viewers["commune_admin"] = officers.add_officer(
        cs.UNIT_A, "truong.a", "admin", cs.PASSWORD
    )
    yield viewers


def _news_titles(unit: str) -> list:
    return [item.title for item in knowledge.news(unit, limit=50)]


def _yaml_news(unit: str) -> NewsItem:
    with db.session_scope() as session:
        return (
            session.execute(
                select(NewsItem).where(
                    NewsItem.unit == unit, ~NewsItem.key.like("console:%")
                )
            )
            .scalars()
            .first()
        )


def _fact(unit: str | None, procedure: str | None = None) -> Fact:
    with db.session_scope() as session:
        query = select(Fact).order_by(Fact.id)
        query = query.where(Fact.unit.is_(None) if unit is None else Fact.unit == unit)
        if procedure:
            query = query.where(Fact.procedure == procedure)
        return session.execute(query).scalars().first()


def test_one_rule_says_who_edits_what(who: Dict[str, Viewer]) -> None:
    a, admin, other = who["a"], who["admin"], who["other"]
    assert a.edits(cs.UNIT_A) and not a.edits(cs.UNIT_B)
    assert not a.edits(cs.PROVINCE) and not a.edits(None)
    assert not who["commune_admin"].edits(None)
    assert not who["commune_admin"].edits(cs.PROVINCE)
    assert admin.edits(cs.UNIT_A) and admin.edits(cs.PROVINCE) and admin.edits(None)
    assert not admin.edits(cs.OTHER_UNIT) and not other.edits(cs.UNIT_A)
    # an officer (not admin) of the province unit: province items are the admin's
    province_officer = officers.add_officer(
        cs.PROVINCE, "canbo.tinh", "officer", cs.PASSWORD
    )
    assert not province_officer.edits(cs.PROVINCE)
    with pytest.raises(desk.ContentError):
        desk.publish_news(province_officer, cs.PROVINCE, "Tin tỉnh", "Nội dung")
    assert desk.news_items(province_officer) == []
    desk.publish_news(admin, cs.PROVINCE, "Tin tỉnh", "Nội dung")
    assert "Tin tỉnh" in _news_titles(cs.UNIT_B)  # the province's, for communes


def test_news_edit_unpublish_and_publish_again(who: Dict[str, Viewer]) -> None:
    a, b, admin = who["a"], who["b"], who["admin"]
    news_id = desk.publish_news(a, cs.UNIT_A, "Lịch tiếp dân", "Thứ 5 hằng tuần.")
    assert "Lịch tiếp dân" in _news_titles(cs.UNIT_A)
    for viewer in (b, who["other"]):  # another unit's item: as if absent
        with pytest.raises(desk.ContentNotFound):
            desk.edit_news(viewer, news_id, "Bị sửa", "x", None)
        with pytest.raises(desk.ContentNotFound):
            desk.set_news_published(viewer, news_id, False)
    with pytest.raises(desk.ContentNotFound):
        desk.get_news(a, 999999)
    with pytest.raises(desk.ContentError):
        desk.edit_news(a, news_id, "Lịch tiếp dân", "x", "javascript:alert(1)")
    assert [n.id for n in desk.news_items(a)].count(news_id) == 1
    assert news_id not in [n.id for n in desk.news_items(b)]

    desk.edit_news(a, news_id, "Lịch tiếp công dân", "Sáng thứ 5 hằng tuần.", None)
    answer = " ".join(knowledge.news_answer(cs.UNIT_A, limit=50).messages)
    assert "Lịch tiếp công dân: Sáng thứ 5 hằng tuần." in answer
    assert "Lịch tiếp dân:" not in answer

    desk.set_news_published(admin, news_id, False)  # the province admin may
    assert "Lịch tiếp công dân" not in _news_titles(cs.UNIT_A)
    answer = " ".join(knowledge.news_answer(cs.UNIT_A, limit=50).messages)
    assert "Lịch tiếp công dân" not in answer
    line = desk.get_news(a, news_id)
    assert not line.published and line.from_console and line.edited_by == "canbo.a"
    loader.load()  # a re-seed neither deletes nor publishes it again
    assert not desk.get_news(a, news_id).published
    desk.set_news_published(a, news_id, True)
    assert "Lịch tiếp công dân" in _news_titles(cs.UNIT_A)

    log = audit.content_log("news", str(news_id))
    assert [(row[0], row[2]) for row in log] == [
        ("canbo.a", "publish"),
        ("canbo.a", "edit"),
        ("quantri", "unpublish"),
        ("canbo.a", "publish"),
    ]
    assert log[1][3]["title"] == ["Lịch tiếp dân", "Lịch tiếp công dân"]


def test_news_from_knowledge_keeps_console_changes_across_a_reseed(
    who: Dict[str, Viewer],
) -> None:
    a, admin = who["a"], who["admin"]
    mine = _yaml_news(cs.UNIT_A)
    province = _yaml_news(cs.PROVINCE)
    with pytest.raises(desk.ContentNotFound):  # province items: the admin's
        desk.set_news_published(a, province.id, False)
    desk.set_news_published(admin, province.id, False)
    desk.edit_news(a, mine.id, "Tin đã sửa trên bảng điều khiển", "Nội dung mới.", None)
    assert province.title not in _news_titles(cs.UNIT_A)
    report = loader.load()
    assert report.replaced_edits == []
    assert province.title not in _news_titles(cs.UNIT_A)
    assert "Tin đã sửa trên bảng điều khiển" in _news_titles(cs.UNIT_A)
    assert mine.title not in _news_titles(cs.UNIT_A)


def test_scam_alert_edit_unpublish_and_publish_again(who: Dict[str, Viewer]) -> None:
    a, admin = who["a"], who["admin"]
    with db.session_scope() as session:
        alert = session.get(ScamAlert, SCAM)
        example, title = alert.examples[0], alert.title
    assert knowledge.match_scam(example)[0].key == SCAM
    for viewer in (a, who["commune_admin"]):  # seen by all, changed by the admin
        assert SCAM in [s.key for s in desk.scam_alerts(viewer)]
        assert not desk.get_scam(viewer, SCAM).editable
        with pytest.raises(desk.NotAllowed):
            desk.set_scam_published(viewer, SCAM, False)
        with pytest.raises(desk.NotAllowed):
            desk.edit_scam(viewer, SCAM, "x", "y", ["s"], ["w"], ["k"], [])
    with pytest.raises(desk.ContentNotFound):
        desk.get_scam(admin, "no-such-scam")

    desk.set_scam_published(admin, SCAM, False)
    assert SCAM not in [m.key for m in knowledge.match_scam(example)]
    reply, _ = knowledge.scam_answer("", latest=50)
    assert title not in " ".join(reply.messages)
    loader.load()
    assert SCAM not in [m.key for m in knowledge.match_scam(example)]
    desk.set_scam_published(admin, SCAM, True)
    assert knowledge.match_scam(example)[0].key == SCAM

    current = desk.get_scam(admin, SCAM)
    desk.edit_scam(
        admin,
        SCAM,
        "Giả danh công an đòi kích hoạt VNeID qua đường link",
        current.how_it_works,
        current.signs,
        current.what_to_do + ["Báo ngay cho Công an xã, phường"],
        current.keywords,
        current.examples,
        current.source,
    )
    loader.load()  # the edit survives a re-seed
    reply, matches = knowledge.scam_answer(example)
    text = " ".join(reply.messages)
    assert matches[0].key == SCAM
    assert "Giả danh công an đòi kích hoạt VNeID qua đường link" in text
    assert "Báo ngay cho Công an xã, phường" in text
    actions = [row[2] for row in audit.content_log("scam", SCAM)]
    assert actions == ["unpublish", "publish", "edit"]


def test_fact_edit_verify_permissions_and_reseed(who: Dict[str, Viewer]) -> None:
    a, b, admin = who["a"], who["b"], who["admin"]
    national = _fact(None, "passport")
    own = _fact(cs.UNIT_A)
    province = _fact(cs.PROVINCE)
    assert own is not None and province is not None
    today = booking.local_now().date()
    fields = dict(
        text="Nộp hồ sơ hộ chiếu tại Phòng Quản lý xuất nhập cảnh (đã sửa).",
        legal_basis=national.legal_basis,
        source=national.source,
        last_verified=today,
        confidence="S",
    )
    for viewer in (a, who["commune_admin"]):  # national and province level: admin
        with pytest.raises(desk.NotAllowed):
            desk.edit_fact(viewer, national.id, **fields)
        with pytest.raises(desk.NotAllowed):
            desk.verify_fact(viewer, national.id)
    with pytest.raises(desk.ContentNotFound):  # a commune sees no province override
        desk.get_fact(a, province.id)
    with pytest.raises(desk.ContentNotFound):  # nor another commune's
        desk.verify_fact(b, own.id)
    with pytest.raises(desk.ContentNotFound):
        desk.verify_fact(who["other"], own.id)
    with pytest.raises(desk.ContentError):
        desk.edit_fact(admin, national.id, **{**fields, "confidence": "X"})
    with pytest.raises(desk.ContentError):
        desk.edit_fact(
            admin,
            national.id,
            **{**fields, "last_verified": today + dt.timedelta(days=1)},
        )
    with pytest.raises(desk.ContentError):
        desk.edit_fact(
            admin,
            national.id,
            **fields,
            valid_from=dt.date(2026, 1, 2),
            valid_until=dt.date(2026, 1, 1),
        )

    desk.edit_fact(admin, national.id, **fields)
    answer = knowledge.answer("passport", national.info_type, case=national.case)
    assert fields["text"] in " ".join(answer.messages)
    override_text = "Riêng phường: nộp tại bộ phận một cửa (đã sửa)."
    desk.edit_fact(
        a,
        own.id,
        override_text,
        own.legal_basis,
        own.source,
        own.last_verified,
        "M",
    )
    assert desk.get_fact(a, own.id).edited_by == "canbo.a"

    report = loader.load()  # `make seed` at the next start keeps both edits
    assert report.replaced_edits == []
    assert desk.get_fact(admin, national.id).text == fields["text"]
    assert desk.get_fact(a, own.id).text == override_text
    assert desk.get_fact(a, own.id).confidence == "M"
    log = audit.content_log("fact", str(national.id))
    assert [(row[0], row[2]) for row in log] == [("quantri", "edit")]
    assert log[0][3]["text"] == [national.text, fields["text"]]


def test_verified_today_leaves_the_stale_list(who: Dict[str, Viewer]) -> None:
    admin = who["admin"]
    stale = desk.facts(admin, stale_only=True)
    if not stale:  # make one stale
        fact = _fact(None)
        with db.session_scope() as session:
            session.get(Fact, fact.id).last_verified = dt.date(2020, 1, 1)
        stale = desk.facts(admin, stale_only=True)
    target = stale[0]
    assert target.stale and target.editable
    desk.verify_fact(admin, target.id)
    assert target.id not in [f.id for f in desk.facts(admin, stale_only=True)]
    today = booking.local_now().date()
    assert desk.get_fact(admin, target.id).last_verified == today
    loader.load()
    assert desk.get_fact(admin, target.id).last_verified == today
    entry = audit.content_log("fact", str(target.id))[-1]
    assert entry[2] == "verify"
    assert entry[3]["last_verified"][1] == today.isoformat()


def test_a_changed_knowledge_entry_wins_over_the_console_edit(
    who: Dict[str, Viewer], tmp_path: Path
) -> None:
    admin = who["admin"]
    knowledge_dir = tmp_path / "knowledge"
    shutil.copytree(loader.DEFAULT_KNOWLEDGE_DIR, knowledge_dir)
    path = knowledge_dir / "procedures" / "passport.yml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = _fact(None, "passport")
    with db.session_scope() as session:
        keys = [
            row.key
            for row in session.execute(
                select(Fact).where(Fact.procedure == "passport", Fact.unit.is_(None))
            ).scalars()
        ]
    assert first.key in keys
    desk.edit_fact(
        admin,
        first.id,
        "Sửa trên bảng điều khiển.",
        first.legal_basis,
        first.source,
        first.last_verified,
        first.confidence,
    )
    assert loader.load(knowledge_dir).replaced_edits == []  # file unchanged
    assert desk.get_fact(admin, first.id).text == "Sửa trên bảng điều khiển."
    content["facts"][first.position]["text"] = "Văn bản mới trong knowledge/."
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    report = loader.load(knowledge_dir)
    assert report.replaced_edits == [f"facts:{first.key} (edited by quantri)"]
    line = desk.get_fact(admin, first.id)
    assert line.text == "Văn bản mới trong knowledge/." and line.edited_by is None
