"""Undo commands for transcript edits. Each keeps a snapshot of the segments it
touched (with their codings), so undo puts them back exactly, ids included."""

from __future__ import annotations

import dataclasses

from gui.undo import StoreCommand
from study.model import Speaker
from study.store import SegmentsSnapshot, Store


class EditSegmentText(StoreCommand):
    def __init__(self, store: Store, segment_id: int, text: str) -> None:
        super().__init__(store, "Edit text")
        self.segment_id, self.text = segment_id, text
        self.before: SegmentsSnapshot | None = None

    def apply(self) -> None:
        self.before = self.store.snapshot([self.segment_id])
        self.store.edit_segment_text(self.segment_id, self.text)

    def revert(self) -> None:
        assert self.before is not None
        self.store.restore(self.before, [self.segment_id])


class SplitSegment(StoreCommand):
    def __init__(self, store: Store, segment_id: int, at: int) -> None:
        super().__init__(store, "Split segment")
        self.segment_id, self.at = segment_id, at
        self.new_id: int | None = None
        self.before: SegmentsSnapshot | None = None

    def apply(self) -> None:
        self.before = self.store.snapshot([self.segment_id])
        changes = self.store.split_segment(self.segment_id, self.at, new_id=self.new_id)
        self.new_id = changes.new_id("segment")

    def revert(self) -> None:
        assert self.before is not None and self.new_id is not None
        self.store.restore(self.before, [self.segment_id, self.new_id])


class MergeSegments(StoreCommand):
    def __init__(self, store: Store, first_id: int, second_id: int) -> None:
        super().__init__(store, "Merge segments")
        self.first_id, self.second_id = first_id, second_id
        self.before: SegmentsSnapshot | None = None

    def apply(self) -> None:
        self.before = self.store.snapshot([self.first_id, self.second_id])
        self.store.merge_segments(self.first_id, self.second_id)

    def revert(self) -> None:
        assert self.before is not None
        self.store.restore(self.before, [self.first_id])


class SetSpeaker(StoreCommand):
    def __init__(self, store: Store, segment_ids: list[int], speaker: Speaker) -> None:
        super().__init__(store, f"Assign {speaker.label}")
        self.segment_ids, self.speaker_id = segment_ids, speaker.id
        self.previous = {i: store.segment(i).speaker_id for i in segment_ids}

    def apply(self) -> None:
        self.store.set_segment_speaker(self.segment_ids, self.speaker_id)

    def revert(self) -> None:
        with self.store.write():
            for segment_id, speaker_id in self.previous.items():
                self.store.set_segment_speaker([segment_id], speaker_id)


class RenameSpeaker(StoreCommand):
    def __init__(self, store: Store, speaker: Speaker, label: str) -> None:
        super().__init__(store, f"Rename {speaker.label}")
        self.before, self.after = speaker, dataclasses.replace(speaker, label=label.strip())

    def apply(self) -> None:
        self.store.update_speaker(self.after)

    def revert(self) -> None:
        self.store.update_speaker(self.before)


class AddSpeaker(StoreCommand):
    def __init__(self, store: Store, speaker: Speaker) -> None:
        super().__init__(store, f"Add speaker {speaker.label}")
        self.speaker = speaker

    def apply(self) -> None:
        new_id = self.store.add_speaker(self.speaker).new_id("speaker")
        self.speaker = dataclasses.replace(self.speaker, id=new_id)

    def revert(self) -> None:
        assert self.speaker.id is not None
        self.store.delete_speaker(self.speaker.id)
