"""The identifier registry and anonymisation decisions (originals live in the key file)."""

from __future__ import annotations

import json
from typing import Any

from study.model import AnonymisationDecision, Changes, Decision, Identifier, IdentifierRule
from study.store.core import StoreCore, now, parse_time


def _identifier(r: dict[str, Any]) -> Identifier:
    return Identifier(r["category"], r["replacement"], r["original_hash"],
                      tuple(sorted(json.loads(r["attributes"]).items())), r["id"],
                      IdentifierRule(r["rule"]), r["word_count"])


class AnonymityMixin(StoreCore):
    def identifiers(self) -> list[Identifier]:
        return [_identifier(r) for r in self.rows("SELECT * FROM identifiers ORDER BY id")]

    def identifier_by_hash(self, original_hash: str) -> Identifier | None:
        rows = self.rows("SELECT * FROM identifiers WHERE original_hash = ?", (original_hash,))
        return _identifier(rows[0]) if rows else None

    def add_identifier(self, i: Identifier) -> Changes:
        with self.write() as tx:
            id_ = self.insert("identifiers", {
                "category": i.category, "replacement": i.replacement,
                "original_hash": i.original_hash, "attributes": json.dumps(dict(i.attributes)),
                "rule": i.rule.value, "word_count": i.word_count})
            tx.add("identifier", id_)
            self.audit("identifier registered", id=id_, category=i.category,
                       replacement=i.replacement)
        return tx.changes()

    def update_identifier(self, i: Identifier) -> Changes:
        assert i.id is not None
        with self.write() as tx:
            self.update_row("identifiers", i.id, {
                "category": i.category, "replacement": i.replacement,
                "attributes": json.dumps(dict(i.attributes)), "rule": i.rule.value})
            tx.update("identifier", i.id)
            self.audit("identifier edited", id=i.id, replacement=i.replacement)
        return tx.changes()

    def decisions(self, identifier_id: int | None = None) -> list[AnonymisationDecision]:
        sql = "SELECT * FROM anonymisation_decisions"
        rows = (self.rows(sql + " WHERE identifier_id = ? ORDER BY id", (identifier_id,))
                if identifier_id is not None else self.rows(sql + " ORDER BY id"))
        return [
            AnonymisationDecision(r["identifier_id"], r["segment_id"], r["start_offset"],
                                  r["end_offset"], Decision(r["decision"]),
                                  parse_time(r["decided_at"]), r["id"])
            for r in rows
        ]

    def decide(self, d: AnonymisationDecision) -> Changes:
        """Record (or change) the verdict on one occurrence; audited."""
        with self.write() as tx:
            self.db.execute(
                "DELETE FROM anonymisation_decisions WHERE segment_id = ? AND start_offset = ? "
                "AND end_offset = ?", (d.segment_id, d.start_offset, d.end_offset))
            id_ = self.insert("anonymisation_decisions", {
                "identifier_id": d.identifier_id, "segment_id": d.segment_id,
                "start_offset": d.start_offset, "end_offset": d.end_offset,
                "decision": d.decision.value, "decided_at": now().isoformat()})
            tx.add("decision", id_)
            self.audit("anonymisation decision", identifier=d.identifier_id,
                       segment=d.segment_id, start=d.start_offset, end=d.end_offset,
                       decision=d.decision.value)
        return tx.changes()
