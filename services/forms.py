"""Forms citizens fill: the catalogue in knowledge/forms.yml, rendered as PDFs.

The catalogue is validated with pydantic (a bad entry stops loading with a message
naming the file, the entry and the field). Each form is drawn from its field list
with fpdf2 and the DejaVu Sans font that matplotlib (installed with Rasa) ships,
embedded so Vietnamese renders on every reader. PDFs are generated on demand into
``var/forms/`` under a name keyed on a hash of the form's entry and of this
generator, so an edit to either produces a new file; writes are atomic.

Plain Python: no Rasa imports (the Sanic route is in ``connectors/forms.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import string
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Literal, Sequence, Tuple

import fpdf
import yaml
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from pydantic import (
    BaseModel,
    Field,
    HttpUrl,
    ValidationError,
    root_validator,
    validator,
)

ROOT = Path(__file__).resolve().parent.parent
FORMS_FILE = ROOT / "knowledge" / "forms.yml"
CACHE_DIR = ROOT / "var" / "forms"
DEFAULT_PUBLIC_URL = "http://localhost:5005"
# URL path under which connectors/forms.py serves the files.
URL_PATH = "/forms"

# Values of the `procedure` entity (shared/interfaces.md §1).
Procedure = Literal[
    "temporary_residence",
    "temporary_absence",
    "permanent_residence",
    "residence_confirmation",
    "accommodation_notice",
    "identity_card",
    "electronic_id",
    "vehicle_registration",
    "passport",
    "weapons_declaration",
    "security_permit",
    "complaint",
    "crime_report",
]
PROCEDURES: Tuple[str, ...] = Procedure.__args__  # type: ignore[attr-defined]

# A file name a client may ask for: letters, digits and hyphens, then ".pdf".
FILE_NAME = re.compile(r"^([A-Za-z0-9-]{1,64})\.pdf$", re.IGNORECASE)


class FormsError(ValueError):
    """knowledge/forms.yml is missing or invalid; the message says where."""


# ---- text folding -------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without diacritics ("Đăng ký" -> "dang ky"), for matching
    what citizens type with or without accents."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return stripped.lower()


def code_key(code: str) -> str:
    """The comparison key of a form code: "CT 01", "ct01", "Ct-01" -> "ct01"."""
    return re.sub(r"[^a-z0-9]", "", fold(code))


def slug(code: str) -> str:
    """The file-name stem of a form code: "ĐKX" -> "dkx", "TK01a" -> "tk01a"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(code)).strip("-")


# ---- the catalogue schema ---------------------------------------------------------

Confidence = Literal["S", "M", "U"]
# A code: letters (Vietnamese too), digits, inner hyphens.
CODE_PATTERN = r"^[^\W_](?:[\w-]{0,30}[^\W_])?$"


class _Strict(BaseModel):
    class Config:
        extra = "forbid"
        allow_mutation = False
        anystr_strip_whitespace = True
        min_anystr_length = 1  # no empty strings anywhere


class FormField(_Strict):
    """One entry of a form: what the PDF draws and the citizen fills."""

    label: str = Field(..., max_length=200)
    kind: Literal["section", "text", "date", "checkbox", "multiline", "table"]
    hint: str | None = None
    options: List[str] = []
    lines: int | None = Field(None, ge=1, le=20)
    columns: List[str] = []
    rows: int | None = Field(None, ge=1, le=20)

    @root_validator(skip_on_failure=True)
    def _attributes_fit_kind(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        kind = values["kind"]
        if kind == "checkbox" and len(values["options"]) < 2:
            raise ValueError("a checkbox field needs at least two options")
        if kind != "checkbox" and values["options"]:
            raise ValueError(f"a {kind} field has no options (only checkbox has)")
        if kind == "table" and not 1 <= len(values["columns"]) <= 8:
            raise ValueError("a table field needs 1 to 8 columns")
        if kind != "table" and (values["columns"] or values["rows"]):
            raise ValueError(f"a {kind} field has no columns/rows (only table has)")
        if kind != "multiline" and values["lines"]:
            raise ValueError(f"a {kind} field has no lines (only multiline has)")
        return values


class Signature(_Strict):
    label: str
    hint: str | None = None


class FormInfo(_Strict):
    """A form a citizen fills (one entry of ``forms:``)."""

    code: str = Field(..., regex=CODE_PATTERN)
    title: str = Field(..., max_length=120)
    short_title: str = Field(..., max_length=35)
    purpose: str = Field(..., max_length=600)
    procedures: List[Procedure] = Field(..., min_items=1)
    official: bool
    official_link: HttpUrl | None
    version: str
    legal_basis: str
    source: str
    last_verified: dt.date
    confidence: Confidence
    aliases: List[str] = []
    note: str | None = None
    photo: bool = False
    addressee: str | None = None
    fields: List[FormField] = Field(..., min_items=1)
    declaration: str | None = None
    signatures: List[Signature] = Field(..., min_items=1, max_items=4)

    @validator("title", "short_title", "purpose", "note", "declaration")
    def _nfc(cls, value: str | None) -> str | None:
        return unicodedata.normalize("NFC", value) if value else value

    @root_validator(skip_on_failure=True)
    def _official_needs_link(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["official"] and not values["official_link"]:
            raise ValueError("an official form needs its official_link")
        return values

    @property
    def file_name(self) -> str:
        return f"{slug(self.code)}.pdf"


class PoliceDocument(_Strict):
    """A paper the police issue (CT07): citizens request it, never fill it."""

    code: str = Field(..., regex=CODE_PATTERN)
    title: str
    purpose: str
    how_to_request: str
    request_with: str
    procedures: List[Procedure] = Field(..., min_items=1)
    version: str
    legal_basis: str
    source: str
    last_verified: dt.date
    confidence: Confidence


class NoFormNote(_Strict):
    """What to say for a procedure that has no form to send."""

    text: str
    legal_basis: str


class MenuButton(_Strict):
    """A procedure offered when the citizen has not said which form."""

    title: str = Field(..., max_length=35)
    procedure: Procedure


# The placeholders each reply may use (actions/forms.py supplies them).
REPLY_PLACEHOLDERS: Dict[str, frozenset[str]] = {
    "send": frozenset({"code", "title"}),
    "send_unofficial": frozenset({"title"}),
    "download": frozenset({"url"}),
    "official": frozenset({"link"}),
    "basis": frozenset({"legal_basis"}),
    "unverified": frozenset(),
    "choose": frozenset({"procedure", "count"}),
    "ask_procedure": frozenset(),
    "police_issued": frozenset({"code", "title", "purpose"}),
    "none": frozenset({"procedure"}),
}


class Replies(_Strict):
    """What the assistant says around a form; ``{name}`` placeholders are
    filled by actions/forms.py (only those of REPLY_PLACEHOLDERS)."""

    send: str
    send_unofficial: str
    download: str
    official: str
    basis: str
    unverified: str
    choose: str
    ask_procedure: str
    police_issued: str
    none: str

    @validator("*")
    def _known_placeholders(cls, value: str, field: Any) -> str:
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        except ValueError as error:
            raise ValueError(f"not a valid template ({error})") from None
        unknown = used - REPLY_PLACEHOLDERS[field.name]
        if unknown:
            allowed = ", ".join(sorted(REPLY_PLACEHOLDERS[field.name])) or "none"
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)}; allowed: {allowed}"
            )
        return value


class _FormsFile(_Strict):
    forms: List[FormInfo] = Field(..., min_items=1)
    issued_by_police: List[PoliceDocument] = []
    no_form: Dict[Procedure, NoFormNote] = {}
    ask_menu: List[MenuButton] = Field(..., min_items=1, max_items=5)
    replies: Replies

    @root_validator(skip_on_failure=True)
    def _consistent(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        seen: Dict[str, str] = {}
        for entry in [*values["forms"], *values["issued_by_police"]]:
            key = code_key(entry.code)
            if key in seen:
                raise ValueError(f"codes {seen[key]!r} and {entry.code!r} collide")
            seen[key] = entry.code
        fillable = {code_key(form.code) for form in values["forms"]}
        for document in values["issued_by_police"]:
            if code_key(document.request_with) not in fillable:
                raise ValueError(
                    f"{document.code}: request_with {document.request_with!r} "
                    "is not a form of this file"
                )
        with_forms = {p for form in values["forms"] for p in form.procedures}
        for procedure in values["no_form"]:
            if procedure in with_forms:
                raise ValueError(f"no_form.{procedure}: that procedure has forms")
        for button in values["ask_menu"]:
            if button.procedure not in with_forms:
                raise ValueError(f"ask_menu: {button.procedure} has no form")
        return values


def _where(raw: Any, loc: Sequence[Any]) -> str:
    """A readable location for a pydantic error: ``forms[3] (ĐKX) > fields[2]
    ("5. Nội dung đề nghị") > options``, using the raw data for names."""
    parts: List[str] = []
    node = raw
    for step in loc:
        if step == "__root__":
            continue
        if isinstance(step, int) and parts:
            parts[-1] += f"[{step}]"
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(step, int) and isinstance(node, dict):
            name = node.get("code") or node.get("label")
            if name:
                parts[-1] += f" ({name})"
    return " > ".join(parts) or "top level"


def parse(raw: Any, source: str) -> _FormsFile:
    """Validate the catalogue's raw YAML data; errors name ``source`` and where."""
    if not isinstance(raw, dict):
        raise FormsError(f"{source}: expected a mapping with a 'forms' list")
    try:
        return _FormsFile.parse_obj(raw)
    except ValidationError as error:
        problems = [
            f"{source}: {_where(raw, item['loc'])}: {item['msg']}"
            for item in error.errors()
        ]
        raise FormsError("\n".join(problems)) from None


# ---- the catalogue ------------------------------------------------------------------


class FormCatalogue:
    """The forms of one forms.yml, and the PDFs generated from them."""

    def __init__(self, path: Path = FORMS_FILE, cache_dir: Path = CACHE_DIR) -> None:
        self.path = Path(path)
        self.cache_dir = Path(cache_dir)
        try:
            raw = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise FormsError(f"{self.path}: {error}") from error
        data = parse(raw, str(self.path))
        self.forms: List[FormInfo] = list(data.forms)
        self.police_documents: List[PoliceDocument] = list(data.issued_by_police)
        self.no_form: Dict[str, NoFormNote] = {
            str(key): note for key, note in data.no_form.items()
        }
        self.ask_menu: List[MenuButton] = list(data.ask_menu)
        self.replies: Replies = data.replies
        self._by_key = {code_key(form.code): form for form in self.forms}
        self._by_slug = {slug(form.code): form for form in self.forms}
        self._documents = {code_key(d.code): d for d in self.police_documents}
        entries: List[FormInfo | PoliceDocument] = [*self.forms]
        entries += self.police_documents
        self._patterns = [(entry.code, _mention_pattern(entry)) for entry in entries]
        self._lock = threading.Lock()

    def get_form(self, code: str) -> FormInfo | None:
        return self._by_key.get(code_key(code))

    def get_police_document(self, code: str) -> PoliceDocument | None:
        return self._documents.get(code_key(code))

    def forms_for(self, procedure: str) -> List[FormInfo]:
        return [form for form in self.forms if procedure in form.procedures]

    def by_file_name(self, name: str) -> FormInfo | None:
        """The form served as ``name`` ("ct01.pdf", any case), or None for
        anything that is not exactly a known form's file name."""
        match = FILE_NAME.match(name)
        if not match:
            return None
        return self._by_slug.get(match.group(1).lower())

    def mentioned(self, text: str) -> List[str]:
        """Codes of forms and police documents named in ``text``, in order of
        appearance ("cho xin mau ct 01" -> ["CT01"])."""
        folded = fold(text)
        found: List[Tuple[int, str]] = []
        for code, pattern in self._patterns:
            match = pattern.search(folded)
            if match:
                found.append((match.start(), code))
        return [code for _, code in sorted(found)]

    def pdf_path(self, code: str) -> Path:
        """The PDF of a form, generated if this version of it is not on disk."""
        form = self.get_form(code)
        if form is None:
            raise KeyError(f"unknown form code: {code!r}")
        stem = slug(form.code)
        target = self.cache_dir / f"{stem}-{_version_hash(form)}.pdf"
        if target.exists():
            return target
        with self._lock:
            if target.exists():
                return target
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            data = render_pdf(form)
            handle, temporary = tempfile.mkstemp(
                dir=self.cache_dir, prefix=f".{stem}-", suffix=".tmp"
            )
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            stale = re.compile(rf"^{re.escape(stem)}-[0-9a-f]{{16}}\.pdf$")
            for old in self.cache_dir.iterdir():
                if old != target and stale.match(old.name):
                    old.unlink(missing_ok=True)
        return target


def _mention_pattern(entry: FormInfo | PoliceDocument) -> re.Pattern[str]:
    """How a citizen may write an entry's code or name, on folded text: the
    code's letter and digit runs with optional separators ("ct 01", "ct-01"),
    the title and the aliases, each on word boundaries."""
    runs = re.findall(r"[a-z]+|[0-9]+", code_key(entry.code))
    spellings = [r"[\s._-]*".join(re.escape(run) for run in runs)]
    names = [entry.title, *getattr(entry, "aliases", [])]
    spellings += [r"\s+".join(map(re.escape, fold(name).split())) for name in names]
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(spellings)})(?![a-z0-9])")


_GENERATOR = Path(__file__).read_bytes()


def _version_hash(form: FormInfo) -> str:
    """Changes whenever the form's entry, this generator or fpdf2 changes."""
    digest = hashlib.sha256()
    digest.update(json.dumps(form.dict(), sort_keys=True, default=str).encode())
    digest.update(_GENERATOR)
    digest.update(fpdf.__version__.encode())
    return digest.hexdigest()[:16]


# ---- module-level API (the default catalogue) ----------------------------------


class _Loaded:
    """The default catalogue and the modification time it was loaded at."""

    catalogue: FormCatalogue | None = None
    stamp: int | None = None


_default = _Loaded()
_default_lock = threading.Lock()


def catalogue() -> FormCatalogue:
    """The catalogue of knowledge/forms.yml, reloaded when the file changes."""
    stamp = FORMS_FILE.stat().st_mtime_ns if FORMS_FILE.exists() else None
    with _default_lock:
        if _default.catalogue is None or _default.stamp != stamp:
            _default.catalogue = FormCatalogue(FORMS_FILE, CACHE_DIR)
            _default.stamp = stamp
        return _default.catalogue


def list_forms() -> List[FormInfo]:
    return list(catalogue().forms)


def get_form(code: str) -> FormInfo | None:
    return catalogue().get_form(code)


def get_police_document(code: str) -> PoliceDocument | None:
    return catalogue().get_police_document(code)


def forms_for(procedure: str) -> List[FormInfo]:
    return catalogue().forms_for(procedure)


def no_form_note(procedure: str) -> NoFormNote | None:
    return catalogue().no_form.get(procedure)


def mentioned(text: str) -> List[str]:
    return catalogue().mentioned(text)


def ask_menu() -> List[MenuButton]:
    return list(catalogue().ask_menu)


def replies() -> Replies:
    return catalogue().replies


def pdf_path(code: str) -> Path:
    return catalogue().pdf_path(code)


def public_url(code: str) -> str:
    """Where citizens download a form: ``{ASSISTANT_PUBLIC_URL}/forms/<name>.pdf``
    (served by connectors/forms.py at the root of the Rasa server)."""
    form = get_form(code)
    if form is None:
        raise KeyError(f"unknown form code: {code!r}")
    base = os.environ.get("ASSISTANT_PUBLIC_URL") or DEFAULT_PUBLIC_URL
    return f"{base.rstrip('/')}{URL_PATH}/{form.file_name}"


# ---- rendering ---------------------------------------------------------------

PAGE_MARGIN = 18.0
LINE = 7.0  # mm between field lines
TEXT_SIZE = 10.5
GREY = (110, 110, 110)
SIGNING_SPACE = 22.0  # mm left blank under each signature label


def _font_dir() -> Path:
    """matplotlib's bundled fonts, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FormsError("matplotlib (for the DejaVu Sans font) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "mpl-data/fonts/ttf"


FONT_FILES = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
    "BI": "DejaVuSans-BoldOblique.ttf",
}


class _FormPDF(FPDF):
    """An A4 page with the reference notice and page numbers in the footer."""

    def __init__(self, form: FormInfo) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.form = form
        fonts = _font_dir()
        for style, name in FONT_FILES.items():
            path = fonts / name
            if not path.exists():
                raise FormsError(f"font file not found: {path}")
            self.add_font("DejaVu", style, str(path))
        self.set_margins(PAGE_MARGIN, 15, PAGE_MARGIN)
        self.set_auto_page_break(True, margin=22)
        self.alias_nb_pages()

    def footer(self) -> None:
        form = self.form
        self.set_y(-17)
        self.set_draw_color(*GREY)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_text_color(*GREY)
        self.set_font("DejaVu", "I", 7.5)
        self.cell(self.epw - 20, 4.5, _notice(form), new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.cell(20, 4.5, f"Trang {self.page_no()}/{{nb}}", align="R")
        self.ln(4.5)
        updated = form.last_verified.strftime("%d/%m/%Y")
        _fit_cell(self, f"Căn cứ: {form.legal_basis}. Cập nhật: {updated}.", 7.5)
        self.set_text_color(0, 0, 0)


def _notice(form: FormInfo) -> str:
    if form.official:
        return f"Mẫu tham khảo – bản chính thức tại {form.official_link}"
    return f"Mẫu gợi ý – {form.version}"


def _fit_cell(pdf: FPDF, text: str, size: float, style: str = "I") -> None:
    """One line of small print, shrunk (down to 5.5 pt) to fit the width."""
    while size > 5.5:
        pdf.set_font("DejaVu", style, size)
        if pdf.get_string_width(text) <= pdf.epw:
            break
        size -= 0.5
    pdf.cell(pdf.epw, 4, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_pdf(form: FormInfo) -> bytes:
    """The PDF of ``form``: header, title, fields, signatures, footer."""
    pdf = _FormPDF(form)
    pdf.set_title(form.title)
    pdf.set_subject(form.purpose)
    pdf.set_author("Trợ lý ảo Công an")
    pdf.set_creator("services/forms.py")
    pdf.set_lang("vi")
    pdf.set_creation_date(
        dt.datetime.combine(form.last_verified, dt.time(), tzinfo=dt.timezone.utc)
    )
    pdf.add_page()
    _header(pdf, form)
    photo_bottom = _photo_box(pdf) if form.photo else None
    if form.addressee:
        _text_field(pdf, form.addressee, None)
    for field in form.fields:
        if photo_bottom is not None and pdf.get_y() >= photo_bottom:
            pdf.set_right_margin(PAGE_MARGIN)
            photo_bottom = None
        _draw_field(pdf, field)
    pdf.set_right_margin(PAGE_MARGIN)
    _closing(pdf, form)
    return bytes(pdf.output())


def _header(pdf: FPDF, form: FormInfo) -> None:
    pdf.set_font("DejaVu", "B", 9)
    code = f"Mẫu {form.code}" if form.official else "Mẫu gợi ý"
    pdf.cell(pdf.epw, 4.5, code, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "I", 8)
    issued = f"Ban hành kèm theo {form.version}" if form.official else form.version
    pdf.multi_cell(pdf.epw, 4, issued, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 11)
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập – Tự do – Hạnh phúc"):
        pdf.cell(pdf.epw, 5.5, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    middle = pdf.w / 2
    pdf.set_line_width(0.3)
    pdf.line(middle - 28, pdf.get_y() + 0.5, middle + 28, pdf.get_y() + 0.5)
    pdf.ln(5)
    _title(pdf, form.title)
    if form.note:
        pdf.set_font("DejaVu", "I", 9.5)
        pdf.multi_cell(
            pdf.epw, 5, f"({form.note})", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    notice = _notice(form)
    if form.confidence == "U":
        notice += ". Mẫu chưa đối chiếu với văn bản gốc, vui lòng kiểm tra lại khi nộp."
    pdf.ln(1)
    pdf.set_font("DejaVu", "I", 8.5)
    pdf.set_fill_color(238, 238, 238)
    pdf.multi_cell(
        pdf.epw,
        4.5,
        notice,
        align="C",
        fill=True,
        padding=1,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)
    pdf.set_font("DejaVu", "", TEXT_SIZE)


def _title(pdf: FPDF, title: str) -> None:
    """The title on one line when it fits at 12 pt or more, else wrapped at 13 pt."""
    size = 15.0
    pdf.set_font("DejaVu", "B", size)
    while pdf.get_string_width(title) > pdf.epw and size > 12:
        size -= 0.5
        pdf.set_font("DejaVu", "B", size)
    if pdf.get_string_width(title) > pdf.epw:
        size = 13.0
        pdf.set_font("DejaVu", "B", size)
    pdf.multi_cell(
        pdf.epw,
        size * 0.5,
        title,
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def _photo_box(pdf: FPDF) -> float:
    """A 4x6 cm photo box at the right; fields flow to its left until below it."""
    width, height = 40.0, 60.0
    x = pdf.w - PAGE_MARGIN - width
    y = pdf.get_y()
    pdf.set_line_width(0.3)
    pdf.rect(x, y, width, height)
    pdf.set_font("DejaVu", "I", 8.5)
    pdf.set_xy(x, y + height / 2 - 6)
    pdf.multi_cell(
        width,
        4.5,
        "Ảnh 4x6 cm\nnền trắng, chụp không quá 6 tháng",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_xy(PAGE_MARGIN, y)
    pdf.set_right_margin(PAGE_MARGIN + width + 5)
    pdf.set_font("DejaVu", "", TEXT_SIZE)
    return y + height + 2


def _draw_field(pdf: FPDF, field: FormField) -> None:
    if field.kind == "section":
        _section(pdf, field.label)
    elif field.kind == "text":
        _text_field(pdf, field.label, field.hint)
    elif field.kind == "date":
        _date_field(pdf, field.label, field.hint)
    elif field.kind == "checkbox":
        _checkbox_field(pdf, field.label, field.options, field.hint)
    elif field.kind == "multiline":
        _multiline_field(pdf, field.label, field.lines or 3, field.hint)
    else:
        _table_field(pdf, field.label, field.columns, field.rows or 3, field.hint)


def _line_count(pdf: FPDF, width: float, text: str) -> int:
    """How many lines ``text`` takes in a ``width`` mm cell, in the current font."""
    lines = pdf.multi_cell(width, 4, text, dry_run=True, output=MethodReturnValue.LINES)
    assert isinstance(lines, list)
    return len(lines)


def _room(pdf: FPDF, height: float) -> None:
    """Start a new page when ``height`` mm will not fit on this one."""
    if pdf.will_page_break(height):
        pdf.add_page()


def _dots(pdf: FPDF, x1: float, x2: float, baseline: float) -> None:
    """A dotted writing line (a drawing, so it adds nothing to the text)."""
    if x2 - x1 < 2:
        return
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(0.25)
    pdf.set_dash_pattern(dash=0.4, gap=1.2)
    pdf.line(x1, baseline, x2, baseline)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0, 0, 0)


def _label(pdf: FPDF, text: str, min_room: float) -> None:
    """Write a label; when less than ``min_room`` mm would remain after it on
    the line, wrap it over full lines and leave the cursor on a new line."""
    pdf.set_font("DejaVu", "", TEXT_SIZE)
    if pdf.get_string_width(text) + min_room <= pdf.epw:
        pdf.cell(pdf.get_string_width(text) + 1, LINE, text)
    else:
        pdf.multi_cell(
            pdf.epw, LINE, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_x(pdf.l_margin)


def _hint(pdf: FPDF, hint: str | None) -> None:
    if not hint:
        return
    pdf.set_font("DejaVu", "I", 8.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(
        pdf.epw, 4.2, f"({hint})", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "", TEXT_SIZE)


def _end_line(pdf: FPDF) -> None:
    """Dots from the cursor to the right margin, then a new line."""
    _dots(pdf, pdf.get_x() + 1, pdf.w - pdf.r_margin, pdf.get_y() + LINE - 1.8)
    pdf.set_xy(pdf.l_margin, pdf.get_y() + LINE)


def _section(pdf: FPDF, label: str) -> None:
    _room(pdf, 3 * LINE)
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(pdf.epw, LINE, label, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", TEXT_SIZE)


def _text_field(pdf: FPDF, label: str, hint: str | None) -> None:
    _room(pdf, 2 * LINE)
    _label(pdf, f"{label}: ", min_room=35)
    _end_line(pdf)
    _hint(pdf, hint)


def _date_field(pdf: FPDF, label: str, hint: str | None) -> None:
    _room(pdf, 2 * LINE)
    parts = [("ngày ", 12.0), (" tháng ", 12.0), (" năm ", 20.0)]
    needed = sum(pdf.get_string_width(word) + gap for word, gap in parts) + 2
    _label(pdf, f"{label}: ", min_room=needed)
    baseline = pdf.get_y() + LINE - 1.8
    for word, gap in parts:
        pdf.cell(pdf.get_string_width(word), LINE, word)
        _dots(pdf, pdf.get_x(), pdf.get_x() + gap, baseline)
        pdf.set_x(pdf.get_x() + gap)
    pdf.set_xy(pdf.l_margin, pdf.get_y() + LINE)
    _hint(pdf, hint)


def _checkbox_field(
    pdf: FPDF, label: str, options: Sequence[str], hint: str | None
) -> None:
    _room(pdf, 2 * LINE)
    _label(pdf, f"{label}: ", min_room=40)
    box = 3.4
    right = pdf.w - pdf.r_margin
    for option in options:
        width = box + 1.5 + pdf.get_string_width(option) + 5
        if pdf.get_x() + width > right and pdf.get_x() > pdf.l_margin + 10:
            pdf.set_xy(pdf.l_margin + 8, pdf.get_y() + LINE)
        top = pdf.get_y() + (LINE - box) / 2
        pdf.set_line_width(0.3)
        pdf.rect(pdf.get_x(), top, box, box)
        pdf.set_x(pdf.get_x() + box + 1.5)
        pdf.cell(pdf.get_string_width(option) + 5, LINE, option)
    pdf.set_xy(pdf.l_margin, pdf.get_y() + LINE)
    _hint(pdf, hint)


def _multiline_field(pdf: FPDF, label: str, lines: int, hint: str | None) -> None:
    _room(pdf, (min(lines, 4) + 1) * LINE)
    _label(pdf, f"{label}: ", min_room=35)
    _end_line(pdf)
    _hint(pdf, hint)
    for _ in range(lines - 1):
        _room(pdf, LINE)
        _end_line(pdf)


def _table_field(
    pdf: FPDF, label: str, columns: Sequence[str], rows: int, hint: str | None
) -> None:
    pdf.set_font("DejaVu", "B", 9)
    weights = [max(5, min(len(column), 24)) for column in columns]
    total = float(sum(weights))
    widths = [pdf.epw * weight / total for weight in weights]
    header_lines = max(
        _line_count(pdf, width - 2, column)
        for column, width in zip(columns, widths, strict=True)
    )
    header_height = header_lines * 4.5 + 2
    row_height = 8.0
    _room(pdf, LINE + header_height + rows * row_height + 2)
    pdf.set_font("DejaVu", "", TEXT_SIZE)
    pdf.multi_cell(
        pdf.epw, LINE, f"{label}:", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    _hint(pdf, hint)
    top = pdf.get_y() + 1
    x = pdf.l_margin
    pdf.set_line_width(0.3)
    pdf.set_fill_color(235, 235, 235)
    pdf.set_font("DejaVu", "B", 9)
    for column, width in zip(columns, widths, strict=True):
        pdf.rect(x, top, width, header_height, style="DF")
        pdf.set_xy(x + 1, top + 1)
        pdf.multi_cell(
            width - 2, 4.5, column, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        x += width
    y = top + header_height
    for _ in range(rows):
        x = pdf.l_margin
        for width in widths:
            pdf.rect(x, y, width, row_height)
            x += width
        y += row_height
    pdf.set_font("DejaVu", "", TEXT_SIZE)
    pdf.set_xy(pdf.l_margin, y + 2)


def _closing(pdf: FPDF, form: FormInfo) -> None:
    """Declaration, place and date, and the signature boxes side by side."""
    count = len(form.signatures)
    width = pdf.epw / count
    pdf.set_font("DejaVu", "B", 9.5)
    label_lines = max(_line_count(pdf, width - 2, s.label) for s in form.signatures)
    needed = LINE + label_lines * 4.8 + 9 + SIGNING_SPACE + 3
    if form.declaration:
        needed += 2 * LINE
    _room(pdf, needed)
    pdf.ln(2)
    if form.declaration:
        pdf.set_font("DejaVu", "I", TEXT_SIZE)
        pdf.multi_cell(
            pdf.epw,
            5.5,
            form.declaration,
            align="J",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(2)
    pdf.set_font("DejaVu", "I", TEXT_SIZE)
    pdf.cell(
        pdf.epw,
        LINE,
        "…………………, ngày …… tháng …… năm ………",
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    top = pdf.get_y() + 1
    for index, signature in enumerate(form.signatures):
        x = pdf.l_margin + index * width
        pdf.set_xy(x + 1, top)
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.multi_cell(
            width - 2,
            4.8,
            signature.label,
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if signature.hint:
            pdf.set_xy(x + 1, top + label_lines * 4.8)
            pdf.set_font("DejaVu", "I", 8.5)
            pdf.multi_cell(
                width - 2,
                4.2,
                signature.hint,
                align="C",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
    pdf.set_xy(pdf.l_margin, top + label_lines * 4.8 + 9 + SIGNING_SPACE)
