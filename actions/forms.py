"""Sending a form (`request_form`): the PDF link, the official link and the file.

Which form: a code named in the message ("cho xin mẫu CT01", "ct 01"), else the
forms of the `procedure` entity or slot (one form: sent; several: buttons), else
the assistant asks which procedure. A police-issued paper (CT07) is explained and
the form to request it with is sent.

The file goes out as Rasa's ``attachment`` (an output channel's
``send_attachment``): ``{"type": "file", "url", "name", "mime_type",
"form_code"}``. REST returns it as is; the Zalo channel uploads the PDF (from
``services.forms.pdf_path(form_code)`` or by downloading ``url``) and sends it.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import intent_buttons, send, unit_code
from services import forms, knowledge, menu
from services.procedures import INTENT_BY_PROCEDURE

logger = logging.getLogger(__name__)

# After a form: the next steps a citizen usually takes.
NEXT_STEPS = ["book_appointment", "ask_contact"]


def procedure_title(procedure: str) -> str:
    """The citizen-facing name of a procedure (the menu's label of its intent)."""
    intent = INTENT_BY_PROCEDURE.get(procedure)
    if intent is None and procedure == "crime_report":
        intent = "report_crime"
    return menu.label(intent) if intent else procedure


def form_message(form: forms.FormInfo) -> str:
    """The text sent with a form: what it is, for what, where, on what basis."""
    replies = forms.replies()
    url = forms.public_url(form.code)
    if form.official:
        lines = [replies.send.format(code=form.code, title=form.title)]
    else:
        lines = [replies.send_unofficial.format(title=form.title)]
    lines.append(form.purpose)
    lines.append("")
    lines.append(replies.download.format(url=url))
    if form.official_link:
        lines.append(replies.official.format(link=form.official_link))
    lines.append(replies.basis.format(legal_basis=form.legal_basis))
    if form.confidence == "U":
        lines.append(replies.unverified)
    return "\n".join(lines)


def send_form(dispatcher: CollectingDispatcher, form: forms.FormInfo) -> None:
    dispatcher.utter_message(
        text=form_message(form), buttons=intent_buttons(NEXT_STEPS)
    )
    dispatcher.utter_message(
        attachment={
            "type": "file",
            "url": forms.public_url(form.code),
            "name": form.file_name,
            "mime_type": "application/pdf",
            "form_code": form.code,
        }
    )


def _requested_procedure(tracker: Tracker) -> str | None:
    """The `procedure` entity of this message, else the slot, if it is one."""
    candidates = [
        next(tracker.get_latest_entity_values("procedure"), None),
        tracker.get_slot("procedure"),
    ]
    for value in candidates:
        if isinstance(value, str) and value in forms.PROCEDURES:
            return value
    return None


class ActionSendForm(Action):
    def name(self) -> str:
        return "action_send_form"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        try:
            return self._answer(dispatcher, tracker)
        except forms.FormsError:
            # an edit broke knowledge/forms.yml: say so politely, log for staff
            logger.exception("knowledge/forms.yml cannot be loaded")
            dispatcher.utter_message(response="utter_forms_unavailable")
            return []

    def _answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[Dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        procedure = _requested_procedure(tracker)
        for code in forms.mentioned(text):
            form = forms.get_form(code)
            if form is not None:
                send_form(dispatcher, form)
                return _remember(form.procedures, procedure)
            document = forms.get_police_document(code)
            if document is not None:
                return self._police_document(dispatcher, document, procedure)
        if procedure is None:
            return self._ask_procedure(dispatcher)
        candidates = forms.forms_for(procedure)
        if len(candidates) == 1:
            send_form(dispatcher, candidates[0])
        elif candidates:
            self._choose(dispatcher, tracker, procedure, candidates)
        else:
            self._no_form(dispatcher, procedure)
        return [SlotSet("procedure", procedure)]

    def _police_document(
        self,
        dispatcher: CollectingDispatcher,
        document: forms.PoliceDocument,
        procedure: str | None,
    ) -> List[Dict[str, Any]]:
        """CT07 is issued, not filled: say so, then send the request form."""
        replies = forms.replies()
        text = replies.police_issued.format(
            code=document.code, title=document.title, purpose=document.purpose
        )
        basis = replies.basis.format(legal_basis=document.legal_basis)
        dispatcher.utter_message(text=f"{text}\n{document.how_to_request}\n{basis}")
        form = forms.get_form(document.request_with)
        if form is not None:  # the catalogue guarantees it
            send_form(dispatcher, form)
        return _remember(document.procedures, procedure)

    def _ask_procedure(self, dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
        buttons = [
            {
                "title": button.title,
                "payload": f'/request_form{{"procedure": "{button.procedure}"}}',
            }
            for button in forms.ask_menu()
        ]
        dispatcher.utter_message(text=forms.replies().ask_procedure, buttons=buttons)
        return []

    def _choose(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        procedure: str,
        candidates: List[forms.FormInfo],
    ) -> None:
        """Several forms serve the procedure: a button each (the payload is the
        code as a citizen would type it). The text is the procedure's answer on
        its forms (which form is for whom, with its legal basis: "which form do
        I use?" lands here too); without one, a line per form and their basis."""
        buttons = [
            {"title": form.short_title, "payload": f"Mẫu {form.code}"}
            for form in candidates
        ]
        try:
            result = knowledge.answer(
                procedure, info_type="form", unit=unit_code(tracker)
            )
        except Exception:  # the content database is down: the forms still go out
            logger.exception("No knowledge answer on the forms of %s", procedure)
        else:
            if result.found and result.legal_basis:
                send(dispatcher, result.messages, buttons)
                return
        head = forms.replies().choose.format(
            procedure=procedure_title(procedure), count=len(candidates)
        )
        lines = [head, *(f"• {form.short_title}" for form in candidates)]
        basis = knowledge.legal_basis_line(form.legal_basis for form in candidates)
        if basis:
            lines.append(basis)
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)

    def _no_form(self, dispatcher: CollectingDispatcher, procedure: str) -> None:
        note = forms.no_form_note(procedure)
        if note is not None:
            basis = forms.replies().basis.format(legal_basis=note.legal_basis)
            text = f"{note.text}\n{basis}"
        else:
            text = forms.replies().none.format(procedure=procedure_title(procedure))
        dispatcher.utter_message(text=text, buttons=intent_buttons(["ask_contact"]))


def _remember(procedures: Sequence[str], current: str | None) -> List[Dict[str, Any]]:
    """Keep the conversation's procedure when the form serves it, else set it
    to the form's first procedure (so "còn lệ phí?" follows on)."""
    if current in procedures:
        return [SlotSet("procedure", current)]
    return [SlotSet("procedure", procedures[0])]
