"""The overall scores of a model: heard, simple and in control for the whole process.

Each block starts at the base (100) and loses points for the lowest part the person
has at each kind of step that matters (heard only), for every finding once (up to a
cap per rule), for each figure over its target, and for each policy the model leaves
out, which is scored as the worst case of the rule behind it (``docs/scoring.md``,
"The overall score").
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..analysis.findings import BLOCKS, CheckResult, Finding
from ..model.catalogue import FindingWeight
from ..model.objects import PERSON_LEVELS, Model
from .reasons import BLOCK_NAMES, Reason, Scores, finalise, finding_text, fmt, plural, quote
from .weights import MetricWeight, Weights


def _field_value(model: Model, name: str) -> Any:
    value: Any = model
    for part in name.split("."):
        if value is None:  # e.g. policies.review.first_days when there is no review policy
            return None
        value = getattr(value, part)
    return value


def score_overall(
    model: Model,
    result: CheckResult,
    findings: tuple[Finding, ...],
    weights: Weights,
    *,
    best: bool = False,
) -> Scores:
    """The overall scores: the person's lowest part at each kind of step that matters,
    every finding once (with caps per rule), the policies the model leaves out, and the
    figures the checks report.

    A left-out policy and a time resting on ``days: unknown`` count at their worst case;
    with ``best``, at their best instead (the policy as the council would wish, the
    unknown times as 0): the score once they are known can lie anywhere between."""
    reasons = _person_overall(model, weights)
    reasons += _findings_overall(model, findings, weights, best=best)
    # the figures the checks report
    for m in weights.metrics:
        if m.key not in result.metrics:
            continue
        value = result.metrics[m.key]
        lower = result.metrics.get(f"{m.key}_at_least")
        if value is None and lower is not None:
            reason = (
                _metric_reason(model, m, lower)
                if best
                else _unknown_reason(m, result.metrics.get("days_unknown") or [])
            )
        else:
            reason = _metric_reason(model, m, value)
        if reason:
            reasons.append(reason)
    return finalise(weights.base, reasons)


def left_out(model: Model, weights: Weights) -> list[str]:
    """The policies the model leaves out, which the overall score counts at their worst
    case (their keys, such as ``policies.review.first_days``)."""
    keys = [
        (ns.keys or (ns.field,))[0]
        for ns in weights.not_stated
        if _field_value(model, ns.field) is None
    ]
    return list(dict.fromkeys(keys))


def _unknown_reason(m: MetricWeight, steps: list[str]) -> Reason | None:
    if not m.cap:
        return None
    rule = f" ({m.rule})" if m.rule else ""
    return Reason(
        m.block,
        -m.cap,
        f"{m.name}: not known, because nobody has said how long {quote(steps)} "
        f"take{'s' if len(steps) == 1 else ''}, so it costs the most, {m.cap}{rule}",
        "figure",
        rule=m.rule,
        field=f"metrics.{m.key}",
    )


def _person_overall(model: Model, weights: Weights) -> list[Reason]:
    """heard: the lowest part the person has at each kind of step that matters."""
    reasons: list[Reason] = []
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
                    f"'{PERSON_LEVELS[lowest]}' (at {quote(where)}); '{expect.level}' is "
                    f"expected ({plural(short, 'level')} short, "
                    f"{expect.overall_points_per_level} each)",
                    "person",
                    field="person",
                    steps=tuple(where),
                )
            )
    return reasons


def _findings_overall(
    model: Model, findings: tuple[Finding, ...], weights: Weights, *, best: bool = False
) -> list[Reason]:
    """Every finding once, with caps per rule.

    A policy the model leaves out is scored as its worst case instead, whatever the
    findings say (its rule cannot be assessed), so that neither a finding nor its
    absence can make leaving the policy out pay.
    """
    reasons: list[Reason] = []
    lost: dict[tuple[str, str], int] = {}
    caps: dict[tuple[str, str], int] = {}
    unstated = [
        ns for ns in weights.not_stated if not best and _field_value(model, ns.field) is None
    ]
    for f in findings:
        # a finding the worst case below stands for (same rule, within its subject)
        if any(
            f.rule == ns.rule and (not ns.subject or set(f.subject) <= set(ns.subject))
            for ns in unstated
        ):
            continue
        weight = weights.for_finding(f)
        text, counted = finding_text(f, weights)
        _finding_overall(
            reasons, weight, f.rule, f.subject, text, counted, f.steps, f.waived, lost, caps
        )
    for ns in unstated:
        keys = ns.keys or (ns.field,)
        given = " or ".join(f"'{k.replace('.', ': ')}'" for k in keys)
        text = f"{ns.reason} ({ns.rule}; {given} not given)"
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
            field_name=keys[0],
        )
    _give_back_above_caps(reasons, lost, caps)
    return reasons


def _give_back_above_caps(
    reasons: list[Reason], lost: dict[tuple[str, str], int], caps: dict[tuple[str, str], int]
) -> None:
    """A ``cap`` line for each rule that took more than its cap off a block, given back
    right after the rule's last reason in that block, so it reads in place."""
    for (rule, block), total in lost.items():
        cap = caps.get((rule, block))
        if cap is not None and total > cap:
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
            how = f" [{per} for each of {quote(subject)}"
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
        whose = f"the council's target ({m.target}) of {fmt(target)}"
    else:
        target = m.target
        whose = f"the expected {fmt(target)}"
    figure = Fraction(str(value)) * m.scale
    excess = figure - target
    if excess <= 0:
        return None
    points = min(m.cap, math.floor(excess * m.points_per_unit))
    if points <= 0:
        return None
    # Over a target of 0 the excess is the figure itself: "2.64, over the expected 0",
    # not "2.64, 2.64 percentage points over the expected 0".
    over = f"over {whose}" if target == 0 else f"{plural(excess, m.unit)} over {whose}"
    return Reason(
        m.block,
        -points,
        f"{name}: {fmt(figure)}, {over} "
        f"({fmt(m.points_per_unit)} per {m.unit}, rounded down, at most {m.cap}){rule}",
        "figure",
        rule=m.rule,
        field=f"metrics.{m.key}",
    )
