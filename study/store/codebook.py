"""The codebook, codings anchored to segments, and themes built from codes."""

from __future__ import annotations

import re
from typing import Any

from study.errors import ValidationError
from study.model import Changes, Code, Coding, Theme, ThemeStatus
from study.store.core import StoreCore

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _code(r: dict[str, Any]) -> Code:
    return Code(r["name"], r["parent_id"], r["definition"], r["colour"], r["position"], r["id"])


def _coding(r: dict[str, Any]) -> Coding:
    return Coding(r["code_id"], r["interview_id"], r["start_segment_id"], r["start_offset"],
                  r["end_segment_id"], r["end_offset"], r["id"])


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
