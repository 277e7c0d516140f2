"""Files officers add to a tip (a photo of the scene, a scanned statement).

Stored in the database sealed like the tip itself (services.crypto, AES-GCM,
key id on each record, re-encrypted by ``python -m services.crypto rotate``):
the name, and the bytes in sealed chunks of :data:`CHUNK_BYTES` (base64 before
sealing), so that key rotation, which re-seals records in batches of hundreds,
never holds hundreds of whole files in memory. At most :data:`MAX_BYTES` per
file. The kind of file is read from its first bytes, never from what the
browser claimed, so a file is only ever shown inline when it really is a
picture. Who may read them, and the audit of every view and download, is
services.desk's part (the tip's own scoping and access log).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import List

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.engine import Engine

from services import crypto, privacy
from services.booking import local_now
from services.db import Base, session_scope
from services.errors import ServiceError, TipNotFound

MAX_BYTES = 5 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
MAX_PER_TIP = 30
NAME_LIMIT = 200
# first bytes -> content type; only these are ever shown inline
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
OTHER_SIGNATURES = ((b"%PDF-", "application/pdf"),)
CHUNK_CONTEXT = "tips_attachment_chunks.data"  # as services.crypto.rotate seals


class BadAttachment(ServiceError):
    """An empty, too large or otherwise refused file."""


class TipAttachment(Base):
    __tablename__ = "tips_attachments"
    __encrypted__ = ("name",)

    id = Column(Integer, primary_key=True)
    tip_id = Column(
        Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False, index=True
    )
    key_id = Column(String(32), nullable=False)
    name = Column(Text, nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    added_by = Column(String(120), nullable=False)
    added_at = Column(DateTime, nullable=False)


class TipAttachmentChunk(Base):
    """One sealed piece of a file's bytes (``number`` orders them)."""

    __tablename__ = "tips_attachment_chunks"
    __encrypted__ = ("data",)

    id = Column(Integer, primary_key=True)
    attachment_id = Column(
        Integer,
        ForeignKey("tips_attachments.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    number = Column(Integer, nullable=False)
    key_id = Column(String(32), nullable=False)
    data = Column(Text, nullable=False)


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    name: str
    content_type: str
    size: int
    added_by: str
    added_at: dt.datetime

    @property
    def image(self) -> bool:
        return self.content_type in {kind for _, kind in IMAGE_SIGNATURES}


@dataclass(frozen=True)
class AttachmentFile:
    info: AttachmentInfo
    data: bytes


def sniff(data: bytes) -> str:
    """The content type from the file's first bytes (else octet-stream)."""
    for signature, kind in IMAGE_SIGNATURES + OTHER_SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def clean_name(name: str | None) -> str:
    """A file name without any path, control characters or quotes."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"<>')
    return name.strip()[:NAME_LIMIT] or "tep-dinh-kem"


def _info(row: TipAttachment) -> AttachmentInfo:
    return AttachmentInfo(
        int(row.id),
        crypto.decrypt(row.name, "tips_attachments.name"),
        row.content_type,
        int(row.size),
        row.added_by,
        row.added_at,
    )


def add(
    tip_id: int,
    officer: str,
    name: str | None,
    data: bytes,
    now: dt.datetime | None = None,
    bind: Engine | None = None,
) -> int:
    """Seal and store a file of a tip; its id."""
    if not data:
        raise BadAttachment("empty file")
    if len(data) > MAX_BYTES:
        raise BadAttachment(f"file larger than {MAX_BYTES // (1024 * 1024)} MB")
    name = clean_name(name)
    privacy.register(name)
    with session_scope(bind) as session:
        count = len(
            session.execute(
                select(TipAttachment.id).where(TipAttachment.tip_id == tip_id)
            ).all()
        )
        if count >= MAX_PER_TIP:
            raise BadAttachment(f"at most {MAX_PER_TIP} files per tip")
        kid = crypto.keyring().current
        row = TipAttachment(
            tip_id=tip_id,
            key_id=kid,
            name=crypto.encrypt(name, "tips_attachments.name"),
            content_type=sniff(data),
            size=len(data),
            added_by=officer[:120],
            added_at=now or local_now(),
        )
        session.add(row)
        session.flush()
        for number, start in enumerate(range(0, len(data), CHUNK_BYTES)):
            piece = base64.b64encode(data[start : start + CHUNK_BYTES]).decode()
            session.add(
                TipAttachmentChunk(
                    attachment_id=row.id,
                    number=number,
                    key_id=kid,
                    data=crypto.encrypt(piece, CHUNK_CONTEXT),
                )
            )
        return int(row.id)


def list_for(tip_id: int, bind: Engine | None = None) -> List[AttachmentInfo]:
    """The files of a tip, oldest first (names decrypted, contents not read)."""
    with session_scope(bind) as session:
        rows = session.execute(
            select(TipAttachment)
            .where(TipAttachment.tip_id == tip_id)
            .order_by(TipAttachment.id)
        ).scalars()
        return [_info(row) for row in rows]


def read(tip_id: int, attachment_id: int, bind: Engine | None = None) -> AttachmentFile:
    """One file of this tip, decrypted; a file of another tip is not found."""
    with session_scope(bind) as session:
        row = session.get(TipAttachment, int(attachment_id))
        if row is None or row.tip_id != tip_id:
            raise TipNotFound()
        chunks = session.execute(
            select(TipAttachmentChunk.data)
            .where(TipAttachmentChunk.attachment_id == row.id)
            .order_by(TipAttachmentChunk.number)
        ).scalars()
        data = b"".join(
            base64.b64decode(crypto.decrypt(chunk, CHUNK_CONTEXT)) for chunk in chunks
        )
        if len(data) != row.size:
            raise ServiceError("attachment damaged: size differs")
        return AttachmentFile(_info(row), data)
