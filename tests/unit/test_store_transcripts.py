"""Media, interviews, speakers and segments in the real SQLite store."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from study.errors import NotFoundError, StudyError, ValidationError
from study.folder import Study
from study.model import (
    Changes,
    Code,
    Coding,
    Flag,
    FlagKind,
    Interview,
    InterviewStatus,
    Media,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Word,
)
from study.store import Store

SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture
def store(study: Study) -> Store:
    return study.store


def add_interview(store: Store, title: str = "Interview", **kw: object) -> int:
    return store.add_interview(Interview(title, **kw)).new_id("interview")  # type: ignore[arg-type]


def add_segments(store: Store, interview_id: int, *texts: str, start: int = 0) -> list[int]:
    changes = store.add_segments(
        Segment(interview_id, start + n, (start + n) * 1000, (start + n) * 1000 + 900, text)
        for n, text in enumerate(texts)
    )
    return list(changes.ids("segment"))


def count(store: Store, table: str, where: str = "", params: tuple[object, ...] = ()) -> int:
    return int(store.scalar(f"SELECT count(*) FROM {table} {where}", params))


# --- media ------------------------------------------------------------------------------------


def test_add_media_round_trips(store: Store) -> None:
    m = Media(SHA_A, f"{SHA_A}.wav", "Interview 1.WAV", 61_000, channels=2, sample_rate=44100)
    changes = store.add_media(m)
    id_ = changes.new_id("media")
    assert store.media(id_) == Media(m.sha256, m.filename, m.original_name, 61_000, 2, 44100, id_)
    assert store.media_by_hash(SHA_A) == store.media(id_)
    assert store.media_by_hash(SHA_B) is None
    assert store.audit_log()[0].action == "media added"


def test_same_content_is_stored_once(store: Store) -> None:
    first = store.add_media(Media(SHA_A, f"{SHA_A}.wav", "one.wav", 1000)).new_id("media")
    audit_before = len(store.audit_log())
    again = store.add_media(Media(SHA_A, f"{SHA_A}.wav", "copy of one.wav", 1000))
    assert again.ids("media", "added") == ()
    assert again.ids("media", "updated") == (first,)
    assert count(store, "media") == 1
    assert store.media(first).original_name == "one.wav"
    assert len(store.audit_log()) == audit_before
    other = store.add_media(Media(SHA_B, f"{SHA_B}.wav", "two.wav", 1000)).new_id("media")
    assert other != first
    assert count(store, "media") == 2


def test_missing_media(store: Store) -> None:
    with pytest.raises(NotFoundError, match="media file"):
        store.media(5)


# --- interviews -------------------------------------------------------------------------------


def test_add_interview_round_trips(store: Store) -> None:
    pid = store.add_participant(Participant("P1")).new_id("participant")
    mid = store.add_media(Media(SHA_A, f"{SHA_A}.wav", "a.wav", 5000)).new_id("media")
    i = Interview("  First interview ", pid, dt.date(2026, 3, 31), mid, 5000,
                  InterviewStatus.TRANSCRIBED, "de")
    changes = store.add_interview(i)
    id_ = changes.new_id("interview")
    assert changes.kinds() == {"interview", "audit"}
    got = store.interview(id_)
    assert got == Interview("First interview", pid, dt.date(2026, 3, 31), mid, 5000,
                            InterviewStatus.TRANSCRIBED, "de", id_)
    assert isinstance(got.status, InterviewStatus)
    assert store.interviews() == [got]
    assert store.audit_log()[0].action == "interview added"


def test_interview_defaults(store: Store) -> None:
    id_ = add_interview(store)
    got = store.interview(id_)
    assert got.date is None
    assert got.participant_id is None
    assert got.media_id is None
    assert got.status is InterviewStatus.RECORDED


def test_interview_needs_a_title(store: Store) -> None:
    with pytest.raises(ValidationError, match="needs a title"):
        store.add_interview(Interview("   "))
    assert store.interviews() == []


def test_interview_with_missing_participant_refused(store: Store) -> None:
    heard: list[Changes] = []
    store.subscribe(heard.append)
    with pytest.raises(StudyError, match="breaks a rule"):
        store.add_interview(Interview("x", participant_id=99))
    assert store.interviews() == []
    assert heard == []


def test_status_enum_is_checked_by_the_database(store: Store) -> None:
    with pytest.raises(StudyError), store.write():
        store.db.execute("INSERT INTO interviews (title, status) VALUES ('x', 'lost')")
    assert store.interviews() == []


@pytest.mark.parametrize("status", list(InterviewStatus))
def test_set_interview_status(store: Store, status: InterviewStatus) -> None:
    id_ = add_interview(store)
    changes = store.set_interview_status(id_, status)
    assert changes.ids("interview", "updated") == (id_,)
    assert store.interview(id_).status is status
    entry = store.audit_log()[0]
    assert entry.action == "interview status"
    assert json.loads(entry.detail) == {"id": id_, "status": status.value}


def test_update_interview(store: Store) -> None:
    id_ = add_interview(store, "Old", date=dt.date(2025, 1, 1))
    changes = store.update_interview(Interview("New", date=dt.date(2026, 2, 3),
                                               status=InterviewStatus.CHECKED, id=id_))
    assert changes.ids("interview", "updated") == (id_,)
    got = store.interview(id_)
    assert (got.title, got.date, got.status) == ("New", dt.date(2026, 2, 3),
                                                 InterviewStatus.CHECKED)


def test_update_missing_or_unsaved_interview(store: Store) -> None:
    with pytest.raises(ValidationError, match="Only a saved interview"):
        store.update_interview(Interview("x"))
    with pytest.raises(NotFoundError):
        store.update_interview(Interview("x", id=12))
    with pytest.raises(NotFoundError):
        store.set_interview_status(12, InterviewStatus.CODED)
    with pytest.raises(NotFoundError, match="interview"):
        store.interview(12)


def test_restore_deleted_interview_with_its_id(store: Store) -> None:
    id_ = add_interview(store, "Keep", date=dt.date(2026, 1, 1))
    saved = store.interview(id_)
    store.delete_interview(id_)
    assert store.add_interview(saved).new_id("interview") == id_
    assert store.interview(id_) == saved


# --- summaries --------------------------------------------------------------------------------


def test_interview_summaries_counts(store: Store) -> None:
    pid = store.add_participant(Participant("MHCC-2")).new_id("participant")
    mid = store.add_media(Media(SHA_A, f"{SHA_A}.wav", "a.wav", 5000)).new_id("media")
    busy = add_interview(store, "Busy", participant_id=pid, media_id=mid)
    empty = add_interview(store, "Another")
    segs = add_segments(store, busy, "one two three", "four five", "")
    code = store.add_code(Code("Care")).new_id("code")
    store.add_coding(Coding(code, busy, segs[0], 0, segs[0], 3))
    store.add_coding(Coding(code, busy, segs[0], 4, segs[1], 4))

    summaries = {s.interview.id: s for s in store.interview_summaries()}
    assert set(summaries) == {busy, empty}
    b = summaries[busy]
    assert (b.participant_code, b.media_filename) == ("MHCC-2", f"{SHA_A}.wav")
    assert (b.segment_count, b.word_count, b.coding_count) == (3, 5, 2)
    assert b.interview == store.interview(busy)
    e = summaries[empty]
    assert (e.participant_code, e.media_filename) == ("", "")
    assert (e.segment_count, e.word_count, e.coding_count) == (0, 0, 0)


def test_word_count_ignores_extra_whitespace(store: Store) -> None:
    """Recognisers often emit a leading space; editing leaves double spaces."""
    id_ = add_interview(store)
    add_segments(store, id_, " Hello world.", "so  much   to say ", "   ", "\tand\nmore")
    (summary,) = store.interview_summaries()
    assert summary.word_count == 2 + 4 + 0 + 2


def test_interview_summaries_sorted_by_participant_code_then_title(store: Store) -> None:
    b = store.add_participant(Participant("b-2")).new_id("participant")
    a = store.add_participant(Participant("A-1")).new_id("participant")
    add_interview(store, "zz", participant_id=b)
    add_interview(store, "yy", participant_id=a)
    add_interview(store, "Apple")
    titles = [s.interview.title for s in store.interview_summaries()]
    assert titles == ["yy", "Apple", "zz"]


# --- speakers ---------------------------------------------------------------------------------


def test_speakers_round_trip(store: Store) -> None:
    pid = store.add_participant(Participant("P1")).new_id("participant")
    id_ = add_interview(store)
    a = store.add_speaker(Speaker(id_, " Interviewer ", SpeakerRole.INTERVIEWER)).new_id(
        "speaker")
    b = store.add_speaker(Speaker(id_, "P1", SpeakerRole.PARTICIPANT, pid)).new_id("speaker")
    assert store.speakers(id_) == [
        Speaker(id_, "Interviewer", SpeakerRole.INTERVIEWER, None, a),
        Speaker(id_, "P1", SpeakerRole.PARTICIPANT, pid, b),
    ]


def test_speaker_label_unique_per_interview(store: Store) -> None:
    one, two = add_interview(store, "one"), add_interview(store, "two")
    store.add_speaker(Speaker(one, "Speaker 1"))
    with pytest.raises(ValidationError, match="already has a speaker"):
        store.add_speaker(Speaker(one, " Speaker 1 "))
    store.add_speaker(Speaker(two, "Speaker 1"))
    assert [s.label for s in store.speakers(one)] == ["Speaker 1"]
    assert [s.label for s in store.speakers(two)] == ["Speaker 1"]


def test_speaker_needs_a_label(store: Store) -> None:
    id_ = add_interview(store)
    with pytest.raises(ValidationError, match="needs a label"):
        store.add_speaker(Speaker(id_, "  "))


def test_update_speaker(store: Store) -> None:
    id_ = add_interview(store)
    sid = store.add_speaker(Speaker(id_, "Speaker 1")).new_id("speaker")
    other = store.add_speaker(Speaker(id_, "Speaker 2")).new_id("speaker")
    changes = store.update_speaker(Speaker(id_, "Interviewer", SpeakerRole.INTERVIEWER, id=sid))
    assert changes.ids("speaker", "updated") == (sid,)
    assert store.speakers(id_)[0] == Speaker(id_, "Interviewer", SpeakerRole.INTERVIEWER, None,
                                             sid)
    with pytest.raises(StudyError):
        store.update_speaker(Speaker(id_, "Interviewer", id=other))
    assert store.speakers(id_)[1].label == "Speaker 2"


def test_deleting_a_participant_detaches_their_speakers(store: Store) -> None:
    pid = store.add_participant(Participant("P1")).new_id("participant")
    id_ = add_interview(store)
    store.add_speaker(Speaker(id_, "P1", SpeakerRole.PARTICIPANT, pid))
    store.delete_participant(pid)
    assert store.speakers(id_)[0].participant_id is None


# --- segments ---------------------------------------------------------------------------------


def test_segment_with_words_and_flags_round_trips_exactly(store: Store) -> None:
    id_ = add_interview(store)
    sid = store.add_speaker(Speaker(id_, "P1")).new_id("speaker")
    seg = Segment(
        id_, 0, 1200, 3400, "Well, I don’t know — café?", sid,
        words=(Word("Well,", 1200, 1500, 0.987), Word("I", 1510, 1600, 1.0),
               Word("don’t", 1610, 1900, 0.5), Word("know", 1900, 2300, 0.0),
               Word("—", 2300, 2300, 0.25), Word("café?", 2400, 3400, 0.333)),
        flags=(Flag(FlagKind.MISSED_SPEECH, 2300, 2400),
               Flag(FlagKind.NOTE, 1200, 3400, "check the name ‘X’")),
    )
    seg_id = store.add_segments([seg]).new_id("segment")
    got = store.segment(seg_id)
    assert got == Segment(seg.interview_id, seg.position, seg.start_ms, seg.end_ms, seg.text,
                          seg.speaker_id, seg.words, seg.flags, seg_id)
    assert store.segments(id_) == [got]
    assert all(isinstance(f.kind, FlagKind) for f in got.flags)


def test_word_probability_is_kept_to_three_decimals(store: Store) -> None:
    id_ = add_interview(store)
    seg_id = store.add_segments(
        [Segment(id_, 0, 0, 10, "hi", words=(Word("hi", 0, 10, 0.123456),))]).new_id("segment")
    assert store.segment(seg_id).words == (Word("hi", 0, 10, 0.123),)


def test_segments_ordered_by_position(store: Store) -> None:
    id_ = add_interview(store)
    store.add_segments([Segment(id_, p, p * 10, p * 10 + 5, f"s{p}") for p in (2, 0, 3, 1)])
    assert [s.text for s in store.segments(id_)] == ["s0", "s1", "s2", "s3"]
    assert store.segment_count(id_) == 4


def test_segments_are_per_interview(store: Store) -> None:
    one, two = add_interview(store, "one"), add_interview(store, "two")
    add_segments(store, one, "a", "b")
    add_segments(store, two, "c")
    assert [s.text for s in store.segments(one)] == ["a", "b"]
    assert [s.text for s in store.segments(two)] == ["c"]
    assert store.segment_count(two) == 1


def test_add_segments_is_one_transaction(store: Store) -> None:
    id_ = add_interview(store)
    heard: list[Changes] = []
    store.subscribe(heard.append)
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        store.add_segments([Segment(id_, 0, 0, 10, "good"), Segment(id_, 1, 50, 20, "bad")])
    assert store.segments(id_) == []
    assert heard == []
    changes = store.add_segments([Segment(id_, 0, 0, 10, "a"), Segment(id_, 1, 10, 20, "b")])
    assert len(changes.ids("segment")) == 2
    assert heard == [changes]


def test_segment_in_missing_interview_refused(store: Store) -> None:
    with pytest.raises(StudyError):
        store.add_segments([Segment(404, 0, 0, 10, "x")])
    assert count(store, "segments") == 0


def test_update_segment(store: Store) -> None:
    id_ = add_interview(store)
    (seg_id,) = add_segments(store, id_, "helo")
    new = Segment(id_, 0, 0, 950, "hello", words=(Word("hello", 0, 950, 0.9),),
                  flags=(Flag(FlagKind.LOW_CONFIDENCE, 0, 950),), id=seg_id)
    changes = store.update_segment(new)
    assert changes.ids("segment", "updated") == (seg_id,)
    assert store.segment(seg_id) == new
    with pytest.raises(ValidationError, match="cannot end before"):
        store.update_segment(Segment(id_, 0, 500, 100, "x", id=seg_id))
    assert store.segment(seg_id) == new
    with pytest.raises(ValidationError, match="Only a saved segment"):
        store.update_segment(Segment(id_, 0, 0, 1, "x"))
    with pytest.raises(NotFoundError):
        store.update_segment(Segment(id_, 0, 0, 1, "x", id=seg_id + 100))


def test_delete_segments(store: Store) -> None:
    id_ = add_interview(store)
    a, b, c = add_segments(store, id_, "a", "b", "c")
    changes = store.delete_segments([a, c])
    assert changes.ids("segment", "removed") == (a, c)
    assert [s.id for s in store.segments(id_)] == [b]


def test_delete_segments_all_or_nothing(store: Store) -> None:
    id_ = add_interview(store)
    a, b = add_segments(store, id_, "a", "b")
    with pytest.raises(NotFoundError):
        store.delete_segments([a, 9999])
    assert [s.id for s in store.segments(id_)] == [a, b]


def test_deleting_a_segment_removes_codings_anchored_to_it(store: Store) -> None:
    id_ = add_interview(store)
    a, b, c = add_segments(store, id_, "alpha", "beta", "gamma")
    code = store.add_code(Code("X")).new_id("code")
    across = store.add_coding(Coding(code, id_, a, 0, b, 2)).new_id("coding")
    keep = store.add_coding(Coding(code, id_, c, 0, c, 5)).new_id("coding")
    store.delete_segments([b])
    assert [x.id for x in store.codings(interview_id=id_)] == [keep]
    assert across != keep


def test_deleting_a_speaker_row_keeps_segments(store: Store) -> None:
    id_ = add_interview(store)
    sid = store.add_speaker(Speaker(id_, "S")).new_id("speaker")
    seg_id = store.add_segments([Segment(id_, 0, 0, 5, "x", sid)]).new_id("segment")
    with store.write():
        store.db.execute("DELETE FROM speakers WHERE id = ?", (sid,))
    assert store.segment(seg_id).speaker_id is None


def test_missing_segment(store: Store) -> None:
    with pytest.raises(NotFoundError, match="segment"):
        store.segment(1)


# --- deleting an interview ----------------------------------------------------------------------


def test_delete_interview_cascades_to_its_transcript(store: Store) -> None:
    mid = store.add_media(Media(SHA_A, f"{SHA_A}.wav", "a.wav", 5000)).new_id("media")
    gone = add_interview(store, "Gone", media_id=mid)
    kept = add_interview(store, "Kept", media_id=mid)
    store.add_speaker(Speaker(gone, "S1"))
    store.add_speaker(Speaker(kept, "S1"))
    g1, g2 = add_segments(store, gone, "one", "two")
    (k1,) = add_segments(store, kept, "three")
    code = store.add_code(Code("C")).new_id("code")
    store.add_coding(Coding(code, gone, g1, 0, g2, 3))
    kept_coding = store.add_coding(Coding(code, kept, k1, 0, k1, 5)).new_id("coding")

    heard: list[Changes] = []
    store.subscribe(heard.append)
    changes = store.delete_interview(gone)
    assert changes.ids("interview", "removed") == (gone,)
    assert heard == [changes]
    assert [i.id for i in store.interviews()] == [kept]
    assert count(store, "segments", "WHERE interview_id = ?", (gone,)) == 0
    assert count(store, "speakers", "WHERE interview_id = ?", (gone,)) == 0
    assert count(store, "codings", "WHERE interview_id = ?", (gone,)) == 0
    assert [c.id for c in store.codings()] == [kept_coding]
    assert len(store.segments(kept)) == 1
    assert len(store.speakers(kept)) == 1
    assert store.media(mid).id == mid  # the media file stays
    entry = store.audit_log()[0]
    assert entry.action == "interview deleted"
    assert json.loads(entry.detail) == {"id": gone, "title": "Gone"}
    assert store.integrity_errors() == []


def test_delete_missing_interview(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.delete_interview(3)


# --- transcript end -----------------------------------------------------------------------------


def test_transcript_end_ms(store: Store) -> None:
    id_ = add_interview(store)
    other = add_interview(store, "other")
    assert store.transcript_end_ms(id_) == 0
    store.add_segments([Segment(id_, 0, 0, 4200, "a"), Segment(id_, 1, 4200, 9800, "b")])
    store.add_segments([Segment(other, 0, 0, 60_000, "c")])
    assert store.transcript_end_ms(id_) == 9800
    # ends, not positions: a late segment inserted earlier in the order still counts
    store.add_segments([Segment(id_, -1, 0, 12_000, "overlap")])
    assert store.transcript_end_ms(id_) == 12_000
    assert store.transcript_end_ms(404) == 0
