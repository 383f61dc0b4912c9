"""The one exception hierarchy of sdsaudit. Nothing here knows about click.

Every error a user can cause is an :class:`SdsauditError`; the command line turns
it into ``FILE:LINE:COL: error: MESSAGE`` lines and exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
"""Exit codes of every command: done and clean; findings at or above ``--fail-on``;
could not do it (this module's errors, or a rule that failed)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, located where it was found."""

    file: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return printable(f"{where}: error: {self.message}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (an escape sequence can
    clear the screen or print a fake line), line breaks and bidirectional overrides
    are shown as ``\\xNN`` / ``\\uNNNN`` instead of acting."""
    return _CONTROL.sub(lambda m: ascii(m.group(0))[1:-1], text)


class SdsauditError(Exception):
    """Base class: something the user asked for could not be done (exit code 2)."""

    @property
    def problems(self) -> tuple[Problem, ...]:
        return (Problem(file="sdsaudit", line=None, column=None, message=str(self)),)

    def lines(self) -> list[str]:
        """The error as the lines the command line prints."""
        return [str(p) for p in self.problems]


class ModelError(SdsauditError):
    """A model (or survey) file could not be read: carries *all* its problems."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self._problems = tuple(sorted(set(problems), key=_problem_order))
        super().__init__("\n".join(str(p) for p in self._problems))

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._problems


def _problem_order(p: Problem) -> tuple:
    return (p.file, p.line or 0, p.column or 0, p.message)


class ConfigError(SdsauditError):
    """One of sdsaudit's own data files (``criteria/*.yaml``) is broken: not the user's input.

    Carries every problem found, each with file, line and column, and ends with a line
    saying whose file it is and what fixes it (reinstalling, or reporting the problem).
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self._problems = tuple(sorted(set(problems), key=_problem_order))
        super().__init__("\n".join(self.lines()))

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._problems

    @property
    def files(self) -> tuple[str, ...]:
        """The data files with problems, in order."""
        return tuple(dict.fromkeys(p.file for p in self._problems))

    def lines(self) -> list[str]:
        """Each problem, then what the user can do about a file they did not write."""
        files = " and ".join(self.files) or "(unknown)"
        return [str(p) for p in self._problems] + [
            f"sdsaudit: error: this is a problem in sdsaudit's own data file {files}, not in "
            "your input. If you edited that file, undo the change; otherwise reinstall "
            "sdsaudit, and report the problem if reinstalling does not fix it."
        ]


class UsageError(SdsauditError):
    """A bad option, unknown rule id, refused overwrite or missing file."""

    def __init__(self, message: str, file: str | None = None):
        self.file = file
        super().__init__(message)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return (Problem(file=self.file or "sdsaudit", line=None, column=None, message=str(self)),)
