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

Format 1.1 models compare too. A step's changes include its branches and join (a
``parallel`` step), the steps it now runs alongside, ``days: unknown``, its sources and
what is assumed; a restriction is a plain string unless set by law (or given a
reference). ``start`` is a step id or, with groups of people, each group's ``{when, to,
share}``. A time resting on unknown days is compared by its lower bound
(:func:`make_delta`): better or worse only when that holds whatever the unknown days
are. Groups in both models (matched by ``when``) have their own deltas (:class:`Groups`).
A score's best case rides beside it. None of this adds anything to a version-1 pair's
output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..analysis.findings import BLOCKS, CheckResult, Finding
from ..analysis.graph import Context, entry_shares
from ..audit import Audit, prepare
from ..model.catalogue import Catalogue, load_catalogue
from ..model.loader import load_models
from ..model.objects import Model, Step, Text
from ..model.source import DEFAULT_MAX_BYTES
from ..render.present import BLOCK_NAMES, METRIC_LABELS, clean
from ..scoring.scores import ScoreReport
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
    "branches",
    "join",
    "alongside",
    "sources",
    "assumed",
)
"""The fields of a step a comparison shows, in order. ``alongside`` is worked out, not
written: the steps of the other branches of every parallel block the step is in (the
steps it runs at the same time as)."""

GROUP_KEYS = tuple(
    k for k in METRIC_ORDER if k not in ("steps", "approval_steps", "handoff_arrows", "forms_total")
)
"""The measures a start group has of its own (``metrics["groups"]``), in the order shown."""

BOUNDED = ("expected_days_to_support", "worst_days_to_support")
"""The measures that are a lower bound (``KEY_at_least``) when an unknown time lies on the
way to support."""


def metric_label(key: str) -> str:
    """The plain-English name of a metric."""
    return METRIC_LABELS.get(key) or EXTRA_LABELS.get(key) or key.replace("_", " ")


def extra_metrics(model: Model, ctx: Context) -> dict[str, int]:
    """Counts over the whole model that a stock-take also tracks. An arrow into a parallel
    step passes the case to the first step of each branch, so counts once for each."""
    arrows = sum(
        1
        for s in model.steps
        for t in s.next
        if t.to in model.step_by_id
        for w in ctx.entered(t.to)
        if ctx.is_handoff(s.id, w)
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
    ``changed`` (for neutral measures) or ``not comparable`` (a value is missing, or rests
    on an unknown time and the bounds do not tell).

    Where a time rests on steps whose days nobody knows (format 1.1), ``old`` or ``new``
    is ``None`` and ``old_at_least`` or ``new_at_least`` holds the lower bound (unknown
    days counted as 0), with the steps in ``old_unknown`` or ``new_unknown``. A direction
    is then claimed only when it holds whatever the unknown days are (the bound alone is
    past the other figure): ``delta`` stays ``None`` and ``moved_at_least`` is the least
    the figure moved (negative: down). ``old_best`` and ``new_best`` are a score's best
    case (policies left out at their best, unknown days 0) where it differs from the
    score, which counts them at their worst."""

    key: str
    label: str
    old: int | float | None
    new: int | float | None
    delta: int | float | None
    direction: str
    old_at_least: int | float | None = None
    new_at_least: int | float | None = None
    old_unknown: tuple[str, ...] = ()
    new_unknown: tuple[str, ...] = ()
    moved_at_least: int | float | None = None
    old_best: int | float | None = None
    new_best: int | float | None = None

    @property
    def bounded(self) -> bool:
        """Whether a side is only a lower bound (rests on unknown days)."""
        return self.old_at_least is not None or self.new_at_least is not None

    @property
    def has_best(self) -> bool:
        """Whether a side is a score with a best case above it."""
        return self.old_best is not None or self.new_best is not None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "old": self.old,
            "new": self.new,
            "delta": self.delta,
            "direction": self.direction,
        }
        # the 1.1 keys only where they say something, so version-1 output is unchanged
        if self.bounded:
            out.update(
                old_at_least=self.old_at_least,
                new_at_least=self.new_at_least,
                old_days_unknown=list(self.old_unknown),
                new_days_unknown=list(self.new_unknown),
                moved_at_least=self.moved_at_least,
            )
        if self.has_best:
            out.update(old_best=self.old_best, new_best=self.new_best)
        return out


def make_delta(
    key: str,
    label: str,
    old: Any,
    new: Any,
    *,
    lower_better: bool | None,
    old_at_least: Any = None,
    new_at_least: Any = None,
    old_unknown: Sequence[str] = (),
    new_unknown: Sequence[str] = (),
    old_best: Any = None,
    new_best: Any = None,
) -> Delta:
    """A :class:`Delta`; ``lower_better`` is ``None`` for a neutral measure.

    ``old_at_least``/``new_at_least`` are lower bounds standing in for a ``None`` figure
    (a time resting on unknown days): the direction is claimed only when the bound is
    strictly past the other side's exact figure, so no improvement or worsening ever
    rests on an unknown; two bounds are never comparable. ``old_best``/``new_best`` are
    carried for the words (a score's best case); the direction is the scores'.
    """
    extra: dict[str, Any] = {
        "old_at_least": None if old is not None else old_at_least,
        "new_at_least": None if new is not None else new_at_least,
        "old_unknown": tuple(old_unknown) if old is None and old_at_least is not None else (),
        "new_unknown": tuple(new_unknown) if new is None and new_at_least is not None else (),
        "old_best": old_best,
        "new_best": new_best,
    }
    if old is not None and new is not None:
        change = tidy(new - old, 4)
        if change == 0:
            direction = "same"
        elif lower_better is None:
            direction = "changed"
        else:
            direction = "better" if (change < 0) == lower_better else "worse"
        return Delta(key, label, old, new, change, direction, **extra)
    low_old, low_new = extra["old_at_least"], extra["new_at_least"]
    moved = None
    if old is not None and low_new is not None and low_new > old:
        moved = tidy(low_new - old, 4)  # the new figure is at least this much higher
    elif new is not None and low_old is not None and low_old > new:
        moved = tidy(new - low_old, 4)  # the old figure was at least this much higher
    if moved is None:
        return Delta(key, label, old, new, None, "not comparable", **extra)
    if lower_better is None:
        direction = "changed"
    else:
        direction = "better" if (moved < 0) == lower_better else "worse"
    return Delta(key, label, old, new, None, direction, moved_at_least=moved, **extra)


def metric_delta(key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Delta:
    """The :class:`Delta` of one measure between two sets of metrics (a check's, or one
    start group's), with the lower bounds where a time rests on unknown days."""
    return make_delta(
        key,
        metric_label(key),
        old.get(key),
        new.get(key),
        lower_better=None if key in NEUTRAL else key in LOWER_IS_BETTER,
        old_at_least=old.get(f"{key}_at_least") if key in BOUNDED else None,
        new_at_least=new.get(f"{key}_at_least") if key in BOUNDED else None,
        old_unknown=old.get("days_unknown") or (),
        new_unknown=new.get("days_unknown") or (),
    )


@dataclass(frozen=True)
class GroupChange:
    """The measures of one start group (matched by its ``when``) in both models."""

    when: str
    old_start: str
    new_start: str
    old_share: float | None
    new_share: float | None
    deltas: tuple[Delta, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "when": self.when,
            "old": {"start": self.old_start, "share": self.old_share},
            "new": {"start": self.new_start, "share": self.new_share},
            "metrics": [d.as_dict() for d in self.deltas],
        }


@dataclass(frozen=True)
class Groups:
    """The start groups of both models (format 1.1 ``start`` as a list): how many each
    has, the groups in both (with their measures' deltas) and those in one only."""

    old_count: int
    new_count: int
    both: tuple[GroupChange, ...]
    old_only: tuple[str, ...]
    new_only: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_groups": self.old_count,
            "new_groups": self.new_count,
            "in_both": [g.as_dict() for g in self.both],
            "only_old": list(self.old_only),
            "only_new": list(self.new_only),
        }


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
    groups: Groups | None = None
    """The start groups, when either model has them (``None`` otherwise)."""

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
        """The JSON form (``compare --format json``); ``groups`` only when a model has
        start groups, so a version-1 pair's JSON is as it was."""
        out = {
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
        if self.groups is not None:
            out["groups"] = self.groups.as_dict()
        return out


# --------------------------------------------------------------------------- building it


def restriction_value(text: Text) -> str | dict[str, Any]:
    """A restriction as a plain JSON value: its words alone when it is the council's own
    choice (as version 1 writes it), else ``{text, basis, ref}``."""
    if text.basis == "council" and text.ref is None:
        return text.text
    return {"text": text.text, "basis": text.basis, "ref": text.ref}


def alongside(model: Model) -> dict[str, list[str]]:
    """Each step inside a parallel block, with the steps it runs at the same time as: those
    of the block's other branches (of every block it is in, nested blocks alike), in file
    order."""
    order = {s.id: n for n, s in enumerate(model.steps)}
    out: dict[str, set[str]] = {}
    for block in model.blocks:
        for n, branch in enumerate(block.branches):
            others = {s for m, b in enumerate(block.branches) if m != n for s in b}
            for step_id in branch:
                out.setdefault(step_id, set()).update(others)
    return {k: sorted(v, key=lambda x: order.get(x, len(order))) for k, v in out.items()}


def step_values(step: Step, model: Model | None = None) -> dict[str, Any]:
    """A step's fields as plain JSON values (what a comparison shows). ``days`` is the
    word ``unknown`` where nobody knows them; ``alongside`` needs the ``model``."""
    return {
        "name": step.name,
        "kind": step.kind,
        "actor": step.actor,
        "person": step.person,
        "days": "unknown" if step.days_unknown else tidy(step.days, 4),
        "forms": step.forms,
        "asks": list(step.asks),
        "tells": list(step.tells),
        "produces": list(step.produces),
        "approves": list(step.approves),
        "authority": step.authority,
        "restrictions": [restriction_value(r) for r in step.restrictions],
        "outcome": step.outcome,
        "note": step.note,
        "next": [
            {"to": t.to, "when": t.when, "share": t.share, "rework": t.rework} for t in step.next
        ],
        "branches": list(step.branches),
        "join": step.join,
        "alongside": [] if model is None else alongside(model).get(step.id, []),
        "sources": list(step.sources),
        "assumed": list(step.assumed),
    }


def start_value(model: Model) -> str | list[dict[str, Any]]:
    """How people start: the step id (one start, as version 1 writes it), or each group's
    ``{when, to, share}`` in file order, with the share worked out where it is not given."""
    if not model.grouped:
        return model.start
    return [
        {"when": entry.when, "to": entry.to, "share": tidy(float(share), 4)}
        for entry, share in entry_shares(model)
    ]


def model_values(model: Model) -> dict[str, Any]:
    """A model's council-wide settings as plain JSON values, one entry per setting. The
    format 1.1 settings (sources, assumed) appear only when a model has them."""
    p = model.policies
    out: dict[str, Any] = {
        "council": model.council,
        "title": model.title,
        "description": model.description,
        "start": start_value(model),
        "authorities (lowest first)": [a.id for a in model.authorities],
        **{f"authority {a.id}": {"name": a.name, "limit": a.limit} for a in model.authorities},
        **{f"actor {a.id}": {"name": a.name, "kind": a.kind} for a in model.actors.values()},
        "options": None if model.options is None else list(model.options),
        "policies.allowed_uses": None if p.allowed_uses is None else list(p.allowed_uses),
        "policies.restrictions": [restriction_value(r) for r in p.restrictions],
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
    for source in model.sources:
        out[f"source {source.id}"] = {
            "title": source.title,
            "published": None if source.published is None else source.published.isoformat(),
            "url": source.url,
            "note": source.note,
        }
    if model.assumed:
        out["assumed"] = list(model.assumed)
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
            diffs = _diff(
                step_values(old_steps[step.id], a.model), step_values(step, b.model), STEP_FIELDS
            )
            if diffs:
                changed.append(StepChange(step.id, clean(step.name), step.kind, tuple(diffs)))
    old_values, new_values = model_values(a.model), model_values(b.model)
    model_changes = tuple(_diff(old_values, new_values, dict.fromkeys([*old_values, *new_values])))
    ma, mb = a.metrics, b.metrics
    metrics = tuple(metric_delta(k, ma, mb) for k in METRIC_ORDER if k in ma or k in mb)
    scores = tuple(
        make_delta(
            block,
            BLOCK_NAMES[block],
            a.scores.overall.of(block),
            b.scores.overall.of(block),
            lower_better=False,
            old_best=best_case(a.scores, block),
            new_best=best_case(b.scores, block),
        )
        for block in BLOCKS
    )
    groups = compare_groups(a, b)
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
        notes=(*notes, *group_notes(groups)),
        groups=groups,
    )


def best_case(scores: ScoreReport, block: str) -> int | None:
    """A block's best-case score (left-out policies at their best, unknown days 0), or
    ``None`` where it is the score itself."""
    best = scores.overall_best.of(block)
    return None if best == scores.overall.of(block) else best


def _group_key(when: Any) -> str:
    return " ".join(str(when or "").split()).casefold()


def match_groups(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int]]:
    """Pairs ``(old index, new index)`` of the start groups that are the same group in both
    models: the same ``when`` exactly, then what is left by ``when`` with case and spacing
    aside, where that leaves no doubt (one group on each side). In the new model's order."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for n, g in enumerate(new):
        o = next((i for i, x in enumerate(old) if i not in taken and x["when"] == g["when"]), None)
        if o is not None:
            pairs[n] = o
            taken.add(o)
    old_left = Counter(_group_key(x["when"]) for i, x in enumerate(old) if i not in taken)
    new_left = Counter(_group_key(g["when"]) for n, g in enumerate(new) if n not in pairs)
    for n, g in enumerate(new):
        key = _group_key(g["when"])
        if n in pairs or old_left[key] != 1 or new_left[key] != 1:
            continue
        o = next(i for i, x in enumerate(old) if i not in taken and _group_key(x["when"]) == key)
        pairs[n] = o
        taken.add(o)
    return sorted(((o, n) for n, o in pairs.items()), key=lambda p: p[1])


def compare_groups(a: Assessed, b: Assessed) -> Groups | None:
    """The start groups of both sides (``None`` when neither has any): groups in both
    (see :func:`match_groups`), with the deltas of their own measures."""
    if not (a.model.grouped or b.model.grouped):
        return None
    old_groups = list(a.metrics.get("groups") or ()) if a.model.grouped else []
    new_groups = list(b.metrics.get("groups") or ()) if b.model.grouped else []
    pairs = match_groups(old_groups, new_groups)
    both = tuple(
        GroupChange(
            when=clean(new_groups[n]["when"]),
            old_start=old_groups[o]["start"],
            new_start=new_groups[n]["start"],
            old_share=old_groups[o].get("share"),
            new_share=new_groups[n].get("share"),
            deltas=tuple(
                metric_delta(k, old_groups[o], new_groups[n])
                for k in GROUP_KEYS
                if k in new_groups[n] or k in old_groups[o]
            ),
        )
        for o, n in pairs
    )
    matched_old = {o for o, _ in pairs}
    matched_new = {n for _, n in pairs}
    return Groups(
        old_count=len(a.model.entries) if a.model.grouped else 0,
        new_count=len(b.model.entries) if b.model.grouped else 0,
        both=both,
        old_only=tuple(clean(g["when"]) for i, g in enumerate(old_groups) if i not in matched_old),
        new_only=tuple(clean(g["when"]) for n, g in enumerate(new_groups) if n not in matched_new),
    )


def group_notes(groups: Groups | None) -> tuple[str, ...]:
    """What a reader needs to know about the measures when a model has start groups."""
    if groups is None:
        return ()
    if groups.old_count == groups.new_count:
        counts = f"both models have {plural(groups.new_count, 'start group')}"
    else:
        counts = " and ".join(
            f"the {side} model has {plural(count, 'start group')}"
            if count
            else f"the {side} model has one start for everyone"
            for side, count in (("old", groups.old_count), ("new", groups.new_count))
        )
    note = (
        f"People start in groups: {counts}. The measures compare everyone's figures, each "
        "group weighed by its share"
    )
    if groups.both:
        note += "; the measures of each group in both models are compared too"
    return (note + ".",)


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
