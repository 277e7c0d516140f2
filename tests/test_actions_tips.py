"""tip_form: anonymous first, evidence from attachments, danger first; the
submit action and additions by reference, on fake services."""

import sys
from typing import Any

import pytest

from actions.tips import ActionSubmitTip, ValidateTipForm, describes, place_in
from tests.form_trackers import fakes, form_tracker, run, slot_events  # noqa: F401

FORM = "tip_form"
STARTED = {"tip_action": "new"}


@pytest.mark.parametrize("form", [None, FORM])  # Rasa activates the form first
def test_long_first_message_is_the_tip(fakes: Any, form: str | None) -> None:  # noqa: F811
    text = "ở chợ xã có đứa chuyên móc túi, sáng nay 2 bà bị mất ví"
    tracker = form_tracker(text, "report_crime", form=form)
    events, dispatcher = run(ValidateTipForm(), tracker)
    slots = slot_events(events)
    assert slots["tip_action"] == "new" and slots["tip_what"] == text
    assert slots["tip_where"] == "chợ xã"  # the place it names
    assert slots["requested_slot"] == "tip_when"
    assert dispatcher.messages == []


def test_first_message_naming_a_place_fills_where(fakes: Any) -> None:  # noqa: F811
    text = "báo tin có người buôn ma túy ở hẻm 12 đường Phan Đình Phùng"
    tracker = form_tracker(text, "report_crime", form=FORM)
    events, _ = run(ValidateTipForm(), tracker)
    slots = slot_events(events)
    assert slots["tip_what"] == text
    assert slots["tip_where"] == "hẻm 12 đường Phan Đình Phùng"
    assert slots["requested_slot"] == "tip_when"


def test_wanting_to_report_is_not_the_tip(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker("e muon to cao ve viec lua dao", "report_crime", form=FORM)
    events, _ = run(ValidateTipForm(), tracker)
    slots = slot_events(events)
    assert "tip_what" not in slots and slots["requested_slot"] == "tip_what"


def test_a_later_answer_is_not_taken_for_the_first_message(fakes: Any) -> None:  # noqa: F811
    text = "tối qua khoảng 9 giờ có mấy thanh niên tụ tập ở đầu hẻm hút chích"
    tracker = form_tracker(
        text,
        form=FORM,
        requested="tip_when",
        slots={**STARTED, "tip_what": "buôn ma túy", "tip_where": "hẻm 12"},
        new_slots={"tip_when": text},
    )
    events, _ = run(ValidateTipForm(), tracker)
    assert slot_events(events)["tip_when"] == text
    assert "tip_what" not in slot_events(events)


@pytest.mark.parametrize(
    ("text", "described", "place"),
    [
        ("tôi muốn báo tin", False, None),
        ("cho em bao tin voi a", False, None),
        ("tôi muốn tố giác một đường dây đánh bạc", True, None),
        ("có người trộm xe máy ở chợ Đà Lạt sáng nay", True, "chợ Đà Lạt"),
        (
            "bao cong an nha ben canh danh bac o so 5 duong tran phu, toi nao cung co",
            True,
            "so 5 duong tran phu",
        ),
        (
            "tụ tập đua xe ở đường Trần Hưng Đạo lúc 11h đêm",
            True,
            "đường Trần Hưng Đạo",
        ),
    ],
)
def test_description_and_place_of_a_first_message(
    text: str, described: bool, place: str | None
) -> None:
    assert describes(text) is described
    assert place_in(text) == place


def test_danger_gets_the_emergency_number_first(fakes: Any) -> None:  # noqa: F811
    text = "có thằng đang cầm dao đòi chém người ở quán nhậu đầu hẻm"
    _, dispatcher = run(ValidateTipForm(), form_tracker(text, "report_crime"))
    assert dispatcher.messages[0]["text"].startswith("☎️ GỌI NGAY 113")


def test_attachments_are_the_evidence(fakes: Any) -> None:  # noqa: F811
    files = [{"type": "image", "url": "https://zalo.example/p/1.jpg"}]
    tracker = form_tracker(
        "",
        form=FORM,
        requested="tip_evidence",
        slots=STARTED,
        metadata={"attachments": files},
    )
    events, _ = run(ValidateTipForm(), tracker)
    assert slot_events(events)["tip_evidence"] == files


@pytest.mark.parametrize("text", ["không có", "ko co", "khong"])
def test_no_evidence(fakes: Any, text: str) -> None:  # noqa: F811
    tracker = form_tracker(
        text,
        form=FORM,
        requested="tip_evidence",
        slots=STARTED,
        new_slots={"tip_evidence": text},
    )
    events, _ = run(ValidateTipForm(), tracker)
    assert slot_events(events)["tip_evidence"] == []


FILLED = {
    "tip_action": "new",
    "tip_what": "có người bán ma túy ở quán nét",
    "tip_where": "đường số 5, khu phố 2",
    "tip_when": "tối nào cũng có",
    "tip_evidence": [],
}


def test_anonymous_tip_asks_no_contact(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "/deny",
        "deny",
        form=FORM,
        requested="tip_contact_wanted",
        slots=FILLED,
        new_slots={"tip_contact_wanted": False},
    )
    events, _ = run(ValidateTipForm(), tracker)
    assert slot_events(events)["requested_slot"] is None


def test_contact_wanted_asks_name_then_phone(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "có",
        "affirm",
        form=FORM,
        requested="tip_contact_wanted",
        slots=FILLED,
        new_slots={"tip_contact_wanted": "có"},
    )
    events, _ = run(ValidateTipForm(), tracker)
    slots = slot_events(events)
    assert slots["tip_contact_wanted"] is True
    assert slots["requested_slot"] == "full_name"


def test_submit_anonymous_tip_then_clear(fakes: Any) -> None:  # noqa: F811
    slots = {**FILLED, "tip_contact_wanted": False}
    events, dispatcher = run(
        ActionSubmitTip(), form_tracker("", slots=slots, metadata={"unit": "XA-DIAN"})
    )
    assert dispatcher.messages[0]["response"] == "utter_tip_filed"
    reference = dispatcher.messages[0]["reference"]
    stored = fakes.TIPS[reference]
    assert stored["contact"] is None and stored["unit"] == "XA-DIAN"
    assert stored["what"] == FILLED["tip_what"]
    assert all(value is None for value in slot_events(events).values())


def test_submit_with_contact(fakes: Any) -> None:  # noqa: F811
    slots = {
        **FILLED,
        "tip_contact_wanted": True,
        "full_name": "Chị Lan",
        "phone": "+84912345678",
    }
    _, dispatcher = run(ActionSubmitTip(), form_tracker("", slots=slots))
    reference = dispatcher.messages[0]["reference"]
    assert fakes.TIPS[reference]["contact"] == {
        "name": "Chị Lan",
        "phone": "+84912345678",
    }


def test_addition_by_reference(fakes: Any) -> None:  # noqa: F811
    run(
        ActionSubmitTip(),
        form_tracker("", slots={**FILLED, "tip_contact_wanted": False}),
    )
    start = form_tracker("em muốn bổ sung tin báo tb qxaaaaa2", "report_crime")
    events, _ = run(ValidateTipForm(), start)
    slots = slot_events(events)
    assert slots["tip_action"] == "add" and slots["tip_reference"] == "TB-QXAAAAA2"
    assert slots["requested_slot"] == "tip_addition"
    added = {
        "tip_action": "add",
        "tip_reference": "TB-QXAAAAA2",
        "tip_addition": "biển số xe của nó là 61A-12345",
    }
    _, dispatcher = run(ActionSubmitTip(), form_tracker("", slots=added))
    assert dispatcher.messages[0]["response"] == "utter_tip_added"
    assert fakes.TIPS["TB-QXAAAAA2"]["additions"][0]["text"].startswith("biển số")
    _, dispatcher = run(
        ActionSubmitTip(),
        form_tracker("", slots={**added, "tip_reference": "TB-QXZZZZZZ"}),
    )
    assert "không tìm thấy tin báo" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    ("where", "unit"),
    [
        ("số 12 đường Trần Hưng Đạo, phường Dĩ An", "XA-DIAN"),
        ("quán nét đầu hẻm", "TINH-BINHDUONG"),  # unknown: the province
    ],
)
def test_a_tip_without_a_known_unit_still_reaches_one(
    fakes: Any,  # noqa: F811
    where: str,
    unit: str,
) -> None:
    slots = {**FILLED, "tip_where": where, "tip_contact_wanted": False}
    _, dispatcher = run(ActionSubmitTip(), form_tracker("", slots=slots))
    reference = dispatcher.messages[0]["reference"]
    assert fakes.TIPS[reference]["unit"] == unit


def test_a_tip_with_nowhere_to_go_asks_the_place_again(
    fakes: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.modules["services.units"], "all_units", lambda: [])
    slots = {**FILLED, "tip_where": "quán nét", "tip_contact_wanted": False}
    events, dispatcher = run(ActionSubmitTip(), form_tracker("", slots=slots))
    assert "xã/phường nào" in dispatcher.messages[0]["text"]
    assert slot_events(events) == {"tip_where": None}
    assert events[-1]["event"] == "followup" and fakes.TIPS == {}


def test_a_photo_sent_instead_of_an_answer_is_kept_as_evidence(
    fakes: Any,  # noqa: F811
) -> None:
    files = [{"type": "image", "url": "https://zalo.example/p/2.jpg"}]
    tracker = form_tracker(
        "[hình ảnh]",
        form=FORM,
        requested="tip_where",
        slots={**STARTED, "tip_what": "có người bán ma túy ở quán nét"},
        new_slots={"tip_where": "[hình ảnh]"},
        metadata={"attachments": files},
    )
    events, dispatcher = run(ValidateTipForm(), tracker)
    slots = slot_events(events)
    assert slots["tip_evidence"] == files
    assert slots["tip_where"] is None  # asked again, not counted as a failure
    assert not slots.get("form_failures")
    assert dispatcher.messages == []


def test_a_shared_location_answers_where(fakes: Any) -> None:  # noqa: F811
    place = {"lat": 11.94, "long": 108.44, "address": "12 Trần Phú, Đà Lạt"}
    tracker = form_tracker(
        "[vị trí] 12 Trần Phú, Đà Lạt",
        form=FORM,
        requested="tip_where",
        slots={**STARTED, "tip_what": "có người bán ma túy ở quán nét"},
        new_slots={"tip_where": "[vị trí] 12 Trần Phú, Đà Lạt"},
        metadata={"location": place},
    )
    events, _ = run(ValidateTipForm(), tracker)
    assert slot_events(events)["tip_where"] == "12 Trần Phú, Đà Lạt (11.94, 108.44)"


def test_a_contact_shared_on_zalo_fills_name_and_phone(fakes: Any) -> None:  # noqa: F811
    tracker = form_tracker(
        "[thông tin liên hệ]",
        form=FORM,
        requested="full_name",
        slots={**FILLED, "tip_contact_wanted": True},
        new_slots={"full_name": "[thông tin liên hệ]"},
        metadata={"user_info": {"name": "Trần Thị Lan", "phone": "84912345678"}},
    )
    events, _ = run(ValidateTipForm(), tracker)
    slots = slot_events(events)
    assert slots["full_name"] == "Trần Thị Lan"
    assert slots["phone"] == "+84912345678"
    assert slots["requested_slot"] is None
