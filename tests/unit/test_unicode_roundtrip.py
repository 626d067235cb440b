"""Unicode everywhere: names with accents, combining characters, right-to-left text mixed
with English, emoji (ZWJ sequences, skin tones, flags) and CJK survive every way in and
out of a study exactly.

Generated studies (Hypothesis, from pieces of each kind of text) go through: the store
(every field reads back ==), search (every word is found where it is), codings on those
words through edits, splits and merges (the coded text stays exactly the same), the
transcript exports (txt, srt, vtt, read back by Verbatim's own importer), the Word
exports (read back with python-docx), the CSV exports (read back with the csv module),
and a REFI-QDA export imported into a new study. The leak check catches a registered
name whatever its case, possessive or script.

Nothing is normalised on the way: a name typed with a combining accent (e + U+0301) is
kept as typed, and is a different string from the precomposed é.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from analysis.exports import tables
from analysis.exports.transcript import export_transcript
from analysis.exports.word import codebook_docx, transcript_docx
from analysis.leak_check import LeakChecker, LeakError
from analysis.refi import export_qdc, export_qdpx, import_qdc, import_qdpx
from study.consistency import check_study
from study.folder import Study, create_study
from study.model import (
    AnalysisPhase,
    AttributeDef,
    Code,
    Coding,
    Interview,
    InterviewStatus,
    JournalEntry,
    Memo,
    MemoTarget,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Theme,
)
from tests.fuzzing import fuzz
from transcription.transcript_formats import read_transcript

# --- the text -------------------------------------------------------------------------------

ACCENTED = ["Zoë", "Brontë", "José", "Ñúñez", "Straße", "Łukasz", "Żółć", "Dvořák", "Øyvind",
            "Åsa", "Ğül", "Ærøskøbing", "Þór", "Ștefan", "Nguyễn"]
COMBINING = ["Zoe\u0308", "e\u0301lodie", "Ren\u0065\u0301e", "n\u0303", "A\u030angstro\u0308m",
             "a\u0328\u0301"]  # decomposed: base letter, then its accents
ARABIC = ["محمد", "مرحبا", "شكرا", "الممرضة", "فاطمة"]
HEBREW = ["שלום", "שרה", "תודה", "אחות"]
CJK = ["日本語", "王芳", "看護師", "김민준", "テスト", "中文"]
ENGLISH = ["the", "ward", "nurse", "said", "night", "shift", "and", "Dr", "O'Brien", "it's"]
EMOJI = ["😊", "👍🏽", "👋🏿", "👩‍⚕️", "👨‍👩‍👧‍👦", "🧑🏾‍🦯", "🏳️‍🌈", "🇫🇷", "❤️", "🙂"]
BIDI = ["\u200f", "\u200e"]  # right-to-left and left-to-right marks, as RTL editors add them

LETTERS = ACCENTED + COMBINING + ARABIC + HEBREW + CJK + ENGLISH
ALL = LETTERS + EMOJI


def words(pool: list[str], *, min_size: int = 1, max_size: int = 5) -> st.SearchStrategy[str]:
    """Single-spaced words from `pool`, sometimes an RTL word wrapped in direction marks."""
    word = st.one_of(st.sampled_from(pool), st.sampled_from(ARABIC + HEBREW).map(
        lambda w: f"{BIDI[0]}{w}{BIDI[0]}"))
    return st.lists(word, min_size=min_size, max_size=max_size).map(" ".join)


# A speaker label as transcripts write it (letters of any script, no emoji or colon).
labels = words(ACCENTED + COMBINING + ARABIC + HEBREW + CJK, max_size=2).filter(
    lambda w: BIDI[0] not in w)
names = words(LETTERS, max_size=3)  # codes, themes, participants, titles
texts = words(ALL, min_size=2, max_size=10)  # what people said, memo texts


@dataclass(frozen=True)
class Sample:
    """Everything a study names or says, in the text to test."""

    study: str
    participant: str
    group: str
    attribute: str
    value: str
    code: str
    child: str
    definition: str
    theme: str
    memo: str
    journal: str
    title: str
    speakers: tuple[str, str]
    said: tuple[str, ...]


@st.composite
def samples(draw: st.DrawFn) -> Sample:
    code = draw(names)
    child = draw(names.filter(lambda n: n != code))
    first = draw(labels)
    second = draw(labels.filter(lambda n: n.casefold() != first.casefold()))
    return Sample(draw(names), draw(names), draw(names), draw(names), draw(texts), code, child,
                  draw(texts), draw(names), draw(texts), draw(texts), draw(names),
                  (first, second), tuple(draw(st.lists(texts, min_size=2, max_size=5))))


FIXED = Sample(
    study="Étude — دراسة 看護 🩺", participant="Zoë Brontë", group="Łódź 病棟",
    attribute="Rôle 役割", value="Infirmière שרה 👩🏽‍⚕️", code="Ängste e\u0301motions",
    child="خوف 恐怖", definition="When Zoë (زوي) says 😟 about the night shift",
    theme="Überlastung 🧑‍🤝‍🧑", memo="Memo: مرحبا and שלום in one line, 日本語 too 👍🏿",
    journal="Tagebuch ✍🏻 — first pass", title="Entretien №1 — محمد",
    speakers=("Interviewer", "Zoë Brontë"),
    said=("How long have you worked here, Zoë?",
          "Twelve years 👩‍👩‍👧 — قال محمد \u200fשלום\u200f and 日本語のテキスト e\u0301te\u0301",
          "Dvořák, Ñúñez and Łukasz 🏳️‍🌈 🇫🇷 were all on the ward."))





# --- a study from a sample ---------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    study: Study
    folder: Path  # a scratch folder beside the study, for exports
    participant: int
    interview: int
    code: int
    child: int
    theme: int
    speakers: tuple[int, int]
    segments: tuple[int, ...]
    coding: int  # on the first word of the last segment


@contextmanager
def built(s: Sample) -> Iterator[Built]:
    with tempfile.TemporaryDirectory(prefix="unicode-") as tmp:
        study = create_study(Path(tmp) / "Study", name=s.study)
        try:
            yield _fill(study, s, Path(tmp))
        finally:
            study.close()


def _fill(study: Study, s: Sample, folder: Path) -> Built:
    store = study.store
    store.update_study_info(s.study, s.memo)
    store.add_attribute_def(AttributeDef(s.attribute))
    pid = store.add_participant(Participant(s.participant, s.group, ((s.attribute, s.value),),
                                            notes=s.memo)).new_id("participant")
    iid = store.add_interview(Interview(s.title, pid, dt.date(2024, 5, 1), duration_ms=60_000,
                                        status=InterviewStatus.TRANSCRIBED)).new_id("interview")
    a = store.add_speaker(Speaker(iid, s.speakers[0], SpeakerRole.INTERVIEWER)).new_id("speaker")
    b = store.add_speaker(Speaker(iid, s.speakers[1], SpeakerRole.PARTICIPANT, pid)
                          ).new_id("speaker")
    segments = tuple(store.add_segments(
        Segment(iid, n, n * 5000, n * 5000 + 4000, text, (a, b)[n % 2])
        for n, text in enumerate(s.said)).ids("segment"))
    code = store.add_code(Code(s.code, definition=s.definition)).new_id("code")
    child = store.add_code(Code(s.child, code, s.definition)).new_id("code")
    last = s.said[-1]
    first_word = len(last.split(" ")[0])
    coding = store.add_coding(Coding(child, iid, segments[-1], 0, segments[-1], first_word)
                              ).new_id("coding")
    theme = store.add_theme(Theme(s.theme, s.definition, code_ids=(code, child))).new_id("theme")
    store.add_memo(Memo(MemoTarget.CODE, s.memo, code))
    store.add_memo(Memo(MemoTarget.CODING, s.memo, coding))
    store.add_memo(Memo(MemoTarget.SEGMENT, s.memo, segments[0]))
    store.add_memo(Memo(MemoTarget.STUDY, s.memo))
    store.add_journal_entry(JournalEntry(s.journal, AnalysisPhase.GENERATING_CODES))
    return Built(study, folder, pid, iid, code, child, theme, (a, b), segments, coding)


def clock(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# --- the store ------------------------------------------------------------------------------


def check_store(s: Sample) -> None:
    with built(s) as b:
        store = b.study.store
        info = store.study_info()
        assert (info.name, info.description) == (s.study, s.memo)
        p = store.participant(b.participant)
        assert (p.code, p.group, p.attributes, p.notes) == (
            s.participant, s.group, ((s.attribute, s.value),), s.memo)
        assert [a.name for a in store.attribute_defs()] == [s.attribute]
        i = store.interview(b.interview)
        assert i.title == s.title
        assert [(x.label, x.id) for x in store.speakers(b.interview)] == [
            (s.speakers[0], b.speakers[0]), (s.speakers[1], b.speakers[1])]
        assert [seg.text for seg in store.segments(b.interview)] == list(s.said)
        assert {(c.name, c.definition, c.parent_id) for c in store.codes()} == {
            (s.code, s.definition, None), (s.child, s.definition, b.code)}
        assert [(t.name, t.definition) for t in store.themes()] == [(s.theme, s.definition)]
        assert {m.text for m in store.memos()} == {s.memo}
        assert [e.text for e in store.journal()] == [s.journal]
        (coding,) = store.codings()
        assert store.coded_text(coding) == s.said[-1].split(" ")[0]
        assert [str(p) for p in check_study(store) if p.is_error] == []


def test_a_study_in_every_script_reads_back_exactly() -> None:
    check_store(FIXED)


@fuzz(40)
@given(samples())
def test_the_store_keeps_every_string_exactly(s: Sample) -> None:
    check_store(s)


# --- search ---------------------------------------------------------------------------------


def delimited(text: str, word: str) -> list[tuple[int, int]]:
    """Where `word` stands as a whole space-separated word in `text`."""
    found, at = [], 0
    while (at := text.find(word, at)) != -1:
        end = at + len(word)
        if (at == 0 or text[at - 1] == " ") and (end == len(text) or text[end] == " "):
            found.append((at, end))
        at += 1
    return found


def check_search(s: Sample) -> None:
    with built(s) as b:
        store = b.study.store
        segments = store.segments(b.interview)
        for word in {w for seg in segments for w in seg.text.split(" ")}:
            expected = {(seg.id, a, e) for seg in segments for a, e in delimited(seg.text, word)}
            hits = store.search_text(word, case_sensitive=True)
            got = {(h.segment_id, h.start, h.end) for h in hits}
            assert expected <= got, f"{word!r}: missed {expected - got}"
            assert all(h.text[h.start:h.end] == word for h in hits), word
            upper = word.upper()
            if len(upper) == len(word) and upper != word:  # "ß" becomes "SS": not one letter
                found = {(h.segment_id, h.start, h.end) for h in store.search_text(upper)}
                assert expected <= found, f"{upper!r} (for {word!r}): missed {expected - found}"


def test_search_finds_words_of_every_script() -> None:
    check_search(FIXED)


@fuzz(40)
@given(samples())
def test_search_finds_every_word_where_it_is(s: Sample) -> None:
    check_search(s)


# --- codings through edits -----------------------------------------------------------------------


@st.composite
def edits(draw: st.DrawFn) -> tuple[list[str], int, list[tuple[str, int, str]]]:
    """A segment's words, the one coded, and edits to the others (kind, index, new word).
    Words may repeat ("no no"), as they do in speech."""
    tokens = draw(st.lists(st.sampled_from(ALL), min_size=3, max_size=8))
    coded = draw(st.integers(0, len(tokens) - 1))
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        steps.append((draw(st.sampled_from(["replace", "insert", "delete", "split", "merge"])),
                      draw(st.integers(0, 20)), draw(st.sampled_from(ALL))))
    return tokens, coded, steps


def check_coding_through_edits(tokens: list[str], coded: int,
                               steps: list[tuple[str, int, str]]) -> None:
    word = tokens[coded]
    with tempfile.TemporaryDirectory(prefix="unicode-") as tmp, \
            create_study(Path(tmp) / "Edits") as study:
        store = study.store
        iid = store.add_interview(Interview("Édition ✏️")).new_id("interview")
        text = " ".join(tokens)
        start = len(" ".join(tokens[:coded])) + (1 if coded else 0)
        seg, after = store.add_segments([Segment(iid, 0, 0, 9000, text),
                                         Segment(iid, 1, 9000, 9500, "➡️ später")]).ids("segment")
        code = store.add_code(Code("Wörter 言葉")).new_id("code")
        cid = store.add_coding(Coding(code, iid, seg, start, seg, start + len(word))
                               ).new_id("coding")
        assert store.coded_text(store.codings()[0]) == word
        for kind, where, new in steps:
            coding = next(c for c in store.codings() if c.id == cid)
            segment = store.segment(coding.start_segment_id)
            words_ = segment.text.split(" ")
            at = _word_at(segment.text, coding.start_offset)  # the coded word's index
            others = [k for k in range(len(words_)) if k != at]
            if kind in ("replace", "delete") and others:
                k = others[where % len(others)]
                words_[k:k + 1] = [new] if kind == "replace" else []
                store.edit_segment_text(segment.id, " ".join(words_))
            elif kind == "insert":
                k = where % (len(words_) + 1)
                words_.insert(k, new)
                store.edit_segment_text(segment.id, " ".join(words_))
            elif kind == "split" and len(words_) > 1:
                k = 1 + where % (len(words_) - 1)  # split before word k, at its space
                store.split_segment(segment.id, len(" ".join(words_[:k])))
            elif kind == "merge":
                segs = store.segments(iid)
                n = next(i for i, x in enumerate(segs) if x.id == segment.id)
                if n + 1 < len(segs):
                    store.merge_segments(segment.id, segs[n + 1].id)
                elif n > 0:
                    store.merge_segments(segs[n - 1].id, segment.id)
            coding = next(c for c in store.codings() if c.id == cid)
            assert store.coded_text(coding) == word, (kind, where, new)
        assert [str(p) for p in check_study(store) if p.is_error] == []
        del after


def _word_at(text: str, offset: int) -> int:
    return text[:offset].count(" ")


def test_a_coding_on_an_emoji_sequence_survives_edits() -> None:
    check_coding_through_edits(["Zoë", "said", "👨‍👩‍👧‍👦", "محمد", "日本語"], 2,
                               [("replace", 0, "Zoe\u0308"), ("insert", 3, "🏳️‍🌈"),
                                ("split", 1, ""), ("merge", 0, ""), ("delete", 4, "")])


@fuzz(60)
@given(edits())
def test_codings_keep_their_exact_words_through_edits(
        case: tuple[list[str], int, list[tuple[str, int, str]]]) -> None:
    check_coding_through_edits(*case)


# --- transcript exports, read back by the importer ----------------------------------------------


def check_transcript_exports(s: Sample) -> None:
    with built(s) as b:
        store = b.study.store
        segments = store.segments(b.interview)
        label = {sp.id: sp.label for sp in store.speakers(b.interview)}
        expected = [(label[seg.speaker_id], seg.text) for seg in segments]
        for fmt in ("txt", "srt", "vtt"):
            path = export_transcript(store, b.interview, b.folder / f"{s.title}.{fmt}", fmt)
            turns = read_transcript(path).turns
            assert [(t.speaker, t.text) for t in turns] == expected, fmt
            if fmt == "txt":
                assert [t.start_ms for t in turns] == [seg.start_ms // 1000 * 1000
                                                       for seg in segments]
            else:
                assert [(t.start_ms, t.end_ms) for t in turns] == [
                    (seg.start_ms, seg.end_ms) for seg in segments], fmt


def test_transcript_exports_of_every_script_read_back() -> None:
    check_transcript_exports(FIXED)


@fuzz(30)
@given(samples())
def test_transcript_exports_read_back_exactly(s: Sample) -> None:
    check_transcript_exports(s)


@fuzz(20)
@given(labels=st.lists(words(ALL, max_size=2), min_size=2, max_size=2, unique=True),
       said=st.lists(texts, min_size=2, max_size=4))
def test_vtt_voice_tags_keep_speakers_with_emoji(labels: list[str], said: list[str]) -> None:
    """Only WebVTT's <v Name> tag carries any label: in txt and srt a label must look like
    a name (letters), or the importer reads it as text."""
    assume(labels[0].strip() != labels[1].strip() and all(label.strip() for label in labels))
    s = Sample("S", "P", "", "A", "v", "C", "D", "", "T", "m", "j", "Voix 🎙", (labels[0],
               labels[1]), tuple(said))
    with built(s) as b:
        path = export_transcript(b.study.store, b.interview, b.folder / "v.vtt", "vtt")
        turns = read_transcript(path).turns
        assert [(t.speaker, t.text) for t in turns] == [
            (s.speakers[n % 2], text) for n, text in enumerate(said)]


# --- Word and CSV, read back with python-docx and the csv module --------------------------------


def check_word(s: Sample) -> None:
    with built(s) as b:
        store = b.study.store
        path = transcript_docx(store, b.interview, b.folder / f"{s.title}.docx")
        paragraphs = [p.text for p in docx.Document(str(path)).paragraphs]
        assert paragraphs[0] == s.title
        assert f"Participant: {s.participant} ({s.group})" in paragraphs
        label = {sp.id: sp.label for sp in store.speakers(b.interview)}
        lines = [f"[{clock(seg.start_ms)}] {label[seg.speaker_id]}: {seg.text}"
                 for seg in store.segments(b.interview)]
        assert paragraphs[-len(lines):] == lines
        book = docx.Document(str(codebook_docx(store, b.folder / "codebook.docx")))
        text = [p.text for p in book.paragraphs]
        assert text[0] == f"{s.study}: codebook"
        for wanted in (s.code, s.child, s.theme, f"Definition: {s.definition}"):
            assert wanted in text, wanted


def test_word_exports_of_every_script_read_back() -> None:
    check_word(FIXED)


@fuzz(15)
@given(samples())
def test_word_exports_read_back_exactly(s: Sample) -> None:
    check_word(s)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def check_csv(s: Sample) -> None:
    with built(s) as b:
        store = b.study.store
        rows = read_csv(tables.participants_csv(store, b.folder / f"{s.group}.csv"))
        assert rows == [["Participant", "Group", s.attribute], [s.participant, s.group, s.value]]
        rows = read_csv(tables.codings_csv(store, b.folder / "codings.csv"))
        assert rows[1] == [s.title, s.participant, s.group, f"{s.code} › {s.child}",
                           clock(b.study.store.segment(b.segments[-1]).start_ms),
                           s.speakers[(len(s.said) - 1) % 2], s.said[-1].split(" ")[0]]


def test_csv_exports_of_every_script_read_back() -> None:
    check_csv(FIXED)


@fuzz(30)
@given(samples())
def test_csv_exports_read_back_exactly(s: Sample) -> None:
    check_csv(s)


# --- REFI-QDA: export, then import into a new study ------------------------------------------


def picture(study: Study) -> dict[str, Any]:
    """What a researcher would compare, by name rather than id."""
    store = study.store
    codes = {c.id: c for c in store.codes()}
    interviews = store.interviews()
    return {
        "participants": sorted((p.code, p.group, p.attributes) for p in store.participants()),
        "codes": sorted((c.name, c.definition, codes[c.parent_id].name if c.parent_id else None)
                        for c in codes.values()),
        "themes": sorted((t.name, t.definition, tuple(sorted(codes[i].name for i in t.code_ids)))
                         for t in store.themes()),
        "memos": sorted(m.text for m in store.memos()),
        "journal": [e.text for e in store.journal()],
        "interviews": sorted((i.title, [(_label(store, seg.speaker_id, i.id), seg.text)
                                        for seg in store.segments(i.id)]) for i in interviews),
        "codings": sorted((codes[c.code_id].name, store.coded_text(c)) for c in store.codings()),
    }


def _label(study_store: Any, speaker_id: int | None, interview_id: int | None) -> str | None:
    if speaker_id is None:
        return None
    return next(s.label for s in study_store.speakers(interview_id) if s.id == speaker_id)


def check_refi(s: Sample) -> None:
    with built(s) as b:
        path = b.folder / f"{s.study}.qdpx"
        export_qdpx(b.study, path)
        with create_study(b.folder / "Imported") as imported:
            import_qdpx(imported, path)
            assert picture(imported) == picture(b.study)
        export_qdc(b.study.store, b.folder / "codes.qdc")
        with create_study(b.folder / "Codebook only") as other:
            import_qdc(other.store, b.folder / "codes.qdc")
            assert picture(other)["codes"] == picture(b.study)["codes"]
            assert picture(other)["themes"] == picture(b.study)["themes"]


def test_a_project_in_every_script_survives_export_and_import() -> None:
    check_refi(FIXED)


@fuzz(15)
@given(samples())
def test_projects_survive_export_and_import_exactly(s: Sample) -> None:
    check_refi(s)


# --- the leak check ---------------------------------------------------------------------------


@pytest.mark.parametrize(("registered", "text", "expected"), [
    ("Zoë", "then Zoë said", ["Zoë"]),
    ("Zoë", "ZOË's idea", ["ZOË's"]),
    ("Zoë", "zoë’s idea", ["zoë’s"]),
    ("Zoë Brontë", "ask ZOË BRONTË's team", ["ZOË BRONTË's"]),
    ("Zoë Brontë", "Zoë\nBrontë rang", ["Zoë\nBrontë"]),
    ("Łukasz", "ŁUKASZ and łukasz", ["ŁUKASZ", "łukasz"]),
    ("José Ñúñez", "josé ñúñez's notes", ["josé ñúñez's"]),
    ("محمد", "قال محمد اليوم", ["محمد"]),
    ("שרה", "\u200fשרה\u200f said", ["שרה"]),
    ("王芳", "王芳 said", ["王芳"]),
    ("Zoë", "Zoe and Zoey are others", []),
])
def test_the_leak_check_catches_a_registered_name_in_any_case(
        registered: str, text: str, expected: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, create_study(Path(tmp) / "Leaks") as study:
        study.store.register_identifier(registered, "person")
        checker = LeakChecker.for_store(study.store)
        assert [leak.text for leak in checker.find(text)] == expected


def test_an_export_holding_a_registered_accented_name_is_refused() -> None:
    s = FIXED
    with built(s) as b:
        store = b.study.store
        store.register_identifier("Zoë", "person")
        for fmt in ("txt", "srt", "vtt"):
            target = b.folder / f"out.{fmt}"
            with pytest.raises(LeakError) as refused:
                export_transcript(store, b.interview, target, fmt)
            assert not target.exists()
            assert "Zoë" not in str(refused.value) and "ZOË" not in str(refused.value)


@pytest.mark.parametrize("text", ["Zoe\u0308 said", "said Zoe\u0308", "ZOE\u0308 BRONTE\u0308"])
def test_the_leak_check_finds_a_decomposed_accented_name(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, create_study(Path(tmp) / "Leaks") as study:
        study.store.register_identifier("Zoë", "person")
        assert LeakChecker.for_store(study.store).find(text) != []


def test_decomposed_and_precomposed_are_different_search_strings() -> None:
    """As documented: search never ignores accents, and does not normalise either."""
    with built(FIXED) as b:
        store = b.study.store
        assert [h.text[h.start:h.end] for h in store.search_text("e\u0301te\u0301")] == [
            "e\u0301te\u0301"]
        assert store.search_text("été") == []
        assert re.search("e\u0301", store.segment(b.segments[1]).text)


@pytest.mark.parametrize(("old", "new", "word"), [
    ("Smith Smith Jones", "Smith Jones Jones", "Smith"),
    ("Brontë Brontë Zoë", "Brontë Zoë Zoë", "Brontë"),
])
def test_editing_next_to_a_repeated_word_keeps_the_coding(old: str, new: str,
                                                              word: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, create_study(Path(tmp) / "Edits") as study:
        store = study.store
        iid = store.add_interview(Interview("Repeated")).new_id("interview")
        (seg,) = store.add_segments([Segment(iid, 0, 0, 1000, old)]).ids("segment")
        code = store.add_code(Code("Names")).new_id("code")
        store.add_coding(Coding(code, iid, seg, 0, seg, len(word)))
        store.edit_segment_text(seg, new)
        assert [store.coded_text(c) for c in store.codings()] == [word]


@pytest.mark.parametrize("coded", [0, 1, 2])
def test_deleting_one_of_three_twin_words_keeps_a_coding_on_any_of_them(coded: int) -> None:
    """The text cannot say which "no" went: whichever was coded keeps its coding."""
    with tempfile.TemporaryDirectory() as tmp, create_study(Path(tmp) / "Twins") as study:
        store = study.store
        iid = store.add_interview(Interview("Twins")).new_id("interview")
        (seg,) = store.add_segments([Segment(iid, 0, 0, 1000, "no no no")]).ids("segment")
        code = store.add_code(Code("Refusal")).new_id("code")
        store.add_coding(Coding(code, iid, seg, 3 * coded, seg, 3 * coded + 2))
        store.edit_segment_text(seg, "no no")
        assert [store.coded_text(c) for c in store.codings()] == ["no"]
