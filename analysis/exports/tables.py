"""CSV exports: the comparison, the presence and co-occurrence matrices, every coding,
and the participants with their attributes.

UTF-8 with a byte-order mark, so Excel opens accented names correctly (without it, Excel
reads a CSV in the machine's legacy code page), and RFC 4180 quoting: fields quoted only
when needed, quotes doubled, CRLF line ends. Every cell and the file name pass the leak
check before anything is written, and the file is written atomically, so a refused
export leaves no file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from analysis.compare import PATH_SEPARATOR, Comparison, Cooccurrence, PresenceMatrix, to_rows
from analysis.exports.atomic import write_atomic
from analysis.exports.transcript import clock
from analysis.leak_check import MASK, LeakChecker
from study.errors import StudyError
from study.model import AttributeValue
from study.store import Store

BOM = "\ufeff"


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    """The rows as RFC 4180 CSV text with a leading byte-order mark."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return BOM + buffer.getvalue()


def check_export(store: Store, parts: Iterable[tuple[str, str]]) -> None:
    """The leak check of every export here, with one addition: the location labels,
    which name themes, codes, groups and columns so the researcher can find the place,
    are masked too, so the refusal message never shows an original itself."""
    checker = LeakChecker.for_store(store)
    checker.ensure_clean((_masked(checker, where), text) for where, text in parts)


def _masked(checker: LeakChecker, label: str) -> str:
    for leak in reversed(checker.find(label)):
        label = label[:leak.start] + MASK + label[leak.end:]
    return label


def write_csv(store: Store, path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """Check every cell (labelled by row and column header) and the file name, then write;
    the first row is the header. Raises LeakError, writing nothing, on a leak."""
    path = Path(path)
    header = rows[0] if rows else []
    parts = [("file name", path.name)]
    for n, row in enumerate(rows):
        for c, cell in enumerate(row):
            column = header[c] if c < len(header) else f"column {c + 1}"
            parts.append((f"{path.name}, row {n + 1}, {column}", cell))
    check_export(store, parts)
    try:
        return write_atomic(path, csv_text(rows))
    except OSError as e:
        raise StudyError(f"Could not write {path.name}: {e.strerror or e}.") from e


def comparison_csv(store: Store, comparison: Comparison, path: Path) -> Path:
    """The comparison table: per group (then all together) k, n, %, references, words."""
    return write_csv(store, path, to_rows(comparison))


def presence_rows(matrix: PresenceMatrix) -> list[list[str]]:
    by = matrix.attribute.capitalize()
    rows = [["Participant", by, *(label for _, _, label in matrix.rows)]]
    for (_, code, group), counts in zip(matrix.participants, matrix.counts, strict=True):
        rows.append([code, group, *(str(n) for n in counts)])
    return rows


def presence_csv(store: Store, matrix: PresenceMatrix, path: Path) -> Path:
    """Coded references per participant (rows) per code or theme (columns)."""
    return write_csv(store, path, presence_rows(matrix))


def cooccurrence_rows(co: Cooccurrence) -> list[list[str]]:
    labels = [label for _, label in co.codes]
    rows = [["Code", *labels]]
    for label, counts in zip(labels, co.counts, strict=True):
        rows.append([label, *(str(n) for n in counts)])
    return rows


def cooccurrence_csv(store: Store, co: Cooccurrence, path: Path) -> Path:
    """Code by code: overlapping codings off the diagonal, each code's codings on it."""
    return write_csv(store, path, cooccurrence_rows(co))


CODINGS_HEADER = ["Interview", "Participant", "Group", "Code", "Start", "Speaker", "Text"]


def codings_rows(store: Store) -> list[list[str]]:
    """Every coding with where it was said, in interview and text order. Start and
    speaker are those of the coding's first segment; text is all the words it covers
    (an interviewer's question included, when the coding takes it in)."""
    paths = _code_paths(store)
    group_of = {p.id: p.group for p in store.participants()}
    participant_of = {i.id: i.participant_id for i in store.interviews()}
    rows = [list(CODINGS_HEADER)]
    for ref in store.coding_refs():
        c = ref.coding
        rows.append([ref.interview_title, ref.participant_code,
                     group_of.get(participant_of.get(c.interview_id), ""),
                     paths.get(c.code_id, ""), clock(ref.start_ms), ref.speaker_label, ref.text])
    return rows


def codings_csv(store: Store, path: Path) -> Path:
    return write_csv(store, path, codings_rows(store))


def participants_rows(store: Store) -> list[list[str]]:
    """Study code, group and each attribute the researcher defined, in its order."""
    names = [a.name for a in store.attribute_defs()]
    rows = [["Participant", "Group", *names]]
    for p in store.participants():
        values = dict(p.attributes)
        rows.append([p.code, p.group, *(_value(values.get(name)) for name in names)])
    return rows


def participants_csv(store: Store, path: Path) -> Path:
    return write_csv(store, path, participants_rows(store))


def _code_paths(store: Store) -> dict[int, str]:
    codes = {c.id: c for c in store.codes() if c.id is not None}
    paths: dict[int, str] = {}

    def path(code_id: int) -> str:
        if code_id not in paths:
            code = codes[code_id]
            parent = code.parent_id
            paths[code_id] = (f"{path(parent)}{PATH_SEPARATOR}{code.name}"
                              if parent in codes and parent is not None else code.name)
        return paths[code_id]

    for code_id in codes:
        path(code_id)
    return paths


def _value(value: AttributeValue) -> str:
    """As the comparison labels groups: 12 not 12.0, yes/no, ISO dates, blank if unset."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = ["BOM", "CODINGS_HEADER", "check_export", "codings_csv", "codings_rows", "comparison_csv",
           "cooccurrence_csv", "cooccurrence_rows", "csv_text", "participants_csv",
           "participants_rows", "presence_csv", "presence_rows", "write_csv"]
