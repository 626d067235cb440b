"""Before an export that carries interview text leaves a study that has not been
anonymised, say so: the leak check can only refuse names the study knows of (registered
ones), and before anonymisation every name in the transcripts is still there."""

from __future__ import annotations

from gui.questions import Ask, ask_yes_no
from study.store import Store

ask: Ask = ask_yes_no  # a hook: tests answer it


def confirm_unanonymised_export(store: Store, what: str) -> bool:
    """True when `what` (e.g. "this transcript") may go: the study is anonymised, holds no
    transcript text yet, or the researcher says so."""
    if store.is_anonymised() or not store.table_counts()["segments"]:
        return True
    return ask("Not anonymised yet",
               f"This study has not been anonymised, so {what} will hold the transcripts' "
               "words as they are, real names and places included.\n\nExport it anyway? "
               "(No: review and apply the anonymisation first, on the Anonymise page.)")
