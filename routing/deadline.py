"""One monotonic deadline for a whole planning run: matrices, solve, repair and checks."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

__all__ = ["Deadline"]


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

    def remaining(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return time.monotonic() >= self.end
