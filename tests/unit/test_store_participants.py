"""Participants and their typed attributes in the real SQLite store."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from study.errors import InUseError, NotFoundError, StudyError, ValidationError
from study.folder import Study
from study.model import AttributeDef, AttributeType, Changes, Interview, Participant
from study.store import Store
from study.store.participants import decode_value, encode_value


@pytest.fixture
def store(study: Study) -> Store:
    return study.store


@pytest.fixture
def typed(store: Store) -> Store:
    """A store with one attribute of every type."""
    store.add_attribute_def(AttributeDef("role", AttributeType.TEXT))
    store.add_attribute_def(AttributeDef("years", AttributeType.NUMBER))
    store.add_attribute_def(AttributeDef("joined", AttributeType.DATE))
    store.add_attribute_def(AttributeDef("site", AttributeType.CHOICE, ("North", "South")))
    store.add_attribute_def(AttributeDef("manager", AttributeType.BOOLEAN))
    return store


def participant_rows(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM participants"))


def attribute_rows(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM participant_attributes"))


def recording(store: Store) -> list[Changes]:
    heard: list[Changes] = []
    store.subscribe(heard.append)
    return heard


# --- encode / decode ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "stored", "decoded"),
    [
        (AttributeType.TEXT, "  nurse ", "nurse", "nurse"),
        (AttributeType.NUMBER, 12, "12.0", 12),
        (AttributeType.NUMBER, 2.5, "2.5", 2.5),
        (AttributeType.NUMBER, " 1,234.5 ", "1234.5", 1234.5),
        (AttributeType.NUMBER, "-3", "-3.0", -3),
        (AttributeType.DATE, dt.date(2026, 3, 31), "2026-03-31", dt.date(2026, 3, 31)),
        (AttributeType.DATE, " 2026-03-31 ", "2026-03-31", dt.date(2026, 3, 31)),
        (AttributeType.DATE, dt.datetime(2026, 3, 31, 10, 30), "2026-03-31",
         dt.date(2026, 3, 31)),
        (AttributeType.CHOICE, "North", "North", "North"),
        (AttributeType.BOOLEAN, True, "1", True),
        (AttributeType.BOOLEAN, False, "0", False),
        (AttributeType.BOOLEAN, "Yes", "1", True),
        (AttributeType.BOOLEAN, " n ", "0", False),
        (AttributeType.BOOLEAN, "false", "0", False),
    ],
)
def test_encode_decode_round_trip(kind: AttributeType, value: object, stored: str,
                                  decoded: object) -> None:
    text = encode_value(kind, value)  # type: ignore[arg-type]
    assert text == stored
    back = decode_value(kind, text)
    assert back == decoded
    assert type(back) is type(decoded)


@pytest.mark.parametrize("kind", list(AttributeType))
@pytest.mark.parametrize("empty", [None, ""])
def test_empty_value_means_not_set(kind: AttributeType, empty: str | None) -> None:
    assert encode_value(kind, empty) is None


def test_blank_text_means_not_set() -> None:
    assert encode_value(AttributeType.TEXT, "   ") is None


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (AttributeType.NUMBER, "twelve", "'twelve' is not a number"),
        (AttributeType.NUMBER, True, "not yes/no"),
        (AttributeType.NUMBER, "nan", "'nan' is not a number"),
        (AttributeType.NUMBER, "inf", "'inf' is not a number"),
        (AttributeType.NUMBER, "1e400", "'1e400' is not a number"),
        (AttributeType.DATE, "31/03/2026", "'31/03/2026' is not a date like 2026-03-31"),
        (AttributeType.DATE, "2026-02-30", "is not a date"),
        (AttributeType.DATE, "2026-03-31T10:00:00", "is not a date"),
        (AttributeType.BOOLEAN, "maybe", "'maybe' is not yes or no"),
        (AttributeType.BOOLEAN, 2, "2 is not yes or no"),
    ],
)
def test_invalid_values_raise_validation_error(kind: AttributeType, value: object,
                                               message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        encode_value(kind, value)  # type: ignore[arg-type]


# --- attribute definitions --------------------------------------------------------------------


def test_attribute_defs_keep_type_choices_and_order(typed: Store) -> None:
    defs = typed.attribute_defs()
    assert [(a.name, a.type) for a in defs] == [
        ("role", AttributeType.TEXT),
        ("years", AttributeType.NUMBER),
        ("joined", AttributeType.DATE),
        ("site", AttributeType.CHOICE),
        ("manager", AttributeType.BOOLEAN),
    ]
    assert [a.position for a in defs] == [1, 2, 3, 4, 5]
    assert defs[3].choices == ("North", "South")
    assert all(a.choices == () for a in defs if a.type is not AttributeType.CHOICE)


def test_attribute_def_name_is_trimmed(store: Store) -> None:
    store.add_attribute_def(AttributeDef("  band  "))
    assert [a.name for a in store.attribute_defs()] == ["band"]


@pytest.mark.parametrize("name", ["role", "ROLE", " Role "])
def test_duplicate_attribute_name_refused_case_insensitively(typed: Store, name: str) -> None:
    with pytest.raises(ValidationError, match="already an attribute called"):
        typed.add_attribute_def(AttributeDef(name, AttributeType.NUMBER))
    assert len(typed.attribute_defs()) == 5


@pytest.mark.parametrize("name", ["code", "Group", " notes "])
def test_reserved_attribute_names_refused(store: Store, name: str) -> None:
    with pytest.raises(ValidationError, match="already a participant field"):
        store.add_attribute_def(AttributeDef(name))
    assert store.attribute_defs() == []


def test_attribute_needs_a_name(store: Store) -> None:
    with pytest.raises(ValidationError, match="needs a name"):
        store.add_attribute_def(AttributeDef("   "))


def test_choice_attribute_needs_choices(store: Store) -> None:
    with pytest.raises(ValidationError, match="at least one choice"):
        store.add_attribute_def(AttributeDef("site", AttributeType.CHOICE))
    assert store.attribute_defs() == []


def test_add_attribute_def_changes_and_audit(store: Store) -> None:
    changes = store.add_attribute_def(AttributeDef("years", AttributeType.NUMBER))
    assert "attribute" in changes.kinds()
    entry = store.audit_log()[0]
    assert entry.action == "attribute added"
    assert json.loads(entry.detail) == {"name": "years", "type": "number"}


def test_delete_attribute_def_removes_values_and_reports_participants(typed: Store) -> None:
    p1 = typed.add_participant(Participant("P1", attributes=(("years", 3),))).new_id(
        "participant")
    p2 = typed.add_participant(Participant("P2", attributes=(("role", "GP"),))).new_id(
        "participant")
    changes = typed.delete_attribute_def("years")
    assert changes.ids("participant", "updated") == (p1,)
    assert changes.ids("attribute", "removed") == (0,)
    assert "years" not in [a.name for a in typed.attribute_defs()]
    assert typed.participant(p1).attributes == ()
    assert typed.participant(p2).attributes == (("role", "GP"),)
    assert typed.audit_log()[0].action == "attribute deleted"


def test_delete_unknown_attribute_def_refused(store: Store) -> None:
    heard = recording(store)
    with pytest.raises(ValidationError, match="no attribute called 'ghost'"):
        store.delete_attribute_def("ghost")
    assert heard == []


# --- participants -----------------------------------------------------------------------------


def test_add_participant_round_trips_every_type(typed: Store) -> None:
    p = Participant(
        "MHCC-1", "Nurses",
        attributes=(("role", "Ward sister"), ("years", 12), ("joined", dt.date(2019, 9, 1)),
                    ("site", "South"), ("manager", True)),
        notes="Prefers mornings",
    )
    changes = typed.add_participant(p)
    id_ = changes.new_id("participant")
    got = typed.participant(id_)
    assert got == Participant(p.code, p.group, p.attributes, p.notes, id_)
    assert got.attribute("years") == 12
    assert got.attribute("manager") is True
    assert got.attribute("missing") is None


def test_datetime_in_a_date_attribute_keeps_the_study_readable(typed: Store) -> None:
    id_ = typed.add_participant(Participant(
        "P1", attributes=(("joined", dt.datetime(2026, 3, 31, 23, 59)),))).new_id("participant")
    assert typed.participant(id_).attribute("joined") == dt.date(2026, 3, 31)
    assert [p.code for p in typed.participants()] == ["P1"]


def test_participant_attributes_follow_definition_order(typed: Store) -> None:
    id_ = typed.add_participant(Participant(
        "P1", attributes=(("manager", False), ("role", "GP"), ("years", 1.5)))).new_id(
        "participant")
    assert typed.participant(id_).attributes == (
        ("role", "GP"), ("years", 1.5), ("manager", False))


def test_unset_values_are_not_stored(typed: Store) -> None:
    id_ = typed.add_participant(Participant(
        "P1", attributes=(("role", ""), ("years", None), ("site", "North")))).new_id(
        "participant")
    assert typed.participant(id_).attributes == (("site", "North"),)
    assert attribute_rows(typed) == 1


def test_code_and_group_are_trimmed(store: Store) -> None:
    id_ = store.add_participant(Participant("  P1 ", "  Nurses ")).new_id("participant")
    p = store.participant(id_)
    assert (p.code, p.group) == ("P1", "Nurses")


def test_participant_needs_a_code(store: Store) -> None:
    with pytest.raises(ValidationError, match="needs a study code"):
        store.add_participant(Participant("   "))
    assert participant_rows(store) == 0


@pytest.mark.parametrize("code", ["P1", "p1", " P1 "])
def test_duplicate_code_refused_case_insensitively(store: Store, code: str) -> None:
    store.add_participant(Participant("P1"))
    with pytest.raises(ValidationError, match="already used"):
        store.add_participant(Participant(code))
    assert participant_rows(store) == 1


def test_update_participant(typed: Store) -> None:
    id_ = typed.add_participant(Participant(
        "P1", "GPs", (("years", 3), ("site", "North")))).new_id("participant")
    heard = recording(typed)
    changes = typed.update_participant(Participant(
        "P1a", "Nurses", (("site", "South"), ("manager", False)), "moved", id_))
    assert changes.ids("participant", "updated") == (id_,)
    assert changes.ids("participant", "added") == ()
    assert heard == [changes]
    assert typed.participant(id_) == Participant(
        "P1a", "Nurses", (("site", "South"), ("manager", False)), "moved", id_)
    entry = typed.audit_log()[0]
    assert entry.action == "participant edited"
    assert json.loads(entry.detail) == {"id": id_, "code": "P1a"}


def test_update_keeping_own_code_in_other_case_is_allowed(store: Store) -> None:
    id_ = store.add_participant(Participant("P1")).new_id("participant")
    store.update_participant(Participant("p1", id=id_))
    assert store.participant(id_).code == "p1"


def test_update_to_another_participants_code_refused(store: Store) -> None:
    store.add_participant(Participant("P1"))
    id2 = store.add_participant(Participant("P2")).new_id("participant")
    with pytest.raises(ValidationError, match="'p1' is already used"):
        store.update_participant(Participant("p1", id=id2))
    assert store.participant(id2).code == "P2"


def test_update_unsaved_or_missing_participant(store: Store) -> None:
    with pytest.raises(ValidationError, match="Only a saved participant"):
        store.update_participant(Participant("P1"))
    heard = recording(store)
    with pytest.raises(NotFoundError):
        store.update_participant(Participant("P9", id=999))
    assert heard == []
    assert participant_rows(store) == 0


def test_participants_sorted_by_code_ignoring_case(store: Store) -> None:
    for code in ["b2", "A1", "c3", "a0"]:
        store.add_participant(Participant(code))
    assert [p.code for p in store.participants()] == ["a0", "A1", "b2", "c3"]


def test_participant_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="participant"):
        store.participant(42)


def test_delete_participant(typed: Store) -> None:
    id_ = typed.add_participant(Participant("P1", attributes=(("years", 2),))).new_id(
        "participant")
    heard = recording(typed)
    changes = typed.delete_participant(id_)
    assert changes.ids("participant", "removed") == (id_,)
    assert heard == [changes]
    assert typed.participants() == []
    assert attribute_rows(typed) == 0
    entry = typed.audit_log()[0]
    assert entry.action == "participant deleted"
    assert json.loads(entry.detail) == {"id": id_, "code": "P1"}


def test_delete_missing_participant(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.delete_participant(7)


def test_restore_deleted_participant_with_old_id_and_attributes(typed: Store) -> None:
    """What undo of a delete does: add the saved object back, id included."""
    first = typed.add_participant(Participant("P1")).new_id("participant")
    id_ = typed.add_participant(Participant(
        "P2", "Nurses", (("years", 7), ("joined", dt.date(2020, 1, 2)), ("manager", True)),
        "note")).new_id("participant")
    third = typed.add_participant(Participant("P3")).new_id("participant")
    saved = typed.participant(id_)
    typed.delete_participant(id_)
    changes = typed.add_participant(saved)
    assert changes.new_id("participant") == id_
    assert typed.participant(id_) == saved
    assert [p.id for p in typed.participants()] == [first, id_, third]


def test_restoring_with_an_id_in_use_is_refused(store: Store) -> None:
    id_ = store.add_participant(Participant("P1")).new_id("participant")
    heard = recording(store)
    with pytest.raises(StudyError):
        store.add_participant(Participant("P2", id=id_))
    assert heard == []
    assert [p.code for p in store.participants()] == ["P1"]


def test_delete_refused_while_participant_has_interviews(store: Store) -> None:
    id_ = store.add_participant(Participant("MHCC-1")).new_id("participant")
    store.add_interview(Interview("First", participant_id=id_))
    with pytest.raises(InUseError, match=r"MHCC-1 has 1 interview\. Move or delete it"):
        store.delete_participant(id_)
    store.add_interview(Interview("Second", participant_id=id_))
    with pytest.raises(InUseError, match=r"has 2 interviews\. Move or delete them"):
        store.delete_participant(id_)
    assert store.participant(id_).code == "MHCC-1"
    assert len(store.interviews()) == 2


def test_groups_are_distinct_sorted_and_skip_empty(store: Store) -> None:
    assert store.groups() == []
    for code, group in [("P1", "Nurses"), ("P2", "GPs"), ("P3", ""), ("P4", "Nurses")]:
        store.add_participant(Participant(code, group))
    assert store.groups() == ["GPs", "Nurses"]


# --- attribute validation on participants -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("years", "lots", "years: 'lots' is not a number"),
        ("joined", "yesterday", "joined: 'yesterday' is not a date"),
        ("site", "East", "site: 'East' is not one of North, South"),
        ("manager", "sometimes", "manager: 'sometimes' is not yes or no"),
        ("ghost", "x", "no attribute called 'ghost'"),
    ],
)
def test_invalid_attribute_value_writes_nothing(typed: Store, name: str, value: object,
                                                message: str) -> None:
    heard = recording(typed)
    audit_before = len(typed.audit_log())
    with pytest.raises(ValidationError, match=message):
        typed.add_participant(Participant("P1", attributes=(("role", "GP"), (name, value))))
    assert participant_rows(typed) == 0
    assert attribute_rows(typed) == 0
    assert len(typed.audit_log()) == audit_before
    assert heard == []


def test_invalid_update_leaves_participant_as_it_was(typed: Store) -> None:
    id_ = typed.add_participant(Participant("P1", "GPs", (("years", 4),))).new_id(
        "participant")
    before = typed.participant(id_)
    heard = recording(typed)
    with pytest.raises(ValidationError, match="is not a number"):
        typed.update_participant(Participant("P1-renamed", "Nurses",
                                             (("role", "x"), ("years", "four")), id=id_))
    assert typed.participant(id_) == before
    assert heard == []


def test_attribute_names_are_case_sensitive_on_participants(typed: Store) -> None:
    with pytest.raises(ValidationError, match="no attribute called 'Years'"):
        typed.add_participant(Participant("P1", attributes=(("Years", 1),)))


# --- Changes, listeners, audit ------------------------------------------------------------------


def test_add_participant_changes_and_one_notification(store: Store) -> None:
    heard = recording(store)
    changes = store.add_participant(Participant("P1"))
    id_ = changes.new_id("participant")
    assert changes.ids("participant") == (id_,)
    assert changes.kinds() == {"participant", "audit"}
    assert heard == [changes]
    entry = store.audit_log()[0]
    assert entry.action == "participant added"
    assert json.loads(entry.detail) == {"id": id_, "code": "P1"}
    assert entry.at is not None
    assert entry.at.tzinfo is not None


def test_listener_hears_each_write_once_and_can_unsubscribe(store: Store) -> None:
    heard: list[Changes] = []
    unsubscribe = store.subscribe(heard.append)
    a = store.add_participant(Participant("P1"))
    b = store.add_participant(Participant("P2"))
    assert heard == [a, b]
    unsubscribe()
    store.add_participant(Participant("P3"))
    assert heard == [a, b]


def test_every_listener_hears_the_write(store: Store) -> None:
    first, second = recording(store), recording(store)
    changes = store.add_participant(Participant("P1"))
    assert first == second == [changes]


def test_failed_writes_notify_nobody(store: Store) -> None:
    store.add_participant(Participant("P1"))
    heard = recording(store)
    for bad in (Participant("p1"), Participant(""), Participant("P2", attributes=(("x", 1),))):
        with pytest.raises(ValidationError):
            store.add_participant(bad)
    assert heard == []
    assert [p.code for p in store.participants()] == ["P1"]


def test_audit_log_newest_first(store: Store) -> None:
    id_ = store.add_participant(Participant("P1")).new_id("participant")
    store.update_participant(Participant("P1", "G", id=id_))
    store.delete_participant(id_)
    actions = [e.action for e in store.audit_log()]
    assert actions[:3] == ["participant deleted", "participant edited", "participant added"]
    assert [e.action for e in store.audit_log(limit=1)] == ["participant deleted"]
