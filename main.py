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


def transcribe_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="verbatim transcribe",
        description="Transcribe interviews of a study on this computer, one after another.")
    parser.add_argument("study", type=Path, help="the study folder (Name.verbatim)")
    parser.add_argument("targets", nargs="+", metavar="INTERVIEW_OR_AUDIO",
                        help="an interview (title, participant code or id) or an audio file "
                             "to import and transcribe")
    parser.add_argument("--model", default="tiny.en",
                        help="tiny.en (bundled), base, or folder:/path/to/ctranslate2-model")
    parser.add_argument("--fast", action="store_true", help="greedy decoding instead of beam 5")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: all)")
    parser.add_argument("--replace", action="store_true",
                        help="transcribe again an interview that has a transcript")
    parser.add_argument("--split-stereo", action="store_true",
                        help="one speaker per stereo channel")
    args = parser.parse_args(argv)
    from study.errors import StudyError
    from transcription.headless import transcribe

    try:
        return transcribe(args.study, args.targets, model=args.model, fast=args.fast,
                          threads=args.threads, replace=args.replace,
                          split_stereo=args.split_stereo)
    except StudyError as e:
        print(f"verbatim: {e}", file=sys.stderr)
        return 2


def check_command(argv: list[str]) -> int:
    """Exit 0 when the study is sound (warnings allowed), 1 when it has problems or is
    damaged, 2 when the folder is not a study Verbatim can check."""
    parser = argparse.ArgumentParser(
        prog="verbatim check",
        description="Check a study for damage: SQLite's integrity checks and Verbatim's own "
                    "rules (codings, transcript order, memos, anonymisation). Changes nothing.")
    parser.add_argument("study", type=Path, help="the study folder (Name.verbatim)")
    args = parser.parse_args(argv)
    from study.consistency import check_study, error_count
    from study.errors import NotAStudyError, StudyDamagedError, StudyError
    from study.folder import StudyFolder, backups, damage_of, open_study, study_path

    folder = StudyFolder(study_path(args.study))
    try:  # no backup, no job recovery: a check must not change the study
        study = open_study(folder.root, backup=False, recover_jobs=False)
    except (StudyDamagedError, NotAStudyError) as e:
        damage = damage_of(folder.database)
        kept = backups(folder)
        if isinstance(e, NotAStudyError) and (damage is None or not kept):
            print(f"verbatim check: {e}", file=sys.stderr)
            return 2
        reason = f"{folder.database}: {damage}" if damage else str(e).rstrip(".")
        print(f"DAMAGED: {reason}.")
        if kept:
            print(f"The newest of its {len(kept)} backups is {kept[0].name}; restore it in "
                  "Verbatim with Help > Restore from backup.")
        return 1
    except StudyError as e:  # a newer schema, or locked by another program
        print(f"verbatim check: {e}", file=sys.stderr)
        return 2
    with study:
        problems = check_study(study.store)
        counts = study.store.table_counts()
        name = study.name
    for problem in problems:
        print(problem)
    errors = error_count(problems)
    if errors:
        print(f"{errors} problem{'s' if errors != 1 else ''} found in {name}.")
        return 1
    warned = len(problems) - errors
    summary = ", ".join(f"{n} {table.removesuffix('s') if n == 1 else table}"
                        for table, n in counts.items())
    print(f"OK: {name}: {summary}"
          + (f" ({warned} warning{'s' if warned != 1 else ''})." if warned else "."))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["transcribe"]:
        return transcribe_command(argv[1:])
    if argv[:1] == ["check"]:
        return check_command(argv[1:])
    args = parse_args(argv)
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
