"""Round trip: the demo study, exported as .qdpx and imported into a new study, keeps
every code, coding (on the same words), participant, attribute, theme, memo and journal
entry; with its audio, the recording and segment times too."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from analysis.refi import export_qdpx, import_qdpx
from study.demo import build_demo_study
from study.folder import Study, create_study, file_sha256
from study.model import AttributeDef, AttributeType, Memo, MemoTarget


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    """The demo study with memos on every kind of target and attributes of every type."""
    study = build_demo_study(tmp_path_factory.mktemp("demo") / "Demo")
    store = study.store
    store.add_attribute_def(AttributeDef("Consented", AttributeType.BOOLEAN))
    store.add_attribute_def(AttributeDef("Started", AttributeType.DATE))
    store.add_attribute_def(AttributeDef("FTE", AttributeType.NUMBER))
    for n, p in enumerate(store.participants()):
        extra = (("Consented", n % 2 == 0), ("Started", dt.date(2020, 1, n + 1)),
                 ("FTE", 0.5 + n / 10))
        store.update_participant(replace(p, attributes=p.attributes + extra,
                                         notes=f"Notes on {p.code}" if n == 0 else ""))
    interview = store.interviews()[0]
    segments = store.segments(interview.id)
    store.add_memo(Memo(MemoTarget.SEGMENT, "On part of a line", segments[1].id, 4, 12))
    store.add_memo(Memo(MemoTarget.SEGMENT, "On a whole line", segments[2].id))
    coding = store.codings()[0]
    store.add_memo(Memo(MemoTarget.CODING, "Why I coded this", coding.id))
    theme = store.themes()[0]
    store.add_memo(Memo(MemoTarget.THEME, "Thinking about this theme", theme.id))
    yield study
    study.close()


def picture(study: Study) -> dict[str, Any]:
    """Everything a researcher would check, keyed by names rather than ids."""
    store = study.store
    codes = {c.id: c for c in store.codes()}

    def path(code_id: int | None) -> tuple[str, ...]:
        names: list[str] = []
        while code_id is not None:
            names.insert(0, codes[code_id].name)
            code_id = codes[code_id].parent_id
        return tuple(names)

    participants = {p.id: p.code for p in store.participants()}
    interviews = {i.id: i for i in store.interviews()}
    themes = {t.id: t.name for t in store.themes()}
    codings = {c.id: c for c in store.codings()}
    segments = {s.id: s for i in interviews for s in store.segments(i)}

    def target(m: Memo) -> tuple[Any, ...]:
        match m.target:
            case MemoTarget.CODE:
                return ("code", path(m.target_id))
            case MemoTarget.THEME:
                return ("theme", themes[m.target_id])
            case MemoTarget.INTERVIEW:
                return ("interview", interviews[m.target_id].title)
            case MemoTarget.SEGMENT:
                seg = segments[m.target_id]
                return ("segment", interviews[seg.interview_id].title, seg.position,
                        m.start_offset, m.end_offset)
            case MemoTarget.CODING:
                c = codings[m.target_id]
                return ("coding", path(c.code_id), store.coded_text(c))
            case _:
                return ("study",)

    transcripts = {}
    for i in interviews.values():
        labels = {s.id: (s.label, s.role, participants.get(s.participant_id))
                  for s in store.speakers(i.id)}
        transcripts[i.title] = (participants.get(i.participant_id), [
            (labels.get(s.speaker_id), s.text) for s in store.segments(i.id)])
    return {
        "codes": sorted((path(c.id), c.colour, c.definition) for c in codes.values()),
        "codings": sorted((path(c.code_id), interviews[c.interview_id].title,
                           store.coded_text(c)) for c in codings.values()),
        "participants": sorted((p.code, p.group, p.attributes, p.notes)
                               for p in store.participants()),
        "attributes": [(a.name, a.type, a.choices) for a in store.attribute_defs()],
        "themes": sorted((t.name, t.definition, sorted(path(c) for c in t.code_ids))
                         for t in store.themes()),
        "memos": sorted((target(m), m.text, m.created_at, m.updated_at)
                        for m in store.memos()),
        "journal": [(e.text, e.phase, e.created_at) for e in store.journal()],
        "transcripts": transcripts,
    }


@pytest.fixture(scope="module")
def round_trip(demo: Study, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    folder = tmp_path_factory.mktemp("round")
    export_qdpx(demo, folder / "demo.qdpx", include_media=True)
    study = create_study(folder / "Imported")
    report = import_qdpx(study, folder / "demo.qdpx")
    assert report.skipped == ["1 user: Verbatim does not record who coded what (“Verbatim”)."]
    yield study
    study.close()


@pytest.mark.parametrize("part", ["codes", "codings", "participants", "attributes", "themes",
                                  "memos", "journal", "transcripts"])
def test_everything_survives_the_round_trip(demo: Study, round_trip: Study, part: str) -> None:
    before, after = picture(demo)[part], picture(round_trip)[part]
    assert after == before
    assert before  # the comparison is not vacuous


def test_the_rich_export_validates(demo: Study, tmp_path: Path, fixtures_dir: Path) -> None:
    export_qdpx(demo, tmp_path / "rich.qdpx", include_media=True)
    with zipfile.ZipFile(tmp_path / "rich.qdpx") as zf:
        root = etree.fromstring(zf.read("project.qde"))
    xsd = etree.XMLSchema(etree.parse(str(fixtures_dir / "refi" / "Project.xsd")))
    assert xsd.validate(root), xsd.error_log
    ns = {"q": "urn:QDA-XML:project:1.0"}
    assert root.findall("q:Links/q:Link", ns)  # the theme memo
    assert root.findall(".//q:PlainTextSelection/q:NoteRef", ns)  # the segment memos
    assert root.findall(".//q:Coding/q:NoteRef", ns)  # the coding memo


def test_the_study_description_fills_an_empty_one(demo: Study, round_trip: Study) -> None:
    assert round_trip.store.study_info().description == demo.store.study_info().description
    assert round_trip.store.study_info().name == "Imported"


def test_codings_sit_on_the_same_segments_and_offsets(demo: Study, round_trip: Study) -> None:
    def anchors(study: Study) -> list[tuple[Any, ...]]:
        store = study.store
        out = []
        for c in store.codings():
            first, last = store.segment(c.start_segment_id), store.segment(c.end_segment_id)
            out.append((store.interview(c.interview_id).title, store.code(c.code_id).name,
                        first.position, c.start_offset, last.position, c.end_offset))
        return sorted(out)
    assert anchors(round_trip) == anchors(demo)


def test_the_recording_and_segment_times_survive(demo: Study, round_trip: Study) -> None:
    (original,) = [i for i in demo.store.interviews() if i.media_id is not None]
    (imported,) = [i for i in round_trip.store.interviews() if i.media_id is not None]
    assert imported.title == original.title
    before, after = demo.store.media(original.media_id), round_trip.store.media(imported.media_id)
    assert after.sha256 == before.sha256
    assert file_sha256(round_trip.folder.media / after.filename) == before.sha256
    assert abs(after.duration_ms - before.duration_ms) <= 50
    assert [(s.start_ms, s.end_ms) for s in round_trip.store.segments(imported.id)] == [
        (s.start_ms, s.end_ms) for s in demo.store.segments(original.id)]


def test_without_media_only_times_and_audio_are_lost(demo: Study, tmp_path: Path) -> None:
    export_qdpx(demo, tmp_path / "text.qdpx")
    with create_study(tmp_path / "Text only") as study:
        report = import_qdpx(study, tmp_path / "text.qdpx")
        assert report.imported["media"] == 0
        after, before = picture(study), picture(demo)
        assert after == before
        assert {s.start_ms for i in study.store.interviews()
                for s in study.store.segments(i.id)} == {0}


def test_re_exporting_the_import_gives_the_same_texts(round_trip: Study, demo: Study,
                                                      tmp_path: Path) -> None:
    def texts(path: Path) -> list[bytes]:
        with zipfile.ZipFile(path) as zf:
            return sorted(zf.read(n) for n in zf.namelist() if n.endswith(".txt"))
    export_qdpx(demo, tmp_path / "one.qdpx")
    export_qdpx(round_trip, tmp_path / "two.qdpx")
    assert texts(tmp_path / "one.qdpx") == texts(tmp_path / "two.qdpx")


def test_importing_into_the_same_study_adds_beside_it(tmp_path: Path) -> None:
    with build_demo_study(tmp_path / "Demo") as study:
        before = picture(study)
        export_qdpx(study, tmp_path / "demo.qdpx")
        report = import_qdpx(study, tmp_path / "demo.qdpx")
        store = study.store
        assert report.imported["codes"] == 12
        assert report.imported["attributes"] == 0  # same names and types: reused
        top = {c.name for c in store.codes() if c.parent_id is None}
        assert {"Communication", "Communication (imported)"} <= top
        assert {"MHCC-1", "MHCC-1 (imported)"} <= {p.code for p in store.participants()}
        assert len(store.codings()) == 2 * len(before["codings"])
        titles = [i.title for i in store.interviews()]
        assert "Interview with MHCC-1 (imported)" in titles
        # What was there is untouched.
        after = picture(study)
        assert set(before["participants"]) <= set(after["participants"])
        assert set(before["codings"]) <= set(after["codings"])
