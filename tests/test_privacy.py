"""No phone, CCCD number or tip text reaches a log line."""

import io
import json
import logging
from typing import Iterator

import pytest

from services import privacy

PHONES = [
    "0912345678",
    "0912 345 678",
    "+84 912 345 678",
    "84912345678",
    "+84-28-3829-1234",
    "028.3829.1234",
    "091.234.5678",
]
CCCD = "079201001234"
TIP = "Ông Tư ở hẻm 9 bán ma túy cho học sinh"


@pytest.fixture
def installed() -> Iterator[None]:
    privacy.install()
    yield
    privacy.uninstall()
    privacy.forget_registered()


def capture(name: str, propagate: bool = True) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = propagate
    return logger, stream


@pytest.mark.parametrize("phone", PHONES)
def test_phone_formats_are_masked(phone: str) -> None:
    masked = privacy.mask(f"gọi em số {phone} nhé")
    assert phone not in masked and "***" in masked
    assert masked.startswith("gọi em số ") and masked.endswith(" nhé")


def test_things_that_are_not_phones_stay() -> None:
    line = "booking 2026-12-01 08:30 id 42 took 0.0123s, 3 slots, 1200 ms"
    assert privacy.mask(line) == line
    assert privacy.mask(f"cccd {CCCD}.") == "cccd ***."


def test_rasa_processor_lines_are_masked(installed: None) -> None:
    logger, stream = capture("rasa.core.processor", propagate=False)
    # what structlog hands to the stdlib logger, JSON and console renderings
    logger.debug(
        json.dumps(
            {
                "event": "processor.message.parse",
                "parse_data_text": f"{TIP}, sđt 0912345678",
                "parse_data_entities": [
                    {"entity": "phone_number", "value": "0912345678"}
                ],
            },
            ensure_ascii=False,
        )
    )
    logger.debug("processor.slots.log slot_values='\\ttip_what: %s\\n\\tunit: XA'", TIP)
    logger.debug("Received user message '%s' with intent '%s'", TIP, "report_crime")
    output = stream.getvalue()
    assert TIP not in output and "0912345678" not in output
    assert "processor.message.parse" in output and "report_crime" in output


def test_registered_tip_fields_are_masked_everywhere(installed: None) -> None:
    privacy.register(TIP, "hẻm 9 Lê Lợi")
    logger, stream = capture("actions.tips")
    logger.info("tip saved: %s at %s", TIP, "hẻm 9 Lê Lợi")
    assert TIP not in stream.getvalue() and "hẻm 9 Lê Lợi" not in stream.getvalue()


def test_loggers_and_handlers_created_after_install(installed: None) -> None:
    logger, stream = capture("brand.new.logger.after.install")
    logger.warning("citizen %s, cccd %s", "0987654321", CCCD)
    assert "0987654321" not in stream.getvalue() and CCCD not in stream.getvalue()


def test_exception_messages_and_tracebacks_are_masked(installed: None) -> None:
    logger, stream = capture("rasa.core.actions.action")
    try:
        raise ValueError(f"bad phone 0912345678 for {CCCD}")
    except ValueError:
        logger.exception("action failed for %s", "0912345678")
    output = stream.getvalue()
    assert "0912345678" not in output and CCCD not in output
    assert "ValueError" in output and "Traceback" in output


def test_handmade_records_are_masked_by_the_handler_filter(installed: None) -> None:
    logger, stream = capture("sanic.access")
    privacy._attach_filters()  # what install() does for existing handlers
    record = logging.makeLogRecord(
        {
            "name": "sanic.access",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "phone %s",
            "args": ("0912345678",),
        }
    )
    logger.handle(record)
    assert "0912345678" not in stream.getvalue()


def test_root_logger_output_is_masked(
    installed: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("rasa.core.agent").info("sender 0912345678 said %s", TIP)
    assert "0912345678" not in caplog.text
    assert "sender *** said" in caplog.text


def test_the_action_server_masks_its_logs() -> None:
    """``rasa run actions`` imports the actions package: its logs are masked."""
    import subprocess
    import sys

    code = (
        "import logging, sys\n"
        "logging.basicConfig(stream=sys.stdout, level=logging.INFO)\n"
        "import actions\n"
        "log = logging.getLogger('rasa_sdk.executor')\n"
        "log.info('goi 0912345678, cccd 079203001234')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "goi" in out
    assert "0912345678" not in out and "079203001234" not in out
