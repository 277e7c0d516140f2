"""The forms in domain.yml keep the promises the actions rely on."""

from typing import Any, Dict

import pytest

from actions import booking, status, tips
from tests.form_trackers import domain

FORMS = ["appointment_form", "application_status_form", "tip_form"]


def form_slots(form: str) -> Any:
    return domain()["forms"][form]["required_slots"]


@pytest.mark.parametrize("form", FORMS)
def test_text_never_fills_a_slot_from_an_emergency_or_an_officer(form: str) -> None:
    for slot in form_slots(form):
        for mapping in domain()["slots"][slot]["mappings"]:
            if mapping["type"] == "from_text":
                assert {"emergency", "human_handoff"} <= set(mapping["not_intent"])


@pytest.mark.parametrize("form", FORMS)
def test_every_question_has_a_wording(form: str) -> None:
    known = set(domain()["responses"]) | set(domain()["actions"])
    for slot in form_slots(form):
        assert {f"utter_ask_{slot}", f"action_ask_{slot}"} & known, slot


@pytest.mark.parametrize(
    ("module", "form"),
    [
        (booking, "appointment_form"),
        (status, "application_status_form"),
        (tips, "tip_form"),
    ],
)
def test_every_slot_a_form_fills_is_cleared_by_it(module: Any, form: str) -> None:
    assert set(form_slots(form)) <= set(module.FORM_SLOTS)


def test_personal_data_slots_do_not_steer_the_dialogue() -> None:
    slots: Dict[str, Any] = domain()["slots"]
    for name in ("full_name", "phone", "tip_what", "tip_where", "tip_evidence"):
        assert slots[name]["influence_conversation"] is False
