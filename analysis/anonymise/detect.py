"""Finding candidate identifiers in a whole study, for the researcher to review.

Sources, in the order they win when two finds overlap: names the researcher registered
("registered"), proper-noun glossary terms ("glossary"), the shape rules of `rules`
("rule"), spaCy's entities ("ner"), and propagation ("propagated"): every term any source
found once is proposed wherever else it occurs in the study, whatever its case and with
possessives ("Sarah's", "James'"), so one recognised "Ellie" catches the nine the model
missed. Between two finds of one source, and between "ner" and "propagated", the longer
span wins. One candidate per span.

Matching is by the normal form of `study.identifiers` (case, spacing, possessives and edge
punctuation ignored), so detection, the registry and the export leak check agree on what
is the same name.

Precision guards, because every false find costs the researcher a decision:
- the study itself tells names from ordinary words: a one-word term the study writes in
  lower case more often than capitalised in mid-sentence ("will", "they", "court") is
  proposed, and kept from the model, only where capitalised in mid-sentence, so a name
  "Will" does not bring every "will" nor every "Will" that starts a sentence; otherwise a
  mis-cased "sarah" is found too. A multi-word term's lower-case occurrences are proposed
  unless they outnumber its capitalised ones;
- parts of a multi-word person name (registered or found by the model) are proposed on
  their own ("Whitfield" after "Sarah Whitfield") only where that word is capitalised, and
  never titles or particles ("Dr", "Mrs", "de");
- a short list of words that are never identifiers in this kind of study ("Mum", "NHS",
  "the council") is not proposed from the model or propagation;
- ages are not propagated: "six" is an age after "she's" and nothing elsewhere;
- terms in `never` (the researcher said "not an identifier") are not proposed at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

from analysis.anonymise import rules
from study.identifiers import normalise, term_hash
from study.model import Candidate, Category, Identifier, IdentifierRule, Interview, Segment

SOURCES = ("registered", "glossary", "rule", "ner", "propagated")
_RANK = {"registered": 0, "glossary": 1, "rule": 2, "ner": 3, "propagated": 3}
PERSON_LIKE = frozenset({Category.PERSON.value, Category.FAMILY.value,
                         Category.COLLEAGUE.value})
BATCH = 64
# Found only where a rule sees them in context: "six" is an age after "she's", not elsewhere.
_LOCAL_ONLY = frozenset({Category.AGE.value})

# Words the model proposes that never identify anyone in a UK health or social care study:
# kinship names, national bodies and generic services, diagnoses, holidays.
COMMON_WORDS = frozenset(normalise(w) for w in (
    "Mum", "Mam", "Mummy", "Dad", "Daddy", "Nan", "Nana", "Nanna", "Gran", "Grandma",
    "Grandad", "Grandpa", "Granny", "Auntie", "Uncle", "God", "Jesus", "Christmas", "Easter",
    "NHS", "the NHS", "GP", "A&E", "CAMHS", "CMHT", "Ofsted", "DWP", "Universal Credit",
    "council", "the council", "social services", "Covid", "Covid-19", "Interviewer", "P",
    "Yeah", "OK", "Okay", "English", "British", "Teams", "Zoom", "Facebook", "WhatsApp",
    "Google", "Section", "Mental Health Act", "Care Act", "Children Act", "Police",
    "National Insurance", "NI", "PIP", "ESA", "EHCP", "SENCO", "SEND",
    "OT", "PE", "RE", "GCSE", "AMHP", "ASYE", "CPN", "CQC", "IAPT", "ADHD", "PTSD", "OCD",
    "MASH", "LADO", "MARAC", "CPA", "DipSW", "BASW", "HCPC", "ICB", "CCG",
    # diagnoses, therapies and legal orders the model takes for organisations
    "BPD", "EUPD", "ASD", "ASC", "CBT", "DBT", "EMDR", "MDT", "CTO", "CRHT", "DoLS", "ECT"))
_NAME_PART_SKIP = frozenset(normalise(w) for w in (
    "Dr", "Doctor", "Mr", "Mrs", "Ms", "Miss", "Nurse", "Sister", "Professor", "Prof", "Sir",
    "Lady", "Lord", "Saint", "St", "de", "van", "von", "der", "den", "da", "di", "le", "la",
    "du", "bin", "al", "el", "Mc", "Mac", "O", "Jr", "Junior", "Senior"))


class DetectionCancelled(Exception):
    """The user stopped detection; nothing was proposed."""


# --- matching terms in text -----------------------------------------------------------------

# Tokens are runs between spaces and the punctuation that cannot be inside a name, email,
# phone number or street address; their edges are trimmed of punctuation and possessives.
_TOKEN = re.compile(r"[^\s/—–()\[\]{}\"“”,;:!?]+")
_EDGE_START = re.compile(r"^[^\w+]+")
_EDGE_END = re.compile(r"[^\w]+$")
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int  # without edge punctuation and possessive
    key: str  # case-folded


def _key(text: str) -> str:
    return text.casefold() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        if word.isalnum():  # most words: nothing to trim
            tokens.append(_Token(m.start(), m.end(), _key(word)))
            continue
        lead = _EDGE_START.match(word)
        start = m.start() + (lead.end() if lead else 0)
        core = text[start:m.end()]
        core = _EDGE_END.sub("", core)
        possessive = _POSSESSIVE.search(core)
        if possessive and possessive.start() > 0:
            core = core[:possessive.start()]
        core = _EDGE_END.sub("", core)
        if core:
            tokens.append(_Token(start, start + len(core), _key(core)))
    return tokens


def _gaps(text: str, tokens: Sequence[_Token]) -> tuple[str, ...]:
    """What separates consecutive tokens, spaces left out: "Flat 3, 45" -> ("", ",")."""
    return tuple("".join(text[a.end:b.start].split()) for a, b in pairwise(tokens))


@dataclass(frozen=True, slots=True)
class _Term:
    keys: tuple[str, ...]
    gaps: tuple[str, ...]
    category: str
    source: str
    capitalised_only: bool = False  # propose only where the first letter is a capital
    case_guard: bool = False  # lower-case occurrences subject to the frequency guard


class _TermIndex:
    """Whole-word, case-insensitive search for many terms at once, in one pass per text."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[_Term]] = {}

    def add(self, term: _Term) -> None:
        bucket = self._by_first.setdefault(term.keys[0], [])
        if all(t.keys != term.keys or t.gaps != term.gaps for t in bucket):
            bucket.append(term)
            bucket.sort(key=lambda t: -len(t.keys))

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def find(self, text: str, tokens: Sequence[_Token] | None = None
             ) -> Iterable[tuple[int, int, _Term]]:
        tokens = _tokens(text) if tokens is None else tokens
        for i, token in enumerate(tokens):
            for term in self._by_first.get(token.key, ()):
                n = len(term.keys)
                window = tokens[i:i + n]
                if tuple(t.key for t in window) != term.keys:
                    continue
                if _gaps(text, window) != term.gaps:
                    continue
                if term.capitalised_only and not text[token.start].isupper():
                    continue
                yield token.start, window[-1].end, term


def _term(text: str, category: str, source: str, **flags: bool) -> _Term | None:
    tokens = _tokens(text)
    if not tokens:
        return None
    return _Term(tuple(t.key for t in tokens), _gaps(text, tokens), category, source, **flags)


# --- detection ------------------------------------------------------------------------------

def looks_like_proper_noun(term: str) -> bool:
    """A glossary term worth proposing: capitalised words ("St Anne's", "Harehills Lane"),
    not an all-capitals acronym, which in a glossary is nearly always jargon ("CAMHS")."""
    words = [w for w in term.split() if w.lower() not in ("of", "the", "and", "&", "on", "upon")]
    if not words or term.isupper():
        return False
    return all(w[:1].isupper() or w[:1].isdigit() for w in words)


def _resolve(found: Iterable[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """One find per span, (start, end, category, source): best source, then longest."""
    taken: list[tuple[int, int, str, str]] = []
    for start, end, category, source in sorted(
            found, key=lambda f: (_RANK[f[3]], f[0] - f[1], f[3] != "ner", f[0])):
        if all(end <= s or start >= e for s, e, _, _ in taken):
            taken.append((start, end, category, source))
    return sorted(taken)


def detect(texts: Sequence[tuple[int, str]], *,
           registered: Sequence[tuple[str, str]] = (),
           glossary: Sequence[str] = (),
           never: Sequence[str] = (),
           use_ner: bool = True,
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> list[Candidate]:
    """Candidates in `texts` ((segment id, text) pairs), sorted by segment and start.

    `registered` are (original, category) pairs the researcher entered; `never` are terms
    they ruled out. `progress(done, total)` counts texts; `cancelled()` returning true
    raises DetectionCancelled.
    """
    total = len(texts)
    never_set = {normalise(t) for t in never}
    tokens = [_tokens(text) for _, text in texts]

    def stop() -> None:
        if cancelled is not None and cancelled():
            raise DetectionCancelled()

    # Registered names and glossary terms: always searched for everywhere.
    chosen = _TermIndex()
    for original, category in registered:
        term = _term(original, category, "registered")
        if term and normalise(original) not in never_set:
            chosen.add(term)
            _add_name_parts(chosen, original, category)
    for word in glossary:
        term = _term(word, Category.OTHER.value, "glossary")
        if term and looks_like_proper_noun(word) and normalise(word) not in never_set:
            chosen.add(term)

    # The model and the rules, text by text.
    stop()
    if use_ner and texts:
        from analysis.anonymise import ner

        def batch_done(done: int) -> None:
            if progress is not None:
                progress(done, total)

        model_finds = ner.entities([text for _, text in texts], batch_size=BATCH,
                                   cancelled=cancelled, progress=batch_done)
        stop()
    else:
        model_finds = [[] for _ in texts]
    words = _WordCases(texts, tokens)
    per_text: list[list[tuple[int, int, str, str]]] = []
    for n, (_, text) in enumerate(texts):
        found = [(s, e, t.category, t.source) for s, e, t in chosen.find(text, tokens[n])
                 if t.source != "propagated" or words.plausible(text, s, e, t)]
        found += [(s, e, c, "rule") for s, e, c in rules.find_all(text)]
        found += [(s, e, c, "ner") for s, e, c in model_finds[n]
                  if normalise(text[s:e]) not in COMMON_WORDS
                  and words.plausible(text, s, e, None)]
        per_text.append(_resolve(f for f in found if normalise(text[f[0]:f[1]]) not in never_set))
        if not use_ner and progress is not None and (n + 1) % BATCH == 0:
            progress(n + 1, total)
        if (n + 1) % BATCH == 0:
            stop()

    # Propagation: everything found once, proposed wherever else it occurs.
    spread, majority = _propagation_index(texts, per_text, never_set)
    words.count_terms(texts, tokens, spread)
    for n, (_, text) in enumerate(texts):
        # One name, one category: the model's label where it is in the minority is
        # replaced by the one it gives the same term most often in the study.
        per_text[n] = [(s, e, majority.get(normalise(text[s:e]), c) if src == "ner" else c, src)
                       for s, e, c, src in per_text[n]]
        extra = []
        for s, e, term in spread.find(text, tokens[n]):
            if words.plausible(text, s, e, term):
                extra.append((s, e, term.category, "propagated"))
        if extra:
            per_text[n] = _resolve([*per_text[n], *extra])
        if (n + 1) % BATCH == 0:
            stop()
    if progress is not None:
        progress(total, total)
    return [Candidate(segment_id, s, e, text[s:e], category, source)
            for (segment_id, text), finds in zip(texts, per_text, strict=True)
            for s, e, category, source in finds]


def _add_name_parts(index: _TermIndex, name: str, category: str) -> None:
    """First name and surname of a multi-word person name, wherever capitalised."""
    if category not in PERSON_LIKE:
        return
    words = name.split()
    if len(words) < 2:
        return
    for word in words:
        key = normalise(word)
        if len(key) < 2 or key in _NAME_PART_SKIP or key in COMMON_WORDS:
            continue
        term = _term(word, category, "propagated", capitalised_only=True)
        if term is not None:
            index.add(term)


def _propagation_index(texts: Sequence[tuple[int, str]],
                       per_text: Sequence[Sequence[tuple[int, int, str, str]]],
                       never: set[str]) -> tuple[_TermIndex, dict[str, str]]:
    """Every term the glossary, rules or model found, under its most frequent category;
    and that category by normal form."""
    categories: dict[str, Counter[str]] = {}
    spelling: dict[str, str] = {}
    capitalised: set[str] = set()
    for (_, text), finds in zip(texts, per_text, strict=True):
        for s, e, category, source in finds:
            if source in ("registered", "propagated"):  # searched for already
                continue
            piece = text[s:e]
            norm = normalise(piece)
            if not norm or norm in never or norm in COMMON_WORDS or category in _LOCAL_ONLY:
                continue
            categories.setdefault(norm, Counter())[category] += 1
            spelling.setdefault(norm, piece)
            if any(c.isupper() for c in piece):
                capitalised.add(norm)
    index = _TermIndex()
    majority = {norm: counts.most_common(1)[0][0] for norm, counts in categories.items()}
    for norm, category in majority.items():
        term = _term(spelling[norm], category, "propagated", case_guard=norm in capitalised)
        if term is not None:
            index.add(term)
        if category == Category.PERSON.value:
            _add_name_parts(index, spelling[norm], category)
    return index, majority


def _sentence_initial(text: str, start: int) -> bool:
    """Whether the word at `start` begins a sentence, where a capital says nothing."""
    before = text[:start].rstrip(" \t\n\"'“‘(-—–")
    return not before or before[-1] in ".!?…:"


class _WordCases:
    """How words are written across the study, to tell names from ordinary words.

    A one-word term found with a capital is an ordinary word when the study writes it in
    lower case more often than with a capital in mid-sentence ("They", "Will", "Court"):
    then only its mid-sentence capitalised occurrences are names. Otherwise its lower-case
    occurrences are proposed too, unless they outnumber the capitalised ones.
    """

    def __init__(self, texts: Sequence[tuple[int, str]],
                 tokens: Sequence[Sequence[_Token]]) -> None:
        self.lower: Counter[str] = Counter()
        self.mid_capital: Counter[str] = Counter()
        for (_, text), toks in zip(texts, tokens, strict=True):
            for t in toks:
                first = text[t.start]
                if first.islower():
                    self.lower[t.key] += 1
                elif first.isupper() and not _sentence_initial(text, t.start):
                    self.mid_capital[t.key] += 1
        self.term_capitals: Counter[tuple[str, ...]] = Counter()
        self.term_lowers: Counter[tuple[str, ...]] = Counter()

    def count_terms(self, texts: Sequence[tuple[int, str]],
                    tokens: Sequence[Sequence[_Token]], index: _TermIndex) -> None:
        """Capitalised and lower-case occurrences of each multi-word term in `index`."""
        for (_, text), toks in zip(texts, tokens, strict=True):
            for s, e, term in index.find(text, toks):
                if term.case_guard and len(term.keys) > 1:
                    capital = any(c.isupper() for c in text[s:e])
                    (self.term_capitals if capital else self.term_lowers)[term.keys] += 1

    def common(self, key: str) -> bool:
        return self.lower[key] > self.mid_capital[key]

    def plausible(self, text: str, start: int, end: int, term: _Term | None) -> bool:
        """Whether an occurrence may be proposed; term None for the model's own finds."""
        piece = text[start:end]
        capital = any(c.isupper() for c in piece)
        if term is not None and not term.case_guard and not term.capitalised_only:
            return True  # found without capitals (an email, a role): case says nothing
        if " " not in piece.strip():
            key = _key(piece) if term is None else term.keys[0]
            if self.common(key):
                return piece[:1].isupper() and not _sentence_initial(text, start)
            return capital or (term is not None and not term.capitalised_only)
        if capital or term is None:
            return True
        return self.term_lowers[term.keys] <= self.term_capitals[term.keys]


# --- a whole study --------------------------------------------------------------------------

class DetectionStore(Protocol):
    """What detect_study reads from the study's store."""

    def interviews(self) -> list[Interview]: ...
    def segments(self, interview_id: int) -> list[Segment]: ...
    def identifiers(self) -> list[Identifier]: ...
    def originals(self) -> dict[int, str]: ...
    def glossary(self) -> list[str]: ...
    def salt(self) -> str: ...


def detect_study(store: DetectionStore, *, use_ner: bool = True,
                 progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> list[Candidate]:
    """Candidates over every segment of the study, each linked to the registry entry whose
    original it matches (by salted hash), for the review list."""
    texts = [(s.id, s.text) for interview in store.interviews() if interview.id is not None
             for s in store.segments(interview.id) if s.id is not None and s.text]
    identifiers = store.identifiers()
    originals = store.originals()
    registered = [(originals[i.id], i.category) for i in identifiers
                  if i.id in originals and i.rule != IdentifierRule.NEVER]
    never = [originals[i.id] for i in identifiers
             if i.id in originals and i.rule == IdentifierRule.NEVER]
    never_hashes = {i.original_hash for i in identifiers if i.rule == IdentifierRule.NEVER}
    by_hash = {i.original_hash: i.id for i in identifiers if i.rule != IdentifierRule.NEVER}
    found = detect(texts, registered=registered, glossary=store.glossary(), never=never,
                   use_ner=use_ner, progress=progress, cancelled=cancelled)
    salt = store.salt()
    linked = []
    for c in found:
        digest = term_hash(salt, c.text)
        if digest in never_hashes:  # ruled out, even when the original is no longer kept
            continue
        linked.append(Candidate(c.segment_id, c.start, c.end, c.text, c.category, c.source,
                                by_hash.get(digest)))
    return linked
