"""Participants and their typed attributes."""

from __future__ import annotations

import datetime as dt
import json
import math

from study.errors import InUseError, ValidationError
from study.model import AttributeDef, AttributeType, AttributeValue, Changes, Participant
from study.store.core import StoreCore


def encode_value(kind: AttributeType, value: AttributeValue) -> str | None:
    """Check a value against its attribute's type and turn it into stored text.

    None or "" means "not set". A wrong value raises ValidationError with a message
    for the researcher, so the editor can show it next to the field.
    """
    if value is None or value == "":
        return None
    match kind:
        case AttributeType.NUMBER:
            if isinstance(value, bool):
                raise ValidationError("A number was expected, not yes/no.")
            try:
                number = float(str(value).replace(",", "").strip())
            except ValueError:
                raise ValidationError(f"{value!r} is not a number.") from None
            if not math.isfinite(number):
                raise ValidationError(f"{value!r} is not a number.")
            return repr(number)
        case AttributeType.DATE:
            if isinstance(value, dt.datetime):
                return value.date().isoformat()
            if isinstance(value, dt.date):
                return value.isoformat()
            try:
                return dt.date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                raise ValidationError(f"{value!r} is not a date like 2026-03-31.") from None
        case AttributeType.BOOLEAN:
            if isinstance(value, bool):
                return "1" if value else "0"
            text = str(value).strip().lower()
            if text in {"yes", "true", "1", "y"}:
                return "1"
            if text in {"no", "false", "0", "n"}:
                return "0"
            raise ValidationError(f"{value!r} is not yes or no.")
        case _:
            return str(value).strip() or None


def decode_value(kind: AttributeType, text: str) -> AttributeValue:
    match kind:
        case AttributeType.NUMBER:
            number = float(text)
            return int(number) if number.is_integer() else number
        case AttributeType.DATE:
            return dt.date.fromisoformat(text)
        case AttributeType.BOOLEAN:
            return text == "1"
        case _:
            return text


class ParticipantsMixin(StoreCore):
    # --- attribute definitions -------------------------------------------------------------

    def attribute_defs(self) -> list[AttributeDef]:
        return [
            AttributeDef(r["name"], AttributeType(r["type"]), tuple(json.loads(r["choices"])),
                         r["position"])
            for r in self.rows("SELECT * FROM attribute_defs ORDER BY position, name")
        ]

    def add_attribute_def(self, attr: AttributeDef) -> Changes:
        name = attr.name.strip()
        if not name:
            raise ValidationError("An attribute needs a name.")
        if name.lower() in {"code", "group", "notes"}:
            raise ValidationError(f"{name!r} is already a participant field; choose another name.")
        if any(a.name.lower() == name.lower() for a in self.attribute_defs()):
            raise ValidationError(f"There is already an attribute called {name!r}.")
        if attr.type is AttributeType.CHOICE and not attr.choices:
            raise ValidationError("A choice attribute needs at least one choice.")
        with self.write() as tx:
            position = attr.position or (self.scalar("SELECT count(*) FROM attribute_defs") + 1)
            self.db.execute(
                "INSERT INTO attribute_defs (name, type, choices, position) VALUES (?, ?, ?, ?)",
                (name, attr.type.value, json.dumps(list(attr.choices)), position),
            )
            tx.add("attribute", 0)
            self.audit("attribute added", name=name, type=attr.type.value)
        return tx.changes()

    def delete_attribute_def(self, name: str) -> Changes:
        with self.write() as tx:
            ids = [r["participant_id"] for r in self.rows(
                "SELECT participant_id FROM participant_attributes WHERE name = ?", (name,))]
            cur = self.db.execute("DELETE FROM attribute_defs WHERE name = ?", (name,))
            if cur.rowcount == 0:
                raise ValidationError(f"There is no attribute called {name!r}.")
            tx.remove("attribute", 0)
            for id_ in ids:
                tx.update("participant", id_)
            self.audit("attribute deleted", name=name)
        return tx.changes()

    # --- participants ----------------------------------------------------------------------

    def participants(self) -> list[Participant]:
        defs = {a.name: a.type for a in self.attribute_defs()}
        values: dict[int, list[tuple[str, AttributeValue]]] = {}
        for r in self.rows(
            "SELECT pa.* FROM participant_attributes pa JOIN attribute_defs d ON d.name = pa.name "
            "ORDER BY d.position, d.name"
        ):
            values.setdefault(r["participant_id"], []).append(
                (r["name"], decode_value(defs[r["name"]], r["value"]))
            )
        return [
            Participant(r["code"], r["group_name"], tuple(values.get(r["id"], ())), r["notes"],
                        r["id"])
            for r in self.rows("SELECT * FROM participants ORDER BY code COLLATE NOCASE")
        ]

    def participant(self, participant_id: int) -> Participant:
        for p in self.participants():
            if p.id == participant_id:
                return p
        self.one("SELECT id FROM participants WHERE id = ?", (participant_id,), "participant")
        raise AssertionError("unreachable")

    def groups(self) -> list[str]:
        return [r["group_name"] for r in self.rows(
            "SELECT DISTINCT group_name FROM participants WHERE group_name != '' ORDER BY 1")]

    def _check_participant(self, p: Participant) -> None:
        code = p.code.strip()
        if not code:
            raise ValidationError("A participant needs a study code, e.g. MHCC-1.")
        clash = self.rows(
            "SELECT id FROM participants WHERE code = ? COLLATE NOCASE AND id IS NOT ?",
            (code, p.id),
        )
        if clash:
            raise ValidationError(f"The study code {code!r} is already used.")

    def _write_attributes(self, p: Participant, participant_id: int) -> None:
        defs = {a.name: a for a in self.attribute_defs()}
        self.db.execute(
            "DELETE FROM participant_attributes WHERE participant_id = ?", (participant_id,)
        )
        for name, value in p.attributes:
            if name not in defs:
                raise ValidationError(f"There is no attribute called {name!r}.")
            attr = defs[name]
            try:
                text = encode_value(attr.type, value)
            except ValidationError as e:
                raise ValidationError(f"{name}: {e}") from None
            if text is not None and attr.type is AttributeType.CHOICE and text not in attr.choices:
                raise ValidationError(f"{name}: {text!r} is not one of {', '.join(attr.choices)}.")
            if text is not None:
                self.db.execute(
                    "INSERT INTO participant_attributes (participant_id, name, value) "
                    "VALUES (?, ?, ?)",
                    (participant_id, name, text),
                )

    def add_participant(self, p: Participant) -> Changes:
        """Add a participant; pass p.id to restore one with its old id (undo of delete)."""
        self._check_participant(p)
        with self.write() as tx:
            row = {"code": p.code.strip(), "group_name": p.group.strip(), "notes": p.notes}
            if p.id is not None:
                row = {"id": p.id, **row}
            id_ = self.insert("participants", row)
            self._write_attributes(p, id_)
            tx.add("participant", id_)
            self.audit("participant added", id=id_, code=row["code"])
        return tx.changes()

    def update_participant(self, p: Participant) -> Changes:
        if p.id is None:
            raise ValidationError("Only a saved participant can be updated.")
        self._check_participant(p)
        with self.write() as tx:
            self.update_row(
                "participants", p.id,
                {"code": p.code.strip(), "group_name": p.group.strip(), "notes": p.notes},
            )
            self._write_attributes(p, p.id)
            tx.update("participant", p.id)
            self.audit("participant edited", id=p.id, code=p.code.strip())
        return tx.changes()

    def delete_participant(self, participant_id: int) -> Changes:
        """Delete a participant who has no interviews; interviews are never deleted as a
        side effect, since they hold the researcher's work."""
        code = self.one(
            "SELECT code FROM participants WHERE id = ?", (participant_id,), "participant"
        )["code"]
        count = self.scalar(
            "SELECT count(*) FROM interviews WHERE participant_id = ?", (participant_id,)
        )
        if count:
            raise InUseError(
                f"{code} has {count} interview{'s' if count > 1 else ''}. Move or delete "
                f"{'them' if count > 1 else 'it'} before deleting the participant."
            )
        with self.write() as tx:
            self.delete_row("participants", participant_id)
            tx.remove("participant", participant_id)
            self.audit("participant deleted", id=participant_id, code=code)
        return tx.changes()
