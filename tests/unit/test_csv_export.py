"""CSV exports read back with the csv module: UTF-8 with a BOM, RFC 4180 quoting, the
comparison and both matrices as the analysis computes them, every coding, and the
participants with their attributes; a leak refuses the export and writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from analysis.compare import compare, cooccurrence, presence_matrix, to_rows
from analysis.exports import tables
from analysis.exports.atomic import atomic_target, write_atomic
from analysis.leak_check import LeakError
from study.folder import Study
from study.model import AttributeDef, AttributeType, Participant
from tests.unit.test_word_export import SmallStudy, build_small_study


def read(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def small(study: Study) -> SmallStudy:
    return build_small_study(study.store)


def test_csv_text_quotes_as_rfc_4180_with_a_bom(tmp_path: Path) -> None:
    rows = [["Name", "Text"], ["José", 'She said "no", then\nleft'], ["Zoë", "plain"]]
    text = tables.csv_text(rows)
    assert text == ('\ufeffName,Text\r\nJosé,"She said ""no"", then\nleft"\r\n'
                    "Zoë,plain\r\n")
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    assert read(path) == rows


def test_comparison_csv_is_to_rows(study: Study, small: SmallStudy, tmp_path: Path) -> None:
    comparison = compare(study.store, rows="themes")
    path = tables.comparison_csv(study.store, comparison, tmp_path / "comparison.csv")
    rows = read(path)
    assert rows == to_rows(comparison)
    assert rows[0][:6] == ["Theme", "CFSW k", "CFSW n", "CFSW %", "CFSW references",
                           "CFSW words"]
    assert rows[1][0] == "Doors that open and close"
    assert path.read_bytes().count(b"\r\n") == len(rows)


def test_presence_and_cooccurrence_csv(study: Study, small: SmallStudy,
                                       tmp_path: Path) -> None:
    store = study.store
    matrix = presence_matrix(store, rows="codes")
    rows = read(tables.presence_csv(store, matrix, tmp_path / "presence.csv"))
    assert rows[0] == ["Participant", "Group", "Access to services",
                       "Access to services › Waiting lists", "Trust", "Humour"]
    assert rows[1:] == [
        ["CFSW-1", "CFSW", "1", "0", "0", "0"],
        ["P5", "CFSW", "0", "0", "1", "0"],
        ["MHCC-1", "MHCC", "2", "1", "0", "0"],
        ["MHCC-2", "MHCC", "0", "0", "1", "0"],
        ["MHCC-10", "MHCC", "1", "1", "0", "1"],
    ]
    co = cooccurrence(store)
    rows = read(tables.cooccurrence_csv(store, co, tmp_path / "co.csv"))
    labels = [label for _, label in co.codes]
    assert rows[0] == ["Code", *labels]
    assert [r[0] for r in rows[1:]] == labels
    assert [[int(v) for v in r[1:]] for r in rows[1:]] == [list(r) for r in co.counts]


def test_codings_csv_lists_every_coding(study: Study, small: SmallStudy,
                                        tmp_path: Path) -> None:
    rows = read(tables.codings_csv(study.store, tmp_path / "codings.csv"))
    assert rows[0] == ["Interview", "Participant", "Group", "Code", "Start", "Speaker", "Text"]
    assert len(rows) == 1 + 8  # the interviewer's coding too: the speaker column tells
    assert rows[1:3] == [
        ["Interview 1", "MHCC-1", "MHCC", "Access to services › Waiting lists", "00:00:05",
         "MHCC-1", "the waiting list was eighteen months"],
        ["Interview 1", "MHCC-1", "MHCC", "Access to services", "00:12:25", "Interviewer",
         "And how did that feel? It felt like we were holding the risk on our own."],
    ]
    assert ["Interview 2", "MHCC-2", "MHCC", "Trust", "01:02:00", "Interviewer",
            "Who did you trust most?"] in rows
    assert ["Interview 5", "P5", "CFSW", "Trust", "00:00:30", "P5",
            "I trusted the duty team because they listened."] in rows


def test_participants_csv_with_typed_attributes(study: Study, small: SmallStudy,
                                                tmp_path: Path) -> None:
    store = study.store
    store.add_attribute_def(AttributeDef("role", AttributeType.CHOICE, ("Nurse", "Manager"),
                                         position=0))
    store.add_attribute_def(AttributeDef("years in post", AttributeType.NUMBER, position=1))
    store.add_attribute_def(AttributeDef("started", AttributeType.DATE, position=2))
    store.add_attribute_def(AttributeDef("manages staff", AttributeType.BOOLEAN, position=3))
    p = store.participant(small.participants["MHCC-1"])
    store.update_participant(Participant(
        p.code, p.group, (("role", "Nurse"), ("years in post", 12.0),
                          ("started", dt.date(2013, 9, 2)), ("manages staff", True)),
        p.notes, p.id))
    p = store.participant(small.participants["P5"])
    store.update_participant(Participant(p.code, "Équipe sociale", (("years in post", 2.5),),
                                         p.notes, p.id))
    rows = read(tables.participants_csv(store, tmp_path / "participants.csv"))
    assert rows[0] == ["Participant", "Group", "role", "years in post", "started",
                       "manages staff"]
    by_code = {r[0]: r for r in rows[1:]}
    assert [r[0] for r in rows[1:]] == [p.code for p in store.participants()]
    assert by_code["MHCC-1"] == ["MHCC-1", "MHCC", "Nurse", "12", "2013-09-02", "yes"]
    assert by_code["P5"] == ["P5", "Équipe sociale", "", "2.5", "", ""]


def test_a_leak_refuses_the_csv_and_writes_nothing(study: Study, small: SmallStudy,
                                                   tmp_path: Path) -> None:
    store = study.store
    seg = store.segments(small.interviews["P5"])[1]
    store.edit_segment_text(seg.id, "I trusted Sarah Jones because they listened.")
    store.register_identifier("Sarah Jones", "person")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LeakError) as refused:
        tables.codings_csv(store, out / "codings.csv")
    (report,) = refused.value.reports
    assert report.location == "codings.csv, row 9, Text"
    assert list(out.iterdir()) == []
    store.register_identifier("Riverside", "place")
    with pytest.raises(LeakError) as refused:
        tables.participants_csv(store, out / "Riverside participants.csv")
    assert [r.location for r in refused.value.reports] == ["file name"]
    assert list(out.iterdir()) == []
    p = store.participant(small.participants["P5"])
    store.update_participant(Participant(p.code, "Riverside", p.attributes, p.notes, p.id))
    with pytest.raises(LeakError) as refused:
        tables.comparison_csv(store, compare(store), out / "comparison.csv")
    # Found in a column header and a cell; the labels naming the column are masked too.
    assert "Riverside" not in str(refused.value)
    assert "comparison.csv, row 1, Riverside k" not in [r.location for r in
                                                          refused.value.reports]
    assert "comparison.csv, row 1, █████ k" in [r.location for r in refused.value.reports]
    assert list(out.iterdir()) == []


# --- the atomic writer every export uses ---------------------------------------------------------


def test_write_atomic_replaces_whole_files_only(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    assert write_atomic(target, "first\r\nline") == target
    assert target.read_bytes() == b"first\r\nline"  # str as UTF-8, newlines untouched
    write_atomic(target, b"\xef\xbb\xbfsecond")
    assert target.read_bytes() == b"\xef\xbb\xbfsecond"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_atomic_target_leaves_nothing_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "report.docx"
    target.write_bytes(b"earlier export")
    with pytest.raises(RuntimeError), atomic_target(target) as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".docx"
        assert temporary.name.startswith(".report-")
        temporary.write_bytes(b"half")
        raise RuntimeError("the library failed")
    assert target.read_bytes() == b"earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["report.docx"]
