"""Error types for user input: every problem names the file, the row and the column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["BianminError", "InputError", "InputProblem", "NetworkError"]


_SHOWN = 20  # problems printed in full; the rest are counted


class BianminError(Exception):
    """Base of the errors bianmin raises on purpose."""


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with an input.

    Parameters
    ----------
    file
        The file (or argument) the problem is in.
    row
        1-based data row (the header is row 0), or ``None`` when the problem is file-wide.
    column
        Column name, or ``None``.
    message
        What was found and what was expected.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


class InputError(BianminError, ValueError):
    """A user's input is wrong; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[InputProblem] | InputProblem | str, *, file: str = "input"):
        if isinstance(problems, str):
            problems = [InputProblem(file, None, None, problems)]
        elif isinstance(problems, InputProblem):
            problems = [problems]
        self.problems: list[InputProblem] = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        if not self.problems:
            return "invalid input"
        head = str(self.problems[0])
        if len(self.problems) == 1:
            return head
        shown = self.problems[1:_SHOWN]
        rest = "\n".join(f"  - {p}" for p in shown)
        more = len(self.problems) - 1 - len(shown)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        return f"{head}\n{len(self.problems) - 1} more problem(s):\n{rest}{tail}"

    def one_line(self) -> str:
        """The first problem and a count of the rest, for a CLI's one-line reason."""
        if len(self.problems) <= 1:
            return self._text()
        return f"{self.problems[0]} (and {len(self.problems) - 1} more problem(s))"


class NetworkError(BianminError, RuntimeError):
    """The road network cannot answer (no nodes for a mode, a broken cache, ...)."""
