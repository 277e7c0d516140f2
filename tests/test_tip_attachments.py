"""Officers' files on a tip (services.tip_attachments through services.desk):
encrypted at rest, only for viewers of the tip, size-limited, every addition,
view and download in the tip's access log. On SQLite and PostgreSQL."""

from typing import Dict, Iterator

import pytest
from sqlalchemy import select

from services import crypto, db, desk, tip_attachments, tips
from services.errors import TipNotFound
from services.officers import Viewer
from tests import console_support as cs

pytestmark = pytest.mark.usefixtures("crypto_keys", "privacy_restored")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"anh-hien-truong"


@pytest.fixture
def who(database_url: str) -> Iterator[Dict[str, Viewer]]:
    cs.seed_units()
    yield cs.seed_officers()


def _tip(unit: str) -> str:
    return tips.file_tip(unit, "Trộm xe máy ở chợ", None, None, None, None, "c-att")


def test_attachments_are_scoped_encrypted_and_audited(
    who: Dict[str, Viewer],
) -> None:
    ref = _tip(cs.UNIT_A)
    tip_id = tips.ids_of([ref])[0]
    for viewer in (who["b"], who["other"]):
        with pytest.raises(TipNotFound):
            desk.add_tip_attachment(viewer, ref, "x.png", PNG)
    first = desk.add_tip_attachment(who["a"], ref, "../../etc/ảnh hiện trường.png", PNG)
    second = desk.add_tip_attachment(who["admin"], str(tip_id), "bien-ban.txt", b"abc")
    listed = desk.tip_attachments_of(who["a"], ref)
    assert [(f.id, f.name, f.image) for f in listed] == [
        (first, "ảnh hiện trường.png", True),
        (second, "bien-ban.txt", False),
    ]
    assert listed[1].content_type == "application/octet-stream"
    with db.session_scope() as session:
        stored = session.execute(
            select(tip_attachments.TipAttachment).where(
                tip_attachments.TipAttachment.id == first
            )
        ).scalar_one()
        assert crypto.is_token(stored.data) and crypto.is_token(stored.name)
        assert b"anh-hien-truong" not in stored.data.encode()
        assert "hiện trường" not in stored.name
    opened = desk.open_tip_attachment(who["admin"], ref, first, inline=True)
    assert opened.data == PNG and opened.info.content_type == "image/png"
    assert desk.open_tip_attachment(who["a"], ref, second).data == b"abc"
    # another unit, another province, a file of another tip: not found
    for viewer in (who["b"], who["other"]):
        with pytest.raises(TipNotFound):
            desk.open_tip_attachment(viewer, ref, first)
        with pytest.raises(TipNotFound):
            desk.tip_attachments_of(viewer, ref)
    ref_b = _tip(cs.UNIT_B)
    with pytest.raises(TipNotFound):  # a visible tip, another tip's file id
        desk.open_tip_attachment(who["b"], ref_b, first)
    log = [row[:3] for row in tips.access_log(tip_id)]
    assert ("canbo.a", cs.UNIT_A, f"attachment:add:{first}") in log
    assert ("quantri", cs.PROVINCE, f"attachment:add:{second}") in log
    assert ("quantri", cs.PROVINCE, f"attachment:view:{first}") in log
    assert ("canbo.a", cs.UNIT_A, f"attachment:download:{second}") in log
    assert not any(row[0] in ("canbo.b", "quantri.khac") for row in log)


def test_attachment_size_and_empty_files_are_refused(who: Dict[str, Viewer]) -> None:
    ref = _tip(cs.UNIT_A)
    with pytest.raises(tip_attachments.BadAttachment):
        desk.add_tip_attachment(who["a"], ref, "empty.bin", b"")
    too_big = b"x" * (tip_attachments.MAX_BYTES + 1)
    with pytest.raises(tip_attachments.BadAttachment):
        desk.add_tip_attachment(who["a"], ref, "big.bin", too_big)
    exact = b"x" * tip_attachments.MAX_BYTES
    added = desk.add_tip_attachment(who["a"], ref, "max.bin", exact)
    assert desk.open_tip_attachment(who["a"], ref, added).info.size == len(exact)


def test_kind_is_read_from_the_bytes_not_the_name() -> None:
    assert tip_attachments.sniff(PNG) == "image/png"
    assert tip_attachments.sniff(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert tip_attachments.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert tip_attachments.sniff(b"%PDF-1.7") == "application/pdf"
    assert tip_attachments.sniff(b"<svg onload=alert(1)>") == (
        "application/octet-stream"
    )
    assert tip_attachments.clean_name('a/b\\c"<x>.png') == "cx.png"
    assert tip_attachments.clean_name("") == "tep-dinh-kem"
