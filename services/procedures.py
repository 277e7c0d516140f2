"""The administrative procedures the assistant knows, by contract intent."""

from __future__ import annotations

from typing import Dict

# intent of the conversation contract -> value of the `procedure` entity
PROCEDURE_BY_INTENT: Dict[str, str] = {
    "ask_temporary_residence": "temporary_residence",
    "ask_temporary_absence": "temporary_absence",
    "ask_permanent_residence": "permanent_residence",
    "ask_residence_confirmation": "residence_confirmation",
    "ask_accommodation_notice": "accommodation_notice",
    "ask_identity_card": "identity_card",
    "ask_electronic_id": "electronic_id",
    "ask_vehicle_registration": "vehicle_registration",
    "ask_passport": "passport",
    "ask_weapons_declaration": "weapons_declaration",
    "ask_security_permit": "security_permit",
    "ask_complaint": "complaint",
}
INTENT_BY_PROCEDURE = {value: key for key, value in PROCEDURE_BY_INTENT.items()}
# every value of the `procedure` entity: the contract's procedures, and crime
# reports (asked about under ask_complaint / report_crime)
PROCEDURES = (*PROCEDURE_BY_INTENT.values(), "crime_report")


def procedure_for(intent: str | None, entity_value: str | None) -> str | None:
    """The procedure a question is about: the intent says it; a procedure
    entity only decides when the intent does not (e.g. request_form)."""
    if intent in PROCEDURE_BY_INTENT:
        return PROCEDURE_BY_INTENT[intent]
    if entity_value in PROCEDURES:
        return entity_value
    return None
