"""The stock-take: what changed between two versions of a council's process.

:func:`compare_models` checks and scores both models and returns a frozen
:class:`Comparison`: steps added, removed and changed (matched by id), changes
to council-wide settings, metric and score deltas, and findings new, resolved
and persisting. :func:`render_comparison` turns it into text, JSON, Markdown,
HTML and a map of the new model with the changed steps marked.

Findings are matched year on year in three passes (see :func:`match_findings`):

1. by rule, steps and subject (:attr:`~sdsaudit.analysis.findings.Finding.key`), exactly;
2. what is left, by rule and subject, when exactly one finding on each side is
   left with that rule and subject. This keeps a finding "persisting" when the
   steps it names were renamed, or when a rule that names one example route
   (``HAND-01``, ``AUTH-02``) picks another route;
3. what is left, by rule and steps (findings about named steps only), when
   exactly one on each side is left with them: the same problem at the same
   steps whose details moved (the person now ``informed`` instead of
   ``absent``; a different artefact signed off twice).

Matches from passes 2 and 3 say how they were made, so a reader can see what
moved. Anything left is new (in the new model) or resolved (only in the old).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import graphviz
from markupsafe import Markup

from ..analysis.engine import check_model
from ..analysis.findings import BLOCKS, CheckResult, Finding
from ..analysis.graph import Context
from ..errors import UsageError
from ..files import refuse_existing, write_set
from ..model import datafile as D
from ..model import schema as S
from ..model.catalogue import Catalogue, load_catalogue
from ..model.loader import load_models
from ..model.objects import Model, Step
from ..model.source import DEFAULT_MAX_BYTES
from ..render.jinja import render
from ..render.map import (
    DEFAULT_MAX_NODES,
    DEFAULT_TIMEOUT,
    MapUnavailable,
    build_map,
    clean,
    esc,
    map_description,
    map_outline,
    render_map,
)
from ..render.report import BLOCK_NAMES, METRIC_LABELS
from ..scoring.scores import ScoreReport, score_model
from ..version import __version__
from ..words import plural, tidy

# --------------------------------------------------------------------------- directions

LOWER_IS_BETTER = (
    "approvals_max",
    "handoffs_max",
    "forms_max",
    "assessments_max",
    "expected_days_to_support",
    "worst_days_to_support",
    "share_withdrawing",
    "approval_steps",
    "handoff_arrows",
    "forms_total",
)
"""Metrics where a fall is an improvement."""

NEUTRAL = ("steps", "share_reaching_support")
"""Metrics that are neither better nor worse when they move: a process may rightly gain
a step (an advocate), and the share reaching support follows eligibility, not design."""

EXTRA_LABELS = {
    "approval_steps": "Sign-off steps in the whole process",
    "handoff_arrows": "Arrows that pass the case to another team",
    "forms_total": "Forms in the whole process",
}
METRIC_ORDER = (
    "steps",
    "approval_steps",
    "approvals_max",
    "handoff_arrows",
    "handoffs_max",
    "forms_total",
    "forms_max",
    "assessments_max",
    "expected_days_to_support",
    "worst_days_to_support",
    "share_reaching_support",
    "share_withdrawing",
)
"""The order metrics are shown in (the CLI contract's metrics plus three counts)."""

STEP_FIELDS = (
    "name",
    "kind",
    "actor",
    "person",
    "days",
    "forms",
    "asks",
    "tells",
    "produces",
    "approves",
    "authority",
    "restrictions",
    "outcome",
    "note",
    "next",
)


def metric_label(key: str) -> str:
    """The plain-English name of a metric."""
    return METRIC_LABELS.get(key) or EXTRA_LABELS.get(key) or key.replace("_", " ")


def extra_metrics(model: Model) -> dict[str, int]:
    """Counts over the whole model that a stock-take also tracks."""
    ctx = Context(model)
    arrows = sum(
        1
        for s in model.steps
        for t in s.next
        if t.to in model.step_by_id and ctx.is_handoff(s.id, t.to)
    )
    return {
        "approval_steps": sum(1 for s in model.steps if s.kind == "approval"),
        "handoff_arrows": arrows,
        "forms_total": sum(s.forms for s in model.steps),
    }


# --------------------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class ModelInfo:
    """Which model one side of a comparison is."""

    path: str
    council: str
    title: str
    as_of: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "council": self.council,
            "title": self.title,
            "as_of": self.as_of,
        }


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its name and the old and new values (plain JSON values)."""

    name: str
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.name, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class StepInfo:
    """A step added or removed."""

    id: str
    name: str
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class StepChange:
    """A step in both models whose fields differ."""

    id: str
    name: str
    kind: str
    changes: tuple[FieldChange, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "fields": list(self.fields),
            "changes": [c.as_dict() for c in self.changes],
        }


@dataclass(frozen=True)
class Delta:
    """A number before and after: ``direction`` is ``better``, ``worse``, ``same``,
    ``changed`` (for neutral measures) or ``not comparable`` (a value is missing)."""

    key: str
    label: str
    old: int | float | None
    new: int | float | None
    delta: int | float | None
    direction: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "old": self.old,
            "new": self.new,
            "delta": self.delta,
            "direction": self.direction,
        }


def make_delta(key: str, label: str, old: Any, new: Any, *, lower_better: bool | None) -> Delta:
    """A :class:`Delta`; ``lower_better`` is ``None`` for a neutral measure."""
    if old is None or new is None:
        return Delta(key, label, old, new, None, "not comparable")
    change = tidy(new - old, 4)
    if change == 0:
        direction = "same"
    elif lower_better is None:
        direction = "changed"
    else:
        direction = "better" if (change < 0) == lower_better else "worse"
    return Delta(key, label, old, new, change, direction)


@dataclass(frozen=True)
class FindingMatch:
    """A finding present in both models; ``how`` is ``exact``, ``rule and subject`` or
    ``rule and steps``."""

    old: Finding
    new: Finding
    how: str

    def as_dict(self) -> dict[str, Any]:
        return {"matched_by": self.how, "old": self.old.as_dict(), "new": self.new.as_dict()}


@dataclass(frozen=True)
class FindingChanges:
    """Findings new in the new model, resolved since the old one, and persisting."""

    new: tuple[Finding, ...]
    resolved: tuple[Finding, ...]
    persisting: tuple[FindingMatch, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": [f.as_dict() for f in self.new],
            "resolved": [f.as_dict() for f in self.resolved],
            "persisting": [m.as_dict() for m in self.persisting],
        }


def match_findings(old: Sequence[Finding], new: Sequence[Finding]) -> FindingChanges:
    """Match findings of two runs: exactly by key, then by rule and subject, then by rule
    and steps, the last two only where exactly one finding on each side is left with
    them. ``persisting`` follows the new run's order."""
    left_old = list(old)
    left_new = list(new)
    pairs: list[tuple[Finding, Finding, str]] = []
    # pass 1: rule, steps and subject (duplicates pair off in order)
    for finding in list(left_new):
        partner = next((o for o in left_old if o.key == finding.key), None)
        if partner is not None:
            left_old.remove(partner)
            left_new.remove(finding)
            pairs.append((partner, finding, "exact"))
    # pass 2: rule and subject, only where that leaves no doubt
    count_old = Counter((f.rule, f.subject) for f in left_old)
    count_new = Counter((f.rule, f.subject) for f in left_new)
    for finding in list(left_new):
        group = (finding.rule, finding.subject)
        if count_old[group] == 1 and count_new[group] == 1:
            partner = next(o for o in left_old if (o.rule, o.subject) == group)
            left_old.remove(partner)
            left_new.remove(finding)
            pairs.append((partner, finding, "rule and subject"))
    # pass 3: rule and steps (not whole-process findings), only where that leaves no doubt
    count_old = Counter((f.rule, f.steps) for f in left_old if f.steps)
    count_new = Counter((f.rule, f.steps) for f in left_new if f.steps)
    for finding in list(left_new):
        group = (finding.rule, finding.steps)
        if finding.steps and count_old[group] == 1 and count_new[group] == 1:
            partner = next(o for o in left_old if (o.rule, o.steps) == group)
            left_old.remove(partner)
            left_new.remove(finding)
            pairs.append((partner, finding, "rule and steps"))
    order = {id(f): n for n, f in enumerate(new)}
    pairs.sort(key=lambda p: order[id(p[1])])
    return FindingChanges(
        new=tuple(left_new),
        resolved=tuple(left_old),
        persisting=tuple(FindingMatch(o, n, how) for o, n, how in pairs),
    )


@dataclass(frozen=True)
class StepScoreChange:
    """The building-block scores of a step present in both models."""

    id: str
    name: str
    deltas: tuple[Delta, ...]

    @property
    def changed(self) -> bool:
        return any(d.direction != "same" for d in self.deltas)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, **{d.key: d.as_dict() for d in self.deltas}}


@dataclass(frozen=True)
class Comparison:
    """Everything the stock-take reports about two versions of a model."""

    old: ModelInfo
    new: ModelInfo
    steps_added: tuple[StepInfo, ...]
    steps_removed: tuple[StepInfo, ...]
    steps_changed: tuple[StepChange, ...]
    model_changes: tuple[FieldChange, ...]
    metrics: tuple[Delta, ...]
    scores: tuple[Delta, ...]
    step_scores: tuple[StepScoreChange, ...]
    findings: FindingChanges
    notes: tuple[str, ...] = ()

    def metric(self, key: str) -> Delta:
        """The delta of one metric (``KeyError`` if there is none)."""
        for delta in self.metrics:
            if delta.key == key:
                return delta
        raise KeyError(key)

    def score(self, block: str) -> Delta:
        """The overall score delta of one building block."""
        for delta in self.scores:
            if delta.key == block:
                return delta
        raise KeyError(block)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``compare --format json``)."""
        return {
            "sdsaudit_version": __version__,
            "old": self.old.as_dict(),
            "new": self.new.as_dict(),
            "notes": list(self.notes),
            "steps": {
                "added": [s.as_dict() for s in self.steps_added],
                "removed": [s.as_dict() for s in self.steps_removed],
                "changed": [s.as_dict() for s in self.steps_changed],
            },
            "model_changes": [c.as_dict() for c in self.model_changes],
            "metrics": [d.as_dict() for d in self.metrics],
            "scores": {
                "overall": [d.as_dict() for d in self.scores],
                "steps": [s.as_dict() for s in self.step_scores],
            },
            "findings": self.findings.as_dict(),
            "summary": {
                "steps_added": len(self.steps_added),
                "steps_removed": len(self.steps_removed),
                "steps_changed": len(self.steps_changed),
                "findings_new": len(self.findings.new),
                "findings_resolved": len(self.findings.resolved),
                "findings_persisting": len(self.findings.persisting),
            },
        }


# --------------------------------------------------------------------------- building it


def step_values(step: Step) -> dict[str, Any]:
    """A step's fields as plain JSON values (what a comparison shows)."""
    return {
        "name": step.name,
        "kind": step.kind,
        "actor": step.actor,
        "person": step.person,
        "days": tidy(step.days, 4),
        "forms": step.forms,
        "asks": list(step.asks),
        "tells": list(step.tells),
        "produces": list(step.produces),
        "approves": list(step.approves),
        "authority": step.authority,
        "restrictions": [r.text for r in step.restrictions],
        "outcome": step.outcome,
        "note": step.note,
        "next": [
            {"to": t.to, "when": t.when, "share": t.share, "rework": t.rework} for t in step.next
        ],
    }


def model_values(model: Model) -> dict[str, Any]:
    """A model's council-wide settings as plain JSON values, one entry per setting."""
    p = model.policies
    out: dict[str, Any] = {
        "council": model.council,
        "title": model.title,
        "description": model.description,
        "start": model.start,
        "authorities (lowest first)": [a.id for a in model.authorities],
        **{f"authority {a.id}": {"name": a.name, "limit": a.limit} for a in model.authorities},
        **{f"actor {a.id}": {"name": a.name, "kind": a.kind} for a in model.actors.values()},
        "options": None if model.options is None else list(model.options),
        "policies.allowed_uses": None if p.allowed_uses is None else list(p.allowed_uses),
        "policies.restrictions": [r.text for r in p.restrictions],
        "policies.prepaid_card_default": p.prepaid_card_default,
        "policies.allocation_method_published": p.allocation_method_published,
    }
    for name in ("review", "dp_review"):
        value = getattr(p, name)
        out[f"policies.{name}"] = (
            None
            if value is None
            else {"first_days": value.first_days, "interval_days": value.interval_days}
        )
    for name in ("max_handoffs", "max_approvals", "max_days_to_support", "max_forms"):
        out[f"targets.{name}"] = getattr(model.targets, name)
    for w in model.waivers:
        out[f"waiver of {w.rule}" + (f" at {w.step}" if w.step else "")] = w.reason
    return out


def _diff(old: Mapping[str, Any], new: Mapping[str, Any], keys: Iterable[str]) -> list[FieldChange]:
    return [FieldChange(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


@dataclass(frozen=True)
class Assessed:
    """A model with what ``check`` and ``score`` found (one side of a comparison)."""

    model: Model
    result: CheckResult
    scores: ScoreReport

    @property
    def metrics(self) -> dict[str, Any]:
        return {**self.result.metrics, **extra_metrics(self.model)}


def assess(model: Model, catalogue: Catalogue | None = None) -> Assessed:
    """Check and score ``model`` with every rule (waivers honoured)."""
    catalogue = catalogue or load_catalogue()
    result = check_model(model, catalogue)
    return Assessed(model, result, score_model(model, result))


def compare_models(
    old: Model | Assessed,
    new: Model | Assessed,
    *,
    catalogue: Catalogue | None = None,
    notes: Sequence[str] = (),
) -> Comparison:
    """Compare two versions of a model (or already assessed ones)."""
    catalogue = catalogue or load_catalogue()
    a = old if isinstance(old, Assessed) else assess(old, catalogue)
    b = new if isinstance(new, Assessed) else assess(new, catalogue)
    old_steps, new_steps = a.model.step_by_id, b.model.step_by_id
    added = tuple(
        StepInfo(s.id, clean(s.name), s.kind) for s in b.model.steps if s.id not in old_steps
    )
    removed = tuple(
        StepInfo(s.id, clean(s.name), s.kind) for s in a.model.steps if s.id not in new_steps
    )
    changed = []
    for step in b.model.steps:
        if step.id in old_steps:
            diffs = _diff(step_values(old_steps[step.id]), step_values(step), STEP_FIELDS)
            if diffs:
                changed.append(StepChange(step.id, clean(step.name), step.kind, tuple(diffs)))
    old_values, new_values = model_values(a.model), model_values(b.model)
    model_changes = tuple(_diff(old_values, new_values, dict.fromkeys([*old_values, *new_values])))
    ma, mb = a.metrics, b.metrics
    metrics = tuple(
        make_delta(
            k,
            metric_label(k),
            ma.get(k),
            mb.get(k),
            lower_better=None if k in NEUTRAL else k in LOWER_IS_BETTER,
        )
        for k in METRIC_ORDER
        if k in ma or k in mb
    )
    scores = tuple(
        make_delta(
            block,
            BLOCK_NAMES[block],
            a.scores.overall.of(block),
            b.scores.overall.of(block),
            lower_better=False,
        )
        for block in BLOCKS
    )
    old_step_scores = {s.id: s for s in a.scores.steps}
    step_scores = tuple(
        StepScoreChange(
            s.id,
            clean(s.name),
            tuple(
                make_delta(
                    block,
                    BLOCK_NAMES[block],
                    old_step_scores[s.id].scores.of(block),
                    s.scores.of(block),
                    lower_better=False,
                )
                for block in BLOCKS
            ),
        )
        for s in b.scores.steps
        if s.id in old_step_scores
    )
    return Comparison(
        old=_info(a),
        new=_info(b),
        steps_added=added,
        steps_removed=removed,
        steps_changed=tuple(changed),
        model_changes=model_changes,
        metrics=metrics,
        scores=scores,
        step_scores=step_scores,
        findings=match_findings(a.result.findings, b.result.findings),
        notes=tuple(notes),
    )


def _info(side: Assessed) -> ModelInfo:
    return ModelInfo(
        side.result.path or side.model.path,
        side.model.council,
        side.model.title,
        side.model.as_of.isoformat(),
    )


def compare_files(
    old_path: str, new_path: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[Comparison, Assessed]:
    """Load, order by ``as_of`` (older first), check, score and compare two model files.

    Returns the comparison and the newer model's assessment (for its map).
    """
    old, new = load_models((old_path, new_path), max_bytes=max_bytes)
    notes: list[str] = []
    if old.as_of > new.as_of:
        old, new = new, old
        notes.append(
            f"The models were given newest first; they are compared oldest first, "
            f"by the date each describes ({old.as_of} then {new.as_of})."
        )
    if old.council != new.council:
        notes.append(
            f"The two models name different councils ({clean(old.council)} and "
            f"{clean(new.council)})."
        )
    catalogue = load_catalogue()
    b = assess(new, catalogue)
    return compare_models(old, b, catalogue=catalogue, notes=notes), b


# --------------------------------------------------------------------------- words


ARROWS = {
    "better": "better",
    "worse": "worse",
    "same": "no change",
    "changed": "changed",
    "not comparable": "not comparable",
}


def number_words(value: Any, key: str = "") -> str:
    """A metric value for people (shares as percentages, missing as 'not known')."""
    if value is None:
        return "not known"
    if key.startswith("share"):
        return f"{tidy(value * 100, 4)}%"
    return str(tidy(value, 4)) if isinstance(value, (int, float)) else str(value)


def delta_words(delta: Delta) -> str:
    """``'2 to 1 (down 1, better)'``: the change in words, with an arrow where it moved.

    The arrow shows the direction of the number; the word says whether that is good,
    so neither colour nor the arrow alone carries the meaning.
    """
    old, new = number_words(delta.old, delta.key), number_words(delta.new, delta.key)
    if delta.delta is None:
        return f"{old} to {new} (not comparable)"
    if delta.delta == 0:
        return f"{old} (no change)"
    size = number_words(abs(delta.delta), delta.key)
    arrow, way = ("▲", "up") if delta.delta > 0 else ("▼", "down")
    verdict = "" if delta.direction == "changed" else f", {delta.direction}"
    return f"{old} to {new} ({arrow} {way} {size}{verdict})"


def _value_words(value: Any) -> str:
    if value is None or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value_words(v) for v in value)
    if isinstance(value, dict):
        if "to" in value and "rework" in value:
            extra = [
                w
                for w in (
                    "sent back" if value.get("rework") else None,
                    f"when {clean(value['when'])}" if value.get("when") else None,
                    f"{tidy(value['share'] * 100, 4)}%" if value.get("share") is not None else None,
                )
                if w
            ]
            return value["to"] + (f" ({', '.join(extra)})" if extra else "")
        return ", ".join(f"{k} {_value_words(v)}" for k, v in value.items() if v is not None)
    return clean(str(tidy(value, 4) if isinstance(value, float) else value))


def change_words(change: FieldChange) -> str:
    """One field change in words: lists say what was added and removed."""
    old, new = change.old, change.new
    if old is None and new is not None:
        return f"{change.name}: added ({_value_words(new)})"
    if new is None and old is not None:
        return f"{change.name}: removed (was {_value_words(old)})"
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and all(isinstance(v, str) for v in [*old, *new])
    ):
        gained = [v for v in new if v not in old]
        lost = [v for v in old if v not in new]
        parts = []
        if gained:
            parts.append("added " + ", ".join(clean(v) for v in gained))
        if lost:
            parts.append("removed " + ", ".join(clean(v) for v in lost))
        if not parts:
            parts.append("reordered")
        return f"{change.name}: {'; '.join(parts)}"
    return f"{change.name}: {_value_words(old)} to {_value_words(new)}"


def finding_words(finding: Finding) -> str:
    """A finding on one line: rule, message, steps, and whether it is accepted."""
    where = f" [{', '.join(finding.steps)}]" if finding.steps else ""
    accepted = " (accepted by a waiver)" if finding.waived else ""
    return f"{finding.rule} {finding.severity}: {clean(finding.message)}{where}{accepted}"


def match_note(match: FindingMatch) -> str:
    """What moved in a persisting finding matched loosely ('' for an exact match)."""
    if match.how == "rule and subject":
        return f"was at {', '.join(match.old.steps) or 'the whole process'}"
    if match.how == "rule and steps":
        return f"was: {clean(match.old.message)}"
    return ""


def summary_lines(c: Comparison) -> list[str]:
    """The stock-take in a few sentences."""
    f = c.findings
    lines = [
        f"{plural(len(c.steps_added), 'step')} added, "
        f"{len(c.steps_removed)} removed, {len(c.steps_changed)} changed.",
        f"Findings: {len(f.resolved)} resolved, {len(f.new)} new, {len(f.persisting)} persisting.",
    ]
    for key in ("approvals_max", "handoffs_max", "forms_max", "expected_days_to_support"):
        try:
            delta = c.metric(key)
        except KeyError:
            continue
        lines.append(f"{delta.label}: {delta_words(delta)}.")
    lines.append("Scores: " + "; ".join(f"{d.label} {delta_words(d)}" for d in c.scores) + ".")
    return lines


@dataclass(frozen=True)
class Framing:
    """How a comparison page presents itself: a stock-take (old and new) or a
    what-if (as is and to be, with the patch's changes)."""

    heading: str | None = None
    old_label: str = "Old"
    new_label: str = "New"
    patch_title: str = ""
    patch_changes: tuple[str, ...] = ()


def comparison_text(c: Comparison, framing: Framing | None = None) -> str:
    """``compare --format text``: plain lines a person can read in a terminal."""
    framing = framing or Framing()
    out = [
        framing.heading or f"Stock-take: {clean(c.new.council)}",
        f"{framing.old_label}: {c.old.path} (as of {c.old.as_of})",
        f"{framing.new_label}: {c.new.path} (as of {c.new.as_of})",
    ]
    out += [f"Note: {n}" for n in c.notes]
    out += ["", "Summary"] + [f"  {line}" for line in summary_lines(c)]
    out += ["", "Steps"]
    out += [f"  added: {s.id} ({s.name}, {s.kind})" for s in c.steps_added]
    out += [f"  removed: {s.id} ({s.name}, {s.kind})" for s in c.steps_removed]
    for s in c.steps_changed:
        out.append(f"  changed: {s.id} ({s.name})")
        out += [f"    {change_words(ch)}" for ch in s.changes]
    if not (c.steps_added or c.steps_removed or c.steps_changed):
        out.append("  no step changed")
    if c.model_changes:
        out += ["", "Council-wide settings"] + [f"  {change_words(ch)}" for ch in c.model_changes]
    out += ["", "Measures"] + [f"  {d.label}: {delta_words(d)}" for d in c.metrics]
    out += ["", "Scores (out of 100; higher is better)"]
    out += [f"  {d.label}: {delta_words(d)}" for d in c.scores]
    for moved in (s for s in c.step_scores if s.changed):
        words = "; ".join(
            f"{d.label} {delta_words(d)}" for d in moved.deltas if d.direction != "same"
        )
        out.append(f"  step {moved.id}: {words}")
    f = c.findings
    out += ["", f"Findings resolved ({len(f.resolved)})"] + [
        f"  {finding_words(x)}" for x in f.resolved
    ]
    out += ["", f"Findings new ({len(f.new)})"] + [f"  {finding_words(x)}" for x in f.new]
    out += ["", f"Findings persisting ({len(f.persisting)})"] + [
        f"  {finding_words(m.new)}" + (f" ({match_note(m)})" if match_note(m) else "")
        for m in f.persisting
    ]
    return "\n".join(out) + "\n"


def comparison_json(c: Comparison) -> str:
    """``compare --format json``: ``json.dumps`` of :meth:`Comparison.as_dict`."""
    return json.dumps(c.as_dict(), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- the map


def mark_steps(
    graph: graphviz.Digraph, model: Model, marks: Mapping[str, str], since: str = "the old model"
) -> None:
    """Mark steps on a map built by :func:`sdsaudit.render.map.build_map`.

    ``marks`` maps step ids to a word (``Changed``, ``New``). The word goes above
    the step's name in bold and the outline is drawn thick, so the mark never
    relies on colour; a key entry explains it. Works by restating the node, which
    DOT allows: a later statement updates the attributes of a node already drawn.
    """
    used = False
    for step in model.steps:
        word = marks.get(step.id)
        if not word:
            continue
        used = True
        lines = _wrap_words(step.name, 26)
        body = "<BR/>".join(esc(line) for line in lines)
        graph.node(step.id, label=f"<<B>{esc(word.upper())}</B><BR/>{body}>", penwidth="4")
    if used:
        words = sorted(set(marks.values()))
        with graph.subgraph(name="cluster_legend") as key:
            key.node(
                "__key_marked",
                label=f"<<B>{esc(' / '.join(w.upper() for w in words))}</B><BR/>"
                f"{esc(f'Thick outline: step new or changed since {since}')}>",
                shape="box",
                style="rounded",
                penwidth="4",
            )


def _wrap_words(text: str, width: int) -> list[str]:
    words, lines, line = clean(text).split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines or [""]


def changed_marks(c: Comparison) -> dict[str, str]:
    """The word each step of the new model gets on the stock-take map."""
    marks = {s.id: "New" for s in c.steps_added}
    marks.update({s.id: "Changed" for s in c.steps_changed})
    return marks


def comparison_map(
    c: Comparison,
    new: Model,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    since: str = "the old model",
) -> str:
    """The new model's map (no problem numbers) with new and changed steps marked, as
    accessible SVG. Raises :class:`~sdsaudit.render.map.MapUnavailable`."""
    graph = build_map(new, None, "plain")
    marks = changed_marks(c)
    mark_steps(graph, new, marks, since)
    title = f"Process map of {clean(new.council)} as of {new.as_of}, changes marked"
    description = map_description(new, None, "plain")
    if marks:
        description += (
            f" {plural(len(marks), 'step')} marked NEW or CHANGED in bold with a thick outline."
        )
    data = render_map(
        graph, "svg", timeout=timeout, max_nodes=max_nodes, title=title, description=description
    )
    return data.decode("utf-8")


# --------------------------------------------------------------------------- HTML and Markdown


@dataclass(frozen=True)
class Row:
    """One row of a table: a header cell and the other cells, already in words."""

    head: str
    cells: tuple[str, ...]
    css: str = ""


@dataclass(frozen=True)
class FindingRow:
    rule: str
    severity: str
    message: str
    steps: str
    note: str


@dataclass(frozen=True)
class StepChangeView:
    id: str
    name: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class OutlineItem:
    name: str
    mark: str
    lane: str


@dataclass(frozen=True)
class CompareView:
    """Everything the comparison templates show, in words."""

    heading: str
    council: str
    old: ModelInfo
    new: ModelInfo
    version: str
    notes: tuple[str, ...]
    summary: tuple[str, ...]
    added: tuple[StepInfo, ...]
    removed: tuple[StepInfo, ...]
    changed: tuple[StepChangeView, ...]
    settings: tuple[str, ...]
    metrics: tuple[Row, ...]
    scores: tuple[Row, ...]
    step_scores: tuple[Row, ...]
    resolved: tuple[FindingRow, ...]
    new_findings: tuple[FindingRow, ...]
    persisting: tuple[FindingRow, ...]
    map_drawn: bool
    map_note: str | None
    marked: tuple[OutlineItem, ...]
    old_label: str = "Old"
    new_label: str = "New"
    patch_title: str = ""
    patch_changes: tuple[str, ...] = ()


def _finding_row(f: Finding, note: str = "") -> FindingRow:
    accepted = "accepted by a waiver" if f.waived else ""
    return FindingRow(
        f.rule,
        f.severity,
        clean(f.message),
        ", ".join(f.steps) or "whole process",
        "; ".join(x for x in (note, accepted) if x),
    )


def _delta_row(d: Delta) -> Row:
    return Row(
        d.label,
        (number_words(d.old, d.key), number_words(d.new, d.key), delta_words(d)),
        d.direction.replace(" ", "-"),
    )


def build_compare_view(
    c: Comparison,
    new: Model | None = None,
    *,
    map_drawn: bool = False,
    map_note: str | None = None,
    framing: Framing | None = None,
) -> CompareView:
    """The view-model of the comparison pages (``templates/compare.*.j2``)."""
    framing = framing or Framing()
    marks = changed_marks(c)
    marked: list[OutlineItem] = []
    if new is not None:
        for lane in map_outline(new, None, "plain"):
            for step in lane.steps:
                if step.id in marks:
                    marked.append(OutlineItem(step.name, marks[step.id], lane.name))
    return CompareView(
        heading=framing.heading or f"{clean(c.new.council)}: stock-take of the process",
        council=clean(c.new.council),
        old=c.old,
        new=c.new,
        version=__version__,
        notes=c.notes,
        summary=tuple(summary_lines(c)),
        added=c.steps_added,
        removed=c.steps_removed,
        changed=tuple(
            StepChangeView(s.id, s.name, tuple(change_words(ch) for ch in s.changes))
            for s in c.steps_changed
        ),
        settings=tuple(change_words(ch) for ch in c.model_changes),
        metrics=tuple(_delta_row(d) for d in c.metrics),
        scores=tuple(_delta_row(d) for d in c.scores),
        step_scores=tuple(
            Row(f"{s.name} ({s.id})", tuple(delta_words(d) for d in s.deltas))
            for s in c.step_scores
            if s.changed
        ),
        resolved=tuple(_finding_row(f) for f in c.findings.resolved),
        new_findings=tuple(_finding_row(f) for f in c.findings.new),
        persisting=tuple(_finding_row(m.new, match_note(m)) for m in c.findings.persisting),
        map_drawn=map_drawn,
        map_note=map_note,
        marked=tuple(marked),
        old_label=framing.old_label,
        new_label=framing.new_label,
        patch_title=clean(framing.patch_title),
        patch_changes=framing.patch_changes,
    )


@dataclass(frozen=True)
class ComparisonFiles:
    """The text of each comparison output (``svg`` is ``None`` when no map could be drawn)."""

    text: str
    json: str
    markdown: str
    html: str
    svg: str | None

    def by_name(self, stem: str = "compare") -> dict[str, str]:
        """File name to content, as written into an output folder."""
        files = {
            f"{stem}.txt": self.text,
            f"{stem}.json": self.json,
            f"{stem}.md": self.markdown,
            f"{stem}.html": self.html,
        }
        if self.svg is not None:
            files["map.svg"] = self.svg
        return files


def render_comparison(
    c: Comparison,
    new: Model,
    *,
    draw_map: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    framing: Framing | None = None,
) -> ComparisonFiles:
    """Render the comparison in every format (in memory; nothing is written)."""
    svg, note = None, None
    since = f"the {(framing or Framing()).old_label.lower()} model"
    if draw_map:
        try:
            svg = comparison_map(c, new, timeout=timeout, max_nodes=max_nodes, since=since)
        except MapUnavailable as exc:
            note = exc.reason
    view = build_compare_view(c, new, map_drawn=svg is not None, map_note=note, framing=framing)
    inline = None
    if svg is not None:
        inline = Markup(svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1))
    return ComparisonFiles(
        text=comparison_text(c, framing),
        json=comparison_json(c),
        markdown=render("compare.md.j2", view=view),
        html=render("compare.html.j2", view=view, inline_svg=inline),
        svg=svg,
    )


FORMATS = {"text": "text", "json": "json", "markdown": "markdown", "html": "html"}


def write_outputs(
    files: Mapping[str, str],
    out_dir: str | Path,
    *,
    force: bool = False,
    stale: Sequence[str] = (),
) -> list[Path]:
    """Write ``files`` (name to content) into ``out_dir``; refuses, before writing anything,
    when any of them exists, unless ``force``. Files named in ``stale`` but not in
    ``files`` are deleted, so no stale output sits beside pages that say it is missing."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"{folder} is a file, not a folder: give a folder for the output", file=str(folder)
        )
    everything: dict[str, str | None] = {name: files[name] for name in sorted(files)}
    everything.update({name: None for name in stale if name not in files})
    return write_set(folder, everything, force=force)


def compare_paths(
    old_path: str,
    new_path: str,
    *,
    out_dir: str | None = None,
    fmt: str = "text",
    force: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[str | None, list[Path]]:
    """``sdsaudit compare``: the chosen format as text, or every file written to ``out_dir``.

    Returns ``(text, [])`` without ``out_dir`` and ``(None, paths written)`` with it.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}': choose text, json, markdown or html")
    if out_dir is not None:
        # refuse before the (slower) work, so a refusal costs nothing
        refuse_existing(
            [
                Path(out_dir) / n
                for n in ("compare.txt", "compare.json", "compare.md", "compare.html", "map.svg")
            ],
            force,
        )
    comparison, new = compare_files(old_path, new_path, max_bytes=max_bytes)
    if out_dir is None and fmt in ("text", "json"):
        return (comparison_text(comparison) if fmt == "text" else comparison_json(comparison)), []
    files = render_comparison(comparison, new.model, draw_map=out_dir is not None or fmt == "html")
    if out_dir is None:
        return {"markdown": files.markdown, "html": files.html}[fmt], []
    return None, write_outputs(files.by_name(), out_dir, force=force, stale=("map.svg",))


# --------------------------------------------------------------------------- check --baseline


BASELINE_FINDING = D.Open(
    name="finding",
    keys={
        "rule": S.Key(S.Text(), required=True),
        "steps": S.Key(S.ListOf(item=S.Text()), default=()),
        "subject": S.Key(D.Nullable(spec=S.ListOf(item=S.Text())), default=()),
    },
)
BASELINE = D.Open(
    name="the baseline (a report.json or 'check --format json' file)",
    description="what check --baseline reads; other keys are passed over",
    keys={
        "models": S.Key(
            S.ListOf(
                item=D.Open(
                    name="a model of the baseline",
                    keys={
                        "path": S.Key(D.Nullable(spec=S.Text())),
                        "council": S.Key(D.Nullable(spec=S.Text())),
                        "findings": S.Key(S.ListOf(item=BASELINE_FINDING), required=True),
                    },
                )
            ),
            required=True,
        )
    },
)


def read_baseline(path: str) -> list[D.Entry]:
    """The models of a ``report.json`` or ``check --format json`` file, checked for shape
    (with :data:`BASELINE`; keys it does not need are passed over).

    Raises :class:`~sdsaudit.errors.ModelError` with every problem: with line and column
    for bad JSON, else with the path to the value (such as ``models[0].findings``).
    """
    return list(D.load_json(path, BASELINE, what="the baseline")["models"])


def _baseline_finding(data: Mapping[str, Any]) -> Finding:
    """The parts of a baseline finding that matching uses (rule, steps, subject)."""
    return Finding(
        rule=data["rule"],
        slug="",
        severity="",
        blocks=(),
        steps=tuple(data["steps"]),
        message="",
        subject=tuple(data["subject"] or ()),
    )


def _baseline_for(
    result: CheckResult, models: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    for key in ("path", "council"):
        found = [m for m in models if m.get(key) == getattr(result, key)]
        if len(found) == 1:
            return found[0]
    return None


@dataclass(frozen=True)
class BaselineRun:
    """``check --baseline``: the results cut down to findings new since the baseline."""

    results: tuple[CheckResult, ...]
    known: int
    unmatched: tuple[str, ...]

    def summary(self, baseline: str) -> str:
        new = sum(1 for r in self.results for f in r.findings if f.counts)
        text = (
            f"sdsaudit: {plural(new, 'finding')} new since the baseline {baseline} "
            f"({self.known} already in it)"
        )
        if self.unmatched:
            text += (
                f"; no baseline for {', '.join(self.unmatched)}, so all of "
                f"{'its' if len(self.unmatched) == 1 else 'their'} findings count as new"
            )
        return text


def new_since_baseline(results: Sequence[CheckResult], baseline_path: str) -> BaselineRun:
    """Keep only the findings not in the baseline (matched as in :func:`match_findings`).

    Each result is paired with the baseline model of the same path, else of the same
    council (last year's file may have another name). Findings of a model with no
    baseline all count as new.
    """
    models = read_baseline(baseline_path)
    out: list[CheckResult] = []
    known = 0
    unmatched: list[str] = []
    for result in results:
        base = _baseline_for(result, models)
        if base is None:
            unmatched.append(result.path)
            out.append(result)
            continue
        changes = match_findings([_baseline_finding(f) for f in base["findings"]], result.findings)
        known += len(changes.persisting)
        out.append(replace(result, findings=changes.new))
    return BaselineRun(tuple(out), known, tuple(unmatched))
