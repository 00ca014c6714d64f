"""One monotonic deadline for a whole planning run: matrices, solve, repair and checks.

:func:`plan_day` makes the run's deadline *active* (:meth:`Deadline.active`) while it asks for
the matrices, so a matrix function given by the caller (e.g. a ``partial`` of
:func:`routing.matrix.network_matrices`) checks it between chunks without a new argument, and
raises :class:`TimeLimitReached` when it is past; the day then leaves every errand out with the
reason "time limit reached" instead of failing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from gis.errors import BianminError

__all__ = ["Deadline", "TimeLimitReached"]


class TimeLimitReached(BianminError, TimeoutError):
    """The run's deadline passed before a step (e.g. the travel-time matrices) was done."""


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock by which a run must be done.

    Attributes
    ----------
    end
        ``time.monotonic()`` value of the deadline (``inf`` for none).
    limit_s
        The budget it was made from, for reports.
    """

    end: float
    limit_s: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now (``inf`` for none)."""
        if not seconds > 0:
            raise ValueError(f"Expected a time limit > 0 seconds, got {seconds}.")
        return cls(time.monotonic() + seconds, float(seconds))

    @classmethod
    def never(cls) -> Deadline:
        """No deadline."""
        return cls(math.inf, math.inf)

    @classmethod
    def current(cls) -> Deadline:
        """The deadline made active by :meth:`active` in this context (else :meth:`never`)."""
        return _ACTIVE.get()

    def remaining(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return time.monotonic() >= self.end

    def earlier(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` before this one (time kept back for later steps)."""
        return Deadline(self.end - max(0.0, seconds), self.limit_s)

    def check(self, what: str) -> None:
        """Raise :class:`TimeLimitReached` naming ``what`` when the deadline has passed."""
        if self.expired():
            raise TimeLimitReached(f"time limit of {self.limit_s:g} s reached during {what}")

    @contextmanager
    def active(self) -> Iterator[Deadline]:
        """Make this the :meth:`current` deadline inside a ``with`` block."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


_ACTIVE: ContextVar[Deadline] = ContextVar(  # a frozen dataclass: safe to share
    "bianmin_deadline", default=Deadline.never())  # noqa: B039
