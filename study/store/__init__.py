"""The study store: the only code that touches SQL.

One Store per thread or process; each opens its own connection to the same file
(WAL lets a reader and a writer work at once).
"""

from __future__ import annotations

from study.store.anonymity import AnonymityMixin
from study.store.checks import ChecksMixin
from study.store.core import Transaction
from study.store.editing import EditingMixin, SegmentsSnapshot
from study.store.jobs import JobsMixin
from study.store.notes import NotesMixin
from study.store.participants import ParticipantsMixin
from study.store.queries import CodedPortion, QueriesMixin
from study.store.schema import CURRENT_VERSION
from study.store.search import SearchMixin


class Store(
    ParticipantsMixin, EditingMixin, SearchMixin, NotesMixin, AnonymityMixin, JobsMixin,
    QueriesMixin, ChecksMixin,
):
    """All reads and writes of one study database."""


__all__ = ["CURRENT_VERSION", "CodedPortion", "SegmentsSnapshot", "Store", "Transaction"]
