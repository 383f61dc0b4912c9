"""What reading a survey keeps: counts only, never a row.

:mod:`.reader` fills a :class:`Tally` as it reads; :func:`~.summary.summarise`
turns it into figures. Everything in it is bounded: the counts are keyed by
closed vocabularies, years and at most :data:`MAX_COUNCILS` council names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_COUNCILS = 1_000
"""Different council names counted one by one; respondents naming a new council after
this many are counted together, so a file of a million names holds a thousand."""


@dataclass
class Tally:
    """What reading a survey keeps: counts only, never a row.

    ``cells`` maps ``(group, option)`` to counts keyed by ``what``: ``("n",)``,
    ``(column, value)`` (value ``""`` for blank), ``("ind", indicator, True/False)``,
    ``("out", indicator)`` (left out of a combined indicator for a blank answer),
    ``("or", factor, had, good)`` or ``("lr", heard, simple, in_control, good)`` (the
    complete cases of the adjusted model); values are numbers of respondents.
    """

    source: str
    rows: int = 0
    councils: Counter = field(default_factory=Counter)
    """Respondents per council name, for the first :data:`MAX_COUNCILS` names met."""
    councils_uncounted: int = 0
    """Respondents naming a council first met after :data:`MAX_COUNCILS` others."""
    years: Counter = field(default_factory=Counter)
    repeated: Counter = field(default_factory=Counter)
    """Respondents who gave the same value twice in a column of several values
    (``help_from: peer;peer``), by column: each value is counted once."""
    focus: dict[str, Tally] = field(default_factory=dict)
    """The same counts for the respondents of each council asked for by name (the
    councils of the models a pooled survey is set beside)."""
    cells: dict[tuple[str, str], dict[tuple, int]] = field(default_factory=dict)
    """Per (group, option): ``what`` -> respondents (kept apart for speed)."""

    def count_council(self, name: str) -> None:
        """Count one respondent's council: one by one for the first :data:`MAX_COUNCILS`
        names, together after that, so the memory stays flat however many names."""
        councils = self.councils
        if name in councils or len(councils) < MAX_COUNCILS:
            councils[name] += 1
        else:
            self.councils_uncounted += 1

    @property
    def counts(self) -> dict[tuple, int]:
        """All counts keyed ``((group, option), what...)``."""
        return {(cell, *what): n for cell, tally in self.cells.items() for what, n in tally.items()}
