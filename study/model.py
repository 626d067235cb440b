"""The study's data model: frozen dataclasses that every layer passes around.

Store methods take and return these; nothing here knows about SQL or Qt. Ids are
None until the store has saved the object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class AttributeType(StrEnum):
    """How a participant attribute's value is stored, edited and compared."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    BOOLEAN = "boolean"


class InterviewStatus(StrEnum):
    """Where an interview is in the workflow, in order."""

    RECORDED = "recorded"
    TRANSCRIBED = "transcribed"
    CHECKED = "checked"
    ANONYMISED = "anonymised"
    CODED = "coded"


class SpeakerRole(StrEnum):
    INTERVIEWER = "interviewer"
    PARTICIPANT = "participant"
    OTHER = "other"


class ThemeStatus(StrEnum):
    """Braun and Clarke: themes start as candidates, are reviewed, then defined."""

    CANDIDATE = "candidate"
    REVIEWED = "reviewed"
    FINAL = "final"


class MemoTarget(StrEnum):
    STUDY = "study"
    INTERVIEW = "interview"
    SEGMENT = "segment"
    CODING = "coding"
    CODE = "code"
    THEME = "theme"


class AnalysisPhase(StrEnum):
    """The six phases of reflexive thematic analysis, used to tag journal entries."""

    FAMILIARISATION = "familiarisation"
    GENERATING_CODES = "generating codes"
    SEARCHING_FOR_THEMES = "searching for themes"
    REVIEWING_THEMES = "reviewing themes"
    DEFINING_THEMES = "defining themes"
    WRITING_UP = "writing up"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    FAILED = "failed"
    DONE = "done"


class FlagKind(StrEnum):
    """Why a passage deserves a second listen."""

    MISSED_SPEECH = "missed speech"
    REPETITION = "repetition"
    LOW_CONFIDENCE = "low confidence"
    NOTE = "note"


class Decision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class IdentifierRule(StrEnum):
    """Whether an identifier is replaced wherever it occurs without asking each time."""

    ASK = "ask"
    ALWAYS = "always"
    NEVER = "never"  # not an identifier after all: never propose it again


class Category(StrEnum):
    """Kinds of identifier (UK Data Service guidance: direct and indirect)."""

    PERSON = "person"
    FAMILY = "family"
    COLLEAGUE = "colleague"
    PLACE = "place"
    ORGANISATION = "organisation"
    ADDRESS = "address"
    POSTCODE = "postcode"
    DATE = "date"
    AGE = "age"
    EMAIL = "email"
    PHONE = "phone"
    NHS_NUMBER = "nhs number"
    NI_NUMBER = "ni number"
    ROLE = "role"
    OTHER = "other"


AttributeValue = str | float | bool | dt.date | None


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """A typed participant attribute the researcher defined, e.g. years in post."""

    name: str
    type: AttributeType = AttributeType.TEXT
    choices: tuple[str, ...] = ()
    position: int = 0


@dataclass(frozen=True, slots=True)
class Participant:
    """A person interviewed, known in the study only by code (e.g. MHCC-1)."""

    code: str
    group: str = ""
    attributes: tuple[tuple[str, AttributeValue], ...] = ()
    notes: str = ""
    id: int | None = None

    def attribute(self, name: str) -> AttributeValue:
        return dict(self.attributes).get(name)


@dataclass(frozen=True, slots=True)
class Media:
    """An audio file copied into the study's media folder, named by its hash."""

    sha256: str
    filename: str
    original_name: str
    duration_ms: int
    channels: int = 1
    sample_rate: int = 16000
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Interview:
    title: str
    participant_id: int | None = None
    date: dt.date | None = None
    media_id: int | None = None
    duration_ms: int = 0
    status: InterviewStatus = InterviewStatus.RECORDED
    language: str = "en"
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Speaker:
    """A voice in one interview; 'Interviewer' speech is excluded from group counts."""

    interview_id: int
    label: str
    role: SpeakerRole = SpeakerRole.OTHER
    participant_id: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its timing and the model's confidence."""

    text: str
    start_ms: int
    end_ms: int
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class Flag:
    """A marked passage of a segment, e.g. speech the recogniser may have missed."""

    kind: FlagKind
    start_ms: int
    end_ms: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Segment:
    """One turn or phrase of a transcript, the unit codings anchor to."""

    interview_id: int
    position: int
    start_ms: int
    end_ms: int
    text: str
    speaker_id: int | None = None
    words: tuple[Word, ...] = ()
    flags: tuple[Flag, ...] = ()
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Code:
    name: str
    parent_id: int | None = None
    definition: str = ""
    colour: str = "#4e79a7"
    position: int = 0
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Coding:
    """A code applied to a span that may cross segments: from (segment, offset) to
    (segment, offset), end exclusive, offsets in characters of each segment's text."""

    code_id: int
    interview_id: int
    start_segment_id: int
    start_offset: int
    end_segment_id: int
    end_offset: int
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    definition: str = ""
    status: ThemeStatus = ThemeStatus.CANDIDATE
    code_ids: tuple[int, ...] = ()
    position: int = 0
    map_x: float | None = None
    map_y: float | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Memo:
    """A note on the study or on one object; target_id is None for the study."""

    target: MemoTarget
    text: str
    target_id: int | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    text: str
    phase: AnalysisPhase = AnalysisPhase.FAMILIARISATION
    created_at: dt.datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Identifier:
    """A registry entry: one real identifier and its study-wide replacement.

    The study keeps only a salted hash of the original; the original itself lives
    in the separate key file.
    """

    category: str
    replacement: str
    original_hash: str
    attributes: tuple[tuple[str, str], ...] = ()
    id: int | None = None
    rule: IdentifierRule = IdentifierRule.ASK
    word_count: int = 1  # words in the original: how long a run of words the leak check hashes


@dataclass(frozen=True, slots=True)
class Candidate:
    """A place detection proposes as an identifier: a span of one segment's text."""

    segment_id: int
    start: int
    end: int
    text: str
    category: str
    source: str  # "registered", "glossary", "ner", "rule" or "propagated"
    identifier_id: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AnonymisationDecision:
    """The researcher's verdict on one occurrence of an identifier."""

    identifier_id: int
    segment_id: int
    start_offset: int
    end_offset: int
    decision: Decision
    decided_at: dt.datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """Background work that must survive a crash, e.g. a transcription."""

    kind: str
    interview_id: int | None = None
    state: JobState = JobState.QUEUED
    params: str = "{}"
    done_ms: int = 0
    total_ms: int = 0
    error: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: str
    detail: str = ""
    at: dt.datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class StudyInfo:
    name: str
    description: str = ""
    created_at: dt.datetime | None = None
    schema_version: int = 0


@dataclass(frozen=True, slots=True)
class Changes:
    """What one store call changed, so views refresh only those rows.

    Each field maps an entity kind (e.g. "participant") to the ids touched.
    """

    added: tuple[tuple[str, int], ...] = ()
    updated: tuple[tuple[str, int], ...] = ()
    removed: tuple[tuple[str, int], ...] = ()

    def ids(self, kind: str, which: str = "added") -> tuple[int, ...]:
        return tuple(i for k, i in getattr(self, which) if k == kind)

    def new_id(self, kind: str) -> int:
        """The id of the one `kind` this call added (e.g. the new participant)."""
        (id_,) = self.ids(kind)[:1] or (None,)
        if id_ is None:
            raise LookupError(f"no {kind} was added")
        return id_

    def kinds(self) -> frozenset[str]:
        return frozenset(k for k, _ in (*self.added, *self.updated, *self.removed))

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.added + other.added, self.updated + other.updated, self.removed + other.removed
        )


NO_CHANGES = Changes()


@dataclass(frozen=True, slots=True)
class InterviewSummary:
    """One row of the interviews list: what the list shows without loading text."""

    interview: Interview
    participant_code: str = ""
    segment_count: int = 0
    word_count: int = 0
    coding_count: int = 0
    media_filename: str = field(default="")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match of a text search: where it lies in one segment (end exclusive).

    `text` is the whole segment text as it was when searched, so a caller can show the
    match in context and the store can tell when the transcript changed since.
    """

    interview_id: int
    segment_id: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class CodeSnapshot:
    """A code with everything hanging on it, as it was: what undo of delete and merge
    puts back, with the same ids.

    codes: the code and its whole subtree, parents before children; codings: the
    codings of those codes; theme_links: (theme_id, code_id) memberships; memos: memos
    on those codes and on those codings; map_positions: (code_id, x, y) of the codes
    placed on the thematic map.
    """

    codes: tuple[Code, ...]
    codings: tuple[Coding, ...]
    theme_links: tuple[tuple[int, int], ...]
    memos: tuple[Memo, ...]
    map_positions: tuple[tuple[int, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class CodingRef:
    """A coding with what a list of quotes shows beside it: where and who said it.

    start_ms and speaker_label are those of the coding's first segment; text is the
    coded words, segments joined by a space (as Store.coded_text gives them).
    """

    coding: Coding
    interview_title: str
    participant_code: str
    start_ms: int
    speaker_label: str
    text: str
