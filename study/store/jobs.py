"""Background jobs that must survive a crash, with the position last committed."""

from __future__ import annotations

from typing import Any

from study.errors import ValidationError
from study.model import Changes, Job, JobState
from study.store.core import StoreCore, now


def _job(r: dict[str, Any]) -> Job:
    return Job(r["kind"], r["interview_id"], JobState(r["state"]), r["params"], r["done_ms"],
               r["total_ms"], r["error"], r["id"])


class JobsMixin(StoreCore):
    def jobs(self, *states: JobState) -> list[Job]:
        if not states:
            return [_job(r) for r in self.rows("SELECT * FROM jobs ORDER BY id")]
        marks = ", ".join("?" * len(states))
        return [_job(r) for r in self.rows(
            f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY id", [s.value for s in states])]

    def job(self, job_id: int) -> Job:
        return _job(self.one("SELECT * FROM jobs WHERE id = ?", (job_id,), "job"))

    def add_job(self, j: Job) -> Changes:
        stamp = now().isoformat()
        with self.write() as tx:
            tx.add("job", self.insert("jobs", {
                "kind": j.kind, "interview_id": j.interview_id, "state": j.state.value,
                "params": j.params, "done_ms": j.done_ms, "total_ms": j.total_ms,
                "error": j.error, "created_at": stamp, "updated_at": stamp}))
        return tx.changes()

    def update_job(self, j: Job) -> Changes:
        if j.id is None:
            raise ValidationError("Only a saved job can be updated.")
        with self.write() as tx:
            self.update_row("jobs", j.id, {
                "state": j.state.value, "params": j.params, "done_ms": j.done_ms,
                "total_ms": j.total_ms, "error": j.error, "updated_at": now().isoformat()})
            tx.update("job", j.id)
        return tx.changes()

    def mark_interrupted_jobs(self) -> Changes:
        """Jobs still 'running' when a study opens were cut off by a crash: they can resume."""
        with self.write() as tx:
            for r in self.rows("SELECT id FROM jobs WHERE state = 'running'"):
                self.update_row("jobs", r["id"], {"state": JobState.INTERRUPTED.value,
                                                  "updated_at": now().isoformat()})
                tx.update("job", r["id"])
        return tx.changes()
