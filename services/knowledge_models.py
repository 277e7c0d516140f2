"""Tables of the knowledge content (loaded from knowledge/ by services.loader).

Every row carries a natural key (a code, or a key the loader derives from the
YAML), so the loader can compare the database with the files and touch only
the rows that changed. ``content_hash`` is a digest of the row's content as
last loaded from knowledge/: equal hashes mean nothing to update. An edit made
in the officers' console changes the row but not its hash (and sets
``edited_by``/``edited_at``), so a re-load leaves the edit alone until the
entry in knowledge/ itself changes. ``withdrawn_at`` set: a news item or scam
alert unpublished in the console (the assistant does not use it).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)

from services.db import Base


class Unit(Base):
    """A police unit of the two-level structure (province, commune/ward)."""

    __tablename__ = "units"

    code = Column(String(40), primary_key=True)
    name = Column(String(200), nullable=False)
    level = Column(String(8), nullable=False)  # tinh | xa
    parent = Column(String(40), nullable=True)  # province unit code
    address = Column(Text, nullable=True)
    phone = Column(String(40), nullable=True)
    hotline = Column(String(40), nullable=True)
    working_hours = Column(JSON, nullable=False)  # {"mon": [["07:30","11:30"]]}
    working_hours_text = Column(Text, nullable=True)
    zalo_oa_id = Column(String(64), nullable=True)
    map_link = Column(Text, nullable=True)
    is_sample = Column(Boolean, nullable=False, default=False)
    former_names = Column(JSON, nullable=False)  # ["phường Dĩ An", ...]
    content_hash = Column(String(64), nullable=False)


class Procedure(Base):
    """An administrative procedure (the ``procedure`` entity value is its code)."""

    __tablename__ = "procedures"

    code = Column(String(40), primary_key=True)
    title = Column(String(200), nullable=False)
    summary = Column(Text, nullable=False)
    cases = Column(JSON, nullable=False)  # {"extension": "Gia hạn tạm trú"}
    content_hash = Column(String(64), nullable=False)


class Fact(Base):
    """One answerable fact: national (unit null) or a unit's override."""

    __tablename__ = "facts"

    id = Column(Integer, primary_key=True, autoincrement=True)
    # procedure:unit-or-*:info_type:case-or--:n (n counts within that group)
    key = Column(String(200), nullable=False, unique=True)
    procedure = Column(
        String(40), ForeignKey("procedures.code"), nullable=False, index=True
    )
    info_type = Column(String(20), nullable=False)
    case = Column("case_key", String(40), nullable=True)  # "case" is reserved in SQL
    text = Column(Text, nullable=False)
    legal_basis = Column(Text, nullable=False)
    source = Column(Text, nullable=True)
    last_verified = Column(Date, nullable=False)
    confidence = Column(String(1), nullable=False)  # S | M | U
    valid_from = Column(Date, nullable=True)
    valid_until = Column(Date, nullable=True)
    unit = Column(String(40), ForeignKey("units.code"), nullable=True, index=True)
    # for unit overrides: "replace" the national facts of the same
    # (info_type, case) or "add" to them; null for national facts
    mode = Column(String(8), nullable=True)
    position = Column(Integer, nullable=False)  # order in the YAML file
    content_hash = Column(String(64), nullable=False)
    edited_by = Column(String(64), nullable=True)  # console edit: who
    edited_at = Column(DateTime, nullable=True)  # console edit: when


class Form(Base):
    """A form citizens fill (the PDF itself is built by services.forms)."""

    __tablename__ = "forms"

    code = Column(String(20), primary_key=True)
    title = Column(String(300), nullable=False)
    procedures = Column(JSON, nullable=False)  # ["temporary_residence", ...]
    file = Column(String(200), nullable=True)
    official_link = Column(Text, nullable=True)
    version = Column(String(200), nullable=True)
    legal_basis = Column(Text, nullable=True)
    last_verified = Column(Date, nullable=True)
    content_hash = Column(String(64), nullable=False)


class NewsItem(Base):
    """An announcement of a unit (or of its province)."""

    __tablename__ = "news_items"

    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(64), nullable=False, unique=True)  # digest of unit+title
    unit = Column(String(40), ForeignKey("units.code"), nullable=False, index=True)
    title = Column(String(300), nullable=False)
    summary = Column(Text, nullable=False)
    link = Column(Text, nullable=True)
    published_at = Column(Date, nullable=False)
    content_hash = Column(String(64), nullable=False)
    edited_by = Column(String(64), nullable=True)  # console edit: who
    edited_at = Column(DateTime, nullable=True)  # console edit: when
    withdrawn_at = Column(DateTime, nullable=True)  # unpublished in the console
    withdrawn_by = Column(String(64), nullable=True)


class ScamAlert(Base):
    """A scam pattern of the catalogue, with the examples matching is scored on."""

    __tablename__ = "scam_alerts"

    key = Column(String(60), primary_key=True)
    title = Column(String(300), nullable=False)
    how_it_works = Column(Text, nullable=False)
    signs = Column(JSON, nullable=False)
    what_to_do = Column(JSON, nullable=False)
    examples = Column(JSON, nullable=False)
    keywords = Column(JSON, nullable=False)
    published_at = Column(Date, nullable=True)
    source = Column(Text, nullable=True)
    legal_basis = Column(Text, nullable=True)
    last_verified = Column(Date, nullable=True)
    content_hash = Column(String(64), nullable=False)
    edited_by = Column(String(64), nullable=True)  # console edit: who
    edited_at = Column(DateTime, nullable=True)  # console edit: when
    withdrawn_at = Column(DateTime, nullable=True)  # unpublished in the console
    withdrawn_by = Column(String(64), nullable=True)


class KnowledgeNote(Base):
    """A standalone text of the content: the "sổ hộ khẩu" explanation, the scam
    catalogue's general warning and first steps."""

    __tablename__ = "knowledge_notes"

    key = Column(String(60), primary_key=True)
    text = Column(Text, nullable=False)
    legal_basis = Column(Text, nullable=True)
    source = Column(Text, nullable=True)
    last_verified = Column(Date, nullable=True)
    confidence = Column(String(1), nullable=True)
    content_hash = Column(String(64), nullable=False)
