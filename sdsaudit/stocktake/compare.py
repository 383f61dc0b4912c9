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

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..analysis.findings import BLOCKS, CheckResult, Finding
from ..analysis.graph import Context
from ..audit import Audit, prepare
from ..model.catalogue import Catalogue, load_catalogue
from ..model.loader import load_models
from ..model.objects import Model, Step
from ..model.source import DEFAULT_MAX_BYTES
from ..render.present import BLOCK_NAMES, METRIC_LABELS, clean
from ..scoring.scores import ScoreReport
from ..version import __version__
from ..words import tidy

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


def extra_metrics(model: Model, ctx: Context) -> dict[str, int]:
    """Counts over the whole model that a stock-take also tracks."""
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
    """One side of a comparison: the model's prepared audit and its stock-take metrics
    (the check's metrics and the counts of :func:`extra_metrics`), worked out once."""

    audit: Audit
    metrics: Mapping[str, Any]

    @property
    def model(self) -> Model:
        return self.audit.model

    @property
    def result(self) -> CheckResult:
        return self.audit.result

    @property
    def scores(self) -> ScoreReport:
        return self.audit.scores


def assess(model: Model, catalogue: Catalogue | None = None) -> Assessed:
    """Check and score ``model`` with every rule (waivers honoured), once."""
    audit = prepare(model, catalogue)
    return Assessed(audit, {**audit.result.metrics, **extra_metrics(model, audit.context)})


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
