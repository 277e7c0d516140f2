"""Shared set-up of the console tests: real units from knowledge/, a second
province, officer accounts of each kind, and one record of each sort per unit."""

from __future__ import annotations

from typing import Dict

from services import db, loader, officers
from services.knowledge_models import Unit
from services.officers import Viewer

PROVINCE = "TINH-LAMDONG"
UNIT_A = "XA-XUANHUONG"
UNIT_B = "XA-CAMLY"
OTHER_PROVINCE = "TINH-KHAC"
OTHER_UNIT = "XA-KHAC"
PASSWORD = "mat-khau-rat-dai-123"


def _unit(code: str, level: str, parent: str | None) -> Unit:
    return Unit(
        code=code,
        name=f"Công an {code}",
        level=level,
        parent=parent,
        working_hours={},
        former_names=[],
        is_sample=True,
        content_hash="test",
    )


def seed_units() -> None:
    """knowledge/ loaded (Lâm Đồng and its communes) plus another province."""
    loader.load()
    with db.session_scope() as session:
        session.add(_unit(OTHER_PROVINCE, "tinh", None))
        session.flush()
        session.add(_unit(OTHER_UNIT, "xa", OTHER_PROVINCE))


def seed_officers() -> Dict[str, Viewer]:
    """officer of A, officer of B, the province admin, another province's admin."""
    return {
        "a": officers.add_officer(UNIT_A, "canbo.a", "officer", PASSWORD),
        "b": officers.add_officer(UNIT_B, "canbo.b", "officer", PASSWORD),
        "admin": officers.add_officer(PROVINCE, "quantri", "admin", PASSWORD),
        "other": officers.add_officer(
            OTHER_PROVINCE, "quantri.khac", "admin", PASSWORD
        ),
    }
