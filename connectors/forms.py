"""The form PDFs over HTTP, from the Rasa server: ``GET /forms/<name>.pdf``.

An input channel only to get a Sanic blueprint onto Rasa's server: Rasa mounts
each channel's blueprint at ``urljoin("/webhooks/", channel.url_prefix())``, and
an absolute prefix ("/forms") replaces the "/webhooks/" part, so the files are at
the root (``/forms/ct01.pdf``, what ``services.forms.public_url`` gives). It takes
no messages. Register it in credentials.yml as ``connectors.forms.FormsInput:``.

Only the exact file name of a known form is served (``ct01.pdf``, any case);
anything else is refused with 400 (not a file name we could have) or 404 (a
well-formed name of no form) before the file system is touched, and the path
served always comes from the catalogue, never from the request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from services import forms

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 80


class FormsInput(InputChannel):
    """Serves knowledge/forms.yml's forms as PDFs (no conversation)."""

    @classmethod
    def name(cls) -> str:
        return "forms"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls()

    def url_prefix(self) -> str:
        # absolute: urljoin("/webhooks/", "/forms") == "/forms"
        return forms.URL_PATH

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        files = Blueprint("forms_files", __name__)

        @files.route("/<name>", methods=["GET"])
        async def serve(request: Request, name: str) -> HTTPResponse:
            return await serve_form(name)

        return files


async def serve_form(name: str) -> HTTPResponse:
    """The response for a requested file name (see the module docstring)."""
    if len(name) > MAX_NAME_CHARS or not forms.FILE_NAME.match(name):
        return response.text("Bad form name.", status=400)
    try:
        catalogue = forms.catalogue()
        form = catalogue.by_file_name(name)
        if form is None:
            return response.text("No such form.", status=404)
        loop = asyncio.get_running_loop()
        path = await loop.run_in_executor(None, catalogue.pdf_path, form.code)
    except forms.FormsError:
        logger.exception("The forms catalogue cannot be loaded.")
        return response.text("Forms are unavailable right now.", status=503)
    if path.resolve().parent != catalogue.cache_dir.resolve():
        # cannot happen with names from the catalogue; refuse rather than serve
        logger.error("Refused to serve %s: outside the forms directory.", path)
        return response.text("No such form.", status=404)
    return await response.file(
        path,
        mime_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{form.file_name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=3600",
        },
    )
