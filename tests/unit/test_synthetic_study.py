"""The synthetic study the scale benchmarks use: right counts, sound data, same every time."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from benchmarks.synthetic_study import build_large_study, counts
from study.folder import open_study
from study.model import SpeakerRole


def test_a_small_synthetic_study(tmp_path: Path) -> None:
    root = build_large_study(tmp_path / "Small.verbatim", interviews=4, words=4000,
                             codings=200)
    found = counts(root)
    assert found.pop("segments") >= 4000 // 60
    assert found == {"participants": 4, "interviews": 4, "words": 4000, "codes": 60,
                     "themes": 5, "codings": 200, "codings_in_interview_1": 100}
    with open_study(root, backup=False) as study:
        store = study.store
        assert store.integrity_errors() == []
        assert [p.code for p in store.participants()] == ["CFSW-1", "MHCC-1", "MHCC-2",
                                                          "MHCC-3"]
        assert {p.attribute("agency") for p in store.participants()} == {"MHCC", "CFSW"}
        assert {c.parent_id is None for c in store.codes()} == {True, False}
        for interview in store.interviews():
            assert interview.id is not None
            segments = store.segments(interview.id)
            roles = {s.id: s.role for s in store.speakers(interview.id)}
            assert [roles[s.speaker_id] for s in segments[:2]] == [  # type: ignore[index]
                SpeakerRole.INTERVIEWER, SpeakerRole.PARTICIPANT]
            assert all(10 <= len(s.text.split()) <= 60 for s in segments[:-1])
            assert all(a.end_ms < b.start_ms for a, b in pairwise(segments))
            assert interview.duration_ms == segments[-1].end_ms
        codings = store.codings()
        assert all(store.coded_text(c) for c in codings)
        assert any(c.start_segment_id != c.end_segment_id for c in codings)


def test_the_same_seed_builds_the_same_study(tmp_path: Path) -> None:
    def texts(root: Path) -> list[str]:
        with open_study(root, backup=False) as study:
            return [s.text for s in study.store.segments(1)] + [
                study.store.coded_text(c) for c in study.store.codings()]
    a = build_large_study(tmp_path / "A.verbatim", interviews=2, words=500, codings=20)
    b = build_large_study(tmp_path / "B.verbatim", interviews=2, words=500, codings=20)
    c = build_large_study(tmp_path / "C.verbatim", interviews=2, words=500, codings=20, seed=1)
    assert texts(a) == texts(b) != texts(c)
