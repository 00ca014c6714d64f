"""Background jobs (plan the day, re-plan now): one at a time, progress polled by the page."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from gis.errors import BianminError, InputError

__all__ = ["Job", "Jobs", "Progress"]

log = logging.getLogger(__name__)

#: ``progress(step, fraction)``: what the job is doing and how far (0–1).
Progress = Callable[[str, float], None]


@dataclass
class Job:
    """A job's state as the status endpoint shows it."""

    id: str
    kind: str
    actor: str
    state: str = "queued"  # queued | running | done | error
    step: str = ""
    fraction: float = 0.0
    started: float = field(default_factory=time.time)
    result: dict = field(default_factory=dict)
    error: str = ""
    problems: list[dict] = field(default_factory=list)

    def public(self) -> dict:
        """What the page may see (no personal data: counts, ids, messages)."""
        return {"id": self.id, "kind": self.kind, "state": self.state, "step": self.step,
                "fraction": round(self.fraction, 3), "result": self.result,
                "error": self.error, "problems": self.problems,
                "elapsed_s": round(time.time() - self.started, 1)}


class Jobs:
    """A single-worker executor (planning takes the machine's cores) and the jobs' states."""

    def __init__(self, *, keep: int = 50) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bianmin-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def submit(self, kind: str, actor: str, fn: Callable[[Progress], dict]) -> Job:
        """Queue ``fn(progress) -> result``; returns the job at once."""
        job = Job(uuid.uuid4().hex, kind, actor)
        with self._lock:
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-self._keep]:
                self._jobs.pop(old, None)

        def progress(step: str, fraction: float) -> None:
            job.step, job.fraction = step, max(job.fraction, min(1.0, fraction))

        def run() -> None:
            job.state = "running"
            try:
                job.result = fn(progress)
                job.state, job.fraction = "done", 1.0
            except InputError as exc:
                job.state, job.error = "error", exc.one_line()
                job.problems = [{"file": p.file, "row": p.row, "column": p.column,
                                 "message": p.message} for p in exc.problems[:200]]
            except BianminError as exc:
                job.state, job.error = "error", str(exc)
            except Exception as exc:  # a bug: logged with its traceback, shown as a class name
                log.exception("job %s (%s) failed", job.id, kind)
                job.state, job.error = "error", f"internal error ({type(exc).__name__})"

        self._pool.submit(run)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, or ``None``."""
        with self._lock:
            return self._jobs.get(job_id)

    def running(self) -> Job | None:
        """A job not finished yet, if any."""
        with self._lock:
            return next((j for j in self._jobs.values() if j.state in ("queued", "running")),
                        None)

    def shutdown(self) -> None:
        """Wait for the running job and stop."""
        self._pool.shutdown(wait=True, cancel_futures=True)
