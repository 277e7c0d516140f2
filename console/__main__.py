"""``python -m console``: serve the web console; ``add-officer`` makes an account.

``python -m console add-officer --unit CODE --username NAME --role officer|admin``
reads the password from standard input (one line), so it never appears in the
shell history or the process list.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List

from services import db, officers
from services.errors import ServiceError

DEFAULT_PORT = 8080


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console")
    commands = parser.add_subparsers(dest="command")
    add = commands.add_parser("add-officer", help="create an officer account")
    add.add_argument("--unit", required=True)
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=officers.ROLES)
    args = parser.parse_args(argv)
    if args.command == "add-officer":
        db.upgrade()
        password = sys.stdin.readline().rstrip("\r\n")
        try:
            viewer = officers.add_officer(args.unit, args.username, args.role, password)
        except ServiceError as error:
            print(f"Error: {error}", file=sys.stderr)
            return 2
        print(
            f"Officer {viewer.username} ({viewer.role}) of {viewer.unit} created; "
            f"sees {len(viewer.units)} unit(s)."
        )
        return 0
    from console.web import create_app

    port = int(os.environ.get("CONSOLE_PORT", DEFAULT_PORT))
    host = os.environ.get("CONSOLE_HOST", "127.0.0.1")
    create_app("officers_console").run(host=host, port=port, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
