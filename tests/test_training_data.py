"""The training and test data keep the contract and stay apart."""

import functools
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from vietnamese.text import fold, has_diacritics, split_pieces

ROOT = Path(__file__).resolve().parent.parent

# The conversation contract (../shared/ARCHITECTURE.md): names are fixed.
CONTRACT_INTENTS = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "main_menu",
    "human_handoff",
    "out_of_scope",
    "ask_temporary_residence",
    "ask_temporary_absence",
    "ask_permanent_residence",
    "ask_residence_confirmation",
    "ask_accommodation_notice",
    "ask_identity_card",
    "ask_electronic_id",
    "ask_vehicle_registration",
    "ask_passport",
    "ask_weapons_declaration",
    "ask_security_permit",
    "ask_complaint",
    "request_form",
    "book_appointment",
    "check_application_status",
    "report_crime",
    "check_scam",
    "emergency",
    "ask_news",
    "ask_contact",
]
CONTRACT_ENTITIES = [
    "procedure",
    "info_type",
    "cccd_number",
    "phone_number",
    "application_code",
    "date",
    "time",
    "location",
    "vehicle_type",
    "crime_type",
]
CANONICAL_VALUES = {
    "procedure": [
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
    ],
    "info_type": [
        "documents",
        "fee",
        "duration",
        "place",
        "online",
        "form",
        "eligibility",
        "penalty",
    ],
    "vehicle_type": ["motorbike", "car", "electric_motorbike", "truck"],
    "crime_type": [
        "fraud",
        "theft",
        "robbery",
        "drugs",
        "gambling",
        "assault",
        "domestic_violence",
        "child_abuse",
        "human_trafficking",
        "loan_sharking",
        "weapons",
        "disturbance",
    ],
}


@functools.cache
def examples(folder: str) -> Dict[str, List[Message]]:
    by_intent: Dict[str, List[Message]] = defaultdict(list)
    for message in load_data(str(ROOT / folder)).intent_examples:
        by_intent[message.get("intent")].append(message)
    return dict(by_intent)


def test_domain_keeps_the_contract() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(CONTRACT_INTENTS) <= set(domain["intents"])
    assert set(domain["entities"]) == set(CONTRACT_ENTITIES)


@pytest.mark.parametrize("intent", CONTRACT_INTENTS)
def test_training_data_per_intent(intent: str) -> None:
    messages = examples("data/nlu").get(intent, [])
    assert len(messages) >= 40, f"{intent}: {len(messages)} examples"
    plain = [m for m in messages if not has_diacritics(m.get("text"))]
    assert len(plain) * 3 >= len(messages), (
        f"{intent}: only {len(plain)} of {len(messages)} without diacritics"
    )
    assert len({fold(m.get("text")) for m in messages}) == len(messages), (
        f"{intent}: examples that differ only by case, diacritics or teencode"
    )


@pytest.mark.parametrize("intent", CONTRACT_INTENTS)
def test_test_data_per_intent(intent: str) -> None:
    assert len(examples("tests/nlu").get(intent, [])) >= 12


def test_no_test_line_appears_in_training_data() -> None:
    training = {
        fold(m.get("text")): intent
        for intent, messages in examples("data/nlu").items()
        for m in messages
    }
    leaked = [
        m.get("text")
        for messages in examples("tests/nlu").values()
        for m in messages
        if fold(m.get("text")) in training
    ]
    assert leaked == []


def test_no_test_story_line_appears_in_training_data() -> None:
    training = {
        fold(m.get("text"))
        for messages in examples("data/nlu").values()
        for m in messages
    }
    leaked = []
    for path in (ROOT / "tests" / "stories").glob("*.yml"):
        stories = yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
        for story in stories:
            for step in story["steps"]:
                if "user" in step and fold(step["user"]) in training:
                    leaked.append(step["user"])
    assert leaked == []


def test_no_message_has_two_intents() -> None:
    seen: Counter = Counter()
    for folder in ("data/nlu", "tests/nlu"):
        for intent, messages in examples(folder).items():
            seen.update({(fold(m.get("text")), intent) for m in messages})
    texts = Counter(text for text, _ in seen)
    assert [text for text, count in texts.items() if count > 1] == []


@pytest.mark.parametrize("folder", ["data/nlu", "tests/nlu"])
def test_entities_are_known_and_on_word_boundaries(folder: str) -> None:
    problems = []
    for messages in examples(folder).values():
        for message in messages:
            text = message.get("text")
            starts = {p.start for p in split_pieces(text)}
            ends = {p.end for p in split_pieces(text)}
            for entity in message.get("entities") or []:
                name, value = entity["entity"], entity["value"]
                if name not in CONTRACT_ENTITIES:
                    problems.append(f"unknown entity {name}: {text}")
                if name in CANONICAL_VALUES and value not in CANONICAL_VALUES[name]:
                    problems.append(f"{name}={value} is not canonical: {text}")
                if entity["start"] not in starts or entity["end"] not in ends:
                    problems.append(f"{name} cuts a word: {text}")
    assert problems == []
