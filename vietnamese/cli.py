"""Rasa's command line with ``vietnamese.speedups`` installed first.

    python -m vietnamese.cli train|test|run|shell|data ... (the same arguments)

The Makefile runs every ``rasa`` command through this; the models and reports
are the ones plain ``rasa`` makes, only training is faster.
"""

from __future__ import annotations

import sys

from vietnamese import speedups


def main() -> None:
    speedups.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
