"""The survey summarised: counts turned into figures, with small groups hidden.

:func:`summarise` turns a :class:`~.tally.Tally` (what reading keeps: counts, never a row)
into a :class:`SurveySummary`: percentages with 95% Wilson intervals overall, by
respondent group, by budget option and by both; ease of each part of the process;
outcomes per life area; the odds of a good outcome with and without each building
block, raw and adjusted for the other blocks and the budget option
(:mod:`.adjusted`); and the national POET figures beside the council's, compared only
where they measure the same thing.

Every group of fewer than ``min_group`` respondents is already hidden in the summary,
with the fewest other figures needed so that no hidden one can be worked out from a
total (:mod:`.suppression`), so nothing built on it can show a small group; no
respondent id, date or comment is ever kept.

Verdicts (an odds ratio clearly above or below 1, a figure clearly above or below the
national one) allow for the several comparisons a page makes at once: each family's
p-values are adjusted by Holm's method (:func:`~.statistics.holm`) and a verdict is
drawn only where the adjusted p-value is below 0.05.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .adjusted import BLOCK_FACTORS, AdjustedModel, AdjustedOdds, Pattern, fit_adjusted
from .spec import (
    MIN_GROUP,
    NOT_APPLICABLE,
    NOT_STATED,
    IndicatorDef,
    NationalFigure,
    SurveySpec,
    spec_column,
)
from .statistics import holm, odds_ratio, score_test_p, wilson_interval
from .suppression import ALL, SECONDARY, SMALL, hidden_cells, hidden_table, with_totals
from .tally import MAX_COUNCILS, Tally

ALPHA = 0.05
"""A verdict needs a Holm-adjusted p-value below this."""

HEADLINE = ("heard", "simple", "in_control", "good_outcome")
"""Indicators shown for the finest breakdown (group and budget option)."""

BREAKDOWNS = (
    ("group", "By respondent group"),
    ("budget_option", "By how the budget is managed"),
    ("group_option", "By respondent group and how the budget is managed"),
)

BREAKDOWN_COLUMNS = {"group": 0, "budget_option": 1}
"""The questions the breakdowns are by, and their place in a cell's key. An indicator
counting one of them (the council-managed share) is worked out from group sizes, so it
is hidden wherever a size it rests on is."""

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
    or ``empty`` (nobody answered, in a group that is shown). Only ``shown``
    estimates carry numbers.
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
    """One yes/no indicator over all respondents.

    ``left_out`` is, for a combined indicator, the number of respondents left out
    because an answer it combines was blank (complete cases); ``None`` otherwise.
    """

    id: str
    block: str | None
    label: str
    definition: str
    overall: Estimate
    left_out: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "block": self.block,
            "label": self.label,
            "definition": self.definition,
            "overall": self.overall.as_dict(),
            "left_out_for_blanks": self.left_out,
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
    """Good outcomes for people who had a factor against people who did not.

    ``p`` is the Wald test's p-value that the odds ratio is 1, ``holm`` the same
    adjusted by Holm's method over every odds ratio shown, and ``verdict`` is
    ``higher`` or ``lower`` (odds clearly above or below 1 once adjusted) or
    ``unclear``.
    """

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
    p: float | None = None
    holm: float | None = None
    verdict: str = "unclear"

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def text(self, min_group: int = MIN_GROUP) -> str:
        """``"2.2 (1.5 to 3.3)"`` (tiny ratios as ``"less than 0.01"``), or what is said
        instead."""
        if not self.shown:
            return STATUS_TEXT[self.status].format(n=min_group)
        assert self.ratio is not None and self.low is not None and self.high is not None
        return f"{ratio_text(self.ratio)} ({ratio_text(self.low)} to {ratio_text(self.high)})"

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
            "p": _r(self.p),
            "holm_p": _r(self.holm),
            "verdict": self.verdict if self.shown else None,
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
    """A national POET figure beside the council's own.

    ``verdict`` is ``lower``, ``higher`` or ``similar`` (a figure of the same measure,
    by Holm-adjusted p-value), ``not lower`` (the national figure is a lower bound and
    the council's is not clearly below it), ``different measure`` (shown, not
    compared), ``not shown`` or ``not asked``.
    """

    national: NationalFigure
    local: Estimate | None
    verdict: str
    local_definition: str = ""
    p: float | None = None
    holm: float | None = None

    def as_dict(self) -> dict[str, Any]:
        n = self.national
        return {
            "id": n.id,
            "statement": n.statement,
            "figure": n.figure,
            "bound": n.bound,
            "question": n.question,
            "source": n.source,
            "year": n.year,
            "indicator": n.indicator,
            "measure": n.measure,
            "survey_definition": self.local_definition,
            "note": n.note,
            "local": self.local.as_dict() if self.local else None,
            "p": _r(self.p),
            "holm_p": _r(self.holm),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class SurveySummary:
    """Everything the survey says, with small groups already hidden.

    ``pooled`` is true when the file holds more than one council; ``focus`` then holds,
    for each council asked for (:func:`~.reader.read_survey`'s ``councils``) and shown
    by name, the all-respondents indicators of that council alone (nothing else, so
    no breakdown can be set against the pooled one).
    """

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
    adjusted: AdjustedModel | None = None
    repeated: tuple[tuple[str, int], ...] = ()
    """Respondents who gave a value twice in a column of several values, by column."""
    pooled: bool = False
    focus: tuple[tuple[str, SurveySummary], ...] = ()

    def overall(self, indicator: str) -> Estimate:
        """The all-respondents estimate of an indicator (``KeyError`` if unknown)."""
        return self.indicator(indicator).overall

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

    def for_council(self, council: str) -> tuple[SurveySummary, str]:
        """The figures to set beside a model of ``council``, and what they are:
        ``single`` (the file holds one council), ``council`` (that council's own
        respondents, from a pooled file) or ``pooled`` (everyone in a pooled file: the
        council was not asked for, or is not named in the file)."""
        if not self.pooled:
            return self, "single"
        for name, summary in self.focus:
            if name == council:
                return summary, "council"
        return self, "pooled"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            **self.respondents.as_dict(),
            "min_group": self.min_group,
            "pooled": self.pooled,
            "councils": [{"council": c, **n.as_dict()} for c, n in self.councils],
            "years": [{"year": y, **n.as_dict()} for y, n in self.years],
            "definitions": dict(self.definitions),
            "repeated_values": dict(self.repeated),
            "indicators": [i.as_dict() for i in self.indicators],
            "breakdowns": [b.as_dict() for b in self.breakdowns],
            "ease": [d.as_dict() for d in self.ease],
            "outcomes": [d.as_dict() for d in self.outcomes],
            "answers": [d.as_dict() for d in self.answers],
            "outcome_odds": [o.as_dict() for o in self.odds],
            "adjusted_odds": self.adjusted.as_dict() if self.adjusted else None,
            "national": [c.as_dict() for c in self.national],
        }


def pct(share: float | None) -> str:
    """A share as a whole percentage: ``0.494`` -> ``"49%"``."""
    return "–" if share is None else f"{int(share * 100 + 0.5):d}%"


def pct_beside(share: float, threshold: float) -> str:
    """A share as a percentage that never looks equal to ``threshold``, nor on its other
    side: whole where that is enough, else with as many decimals as it takes.

    >>> pct_beside(0.498, 0.5), pct_beside(0.43, 0.5), pct_beside(0.4996, 0.5)
    ('49.8%', '43%', '49.96%')
    """
    below = share < threshold
    for places in range(5):
        text = f"{share * 100:.{places}f}"
        shown = float(text) / 100
        if shown != threshold and (shown < threshold) == below:
            return f"{text}%"
    return f"{share * 100:.4f}%"


def ratio_text(x: float) -> str:
    """An odds ratio as people read it: ``"2.2"``, ``"0.05"``, ``"less than 0.01"``,
    ``"more than 1,000"``: never ``"0.0"``."""
    if x < 0.01:
        return "less than 0.01"
    if x < 0.095:
        return f"{x:.2f}"
    if x < 99.95:
        return f"{x:.1f}"
    if x <= 1000:
        return f"{x:,.0f}"
    return "more than 1,000"


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def summarise(tally: Tally, spec: SurveySpec, *, min_group: int | None = None) -> SurveySummary:
    """Turn counts into the summary, hiding every group of fewer than ``min_group``."""
    m = spec.min_group if min_group is None else min_group
    if m < 1:
        raise ValueError("min_group must be at least 1")
    basis = _Basis(spec, m, _roll(tally))
    tables = _Tables(basis)
    indicators = _indicators(basis, tables)
    summary = SurveySummary(
        source=tally.source,
        respondents=Count("small") if basis.total_hidden else Count("shown", basis.total),
        min_group=m,
        councils=_councils(basis, tally),
        years=_shown_counts(basis, tally.years),
        indicators=indicators,
        breakdowns=tuple(_breakdown(basis, tables, bid, label) for bid, label in BREAKDOWNS),
        ease=tuple(
            _distribution(basis, p, lab, "ease", {"very_easy", "easy"})
            for p, lab in spec.process_parts.items()
        ),
        outcomes=tuple(
            _distribution(basis, a, lab, "outcome", {"better"})
            for a, lab in spec.life_areas.items()
        ),
        answers=_answers(basis, tables),
        odds=_odds_family(basis),
        national=_national(spec, indicators),
        definitions=_definitions(spec, m) + _council_definition(tally, m) + _repeated(tally),
        adjusted=_adjusted(basis),
        repeated=tuple(sorted(tally.repeated.items())),
        pooled=len(tally.councils) + bool(tally.councils_uncounted) > 1,
    )
    if tally.focus and summary.pooled:
        summary = replace(summary, focus=_focus(summary, basis, tally))
    return summary


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
        counted = [v for v in vocab if v != NOT_APPLICABLE]
        total = sum(counter[(ind.column, v)] for v in counted)
        return sum(counter[(ind.column, v)] for v in counted if v in ind.yes), total

    def estimate(self, num: int, den: int, status: str | None = None) -> Estimate:
        """The estimate of ``num`` of ``den``; ``status`` hides it whatever the counts (a
        hidden group where nobody answered says "not shown" like the others)."""
        if status:
            return Estimate(status)
        if den == 0:
            return Estimate("empty")
        if den < self.m:
            return Estimate("small")
        low, high = wilson_interval(num, den)  # type: ignore[misc]
        return Estimate("shown", num, den, num / den, low, high)


class _Tables:
    """Every figure of the three breakdowns and of all respondents, with one suppression
    pattern: the group sizes as a two-way table (group by budget option, with its row,
    column and grand totals), then each indicator's answers in the same shape, starting
    from the hidden sizes (a hidden group's figures are hidden too)."""

    def __init__(self, b: _Basis):
        self.basis = b
        cells = b.roll["group_option"]
        sizes = {cell: counts[("n",)] for cell, counts in cells.items()}
        self.sizes = with_totals(sizes) if sizes else {(ALL, ALL): 0}
        if b.total_hidden:
            self.hidden = {k: SMALL for k in self.sizes}
        else:
            # the number who left the budget option blank is also the gap between all
            # respondents and those who answered it, shown with the council-managed share
            self.hidden = hidden_table(sizes, b.m, avoid=((ALL, NOT_STATED),))
        self.estimates: dict[str, dict[Any, Estimate]] = {}

    def size(self, key: Any) -> Count:
        status = self.hidden.get(key, "shown")
        return Count(status, self.sizes[key] if status == "shown" else None)

    def of(self, ind: IndicatorDef) -> dict[Any, Estimate]:
        """The indicator's estimate for every cell and total (key ``(ALL, ALL)`` for all
        respondents)."""
        if ind.id not in self.estimates:
            self.estimates[ind.id] = self._work_out(ind)
        return self.estimates[ind.id]

    def _work_out(self, ind: IndicatorDef) -> dict[Any, Estimate]:
        b = self.basis
        cells = b.roll["group_option"]
        fractions = {cell: b.fraction(counts, ind) for cell, counts in cells.items()}
        nums = with_totals({k: n for k, (n, _) in fractions.items()})
        dens = with_totals({k: d for k, (_, d) in fractions.items()})
        if not fractions:
            return {(ALL, ALL): b.estimate(0, 0, SMALL if b.total_hidden else None)}
        if ind.id.startswith("better_"):  # shown for all respondents only
            total_status = SMALL if b.total_hidden else None
            return {(ALL, ALL): b.estimate(nums[(ALL, ALL)], dens[(ALL, ALL)], total_status)}
        if ind.column in BREAKDOWN_COLUMNS:
            hidden = self._follow_sizes(ind)
        else:
            preset = dict(self.hidden)
            overall = dens[(ALL, ALL)]
            if b.total_hidden or 0 < overall < b.m:
                preset[(ALL, ALL)] = SMALL
            hidden = hidden_table(
                {k: d for k, (_, d) in fractions.items()},
                b.m,
                hidden=preset,
                inner_shown=ind.id in HEADLINE,
            )
        return {k: b.estimate(nums[k], dens[k], hidden.get(k)) for k in self.sizes}

    def _follow_sizes(self, ind: IndicatorDef) -> dict[Any, str]:
        """An indicator counting a breakdown question (the council-managed share) is a
        sum of group sizes over their total: hidden wherever a size it rests on is."""
        pos = BREAKDOWN_COLUMNS[ind.column or ""]
        counted = set(ind.yes) | {NOT_STATED}
        hidden: dict[Any, str] = {}
        for key in self.sizes:
            rests_on = [key]
            if key[pos] == ALL:
                rests_on += [
                    k for k in self.sizes if k[1 - pos] == key[1 - pos] and k[pos] in counted
                ]
            reasons = [self.hidden[k] for k in rests_on if k in self.hidden]
            if reasons:
                hidden[key] = self.hidden.get(key, SECONDARY)
        return hidden


def _indicators(b: _Basis, tables: _Tables) -> tuple[Indicator, ...]:
    """Every indicator over all respondents, with how many a blank left out."""
    return tuple(
        Indicator(
            ind.id,
            ind.block,
            ind.label,
            ind.definition,
            tables.of(ind)[(ALL, ALL)],
            None if ind.column or b.total_hidden else b.overall[("out", ind.id)],
        )
        for ind in b.spec.indicators
    )


def _breakdown(b: _Basis, tables: _Tables, bid: str, blabel: str) -> Breakdown:
    """One breakdown's cells: their sizes and indicators, as :class:`_Tables` hid them."""
    spec = b.spec
    if bid == "group_option":
        inds = list(HEADLINE)
        keys = [k for k in tables.sizes if ALL not in k]
    else:
        inds = [i.id for i in spec.indicators if not i.id.startswith("better_")]
        pos = BREAKDOWN_COLUMNS[bid]
        keys = [k for k in tables.sizes if k[pos] != ALL and k[1 - pos] == ALL]
    out_cells = []
    for key in sorted(keys, key=lambda k: _cell_order(spec, bid, _plain(bid, k))):
        plain = _plain(bid, key)
        out_cells.append(
            Cell(
                key=plain if isinstance(plain, str) else "|".join(plain),
                label=_cell_label(spec, bid, plain),
                respondents=tables.size(key),
                values=tuple((i, tables.of(spec.indicator(i))[key]) for i in inds),
            )
        )
    return Breakdown(bid, blabel, tuple(inds), tuple(out_cells))


def _plain(bid: str, key: tuple[str, str]) -> Any:
    """A table key as the breakdown names its cell: a group, an option, or both."""
    if bid == "group":
        return key[0]
    if bid == "budget_option":
        return key[1]
    return key


def _distribution(
    b: _Basis,
    column: str,
    label: str,
    vocabulary: str,
    headline: set[str] | None,
    *,
    several: bool = False,
    sizes: Mapping[str, Count] | None = None,
) -> Distribution:
    """How the answers to one question spread, hidden as a whole if too few answered.

    ``sizes`` is given for a question the breakdowns are by: its answers are group
    sizes, shown or hidden as the breakdown shows them, and the number who answered
    (all but the blanks) only where the number of blanks is shown.
    """
    overall, m = b.overall, b.m
    vocab = b.spec.vocabularies[vocabulary]
    if several:  # values are mentions; shares are of the people who answered
        answered = b.total - overall[(column, NOT_STATED)]
    else:
        answered = sum(overall[(column, v)] for v in vocab if v != NOT_APPLICABLE)
    hidden = b.total_hidden or 0 < answered < m
    status = "small" if hidden else ("empty" if answered == 0 else None)
    blank_hidden = False
    if sizes is not None and not hidden:
        blank = sizes.get(NOT_STATED)
        blank_hidden = blank is not None and not blank.shown
    values = []
    for v, lab in vocab.items():
        if v == NOT_APPLICABLE:
            continue
        own = status
        if own is None and sizes is not None:
            size = sizes.get(v)
            own = size.status if size is not None and not size.shown else None
            own = own or (SECONDARY if blank_hidden else None)
        values.append((v, lab, b.estimate(overall[(column, v)], answered, own)))
    summary = None
    if headline:
        summary = b.estimate(sum(overall[(column, v)] for v in headline), answered, status)
    show = not hidden
    na = (overall[(column, NOT_APPLICABLE)] if show else None) if NOT_APPLICABLE in vocab else None
    if blank_hidden:
        answered_count = Count(SECONDARY)
    else:
        answered_count = Count("small" if hidden else "shown", answered if show else None)
    return Distribution(
        id=column,
        label=label,
        answered=answered_count,
        values=tuple(values),
        not_applicable=na,
        blank=overall[(column, NOT_STATED)] if show and not blank_hidden else None,
        summary=summary,
    )


def _answers(b: _Basis, tables: _Tables) -> tuple[Distribution, ...]:
    """The spread of answers to the questions behind the building blocks."""
    option_sizes = {k[1]: tables.size(k) for k in tables.sizes if k[0] == ALL and k[1] != ALL}
    return (
        _distribution(
            b,
            "budget_option",
            "How the budget is managed",
            "budget_option",
            None,
            sizes=option_sizes,
        ),
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


def _odds_family(basis: _Basis) -> tuple[OutcomeOdds, ...]:
    """Every factor's odds ratio, with Holm's adjustment over those shown."""
    odds = [_odds(basis, factor) for factor in basis.spec.outcome_factors]
    shown = [i for i, o in enumerate(odds) if o.shown and o.p is not None]
    adjusted = holm([odds[i].p for i in shown])  # type: ignore[misc]
    for i, p in zip(shown, adjusted, strict=True):
        o = odds[i]
        verdict = "unclear"
        if p < ALPHA:
            verdict = "higher" if (o.ratio or 0) > 1 else "lower"
        odds[i] = replace(o, holm=p, verdict=verdict)
    return tuple(odds)


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
        p=result.p if result else None,
    )


def _adjusted(b: _Basis) -> AdjustedModel:
    """The building blocks' odds ratios adjusted for each other and the budget option,
    with Holm's adjustment over the three."""
    if b.total_hidden:
        return AdjustedModel("small", reason=f"fewer than {b.m} respondents in all")
    patterns: dict[Pattern, list[int]] = defaultdict(lambda: [0, 0])
    for option, counts in b.roll["budget_option"].items():
        for key, n in counts.items():
            if key[0] == "lr":
                _, heard, simple, control, good = key
                patterns[(heard, simple, control, option)][0 if good else 1] += n
    options = list(b.spec.vocabularies["budget_option"])
    model = fit_adjusted({k: (g, o) for k, (g, o) in patterns.items()}, b.m, options)
    if not model.shown:
        return model
    adjusted = holm([o.p for o in model.odds])
    odds: list[AdjustedOdds] = []
    for o, p in zip(model.odds, adjusted, strict=True):
        verdict = ("higher" if o.ratio > 1 else "lower") if p < ALPHA else "unclear"
        odds.append(replace(o, holm=p, verdict=verdict))
    assert tuple(o.factor for o in odds) == BLOCK_FACTORS
    return replace(model, odds=tuple(odds))


def _national(spec: SurveySpec, indicators: tuple[Indicator, ...]) -> tuple[Comparison, ...]:
    """Each national POET figure beside the council's own: compared only where both count
    the same thing, with Holm's adjustment over the figures compared."""
    local_of = {i.id: i for i in indicators}
    national: list[Comparison] = []
    for fig in spec.national:
        if fig.indicator is None:
            national.append(Comparison(fig, None, "not asked"))
            continue
        ind = local_of[fig.indicator]
        local = ind.overall
        if fig.measure != "same":
            national.append(Comparison(fig, local, "different measure", ind.definition))
        elif not local.shown:
            national.append(Comparison(fig, local, "not shown", ind.definition))
        else:
            assert local.count is not None and local.total is not None
            p = score_test_p(local.count, local.total, fig.figure)
            national.append(Comparison(fig, local, "", ind.definition, p=p))
    tested = [i for i, c in enumerate(national) if c.p is not None]
    for i, p in zip(tested, holm([national[i].p for i in tested]), strict=True):  # type: ignore[misc]
        c = national[i]
        below = (c.local.share or 0) < c.national.figure  # type: ignore[union-attr]
        if c.national.bound == "at_least":
            verdict = "lower" if p < ALPHA and below else "not lower"
        elif p < ALPHA:
            verdict = "lower" if below else "higher"
        else:
            verdict = "similar"
        national[i] = replace(c, holm=p, verdict=verdict)
    return tuple(national)


def _focus(
    pooled: SurveySummary, basis: _Basis, tally: Tally
) -> tuple[tuple[str, SurveySummary], ...]:
    """For each council asked for and shown by name in a pooled file, its own
    all-respondents indicators. A figure is hidden where the rest of the file answered
    it in fewer than ``min_group``: set beside the pooled figure, it would give the
    others' answers away by subtraction."""
    named = {name for name, count in pooled.councils if count.shown}
    out = []
    for council, sub in sorted(tally.focus.items()):
        if council not in named or not sub.rows:
            continue
        own = _Basis(basis.spec, basis.m, _roll(sub))
        indicators = []
        for ind in basis.spec.indicators:
            num, den = own.fraction(own.overall, ind)
            all_num, all_den = basis.fraction(basis.overall, ind)
            small = [all_den - den]
            if ind.column in BREAKDOWN_COLUMNS:
                # the council-managed share counts groups: each part of it is a group size
                small += [num, den - num, all_num - num, (all_den - den) - (all_num - num)]
            status = SECONDARY if any(0 < n < basis.m for n in small) else None
            est = own.estimate(num, den, status)
            indicators.append(Indicator(ind.id, ind.block, ind.label, ind.definition, est))
        out.append(
            (
                council,
                SurveySummary(
                    source=pooled.source,
                    respondents=Count("shown", sub.rows),
                    min_group=basis.m,
                    councils=((council, Count("shown", sub.rows)),),
                    years=(),
                    indicators=tuple(indicators),
                    breakdowns=(),
                    ease=(),
                    outcomes=(),
                    answers=(),
                    odds=(),
                    national=(),
                ),
            )
        )
    return tuple(out)


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


def _repeated(tally: Tally) -> tuple[tuple[str, str], ...]:
    """What the outputs say about a value given twice in one answer, when any was."""
    if not tally.repeated:
        return ()
    said = "; ".join(
        f"{n:,} respondent{'s' if n != 1 else ''} in {column}"
        for column, n in sorted(tally.repeated.items())
    )
    return (
        (
            "repeated_values",
            f'Some answers gave the same value twice (for example "peer;peer", as '
            f"tick-box exports can): {said}. Each value was counted once for each respondent.",
        ),
    )


def _definitions(spec: SurveySpec, m: int) -> tuple[tuple[str, str], ...]:
    """The definitions every output states."""
    return (
        (
            "min_group",
            f"Groups of fewer than {m} respondents are not shown. So that no hidden figure "
            "can be worked out by subtracting the others from a total, the fewest other "
            "figures needed are hidden too.",
        ),
        ("interval", "Every percentage has a 95% confidence interval by Wilson's method."),
        (
            "complete_cases",
            "A figure that combines several answers (heard, simple, in control, easy "
            "overall, good outcome) counts only the respondents who answered every one of "
            "them: anyone who left one blank is left out of that figure, and the number left "
            "out is given. Deciding from the answers given would tilt the figure when "
            "answers are missed at random.",
        ),
        ("easy_overall", spec.indicator("easy_overall").definition),
        ("good_outcome", spec.indicator("good_outcome").definition),
        (
            "odds_ratio",
            "Odds of a good outcome for respondents who had the factor divided by the "
            "odds for those who did not, with a 95% interval from the log odds ratio "
            "(Woolf); when a count is zero, 0.5 is added to each of the four counts "
            "first (Haldane-Anscombe), and the figure says so.",
        ),
        (
            "adjusted_odds_ratio",
            "The same odds for each building block with the other two blocks and the way "
            "the budget is managed held level: a logistic regression fitted by "
            "statsmodels, with Wald 95% intervals, on the respondents who answered every "
            "question it needs.",
        ),
        (
            "several_comparisons",
            "Where a page makes several comparisons at once (the odds ratios, the adjusted "
            "odds ratios, the national figures, the gap checks), each family's p-values are "
            "adjusted by Holm's method, and a difference is called clear only when its "
            "adjusted p-value is below 0.05. The p-value is the chance of a difference at "
            "least this large if there were none. The 95% intervals are not adjusted.",
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
