"""How an identifier is recognised without keeping it: a normal form (case, spacing,
possessive and surrounding punctuation do not matter) and its salted hash. Detection,
the registry and the export leak check all use these, so they agree on what is "the
same name"."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_POSSESSIVE = re.compile(r"(?:['’]s|s['’])$", re.IGNORECASE)
_EDGES = re.compile(r"^[^\w]+|[^\w]+$")


def normalise(term: str) -> str:
    """'  Sarah   JONES’s ' -> 'sarah jones'; "James'" -> 'james'."""
    text = unicodedata.normalize("NFKC", term).strip()
    text = _EDGES.sub("", text)
    if _POSSESSIVE.search(text):
        text = text[:-2] if text[-2] in "'’" else text[:-1]
    return " ".join(text.casefold().split())


def word_count(term: str) -> int:
    return max(1, len(normalise(term).split()))


def term_hash(salt: str, term: str) -> str:
    """The salted SHA-256 of a term's normal form: what the study keeps of an original."""
    return hashlib.sha256(f"{salt}\x00{normalise(term)}".encode()).hexdigest()
