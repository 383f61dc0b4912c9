"""The lines of a score: a :class:`Reason` is a number of points with the text, rule or
field behind it, and :class:`Scores` the three building-block scores they add up to.

:func:`finalise` adds the base (100) and, when the losses go below 0, a ``floor``
line giving back the excess, so the lines of every score add up to it exactly. The
few helpers here write numbers, plurals and step ids the same way in every line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..analysis.findings import BLOCKS, Finding
from .weights import Weights

BLOCK_NAMES = {"heard": "heard", "simple": "simple", "in_control": "in control"}
"""How each building block is written for people."""


@dataclass(frozen=True)
class Reason:
    """One line of a score: ``points`` (negative for a loss) with the text, rule or field behind it.

    ``kind`` is ``base`` (the starting score), ``person``, ``field`` (a step's own
    forms, days or hand-offs), ``finding``, ``figure`` (a metric over its target),
    ``not_stated``, ``cap`` (points given back above a rule's cap) or ``floor``
    (points given back so the score does not go below 0).
    """

    block: str
    points: int
    text: str
    kind: str
    rule: str | None = None
    field: str | None = None
    steps: tuple[str, ...] = ()
    waived: bool = False

    def line(self) -> str:
        """``-20: text`` as reports print it."""
        return f"{self.points:+d}: {self.text}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "points": self.points,
            "kind": self.kind,
            "text": self.text,
            "rule": self.rule,
            "field": self.field,
            "steps": list(self.steps),
            "waived": self.waived,
        }


@dataclass(frozen=True)
class Scores:
    """The three building-block scores of one step or of the whole model, with their reasons."""

    heard: int
    simple: int
    in_control: int
    reasons: tuple[Reason, ...]

    def of(self, block: str) -> int:
        """The score of ``block``."""
        return {"heard": self.heard, "simple": self.simple, "in_control": self.in_control}[block]

    def as_dict(self) -> dict[str, int]:
        return {"heard": self.heard, "simple": self.simple, "in_control": self.in_control}


@dataclass(frozen=True)
class StepScore:
    """The scores of one step."""

    id: str
    name: str
    kind: str
    scores: Scores

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            **self.scores.as_dict(),
            "reasons": [r.as_dict() for r in self.scores.reasons],
        }


def finalise(base: int, reasons: list[Reason]) -> Scores:
    """Add the base and, where needed, a floor or ceiling reason; order by block; total up."""
    out: list[Reason] = []
    totals = {}
    for block in BLOCKS:
        mine = [Reason(block, base, f"starting score for {BLOCK_NAMES[block]}", "base")]
        mine += [r for r in reasons if r.block == block]
        total = sum(r.points for r in mine)
        if total < 0:
            mine.append(
                Reason(
                    block,
                    -total,
                    "a score cannot go below 0: the points taken off "
                    f"beyond that ({-total}) are given back",
                    "floor",
                )
            )
            total = 0
        elif total > 100:
            mine.append(Reason(block, 100 - total, "a score cannot go above 100", "ceiling"))
            total = 100
        totals[block] = total
        out += mine
    return Scores(
        heard=totals["heard"],
        simple=totals["simple"],
        in_control=totals["in_control"],
        reasons=tuple(out),
    )


def quote(ids: Iterable[str]) -> str:
    """Step ids as a reason quotes them: ``'a', 'b'``."""
    return ", ".join(f"'{i}'" for i in ids)


def plural(n: int | Fraction, word: str) -> str:
    """``n`` and ``word``, with an ``s`` unless ``n`` is 1: ``1 form``, ``0.5 days``."""
    return f"{fmt(n)} {word}" + ("" if n == 1 else "s")


def fmt(value: Any) -> str:
    """A number as people write it: 28, 0.5, 83.9."""
    if isinstance(value, bool) or value is None:
        return str(value)
    number = Fraction(value) if isinstance(value, Fraction) else Fraction(str(value))
    if number.denominator == 1:
        return str(number.numerator)
    return f"{float(number):.4f}".rstrip("0").rstrip(".")


def finding_text(f: Finding, weights: Weights) -> tuple[str, bool]:
    """The reason text of a finding, and whether it costs points (waived ones may not)."""
    text = f"{f.message} ({f.rule})"
    if not f.waived:
        return text, True
    why = f": {f.waiver_reason}" if f.waiver_reason else ""
    if weights.count_waived:
        return (
            f"{text}; waived{why}; still counted, because a waiver does not change what "
            "the person goes through",
            True,
        )
    return f"{text}; waived{why}; not counted", False
