"""Checks on the editable content in knowledge/ (plain YAML, no services).

Content is written by hand; these checks catch the mistakes a content editor
makes (a missing info type, an unpaired time-limited fee, a date typed wrong,
an unverified fact phrased as certain, a unit pointing at no province) before
the assistant quotes them to a citizen.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
import yaml

from services.procedures import PROCEDURES as ALL_PROCEDURES

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"

PROCEDURES = list(ALL_PROCEDURES)
INFO_TYPES = {
    "documents",
    "fee",
    "duration",
    "place",
    "online",
    "form",
    "eligibility",
    "penalty",
}
FACT_KEYS = {
    "info_type",
    "case",
    "text",
    "legal_basis",
    "source",
    "last_verified",
    "confidence",
    "valid_from",
    "valid_until",
}
CONFIDENCE = {"S", "M", "U"}
# Words that state certainty; a fact marked U must not use them.
ABSOLUTE_WORDS = ["chắc chắn", "khẳng định", "100%", "tuyệt đối", "luôn luôn"]
# The end of the 50 % fee reduction and the first day of the base fee.
REDUCTION_END = dt.date(2026, 12, 31)
MAX_FACT_CHARS = 600
# Form codes a `form` fact may name (the forms layer links them).
FORM_CODE = re.compile(r"\b(CT0[1-8]|CC01|DC02|TK01a?|TK02|ĐKX)\b")
# A Vietnamese phone number (mobile or landline) anywhere in citizen text: the
# content must not carry invented numbers; short service numbers are fine.
PHONE_LIKE = re.compile(r"(\+84|\b0)\d[\d .]{7,12}\d\b")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def load(path: Path) -> Dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), f"{path}: expected a mapping"
    return data


def as_date(value: Any, where: str) -> dt.date | None:
    """A YAML date (parsed or quoted ISO text) or None; fails on anything else."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        pytest.fail(f"{where}: {value!r} has a time, expected a date")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pytest.fail(f"{where}: {value!r} is not a YYYY-MM-DD date")
    pytest.fail(f"{where}: {value!r} is not a date")


def fold(text: str) -> str:
    """Lower case without diacritics, for comparing place names."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", plain.lower()).strip()


# ---------------------------------------------------------------- procedures


@pytest.fixture(scope="module", params=PROCEDURES)
def procedure(request: pytest.FixtureRequest) -> Dict[str, Any]:
    path = KNOWLEDGE / "procedures" / f"{request.param}.yml"
    assert path.is_file(), f"missing {path}"
    data = load(path)
    data["_stem"] = request.param
    return data


def test_no_stray_procedure_files() -> None:
    stems = {p.stem for p in (KNOWLEDGE / "procedures").glob("*.yml")}
    assert stems == set(PROCEDURES)


def test_procedure_header(procedure: Dict[str, Any]) -> None:
    assert procedure["procedure"] == procedure["_stem"]
    assert isinstance(procedure["title"], str) and procedure["title"].strip()
    assert len(procedure["title"]) <= 60
    assert isinstance(procedure["summary"], str) and procedure["summary"].strip()
    cases = procedure.get("cases") or {}
    assert isinstance(cases, dict)
    for key, label in cases.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", key), key
        assert isinstance(label, str) and label.strip()


def test_facts_well_formed(procedure: Dict[str, Any]) -> None:
    cases = set((procedure.get("cases") or {}).keys())
    facts = procedure["facts"]
    assert isinstance(facts, list) and facts
    today = dt.date.today()
    for number, fact in enumerate(facts):
        where = f"{procedure['_stem']} fact {number}"
        assert set(fact) == FACT_KEYS, f"{where}: keys {sorted(fact)}"
        assert fact["info_type"] in INFO_TYPES, where
        assert fact["case"] is None or fact["case"] in cases, where
        assert fact["confidence"] in CONFIDENCE, where
        for key in ("text", "legal_basis", "source"):
            assert isinstance(fact[key], str) and fact[key].strip(), f"{where}: {key}"
        assert len(fact["text"]) <= MAX_FACT_CHARS, f"{where}: text too long"
        assert not PHONE_LIKE.search(fact["text"]), f"{where}: phone number"
        verified = as_date(fact["last_verified"], where)
        assert verified is not None and verified <= today, where
        start = as_date(fact["valid_from"], where)
        end = as_date(fact["valid_until"], where)
        if start and end:
            assert start <= end, where


def test_every_info_type_covered(procedure: Dict[str, Any]) -> None:
    present = {fact["info_type"] for fact in procedure["facts"]}
    assert present == INFO_TYPES, f"missing {sorted(INFO_TYPES - present)}"


def test_time_limited_facts_come_in_pairs(procedure: Dict[str, Any]) -> None:
    """A fact ending on day D has a successor starting on D + 1 for the same
    info type and case, and the other way round, so no day is left unanswered."""
    facts = procedure["facts"]
    for fact in facts:
        end = as_date(fact["valid_until"], procedure["_stem"])
        start = as_date(fact["valid_from"], procedure["_stem"])
        same = [
            other
            for other in facts
            if other["info_type"] == fact["info_type"] and other["case"] == fact["case"]
        ]
        if end is not None:
            successors = [
                o
                for o in same
                if as_date(o["valid_from"], "") == end + dt.timedelta(days=1)
            ]
            assert successors, f"no fact after {end}: {fact['text'][:60]}"
        if start is not None:
            predecessors = [
                o
                for o in same
                if as_date(o["valid_until"], "") == start - dt.timedelta(days=1)
            ]
            assert predecessors, f"no fact before {start}: {fact['text'][:60]}"


def test_reduced_fees_end_with_2026() -> None:
    """The 50 % reduction (căn cước, hộ chiếu) ends on 31/12/2026 and the base
    fee starts on 01/01/2027; both procedures carry such a pair."""
    for stem in ("identity_card", "passport"):
        facts = load(KNOWLEDGE / "procedures" / f"{stem}.yml")["facts"]
        fees = [f for f in facts if f["info_type"] == "fee"]
        reduced = [f for f in fees if as_date(f["valid_until"], stem) == REDUCTION_END]
        base = [
            f
            for f in fees
            if as_date(f["valid_from"], stem) == REDUCTION_END + dt.timedelta(days=1)
        ]
        assert reduced and base, stem
        for fact in reduced:
            assert "31/12/2026" in fact["text"], fact["text"]


def test_unverified_facts_do_not_claim_certainty(procedure: Dict[str, Any]) -> None:
    for fact in procedure["facts"]:
        if fact["confidence"] != "U":
            continue
        lowered = fact["text"].lower()
        for word in ABSOLUTE_WORDS:
            assert word not in lowered, f"U fact says {word!r}: {fact['text'][:80]}"


def test_form_facts_name_a_form_or_say_none(procedure: Dict[str, Any]) -> None:
    for fact in procedure["facts"]:
        if fact["info_type"] != "form":
            continue
        text = fact["text"]
        lowered = text.lower()
        named = FORM_CODE.search(text)
        assert named or "không có mẫu" in lowered or "chưa có mã mẫu" in lowered, text


def test_residence_forms_name_ct01() -> None:
    for stem in (
        "temporary_residence",
        "temporary_absence",
        "permanent_residence",
        "residence_confirmation",
    ):
        facts = load(KNOWLEDGE / "procedures" / f"{stem}.yml")["facts"]
        texts = " ".join(f["text"] for f in facts if f["info_type"] == "form")
        assert "CT01" in texts, stem


def test_household_book() -> None:
    data = load(KNOWLEDGE / "household_book.yml")
    for key in ("text", "legal_basis", "source"):
        assert isinstance(data[key], str) and data[key].strip(), key
    assert data["confidence"] in CONFIDENCE
    assert as_date(data["last_verified"], "household_book") is not None
    text = data["text"]
    for needed in ("01/01/2023", "VNeID", "CT07"):
        assert needed in text, needed
    assert len(text) <= 900


# --------------------------------------------------------------------- units


@pytest.fixture(scope="module")
def units_file() -> Dict[str, Any]:
    return load(KNOWLEDGE / "units.yml")


def test_units_are_sample_of_one_province(units_file: Dict[str, Any]) -> None:
    assert units_file["sample"] is True
    province = units_file["province"]
    assert province["code"] and province["name"]
    units = units_file["units"]
    codes = [unit["code"] for unit in units]
    assert len(codes) == len(set(codes)), "duplicate unit codes"
    top = [unit for unit in units if unit["level"] == "tinh"]
    assert [unit["code"] for unit in top] == [province["code"]]
    assert top[0]["parent"] is None
    communes = [unit for unit in units if unit["level"] == "xa"]
    assert len(communes) >= 12
    assert len(top) + len(communes) == len(units), "level must be tinh or xa"
    for unit in communes:
        assert unit["parent"] == province["code"], unit["code"]


def test_unit_fields(units_file: Dict[str, Any]) -> None:
    for unit in units_file["units"]:
        code = unit["code"]
        assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)+", code), code
        assert unit["name"].startswith("Công an "), code
        assert unit["address"].strip(), code
        # sample data: no invented phone numbers, OA ids or map links
        for key in ("phone", "hotline", "zalo_oa_id", "map_link"):
            assert unit[key] is None, f"{code}: {key}"
        assert unit["working_hours_text"].strip(), code
        assert isinstance(unit["former_names"], list), code
        if unit["level"] == "xa":
            assert unit["former_names"], code


def test_working_hours_well_formed(units_file: Dict[str, Any]) -> None:
    for unit in units_file["units"]:
        hours = unit["working_hours"]
        assert set(hours) <= set(WEEKDAYS), unit["code"]
        assert {"mon", "tue", "wed", "thu", "fri"} <= set(hours), unit["code"]
        for day, spans in hours.items():
            previous_end = "00:00"
            for span in spans:
                assert len(span) == 2, (unit["code"], day)
                start, end = span
                assert HHMM.match(start) and HHMM.match(end), (unit["code"], day)
                assert previous_end <= start < end, (unit["code"], day, span)
                previous_end = end


def test_unit_overrides(units_file: Dict[str, Any]) -> None:
    count = 0
    for unit in units_file["units"]:
        for override in unit["overrides"]:
            count += 1
            assert set(override) == {
                "procedure",
                "info_type",
                "text",
                "legal_basis",
                "last_verified",
            }
            assert override["procedure"] in PROCEDURES
            assert override["info_type"] in INFO_TYPES
            assert override["text"].strip() and override["legal_basis"].strip()
            assert as_date(override["last_verified"], unit["code"]) is not None
    assert count >= 1


def test_former_names_match_underthesea(units_file: Dict[str, Any]) -> None:
    """Each commune's former names are exactly the pre-merger units that
    underthesea's bundled mapping folds into it (01/07/2025)."""
    import underthesea.address as address

    mapping_path = Path(address.__file__).parent / "data" / "mapping.json"
    records = json.loads(mapping_path.read_text(encoding="utf-8"))["ward_mapping"]
    province_name = fold(units_file["province"]["name"])
    former: Dict[str, Set[str]] = {}
    for record in records:
        if fold(record["new_province"]).endswith(province_name):
            new = fold(record["new_ward"])
            former.setdefault(new, set()).add(fold(record["old_ward"]))
    for unit in units_file["units"]:
        if unit["level"] != "xa":
            continue
        name = fold(unit["name"].removeprefix("Công an "))
        assert name in former, f"{unit['code']}: {name} is not a post-merger unit"
        mine = {fold(old) for old in unit["former_names"]}
        assert mine == former[name], unit["code"]


# ---------------------------------------------------------------------- news


def test_news_items(units_file: Dict[str, Any]) -> None:
    data = load(KNOWLEDGE / "news.yml")
    assert data["sample"] is True
    codes = {unit["code"] for unit in units_file["units"]}
    codes.add(units_file["province"]["code"])
    items: List[Dict[str, Any]] = data["news"]
    assert 8 <= len(items) <= 15
    titles = [item["title"] for item in items]
    assert len(titles) == len(set(titles))
    for item in items:
        assert set(item) == {"unit", "title", "summary", "link", "published_at"}
        assert item["unit"] in codes, item["unit"]
        assert item["title"].strip() and item["summary"].strip()
        assert len(item["summary"]) <= 600
        assert item["link"] is None or item["link"].startswith("https://")
        published = as_date(item["published_at"], item["title"])
        assert published is not None and published <= dt.date.today()
        assert not PHONE_LIKE.search(item["summary"]), item["title"]


# --------------------------------------------------------------------- scams


@pytest.fixture(scope="module")
def scams_file() -> Dict[str, Any]:
    return load(KNOWLEDGE / "scams.yml")


def test_scam_general_advice(scams_file: Dict[str, Any]) -> None:
    always = scams_file["always"]
    assert "OTP" in always and "không" in always.lower()
    steps = scams_file["what_to_do_now"]
    assert isinstance(steps, list) and len(steps) >= 3
    joined = " ".join(steps)
    for number in ("113", "156", "5656"):
        assert number in joined, number


def test_scams(scams_file: Dict[str, Any]) -> None:
    scams = scams_file["scams"]
    keys = [scam["key"] for scam in scams]
    assert len(keys) == len(set(keys))
    assert len(scams) >= 13
    required = {
        "key",
        "title",
        "how_it_works",
        "signs",
        "what_to_do",
        "examples",
        "keywords",
        "legal_basis",
        "source",
        "last_verified",
        "published_at",
    }
    for scam in scams:
        assert set(scam) == required, scam.get("key")
        assert re.fullmatch(r"[a-z][a-z0-9_]*", scam["key"])
        assert scam["title"].strip() and scam["how_it_works"].strip()
        for key in ("signs", "what_to_do", "keywords"):
            assert isinstance(scam[key], list) and scam[key], (scam["key"], key)
            assert all(isinstance(x, str) and x.strip() for x in scam[key])
        examples = scam["examples"]
        assert 5 <= len(examples) <= 8, scam["key"]
        assert len(set(examples)) == len(examples), scam["key"]
        # varied: at least one example typed without diacritics
        assert any(ex == fold_keep_case(ex) for ex in examples), scam["key"]
        assert scam["legal_basis"] is None or scam["legal_basis"].strip()
        assert scam["source"].strip()
        assert as_date(scam["last_verified"], scam["key"]) is not None
        assert as_date(scam["published_at"], scam["key"]) is not None


def fold_keep_case(text: str) -> str:
    """The text with its Vietnamese diacritics removed (case kept)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def test_scam_examples_are_not_shared(scams_file: Dict[str, Any]) -> None:
    seen: Dict[str, str] = {}
    for scam in scams_file["scams"]:
        for example in scam["examples"]:
            key = fold(example)
            assert key not in seen, f"{example!r} in {seen.get(key)} and {scam['key']}"
            seen[key] = scam["key"]


def test_required_scam_topics(scams_file: Dict[str, Any]) -> None:
    text = fold(json.dumps(scams_file["scams"], ensure_ascii=False, default=str))
    for cue in (
        "tai khoan an toan",
        "vneid",
        "viec nhe luong cao",
        "lay lai tien",
        "muon tien",
        "phat nguoi",
        "deepfake",
        "dien luc",
        "otp",
        "shipper",
        "cap cuu",
        "tien ao",
        "vay",
    ):
        assert cue in text, cue
