"""The observed figures set beside the model: intervals, flags and small groups hidden.

:func:`calibrate_figures` turns the raw aggregates (:mod:`.figures`) and the model into a
:class:`Calibration`, whose :meth:`Calibration.as_dict` is ``calibration.json`` (the shape
in ``docs/calibrate.md``). Privacy: every count of fewer than ``min_group`` cases is
hidden (``null``), and where the hidden cells of a breakdown could be worked out by
subtraction from a total that is shown, the next smallest are hidden too (secondary
suppression, as for surveys). A share is shown only when it is out of at least
``min_group`` cases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..analysis.findings import CheckResult
from ..analysis.graph import transition_shares
from ..model.objects import Model
from ..survey.statistics import wilson_interval
from ..survey.suppression import hidden_cells
from .figures import Figures, GroupRaw, StepRaw
from .mapping import normalised

MIN_GROUP = 10

NO_DAYS_KINDS = ("support", "end", "parallel")
"""Steps whose ``days`` the model never counts."""


def _r(x: float | None, places: int = 1) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(float(x), places)


@dataclass(frozen=True)
class StepFigure:
    """One step: observed days beside the model's."""

    step: str
    name: str
    kind: str
    cases: int | None
    events: int | None
    median_days: float | None
    p90_days: float | None
    p25_days: float | None
    p75_days: float | None
    mean_days: float | None
    model_days: float | None
    model_days_unknown: bool
    basis: str
    """``own start and end``, ``since the event before``, ``both``, or empty."""
    model_outside: str | None
    """``below`` or ``above`` the observed middle half (quartiles), else ``None``."""
    compared: bool
    """Whether the model gives this step a time to compare (not support, end or parallel)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "name": self.name,
            "kind": self.kind,
            "cases": self.cases,
            "median_days": _r(self.median_days),
            "p90_days": _r(self.p90_days),
            "model_days": None if self.model_days_unknown else self.model_days,
            "p25_days": _r(self.p25_days),
            "p75_days": _r(self.p75_days),
            "mean_days": _r(self.mean_days),
            "model_days_unknown": self.model_days_unknown,
            "basis": self.basis or None,
            "model_outside_middle_half": self.model_outside,
        }


@dataclass(frozen=True)
class TransitionFigure:
    """One arrow of the model (or, ``modelled`` false, one the model lacks)."""

    source: str
    target: str
    cases: int | None
    exits: int | None
    share: float | None
    share_low: float | None
    share_high: float | None
    model_share: float | None
    modelled: bool
    model_inside: bool | None
    """Whether the model's share lies inside the observed 95% interval."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "cases": self.cases,
            "share": _r(self.share, 4),
            "share_low": _r(self.share_low, 4),
            "share_high": _r(self.share_high, 4),
            "model_share": _r(self.model_share, 4),
            "exits": self.exits,
            "model_share_inside_interval": self.model_inside,
        }


@dataclass(frozen=True)
class Deviation:
    """Where cases first leave the model: a start elsewhere (``source`` is ``None``) or an
    arrow the model lacks."""

    source: str | None
    target: str
    cases: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "cases": self.cases}


@dataclass(frozen=True)
class Share:
    """A share of cases with its 95% interval (``None`` everywhere when not shown)."""

    share: float | None = None
    low: float | None = None
    high: float | None = None
    count: int | None = None
    total: int | None = None

    @staticmethod
    def of(count: int, total: int, min_group: int) -> Share:
        if total < min_group or total == 0:
            return Share()
        interval = wilson_interval(count, total)
        assert interval is not None
        return Share(count / total, interval[0], interval[1], count, total)

    def as_dict(self) -> dict[str, Any]:
        return {"share": _r(self.share, 4), "low": _r(self.low, 4), "high": _r(self.high, 4)}


@dataclass(frozen=True)
class GroupFigure:
    """The person's side for all cases (``group`` ``None``) or one group."""

    group: str | None
    cases: int | None
    fitting: Share
    contribution_late: Share
    repeated_assessments: Share
    over_handoffs: Share
    supported: int | None
    dts_median: float | None
    dts_p90: float | None
    dts_mean: float | None
    suppressed: str | None = None
    """``small`` or ``secondary`` when the group's figures are hidden."""
    model_group: str | None = None
    """The model's start group of the same name, if any."""
    model_days_to_support: float | None = None
    model_start: str | None = None
    started_as_modelled: Share = field(default_factory=Share)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cases": self.cases,
            "fitting_share": _r(self.fitting.share, 4),
            "contribution_late_share": _r(self.contribution_late.share, 4),
            "days_to_support": {
                "median": _r(self.dts_median),
                "p90": _r(self.dts_p90),
                "mean": _r(self.dts_mean),
                "cases": self.supported,
            },
            "repeated_assessment_share": _r(self.repeated_assessments.share, 4),
            "over_handoff_target_share": _r(self.over_handoffs.share, 4),
        }
        if self.group is not None:
            out = {"group": self.group, **out}
            out["model_group"] = self.model_group
            if self.model_group is not None:
                out["model_days_to_support"] = self.model_days_to_support
                out["model_start"] = self.model_start
                out["started_as_modelled_share"] = _r(self.started_as_modelled.share, 4)
        return out


@dataclass(frozen=True)
class Calibration:
    """The whole calibration of one model against one log."""

    model_path: str
    council: str
    title: str
    as_of: str
    log: str
    min_group: int
    cases: int | None
    events: int
    ignored: int
    steps: tuple[StepFigure, ...]
    transitions: tuple[TransitionFigure, ...]
    unmodelled: tuple[TransitionFigure, ...]
    unseen: tuple[tuple[str, str, float | None], ...]
    deviations: tuple[Deviation, ...]
    overall: GroupFigure
    groups: tuple[GroupFigure, ...]
    group_column: str | None
    model_days_to_support: float | None
    model_days_to_support_at_least: bool
    model_contribution_late: bool
    """Whether the model itself reveals the contribution late (SEQ-04)."""
    model_assessments_max: float | None
    max_handoffs: float
    preset: str | None = None
    invisible: tuple[str, ...] = ()
    """Steps the log cannot show (a preset's: planning, sign-offs, panels ...)."""
    milestones: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()
    step_names: tuple[tuple[str, str], ...] = ()
    """Every step's id and name (for the view of a preset that shows only some)."""

    def as_dict(self) -> dict[str, Any]:
        o = self.overall
        return {
            "model": {
                "path": self.model_path,
                "council": self.council,
                "title": self.title,
                "as_of": self.as_of,
            },
            "log": self.log,
            "preset": self.preset,
            "min_group": self.min_group,
            "cases": self.cases,
            "events": self.events,
            "ignored_events": self.ignored,
            "steps": [s.as_dict() for s in self.steps],
            "transitions": [t.as_dict() for t in self.transitions],
            "unmodelled": [
                {"from": t.source, "to": t.target, "cases": t.cases, "share": _r(t.share, 4)}
                for t in self.unmodelled
            ],
            "unseen": [{"from": a, "to": b, "model_share": _r(s, 4)} for a, b, s in self.unseen],
            "deviations": [d.as_dict() for d in self.deviations],
            "fitting_share": _r(o.fitting.share, 4),
            "contribution_late_share": _r(o.contribution_late.share, 4),
            "days_to_support": {
                "median": _r(o.dts_median),
                "p90": _r(o.dts_p90),
                "mean": _r(o.dts_mean),
                "cases": o.supported,
            },
            "repeated_assessment_share": _r(o.repeated_assessments.share, 4),
            "over_handoff_target_share": _r(o.over_handoffs.share, 4),
            "model_expected": {
                "days_to_support": self.model_days_to_support,
                "days_to_support_is_at_least": self.model_days_to_support_at_least,
                "contribution_late": self.model_contribution_late,
                "assessments_max": self.model_assessments_max,
                "max_handoffs_target": self.max_handoffs,
            },
            "group_column": self.group_column,
            "groups": [g.as_dict() for g in self.groups],
            "milestones": [m.as_dict() for m in self.milestones],
            "invisible_steps": list(self.invisible),
            "step_names": dict(self.step_names),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- building


def calibrate_figures(
    model: Model,
    result: CheckResult,
    figures: Figures,
    *,
    log: str,
    events: int,
    ignored: int,
    min_group: int = MIN_GROUP,
    group_column: str | None = None,
) -> Calibration:
    """Set ``figures`` beside ``model`` (checked as ``result``), hiding small groups."""
    m = min_group
    metrics = result.metrics
    overall_raw = next(g for g in figures.groups if g.group is None)
    total = overall_raw.cases
    steps = tuple(_step(model, raw, m) for raw in _step_rows(model, figures.steps))
    transitions, unmodelled, unseen = _transitions(model, figures, m)
    deviations = _deviations(figures, m)
    overall = _group(overall_raw, m, None)
    groups = _groups(model, metrics, figures, m) if group_column or _named_groups(figures) else ()
    expected = metrics.get("expected_days_to_support")
    at_least = expected is None and metrics.get("expected_days_to_support_at_least") is not None
    return Calibration(
        model_path=result.path,
        council=model.council,
        title=model.title,
        as_of=str(model.as_of),
        log=log,
        min_group=m,
        cases=total if total >= m else None,
        events=events if total >= m else 0,
        ignored=ignored,
        steps=steps,
        transitions=transitions,
        unmodelled=unmodelled,
        unseen=unseen,
        deviations=deviations,
        overall=overall,
        groups=groups,
        group_column=group_column,
        model_days_to_support=expected
        if expected is not None
        else metrics.get("expected_days_to_support_at_least"),
        model_days_to_support_at_least=at_least,
        model_contribution_late=any(f.rule == "SEQ-04" for f in result.findings),
        model_assessments_max=metrics.get("assessments_max"),
        max_handoffs=model.targets.max_handoffs,
        step_names=tuple((s.id, s.name) for s in model.steps),
    )


def _named_groups(figures: Figures) -> bool:
    return any(g.group for g in figures.groups if g.group is not None)


def _step_rows(model: Model, raws: Sequence[StepRaw]) -> list[StepRaw]:
    """One row for every step of the model but parallel steps, in file order (steps
    never seen get zero events)."""
    by_id = {r.step: r for r in raws}
    return [
        by_id.get(s.id) or StepRaw(s.id, 0, 0, 0, 0, 0, None, None, None, None, None)
        for s in model.steps
        if s.kind != "parallel"
    ]


def _step(model: Model, raw: StepRaw, m: int) -> StepFigure:
    step = model.step(raw.step)
    compared = step.kind not in NO_DAYS_KINDS
    model_days = (
        float(step.days) if compared and step.days_given and not step.days_unknown else None
    )
    if 0 < raw.cases < m or (raw.cases >= m and raw.timed < m):
        hide_days = True
    else:
        hide_days = raw.cases == 0
    shown_cases = raw.cases if not (0 < raw.cases < m) else None
    basis = (
        "both"
        if raw.own and raw.since_previous
        else "own start and end"
        if raw.own
        else "since the event before"
        if raw.since_previous
        else ""
    )
    outside = None
    if (
        compared
        and not hide_days
        and model_days is not None
        and raw.p25 is not None
        and raw.p75 is not None
    ):
        if model_days < raw.p25:
            outside = "below"
        elif model_days > raw.p75:
            outside = "above"
    return StepFigure(
        step=step.id,
        name=step.name,
        kind=step.kind,
        cases=shown_cases,
        events=raw.events if shown_cases is not None else None,
        median_days=None if hide_days else raw.median,
        p90_days=None if hide_days else raw.p90,
        p25_days=None if hide_days else raw.p25,
        p75_days=None if hide_days else raw.p75,
        mean_days=None if hide_days else raw.mean,
        model_days=model_days,
        model_days_unknown=compared and step.days_unknown,
        basis=basis if not hide_days else "",
        model_outside=outside,
        compared=compared,
    )


def _transitions(
    model: Model, figures: Figures, m: int
) -> tuple[
    tuple[TransitionFigure, ...],
    tuple[TransitionFigure, ...],
    tuple[tuple[str, str, float | None], ...],
]:
    seen = {(t.source, t.target): t for t in figures.transitions}
    exits_from: dict[str, int] = {}
    for t in figures.transitions:
        exits_from[t.source] = exits_from.get(t.source, 0) + t.exits
    modelled: list[TransitionFigure] = []
    unmodelled: list[TransitionFigure] = []
    unseen: list[tuple[str, str, float | None]] = []
    model_share: dict[tuple[str, str], Fraction] = {}
    for step in model.steps:
        for to, p in transition_shares(step):
            model_share[(step.id, to)] = p
    # every cell leaving a step, for suppression: modelled arrows and the rest alike
    cells: dict[str, dict[tuple[str, str], int]] = {}
    for (a, b), t in seen.items():
        cells.setdefault(a, {})[(a, b)] = t.cases
    hidden: dict[tuple[str, str], str] = {}
    for row in cells.values():
        hidden.update(hidden_cells(row, m))
    for step in model.steps:
        if step.kind == "parallel":
            continue
        for to, p in transition_shares(step):
            raw = seen.get((step.id, to))
            total = exits_from.get(step.id, 0)
            if raw is None:
                unseen.append((step.id, to, float(p)))
            modelled.append(_transition(step.id, to, raw, total, float(p), True, hidden, m))
    for (a, b), raw in sorted(seen.items()):
        if (a, b) not in model_share:
            unmodelled.append(_transition(a, b, raw, exits_from.get(a, 0), None, False, hidden, m))
    unmodelled.sort(key=lambda t: (-(t.cases or 0), t.source, t.target))
    return tuple(modelled), tuple(unmodelled), tuple(unseen)


def _transition(
    source: str,
    target: str,
    raw: Any,
    total: int,
    model_share: float | None,
    modelled: bool,
    hidden: Mapping[tuple[str, str], str],
    m: int,
) -> TransitionFigure:
    exits = raw.exits if raw is not None else 0
    cases = raw.cases if raw is not None else 0
    if (source, target) in hidden or total < m:
        return TransitionFigure(
            source, target, None, None, None, None, None, model_share, modelled, None
        )
    interval = wilson_interval(exits, total)
    assert interval is not None
    low, high = interval
    inside = None if model_share is None else low - 1e-9 <= model_share <= high + 1e-9
    return TransitionFigure(
        source, target, cases, exits, exits / total, low, high, model_share, modelled, inside
    )


def _deviations(figures: Figures, m: int) -> tuple[Deviation, ...]:
    rows = [d for d in figures.deviations if d.cases >= m]
    return tuple(Deviation(d.source, d.target, d.cases) for d in rows[:5])


def _group(raw: GroupRaw, m: int, hidden: str | None) -> GroupFigure:
    if hidden or raw.cases < m:
        return GroupFigure(
            raw.group,
            None,
            Share(),
            Share(),
            Share(),
            Share(),
            None,
            None,
            None,
            None,
            suppressed=hidden or "small",
        )
    supported = raw.supported >= m
    return GroupFigure(
        group=raw.group,
        cases=raw.cases,
        fitting=Share.of(raw.fitting, raw.cases, m),
        contribution_late=Share.of(raw.late, raw.gated, m),
        repeated_assessments=Share.of(raw.repeated, raw.cases, m),
        over_handoffs=Share.of(raw.over_handoffs, raw.cases, m),
        supported=raw.supported if supported else None,
        dts_median=raw.dts_median if supported else None,
        dts_p90=raw.dts_p90 if supported else None,
        dts_mean=raw.dts_mean if supported else None,
    )


def _groups(
    model: Model, metrics: Mapping[str, Any], figures: Figures, m: int
) -> tuple[GroupFigure, ...]:
    raws = [g for g in figures.groups if g.group is not None]
    hidden = hidden_cells({g.group: g.cases for g in raws}, m)
    model_groups = {normalised(g["when"]): g for g in metrics.get("groups", ()) if g.get("when")}
    starts: dict[str, dict[str, int]] = {}
    for g, step, n in figures.group_starts:
        starts.setdefault(g, {})[step] = n
    out = []
    for raw in raws:
        fig = _group(raw, m, hidden.get(raw.group))
        mg = model_groups.get(normalised(raw.group or ""))
        if mg is not None and fig.cases is not None:
            began = starts.get(raw.group or "", {}).get(mg["start"], 0)
            fig = GroupFigure(
                **{
                    **fig.__dict__,
                    "model_group": mg["when"],
                    "model_days_to_support": mg.get("expected_days_to_support"),
                    "model_start": mg["start"],
                    "started_as_modelled": Share.of(began, raw.cases, m),
                }
            )
        elif mg is not None:
            fig = GroupFigure(**{**fig.__dict__, "model_group": mg["when"]})
        out.append(fig)
    return tuple(out)
