"""Forms: the catalogue, the PDFs, the /forms/<name>.pdf route and action_send_form."""

from __future__ import annotations

import asyncio
import copy
import io
import os
import re
import socket
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import yaml
from pypdf import PdfReader
from rasa.core.channels.channel import register
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic

from actions.forms import ActionSendForm
from connectors.forms import FormsInput, serve_form
from services import forms

RAW = yaml.safe_load(forms.FORMS_FILE.read_text(encoding="utf-8"))
CODES = [entry["code"] for entry in RAW["forms"]]


def pdf_text(path: Path) -> str:
    """All text of a PDF with runs of whitespace (line breaks) as one space."""
    reader = PdfReader(str(path))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> forms.FormCatalogue:
    return forms.FormCatalogue(forms.FORMS_FILE, tmp_path_factory.mktemp("pdf"))


# ---- the PDFs ---------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_every_form_is_a_pdf_with_its_vietnamese_title(
    catalogue: forms.FormCatalogue, code: str
) -> None:
    path = catalogue.pdf_path(code)
    form = catalogue.get_form(code)
    assert form is not None
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-64:]
    assert len(data) < 5 * 1024 * 1024  # Zalo's file upload limit
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) >= 1
    assert reader.metadata is not None and reader.metadata.title == form.title
    text = pdf_text(path)
    assert form.title in text  # exactly, with its diacritics
    for field in form.fields:
        assert field.label in text
    for signature in form.signatures:
        assert signature.label in text


@pytest.mark.parametrize("code", CODES)
def test_every_pdf_embeds_dejavu_and_names_its_source(
    catalogue: forms.FormCatalogue, code: str
) -> None:
    path = catalogue.pdf_path(code)
    form = catalogue.get_form(code)
    assert form is not None
    reader = PdfReader(str(path))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("DejaVuSans" in name for name in fonts)
    text = pdf_text(path)
    if form.official:
        assert f"Mẫu {form.code}" in text
        assert f"Mẫu tham khảo – bản chính thức tại {form.official_link}" in text
    else:
        assert "Mẫu gợi ý" in text
    assert form.legal_basis in text


def test_pdf_is_cached_and_regenerated_when_its_entry_changes(tmp_path: Path) -> None:
    first = forms.FormCatalogue(forms.FORMS_FILE, tmp_path / "cache")
    path = first.pdf_path("CT01")
    stamp = path.stat().st_mtime_ns
    assert first.pdf_path("ct 01") == path
    assert path.stat().st_mtime_ns == stamp  # not rendered again

    edited = copy.deepcopy(RAW)
    edited["forms"][0]["title"] = "Tờ khai thay đổi thông tin cư trú (bản sửa)"
    changed_file = tmp_path / "forms.yml"
    changed_file.write_text(yaml.safe_dump(edited, allow_unicode=True), "utf-8")
    second = forms.FormCatalogue(changed_file, tmp_path / "cache")
    new_path = second.pdf_path("CT01")
    assert new_path != path
    assert not path.exists()  # the stale version is removed
    assert "(bản sửa)" in pdf_text(new_path)
    names = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert names == [new_path.name]  # no temporary files left behind
    assert re.fullmatch(r"ct01-[0-9a-f]{16}\.pdf", new_path.name)


# ---- loading and validation ------------------------------------------------------


def _broken(mutate: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
    data = copy.deepcopy(RAW)
    mutate(data)
    return data


def _first(data: Dict[str, Any]) -> Dict[str, Any]:
    return data["forms"][0]


BROKEN: List[Tuple[str, Callable[[Dict[str, Any]], None], List[str]]] = [
    (
        "checkbox with one option",
        lambda d: _first(d)["fields"][2].update(options=["Nam"]),
        ["forms[0] (CT01)", "fields[2] (3. Giới tính)", "at least two options"],
    ),
    (
        "unknown procedure",
        lambda d: _first(d).update(procedures=["tam_tru"]),
        ["forms[0] (CT01)", "procedures", "unexpected value"],
    ),
    (
        "missing title",
        lambda d: _first(d).pop("title"),
        ["forms[0] (CT01)", "title", "field required"],
    ),
    (
        "misspelt key",
        lambda d: _first(d).update(titel="x"),
        ["forms[0] (CT01)", "titel", "extra fields not permitted"],
    ),
    (
        "bad date",
        lambda d: _first(d).update(last_verified="05/03/2026"),
        ["forms[0] (CT01)", "last_verified", "date"],
    ),
    (
        "official form without link",
        lambda d: _first(d).update(official_link=None),
        ["forms[0] (CT01)", "official_link"],
    ),
    (
        "unknown field kind",
        lambda d: _first(d)["fields"][0].update(kind="signature"),
        ["fields[0] (1. Họ, chữ đệm và tên)", "kind"],
    ),
    (
        "options on a text field",
        lambda d: _first(d)["fields"][0].update(options=["a", "b"]),
        ["fields[0] (1. Họ, chữ đệm và tên)", "only checkbox has"],
    ),
    (
        "two codes that read the same",
        lambda d: d["forms"][1].update(code="ct-01"),
        ["collide"],
    ),
    (
        "police paper requested with an unknown form",
        lambda d: d["issued_by_police"][0].update(request_with="CT99"),
        ["request_with", "CT99"],
    ),
    (
        "too many signatures",
        lambda d: _first(d).update(signatures=_first(d)["signatures"] * 2),
        ["forms[0] (CT01)", "signatures"],
    ),
    (
        "button title too long for Zalo",
        lambda d: d["ask_menu"][0].update(title="x" * 36),
        ["ask_menu[0]", "title"],
    ),
    (
        "reply with an unknown placeholder",
        lambda d: d["replies"].update(send="Dạ, mẫu {ma_so}"),
        ["replies > send", "ma_so", "allowed: code, title"],
    ),
    (
        "reply that is not a template",
        lambda d: d["replies"].update(download="Tải: {url"),
        ["replies > download", "not a valid template"],
    ),
    (
        "missing reply",
        lambda d: d["replies"].pop("send"),
        ["replies", "send", "field required"],
    ),
]


@pytest.mark.parametrize(
    "mutate,expected", [(m, e) for _, m, e in BROKEN], ids=[n for n, _, _ in BROKEN]
)
def test_loader_errors_name_file_entry_and_field(
    tmp_path: Path, mutate: Callable[[Dict[str, Any]], None], expected: List[str]
) -> None:
    path = tmp_path / "forms.yml"
    path.write_text(yaml.safe_dump(_broken(mutate), allow_unicode=True), "utf-8")
    with pytest.raises(forms.FormsError) as error:
        forms.FormCatalogue(path, tmp_path / "cache")
    message = str(error.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    "content", ["forms: [unclosed", "- just\n- a list\n", ""], ids=str
)
def test_loader_rejects_unreadable_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "forms.yml"
    path.write_text(content, "utf-8")
    with pytest.raises(forms.FormsError, match=re.escape(str(path))):
        forms.FormCatalogue(path, tmp_path / "cache")


def test_loader_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(forms.FormsError, match="missing.yml"):
        forms.FormCatalogue(tmp_path / "missing.yml", tmp_path)


# ---- codes and names --------------------------------------------------------------


@pytest.mark.parametrize(
    "typed,code",
    [
        ("CT01", "CT01"),
        ("ct01", "CT01"),
        ("CT 01", "CT01"),
        ("ct-01", "CT01"),
        ("tk01a", "TK01a"),
        ("TK01A", "TK01a"),
        ("TK 01 a", "TK01a"),
        ("tk01", "TK01"),
        ("ĐKX", "ĐKX"),
        ("dkx", "ĐKX"),
        ("đkx", "ĐKX"),
        ("cc01", "CC01"),
        ("DC 02", "DC02"),
        ("DON TO GIAC", "don-to-giac"),
    ],
)
def test_get_form_ignores_case_diacritics_and_spaces(typed: str, code: str) -> None:
    form = forms.get_form(typed)
    assert form is not None and form.code == code


@pytest.mark.parametrize("typed", ["CT07", "ct02", "TK02", "", "   ", "01", "x" * 500])
def test_get_form_returns_none_for_other_codes(typed: str) -> None:
    assert forms.get_form(typed) is None


def test_ct07_is_a_police_paper_requested_with_ct01() -> None:
    document = forms.get_police_document("ct 07")
    assert document is not None
    assert document.request_with == "CT01"
    assert "không phải" in document.purpose and "tự điền" in document.purpose


@pytest.mark.parametrize(
    "text,codes",
    [
        ("cho xin mẫu CT01", ["CT01"]),
        ("cho xin mau ct 01 voi", ["CT01"]),
        ("mẫu tk01a cho con 7 tuổi", ["TK01a"]),
        ("TK01 hay TK01a vậy ad", ["TK01", "TK01a"]),
        ("giấy khai đăng ký xe có bản in sẵn ko", ["ĐKX"]),
        ("mau DKX", ["ĐKX"]),
        ("xin mẫu đơn tố giác, e bị lừa", ["don-to-giac"]),
        ("cty bat nop CT07", ["CT07"]),
        ("act01 xct01b", []),
        ("mẫu tờ khai hộ chiếu", []),
    ],
)
def test_codes_are_found_in_what_citizens_type(text: str, codes: List[str]) -> None:
    assert forms.mentioned(text) == codes


def test_forms_for_a_procedure() -> None:
    assert [f.code for f in forms.forms_for("passport")] == ["TK01", "TK01a"]
    assert [f.code for f in forms.forms_for("temporary_absence")] == ["CT01"]
    assert [f.code for f in forms.forms_for("crime_report")] == ["don-to-giac"]
    assert forms.forms_for("accommodation_notice") == []
    assert forms.forms_for("no_such_procedure") == []


@pytest.mark.parametrize("name", ["ct01.pdf", "CT01.PDF", "Tk01A.pdf", "dkx.pdf"])
def test_file_names_of_known_forms(name: str) -> None:
    assert forms.catalogue().by_file_name(name) is not None


@pytest.mark.parametrize(
    "name",
    ["ct07.pdf", "ct01", "ct01.pdf.pdf", "../ct01.pdf", "ct01.pdf\x00", "đkx.pdf", ""],
)
def test_other_file_names_are_unknown(name: str) -> None:
    assert forms.catalogue().by_file_name(name) is None


def test_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_PUBLIC_URL", raising=False)
    assert forms.public_url("ct 01") == "http://localhost:5005/forms/ct01.pdf"
    monkeypatch.setenv("ASSISTANT_PUBLIC_URL", "https://trolyao.example.vn/")
    assert forms.public_url("ĐKX") == "https://trolyao.example.vn/forms/dkx.pdf"
    with pytest.raises(KeyError):
        forms.public_url("CT07")


# ---- serving over HTTP ------------------------------------------------------------


class Server:
    """A real Sanic server (Rasa's channel registration) on a free port."""

    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, target: str) -> Tuple[int, Dict[str, str], bytes]:
        """GET ``target`` byte for byte (no client-side path normalisation)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            request = f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            sock.sendall(f"{request}\r\n".encode("latin-1"))
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            key.strip().lower(): value.strip()
            for key, _, value in (line.partition(":") for line in lines[1:])
        }
        return status, headers, body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cache = tmp_path_factory.mktemp("served")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forms, "CACHE_DIR", cache)
        patch.setattr(forms, "_default", forms._Loaded())
        app = Sanic(f"forms_test_{uuid.uuid4().hex}")
        app.config.ACCESS_LOG = False
        register([FormsInput()], app, route="/webhooks/")  # as `rasa run` does
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        loop = asyncio.new_event_loop()

        async def start() -> Any:
            started = await app.create_server(
                host="127.0.0.1", port=port, return_asyncio_server=True
            )
            await started.startup()
            return started

        running = loop.run_until_complete(start())
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            yield Server(port)
        finally:
            loop.call_soon_threadsafe(running.close)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)


@pytest.mark.parametrize("target", ["/forms/ct01.pdf", "/forms/CT01.PDF"])
def test_a_known_form_is_served_as_a_pdf(server: Server, target: str) -> None:
    status, headers, body = server.get(target)
    assert status == 200
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == 'inline; filename="ct01.pdf"'
    assert headers["x-content-type-options"] == "nosniff"
    assert body == forms.pdf_path("CT01").read_bytes()
    assert forms.pdf_path("CT01").parent == forms.CACHE_DIR


def test_every_public_url_is_served(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSISTANT_PUBLIC_URL", raising=False)
    for form in forms.list_forms():
        path = forms.public_url(form.code).removeprefix(forms.DEFAULT_PUBLIC_URL)
        status, headers, body = server.get(path)
        assert status == 200, path
        assert body.startswith(b"%PDF-")
        assert f'filename="{form.file_name}"' in headers["content-disposition"]


def _cached_name() -> str:
    return forms.pdf_path("CT01").name


NASTY = [
    "/forms/../credentials.yml",
    "/forms/..%2fcredentials.yml",
    "/forms/%2e%2e%2fcredentials.yml",
    "/forms/%2e%2e/%2e%2e/etc/passwd",
    "/forms/..%5c..%5cknowledge%5cforms.yml",
    "/forms/%252e%252e%252fcredentials.yml",
    "/forms/%2fetc%2fpasswd",
    "/forms//etc/passwd",
    "/forms/ct01.pdf/../../credentials.yml",
    "/forms/ct01.pdf%00.txt",
    "/forms/ct01%00.pdf",
    "/forms/%00",
    "/forms/" + "a" * 300 + ".pdf",
    "/forms/" + "ct01" * 40 + ".pdf",
    "/forms/ct07.pdf",
    "/forms/ct01.yml",
    "/forms/forms.yml",
    "/forms/.ct01-0000.tmp",
    "/forms/ct01.pdf;.txt",
    "/forms/%C4%90KX.pdf",
    "/forms/ct01-CACHED",  # the cache's internal name: never served directly
    "/webhooks/forms/ct01.pdf",
]


@pytest.mark.parametrize("target", NASTY)
def test_anything_else_is_refused(server: Server, target: str) -> None:
    if target.endswith("CACHED"):
        target = f"/forms/{_cached_name()}"
    status, _, body = server.get(target)
    assert status in (400, 404)
    assert not body.startswith(b"%PDF")
    assert b"forms:" not in body and b"root:" not in body


def test_a_broken_catalogue_answers_503_not_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> forms.FormCatalogue:
        raise forms.FormsError("knowledge/forms.yml: broken")

    monkeypatch.setattr(forms, "catalogue", broken)
    answer = asyncio.run(serve_form("ct01.pdf"))
    assert answer.status == 503


def test_rasa_mounts_the_route_at_the_root_from_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `rasa run` does with our credentials.yml: /forms/<name> beside the
    REST webhook (not under /webhooks/)."""
    from rasa.core import run

    # Rasa names its app "rasa_server"; other tests may have made one already
    monkeypatch.setattr(Sanic, "test_mode", True)

    channels = run.create_http_input_channels(None, str(forms.ROOT / "credentials.yml"))
    assert {"rest", "forms"} <= {channel.name() for channel in channels}
    app = run.configure_app(channels, route="/webhooks/", enable_api=False)
    paths = {route.path for route in app.router.routes}
    assert "forms/<name:str>" in paths
    assert "webhooks/rest/webhook" in paths


# ---- the action -----------------------------------------------------------------


def _send(
    tracker: Tracker, dispatcher: CollectingDispatcher
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    events = ActionSendForm().run(dispatcher, tracker, {})
    return dispatcher.messages, events


def _attachments(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["attachment"] for m in messages if m.get("attachment")]


def test_action_sends_the_form_named_in_the_message(
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASSISTANT_PUBLIC_URL", "https://trolyao.example.vn")
    messages, events = _send(
        make_tracker("cho xin mẫu CT01", "request_form"), dispatcher
    )
    text = messages[0]["text"]
    assert "CT01" in text and "Tờ khai thay đổi thông tin cư trú" in text
    assert "https://trolyao.example.vn/forms/ct01.pdf" in text
    assert "https://dichvucong.bocongan.gov.vn/" in text
    assert "Căn cứ:" in text and "Thông tư 66/2023/TT-BCA" in text
    assert _attachments(messages) == [
        {
            "type": "file",
            "url": "https://trolyao.example.vn/forms/ct01.pdf",
            "name": "ct01.pdf",
            "mime_type": "application/pdf",
            "form_code": "CT01",
        }
    ]
    assert {"event": "slot", "name": "procedure"}.items() <= events[0].items()


def test_action_offers_both_passport_forms(
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    db_engine: Any,
) -> None:
    """Without content in the database: a line and a button per form, and the
    forms' legal basis once each."""
    tracker = make_tracker(
        "mau to khai ho chieu",
        "request_form",
        entities=[{"entity": "procedure", "value": "passport"}],
    )
    messages, events = _send(tracker, dispatcher)
    assert [b["payload"] for b in messages[0]["buttons"]] == ["Mẫu TK01", "Mẫu TK01a"]
    assert all(len(b["title"]) <= 35 for b in messages[0]["buttons"])
    assert "Hộ chiếu" in messages[0]["text"]
    basis = [line for line in messages[0]["text"].splitlines() if "Căn cứ:" in line]
    assert len(basis) == 1
    for form in forms.forms_for("passport"):
        for part in form.legal_basis.split(";"):
            assert part.split("(")[0].strip() in basis[0]
    assert _attachments(messages) == []
    assert events[0]["value"] == "passport"


def test_which_passport_form_is_answered_from_the_content(
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    db_engine: Any,
) -> None:
    """ "dùng mẫu tờ khai nào" read as request_form: the procedure's answer on
    its forms (TK02 for those abroad too) with its basis, the forms as buttons."""
    from services.loader import load

    load(None, db_engine)
    tracker = make_tracker(
        "lam passport dung mau to khai nao",
        "request_form",
        entities=[{"entity": "procedure", "value": "passport"}],
    )
    messages, events = _send(tracker, dispatcher)
    text = " ".join(m.get("text") or "" for m in messages)
    assert "TK02" in text and "Căn cứ:" in text
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["Mẫu TK01", "Mẫu TK01a"]
    assert _attachments(messages) == []
    assert events[0]["value"] == "passport"


def test_a_button_payload_sends_that_form(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    messages, _ = _send(make_tracker("Mẫu TK01a", "request_form"), dispatcher)
    assert _attachments(messages)[0]["form_code"] == "TK01a"
    assert "dưới 14 tuổi" in messages[0]["text"]


def test_action_asks_which_procedure_when_unknown(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    messages, events = _send(make_tracker("xin mẫu ạ", "request_form"), dispatcher)
    assert messages[0]["text"] == forms.replies().ask_procedure
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[0] == '/request_form{"procedure": "temporary_residence"}'
    assert len(payloads) <= 5
    assert _attachments(messages) == [] and events == []


def test_action_uses_the_procedure_slot_of_the_conversation(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker(
        "cho e xin mẫu", "request_form", slots={"procedure": "temporary_absence"}
    )
    messages, _ = _send(tracker, dispatcher)
    assert _attachments(messages)[0]["form_code"] == "CT01"


def test_ct07_is_explained_and_ct01_sent(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    messages, events = _send(
        make_tracker("cho e xin mau CT07 de nop truong", "request_form"), dispatcher
    )
    assert "do Công an cấp" in messages[0]["text"]
    assert "CT01" in messages[0]["text"]
    assert _attachments(messages)[0]["form_code"] == "CT01"
    assert events[0]["value"] == "residence_confirmation"


def test_procedures_without_a_form_get_a_plain_answer(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker(
        "mau thong bao luu tru",
        "request_form",
        entities=[{"entity": "procedure", "value": "accommodation_notice"}],
    )
    messages, _ = _send(tracker, dispatcher)
    assert "VNeID" in messages[0]["text"] and "Điều 30" in messages[0]["text"]
    assert _attachments(messages) == []
    other = CollectingDispatcher()
    tracker = make_tracker(
        "mau don khieu nai",
        "request_form",
        entities=[{"entity": "procedure", "value": "complaint"}],
    )
    messages, _ = _send(tracker, other)
    assert "chưa có sẵn mẫu" in messages[0]["text"]
    assert "Khiếu nại, tố cáo" in messages[0]["text"]


def test_a_junk_procedure_value_is_ignored(
    dispatcher: CollectingDispatcher, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker(
        "mau",
        "request_form",
        entities=[{"entity": "procedure", "value": "../../etc"}],
        slots={"procedure": 42},
    )
    messages, _ = _send(tracker, dispatcher)
    assert messages[0]["text"] == forms.replies().ask_procedure


def test_no_pdf_is_left_half_written(tmp_path: Path) -> None:
    catalogue = forms.FormCatalogue(forms.FORMS_FILE, tmp_path)
    catalogue.pdf_path("TK01")
    assert [p.suffix for p in tmp_path.iterdir()] == [".pdf"]
    assert os.access(catalogue.pdf_path("TK01"), os.R_OK)


def test_a_broken_catalogue_gets_a_polite_answer_not_a_crash(
    dispatcher: CollectingDispatcher,
    make_tracker: Callable[..., Tracker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> forms.FormCatalogue:
        raise forms.FormsError("knowledge/forms.yml: broken")

    monkeypatch.setattr(forms, "catalogue", broken)
    tracker = make_tracker("cho xin mẫu CT01", "request_form")
    messages, events = _send(tracker, dispatcher)
    assert messages[0]["response"] == "utter_forms_unavailable"
    domain = yaml.safe_load((forms.ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert "utter_forms_unavailable" in domain["responses"]
    assert "action_send_form" in domain["actions"]
    assert "utter_interim_form" not in domain["responses"]
    assert events == []
