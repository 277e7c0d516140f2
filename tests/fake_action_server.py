"""The action server on the fake citizen services (tests/fake_services.py), for
running the e2e test stories before the services branches are merged:

    PYTHONPATH=. .venv/bin/python -m tests.fake_action_server --port 5055
"""

from __future__ import annotations

import sys

from tests import fake_services


def main() -> None:
    fake_services.install()
    from rasa_sdk.__main__ import main as sdk_main

    sys.argv = [sys.argv[0], "--actions", "actions", *sys.argv[1:]]
    sdk_main()


if __name__ == "__main__":
    main()
