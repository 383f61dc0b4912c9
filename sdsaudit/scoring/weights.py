"""The scoring weights: the format of ``criteria/weights.yaml`` (:data:`WEIGHTS_FILE`) and
the reading of it, with each rule's ``score`` from the catalogue (``criteria/rules.yaml``).

Every weight is a non-negative loss, so no change that removes a problem can cost
points (``docs/scoring.md``); this module only declares and reads them, and
the rest of :mod:`sdsaudit.scoring` applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

from ..analysis.findings import BLOCKS, SEVERITIES, Finding
from ..model import datafile as D
from ..model import schema as S
from ..model.catalogue import AT_MODES, POINTS, FindingWeight, load_catalogue
from ..model.objects import DEFAULT_TARGETS, PERSON_LEVELS

_NOT_STATED_FIELDS = (
    "options",
    "policies.allowed_uses",
    "policies.prepaid_card_default",
    "policies.allocation_method_published",
    "policies.review.first_days",
    "policies.review.interval_days",
    "policies.dp_first_review_days",
)


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
    """A policy the model leaves out, scored as the worst case of the rule behind it.

    ``field`` is where the model holds the policy once read (``policies.allowed_uses``);
    ``keys`` are the keys of the model format that state it, in the order they are read
    (the first one given answers), as the reason names them.
    """

    field: str
    rule: str
    subject: tuple[str, ...]
    reason: str
    keys: tuple[str, ...] = ()


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
        "keys": S.Key(
            S.ListOf(
                item=S.Text(
                    pattern=r"^[a-z_]+(\.[a-z_]+)*$",
                    hint="a key of the model format, its parts joined by '.'",
                ),
                unique=True,
                min_items=1,
            )
        ),
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
                field=key,
                rule=n["rule"],
                subject=tuple(n["subject"]),
                reason=n["reason"],
                keys=tuple(n["keys"] or (key,)),
            )
            for key, n in values["not_stated"].items()
        ),
        path=reader.path,
    )
