"""The codebook, codings anchored to segments, and themes built from codes."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from study.errors import ValidationError
from study.model import (
    Changes,
    Code,
    CodeSnapshot,
    Coding,
    CodingRef,
    Memo,
    Theme,
    ThemeStatus,
)
from study.store.core import StoreCore, Transaction, now
from study.store.notes import _memo

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _code(r: dict[str, Any]) -> Code:
    return Code(r["name"], r["parent_id"], r["definition"], r["colour"], r["position"], r["id"])


def _coding(r: dict[str, Any]) -> Coding:
    return Coding(r["code_id"], r["interview_id"], r["start_segment_id"], r["start_offset"],
                  r["end_segment_id"], r["end_offset"], r["id"])


def _coding_row(c: Coding) -> dict[str, Any]:
    return {"code_id": c.code_id, "interview_id": c.interview_id,
            "start_segment_id": c.start_segment_id, "start_offset": c.start_offset,
            "end_segment_id": c.end_segment_id, "end_offset": c.end_offset}


def _memo_row(m: Memo) -> dict[str, Any]:
    created = m.created_at or now()
    return {"target": m.target.value, "target_id": m.target_id,
            "start_offset": m.start_offset, "end_offset": m.end_offset, "text": m.text,
            "created_at": created.isoformat(), "updated_at": (m.updated_at or created).isoformat()}


def _ids(ids: Sequence[int] | set[int]) -> str:
    """A list of ids as one SQL parameter, for `IN (SELECT value FROM json_each(?))`."""
    return json.dumps(sorted(int(i) for i in ids))


class CodebookMixin(StoreCore):
    # --- codes -------------------------------------------------------------------------------

    def codes(self) -> list[Code]:
        return [_code(r) for r in self.rows(
            "SELECT * FROM codes ORDER BY position, name COLLATE NOCASE")]

    def code(self, code_id: int) -> Code:
        return _code(self.one("SELECT * FROM codes WHERE id = ?", (code_id,), "code"))

    def _check_code(self, c: Code) -> None:
        if not c.name.strip():
            raise ValidationError("A code needs a name.")
        if not COLOUR.match(c.colour):
            raise ValidationError(f"{c.colour!r} is not a colour like #4e79a7.")
        if c.id is not None and c.parent_id is not None:
            ancestor: int | None = c.parent_id
            while ancestor is not None:
                if ancestor == c.id:
                    raise ValidationError("A code cannot be placed inside itself.")
                ancestor = self.code(ancestor).parent_id
        clash = self.rows(
            "SELECT id FROM codes WHERE name = ? COLLATE NOCASE AND parent_id IS ? AND id IS NOT ?",
            (c.name.strip(), c.parent_id, c.id))
        if clash:
            raise ValidationError(f"There is already a code {c.name.strip()!r} at that level.")

    def _code_row(self, c: Code) -> dict[str, Any]:
        return {"name": c.name.strip(), "parent_id": c.parent_id, "definition": c.definition,
                "colour": c.colour.lower(), "position": c.position}

    def add_code(self, c: Code) -> Changes:
        self._check_code(c)
        with self.write() as tx:
            row = self._code_row(c)
            if c.id is not None:
                row = {"id": c.id, **row}
            id_ = self.insert("codes", row)
            tx.add("code", id_)
            self.audit("code added", id=id_, name=row["name"])
        return tx.changes()

    def update_code(self, c: Code) -> Changes:
        if c.id is None:
            raise ValidationError("Only a saved code can be updated.")
        self._check_code(c)
        with self.write() as tx:
            self.update_row("codes", c.id, self._code_row(c))
            tx.update("code", c.id)
        return tx.changes()

    def delete_code(self, code_id: int) -> Changes:
        """Delete a code, its sub-codes and their codings; the caller should have shown
        `coding_count(code_id, with_children=True)` to the researcher first."""
        with self.write() as tx:
            subtree = self.code_subtree(code_id)
            marks = ", ".join("?" * len(subtree))
            for r in self.rows(f"SELECT id FROM codings WHERE code_id IN ({marks})", subtree):
                tx.remove("coding", r["id"])
            for r in self.rows(
                    f"SELECT DISTINCT theme_id FROM theme_codes WHERE code_id IN ({marks})",
                    subtree):
                tx.update("theme", r["theme_id"])
            name = self.code(code_id).name
            self.delete_row("codes", code_id)
            for cid in subtree:
                tx.remove("code", cid)
            self.audit("code deleted", id=code_id, name=name)
        return tx.changes()

    def code_subtree(self, code_id: int) -> list[int]:
        """The code and all codes below it."""
        return [r["id"] for r in self.rows("""
            WITH RECURSIVE sub(id) AS (
                SELECT ? UNION ALL SELECT c.id FROM codes c JOIN sub ON c.parent_id = sub.id)
            SELECT id FROM sub""", (code_id,))]

    def coding_counts(self) -> dict[int, int]:
        return {r["code_id"]: r["n"] for r in self.rows(
            "SELECT code_id, count(*) AS n FROM codings GROUP BY code_id")}

    def code_map_positions(self) -> dict[int, tuple[float, float]]:
        """Where each placed code sits on the thematic map (unplaced codes are absent)."""
        return {r["id"]: (r["map_x"], r["map_y"]) for r in self.rows(
            "SELECT id, map_x, map_y FROM codes WHERE map_x IS NOT NULL AND map_y IS NOT NULL")}

    def set_map_positions(self, *, themes: dict[int, tuple[float, float] | None] | None = None,
                          codes: dict[int, tuple[float, float] | None] | None = None) -> Changes:
        """Save where themes and codes sit on the thematic map, in one transaction;
        None un-places one (it goes back to the automatic layout)."""
        with self.write() as tx:
            for table, kind, moved in (("themes", "theme", themes or {}),
                                       ("codes", "code", codes or {})):
                for id_, xy in moved.items():
                    x, y = xy if xy is not None else (None, None)
                    self.update_row(table, id_, {"map_x": x, "map_y": y})
                    tx.update(kind, id_)
        return tx.changes()

    # --- reorganising the codebook: move, merge, and snapshots that undo them -----------------

    def _children(self, parent_id: int | None) -> list[Code]:
        """The codes right under `parent_id` (None: the top level), in codebook order."""
        return [_code(r) for r in self.rows(
            "SELECT * FROM codes WHERE parent_id IS ? ORDER BY position, name COLLATE NOCASE, id",
            (parent_id,))]

    def _name_taken(self, name: str, parent_id: int | None, *others_than: int) -> bool:
        return bool(self.rows(
            "SELECT id FROM codes WHERE name = ? COLLATE NOCASE AND parent_id IS ? "
            "AND id NOT IN (SELECT value FROM json_each(?))",
            (name.strip(), parent_id, _ids(others_than))))

    def _place_codes(self, parent_id: int | None, order: list[Code], tx: Transaction,
                     reported: set[int]) -> None:
        """Make `order` the codes under `parent_id`, at positions 0..n-1; report each code
        whose parent or position changed, once."""
        for n, c in enumerate(order):
            assert c.id is not None
            if (c.parent_id, c.position) != (parent_id, n):
                self.db.execute("UPDATE codes SET parent_id = ?, position = ? WHERE id = ?",
                                (parent_id, n, c.id))
                if c.id not in reported:
                    reported.add(c.id)
                    tx.update("code", c.id)

    def move_code(self, code_id: int, parent_id: int | None, position: int) -> Changes:
        """Put a code under `parent_id` (None: the top level) at index `position` among its
        new siblings (clamped to the ends). Both levels are renumbered 0..n-1, so moving
        it back to its old parent and index undoes the move."""
        with self.write() as tx:
            code = self.code(code_id)
            if parent_id is not None:
                parent = self.code(parent_id)
                if parent_id in self.code_subtree(code_id):
                    raise ValidationError(f"{code.name!r} cannot be moved into {parent.name!r}: "
                                          "a code cannot be placed inside itself or its own "
                                          "sub-codes.")
            if self._name_taken(code.name, parent_id, code_id):
                raise ValidationError(f"There is already a code {code.name!r} at that level; "
                                      "rename one of them first.")
            siblings = [c for c in self._children(parent_id) if c.id != code_id]
            siblings.insert(max(0, min(position, len(siblings))), code)
            reported: set[int] = set()
            self._place_codes(parent_id, siblings, tx, reported)
            if code.parent_id != parent_id:
                self._place_codes(code.parent_id, self._children(code.parent_id), tx, reported)
        return tx.changes()

    def merge_codes(self, source_id: int, target_id: int) -> Changes:
        """Fold `source` into `target`: its codings, sub-codes, theme memberships and memos
        move to the target, then it goes. A coding the target already has on the very same
        span is deleted (its memos move to the target's). Undo: restore_code_snapshots of
        both codes' snapshots taken before."""
        if source_id == target_id:
            raise ValidationError("A code cannot be merged into itself.")
        with self.write() as tx:
            source, target = self.code(source_id), self.code(target_id)
            if target_id in self.code_subtree(source_id):
                raise ValidationError(f"{source.name!r} cannot be merged into its own sub-code "
                                      f"{target.name!r}.")
            children = self._children(source_id)
            for child in children:
                if self._name_taken(child.name, target_id, source_id):
                    raise ValidationError(
                        f"{target.name!r} already has a sub-code called {child.name!r}; "
                        f"rename one of them before merging {source.name!r} into it.")
            moved, dropped = self._merge_codings(source_id, target_id, tx)
            order = [c for c in self._children(target_id) if c.id != source_id] + children
            self._place_codes(target_id, order, tx, set())
            for r in self.rows("SELECT theme_id FROM theme_codes WHERE code_id = ? "
                               "ORDER BY theme_id", (source_id,)):
                self.db.execute("INSERT OR IGNORE INTO theme_codes (theme_id, code_id) "
                                "VALUES (?, ?)", (r["theme_id"], target_id))
                tx.update("theme", r["theme_id"])
            self._retarget_memos("code", source_id, target_id, tx)
            self.delete_row("codes", source_id)
            tx.remove("code", source_id)
            self.audit("codes merged", source=source_id, source_name=source.name,
                       target=target_id, target_name=target.name, codings_moved=moved,
                       duplicates_removed=dropped)
        return tx.changes()

    def _merge_codings(self, source_id: int, target_id: int, tx: Transaction) -> tuple[int, int]:
        """Move the source's codings to the target, dropping exact duplicates; returns
        (moved, dropped)."""
        def span(c: Coding) -> tuple[int, ...]:
            return (c.interview_id, c.start_segment_id, c.start_offset, c.end_segment_id,
                    c.end_offset)
        kept = {span(c): c.id for c in self.codings(code_id=target_id)}
        moved = dropped = 0
        for c in self.codings(code_id=source_id):
            assert c.id is not None
            twin = kept.get(span(c))
            if twin is not None:
                self._retarget_memos("coding", c.id, twin, tx)
                self.delete_row("codings", c.id)
                tx.remove("coding", c.id)
                dropped += 1
            else:
                self.db.execute("UPDATE codings SET code_id = ? WHERE id = ?", (target_id, c.id))
                tx.update("coding", c.id)
                kept[span(c)] = c.id
                moved += 1
        return moved, dropped

    def _retarget_memos(self, target: str, old_id: int, new_id: int, tx: Transaction) -> None:
        for r in self.rows("SELECT id FROM memos WHERE target = ? AND target_id = ?",
                           (target, old_id)):
            self.db.execute("UPDATE memos SET target_id = ? WHERE id = ?", (new_id, r["id"]))
            tx.update("memo", r["id"])

    def code_snapshot(self, code_id: int) -> CodeSnapshot:
        """The code, its subtree and all that hangs on them, as they are now: what
        restore_code_snapshots puts back after a delete or merge."""
        self.code(code_id)
        codes = tuple(_code(r) for r in self.rows("""
            WITH RECURSIVE sub(id, depth) AS (
                SELECT ?, 0 UNION ALL
                SELECT c.id, sub.depth + 1 FROM codes c JOIN sub ON c.parent_id = sub.id)
            SELECT codes.* FROM sub JOIN codes ON codes.id = sub.id
            ORDER BY sub.depth, codes.position, codes.name COLLATE NOCASE, codes.id""",
                                                  (code_id,)))
        code_ids = _ids([c.id for c in codes if c.id is not None])
        codings = tuple(_coding(r) for r in self.rows(
            "SELECT * FROM codings WHERE code_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY id", (code_ids,)))
        links = tuple((r["theme_id"], r["code_id"]) for r in self.rows(
            "SELECT theme_id, code_id FROM theme_codes "
            "WHERE code_id IN (SELECT value FROM json_each(?)) ORDER BY theme_id, code_id",
            (code_ids,)))
        memos = tuple(_memo(r) for r in self.rows("""
            SELECT * FROM memos
            WHERE (target = 'code' AND target_id IN (SELECT value FROM json_each(?)))
               OR (target = 'coding' AND target_id IN (SELECT value FROM json_each(?)))
            ORDER BY id""", (code_ids, _ids([c.id for c in codings if c.id is not None]))))
        places = tuple((r["id"], r["map_x"], r["map_y"]) for r in self.rows(
            "SELECT id, map_x, map_y FROM codes WHERE id IN (SELECT value FROM json_each(?)) "
            "AND map_x IS NOT NULL AND map_y IS NOT NULL ORDER BY id", (code_ids,)))
        return CodeSnapshot(codes, codings, links, memos, places)

    def restore_code_snapshots(self, snapshots: Sequence[CodeSnapshot]) -> Changes:
        """Make the snapshots' codes exactly as they were, with the same ids: the codes
        (re-created if deleted), their codings, theme memberships, memos and map places.
        Codings and code memos made on them since, and not in a snapshot, go.

        All snapshots count as one: after a merge, codings that moved from source to
        target belong to the source's snapshot and must not be lost restoring the target.
        """
        codes = {c.id: c for s in snapshots for c in s.codes if c.id is not None}
        codings = {c.id: c for s in snapshots for c in s.codings if c.id is not None}
        memos = {m.id: m for s in snapshots for m in s.memos if m.id is not None}
        links = sorted({link for s in snapshots for link in s.theme_links})
        places = {id_: (x, y) for s in snapshots for id_, x, y in s.map_positions}
        code_ids = _ids(codes)
        with self.write() as tx:
            for id_, c in codes.items():
                x, y = places.get(id_, (None, None))
                self._put("codes", "code", id_, {**self._code_row(c), "map_x": x, "map_y": y}, tx)
            for r in self.rows("SELECT id FROM codings WHERE code_id IN "
                               "(SELECT value FROM json_each(?)) ORDER BY id", (code_ids,)):
                if r["id"] not in codings:
                    self.delete_row("codings", r["id"])
                    tx.remove("coding", r["id"])
            for id_, coding in codings.items():
                self._put("codings", "coding", id_, _coding_row(coding), tx)
            themes = {r["theme_id"] for r in self.rows(
                "SELECT theme_id FROM theme_codes WHERE code_id IN "
                "(SELECT value FROM json_each(?))", (code_ids,))}
            self.db.execute("DELETE FROM theme_codes WHERE code_id IN "
                            "(SELECT value FROM json_each(?))", (code_ids,))
            for theme_id, code_id in links:
                self.db.execute("INSERT INTO theme_codes (theme_id, code_id) VALUES (?, ?)",
                                (theme_id, code_id))
            for theme_id in sorted(themes | {t for t, _ in links}):
                tx.update("theme", theme_id)
            for r in self.rows("SELECT id FROM memos WHERE target = 'code' AND target_id IN "
                               "(SELECT value FROM json_each(?)) ORDER BY id", (code_ids,)):
                if r["id"] not in memos:
                    self.delete_row("memos", r["id"])
                    tx.remove("memo", r["id"])
            for id_, memo in memos.items():
                self._put("memos", "memo", id_, _memo_row(memo), tx)
            self.audit("codes restored", ids=sorted(codes))
        return tx.changes()

    def _put(self, table: str, kind: str, id_: int, row: dict[str, Any],
             tx: Transaction) -> None:
        """Write a row under its own id: update it if it is there, else insert it again."""
        if self.rows(f"SELECT 1 FROM {table} WHERE id = ?", (id_,)):
            self.update_row(table, id_, row)
            tx.update(kind, id_)
        else:
            self.insert(table, {"id": id_, **row})
            tx.add(kind, id_)

    # --- codings -----------------------------------------------------------------------------

    def codings(self, *, interview_id: int | None = None,
                code_id: int | None = None) -> list[Coding]:
        where, params = [], []
        if interview_id is not None:
            where.append("interview_id = ?")
            params.append(interview_id)
        if code_id is not None:
            where.append("code_id = ?")
            params.append(code_id)
        sql = "SELECT * FROM codings" + (f" WHERE {' AND '.join(where)}" if where else "")
        return [_coding(r) for r in self.rows(sql + " ORDER BY id", params)]

    def _check_coding(self, c: Coding) -> None:
        start = self.segment_position(c.start_segment_id, c.interview_id)
        end = self.segment_position(c.end_segment_id, c.interview_id)
        if (end, c.end_offset) <= (start, c.start_offset):
            raise ValidationError("A coding must cover some text.")
        for seg_id, offset in ((c.start_segment_id, c.start_offset),
                               (c.end_segment_id, c.end_offset)):
            length = self.scalar("SELECT length(text) FROM segments WHERE id = ?", (seg_id,))
            if not 0 <= offset <= length:
                raise ValidationError("A coding's offset lies outside its segment's text.")

    def segment_position(self, segment_id: int, interview_id: int) -> int:
        row = self.one("SELECT position, interview_id FROM segments WHERE id = ?",
                       (segment_id,), "segment")
        if row["interview_id"] != interview_id:
            raise ValidationError("A coding cannot span two interviews.")
        return int(row["position"])

    def add_coding(self, c: Coding) -> Changes:
        self._check_coding(c)
        with self.write() as tx:
            row = {"code_id": c.code_id, "interview_id": c.interview_id,
                   "start_segment_id": c.start_segment_id, "start_offset": c.start_offset,
                   "end_segment_id": c.end_segment_id, "end_offset": c.end_offset}
            if c.id is not None:
                row = {"id": c.id, **row}
            tx.add("coding", self.insert("codings", row))
        return tx.changes()

    def update_coding(self, c: Coding) -> Changes:
        if c.id is None:
            raise ValidationError("Only a saved coding can be updated.")
        self._check_coding(c)
        with self.write() as tx:
            self.update_row("codings", c.id, {
                "code_id": c.code_id, "interview_id": c.interview_id,
                "start_segment_id": c.start_segment_id,
                "start_offset": c.start_offset, "end_segment_id": c.end_segment_id,
                "end_offset": c.end_offset})
            tx.update("coding", c.id)
        return tx.changes()

    def delete_coding(self, coding_id: int) -> Changes:
        with self.write() as tx:
            self.delete_row("codings", coding_id)
            tx.remove("coding", coding_id)
        return tx.changes()

    def coded_text(self, c: Coding) -> str:
        """The words a coding covers, segments joined by a space."""
        rows = self.rows("""
            SELECT id, text FROM segments WHERE interview_id = ?
              AND position BETWEEN (SELECT position FROM segments WHERE id = ?)
                               AND (SELECT position FROM segments WHERE id = ?)
            ORDER BY position""", (c.interview_id, c.start_segment_id, c.end_segment_id))
        parts = []
        for r in rows:
            start = c.start_offset if r["id"] == c.start_segment_id else 0
            end = c.end_offset if r["id"] == c.end_segment_id else len(r["text"])
            parts.append(r["text"][start:end])
        return " ".join(p for p in parts if p)

    def coding_count(self, code_id: int, *, with_children: bool = True) -> int:
        """How many codings a code has (with its sub-codes' by default): what to tell the
        researcher before deleting or merging it."""
        ids = self.code_subtree(code_id) if with_children else [code_id]
        return int(self.scalar("SELECT count(*) FROM codings "
                               "WHERE code_id IN (SELECT value FROM json_each(?))", (_ids(ids),)))

    def coding_refs(self, *, code_ids: Sequence[int] | None = None,
                    interview_id: int | None = None) -> list[CodingRef]:
        """Codings with their quote and where it was said, ordered by interview, segment
        position and offset. `code_ids` are taken as given (pass code_subtree ids to
        include sub-codes). Two queries per interview at most, whatever the count."""
        where, params = [], []
        if code_ids is not None:
            where.append("c.code_id IN (SELECT value FROM json_each(?))")
            params.append(_ids(code_ids))
        if interview_id is not None:
            where.append("c.interview_id = ?")
            params.append(interview_id)
        rows = self.rows(f"""
            SELECT c.*, i.title AS interview_title, coalesce(p.code, '') AS participant_code,
                   s0.position AS p0, s0.start_ms, coalesce(sp.label, '') AS speaker_label,
                   s1.position AS p1
            FROM codings c
            JOIN interviews i ON i.id = c.interview_id
            LEFT JOIN participants p ON p.id = i.participant_id
            JOIN segments s0 ON s0.id = c.start_segment_id
            JOIN segments s1 ON s1.id = c.end_segment_id
            LEFT JOIN speakers sp ON sp.id = s0.speaker_id
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY c.interview_id, s0.position, c.start_offset, s1.position, c.end_offset,
                     c.id""", params)
        by_interview: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            by_interview.setdefault(r["interview_id"], []).append(r)
        refs = []
        for iid, group in by_interview.items():
            texts = self._segment_texts(iid, {p for r in group
                                              for p in range(r["p0"], r["p1"] + 1)})
            for r in group:
                coding = _coding(r)
                refs.append(CodingRef(coding, r["interview_title"], r["participant_code"],
                                      r["start_ms"], r["speaker_label"],
                                      _cut(coding, texts, r["p0"], r["p1"])))
        return refs

    def _segment_texts(self, interview_id: int,
                       positions: set[int]) -> dict[int, list[tuple[int, str]]]:
        """(id, text) of an interview's segments at those positions, by position."""
        texts: dict[int, list[tuple[int, str]]] = {}
        for r in self.rows("SELECT id, position, text FROM segments WHERE interview_id = ? "
                           "AND position IN (SELECT value FROM json_each(?)) ORDER BY position, id",
                           (interview_id, _ids(positions))):
            texts.setdefault(r["position"], []).append((r["id"], r["text"]))
        return texts

    # --- themes ------------------------------------------------------------------------------

    def themes(self) -> list[Theme]:
        members: dict[int, list[int]] = {}
        for r in self.rows("SELECT theme_id, code_id FROM theme_codes ORDER BY code_id"):
            members.setdefault(r["theme_id"], []).append(r["code_id"])
        return [
            Theme(r["name"], r["definition"], ThemeStatus(r["status"]),
                  tuple(members.get(r["id"], ())), r["position"], r["map_x"], r["map_y"], r["id"])
            for r in self.rows("SELECT * FROM themes ORDER BY position, name COLLATE NOCASE")
        ]

    def theme(self, theme_id: int) -> Theme:
        for t in self.themes():
            if t.id == theme_id:
                return t
        self.one("SELECT id FROM themes WHERE id = ?", (theme_id,), "theme")
        raise AssertionError("unreachable")

    def _theme_row(self, t: Theme) -> dict[str, Any]:
        if not t.name.strip():
            raise ValidationError("A theme needs a name.")
        return {"name": t.name.strip(), "definition": t.definition, "status": t.status.value,
                "position": t.position, "map_x": t.map_x, "map_y": t.map_y}

    def _write_members(self, theme_id: int, code_ids: tuple[int, ...]) -> None:
        self.db.execute("DELETE FROM theme_codes WHERE theme_id = ?", (theme_id,))
        for cid in dict.fromkeys(code_ids):
            self.db.execute(
                "INSERT INTO theme_codes (theme_id, code_id) VALUES (?, ?)", (theme_id, cid))

    def add_theme(self, t: Theme) -> Changes:
        with self.write() as tx:
            row = self._theme_row(t)
            if t.id is not None:
                row = {"id": t.id, **row}
            id_ = self.insert("themes", row)
            self._write_members(id_, t.code_ids)
            tx.add("theme", id_)
            self.audit("theme added", id=id_, name=row["name"])
        return tx.changes()

    def update_theme(self, t: Theme) -> Changes:
        if t.id is None:
            raise ValidationError("Only a saved theme can be updated.")
        with self.write() as tx:
            self.update_row("themes", t.id, self._theme_row(t))
            self._write_members(t.id, t.code_ids)
            tx.update("theme", t.id)
        return tx.changes()

    def delete_theme(self, theme_id: int) -> Changes:
        with self.write() as tx:
            self.delete_row("themes", theme_id)
            tx.remove("theme", theme_id)
            self.audit("theme deleted", id=theme_id)
        return tx.changes()


def _cut(c: Coding, texts: dict[int, list[tuple[int, str]]], first: int, last: int) -> str:
    """The words a coding covers, as coded_text gives them, from already fetched texts."""
    parts = []
    for position in range(first, last + 1):
        for id_, text in texts.get(position, []):
            start = c.start_offset if id_ == c.start_segment_id else 0
            end = c.end_offset if id_ == c.end_segment_id else len(text)
            parts.append(text[start:end])
    return " ".join(p for p in parts if p)
