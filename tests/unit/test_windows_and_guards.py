"""Windows cut at silences, time maps back to the recording, the missed-speech check,
and the repetition and low-confidence guards: pure functions, tested with properties."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from study.model import FlagKind, Word
from transcription.guards import low_confidence_flags, repeated_ngram, repetition_flag
from transcription.windows import TimeMap, merge_spans, plan_windows, uncovered

spans = st.lists(st.tuples(st.integers(0, 3_600_000), st.integers(1, 120_000)).map(
    lambda t: (t[0], t[0] + t[1])), max_size=60)


@given(spans, st.integers(10_000, 900_000))
def test_windows_cover_all_speech_once_and_stay_short(speech: list[tuple[int, int]],
                                                      limit: int) -> None:
    duration = max((e for _, e in speech), default=0)
    windows = plan_windows(speech, duration, limit)
    assert all(w.end_ms - w.start_ms <= limit for w in windows)
    assert all(a.end_ms <= b.start_ms for a, b in pairwise(windows))
    inside = [s for w in windows for s in w.speech]
    assert merge_spans(inside) == merge_spans(speech)
    assert sum(w.speech_ms for w in windows) == sum(e - s for s, e in merge_spans(speech))


def test_windows_are_cut_in_the_silences() -> None:
    speech = [(0, 250_000), (260_000, 500_000), (505_000, 700_000), (710_000, 800_000)]
    windows = plan_windows(speech, 800_000, 600_000)
    assert [(w.start_ms, w.end_ms) for w in windows] == [(0, 500_000), (505_000, 800_000)]


def test_one_long_unbroken_span_is_cut_hard() -> None:
    windows = plan_windows([(0, 1_500_000)], 1_500_000, 600_000)
    assert [(w.start_ms, w.end_ms) for w in windows] == [
        (0, 600_000), (600_000, 1_200_000), (1_200_000, 1_500_000)]


@given(spans.filter(bool), st.data())
def test_time_map_puts_joined_time_back_into_its_span(speech: list[tuple[int, int]],
                                                      data: st.DataObject) -> None:
    merged = merge_spans(speech)
    time_map = TimeMap(tuple(merged))
    total = sum(e - s for s, e in merged)
    t = data.draw(st.integers(0, total - 1))
    original = time_map.to_original(t)
    assert any(s <= original < e for s, e in merged)
    assert time_map.to_original(t + 1) > original  # monotonic
    assert time_map.to_original(total, is_end=True) == merged[-1][1]


def test_uncovered_finds_a_skipped_passage_only() -> None:
    speech = [(0, 10_000), (12_000, 30_000)]
    words = [(0, 400), (500, 9_800), (12_100, 15_000), (24_000, 29_900)]
    assert uncovered(speech, words) == [(15_300, 23_700)]
    assert uncovered(speech, words, min_ms=10_000) == []
    assert uncovered(speech, [(0, 30_000)]) == []
    assert uncovered(speech, []) == [(0, 10_000), (12_000, 30_000)]


def test_repetition_loops_are_flagged_and_normal_speech_is_not() -> None:
    assert repeated_ngram("I mean I mean I mean I mean it was fine") == "i mean"
    assert repeated_ngram("We rang, we rang again, then we wrote to them.") is None
    assert repeated_ngram("no no no") is None
    loop = repetition_flag("thank you. " * 12, 1000, 9000)
    assert loop is not None and loop.kind is FlagKind.REPETITION
    assert (loop.start_ms, loop.end_ms) == (1000, 9000)
    assert repetition_flag("It depends who picks up the phone, honestly.", 0, 1) is None


def test_low_confidence_words_are_flagged_in_runs() -> None:
    words = [Word(" We", 0, 200, 0.9), Word(" went", 200, 400, 0.2),
             Word(" to", 400, 500, 0.3), Word(" Harrowfield", 500, 900, 0.95),
             Word(" court", 900, 1200, 0.1)]
    flags = low_confidence_flags(words, 0.4)
    assert [(f.start_ms, f.end_ms, f.note) for f in flags] == [
        (200, 500, "went to"), (900, 1200, "court")]
    assert all(f.kind is FlagKind.LOW_CONFIDENCE for f in flags)


@given(spans.filter(bool), st.integers(5_000, 30_000))
def test_batch_clips_are_short_contiguous_and_cover_all_speech(speech: list[tuple[int, int]],
                                                               limit: int) -> None:
    from transcription.windows import batch_clips

    merged = merge_spans(speech)
    total = sum(e - s for s, e in merged) / 1000
    clips = batch_clips(merged, limit)
    assert clips[0][0] == 0 and abs(clips[-1][1] - total) < 1e-9
    assert all(abs(a[1] - b[0]) < 1e-9 for a, b in pairwise(clips))
    assert all(0 < e - s <= limit / 1000 + 1e-9 for s, e in clips)
