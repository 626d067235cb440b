"""Memos and journal entries come back identical after a delete is undone: the store keeps
a given id and given times."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from study.errors import NotFoundError
from study.folder import Study
from study.model import AnalysisPhase, JournalEntry, Memo, MemoTarget
from study.store import Store

EARLY = dt.datetime(2025, 3, 4, 14, 5, tzinfo=dt.UTC)
LATER = dt.datetime(2025, 5, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def store(study: Study) -> Store:
    return study.store


def test_add_memo_keeps_given_times_and_id(store: Store) -> None:
    mid = store.add_memo(Memo(MemoTarget.STUDY, "first thoughts", created_at=EARLY,
                              updated_at=LATER)).new_id("memo")
    memo = store.memo(mid)
    assert (memo.created_at, memo.updated_at) == (EARLY, LATER)
    store.delete_memo(mid)
    assert store.add_memo(memo).new_id("memo") == mid
    assert store.memos() == [memo]
    assert store.memo(mid) == memo


def test_add_memo_without_times_stamps_both_now(store: Store) -> None:
    mid = store.add_memo(Memo(MemoTarget.STUDY, "x")).new_id("memo")
    memo = store.memo(mid)
    assert memo.created_at is not None and memo.created_at == memo.updated_at
    only_created = store.add_memo(Memo(MemoTarget.STUDY, "y", created_at=EARLY)).new_id("memo")
    assert store.memo(only_created).updated_at == EARLY


def test_update_memo_stamps_now_unless_told_to_keep_the_time(store: Store) -> None:
    mid = store.add_memo(Memo(MemoTarget.STUDY, "draft", created_at=EARLY,
                              updated_at=EARLY)).new_id("memo")
    before = store.memo(mid)
    store.update_memo(dataclasses.replace(before, text="final"))
    after = store.memo(mid)
    assert after.text == "final"
    assert after.updated_at is not None and after.updated_at > EARLY
    assert after.created_at == EARLY
    store.update_memo(before, keep_time=True)
    assert store.memo(mid) == before


def test_memo_lookup_of_a_missing_id(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.memo(42)


def test_add_journal_entry_keeps_given_id(store: Store) -> None:
    first = store.add_journal_entry(JournalEntry("first", created_at=EARLY)).new_id("journal")
    jid = store.add_journal_entry(JournalEntry(
        "codes settling", AnalysisPhase.GENERATING_CODES, LATER)).new_id("journal")
    entry = store.journal_entry(jid)
    assert entry == JournalEntry("codes settling", AnalysisPhase.GENERATING_CODES, LATER, jid)
    store.delete_journal_entry(jid)
    assert store.add_journal_entry(entry).ids("journal") == (jid,)
    assert store.journal() == [store.journal_entry(first), entry]
    with pytest.raises(NotFoundError):
        store.journal_entry(jid + 1)
