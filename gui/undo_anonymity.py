"""Undo commands for anonymisation review (see gui/undo.py for the pattern).

Commands name an identifier by its original, not its id: undoing a registration deletes
the identifier and redoing it registers it again under a new id, so a later command in
the stack looks the id up when it runs (by the salted hash of the original, which is
what the registry keys on). Applying anonymisation is not undoable here: it has its own
Reverse, and the stack is cleared when it runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from gui.undo import StoreCommand
from study.errors import NotFoundError
from study.identifiers import normalise, term_hash
from study.model import (
    AnonymisationDecision,
    Candidate,
    Category,
    Decision,
    Identifier,
    IdentifierRule,
)
from study.store import Store

Spot = tuple[int, int, int]  # segment id, start, end
PERSON_LIKE = frozenset({Category.PERSON.value, Category.FAMILY.value,
                         Category.COLLEAGUE.value})


@dataclass(frozen=True, slots=True)
class Registration:
    """What registering an identifier takes: the original and how to replace it."""

    original: str
    category: str
    replacement: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    rule: IdentifierRule = IdentifierRule.ASK


def identifier_id_of(store: Store, original: str) -> int | None:
    """The id the original is registered under now, or None."""
    found = store.identifier_by_hash(term_hash(store.salt(), original))
    return found.id if found is not None else None


def _id_or_fail(store: Store, original: str) -> int:
    id_ = identifier_id_of(store, original)
    if id_ is None:
        raise NotFoundError(f"“{original}” is no longer registered.")
    return id_


@dataclass(frozen=True, slots=True)
class Registered:
    """What registering changed, so undo can put it back: the new identifier, and the
    candidates of the interviews where its occurrences were proposed, as they were."""

    identifier_id: int
    interview_ids: tuple[int, ...] = ()
    candidates_before: tuple[Candidate, ...] = ()


def _name_keys(original: str, category: str) -> set[str]:
    """The normal forms an identifier is proposed under: itself and, for a person's
    name of several words, each word (as detection proposes "Whitfield" after "Sarah
    Whitfield")."""
    keys = {normalise(original)}
    words = original.split()
    if category in PERSON_LIKE and len(words) > 1:
        keys |= {normalise(w) for w in words if len(normalise(w)) > 1}
    return keys


def register(store: Store, r: Registration) -> Registered:
    """Register an identifier and propose it wherever it occurs in the study (unless it
    is ruled "never"); candidates of the same original found earlier are linked to it,
    so its rule and the apply reach them. One transaction."""
    with store.write():
        changes = store.register_identifier(
            r.original, r.category, replacement=r.replacement or None,
            attributes=dict(r.attributes) or None, rule=r.rule)
        id_ = changes.new_id("identifier")
        return _propose(store, r, id_)


def _propose(store: Store, r: Registration, id_: int) -> Registered:
    from analysis.anonymise.detect import detect

    salt = store.salt()
    own = term_hash(salt, r.original)
    keys = _name_keys(r.original, r.category) if r.rule is not IdentifierRule.NEVER \
        else {normalise(r.original)}
    hits = {h.segment_id: h.interview_id for key in keys
            for h in store.search_text(key, whole_words=True)}
    every = store.candidates()
    same = normalise(r.original)  # same normal form, same hash: a quicker test first
    linkable = {c.segment_id for c in every
                if c.identifier_id is None and normalise(c.text) == same}
    interviews = sorted(set(hits.values()) | store.interviews_of_segments(sorted(linkable)))
    if not interviews:
        return Registered(id_)
    segments = {seg.id: seg for i in interviews for seg in store.segments(i)}
    before = tuple(c for c in every if c.segment_id in segments
                   and segments[c.segment_id].text[c.start:c.end] == c.text)
    by_spot = {(c.segment_id, c.start, c.end): c for c in before}
    for spot, c in by_spot.items():
        if c.identifier_id is None and normalise(c.text) == same and \
                term_hash(salt, c.text) == own:
            by_spot[spot] = dataclasses.replace(c, identifier_id=id_, id=None)
    if r.rule is not IdentifierRule.NEVER:
        texts = [(seg_id, segments[seg_id].text) for seg_id in sorted(hits)
                 if seg_id in segments]
        taken: dict[int, list[tuple[int, int]]] = {}
        for seg_id, start, end in by_spot:
            taken.setdefault(seg_id, []).append((start, end))
        for c in detect(texts, registered=[(r.original, r.category)], use_ner=False):
            if c.source not in ("registered", "propagated") or normalise(c.text) not in keys:
                continue
            if any(s < c.end and c.start < e for s, e in taken.get(c.segment_id, ())):
                continue
            linked = id_ if term_hash(salt, c.text) == own else None
            by_spot[(c.segment_id, c.start, c.end)] = dataclasses.replace(
                c, identifier_id=linked, source="registered" if linked else c.source)
            taken.setdefault(c.segment_id, []).append((c.start, c.end))
    after = sorted(by_spot.values(), key=lambda c: (c.segment_id, c.start))
    if [dataclasses.replace(c, id=None) for c in after] != \
            sorted((dataclasses.replace(c, id=None) for c in before),
                   key=lambda c: (c.segment_id, c.start)):
        store.replace_candidates(after, interview_ids=interviews)
    return Registered(id_, tuple(interviews), before)


def unregister(store: Store, original: str, registered: Registered | None) -> None:
    """Undo `register`: the proposals go back to what they were, then the identifier."""
    with store.write():
        if registered is not None and registered.interview_ids:
            store.replace_candidates(
                [dataclasses.replace(c, id=None) for c in registered.candidates_before],
                interview_ids=registered.interview_ids)
        store.delete_identifier(_id_or_fail(store, original))


class RegisterIdentifier(StoreCommand):
    def __init__(self, store: Store, registration: Registration, text: str = "") -> None:
        super().__init__(store, text or f"Register “{registration.original}”")
        self.registration = registration
        self.registered: Registered | None = None

    @property
    def identifier_id(self) -> int | None:
        return self.registered.identifier_id if self.registered is not None else None

    def apply(self) -> None:
        self.registered = register(self.store, self.registration)

    def revert(self) -> None:
        unregister(self.store, self.registration.original, self.registered)


class EditIdentifier(StoreCommand):
    """Change an identifier's category, attributes, replacement or rule."""

    def __init__(self, store: Store, original: str, before: Identifier, after: Identifier,
                 text: str = "") -> None:
        super().__init__(store, text or f"Edit the replacement of “{original}”")
        self.original, self.before, self.after = original, before, after

    def _put(self, identifier: Identifier) -> None:
        id_ = _id_or_fail(self.store, self.original)
        self.store.update_identifier(dataclasses.replace(identifier, id=id_))

    def apply(self) -> None:
        self._put(self.after)

    def revert(self) -> None:
        self._put(self.before)


class SetRule(StoreCommand):
    def __init__(self, store: Store, original: str, before: IdentifierRule,
                 after: IdentifierRule) -> None:
        what = {IdentifierRule.ALWAYS: "Always replace", IdentifierRule.NEVER: "Never replace",
                IdentifierRule.ASK: "Ask about"}[after]
        super().__init__(store, f"{what} “{original}”")
        self.original, self.before, self.after = original, before, after

    def apply(self) -> None:
        self.store.set_identifier_rule(_id_or_fail(self.store, self.original), self.after)

    def revert(self) -> None:
        self.store.set_identifier_rule(_id_or_fail(self.store, self.original), self.before)


@dataclass(frozen=True, slots=True)
class _Earlier:
    """A decision a command replaced, named by its identifier's original."""

    original: str
    decision: Decision


class Decide(StoreCommand):
    """Accept or reject one or more occurrences of a term in one step, registering the
    term first if it was only detected (undo then removes the registration too)."""

    def __init__(self, store: Store, registration: Registration, spots: Sequence[Spot],
                 decision: Decision, text: str = "") -> None:
        verb = "Replace" if decision is Decision.ACCEPT else "Keep"
        n = len(spots)
        super().__init__(store, text or (f"{verb} “{registration.original}”" if n == 1 else
                                         f"{verb} {n} occurrences of “{registration.original}”"))
        self.registration = registration
        self.spots = list(dict.fromkeys(spots))
        self.decision = decision
        self.registered: Registered | None = None
        self.earlier: dict[Spot, _Earlier] | None = None

    def _capture(self) -> dict[Spot, _Earlier]:
        wanted = set(self.spots)
        originals: dict[int, str | None] = {}
        earlier: dict[Spot, _Earlier] = {}
        for d in self.store.decisions():
            spot = (d.segment_id, d.start_offset, d.end_offset)
            if spot not in wanted:
                continue
            if d.identifier_id not in originals:
                originals[d.identifier_id] = self.store.identifier_original(d.identifier_id)
            original = originals[d.identifier_id]
            if original is not None:
                earlier[spot] = _Earlier(original, d.decision)
        return earlier

    def apply(self) -> None:
        store = self.store
        with store.write():
            if self.earlier is None:
                self.earlier = self._capture()
            id_ = identifier_id_of(store, self.registration.original)
            self.registered = None
            if id_ is None:
                self.registered = register(store, self.registration)
                id_ = self.registered.identifier_id
            for spot in self.spots:
                store.decide(AnonymisationDecision(id_, *spot, self.decision))

    def revert(self) -> None:
        store = self.store
        assert self.earlier is not None
        with store.write():
            for spot in self.spots:
                before = self.earlier.get(spot)
                if before is None:
                    store.undecide(*spot)
                else:
                    store.decide(AnonymisationDecision(_id_or_fail(store, before.original),
                                                       *spot, before.decision))
            if self.registered is not None:
                unregister(store, self.registration.original, self.registered)


class SetRuleOrRegister(StoreCommand):
    """'Always' or 'never' for a term: set the rule of a registered one, or register a
    detected one with that rule; one undo step either way."""

    def __init__(self, store: Store, registration: Registration, rule: IdentifierRule,
                 text: str = "") -> None:
        what = {IdentifierRule.ALWAYS: "Always replace", IdentifierRule.NEVER: "Never replace",
                IdentifierRule.ASK: "Ask about"}[rule]
        super().__init__(store, text or f"{what} “{registration.original}”")
        self.registration, self.rule = registration, rule
        self.before: IdentifierRule | None = None
        self.registered: Registered | None = None

    def apply(self) -> None:
        store = self.store
        id_ = identifier_id_of(store, self.registration.original)
        if id_ is None:
            self.registered = register(store, dataclasses.replace(self.registration,
                                                                  rule=self.rule))
            return
        if self.before is None:
            self.before = next(i.rule for i in store.identifiers() if i.id == id_)
        store.set_identifier_rule(id_, self.rule)

    def revert(self) -> None:
        id_ = _id_or_fail(self.store, self.registration.original)
        if self.registered is not None:
            unregister(self.store, self.registration.original, self.registered)
        else:
            assert self.before is not None
            self.store.set_identifier_rule(id_, self.before)


class SetSchemeTemplates(StoreCommand):
    """Change the replacement templates of one or more categories in one step."""

    def __init__(self, store: Store, before: dict[str, str], after: dict[str, str]) -> None:
        changed = sorted(c for c in after if after[c] != before.get(c))
        super().__init__(store, "Edit the replacement scheme" if len(changed) != 1 else
                         f"Edit the replacement for {changed[0]}")
        self.before = {c: before[c] for c in changed if c in before}
        self.after = {c: after[c] for c in changed}

    def apply(self) -> None:
        with self.store.write():
            for category, template in self.after.items():
                self.store.set_replacement_template(category, template)

    def revert(self) -> None:
        with self.store.write():
            for category, template in self.before.items():
                self.store.set_replacement_template(category, template)
