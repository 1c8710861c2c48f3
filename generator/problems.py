"""Errors and warnings, as every stage reports them: PATH:LINE: level: message.

The first module of the pipeline, so that every stage can report without depending on
a later one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error or warning, tied to a place in an input file."""

    path: str
    line: int
    message: str
    level: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


class BuildError(Exception):
    """Raised with every problem of a build once any of them is an error."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.problems)  # so the error pickles whole (build workers send it back)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def errors_in(problems: list[Problem]) -> list[Problem]:
    """Return the problems that are errors."""
    return [p for p in problems if p.level == "error"]
