"""Police units: look-up by code, the province of a unit, and finding a unit
from the commune/ward name a citizen types.

Citizens write "phuong di an", "P. Dĩ An", "xa tan uyen cu", or the name of
their commune before the 2025 merger. Names are compared on the folded form
(vietnamese.text.fold: normalised, teencode expanded, no diacritics) with the
administrative prefix ("công an", "phường", "xã", "p.", "tt" ...) taken off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, List, Tuple

from sqlalchemy.engine import Engine

from services import db
from services.knowledge_models import Unit
from vietnamese.text import fold

# Folded words that say what kind of unit a name is; taken off before comparing.
_PREFIXES: Tuple[Tuple[str, ...], ...] = (
    ("cong", "an"),
    ("thanh", "pho"),
    ("thi", "tran"),
    ("thi", "xa"),
    ("dac", "khu"),
    ("phuong",),
    ("xa",),
    ("tinh",),
    ("tp",),
    ("tt",),
    ("p",),
    ("x",),
)
# Words around a name that do not belong to it ("em ở xã Tân Uyên cũ ạ").
_LEADING_NOISE = {"em", "toi", "minh", "o", "oi", "ad", "dang", "song", "tai"}
_TRAILING_NOISE = {"cu", "moi", "a", "nha", "nhe", "oi", "ad", "ha", "vay", "nhen"}
_KIND_WORDS = {"phuong": "phuong", "p": "phuong", "xa": "xa", "x": "xa"}


@dataclass(frozen=True)
class UnitInfo:
    """A police unit as answers and bookings need it."""

    code: str
    name: str
    level: str  # tinh | xa
    parent: str | None
    address: str | None
    phone: str | None
    hotline: str | None
    working_hours: Dict[str, List[Tuple[dt.time, dt.time]]]
    working_hours_text: str | None
    zalo_oa_id: str | None
    map_link: str | None
    is_sample: bool
    former_names: Tuple[str, ...]


def _hours(raw: Dict[str, List[List[str]]]) -> Dict[str, List[Tuple[dt.time, dt.time]]]:
    return {
        day: [(dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in spans]
        for day, spans in (raw or {}).items()
    }


def _info(row: Unit) -> UnitInfo:
    return UnitInfo(
        code=row.code,
        name=row.name,
        level=row.level,
        parent=row.parent,
        address=row.address,
        phone=row.phone,
        hotline=row.hotline,
        working_hours=_hours(row.working_hours),
        working_hours_text=row.working_hours_text,
        zalo_oa_id=row.zalo_oa_id,
        map_link=row.map_link,
        is_sample=bool(row.is_sample),
        former_names=tuple(row.former_names or ()),
    )


def all_units(bind: Engine | None = None) -> List[UnitInfo]:
    with db.session_scope(bind) as session:
        return [_info(row) for row in session.query(Unit).order_by(Unit.code)]


def get_unit(code: str | None, bind: Engine | None = None) -> UnitInfo | None:
    """The unit with this code (case-insensitive), or None."""
    if not code:
        return None
    with db.session_scope(bind) as session:
        row = session.get(Unit, code.strip().upper())
        return _info(row) if row is not None else None


def province_of(code: str | None, bind: Engine | None = None) -> UnitInfo | None:
    """The province unit a unit belongs to (a province is its own province)."""
    unit = get_unit(code, bind)
    if unit is None:
        return None
    if unit.level == "tinh" or unit.parent is None:
        return unit
    return get_unit(unit.parent, bind)


def _words(text: str) -> List[str]:
    return fold(text).lower().replace("-", " ").split()


def _core(words: List[str]) -> Tuple[Tuple[str, ...], str | None]:
    """The name without its administrative prefix, and the kind it said
    (phuong/xa) if any: "cong an phuong di an" -> (("di", "an"), "phuong")."""
    kind: str | None = None
    changed = True
    while changed and words:
        changed = False
        for prefix in _PREFIXES:
            if tuple(words[: len(prefix)]) == prefix and len(words) > len(prefix):
                if len(prefix) == 1 and prefix[0] in _KIND_WORDS:
                    kind = _KIND_WORDS[prefix[0]]
                words = words[len(prefix) :]
                changed = True
                break
    return tuple(words), kind


def _names(unit: UnitInfo) -> List[Tuple[Tuple[str, ...], str | None, bool]]:
    """(core, kind, is_current) for the unit's name and its former names."""
    names = [(*_core(_words(unit.name)), True)]
    names += [(*_core(_words(name)), False) for name in unit.former_names]
    return [name for name in names if name[0]]


def _contains(words: Tuple[str, ...], part: Tuple[str, ...]) -> bool:
    size = len(part)
    return any(words[i : i + size] == part for i in range(len(words) - size + 1))


def resolve_location(text: str, bind: Engine | None = None) -> List[UnitInfo]:
    """Candidate units for a commune/ward/province name as typed, best first.

    A unit code ("XA-DIAN", as button payloads send it) resolves to that unit.
    A full old address ("Phường 1, TP Đà Lạt, Lâm Đồng") is converted to its
    post-2025 ward by underthesea first, which settles names that several
    districts had. An exact name (current or former) wins over a name merely
    contained in the message; several candidates mean the citizen must choose.
    """
    if not text or not text.strip():
        return []
    units = all_units(bind)
    code = text.strip().upper()
    for unit in units:
        if unit.code == code:
            return [unit]
    if "," in text:
        ward = _converted_ward(text)
        found = _match(units, ward) if ward else []
        if len(found) == 1:
            return found
        for part in text.split(","):  # the most specific part first
            found = _match(units, part)
            if found:
                return found
    return _match(units, text)


def _converted_ward(address: str) -> str | None:
    """The post-merger ward of a pre-2025 address, per underthesea's mapping."""
    try:
        from underthesea.address import convert_address

        result = convert_address(address)
    except Exception:  # an address it cannot read is simply not converted
        return None
    ward = getattr(getattr(result, "new", None), "ward", None)
    return str(ward) if ward else None


def _match(units: List[UnitInfo], text: str) -> List[UnitInfo]:
    words = _words(text)
    while len(words) > 1 and words[0] in _LEADING_NOISE:
        words = words[1:]
    while len(words) > 1 and words[-1] in _TRAILING_NOISE:
        words = words[:-1]
    query, kind = _core(words)
    if not query:
        return []
    found = _candidates(units, query, kind) or (
        _candidates(units, query, None) if kind else []
    )
    best_rank = found[0][0] if found else None
    # one current name beats former names that are the same words
    if best_rank in (0, 2) and sum(1 for r, _ in found if r == best_rank) == 1:
        return [found[0][1]]
    return [unit for _, unit in found]


def _candidates(
    units: List[UnitInfo], query: Tuple[str, ...], kind: str | None
) -> List[Tuple[int, UnitInfo]]:
    """(rank, unit) of units named by ``query``: 0 current name, 1 former name,
    +2 when the name is only contained in a longer message."""
    exact: List[Tuple[int, UnitInfo]] = []
    contained: List[Tuple[int, UnitInfo]] = []
    for unit in units:
        best: Tuple[int, bool] | None = None
        for core, name_kind, current in _names(unit):
            if kind and name_kind and kind != name_kind:
                continue
            rank = 0 if current else 1
            if core == query or "".join(core) == "".join(query):  # "blao", "B'Lao"
                best = min(best or (9, True), (rank, True))
            elif len(core) >= 2 and _contains(query, core):
                best = min(best or (9, True), (rank + 2, False))
            elif len(query) >= 2 and core[: len(query)] == query:
                # "phường Lâm Viên" for "phường Lâm Viên - Đà Lạt"
                best = min(best or (9, True), (rank + 2, False))
        if best is not None:
            (exact if best[1] else contained).append((best[0], unit))
    found = exact or contained
    found.sort(key=lambda item: (item[0], item[1].code))
    return found
