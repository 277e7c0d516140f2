"""The handoff transcript shows what the citizen saw: the title of the button
pressed (from the bot's preceding offer), else a Vietnamese rendering of the
payload, never the raw payload (services.transcripts, through services.desk)."""

import datetime as dt
import json
from typing import Any, Dict, Iterator, List

import pytest

from services import booking, db, desk, handoff, transcripts
from services.officers import Viewer
from tests import console_support as cs

pytestmark = pytest.mark.usefixtures("crypto_keys", "privacy_restored")

MENU = [
    {"title": "Dịch vụ công", "payload": "/show_public_services"},
    {"title": "Gặp cán bộ", "payload": "/human_handoff"},
]
FEE = '/ask_temporary_residence{"procedure": "temporary_residence", "info_type": "fee"}'


@pytest.fixture
def who(database_url: str) -> Iterator[Dict[str, Viewer]]:
    cs.seed_units()
    yield cs.seed_officers()


def _events(sender: str, events: List[Dict[str, Any]]) -> None:
    """Events as the encrypting tracker store writes them (same database here)."""
    from connectors.stores import EncryptedEventsBase, EncryptedSQLEvent

    EncryptedEventsBase.metadata.create_all(db.engine())
    start = booking.local_now() - dt.timedelta(minutes=5)
    with db.session_scope() as session:
        for number, event in enumerate(events):
            at = start + dt.timedelta(seconds=number)
            session.add(
                EncryptedSQLEvent(
                    sender_id=sender,
                    type_name=event["event"],
                    timestamp=at.replace(tzinfo=booking.VIETNAM).timestamp(),
                    data=json.dumps(event, ensure_ascii=False),
                )
            )


def _bot(text: str, buttons: List[Dict[str, str]] | None = None) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "data": {"buttons": buttons or []}}


def _user(text: str) -> Dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "x"}}}


def test_button_presses_read_as_what_the_citizen_saw(who: Dict[str, Viewer]) -> None:
    _events(
        "citizen-buttons",
        [
            _bot("Dạ, em có thể giúp gì ạ?", MENU),
            _user("/show_public_services"),  # pressed: the offered title
            _bot(
                "Anh/chị muốn biết gì về tạm trú?",
                [{"title": "Lệ phí bao nhiêu", "payload": FEE}],
            ),
            _user(FEE),
            _user("/main_menu"),  # no offer since the last message: rendered
            _user('/inform{"procedure": "passport", "location": "XA-XUANHUONG"}'),
            _user('/book_appointment{"procedure": broken json'),
            _user("/nothing_known"),
            _user("tôi muốn gặp cán bộ"),  # typed: as typed
        ],
    )
    handoff.request_handoff("citizen-buttons", cs.UNIT_A, "rest")
    lines = desk.transcript(who["a"], "citizen-buttons")
    shown = [(line.who, line.text, line.pressed) for line in lines]
    assert shown == [
        ("bot", "Dạ, em có thể giúp gì ạ?", False),
        ("citizen", "Dịch vụ công", True),
        ("bot", "Anh/chị muốn biết gì về tạm trú?", False),
        ("citizen", "Lệ phí bao nhiêu", True),
        ("citizen", "Xem menu", True),
        (
            "citizen",
            "Chọn thông tin – Hộ chiếu phổ thông, Công an phường Xuân Hương - Đà Lạt",
            True,
        ),
        ("citizen", "Đặt lịch hẹn", True),
        ("citizen", "một lựa chọn", True),
        ("citizen", "tôi muốn gặp cán bộ", False),
    ]
    assert lines[0].buttons == ("Dịch vụ công", "Gặp cán bộ")
    assert not any("{" in line.text or line.text.startswith("/") for line in lines)


def test_payload_rendering_without_an_offer() -> None:
    assert transcripts.payload_text("xin chào") is None
    assert transcripts.payload_text("/human_handoff") == "Gặp cán bộ"
    assert transcripts.payload_text('/check_scam{"x": {"nested": 1}}') == (
        "Kiểm tra lừa đảo"
    )
