"""Rhetoric-reality gap rules (``GAP-nn``): the process on paper beside the process as lived.

A process model says what a council intends; survey answers say what people
experienced. Each gap rule is one small pure function taking the prepared
model (:class:`~sdsaudit.analysis.graph.Context`), the survey summary (small groups
already hidden) and the thresholds from ``criteria/gap.yaml``. It yields:

* one :class:`Beside` saying what the model claims (or that it makes no such
  claim) and which survey figure it is set against;
* a :class:`~sdsaudit.analysis.findings.NotAssessable` when that figure is hidden
  because too few people answered.

:func:`check_gaps` runs them, then decides: every rule whose claim the model makes and
whose figure is shown is one test (the score test of the figure against the threshold,
the test Wilson's interval inverts), the tests of one run are one family, and their
p-values are adjusted by Holm's method. A rule finds a gap (an
:class:`~sdsaudit.analysis.findings.Issue`) when its figure is on the wrong side of the
threshold and its adjusted p-value is below 0.05; with a single test this is exactly
"the whole 95% interval lies on the wrong side". The issues then go through the engine
again, which stamps each finding's id, slug, severity and blocks from
``criteria/gap.yaml`` (a rule cannot label itself), and the model's waivers apply.
Rule metadata is data; only the logic is here.

With a survey file that pools several councils, the figures are those of the model's
own council where the survey names it (:meth:`~.summary.SurveySummary.for_council`);
otherwise the pooled figures, and the result says which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from ..analysis.engine import apply_waivers, run_rules
from ..analysis.findings import Finding, Issue, NotAssessable, RuleNote
from ..analysis.graph import Context
from ..model.catalogue import Catalogue, RuleInfo, load_gap_rules, load_gap_thresholds
from ..model.objects import Model
from ..vocab import OPTIONS
from ..words import number, quoted
from .statistics import holm, score_test_p
from .summary import ALPHA, Estimate, SurveySummary, pct, pct_beside

STATUSES = ("gap", "unclear", "consistent", "no claim", "not assessable")
"""What a gap check can conclude, as reports show it."""

BASES = ("single", "council", "pooled")
"""Whose answers the gap checks use: the file's one council, the model's council out of
a pooled file, or everyone in a pooled file."""


@dataclass(frozen=True)
class Beside:
    """What a gap rule sets side by side: the model's claim and a survey figure.

    ``claim`` is ``None`` when the model makes no such claim. ``direction`` is
    ``min`` (the figure should be at least ``threshold``) or ``max`` (at most);
    ``what`` says what the figure counts ("knew their budget amount when planning").
    """

    claim: str | None
    steps: tuple[str, ...]
    indicator: str
    label: str
    estimate: Estimate
    threshold: float
    direction: str
    what: str = ""

    @property
    def tested(self) -> bool:
        """Whether this check is one of the run's tests: a claim and a shown figure."""
        return self.claim is not None and self.estimate.shown

    @property
    def p(self) -> float:
        """The score test's p-value of the figure against the threshold."""
        est = self.estimate
        assert est.count is not None and est.total is not None
        return score_test_p(est.count, est.total, self.threshold)

    @property
    def wrong_side(self) -> bool:
        """Whether the figure itself is on the wrong side of the threshold."""
        share = self.estimate.share
        assert share is not None
        return share < self.threshold if self.direction == "min" else share > self.threshold


Result = Beside | Issue | NotAssessable
GapRule = Callable[[Context, SurveySummary, Mapping[str, float]], Iterator[Result]]


# --------------------------------------------------------------------------- the rules


def budget_told_but_not_known(
    ctx: Context, survey: SurveySummary, thresholds: Mapping[str, float]
) -> Iterator[Result]:
    """GAP-01: the model tells an indicative or final budget before every planning step,
    yet few respondents knew their amount when planning."""
    planning = [p for p in ctx.of_kind("planning") if p in ctx.reachable]
    tellers = [
        s.id for s in ctx.model.steps if {"indicative_budget", "final_budget"} & set(s.tells)
    ]
    early = ctx.reachable_from_start_avoiding(tellers)
    told = bool(planning) and all(p in tellers or p not in early for p in planning)
    # The steps that tell it on the way to planning (not, say, a final budget after it).
    before = {
        t
        for t in tellers
        if t in ctx.reachable and (t in planning or set(planning) & nx.descendants(ctx.routes, t))
    }
    steps = tuple(ctx.ordered(before)) if told else ()
    claim = (
        f"the model tells the person their budget at {quoted(steps)}, before planning"
        if told
        else None
    )
    yield from _compare(
        claim,
        steps,
        survey,
        "knew_amount",
        thresholds["knew_amount_min"],
        "min",
        "knew their budget amount when planning",
    )


def leads_on_paper_only(
    ctx: Context, survey: SurveySummary, thresholds: Mapping[str, float]
) -> Iterator[Result]:
    """GAP-02: the person leads every planning step, yet few say their views were fully
    included in planning."""
    planning = [p for p in ctx.of_kind("planning") if p in ctx.reachable]
    leads = bool(planning) and all(ctx.steps[p].person == "leads" for p in planning)
    steps = tuple(planning) if leads else ()
    claim = f"the person leads planning at {quoted(steps)}" if leads else None
    yield from _compare(
        claim,
        steps,
        survey,
        "views_planning_fully",
        thresholds["views_fully_min"],
        "min",
        "said their views were fully included in planning",
    )


def options_on_paper_only(
    ctx: Context, survey: SurveySummary, thresholds: Mapping[str, float]
) -> Iterator[Result]:
    """GAP-03: the model offers all four budget options, yet nearly every budget is
    council-managed."""
    offered = ctx.model.options is not None and set(OPTIONS) <= set(ctx.model.options)
    claim = (
        "the model offers a direct payment, an individual service fund, a council-managed "
        "budget and a mix"
        if offered
        else None
    )
    yield from _compare(
        claim,
        (),
        survey,
        "council_managed",
        thresholds["council_managed_max"],
        "max",
        "have a council-managed budget",
    )


def information_given_but_hard_to_get(
    ctx: Context, survey: SurveySummary, thresholds: Mapping[str, float]
) -> Iterator[Result]:
    """GAP-04: the first step tells the process and the charging rules, yet few found
    getting information and advice easy."""
    first = ctx.steps.get(ctx.model.start)
    told = first is not None and {"process", "charging_rules"} <= set(first.tells)
    steps = (first.id,) if told and first else ()
    claim = (
        f"the model explains the process and the charging rules at the first step, {quoted(steps)}"
        if told
        else None
    )
    yield from _compare(
        claim,
        steps,
        survey,
        "easy_ease_information",
        thresholds["information_easy_min"],
        "min",
        "found getting information and advice easy",
    )


def light_approval_heavy_experience(
    ctx: Context, survey: SurveySummary, thresholds: Mapping[str, float]
) -> Iterator[Result]:
    """GAP-05: no route must pass a funding panel and no route passes more approvals than
    the target, yet few found getting the plan agreed easy."""
    supports = [s for s in ctx.support_steps if s in ctx.reachable]
    avoiding = ctx.reachable_from_start_avoiding(ctx.panels)
    limit = ctx.model.targets.max_approvals
    light = (
        any(s in avoiding for s in supports)  # AUTH-01 would not fire
        and not ctx.approvals.exceeds(limit)
    )  # nor would AUTH-02
    steps = tuple(a for a in ctx.of_kind("approval") if a in ctx.reachable) if light else ()
    claim = None
    if light:
        claim = (
            f"in the model no route has to pass a funding panel and none passes more than "
            f"{number(limit)} sign-off" + (f" ({quoted(steps)})" if steps else "")
        )
    yield from _compare(
        claim,
        steps,
        survey,
        "easy_ease_agreeing_plan",
        thresholds["agreeing_easy_min"],
        "min",
        "found getting the plan agreed easy",
    )


def flexible_on_paper_only(
    ctx: Context, survey: SurveySummary, thresholds: Mapping[str, float]
) -> Iterator[Result]:
    """GAP-06: policy allows personal assistants and community activities, yet few spend
    on either."""
    uses = set(ctx.model.policies.allowed_uses or ())
    allowed = "personal_assistants" in uses and bool({"community_activities", "leisure"} & uses)
    claim = (
        "the council's policy allows spending on personal assistants and community activities"
        if allowed
        else None
    )
    yield from _compare(
        claim,
        (),
        survey,
        "spend_pa_or_community",
        thresholds["pa_or_community_min"],
        "min",
        "spend on personal assistants or community and leisure activities",
    )


GAP_RULES: dict[str, GapRule] = {
    "GAP-01": budget_told_but_not_known,
    "GAP-02": leads_on_paper_only,
    "GAP-03": options_on_paper_only,
    "GAP-04": information_given_but_hard_to_get,
    "GAP-05": light_approval_heavy_experience,
    "GAP-06": flexible_on_paper_only,
}
"""Rule id -> function; must match ``criteria/gap.yaml`` one to one."""


def _compare(
    claim: str | None,
    steps: tuple[str, ...],
    survey: SurveySummary,
    indicator: str,
    threshold: float,
    direction: str,
    what: str,
) -> Iterator[Result]:
    """What every gap rule yields: the claim beside the figure (see ``criteria/gap.yaml``);
    :func:`check_gaps` decides, for all the rules of a run together."""
    estimate = survey.overall(indicator)
    yield Beside(
        claim,
        steps,
        indicator,
        survey.indicator(indicator).label,
        estimate,
        threshold,
        direction,
        what,
    )
    if claim is not None and not estimate.shown:
        yield NotAssessable(f"too few respondents answered to show the share who {what}")


def _issue(beside: Beside, adjusted: float, tests: int) -> Issue:
    """The finding of a gap: the claim, the figure and why it is clear."""
    est = beside.estimate
    assert est.share is not None and est.low is not None and est.high is not None
    assert beside.claim is not None
    t = beside.threshold
    compared = "only " if beside.direction == "min" else ""
    side = "at least" if beside.direction == "min" else "at most"
    return Issue(
        beside.steps,
        f"{beside.claim[0].upper()}{beside.claim[1:]}, yet {compared}"
        f"{pct_beside(est.share, t)} of respondents {beside.what} (95% interval "
        f"{pct_beside(est.low, t)} to {pct_beside(est.high, t)}, {est.total:,} people; "
        f"{p_text(adjusted)} after Holm's adjustment for the {number(tests)} "
        f"check{'s' if tests != 1 else ''} made); a process that works as written should "
        f"give {side} {pct(t)}.",
        subject=(beside.indicator,),
    )


def p_text(p: float) -> str:
    """A p-value as a report writes it: ``"p = 0.012"``, ``"p < 0.001"``."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class GapCheck:
    """One gap rule's conclusion, as the side-by-side table shows it."""

    rule: str
    title: str
    status: str
    claim: str | None
    indicator: str
    label: str
    estimate: Estimate
    threshold: float
    direction: str
    finding: Finding | None = None
    p: float | None = None
    holm: float | None = None
    """The score test's p-value, and Holm's adjustment of it over the run's tests."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "status": self.status,
            "claim": self.claim,
            "indicator": self.indicator,
            "label": self.label,
            "survey": self.estimate.as_dict(),
            "threshold": self.threshold,
            "direction": self.direction,
            "p": None if self.p is None else round(self.p, 4),
            "holm_p": None if self.holm is None else round(self.holm, 4),
            "finding": self.finding.as_dict() if self.finding else None,
        }


@dataclass(frozen=True)
class GapResult:
    """Everything the gap rules found for one model and one survey."""

    model_path: str
    council: str
    findings: tuple[Finding, ...]
    checks: tuple[GapCheck, ...]
    notes: tuple[RuleNote, ...]
    council_matches: bool
    basis: str = "single"
    """Whose answers the checks use (:data:`BASES`)."""
    respondents: int | None = None
    """How many respondents that is (``None`` when hidden)."""

    @property
    def tests(self) -> int:
        """The number of checks that were tests (Holm's family)."""
        return sum(1 for c in self.checks if c.holm is not None)

    @property
    def rule_errors(self) -> tuple[RuleNote, ...]:
        return tuple(n for n in self.notes if n.kind == "rule_error")

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_path,
            "council": self.council,
            "council_in_survey": self.council_matches,
            "basis": self.basis,
            "respondents": self.respondents,
            "tests": self.tests,
            "findings": [f.as_dict() for f in self.findings],
            "checks": [c.as_dict() for c in self.checks],
            "not_assessed": [n.as_dict() for n in self.notes if n.kind == "not_assessable"],
            "rule_errors": [n.as_dict() for n in self.rule_errors],
        }


def load_gap_catalogue(path: str | None = None) -> Catalogue:
    """The gap rules' metadata (``criteria/gap.yaml`` unless ``path``), read once per process."""
    return load_gap_rules(path)


def load_thresholds(path: str | None = None) -> Mapping[str, float]:
    """Threshold name -> value, from the ``thresholds`` of ``criteria/gap.yaml`` (the same
    single read as :func:`load_gap_catalogue`)."""
    return load_gap_thresholds(path)


def check_gaps(
    model: Model,
    survey: SurveySummary,
    *,
    context: Context | None = None,
    catalogue: Catalogue | None = None,
    thresholds: Mapping[str, float] | None = None,
    registry: Mapping[str, GapRule] | None = None,
    use_waivers: bool = True,
) -> GapResult:
    """Run every gap rule on ``model`` and ``survey``."""
    ctx = context or Context(model)
    catalogue = catalogue or load_gap_catalogue()
    thresholds = load_thresholds() if thresholds is None else thresholds
    registry = GAP_RULES if registry is None else registry
    figures, basis = survey.for_council(model.council)
    run = run_rules(
        catalogue.rules, registry, lambda function, _: function(ctx, figures, thresholds), ctx
    )
    besides = {
        info.id: beside
        for info in catalogue.rules
        if (beside := next((r for r in run.others.get(info.id, ()) if isinstance(r, Beside)), None))
    }
    tested = [rule for rule, beside in besides.items() if beside.tested]
    adjusted = dict(zip(tested, holm([besides[r].p for r in tested]), strict=True))
    gaps = {
        rule: _issue(besides[rule], p, len(tested))
        for rule, p in adjusted.items()
        if p < ALPHA and besides[rule].wrong_side
    }
    # The engine stamps the gaps as it stamps every rule's issues.
    stamped = run_rules(
        [info for info in catalogue.rules if info.id in gaps],
        registry,
        lambda _function, info: [gaps[info.id]],
        ctx,
    )
    findings = stamped.findings
    checks: list[GapCheck] = []
    for info in catalogue.rules:
        beside = besides.get(info.id)
        if beside is not None:
            issues = [f for f in findings if f.rule == info.id]
            check = _check(info, beside, issues, info.id not in run.assessed)
            if info.id in adjusted:
                check = replace(check, p=beside.p, holm=adjusted[info.id])
            checks.append(check)
    if use_waivers:
        findings, _ = apply_waivers(findings, model.waivers)
        waived = {f.key: f for f in findings}
        checks = [
            c if c.finding is None else replace(c, finding=waived.get(c.finding.key, c.finding))
            for c in checks
        ]
    councils = {name for name, _ in survey.councils}
    return GapResult(
        model_path=model.path,
        council=model.council,
        findings=tuple(findings),
        checks=tuple(checks),
        notes=tuple(run.notes),
        council_matches=model.council in councils,
        basis=basis,
        respondents=figures.respondents.value,
    )


def _check(info: RuleInfo, beside: Beside, issues: list[Finding], not_assessable: bool) -> GapCheck:
    est = beside.estimate
    if beside.claim is None:
        status = "no claim"
    elif not_assessable or not est.shown:
        status = "not assessable"
    elif issues:
        status = "gap"
    else:
        status = "unclear" if beside.wrong_side else "consistent"
    return GapCheck(
        rule=info.id,
        title=info.title,
        status=status,
        claim=beside.claim,
        indicator=beside.indicator,
        label=beside.label,
        estimate=est,
        threshold=beside.threshold,
        direction=beside.direction,
        finding=issues[0] if issues else None,
    )
