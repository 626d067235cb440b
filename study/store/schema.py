"""The study schema as an ordered list of migrations.

MIGRATIONS[i] takes a study from schema version i to i + 1. Never edit a shipped
migration: append a new one, and add its case to tests/unit/test_migrations.py.
"""

from __future__ import annotations

V1 = """
CREATE TABLE study (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    salt TEXT NOT NULL
);

CREATE TABLE attribute_defs (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('text', 'number', 'date', 'choice', 'boolean')),
    choices TEXT NOT NULL DEFAULT '[]',
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(trim(code)) > 0),
    group_name TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT ''
);

CREATE TABLE participant_attributes (
    participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    name TEXT NOT NULL REFERENCES attribute_defs(name) ON DELETE CASCADE ON UPDATE CASCADE,
    value TEXT NOT NULL,
    PRIMARY KEY (participant_id, name)
) WITHOUT ROWID;

CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    filename TEXT NOT NULL,
    original_name TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    channels INTEGER NOT NULL DEFAULT 1,
    sample_rate INTEGER NOT NULL DEFAULT 16000
);

CREATE TABLE interviews (
    id INTEGER PRIMARY KEY,
    participant_id INTEGER REFERENCES participants(id) ON DELETE RESTRICT,
    title TEXT NOT NULL,
    date TEXT,
    media_id INTEGER REFERENCES media(id) ON DELETE SET NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'recorded'
        CHECK (status IN ('recorded', 'transcribed', 'checked', 'anonymised', 'coded')),
    language TEXT NOT NULL DEFAULT 'en'
);
CREATE INDEX interviews_participant ON interviews(participant_id);

CREATE TABLE speakers (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'other' CHECK (role IN ('interviewer', 'participant', 'other')),
    participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
    UNIQUE (interview_id, label)
);

CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    speaker_id INTEGER REFERENCES speakers(id) ON DELETE SET NULL,
    text TEXT NOT NULL,
    words TEXT NOT NULL DEFAULT '[]',
    flags TEXT NOT NULL DEFAULT '[]',
    CHECK (end_ms >= start_ms)
);
CREATE INDEX segments_interview ON segments(interview_id, position);

CREATE TABLE codes (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES codes(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    definition TEXT NOT NULL DEFAULT '',
    colour TEXT NOT NULL DEFAULT '#4e79a7',
    position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX codes_parent ON codes(parent_id);

CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
    code_id INTEGER NOT NULL REFERENCES codes(id) ON DELETE CASCADE,
    interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    start_segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    start_offset INTEGER NOT NULL CHECK (start_offset >= 0),
    end_segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    end_offset INTEGER NOT NULL CHECK (end_offset >= 0)
);
CREATE INDEX codings_code ON codings(code_id);
CREATE INDEX codings_interview ON codings(interview_id);
CREATE INDEX codings_start_segment ON codings(start_segment_id);
CREATE INDEX codings_end_segment ON codings(end_segment_id);

CREATE TABLE themes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    definition TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'reviewed', 'final')),
    position INTEGER NOT NULL DEFAULT 0,
    map_x REAL,
    map_y REAL
);

CREATE TABLE theme_codes (
    theme_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    code_id INTEGER NOT NULL REFERENCES codes(id) ON DELETE CASCADE,
    PRIMARY KEY (theme_id, code_id)
) WITHOUT ROWID;
CREATE INDEX theme_codes_code ON theme_codes(code_id);

CREATE TABLE memos (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL
        CHECK (target IN ('study', 'interview', 'segment', 'coding', 'code', 'theme')),
    target_id INTEGER,
    start_offset INTEGER,
    end_offset INTEGER,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((target = 'study') = (target_id IS NULL))
);
CREATE INDEX memos_target ON memos(target, target_id);

CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    phase TEXT NOT NULL CHECK (phase IN ('familiarisation', 'generating codes',
        'searching for themes', 'reviewing themes', 'defining themes', 'writing up')),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE glossary (
    id INTEGER PRIMARY KEY,
    term TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(term)) > 0),
    note TEXT NOT NULL DEFAULT ''
);

CREATE TABLE identifiers (
    id INTEGER PRIMARY KEY,
    category TEXT NOT NULL,
    replacement TEXT NOT NULL,
    original_hash TEXT NOT NULL UNIQUE,
    attributes TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE anonymisation_decisions (
    id INTEGER PRIMARY KEY,
    identifier_id INTEGER NOT NULL REFERENCES identifiers(id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
    decided_at TEXT NOT NULL,
    UNIQUE (segment_id, start_offset, end_offset)
);
CREATE INDEX anonymisation_identifier ON anonymisation_decisions(identifier_id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    interview_id INTEGER REFERENCES interviews(id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'interrupted', 'cancelled', 'failed', 'done')),
    params TEXT NOT NULL DEFAULT '{}',
    done_ms INTEGER NOT NULL DEFAULT 0,
    total_ms INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Memos point at their target by kind and id, so no foreign key removes them: these do.
CREATE TRIGGER memos_of_interview AFTER DELETE ON interviews BEGIN
    DELETE FROM memos WHERE target = 'interview' AND target_id = OLD.id; END;
CREATE TRIGGER memos_of_segment AFTER DELETE ON segments BEGIN
    DELETE FROM memos WHERE target = 'segment' AND target_id = OLD.id; END;
CREATE TRIGGER memos_of_coding AFTER DELETE ON codings BEGIN
    DELETE FROM memos WHERE target = 'coding' AND target_id = OLD.id; END;
CREATE TRIGGER memos_of_code AFTER DELETE ON codes BEGIN
    DELETE FROM memos WHERE target = 'code' AND target_id = OLD.id; END;
CREATE TRIGGER memos_of_theme AFTER DELETE ON themes BEGIN
    DELETE FROM memos WHERE target = 'theme' AND target_id = OLD.id; END;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
"""

V2 = """
-- Where the researcher placed each code on the thematic map (themes have their own).
ALTER TABLE codes ADD COLUMN map_x REAL;
ALTER TABLE codes ADD COLUMN map_y REAL;

-- Full-text search over transcripts, kept in step with segments by triggers.
CREATE VIRTUAL TABLE segments_fts USING fts5(
    text, content='segments', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
INSERT INTO segments_fts(segments_fts) VALUES ('rebuild');
CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN
    INSERT INTO segments_fts(rowid, text) VALUES (NEW.id, NEW.text); END;
CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text); END;
CREATE TRIGGER segments_fts_update AFTER UPDATE OF text ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
    INSERT INTO segments_fts(rowid, text) VALUES (NEW.id, NEW.text); END;
"""

V3 = """
-- Anonymisation. Before it is applied the originals sit in the study (the text holds
-- them anyway); applying moves them to the key file and leaves only salted hashes.
ALTER TABLE identifiers ADD COLUMN rule TEXT NOT NULL DEFAULT 'ask'
    CHECK (rule IN ('ask', 'always', 'never'));
ALTER TABLE identifiers ADD COLUMN word_count INTEGER NOT NULL DEFAULT 1;

CREATE TABLE identifier_originals (
    identifier_id INTEGER PRIMARY KEY REFERENCES identifiers(id) ON DELETE CASCADE,
    original TEXT NOT NULL
);

CREATE TABLE anonymisation_candidates (
    id INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL CHECK (end_offset > start_offset),
    text TEXT NOT NULL,
    category TEXT NOT NULL,
    source TEXT NOT NULL,
    identifier_id INTEGER REFERENCES identifiers(id) ON DELETE SET NULL,
    UNIQUE (segment_id, start_offset, end_offset)
);
CREATE INDEX anonymisation_candidates_identifier ON anonymisation_candidates(identifier_id);

CREATE TABLE replacement_scheme (
    category TEXT PRIMARY KEY,
    template TEXT NOT NULL CHECK (length(trim(template)) > 0)
);

CREATE TABLE anonymisation_runs (
    id INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE,
    applied_at TEXT NOT NULL,
    reversed_at TEXT,
    replaced INTEGER NOT NULL DEFAULT 0
);
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3)

CURRENT_VERSION = len(MIGRATIONS)
