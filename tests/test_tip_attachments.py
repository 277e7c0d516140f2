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
        stored = session.get(tip_attachments.TipAttachment, first)
        assert crypto.is_token(stored.name) and "hiện trường" not in stored.name
        chunks = (
            session.execute(
                select(tip_attachments.TipAttachmentChunk.data).where(
                    tip_attachments.TipAttachmentChunk.attachment_id == first
                )
            )
            .scalars()
            .all()
        )
        assert chunks and all(crypto.is_token(chunk) for chunk in chunks)
        assert not any("anh-hien-truong" in chunk for chunk in chunks)
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
    exact = bytes(range(256)) * (tip_attachments.MAX_BYTES // 256)
    added = desk.add_tip_attachment(who["a"], ref, "max.bin", exact)
    opened = desk.open_tip_attachment(who["a"], ref, added)
    assert opened.info.size == len(exact) and opened.data == exact  # chunks in order
    with db.session_scope() as session:
        count = len(
            session.execute(
                select(tip_attachments.TipAttachmentChunk.id).where(
                    tip_attachments.TipAttachmentChunk.attachment_id == added
                )
            ).all()
        )
    assert count == tip_attachments.MAX_BYTES // tip_attachments.CHUNK_BYTES


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


def test_key_rotation_reseals_attachments(who: Dict[str, Viewer]) -> None:
    ref = _tip(cs.UNIT_A)
    added = desk.add_tip_attachment(who["a"], ref, "anh.png", PNG)
    old_kid = crypto.keyring().current
    new_kid = crypto.add_key()
    assert crypto.rotate() >= 2  # the tip, its attachment (and nothing lost)
    with db.session_scope() as session:
        row = session.get(tip_attachments.TipAttachment, added)
        assert row.key_id == new_kid != old_kid
        assert crypto.key_id(row.name) == new_kid
        chunks = (
            session.execute(select(tip_attachments.TipAttachmentChunk)).scalars().all()
        )
        assert chunks and all(c.key_id == new_kid for c in chunks)
        assert all(crypto.key_id(c.data) == new_kid for c in chunks)
    assert desk.open_tip_attachment(who["a"], ref, added).data == PNG
