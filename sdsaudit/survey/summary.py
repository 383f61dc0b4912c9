"""The survey summarised: counts turned into figures, with small groups hidden.

:func:`summarise` turns a :class:`~.tally.Tally` (what reading keeps: counts, never a row)
into a :class:`SurveySummary`: percentages with 95% Wilson intervals overall, by
respondent group, by budget option and by both; ease of each part of the process;
outcomes per life area; the odds of a good outcome with and without each building
block; and the national POET figures beside the council's. Every group of fewer
than ``min_group`` respondents is already hidden in the summary (by
:mod:`.suppression`), so nothing built on it can show a small group, and no
respondent id, date or comment is ever kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .spec import (
    MIN_GROUP,
    NOT_APPLICABLE,
    NOT_STATED,
    IndicatorDef,
    NationalFigure,
    SurveySpec,
    spec_column,
)
from .statistics import odds_ratio, wilson_interval
from .suppression import hidden_cells, hidden_table
from .tally import MAX_COUNCILS, Tally

HEADLINE = ("heard", "simple", "in_control", "good_outcome")
"""Indicators shown for the finest breakdown (group and budget option)."""

BREAKDOWNS = (
    ("group", "By respondent group"),
    ("budget_option", "By how the budget is managed"),
    ("group_option", "By respondent group and how the budget is managed"),
)

STATUS_TEXT = {
    "small": "fewer than {n} people: not shown",
    "secondary": "not shown, so that a smaller group cannot be worked out",
    "empty": "no answers",
}
"""What a report says in place of a figure it does not show."""

_UNNAMED = ""
"""Key for the councils not named (no council is blank, so it is no council's name)."""


@dataclass(frozen=True)
class Estimate:
    """A share of a group with its 95% Wilson interval, or why it is not shown.

    ``status`` is ``shown``, ``small`` (fewer than ``min_group`` people),
    ``secondary`` (hidden so a small group cannot be worked out by subtraction)
    or ``empty`` (nobody answered). Only ``shown`` estimates carry numbers.
    """

    status: str
    count: int | None = None
    total: int | None = None
    share: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def text(self, min_group: int = MIN_GROUP) -> str:
        """``"49% (45% to 53%)"``, or what is said instead."""
        if not self.shown:
            return STATUS_TEXT[self.status].format(n=min_group)
        return f"{pct(self.share)} ({pct(self.low)} to {pct(self.high)})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "count": self.count,
            "total": self.total,
            "share": _r(self.share),
            "low": _r(self.low),
            "high": _r(self.high),
        }


@dataclass(frozen=True)
class Count:
    """A number of respondents, or why it is not shown."""

    status: str
    value: int | None = None

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "respondents": self.value}


@dataclass(frozen=True)
class Indicator:
    """One yes/no indicator over all respondents."""

    id: str
    block: str | None
    label: str
    definition: str
    overall: Estimate

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "block": self.block,
            "label": self.label,
            "definition": self.definition,
            "overall": self.overall.as_dict(),
        }


@dataclass(frozen=True)
class Cell:
    """One group in a breakdown: its size and its indicators."""

    key: str
    label: str
    respondents: Count
    values: tuple[tuple[str, Estimate], ...]

    def get(self, indicator: str) -> Estimate:
        return dict(self.values)[indicator]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            **self.respondents.as_dict(),
            "indicators": {k: e.as_dict() for k, e in self.values},
        }


@dataclass(frozen=True)
class Breakdown:
    """Indicators by respondent group, by budget option, or by both."""

    id: str
    label: str
    indicators: tuple[str, ...]
    cells: tuple[Cell, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "indicators": list(self.indicators),
            "cells": [c.as_dict() for c in self.cells],
        }


@dataclass(frozen=True)
class Distribution:
    """How the answers to one question spread over its values (all respondents)."""

    id: str
    label: str
    answered: Count
    values: tuple[tuple[str, str, Estimate], ...]
    """(value, label, share of those answering); hidden as a whole if too few answered."""
    not_applicable: int | None = None
    blank: int | None = None
    summary: Estimate | None = None
    """The headline share (easy, better), when the question has one."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            **self.answered.as_dict(),
            "values": [{"value": v, "label": lab, **e.as_dict()} for v, lab, e in self.values],
            "not_applicable": self.not_applicable,
            "blank": self.blank,
            "summary": self.summary.as_dict() if self.summary else None,
        }


@dataclass(frozen=True)
class OutcomeOdds:
    """Good outcomes for people who had a factor against people who did not."""

    factor: str
    block: str | None
    label: str
    status: str
    with_factor: Estimate
    without_factor: Estimate
    ratio: float | None = None
    low: float | None = None
    high: float | None = None
    corrected: bool = False
    national: NationalFigure | None = None

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def text(self, min_group: int = MIN_GROUP) -> str:
        if not self.shown:
            return STATUS_TEXT[self.status].format(n=min_group)
        return f"{self.ratio:.1f} ({self.low:.1f} to {self.high:.1f})"

    def as_dict(self) -> dict[str, Any]:
        nat = self.national
        return {
            "factor": self.factor,
            "block": self.block,
            "label": self.label,
            "status": self.status,
            "with": self.with_factor.as_dict(),
            "without": self.without_factor.as_dict(),
            "odds_ratio": _r(self.ratio),
            "low": _r(self.low),
            "high": _r(self.high),
            "haldane_corrected": self.corrected,
            "national": None
            if nat is None
            else {
                "statement": nat.statement,
                "figure": nat.figure,
                "source": nat.source,
                "year": nat.year,
            },
        }


@dataclass(frozen=True)
class Comparison:
    """A national POET figure beside the council's own."""

    national: NationalFigure
    local: Estimate | None
    verdict: str
    """``lower``, ``similar``, ``higher`` (by the 95% interval), ``not shown`` or ``not asked``."""

    def as_dict(self) -> dict[str, Any]:
        n = self.national
        return {
            "id": n.id,
            "statement": n.statement,
            "figure": n.figure,
            "source": n.source,
            "year": n.year,
            "indicator": n.indicator,
            "note": n.note,
            "local": self.local.as_dict() if self.local else None,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class SurveySummary:
    """Everything the survey says, with small groups already hidden."""

    source: str
    respondents: Count
    min_group: int
    councils: tuple[tuple[str, Count], ...]
    years: tuple[tuple[int, Count], ...]
    indicators: tuple[Indicator, ...]
    breakdowns: tuple[Breakdown, ...]
    ease: tuple[Distribution, ...]
    outcomes: tuple[Distribution, ...]
    answers: tuple[Distribution, ...]
    odds: tuple[OutcomeOdds, ...]
    national: tuple[Comparison, ...]
    definitions: tuple[tuple[str, str], ...] = ()

    def overall(self, indicator: str) -> Estimate:
        """The all-respondents estimate of an indicator (``KeyError`` if unknown)."""
        for ind in self.indicators:
            if ind.id == indicator:
                return ind.overall
        raise KeyError(indicator)

    def indicator(self, indicator: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator:
                return ind
        raise KeyError(indicator)

    def breakdown(self, breakdown_id: str) -> Breakdown:
        for b in self.breakdowns:
            if b.id == breakdown_id:
                return b
        raise KeyError(breakdown_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            **self.respondents.as_dict(),
            "min_group": self.min_group,
            "councils": [{"council": c, **n.as_dict()} for c, n in self.councils],
            "years": [{"year": y, **n.as_dict()} for y, n in self.years],
            "definitions": dict(self.definitions),
            "indicators": [i.as_dict() for i in self.indicators],
            "breakdowns": [b.as_dict() for b in self.breakdowns],
            "ease": [d.as_dict() for d in self.ease],
            "outcomes": [d.as_dict() for d in self.outcomes],
            "answers": [d.as_dict() for d in self.answers],
            "outcome_odds": [o.as_dict() for o in self.odds],
            "national": [c.as_dict() for c in self.national],
        }


def pct(share: float | None) -> str:
    """A share as a whole percentage: ``0.494`` -> ``"49%"``."""
    return "–" if share is None else f"{int(share * 100 + 0.5):d}%"


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def summarise(tally: Tally, spec: SurveySpec, *, min_group: int | None = None) -> SurveySummary:
    """Turn counts into the summary, hiding every group of fewer than ``min_group``."""
    m = spec.min_group if min_group is None else min_group
    if m < 1:
        raise ValueError("min_group must be at least 1")
    basis = _Basis(spec, m, _roll(tally))
    indicators = _indicators(basis)
    return SurveySummary(
        source=tally.source,
        respondents=Count("small") if basis.total_hidden else Count("shown", basis.total),
        min_group=m,
        councils=_councils(basis, tally),
        years=_shown_counts(basis, tally.years),
        indicators=indicators,
        breakdowns=tuple(_breakdown(basis, bid, label) for bid, label in BREAKDOWNS),
        ease=tuple(
            _distribution(basis, p, lab, "ease", {"very_easy", "easy"})
            for p, lab in spec.process_parts.items()
        ),
        outcomes=tuple(
            _distribution(basis, a, lab, "outcome", {"better"})
            for a, lab in spec.life_areas.items()
        ),
        answers=_answers(basis),
        odds=tuple(_odds(basis, factor) for factor in spec.outcome_factors),
        national=_national(spec, indicators),
        definitions=_definitions(spec, m) + _council_definition(tally, m),
    )


def _roll(tally: Tally) -> dict[str, dict[Any, Counter]]:
    """The counts added up over all respondents, by group, by budget option and by both."""
    roll: dict[str, dict[Any, Counter]] = {
        name: defaultdict(Counter) for name in ("overall", "group", "budget_option", "group_option")
    }
    for cell, counts in tally.cells.items():
        for key, n in counts.items():
            roll["overall"]["all"][key] += n
            roll["group"][cell[0]][key] += n
            roll["budget_option"][cell[1]][key] += n
            roll["group_option"][cell][key] += n
    return roll


class _Basis:
    """What every part of the summary is worked out from: the format, the threshold and
    the rolled-up counts, with the shares and estimates made the same way everywhere."""

    def __init__(self, spec: SurveySpec, min_group: int, roll: dict[str, dict[Any, Counter]]):
        self.spec = spec
        self.m = min_group
        self.roll = roll
        self.overall = roll["overall"]["all"]
        self.total = self.overall[("n",)]
        # fewer than min_group respondents in all: nothing is shown
        self.total_hidden = 0 < self.total < min_group

    def fraction(self, counter: Counter, ind: IndicatorDef) -> tuple[int, int]:
        """(respondents counted yes, respondents counted) for one indicator."""
        if ind.column is None:
            yes, no = counter[("ind", ind.id, True)], counter[("ind", ind.id, False)]
            return yes, yes + no
        spec = self.spec
        vocab = spec.vocabularies[spec_column(spec, ind.column).vocabulary or ""]
        total = sum(counter[(ind.column, v)] for v in vocab if v != NOT_APPLICABLE)
        return sum(counter[(ind.column, v)] for v in ind.yes), total

    def estimate(self, num: int, den: int, status: str | None = None) -> Estimate:
        if den == 0:
            return Estimate("empty")
        if status:
            return Estimate(status)
        if den < self.m:
            return Estimate("small")
        low, high = wilson_interval(num, den)  # type: ignore[misc]
        return Estimate("shown", num, den, num / den, low, high)


def _indicators(b: _Basis) -> tuple[Indicator, ...]:
    """Every indicator over all respondents."""
    indicators = []
    for ind in b.spec.indicators:
        num, den = b.fraction(b.overall, ind)
        indicators.append(
            Indicator(
                ind.id,
                ind.block,
                ind.label,
                ind.definition,
                b.estimate(num, den, "small" if b.total_hidden else None),
            )
        )
    return tuple(indicators)


def _breakdown(b: _Basis, bid: str, blabel: str) -> Breakdown:
    """One breakdown: its cells' sizes and indicators, small cells hidden (and, for the
    two-way table, in every row and column)."""
    spec, m = b.spec, b.m
    cells = b.roll[bid]
    if bid == "group_option":
        inds, hide = list(HEADLINE), hidden_table
    else:
        inds, hide = [i.id for i in spec.indicators if not i.id.startswith("better_")], hidden_cells
    sizes = {k: c[("n",)] for k, c in cells.items()}
    if b.total_hidden:
        cell_hidden = {k: "small" for k in sizes}
    else:
        cell_hidden = hide(sizes, m)
    per_ind: dict[str, dict[Any, Estimate]] = {}
    for ind_id in inds:
        ind = spec.indicator(ind_id)
        fr = {k: b.fraction(c, ind) for k, c in cells.items()}
        hidden = dict(hide({k: d for k, (_, d) in fr.items()}, m))
        for k, why in cell_hidden.items():
            hidden.setdefault(k, why)
        per_ind[ind_id] = {k: b.estimate(n, d, hidden.get(k)) for k, (n, d) in fr.items()}
    out_cells = []
    for key in sorted(cells, key=lambda k: _cell_order(spec, bid, k)):
        status = cell_hidden.get(key, "shown")
        out_cells.append(
            Cell(
                key=key if isinstance(key, str) else "|".join(key),
                label=_cell_label(spec, bid, key),
                respondents=Count(status, sizes[key] if status == "shown" else None),
                values=tuple((i, per_ind[i][key]) for i in inds),
            )
        )
    return Breakdown(bid, blabel, tuple(inds), tuple(out_cells))


def _distribution(
    b: _Basis,
    column: str,
    label: str,
    vocabulary: str,
    headline: set[str] | None,
    *,
    several: bool = False,
) -> Distribution:
    """How the answers to one question spread, hidden as a whole if too few answered."""
    overall, m = b.overall, b.m
    vocab = b.spec.vocabularies[vocabulary]
    if several:  # values are mentions; shares are of the people who answered
        answered = b.total - overall[(column, NOT_STATED)]
    else:
        answered = sum(overall[(column, v)] for v in vocab if v != NOT_APPLICABLE)
    hidden = b.total_hidden or 0 < answered < m
    status = "small" if hidden else ("empty" if answered == 0 else None)
    values = tuple(
        (v, lab, b.estimate(overall[(column, v)], answered, status))
        for v, lab in vocab.items()
        if v != NOT_APPLICABLE
    )
    summary = None
    if headline:
        summary = b.estimate(sum(overall[(column, v)] for v in headline), answered, status)
    show = not hidden
    na = (overall[(column, NOT_APPLICABLE)] if show else None) if NOT_APPLICABLE in vocab else None
    return Distribution(
        id=column,
        label=label,
        answered=Count("small" if hidden else "shown", answered if show else None),
        values=values,
        not_applicable=na,
        blank=overall[(column, NOT_STATED)] if show else None,
        summary=summary,
    )


def _answers(b: _Basis) -> tuple[Distribution, ...]:
    """The spread of answers to the questions behind the building blocks."""
    return (
        _distribution(b, "budget_option", "How the budget is managed", "budget_option", None),
        _distribution(b, "views_planning", "Views included in planning", "views", None),
        _distribution(b, "views_budget", "Views included in setting the budget", "views", None),
        _distribution(b, "knew_amount", "Knew the budget amount when planning", "knew", None),
        _distribution(b, "help_to_plan", "Had help to plan", "yes_no", None),
        _distribution(
            b,
            "help_from",
            "Who helped to plan (more than one may be given)",
            "helper",
            None,
            several=True,
        ),
    )


def _odds(basis: _Basis, factor: str) -> OutcomeOdds:
    """Good outcomes with and without one factor, and their odds ratio."""
    m, overall = basis.m, basis.overall
    ind = basis.spec.indicator(factor)
    a, b = overall[("or", factor, True, True)], overall[("or", factor, True, False)]
    c, d = overall[("or", factor, False, True)], overall[("or", factor, False, False)]
    odds_status: str | None = (
        "small" if basis.total_hidden or 0 < a + b < m or 0 < c + d < m else None
    )
    if a + b == 0 or c + d == 0:
        odds_status = odds_status or "empty"
    result = None if odds_status else odds_ratio(a, b, c, d)
    if result is None and not odds_status:
        odds_status = "empty"
    return OutcomeOdds(
        factor=factor,
        block=ind.block,
        label=ind.label,
        status=odds_status or "shown",
        with_factor=basis.estimate(a, a + b, odds_status),
        without_factor=basis.estimate(c, c + d, odds_status),
        ratio=result.ratio if result else None,
        low=result.low if result else None,
        high=result.high if result else None,
        corrected=result.corrected if result else False,
        national=basis.spec.national_odds.get(factor),
    )


def _national(spec: SurveySpec, indicators: tuple[Indicator, ...]) -> tuple[Comparison, ...]:
    """Each national POET figure beside the council's own, with the verdict."""
    national = []
    for fig in spec.national:
        if fig.indicator is None:
            national.append(Comparison(fig, None, "not asked"))
            continue
        local = next(i.overall for i in indicators if i.id == fig.indicator)
        if not local.shown:
            verdict = "not shown"
        elif local.high < fig.figure:  # type: ignore[operator]
            verdict = "lower"
        elif local.low > fig.figure:  # type: ignore[operator]
            verdict = "higher"
        else:
            verdict = "similar"
        national.append(Comparison(fig, local, verdict))
    return tuple(national)


def _shown_counts(b: _Basis, items: Mapping[Any, int]) -> tuple[tuple[Any, Count], ...]:
    """Respondents per value (council, year), small values hidden."""
    hidden = {k: "small" for k in items} if b.total_hidden else hidden_cells(items, b.m)
    return tuple(
        (k, Count(hidden[k]) if k in hidden else Count("shown", n))
        for k, n in sorted(items.items())
    )


def _councils(b: _Basis, tally: Tally) -> tuple[tuple[str, Count], ...]:
    """Respondents per council, named only where at least ``min_group`` gave the name.

    A council's name is free text (a respondent may type anything there), so a name
    given by fewer than ``min_group`` respondents is never shown: they are counted
    together, with any past :data:`MAX_COUNCILS`, as councils not named, and that
    group is hidden like any other small group (the next smallest too, where it could
    be worked out by subtraction).
    """
    m = b.m
    named = {c: n for c, n in tally.councils.items() if n >= m}
    unnamed = sum(n for n in tally.councils.values() if n < m) + tally.councils_uncounted
    sizes = dict(named)
    if unnamed:
        sizes[_UNNAMED] = unnamed
    hidden = {k: "small" for k in sizes} if b.total_hidden else hidden_cells(sizes, m)
    label = f"Councils not named, each given by fewer than {m} respondents"
    if tally.councils_uncounted:
        label += f" or first given after {MAX_COUNCILS:,} other names"
    return tuple(
        (label if k == _UNNAMED else k, Count(hidden[k]) if k in hidden else Count("shown", n))
        for k, n in sorted(named.items()) + ([(_UNNAMED, unnamed)] if unnamed else [])
    )


def _council_definition(tally: Tally, m: int) -> tuple[tuple[str, str], ...]:
    """What the outputs say about councils not named, when there are any."""
    uncounted = tally.councils_uncounted
    if not uncounted and all(n >= m for n in tally.councils.values()):
        return ()
    text = (
        f"A council's name is shown only where at least {m} respondents gave it; "
        "respondents naming other councils are counted together, as councils not named."
    )
    if uncounted:
        text += (
            f" The file names more than {MAX_COUNCILS:,} different councils: only the "
            f"first {MAX_COUNCILS:,} names were counted one by one, and the "
            f"{uncounted:,} respondents naming a council first met after them are "
            "counted with the councils not named."
        )
    return (("councils", text),)


def _definitions(spec: SurveySpec, m: int) -> tuple[tuple[str, str], ...]:
    """The definitions every output states."""
    return (
        (
            "min_group",
            f"Groups of fewer than {m} respondents are not shown, nor is the next "
            "smallest group where that one could be worked out by subtraction.",
        ),
        ("interval", "Every percentage has a 95% confidence interval by Wilson's method."),
        ("easy_overall", spec.indicator("easy_overall").definition),
        ("good_outcome", spec.indicator("good_outcome").definition),
        (
            "odds_ratio",
            "Odds of a good outcome for respondents who had the factor divided by the "
            "odds for those who did not, with a 95% interval from the log odds ratio "
            "(Woolf); when a count is zero, 0.5 is added to each of the four counts "
            "first (Haldane-Anscombe).",
        ),
    )


def _cell_order(spec: SurveySpec, breakdown: str, key: Any) -> tuple:
    groups = list(spec.vocabularies["group"]) + [NOT_STATED]
    options = list(spec.vocabularies["budget_option"]) + [NOT_STATED]
    if breakdown == "group":
        return (groups.index(key),)
    if breakdown == "budget_option":
        return (options.index(key),)
    return (groups.index(key[0]), options.index(key[1]))


def _cell_label(spec: SurveySpec, breakdown: str, key: Any) -> str:
    def one(vocabulary: str, value: str) -> str:
        return "Not stated" if value == NOT_STATED else spec.label(vocabulary, value)

    if breakdown == "group":
        return one("group", key)
    if breakdown == "budget_option":
        return one("budget_option", key)
    group = "Group not stated" if key[0] == NOT_STATED else one("group", key[0])
    option = "option not stated" if key[1] == NOT_STATED else one("budget_option", key[1]).lower()
    return f"{group}; {option}"
