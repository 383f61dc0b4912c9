"""Scores a council can recompute by hand: heard, simple and in control, per step and overall.

Every score starts at a base (100) and loses points for what the process asks of
the person. Each loss is a :class:`~sdsaudit.scoring.reasons.Reason` (block, points,
plain-English text, and the rule id or model field behind it), and the reasons of a
score always add up to it exactly: the base is a reason of its own, and when the
losses go below 0 a last ``floor`` reason gives back the excess. The weights are
data: each rule's in its catalogue entry (``score`` in ``criteria/rules.yaml``), the
rest in ``criteria/weights.yaml`` (read by :mod:`sdsaudit.scoring.weights`); the
scoring only applies them. The method, with a worked example, is in ``docs/scoring.md``.

* A **step** score (here) uses the step's own fields (the person's part, forms, days,
  hand-offs arriving) and the findings that name the step.
* The **overall** score (:mod:`sdsaudit.scoring.overall`) uses every finding once, the
  lowest part the person has at each kind of step that matters, and the figures
  (metrics) the checks report.
* Each Making it Real theme (:mod:`sdsaudit.scoring.themes`) gets a status from its
  rules: the rules that name it in their ``themes``.

Scores are monotone (``docs/rules.md``): removing a finding's cause never lowers a
score, and raising ``person`` at a step never lowers its heard score. Every
weight is a non-negative loss, losses from figures grow with the figure, a figure
that cannot be worked out costs its cap, and a policy the model leaves out is
scored as its worst case, so no change that removes a problem can cost points.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..analysis.findings import BLOCKS, CheckResult, Finding
from ..analysis.graph import Context
from ..model.catalogue import FindingWeight, load_catalogue
from ..model.objects import PERSON_LEVELS, Model, Step
from .overall import left_out, score_overall
from .reasons import (
    BLOCK_NAMES,
    Reason,
    Scores,
    StepScore,
    finalise,
    finding_text,
    fmt,
    plural,
    quote,
)
from .themes import Theme, ThemeStatus, load_themes, theme_status
from .weights import Weights, load_weights


@dataclass(frozen=True)
class ScoreReport:
    """Everything ``sdsaudit score`` says about one model."""

    path: str
    council: str
    title: str
    as_of: str
    overall: Scores
    steps: tuple[StepScore, ...]
    themes: tuple[ThemeStatus, ...]
    best: Scores | None = None
    """The overall scores if every left-out policy were at its best and every unknown
    time were 0 (``None``: nothing is left out or unknown, so the best is the score)."""
    left_out: tuple[str, ...] = ()
    """The policies the model leaves out (keys), counted at their worst case."""
    days_unknown: tuple[str, ...] = ()
    """The steps whose days nobody knows, on the way to support: the times resting on
    them are counted at their worst case."""

    @property
    def overall_best(self) -> Scores:
        """The best the overall scores could be once what is unknown is known."""
        return self.best or self.overall

    @property
    def best_words(self) -> str | None:
        """ "once the policies left out are known" (and so on), or ``None`` when the
        best equals the score."""
        if self.best is None or self.best.as_dict() == self.overall.as_dict():
            return None
        what = []
        if self.left_out:
            what.append("the policies left out")
        if self.days_unknown:
            what.append("the unknown times")
        return f"once {' and '.join(what)} {'are' if what else 'is'} known"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``overall``, ``steps`` and ``themes`` as in ``docs/cli.md``, plus
        ``overall_reasons`` and the model's identity."""
        return {
            "path": self.path,
            "council": self.council,
            "title": self.title,
            "as_of": self.as_of,
            "overall": self.overall.as_dict(),
            "overall_best": self.overall_best.as_dict(),
            "left_out": list(self.left_out),
            "days_unknown": list(self.days_unknown),
            "overall_reasons": [r.as_dict() for r in self.overall.reasons],
            "steps": [s.as_dict() for s in self.steps],
            "themes": [t.as_dict() for t in self.themes],
        }


# --------------------------------------------------------------------------- scoring


def score_model(
    model: Model,
    result: CheckResult,
    weights: Weights | None = None,
    *,
    themes: tuple[Theme, ...] | None = None,
    rules_run: Collection[str] | None = None,
    context: Context | None = None,
) -> ScoreReport:
    """Score ``model`` from the findings and metrics of ``result`` (what ``check`` found).

    ``weights`` and ``themes`` default to ``criteria/``. ``rules_run`` lists the
    rules that were run (default: all of them); rules not run, not assessable or
    that failed count as not assessed for the themes. Deterministic: the same
    model and result always give the same report. ``context`` shares the prepared
    graph the check used (see :mod:`sdsaudit.audit`) instead of building it again.
    """
    weights = weights or load_weights()
    themes = themes if themes is not None else load_themes()
    findings = result.findings  # in the engine's stable order
    ctx = context or Context(model)
    at_step = _findings_at_steps(findings, weights)
    steps = tuple(_score_step(ctx, step, at_step.get(step.id, ()), weights) for step in model.steps)
    overall = score_overall(model, result, findings, weights)
    missing = tuple(left_out(model, weights))
    unknown = tuple(result.metrics.get("days_unknown") or ())
    best = (
        score_overall(model, result, findings, weights, best=True) if missing or unknown else None
    )
    statuses = tuple(theme_status(t, result, rules_run) for t in themes)
    return ScoreReport(
        best=best,
        left_out=missing,
        days_unknown=unknown,
        path=result.path or model.path,
        council=model.council,
        title=model.title,
        as_of=model.as_of.isoformat(),
        overall=overall,
        steps=steps,
        themes=statuses,
    )


QUOTED_STEPS = 3
"""A step's line names at most this many steps: a finding's message is repeated at a step
only when the finding names at most this many, and the line for hand-offs into a step
names at most this many of the steps they come from."""

QUOTED_CHARS = 300
"""A step's line repeats a finding's message (with its rule and any waiver) only when that
is at most this long; otherwise it refers to the finding briefly."""


@dataclass(frozen=True)
class _FindingAtStep:
    """A finding as the lines of the steps it costs points at give it: its text once."""

    finding: Finding
    weight: FindingWeight
    text: str
    counted: bool
    quoted: bool


def _findings_at_steps(
    findings: tuple[Finding, ...], weights: Weights
) -> dict[str, list[_FindingAtStep]]:
    """The findings that cost points at each step, by step id, in the engine's order.

    Each finding's line is worked out once, not once per step. Its message is repeated
    at a step only when it belongs to that step alone: the finding costs points at no
    other step, names at most :data:`QUOTED_STEPS` steps and its line is at most
    :data:`QUOTED_CHARS` long. Otherwise (a route with too many approvals or
    assessments, a long loop, a long message) the message is given once, with the
    findings (and in the overall reasons when it costs points there), and each step's
    line gives the rule's title, its id and how many steps the finding is about, so the
    lines of a model grow with its size, not its square.
    """
    titles = {r.id: r.title for r in load_catalogue().rules}
    at: dict[str, list[_FindingAtStep]] = {}
    for f in findings:
        weight = weights.for_finding(f)
        hit = _steps_hit(weight, f)
        if not hit:
            continue
        text, counted = finding_text(f, weights)
        named = len(dict.fromkeys(f.steps))
        quoted = len(hit) == 1 and named <= QUOTED_STEPS and len(text) <= QUOTED_CHARS
        if not quoted:
            text = _brief_text(f, titles.get(f.rule), named, weights)
        line = _FindingAtStep(f, weight, text, counted, quoted)
        for step_id in hit:
            at.setdefault(step_id, []).append(line)
    return at


def _brief_text(f: Finding, title: str | None, named: int, weights: Weights) -> str:
    """A step's line for a finding it does not quote: the rule's title and id, how many
    steps the finding is about, and whether it is waived (the waiver's reason, like the
    message, is given once with the finding)."""
    title = title or f.slug.replace("-", " ").capitalize()
    text = f"{title} ({f.rule}; one finding about {plural(named, 'step')}, given in full once "
    text += "with the findings)"
    if f.waived:
        text += "; waived; still counted" if weights.count_waived else "; waived; not counted"
    return text


def _steps_hit(weight: FindingWeight, finding: Finding) -> tuple[str, ...]:
    if weight.at == "each":
        return tuple(dict.fromkeys(finding.steps))
    if weight.at == "last":
        return finding.steps[-1:]
    if weight.at == "later":
        return tuple(dict.fromkeys(s for s in finding.steps[1:] if s != finding.steps[0]))
    return ()


def _score_step(
    ctx: Context, step: Step, findings: Iterable[_FindingAtStep], weights: Weights
) -> StepScore:
    reasons = _person_reasons(step, weights)
    reasons += _field_reasons(ctx, step, weights)
    reasons += _finding_reasons(step, findings)
    return StepScore(
        id=step.id, name=step.name, kind=step.kind, scores=finalise(weights.base, reasons)
    )


def _person_reasons(step: Step, weights: Weights) -> list[Reason]:
    """heard: the person's part, against what is expected at this kind of step."""
    expect = weights.person_weight(step.kind)
    if not expect:
        return []
    short = PERSON_LEVELS.index(expect.level) - step.person_level
    if short <= 0:
        return []
    return [
        Reason(
            "heard",
            -short * expect.points_per_level,
            f"the person is '{step.person}' here; '{expect.level}' is expected at "
            f"{step.kind} steps ({plural(short, 'level')} short, "
            f"{expect.points_per_level} each)",
            "person",
            field="person",
            steps=(step.id,),
        )
    ]


def _field_reasons(ctx: Context, step: Step, weights: Weights) -> list[Reason]:
    """simple: the step's own forms, days and hand-offs."""
    reasons: list[Reason] = []
    if step.forms > 0:
        reasons.append(
            Reason(
                "simple",
                -step.forms * weights.forms_points,
                f"{plural(step.forms, 'form')} to fill in here ({weights.forms_points} each)",
                "field",
                field="forms",
                steps=(step.id,),
            )
        )
    if step.kind != "support" and step.days > 0:
        points = math.floor(Fraction(str(step.days)) * weights.days_rate)
        if points > 0:
            reasons.append(
                Reason(
                    "simple",
                    -points,
                    f"{plural(Fraction(str(step.days)), 'day')} at this step "
                    f"({fmt(weights.days_rate)} per day, rounded down)",
                    "field",
                    field="days",
                    steps=(step.id,),
                )
            )
    sources = [
        p for p in ctx.ordered(ctx.graph.predecessors(step.id)) if ctx.is_handoff(p, step.id)
    ]
    if sources and weights.handoff_points:
        shown = sources[:QUOTED_STEPS]
        more = f" and {len(sources) - len(shown)} more" if len(sources) > len(shown) else ""
        reasons.append(
            Reason(
                "simple",
                -weights.handoff_points,
                f"work arrives here from another team (from {quote(shown)}{more})",
                "field",
                field="actor",
                steps=(step.id, *shown),
            )
        )
    return reasons


def _finding_reasons(step: Step, findings: Iterable[_FindingAtStep]) -> list[Reason]:
    """The findings that cost points at this step, each on the blocks it costs points at a
    step. A line that refers to its finding briefly names only this step."""
    reasons: list[Reason] = []
    for line in findings:
        f = line.finding
        for block in BLOCKS:
            points = line.weight.step.get(block, 0)
            if points:
                reasons.append(
                    Reason(
                        block,
                        -points if line.counted else 0,
                        line.text,
                        "finding",
                        rule=f.rule,
                        steps=f.steps if line.quoted else (step.id,),
                        waived=f.waived,
                    )
                )
    return reasons


# --------------------------------------------------------------------------- text


def score_table(report: ScoreReport) -> str:
    """The report as a fixed-width table for a terminal: steps by blocks, the reasons beneath
    each step, then the overall scores with their reasons, then the themes."""
    width = max([len(s.id) for s in report.steps] + [len("overall"), 20])
    head = f"{'step':<{width}}  {'heard':>5}  {'simple':>6}  {'in control':>10}"
    lines = [
        f"Scores for {report.council}: {report.title} ({report.as_of})",
        "Each score starts at 100; the lines under a step are the points taken off (or given "
        "back) and why.",
        "",
        head,
        "-" * len(head),
    ]

    def row(label: str, scores: Scores) -> None:
        lines.append(
            f"{label:<{width}}  {scores.heard:>5}  {scores.simple:>6}  {scores.in_control:>10}"
        )
        for r in scores.reasons:
            if r.kind != "base":
                lines.append(f"    {BLOCK_NAMES[r.block]:<10} {r.points:+4d}  {r.text}")

    for step in report.steps:
        row(step.id, step.scores)
    lines.append("-" * len(head))
    row("overall", report.overall)
    if report.best_words:
        best = report.overall_best
        lines.append(
            f"{'up to':<{width}}  {best.heard:>5}  {best.simple:>6}  {best.in_control:>10}"
            f"  ({report.best_words})"
        )
    lines += ["", "Making it Real (2018) themes"]
    name_width = max(len(t.name) for t in report.themes) if report.themes else 0
    for t in report.themes:
        lines.append(f"{t.theme:<14} {t.name:<{name_width}}  {t.status}: {t.explanation}")
        for label, ids in (
            ("problems", t.fired),
            ("waived", t.waived),
            ("passed", t.passed),
            ("not assessed", t.not_assessed),
        ):
            if ids:
                lines.append(f"    {label}: {', '.join(ids)}")
    return "\n".join(lines) + "\n"
