"""Verbatim: the GUI by default (on the demo study when no study is given)."""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

DEBIAN_PACKAGES = ("libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 "
                   "libdbus-1-3 libglib2.0-0 libpulse0")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="verbatim", description="Offline desktop toolkit for interview studies.")
    parser.add_argument("study", nargs="?", type=Path,
                        help="a study folder (Name.verbatim); the demo study when omitted")
    parser.add_argument("--exit-after-show", action="store_true",
                        help=argparse.SUPPRESS)  # launch test and start-up timing
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import PySide6.QtWidgets  # noqa: F401  (fails here when system libraries are missing)
    except ImportError as e:
        print(f"Verbatim cannot start its window: {e}.\nOn Debian or Ubuntu, install the "
              f"system libraries Qt needs:\n  sudo apt-get install {DEBIAN_PACKAGES}",
              file=sys.stderr)
        return 2
    from gui.app import run

    return run(args.study, exit_after_show=args.exit_after_show, started=STARTED)


if __name__ == "__main__":
    sys.exit(main())
