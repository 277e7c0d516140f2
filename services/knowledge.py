"""Answers from the knowledge tables: procedures, contacts, news, scams.

Plain Python (no Rasa): the actions call these and only add buttons. Every
procedure answer ends with its legal basis ("Căn cứ: ..."), shows only the
facts valid on ``today`` (so the 50 % fee reduction gives way to the base fee
on 01/01/2027 without an edit), lets a unit's overrides replace or add to the
national facts, and is cut into phone-sized messages.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence, Set, Tuple

from sqlalchemy.engine import Engine

from services import content, db, menu
from services.knowledge_models import (
    Fact,
    KnowledgeNote,
    NewsItem,
    Procedure,
    ScamAlert,
)
from services.loader import (
    INFO_TYPES,
    NOTE_HOUSEHOLD_BOOK,
    NOTE_SCAM_ALWAYS,
    NOTE_SCAM_FIRST_STEPS,
)
from services.procedures import INTENT_BY_PROCEDURE
from services.units import UnitInfo, get_unit, province_of
from vietnamese.text import fold

MAX_MESSAGE_CHARS = 700
_WORD = re.compile(r"\w+")

# Button titles for each kind of question.
INFO_LABELS: Dict[str, str] = {
    "documents": "Hồ sơ, giấy tờ",
    "fee": "Lệ phí",
    "duration": "Thời gian giải quyết",
    "place": "Nơi nộp",
    "online": "Làm trực tuyến",
    "form": "Biểu mẫu",
    "eligibility": "Ai phải làm",
    "penalty": "Mức xử phạt",
}
# How an answer introduces each kind: "Dạ, lệ phí của thủ tục ...:"
_INFO_PHRASES: Dict[str, str] = {
    "documents": "hồ sơ, giấy tờ cần chuẩn bị",
    "fee": "lệ phí",
    "duration": "thời gian giải quyết",
    "place": "nơi nộp hồ sơ",
    "online": "cách làm trực tuyến",
    "form": "biểu mẫu",
    "eligibility": "người phải (hoặc được) thực hiện",
    "penalty": "mức xử phạt",
}
INFO_PHRASES = _INFO_PHRASES  # what each info_type is called in a sentence
UNVERIFIED_CAVEAT = (
    "Thông tin này cần được xác nhận lại, vui lòng kiểm tra lại tại Công an "
    "xã/phường hoặc Cổng Dịch vụ công."
)
# Only if the scam catalogue was never loaded: the one sentence never left out.
POLICE_NEVER_ASK_FALLBACK = (
    "Công an không bao giờ gọi điện, nhắn tin yêu cầu chuyển tiền, cung cấp mã "
    "OTP hay cài ứng dụng."
)
_WEEKDAY_NAMES = {
    "mon": "Thứ Hai",
    "tue": "Thứ Ba",
    "wed": "Thứ Tư",
    "thu": "Thứ Năm",
    "fri": "Thứ Sáu",
    "sat": "Thứ Bảy",
    "sun": "Chủ nhật",
}


@dataclass
class Answer:
    """What to tell the citizen, ready for the actions to send."""

    messages: List[str]
    found: bool = True
    procedure: str | None = None
    title: str | None = None
    legal_basis: str | None = None  # the "Căn cứ: ..." line, also in messages
    info_types: List[str] = field(default_factory=list)  # offer as buttons


# ---- splitting into phone-sized messages -------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+")


def _pieces(paragraph: str, limit: int) -> List[str]:
    """A paragraph cut on sentence boundaries (words, as a last resort)."""
    if len(paragraph) <= limit:
        return [paragraph]
    out: List[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > limit:  # one very long sentence: cut between words
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > limit:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        out.append(current)
    return out


def split_messages(
    paragraphs: Iterable[str], limit: int = MAX_MESSAGE_CHARS
) -> List[str]:
    """Paragraphs packed into messages of at most ``limit`` characters, cut only
    between paragraphs or sentences."""
    messages: List[str] = []
    current = ""
    for paragraph in paragraphs:
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        for piece in _pieces(paragraph, limit):
            if current and len(current) + 2 + len(piece) > limit:
                messages.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        messages.append(current)
    return messages


def legal_basis_line(bases: Iterable[str | None]) -> str | None:
    """ "Căn cứ: A; B" from the facts' bases, each instrument once."""
    seen: List[str] = []
    instruments: Set[str] = set()
    for basis in bases:
        for part in (basis or "").split(";"):
            part = part.strip().rstrip(".")
            # "TT 73/2024 (sửa bởi ...)" and "TT 73/2024 (cũ)" name one instrument
            instrument = re.sub(r"\s*\([^)]*\)", "", part).strip().casefold()
            if part and instrument not in instruments:
                instruments.add(instrument)
                seen.append(part)
    # "Luật Cư trú 2020" says less than "Luật Cư trú 2020, Điều 25": drop it
    keys = [re.sub(r"\s*\([^)]*\)", "", part).casefold() for part in seen]
    seen = [
        part
        for part, key in zip(seen, keys, strict=True)
        if not any(other.startswith(key + ",") for other in keys)
    ]
    return f"Căn cứ: {'; '.join(seen)}." if seen else None


# ---- procedures ------------------------------------------------------------------


def _valid(fact: Fact, today: dt.date) -> bool:
    return (fact.valid_from is None or fact.valid_from <= today) and (
        fact.valid_until is None or today <= fact.valid_until
    )


def _today(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def info_types_for(
    procedure: str, today: dt.date | None = None, bind: Engine | None = None
) -> List[str]:
    """The kinds of question this procedure has an answer for today."""
    day = _today(today)
    with db.session_scope(bind) as session:
        present = {
            fact.info_type
            for fact in session.query(Fact).filter(
                Fact.procedure == procedure, Fact.unit.is_(None)
            )
            if _valid(fact, day)
        }
    return [kind for kind in INFO_TYPES if kind in present]


def procedure_title(procedure: str, bind: Engine | None = None) -> str | None:
    with db.session_scope(bind) as session:
        row = session.get(Procedure, procedure)
        return row.title if row is not None else None


def _pairs(text: str) -> Set[Tuple[str, str]]:
    words = _WORD.findall(fold(text).lower())
    return set(zip(words, words[1:], strict=False))


def _words(text: str) -> str:
    """Folded words separated by single spaces (punctuation dropped)."""
    return " ".join(re.findall(r"\w+", fold(text)))


@functools.cache
def _info_cues() -> List[Tuple[str, str, int]]:
    """(kind, folded phrase, order) from knowledge/info_cues.yml."""
    cues = content.load("info_cues")
    return [
        (kind, _words(str(phrase)), order)
        for order, (kind, phrases) in enumerate(cues.items())
        for phrase in phrases
    ]


def detect_info_type(text: str) -> str | None:
    """The kind of answer a message asks for, from knowledge/info_cues.yml: for
    messages where the NLU found no info_type entity. The longest cue wins."""
    folded = f" {_words(text or '')} "
    best: Tuple[int, int] | None = None
    kind_found: str | None = None
    for kind, phrase, order in _info_cues():
        if phrase and f" {phrase} " in folded:
            rank = (-len(phrase.split()), order)
            if best is None or rank < best:
                best, kind_found = rank, kind
    return kind_found


def detect_case(procedure: str, text: str, bind: Engine | None = None) -> str | None:
    """The sub-case a message names ("gia hạn tạm trú" -> extension), if any.

    Each case label is compared by its syllable pairs (folded), leaving out
    the pairs of the procedure's own title; the case sharing the most pairs
    with the message wins, and a tie means no case was named.
    """
    with db.session_scope(bind) as session:
        row = session.get(Procedure, procedure)
        if row is None:
            return None
        cases, title = dict(row.cases or {}), row.title
    said = _pairs(text) - _pairs(title)
    scores = sorted(
        ((len(said & _pairs(label)), key) for key, label in cases.items()),
        reverse=True,
    )
    if not scores or scores[0][0] == 0:
        return None
    if len(scores) > 1 and scores[1][0] == scores[0][0]:
        return None
    return scores[0][1]


def _fact_text(fact: Fact, cases: Dict[str, str], show_case: bool) -> str:
    if show_case and fact.case and fact.case in cases:
        return f"{cases[fact.case]}: {fact.text}"
    return str(fact.text)


def answer(
    procedure: str,
    info_type: str | None = None,
    unit: str | None = None,
    case: str | None = None,
    today: dt.date | None = None,
    bind: Engine | None = None,
) -> Answer:
    """The answer to "<info_type> of <procedure>" for a citizen of ``unit``
    (None: national facts only), as valid on ``today``."""
    day = _today(today)
    # the unit's own overrides and its province's (which hold for every commune)
    local_units = _local_units(unit, bind)
    with db.session_scope(bind) as session:
        row = session.get(Procedure, procedure)
        if row is None:
            return Answer(
                messages=[
                    f"Dạ, em chưa có thông tin về thủ tục {_label(procedure)}. "
                    "Anh/chị vui lòng hỏi Công an xã/phường hoặc tra cứu trên Cổng "
                    "Dịch vụ công ạ."
                ],
                found=False,
                procedure=procedure,
            )
        title, summary, cases = row.title, row.summary, dict(row.cases or {})
        facts = [
            fact
            for fact in session.query(Fact)
            .filter(Fact.procedure == procedure)
            .order_by(Fact.position)
            if _valid(fact, day) and (fact.unit is None or fact.unit in local_units)
        ]
        session.expunge_all()
    available = [kind for kind in INFO_TYPES if any(f.info_type == kind for f in facts)]
    if info_type is None or info_type not in INFO_TYPES:
        text = f"Dạ, {title}: {summary}"
        prompt = "Anh/chị muốn biết thêm về nội dung nào ạ?"
        return Answer(
            messages=split_messages([text, prompt]),
            procedure=procedure,
            title=title,
            info_types=available,
        )
    chosen = _choose(facts, info_type, case)
    if not chosen:
        return Answer(
            messages=[
                f"Dạ, em chưa có thông tin về {_INFO_PHRASES[info_type]} của thủ tục "
                f"{title}. Anh/chị vui lòng hỏi Công an xã/phường hoặc Cổng Dịch vụ "
                "công ạ."
            ],
            found=False,
            procedure=procedure,
            title=title,
            info_types=available,
        )
    paragraphs = [f"Dạ, {_INFO_PHRASES[info_type]} của thủ tục {title}:"]
    show_case = case is None and len({f.case for f in chosen}) > 1
    for fact in chosen:
        text = _fact_text(fact, cases, show_case)
        if fact.unit and fact.mode != "replace":
            text = f"Riêng tại {local_units[fact.unit]}: {text}"
        paragraphs.append(text)
    if any(fact.confidence == "U" for fact in chosen):
        paragraphs.append(UNVERIFIED_CAVEAT)
    basis = legal_basis_line(fact.legal_basis for fact in chosen)
    if basis:
        paragraphs.append(basis)
    return Answer(
        messages=split_messages(paragraphs),
        procedure=procedure,
        title=title,
        legal_basis=basis,
        info_types=available,
    )


def _label(procedure: str) -> str:
    """The procedure's menu label ("Hộ chiếu"), when there is no content yet."""
    intent = INTENT_BY_PROCEDURE.get(procedure)
    return menu.label(intent) if intent else procedure


def _choose(facts: Sequence[Fact], info_type: str, case: str | None) -> List[Fact]:
    """National facts of the kind (of the case when one is asked and known),
    with the unit's overrides replacing or following them."""

    def of_case(group: List[Fact]) -> List[Fact]:
        if case is None:
            return sorted(group, key=lambda f: (f.case is not None, f.position))
        specific = [f for f in group if f.case == case]
        general = [f for f in group if f.case is None]
        return specific or general or sorted(group, key=lambda f: f.position)

    national = of_case(
        [f for f in facts if f.unit is None and f.info_type == info_type]
    )
    local = of_case([f for f in facts if f.unit and f.info_type == info_type])
    for override in local:
        if override.mode == "replace":
            national = [
                f
                for f in national
                if override.case is not None and f.case != override.case
            ]
    return national + local


def _local_units(code: str | None, bind: Engine | None) -> Dict[str, str]:
    """Code -> name of the unit and of its province (province first)."""
    unit = get_unit(code, bind) if code else None
    if unit is None:
        return {}
    province = province_of(unit.code, bind)
    names = {province.code: province.name} if province is not None else {}
    names[unit.code] = unit.name
    return names


def _polite(text: str) -> str:
    """ "Dạ, " before a text that does not start with it ("Từ ..." -> "Dạ, từ ...";
    names such as "VNeID" keep their capitals)."""
    text = text.strip()
    if fold(text[:3]).lower().startswith("da"):
        return text
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return f"Dạ, {text}"


# ---- sổ hộ khẩu -----------------------------------------------------------------

_HOUSEHOLD_BOOK = re.compile(r"\bso ho khau\b|\bshk\b")


def mentions_household_book(text: str) -> bool:
    """ "sổ hộ khẩu", "so ho khau", "SHK" in any spelling."""
    return bool(_HOUSEHOLD_BOOK.search(fold(text or "").lower()))


def household_book(bind: Engine | None = None) -> Answer:
    """Why the paper book ended on 01/01/2023 and what replaces it."""
    with db.session_scope(bind) as session:
        note = session.get(KnowledgeNote, NOTE_HOUSEHOLD_BOOK)
        if note is None:
            return Answer(
                messages=[
                    "Dạ, sổ hộ khẩu giấy không còn được sử dụng. Anh/chị hỏi Công "
                    "an xã/phường về cách chứng minh nơi cư trú ạ."
                ],
                found=False,
            )
        text, basis, confidence = note.text, note.legal_basis, note.confidence
    paragraphs = [_polite(text)]
    if confidence == "U":
        paragraphs.append(UNVERIFIED_CAVEAT)
    line = legal_basis_line([basis])
    if line:
        paragraphs.append(line)
    return Answer(messages=split_messages(paragraphs), legal_basis=line)


# ---- contacts and news ---------------------------------------------------------------


def hours_text(unit: UnitInfo) -> str:
    """The unit's hours as citizens read them (its own text when it has one)."""
    if unit.working_hours_text:
        return unit.working_hours_text
    parts = []
    for day, name in _WEEKDAY_NAMES.items():
        spans = unit.working_hours.get(day)
        if spans:
            times = ", ".join(
                f"{a.strftime('%H:%M')}–{b.strftime('%H:%M')}" for a, b in spans
            )
            parts.append(f"{name}: {times}")
    return "; ".join(parts) if parts else "chưa cập nhật"


def contact(unit: str, bind: Engine | None = None) -> Answer:
    """Address, phone, hours and map link of a unit; never an invented number."""
    info = get_unit(unit, bind)
    if info is None:
        return Answer(
            messages=[
                "Dạ, em chưa có thông tin liên hệ của đơn vị này. Khi khẩn cấp, "
                "anh/chị gọi ngay 113 ạ."
            ],
            found=False,
        )
    lines = [f"Dạ, thông tin liên hệ của {info.name}:"]
    lines.append(f"📍 Địa chỉ: {info.address or 'đang cập nhật'}")
    phone = info.phone or "đang cập nhật"
    lines.append(f"☎️ Điện thoại: {phone}")
    if info.hotline:
        lines.append(f"Đường dây nóng: {info.hotline}")
    lines.append(f"🕒 Giờ làm việc: {hours_text(info)}")
    if info.map_link:
        lines.append(f"🗺️ Bản đồ: {info.map_link}")
    if info.is_sample:
        lines.append("(Thông tin mẫu, đơn vị đang cập nhật.)")
    lines.append("Khi khẩn cấp, anh/chị gọi ngay 113.")
    return Answer(messages=split_messages(["\n".join(lines)]))


@dataclass(frozen=True)
class NewsView:
    unit: str
    title: str
    summary: str
    link: str | None
    published_at: dt.date


def news(unit: str, limit: int = 5, bind: Engine | None = None) -> List[NewsView]:
    """The latest items of the unit and of its province, newest first."""
    codes = {unit.upper()}
    province = province_of(unit, bind)
    if province is not None:
        codes.add(province.code)
    with db.session_scope(bind) as session:
        rows = (
            session.query(NewsItem)
            .filter(NewsItem.unit.in_(sorted(codes)), NewsItem.withdrawn_at.is_(None))
            .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
            .limit(limit)
            .all()
        )
        return [
            NewsView(r.unit, r.title, r.summary, r.link, r.published_at) for r in rows
        ]


def news_answer(unit: str, limit: int = 5, bind: Engine | None = None) -> Answer:
    info = get_unit(unit, bind)
    name = info.name if info else "đơn vị"
    items = news(unit, limit, bind)
    if not items:
        return Answer(messages=[f"Dạ, hiện {name} chưa có tin mới ạ."], found=False)
    province = province_of(unit, bind)
    whose = (
        name
        if province is None or province.code == unit.upper()
        else (f"{name} và {province.name}")
    )
    paragraphs = [f"Dạ, tin mới nhất của {whose}:"]
    for item in items:
        line = f"• {item.published_at:%d/%m/%Y} – {item.title}: {item.summary}"
        if item.link:
            line += f" ({item.link})"
        paragraphs.append(line)
    return Answer(messages=split_messages(paragraphs))


# ---- scams ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScamMatch:
    key: str
    title: str
    score: float


MIN_SCAM_SCORE = 0.2
# Folded function words: alone they say nothing about a scam (pairs keep them:
# "bao chuyen" still counts).
# fmt: off
_STOP_WORDS = frozenset({
    "a", "ai", "anh", "bao", "cai", "chi", "cho", "co", "cua", "da", "de", "den",
    "di", "do", "duoc", "em", "gi", "ho", "hoi", "khong", "la", "lam", "ma", "minh",
    "nay", "nguoi", "nhu", "noi", "qua", "roi", "the", "thi", "toi", "va", "vay",
    "voi",
})
# fmt: on
_KEYWORD_BONUS = 0.12


def _features(text: str) -> List[str]:
    """Folded syllables and syllable pairs: "tài khoản an toàn" reads like
    "tai khoan an toan" and "tk an toan" (teencode)."""
    words = _WORD.findall(fold(text).lower())
    return [w for w in words if w not in _STOP_WORDS] + [
        f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)
    ]


@dataclass
class _ScamIndex:
    alerts: List[ScamAlert]
    vectors: List[Dict[str, float]]
    idf: Dict[str, float]
    keywords: List[List[str]]


def _vector(counts: Counter, idf: Dict[str, float]) -> Dict[str, float]:
    vector = {t: (1 + math.log(c)) * idf.get(t, 0.0) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {t: v / norm for t, v in vector.items() if v}


def _index(alerts: List[ScamAlert]) -> _ScamIndex:
    """TF-IDF over one document per scam (title, keywords twice, examples,
    signs); a term every scam shares weighs nothing."""
    documents: List[Counter] = []
    for alert in alerts:
        text = " . ".join(
            [alert.title]
            + list(alert.keywords) * 2
            + list(alert.examples)
            + list(alert.signs)
        )
        documents.append(Counter(_features(text)))
    total = len(documents)
    frequency: Counter = Counter()
    for document in documents:
        frequency.update(set(document))
    idf = {t: math.log((1 + total) / (1 + df)) + 0.1 for t, df in frequency.items()}
    # a term in every document tells scams apart not at all
    idf = {
        t: (0.0 if frequency[t] == total and total > 1 else w) for t, w in idf.items()
    }
    return _ScamIndex(
        alerts=alerts,
        vectors=[_vector(doc, idf) for doc in documents],
        idf=idf,
        keywords=[
            [" ".join(re.findall(r"\w+", fold(k).lower())) for k in alert.keywords]
            for alert in alerts
        ],
    )


def match_scam(text: str, bind: Engine | None = None) -> List[ScamMatch]:
    """Scams the description resembles, best first (empty: nothing close).

    Score: cosine similarity of TF-IDF vectors (folded syllables and pairs)
    plus a bonus per catalogue keyword phrase found whole in the message.
    """
    if not text or not text.strip():
        return []
    with db.session_scope(bind) as session:
        alerts = (
            session.query(ScamAlert)
            .filter(ScamAlert.withdrawn_at.is_(None))  # unpublished in the console
            .order_by(ScamAlert.key)
            .all()
        )
        session.expunge_all()
    if not alerts:
        return []
    index = _index(alerts)
    query = _vector(Counter(_features(text)), index.idf)
    folded = " " + " ".join(_WORD.findall(fold(text).lower())) + " "
    matches = []
    for alert, vector, keywords in zip(
        index.alerts, index.vectors, index.keywords, strict=True
    ):
        cosine = sum(weight * vector.get(term, 0.0) for term, weight in query.items())
        hits = sum(1 for k in keywords if k and f" {k} " in folded)
        score = cosine + _KEYWORD_BONUS * min(hits, 3)
        if score >= MIN_SCAM_SCORE:
            matches.append(ScamMatch(alert.key, alert.title, round(score, 4)))
    matches.sort(key=lambda m: -m.score)
    if matches:  # keep only those near the best
        best = matches[0].score
        matches = [m for m in matches if m.score >= best * 0.6]
    return matches


def _note(key: str, bind: Engine | None) -> str | None:
    with db.session_scope(bind) as session:
        row = session.get(KnowledgeNote, key)
        return row.text if row is not None else None


def scam_answer(
    text: str, bind: Engine | None = None, latest: int = 3
) -> Tuple[Answer, List[ScamMatch]]:
    """The reply to a scam description: the pattern, its signs, what to do now,
    and always that the police never ask for money over the phone."""
    matches = match_scam(text, bind)
    always = _note(NOTE_SCAM_ALWAYS, bind) or POLICE_NEVER_ASK_FALLBACK
    steps = _note(NOTE_SCAM_FIRST_STEPS, bind)
    first_steps = (
        "Các bước cần làm:\n" + "\n".join(f"• {s}" for s in steps.splitlines())
        if steps
        else None
    )
    paragraphs: List[str] = []
    if matches:
        with db.session_scope(bind) as session:
            alert = session.get(ScamAlert, matches[0].key)
            title, how = alert.title, alert.how_it_works
            signs, todo = list(alert.signs), list(alert.what_to_do)
        paragraphs.append(
            f"Dạ, tình huống anh/chị kể rất giống thủ đoạn lừa đảo: {title}. {how}"
        )
        paragraphs.append("Dấu hiệu nhận biết:\n" + "\n".join(f"• {s}" for s in signs))
        paragraphs.append("Anh/chị nên làm ngay:\n" + "\n".join(f"• {s}" for s in todo))
        paragraphs.append(f"⚠️ {always}")
        if first_steps:
            paragraphs.append(first_steps)
    else:
        paragraphs.append(
            "Dạ, em chưa nhận ra thủ đoạn cụ thể trong tình huống anh/chị kể. "
            "Anh/chị lưu ý các điểm sau:"
        )
        paragraphs.append(f"⚠️ {always}")
        if first_steps:
            paragraphs.append(first_steps)
        with db.session_scope(bind) as session:
            recent = (
                session.query(ScamAlert)
                .filter(ScamAlert.withdrawn_at.is_(None))
                .order_by(ScamAlert.published_at.desc(), ScamAlert.key)
                .limit(latest)
                .all()
            )
            titles = [row.title for row in recent]
        if titles:
            paragraphs.append(
                "Các thủ đoạn đang được cảnh báo gần đây:\n"
                + "\n".join(f"• {t}" for t in titles)
            )
    return Answer(messages=split_messages(paragraphs), found=bool(matches)), matches
