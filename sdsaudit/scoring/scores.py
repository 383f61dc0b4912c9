"""Scores a council can recompute by hand: heard, simple and in control, per step and overall.

Every score starts at a base (100) and loses points for what the process asks of
the person. Each loss is a :class:`Reason` (block, points, plain-English text, and
the rule id or model field behind it), and the reasons of a score always add up
to it exactly: the base is a reason of its own, and when the losses go below 0 a
last ``floor`` reason gives back the excess. The weights are data: each rule's in
its catalogue entry (``score`` in ``criteria/rules.yaml``), the rest in
``criteria/weights.yaml``, whose format is declared here (:data:`WEIGHTS_FILE`); this
module only applies them. The method, with a worked example, is in ``docs/scoring.md``.

* A **step** score uses the step's own fields (the person's part, forms, days,
  hand-offs arriving) and the findings that name the step.
* The **overall** score uses every finding once, the lowest part the person has
  at each kind of step that matters, and the figures (metrics) the checks report.
* Each Making it Real theme (``criteria/themes.yaml``) gets a status from its
  rules: the rules that name it in their ``themes``.

Scores are monotone (``docs/rules.md``): removing a finding's cause never lowers a
score, and raising ``person`` at a step never lowers its heard score. Every
weight is a non-negative loss, losses from figures grow with the figure, a figure
that cannot be worked out costs its cap, and a policy the model leaves out is
scored as its worst case, so no change that removes a problem can cost points.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..analysis.findings import BLOCKS, SEVERITIES, CheckResult, Finding
from ..analysis.graph import Context
from ..model import datafile as D
from ..model import schema as S
from ..model.catalogue import AT_MODES, POINTS, FindingWeight, load_catalogue, load_theme_file
from ..model.objects import DEFAULT_TARGETS, PERSON_LEVELS, Model, Step

BLOCK_NAMES = {"heard": "heard", "simple": "simple", "in_control": "in control"}
"""How each building block is written for people."""

STATUSES = ("met", "partly met", "not met", "not assessed")
"""Making it Real theme statuses."""

_NOT_STATED_FIELDS = (
    "options",
    "policies.allowed_uses",
    "policies.prepaid_card_default",
    "policies.allocation_method_published",
    "policies.review.first_days",
    "policies.review.interval_days",
    "policies.dp_first_review_days",
)


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class PersonWeight:
    """The person's expected part at one kind of step, and what each level short costs."""

    kind: str
    level: str
    points_per_level: int
    overall_points_per_level: int
    reason: str


@dataclass(frozen=True)
class DefaultFindingWeight:
    """What a finding of a rule without weights of its own costs, by severity."""

    at: str
    step: Mapping[str, int]
    overall: Mapping[str, int]
    cap: int
    reason: str

    def for_finding(self, finding: Finding) -> FindingWeight:
        """The weight this gives ``finding``: its severity's points on each of its blocks."""
        step = self.step.get(finding.severity, 0)
        overall = self.overall.get(finding.severity, 0)
        blocks = [b for b in finding.blocks if b in BLOCKS]
        return FindingWeight(
            rule=finding.rule,
            at=self.at,
            reason=self.reason,
            step=MappingProxyType({b: step for b in blocks}),
            overall=MappingProxyType({b: overall for b in blocks}),
            cap=MappingProxyType({b: self.cap for b in blocks}),
        )


@dataclass(frozen=True)
class MetricWeight:
    """What a figure over its target costs."""

    key: str
    name: str
    block: str
    target: str | Fraction
    points_per_unit: Fraction
    cap: int
    unit: str
    reason: str
    rule: str | None = None
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class NotStatedWeight:
    """A policy the model leaves out, scored as the worst case of the rule behind it."""

    field: str
    rule: str
    subject: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Weights:
    """All scoring weights: ``criteria/weights.yaml`` and each rule's ``score``."""

    base: int
    count_waived: bool
    person: tuple[PersonWeight, ...]
    forms_points: int
    days_rate: Fraction
    handoff_points: int
    findings: Mapping[str, FindingWeight]
    default_finding: DefaultFindingWeight
    metrics: tuple[MetricWeight, ...]
    not_stated: tuple[NotStatedWeight, ...]
    path: str = ""

    def for_finding(self, finding: Finding) -> FindingWeight:
        """The weight of ``finding``'s rule, or the default for its severity."""
        return self.findings.get(finding.rule) or self.default_finding.for_finding(finding)

    def person_weight(self, kind: str) -> PersonWeight | None:
        """The expectation for steps of ``kind``, if there is one."""
        return next((p for p in self.person if p.kind == kind), None)


_STEP_KINDS_WITH_PERSON = (
    "assessment",
    "allocation",
    "planning",
    "approval",
    "review",
    "contact",
    "information",
    "eligibility",
    "financial_assessment",
    "advocacy",
    "arranging",
    "decision",
    "wait",
)

# The format of criteria/weights.yaml (read by sdsaudit.model.datafile).
TEXT = D.Prose(fold=True)
RATE = D.Exact(minimum=0, description="points per unit; may be a fraction")
SIMPLE = S.Word(words=("simple",), vocabulary="building block for a step's own fields")


def _part(name: str, points: str, spec: S.Spec) -> S.Record:
    """One of the ``step_fields``: its block, its points and why."""
    return S.Record(
        name=f"step_fields.{name}",
        keys={
            "block": S.Key(SIMPLE, required=True),
            points: S.Key(spec, required=True),
            "reason": S.Key(TEXT, required=True),
        },
    )


PERSON_WEIGHT = S.Record(
    name="expected part",
    keys={
        "level": S.Key(S.Word(words=PERSON_LEVELS, vocabulary="person level"), required=True),
        "points_per_level": S.Key(POINTS, required=True),
        "overall_points_per_level": S.Key(POINTS, required=True),
        "reason": S.Key(TEXT, required=True),
    },
)
SEVERITY_POINTS = D.Table(key=S.Word(words=SEVERITIES, vocabulary="severity"), value=POINTS)
METRIC_WEIGHT = S.Record(
    name="metric",
    keys={
        "name": S.Key(TEXT, required=True),
        "block": S.Key(S.Word(words=BLOCKS, vocabulary="building block"), required=True),
        "rule": S.Key(D.Ref(ref="rule", vocabulary="rule")),
        "target": S.Key(
            D.NumberOr(
                number=D.Exact(minimum=0),
                word=S.Word(words=tuple(DEFAULT_TARGETS), vocabulary="target"),
            ),
            required=True,
        ),
        "points_per_unit": S.Key(RATE, required=True),
        "cap": S.Key(POINTS, required=True),
        "unit": S.Key(TEXT, required=True),
        "reason": S.Key(TEXT, required=True),
        "scale": S.Key(D.Exact(minimum=0), default=Fraction(1)),
    },
)
NOT_STATED_WEIGHT = S.Record(
    name="not_stated entry",
    keys={
        "rule": S.Key(D.Ref(ref="scored rule", vocabulary="rule with a score"), required=True),
        "subject": S.Key(S.ListOf(item=TEXT), required=True),
        "reason": S.Key(TEXT, required=True),
    },
)
WEIGHTS_FILE = S.Record(
    name="the weights file",
    keys={
        "version": S.Key(S.Number(minimum=1, maximum=1, integer=True), required=True),
        "base": S.Key(
            S.Record(
                name="base",
                keys={
                    "points": S.Key(S.Number(minimum=0, maximum=100, integer=True), required=True),
                    "reason": S.Key(TEXT, required=True),
                },
            ),
            required=True,
        ),
        "waived_findings": S.Key(
            S.Record(
                name="waived_findings",
                keys={
                    "count": S.Key(S.Flag(), required=True),
                    "reason": S.Key(TEXT, required=True),
                },
            ),
            required=True,
        ),
        "person": S.Key(
            S.Record(
                name="person",
                keys={
                    "reason": S.Key(TEXT, required=True),
                    "expected": S.Key(
                        D.Table(
                            key=S.Word(
                                words=_STEP_KINDS_WITH_PERSON,
                                vocabulary="kind of step where the person takes part",
                            ),
                            value=PERSON_WEIGHT,
                        ),
                        required=True,
                    ),
                },
            ),
            required=True,
        ),
        "step_fields": S.Key(
            S.Record(
                name="step_fields",
                keys={
                    "forms": S.Key(_part("forms", "points_per_form", POINTS), required=True),
                    "days": S.Key(_part("days", "points_per_day", RATE), required=True),
                    "handoff_in": S.Key(_part("handoff_in", "points", POINTS), required=True),
                },
            ),
            required=True,
        ),
        "default_finding": S.Key(
            S.Record(
                name="default_finding",
                keys={
                    "at": S.Key(S.Word(words=AT_MODES, vocabulary="'at' mode"), required=True),
                    "step": S.Key(SEVERITY_POINTS, required=True),
                    "overall": S.Key(SEVERITY_POINTS, required=True),
                    "cap": S.Key(POINTS, required=True),
                    "reason": S.Key(TEXT, required=True),
                },
            ),
            required=True,
        ),
        "metrics": S.Key(D.Table(value=METRIC_WEIGHT), required=True),
        "not_stated": S.Key(
            D.Table(
                key=S.Word(words=_NOT_STATED_FIELDS, vocabulary="policy a model may leave out"),
                value=NOT_STATED_WEIGHT,
            ),
            required=True,
        ),
    },
)


def load_weights(path: str | Path | None = None) -> Weights:
    """The scoring weights: ``criteria/weights.yaml`` (or ``path``), with each rule's
    ``score`` from the catalogue. Read once per process.

    Raises :class:`~sdsaudit.errors.ConfigError` with every problem found, each with
    its line and column.
    """
    catalogue = load_catalogue()
    refs = {
        "rule": catalogue.ids,
        "scored rule": tuple(r.id for r in catalogue.rules if r.score is not None),
    }
    return D.build(path or D.criteria_file("weights.yaml"), WEIGHTS_FILE, _weights, refs=refs)


def _weights(values: D.Entry, reader: D.Reader) -> Weights:
    fields, default = values["step_fields"], values["default_finding"]
    return Weights(
        base=values["base"]["points"],
        count_waived=values["waived_findings"]["count"],
        person=tuple(
            PersonWeight(
                kind=kind,
                level=p["level"],
                points_per_level=p["points_per_level"],
                overall_points_per_level=p["overall_points_per_level"],
                reason=p["reason"],
            )
            for kind, p in values["person"]["expected"].items()
        ),
        forms_points=fields["forms"]["points_per_form"],
        days_rate=fields["days"]["points_per_day"],
        handoff_points=fields["handoff_in"]["points"],
        findings=MappingProxyType(
            {r.id: r.score for r in load_catalogue().rules if r.score is not None}
        ),
        default_finding=DefaultFindingWeight(
            at=default["at"],
            step=MappingProxyType(dict(default["step"])),
            overall=MappingProxyType(dict(default["overall"])),
            cap=default["cap"],
            reason=default["reason"],
        ),
        metrics=tuple(
            MetricWeight(
                key=key,
                name=m["name"],
                block=m["block"],
                target=m["target"],
                points_per_unit=m["points_per_unit"],
                cap=m["cap"],
                unit=m["unit"],
                reason=m["reason"],
                rule=m["rule"],
                scale=m["scale"],
            )
            for key, m in values["metrics"].items()
        ),
        not_stated=tuple(
            NotStatedWeight(
                field=key, rule=n["rule"], subject=tuple(n["subject"]), reason=n["reason"]
            )
            for key, n in values["not_stated"].items()
        ),
        path=reader.path,
    )


# --------------------------------------------------------------------------- themes


@dataclass(frozen=True)
class Theme:
    """One Making it Real (2018) theme: our id, its name, gists, and the rules mapped to it."""

    id: str
    name: str
    gists: tuple[str, ...]
    rules: tuple[str, ...]


def load_themes(path: str | Path | None = None) -> tuple[Theme, ...]:
    """The Making it Real themes (``criteria/themes.yaml`` by default), each with its
    rules: the core rules that name it in their ``themes``, in catalogue order."""
    values = load_theme_file(path)
    rules = load_catalogue().rules
    return tuple(
        Theme(
            id=theme["id"],
            name=theme["name"],
            gists=tuple(theme["gists"]),
            rules=tuple(r.id for r in rules if theme["id"] in r.themes),
        )
        for theme in values["themes"]
    )


# --------------------------------------------------------------------------- results


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

    def reasons_for(self, block: str) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.block == block)

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


@dataclass(frozen=True)
class ThemeStatus:
    """A Making it Real theme's status and the evidence for it."""

    theme: str
    name: str
    status: str
    rules: tuple[str, ...]
    fired: tuple[str, ...]
    waived: tuple[str, ...]
    passed: tuple[str, ...]
    not_assessed: tuple[str, ...]
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "name": self.name,
            "status": self.status,
            "rules": list(self.rules),
            "fired": list(self.fired),
            "waived": list(self.waived),
            "passed": list(self.passed),
            "not_assessed": list(self.not_assessed),
            "explanation": self.explanation,
        }


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

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``overall``, ``steps`` and ``themes`` as in ``docs/cli.md``, plus
        ``overall_reasons`` and the model's identity."""
        return {
            "path": self.path,
            "council": self.council,
            "title": self.title,
            "as_of": self.as_of,
            "overall": self.overall.as_dict(),
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
) -> ScoreReport:
    """Score ``model`` from the findings and metrics of ``result`` (what ``check`` found).

    ``weights`` and ``themes`` default to ``criteria/``. ``rules_run`` lists the
    rules that were run (default: all of them); rules not run, not assessable or
    that failed count as not assessed for the themes. Deterministic: the same
    model and result always give the same report.
    """
    weights = weights or load_weights()
    themes = themes if themes is not None else load_themes()
    findings = result.findings  # in the engine's stable order
    ctx = Context(model)
    steps = tuple(_score_step(model, ctx, step, findings, weights) for step in model.steps)
    overall = _score_overall(model, result, findings, weights)
    statuses = tuple(theme_status(t, result, rules_run) for t in themes)
    return ScoreReport(
        path=result.path or model.path,
        council=model.council,
        title=model.title,
        as_of=model.as_of.isoformat(),
        overall=overall,
        steps=steps,
        themes=statuses,
    )


def _finalise(base: int, reasons: list[Reason]) -> Scores:
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


def _quote(ids: Iterable[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def _plural(n: int | Fraction, word: str) -> str:
    return f"{_fmt(n)} {word}" + ("" if n == 1 else "s")


def _fmt(value: Any) -> str:
    """A number as people write it: 28, 0.5, 83.9."""
    if isinstance(value, bool) or value is None:
        return str(value)
    number = Fraction(value) if isinstance(value, Fraction) else Fraction(str(value))
    if number.denominator == 1:
        return str(number.numerator)
    return f"{float(number):.4f}".rstrip("0").rstrip(".")


def _finding_text(f: Finding, weights: Weights) -> tuple[str, bool]:
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


def _steps_hit(weight: FindingWeight, finding: Finding) -> tuple[str, ...]:
    if weight.at == "each":
        return tuple(dict.fromkeys(finding.steps))
    if weight.at == "last":
        return finding.steps[-1:]
    if weight.at == "later":
        return tuple(dict.fromkeys(s for s in finding.steps[1:] if s != finding.steps[0]))
    return ()


def _score_step(
    model: Model, ctx: Context, step: Step, findings: tuple[Finding, ...], weights: Weights
) -> StepScore:
    reasons: list[Reason] = []
    # heard: the person's part, against what is expected at this kind of step
    expect = weights.person_weight(step.kind)
    if expect:
        short = PERSON_LEVELS.index(expect.level) - step.person_level
        if short > 0:
            reasons.append(
                Reason(
                    "heard",
                    -short * expect.points_per_level,
                    f"the person is '{step.person}' here; '{expect.level}' is expected at "
                    f"{step.kind} steps ({_plural(short, 'level')} short, "
                    f"{expect.points_per_level} each)",
                    "person",
                    field="person",
                    steps=(step.id,),
                )
            )
    # simple: the step's own forms, days and hand-offs
    if step.forms > 0:
        reasons.append(
            Reason(
                "simple",
                -step.forms * weights.forms_points,
                f"{_plural(step.forms, 'form')} to fill in here ({weights.forms_points} each)",
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
                    f"{_plural(Fraction(str(step.days)), 'day')} at this step "
                    f"({_fmt(weights.days_rate)} per day, rounded down)",
                    "field",
                    field="days",
                    steps=(step.id,),
                )
            )
    sources = [
        p for p in ctx.ordered(ctx.graph.predecessors(step.id)) if ctx.is_handoff(p, step.id)
    ]
    if sources and weights.handoff_points:
        reasons.append(
            Reason(
                "simple",
                -weights.handoff_points,
                f"work arrives here from another team (from {_quote(sources)})",
                "field",
                field="actor",
                steps=(step.id, *sources),
            )
        )
    # findings that name this step
    for f in findings:
        weight = weights.for_finding(f)
        if step.id not in _steps_hit(weight, f):
            continue
        text, counted = _finding_text(f, weights)
        for block in BLOCKS:
            points = weight.step.get(block, 0)
            if points:
                reasons.append(
                    Reason(
                        block,
                        -points if counted else 0,
                        text,
                        "finding",
                        rule=f.rule,
                        steps=f.steps,
                        waived=f.waived,
                    )
                )
    return StepScore(
        id=step.id, name=step.name, kind=step.kind, scores=_finalise(weights.base, reasons)
    )


def _field_value(model: Model, name: str) -> Any:
    value: Any = model
    for part in name.split("."):
        if value is None:  # e.g. policies.review.first_days when there is no review policy
            return None
        value = getattr(value, part)
    return value


def _score_overall(
    model: Model, result: CheckResult, findings: tuple[Finding, ...], weights: Weights
) -> Scores:
    reasons: list[Reason] = []
    # heard: the lowest part the person has at each kind of step that matters
    for expect in weights.person:
        of_kind = [s for s in model.steps if s.kind == expect.kind]
        if not of_kind:
            continue
        lowest = min(s.person_level for s in of_kind)
        short = PERSON_LEVELS.index(expect.level) - lowest
        if short > 0 and expect.overall_points_per_level:
            where = [s.id for s in of_kind if s.person_level == lowest]
            reasons.append(
                Reason(
                    "heard",
                    -short * expect.overall_points_per_level,
                    f"at {expect.kind} the person's part is as low as "
                    f"'{PERSON_LEVELS[lowest]}' (at {_quote(where)}); '{expect.level}' is "
                    f"expected ({_plural(short, 'level')} short, "
                    f"{expect.overall_points_per_level} each)",
                    "person",
                    field="person",
                    steps=tuple(where),
                )
            )
    # every finding once, with caps per rule. A policy the model leaves out is scored as
    # its worst case instead, whatever the findings say (its rule cannot be assessed), so
    # that neither a finding nor its absence can make leaving the policy out pay.
    lost: dict[tuple[str, str], int] = {}
    caps: dict[tuple[str, str], int] = {}
    unstated = [ns for ns in weights.not_stated if _field_value(model, ns.field) is None]
    for f in findings:
        # a finding the worst case below stands for (same rule, within its subject)
        if any(
            f.rule == ns.rule and (not ns.subject or set(f.subject) <= set(ns.subject))
            for ns in unstated
        ):
            continue
        weight = weights.for_finding(f)
        text, counted = _finding_text(f, weights)
        _finding_overall(
            reasons, weight, f.rule, f.subject, text, counted, f.steps, f.waived, lost, caps
        )
    for ns in unstated:
        text = f"{ns.reason} ({ns.rule}; '{ns.field}' not given)"
        _finding_overall(
            reasons,
            weights.findings[ns.rule],
            ns.rule,
            ns.subject,
            text,
            True,
            (),
            False,
            lost,
            caps,
            kind="not_stated",
            field_name=ns.field,
        )
    for (rule, block), total in lost.items():
        cap = caps.get((rule, block))
        if cap is not None and total > cap:
            # given back right after the rule's last reason in that block, so it reads in place
            last = max(i for i, r in enumerate(reasons) if r.rule == rule and r.block == block)
            reasons.insert(
                last + 1,
                Reason(
                    block,
                    total - cap,
                    f"{rule} takes at most {cap} points off the "
                    f"overall {BLOCK_NAMES[block]} score; {total - cap} given back",
                    "cap",
                    rule=rule,
                ),
            )
    # the figures the checks report
    for m in weights.metrics:
        if m.key not in result.metrics:
            continue
        reason = _metric_reason(model, m, result.metrics[m.key])
        if reason:
            reasons.append(reason)
    return _finalise(weights.base, reasons)


def _finding_overall(
    reasons: list[Reason],
    weight: FindingWeight,
    rule: str,
    subject: tuple[str, ...],
    text: str,
    counted: bool,
    steps: tuple[str, ...],
    waived: bool,
    lost: dict[tuple[str, str], int],
    caps: dict[tuple[str, str], int],
    *,
    kind: str = "finding",
    field_name: str | None = None,
) -> None:
    for block in BLOCKS:
        per = weight.overall.get(block, 0)
        points = per * (len(subject) if weight.per_subject and subject else 1)
        extra = [w for w in subject if weight.extra.get(w)] if block in weight.overall else []
        points += sum(weight.extra[w] for w in extra)
        if not points:
            continue
        how = ""
        if weight.per_subject and len(subject) > 1:
            how = f" [{per} for each of {_quote(subject)}"
            how += (
                f", {' and '.join(f'{weight.extra[w]} more for {w!r}' for w in extra)}]"
                if extra
                else "]"
            )
        elif extra:
            how = (
                f" [{per}, and {' and '.join(f'{weight.extra[w]} more for {w!r}' for w in extra)}]"
            )
        reasons.append(
            Reason(
                block,
                -points if counted else 0,
                text + how,
                kind,
                rule=rule,
                field=field_name,
                steps=steps,
                waived=waived,
            )
        )
        if counted:
            lost[(rule, block)] = lost.get((rule, block), 0) + points
            if block in weight.cap:
                caps[(rule, block)] = weight.cap[block]


def _metric_reason(model: Model, m: MetricWeight, value: Any) -> Reason | None:
    name = m.name
    rule = f" ({m.rule})" if m.rule else ""
    if value is None:
        if not m.cap:
            return None
        return Reason(
            m.block,
            -m.cap,
            f"{name}: cannot be worked out (no route reaches support, or a "
            f"loop without a rework mark can repeat without end), so it costs the most, "
            f"{m.cap}{rule}",
            "figure",
            rule=m.rule,
            field=f"metrics.{m.key}",
        )
    if isinstance(m.target, str):
        target = Fraction(str(getattr(model.targets, m.target)))
        whose = f"the council's target ({m.target}) of {_fmt(target)}"
    else:
        target = m.target
        whose = f"the expected {_fmt(target)}"
    figure = Fraction(str(value)) * m.scale
    excess = figure - target
    if excess <= 0:
        return None
    points = min(m.cap, math.floor(excess * m.points_per_unit))
    if points <= 0:
        return None
    # Over a target of 0 the excess is the figure itself: "2.64, over the expected 0",
    # not "2.64, 2.64 percentage points over the expected 0".
    over = f"over {whose}" if target == 0 else f"{_plural(excess, m.unit)} over {whose}"
    return Reason(
        m.block,
        -points,
        f"{name}: {_fmt(figure)}, {over} "
        f"({_fmt(m.points_per_unit)} per {m.unit}, rounded down, at most {m.cap}){rule}",
        "figure",
        rule=m.rule,
        field=f"metrics.{m.key}",
    )


# --------------------------------------------------------------------------- themes


def theme_status(
    theme: Theme, result: CheckResult, rules_run: Collection[str] | None = None
) -> ThemeStatus:
    """The status of one Making it Real theme for ``result``, with its evidence.

    * ``not assessed``: none of the theme's rules could be assessed (not run, not
      assessable, or failed), or the theme has no rules;
    * ``met``: no assessed rule has an unwaived finding;
    * ``not met``: an unwaived finding of error severity, or unwaived findings
      from more than half of the assessed rules;
    * ``partly met``: anything in between.

    Waived findings are listed as evidence but do not count against the theme:
    the status records what the council has not yet accepted.
    """
    unassessed = {n.rule for n in result.notes}
    assessed = [
        r for r in theme.rules if r not in unassessed and (rules_run is None or r in rules_run)
    ]
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule, []).append(f)
    fired = tuple(r for r in assessed if any(not f.waived for f in by_rule.get(r, [])))
    waived = tuple(r for r in assessed if r not in fired and by_rule.get(r))
    passed = tuple(r for r in assessed if r not in fired and r not in waived)
    not_assessed = tuple(r for r in theme.rules if r not in assessed)
    errors = tuple(
        r for r in fired if any(not f.waived and f.severity == "error" for f in by_rule[r])
    )
    if not assessed:
        status = "not assessed"
        why = "none of its rules could be assessed for this model"
    elif not fired:
        status = "met"
        why = f"none of its {len(assessed)} assessed rules found a problem that is not waived"
    elif errors or 2 * len(fired) > len(assessed):
        status = "not met"
        why = (
            f"{', '.join(errors)} found an error"
            if errors
            else f"{len(fired)} of its {len(assessed)} assessed rules found problems "
            "(more than half)"
        )
    else:
        status = "partly met"
        why = f"{len(fired)} of its {len(assessed)} assessed rules found problems (half or fewer)"
    return ThemeStatus(
        theme=theme.id,
        name=theme.name,
        status=status,
        rules=theme.rules,
        fired=fired,
        waived=waived,
        passed=passed,
        not_assessed=not_assessed,
        explanation=why,
    )


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
