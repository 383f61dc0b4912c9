"""The rule engine: run the selected rules on one model and gather what they find.

The engine, not the rule, stamps each finding's id, slug, severity and building
blocks from the catalogue, so a rule cannot mislabel itself. It also:

* turns a rule that crashes into a ``rule_error`` note (the run goes on; the
  exit code is non-zero) and a rule that lacks data into a ``not_assessable``
  note;
* locates each finding at its first step's line (or the line the rule gives);
* applies the model's waivers (waived findings stay in the result, with the
  reason, but do not count) and reports each waiver that matches nothing as a
  finding of ``WAIVER-01`` (stale-waiver);
* sorts the findings deterministically and fills in the metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from ..model.catalogue import Catalogue, RuleInfo, load_catalogue
from ..model.objects import Model, Waiver
from ..vocab import FAIL_ON
from .findings import (
    SEVERITIES,
    Assumption,
    CheckResult,
    Finding,
    Issue,
    NotAssessable,
    RuleNote,
)
from .graph import Context
from .rules import Rule
from .rules import registry as rule_registry

STALE_WAIVER = "WAIVER-01"
ENGINE_RULES = (STALE_WAIVER,)
"""Catalogue rules the engine itself applies (they need the other rules' findings)."""


def rule_options(info: RuleInfo, model: Model) -> dict[str, Any]:
    """A rule's options: the catalogue's defaults, overridden by the model's ``targets``
    (which hold the format's defaults when the model gives none; a test keeps the
    catalogue's copies of those equal to them)."""
    options = dict(info.options)
    for key in options:
        value = getattr(model.targets, key, None)
        if value is not None:
            options[key] = value
    return options


def check_model(
    model: Model,
    catalogue: Catalogue | None = None,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    use_waivers: bool = True,
    registry: Mapping[str, Rule] | None = None,
    context: Context | None = None,
) -> CheckResult:
    """Run the selected rules on ``model`` and return every finding, note and metric.

    ``select``/``ignore`` take ids, slugs, families and globs (an unknown one is a
    :class:`~sdsaudit.errors.UsageError`). With ``use_waivers=False`` no finding is
    waived. ``registry`` (id -> function) defaults to each catalogue rule's function
    (:func:`sdsaudit.rules.registry`);
    ``context`` lets a caller share one prepared :class:`~sdsaudit.analysis.graph.Context`.
    """
    catalogue = catalogue or load_catalogue()
    registry = rule_registry(catalogue.rules) if registry is None else registry
    chosen = catalogue.select(list(select or []), list(ignore or []))
    ctx = context or Context(model)
    run = run_rules(
        [info for info in chosen if info.id not in ENGINE_RULES],
        registry,
        lambda function, info: function(ctx, rule_options(info, model)),
        ctx,
    )
    findings, notes, assessed = run.findings, run.notes, run.assessed

    # waivers are matched even when switched off, so stale ones are still reported
    waived, unused = apply_waivers(findings, model.waivers)
    findings = waived if use_waivers else findings
    stale_rule = next((r for r in chosen if r.id == STALE_WAIVER), None)
    if stale_rule is not None:
        stale = [_finding(stale_rule, _stale_issue(w), ctx) for w in unused if w.rule in assessed]
        own = [w for w in model.waivers if w.rule == STALE_WAIVER]
        waived_stale, unused_own = apply_waivers(stale, own)
        stale = waived_stale if use_waivers else stale
        stale += [_finding(stale_rule, _stale_issue(w), ctx) for w in unused_own]
        findings += stale

    order = {r.id: n for n, r in enumerate(catalogue.rules)}
    findings.sort(
        key=lambda f: (
            f.line or 0,
            order.get(f.rule, len(order)),
            f.rule,
            [ctx.position.get(s, -1) for s in f.steps],
            f.subject,
            f.message,
        )
    )
    notes.sort(key=lambda n: (order.get(n.rule, len(order)), n.kind, n.message))
    return CheckResult(
        path=model.path,
        council=model.council,
        title=model.title,
        as_of=model.as_of.isoformat(),
        findings=tuple(findings),
        metrics=ctx.metrics,
        notes=tuple(notes),
    )


@dataclass
class RuleRun:
    """What running a set of rules gave: findings stamped from the catalogue, notes
    (``rule_error``, ``not_assessable``), the rules assessed, and each rule's other
    results (what a rule yields besides issues, such as a GAP rule's ``Beside``)."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[RuleNote] = field(default_factory=list)
    assessed: set[str] = field(default_factory=set)
    others: dict[str, list[object]] = field(default_factory=dict)


def run_rules(
    rules: Iterable[RuleInfo],
    registry: Mapping[str, Any],
    call: Callable[[Any, RuleInfo], Iterable[object]],
    ctx: Context,
) -> RuleRun:
    """Run each rule of ``rules`` through ``call(function, info)``: the one loop every
    family of rules (core and GAP) goes through. A rule without code or one that
    crashes becomes a ``rule_error`` note and the others still run; a rule that lacks
    data becomes a ``not_assessable`` note; issues are stamped by :func:`_finding`."""
    run = RuleRun()
    for info in rules:
        function = registry.get(info.id)
        if function is None:
            run.notes.append(
                RuleNote(info.id, "rule_error", "this rule has no code in this version")
            )
            continue
        try:
            results = list(call(function, info))
        except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the others
            message = f"the rule failed: {type(exc).__name__}: {exc}"
            run.notes.append(RuleNote(info.id, "rule_error", message))
            continue
        reasons = [r.reason for r in results if isinstance(r, NotAssessable)]
        if reasons:
            note = "; ".join(dict.fromkeys(reasons))
            run.notes.append(RuleNote(info.id, "not_assessable", note))
        else:
            run.assessed.add(info.id)
        run.findings.extend(_finding(info, r, ctx) for r in results if isinstance(r, Issue))
        run.others[info.id] = [r for r in results if not isinstance(r, (Issue, NotAssessable))]
    return run


def apply_waivers(
    findings: Iterable[Finding], waivers: Sequence[Waiver]
) -> tuple[list[Finding], list[Waiver]]:
    """Mark each finding matched by a waiver (its rule, and its step where the waiver names
    one) as waived with the first matching waiver's reason. Returns the findings and the
    waivers that matched nothing, in the model's order."""
    used: set[int] = set()
    out: list[Finding] = []
    for finding in findings:
        match = None
        for n, waiver in enumerate(waivers):
            step_matches = waiver.step is None or waiver.step in finding.steps
            if waiver.rule == finding.rule and step_matches:
                used.add(n)
                match = match or waiver
        out.append(replace(finding, waived=True, waiver_reason=match.reason) if match else finding)
    return out, [w for n, w in enumerate(waivers) if n not in used]


def _stale_issue(waiver: Waiver) -> Issue:
    where = f" at {waiver.step!r}".replace("'", '"') if waiver.step else ""
    return Issue(
        steps=(waiver.step,) if waiver.step else (),
        message=f"the waiver of {waiver.rule}{where} matches no finding: remove it, or correct "
        "its rule or step",
        subject=(waiver.rule,) + ((waiver.step,) if waiver.step else ()),
        line=waiver.pos.line or None,
    )


def _finding(info: RuleInfo, issue: Issue, ctx: Context) -> Finding:
    """Stamp the catalogue's id, slug, severity and blocks onto what a rule reported."""
    line = issue.line
    if line is None:
        for sid in issue.steps:
            step = ctx.steps.get(sid)
            if step is not None and step.pos.line:
                line = step.pos.line
                break
    if line is None and ctx.model.pos.line:
        line = ctx.model.pos.line
    return Finding(
        rule=info.id,
        slug=info.slug,
        severity=info.severity,
        blocks=info.blocks,
        steps=tuple(issue.steps),
        message=issue.message,
        path=ctx.model.path,
        line=line,
        subject=tuple(issue.subject),
        assumptions=assumptions(issue, ctx),
    )


UNREAD = ("name", "note", "days")
"""Step fields an assumption of which does not touch a finding about the step itself
(``days`` counts only toward the times, through ``Issue.timed``)."""


def assumptions(issue: Issue, ctx: Context) -> tuple[Assumption, ...]:
    """What the issue rests on that the model marks ``assumed``: the assumed fields of
    the steps it names (but ``name`` and ``note``, which no rule reads, and ``days``,
    which only a time finding reads), the assumed ``days`` of the steps its figure
    counts (a time finding), and the assumed top-level keys it rests on
    (``policies.review`` is assumed when it or the whole of ``policies`` is)."""
    out: list[Assumption] = []
    for sid in issue.steps:
        step = ctx.steps.get(sid)
        fields = tuple(f for f in step.assumed if f not in UNREAD) if step else ()
        if fields:
            out.append(Assumption(fields, sid))
    for sid in ctx.ordered(s for s in issue.timed if s not in issue.steps and s in ctx.steps):
        if "days" in ctx.steps[sid].assumed:
            out.append(Assumption(("days",), sid))
    marked = set(ctx.model.assumed)
    for key in issue.rests_on:
        if key in marked or key.split(".")[0] in marked:
            out.append(Assumption((key,)))
    return tuple(out)


class RuleResults(Protocol):
    """What :func:`exit_code` reads: a check's or a gap check's findings and rule errors."""

    @property
    def findings(self) -> Sequence[Finding]: ...

    @property
    def rule_errors(self) -> Sequence[RuleNote]: ...


def exit_code(results: Iterable[RuleResults], fail_on: str = "error") -> int:
    """0 clean, 1 when an unwaived finding is at or above ``fail_on``, 2 when a rule failed.

    ``fail_on`` is ``error``, ``warning``, ``info`` or ``never``.
    """
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    results = list(results)
    if any(r.rule_errors for r in results):
        return EXIT_ERROR
    if fail_on == "never":
        return EXIT_OK
    threshold = SEVERITIES.index(fail_on)
    for result in results:
        for finding in result.findings:
            if finding.counts and SEVERITIES.index(finding.severity) >= threshold:
                return EXIT_FINDINGS
    return EXIT_OK
