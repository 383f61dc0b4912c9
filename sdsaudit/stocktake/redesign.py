"""Redesign with a measured effect: what-if scenarios and proposed patches.

:func:`whatif` applies a scenario patch (:mod:`sdsaudit.stocktake.patch`) to a model and
compares the as-is and to-be processes (:mod:`sdsaudit.stocktake.compare`).

:func:`propose` writes a patch for the findings it knows how to fix. It works
greedily and checks every step: for each finding, in a fixed order of rules, it
tries the candidate changes of that rule's fixer on the patch so far, and keeps
the first candidate after which the model still validates and

* that rule has strictly fewer findings than before the candidate;
* no rule fixed so far has more findings than before the candidate;
* no error-severity finding is new, and the number of findings does not grow.

So the to-be model always validates and has strictly fewer findings of every
kind it fixed, and no new error. Findings it has no fixer for, or whose fixes
all failed these checks, are listed as left for the council to decide.

It reads format 1.1 models (parallel blocks, start groups) but never proposes
``parallelise``: running work side by side is the council's decision, and the time to
support (SIMPLE-02), which it would shorten, is a rule the catalogue leaves to the council.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..analysis.engine import check_model
from ..analysis.findings import CheckResult, Finding
from ..errors import ModelError
from ..files import refuse_existing
from ..model.catalogue import Catalogue, load_catalogue
from ..model.loader import load_model_text
from ..model.objects import Model
from ..model.source import DEFAULT_MAX_BYTES, decode, read_bytes
from ..render.present import clean
from ..words import tidy
from .compare import Comparison, assess, compare_models
from .compare_output import (
    ComparisonFiles,
    Framing,
    comparison_text,
    render_comparison,
    write_outputs,
)
from .patch import Change, Patch, change, load_patch
from .patch_apply import PatchResult, apply_patch_text
from .patch_write import dump_patch

PANEL_SHARE = 0.1
"""Share of cases a conditional panel is assumed to see (the 'very large or unusual'
packages); every proposal that uses it says so, so the council can put its own figure."""

MAX_CHANGES = 60
"""A proposal never has more changes than this (each one is checked, so this bounds time)."""


# --------------------------------------------------------------------------- what if


@dataclass(frozen=True)
class Scenario:
    """A model with a patch applied, and the measured effect."""

    as_is: Model
    to_be: PatchResult
    comparison: Comparison
    result: CheckResult
    """What ``check`` finds in the to-be model."""

    def framing(self) -> Framing:
        return Framing(
            heading=f'{clean(self.as_is.council)}: scenario "{clean(self.to_be.patch.title)}"',
            old_label="As is",
            new_label="To be",
            patch_title=self.to_be.patch.title,
            patch_changes=self.to_be.described(),
        )

    def text(self) -> str:
        """The command line's summary: the changes, then the comparison."""
        lines = [f"Scenario: {clean(self.to_be.patch.title)}", "Changes:"]
        lines += [f"  {n}. {words}" for n, words in enumerate(self.to_be.described(), start=1)]
        return "\n".join(lines) + "\n\n" + comparison_text(self.comparison, self.framing())

    def render(self, *, draw_map: bool = True) -> ComparisonFiles:
        return render_comparison(
            self.comparison, self.to_be.model, draw_map=draw_map, framing=self.framing()
        )


def scenario(
    model_text: str,
    patch: Patch,
    *,
    model_path: str = "<model>",
    catalogue: Catalogue | None = None,
) -> Scenario:
    """Apply ``patch`` to the model in ``model_text`` and measure the effect."""
    catalogue = catalogue or load_catalogue()
    as_is = load_model_text(model_text, model_path)
    to_be = apply_patch_text(model_text, patch, model_path=model_path, result_path="to-be.yaml")
    after = assess(to_be.model, catalogue)
    comparison = compare_models(as_is, after, catalogue=catalogue)
    return Scenario(as_is, to_be, comparison, after.result)


def _read(path: str, max_bytes: int) -> tuple[str, str]:
    name = "<stdin>" if path == "-" else path
    return decode(read_bytes(path, max_bytes), name), name


SCENARIO_FILES = (
    "to-be.yaml",
    "compare.txt",
    "compare.json",
    "compare.md",
    "compare.html",
    "map.svg",
)


def whatif(
    model_path: str,
    patch_path: str,
    *,
    out_dir: str | None = None,
    force: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[str, list[Path]]:
    """``sdsaudit whatif``: the summary text, and the files written to ``out_dir`` (if any):
    ``to-be.yaml`` and the comparison in every format."""
    if out_dir is not None:
        refuse_existing([Path(out_dir) / n for n in SCENARIO_FILES], force)
    text, name = _read(model_path, max_bytes)
    patch = load_patch(patch_path, max_bytes=max_bytes)
    result = scenario(text, patch, model_path=name)
    if out_dir is None:
        return result.text(), []
    files = {"to-be.yaml": result.to_be.text, **result.render().by_name()}
    return result.text(), write_outputs(files, out_dir, force=True, stale=("map.svg",))


# --------------------------------------------------------------------------- proposing


Fixer = Callable[[Model, Finding], Iterator[list[Change]]]


def _planning_steps(model: Model) -> list[str]:
    return [s.id for s in model.steps if s.kind == "planning"]


def _first(model: Model, ids: Sequence[str]) -> str | None:
    """The step of ``ids`` nearest a start (forward arrows; a parallel step leads to its
    branches and its join), then first in the file."""
    distance = dict.fromkeys(model.starts, 0)
    queue = list(distance)
    while queue:
        sid = queue.pop(0)
        step = model.step_by_id.get(sid)
        if step is None:
            continue
        onward = [t.to for t in step.next if not t.rework]
        if step.kind == "parallel":
            onward = [*step.branches, *([step.join] if step.join else [])]
        for to in onward:
            if to not in distance:
                distance[to] = distance[sid] + 1
                queue.append(to)
    order = {s.id: n for n, s in enumerate(model.steps)}
    found = sorted(ids, key=lambda s: (distance.get(s, 10**9), order[s]))
    return found[0] if found else None


def _is_top(model: Model, step_id: str) -> bool:
    step = model.step(step_id)
    actor = model.actor_of(step)
    top = model.top_authority
    return (actor is not None and actor.kind == "panel") or (
        len(model.authorities) > 1 and top is not None and step.authority == top.id
    )


def _threshold(model: Model, own: str | None = None) -> str:
    """The condition for a panel: 'over N GBP a week', N being the highest weekly limit of
    the other sign-off levels, or 'very large or unusual packages' without one."""
    limits = [a.limit for a in model.authorities if a.limit is not None and a.id != own]
    if limits:
        return f"over {max(limits):g} GBP a week"
    return "very large or unusual packages"


def _packages(when: str) -> str:
    return f"packages {when}" if when.startswith("over") else when


def _share_to(model: Model, source: str, target: str) -> float | None:
    from ..analysis.graph import transition_shares

    for to, share in transition_shares(model.step(source)):
        if to == target:
            return float(share)
    return None


def fix_panel_everywhere(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """AUTH-01: make each panel (or top sign-off) conditional on large packages."""
    changes = []
    for sid in finding.steps:
        when = _threshold(model, model.step(sid).authority)
        changes.append(
            change(
                "bypass",
                f"AUTH-01: a panel on every route delays everyone; send it only "
                f"{_packages(when)} (assumed {PANEL_SHARE:.0%} of cases: put your own "
                "figure)",
                step=sid,
                share=PANEL_SHARE,
                when=when,
            )
        )
    yield changes


def fix_redundant_approval(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """AUTH-03 (A then B sign off the same thing): make them exclusive, or drop the later."""
    a, b = finding.steps
    names = [x.replace("_", " ") for x in finding.subject]
    what = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    share = _share_to(model, a, b)
    reason = (
        f"AUTH-03: '{a}' and '{b}' both sign off the {what}; each case needs one "
        "sign-off, at the level its budget needs"
    )
    if share is not None and share < 1 - 1e-6:
        yield [change("send_direct", reason, to=b, skip=a)]
    if _is_top(model, b):
        when = _threshold(model, model.step(b).authority)
        yield [
            change(
                "bypass",
                f"{reason} (a panel only for {_packages(when)}, assumed "
                f"{PANEL_SHARE:.0%} of cases)",
                step=b,
                share=PANEL_SHARE,
                when=when,
            ),
            change("send_direct", reason, to=b, skip=a),
        ]
    else:
        yield [change("remove_step", reason, step=b)]
    yield [change("remove_step", reason, step=a)]


def fix_late_contribution(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """SEQ-04: the person learns what they pay before planning."""
    plans = _planning_steps(model)
    first_plan = _first(model, plans)
    tellers = [
        s.id for s in model.steps if s.kind == "financial_assessment" and "contribution" in s.tells
    ]
    reason = (
        "SEQ-04: the person should know what they will pay before the plan is agreed, "
        "so they can plan with it"
    )
    if len(tellers) == 1 and first_plan is not None:
        yield [change("move_step", reason, step=tellers[0], before=first_plan)]
    if first_plan is not None and "contribution" not in model.step(first_plan).tells:
        yield [
            change(
                "add_tells",
                reason + " (an estimate at planning)",
                step=first_plan,
                tells=["contribution"],
            )
        ]


def _tell(word: str, rule: str, why: str) -> Fixer:
    def fixer(model: Model, finding: Finding) -> Iterator[list[Change]]:
        for sid in finding.steps:
            if word not in model.step(sid).tells:
                yield [change("add_tells", f"{rule}: {why}", step=sid, tells=[word])]

    fixer.__doc__ = f"{rule}: tell the person {word} at the step."
    return fixer


def fix_asked_again(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """SIMPLE-01: ask once, where it is first asked."""
    a, b = finding.steps[:2]
    topic = finding.subject[0]
    yield [
        change(
            "merge_asks",
            f"SIMPLE-01: '{b}' asks about {topic.replace('_', ' ')} again; "
            f"share what '{a}' already learnt",
            topic=topic,
            keep=a,
            from_=[b],
        )
    ]


def _person(level: str, rule: str, why: str) -> Fixer:
    def fixer(model: Model, finding: Finding) -> Iterator[list[Change]]:
        for sid in finding.steps:
            yield [change("set", f"{rule}: {why}", step=sid, person=level)]

    fixer.__doc__ = f"{rule}: raise the person's part to {level}."
    return fixer


def fix_no_self_planning(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """HEARD-02: the person can lead their own plan."""
    first_plan = _first(model, _planning_steps(model))
    if first_plan is not None:
        yield [
            change(
                "set",
                "HEARD-02: people who want to should be able to lead their own support plan",
                step=first_plan,
                person="leads",
            )
        ]


def fix_options_missing(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """CONTROL-01: offer every way of managing a budget."""
    if finding.subject:
        yield [
            change(
                "add_option",
                "CONTROL-01: people choose how their budget is managed; offer all four ways",
                option=list(finding.subject),
            )
        ]


def fix_narrow_uses(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """CONTROL-03: allow personal assistants and community activities."""
    if finding.subject:
        yield [
            change(
                "allow_use",
                "CONTROL-03: budgets should buy what works for the person, "
                "including personal assistants and community activities",
                use=list(finding.subject),
            )
        ]


def fix_prepaid_default(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """CONTROL-04: the person chooses how to receive a direct payment."""
    yield [
        change(
            "set_policy",
            "CONTROL-04: a prepaid card should be a choice, not the default",
            prepaid_card_default=False,
        )
    ]


def _option(rule: str, key: str) -> float:
    """A rule's threshold from the shipped catalogue (the value a fix sets)."""
    return float(load_catalogue().get(rule).options[key])


def _review(model: Model, name: str, reason: str, **values: float) -> list[Change]:
    """``set_policy`` of review policy ``name`` (``review`` or ``dp_review``) with ``values``
    set and its other keys kept; no change when it already has them."""
    policy = getattr(model.policies, name)
    old = {"first_days": policy.first_days, "interval_days": policy.interval_days} if policy else {}
    if all(old.get(k) == v for k, v in values.items()):
        return []
    new = {k: tidy(v) for k, v in {**old, **values}.items() if v is not None}
    return [change("set_policy", reason, **{name: new})]


def fix_first_review_late(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """SEQ-07: a light review at the target (eight weeks by default) after support starts."""
    days = _option("SEQ-07", "max_first_review_days")
    reason = (
        f"SEQ-07: a light review {tidy(days)} days after support starts checks with "
        "the person that it is working"
    )
    if fix := _review(model, "review", reason, first_days=days):
        yield fix


def fix_review_interval(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """SEQ-08: review support, or a direct payment, at least every year."""
    days = _option("SEQ-08", "max_review_interval_days")
    for name in finding.subject:
        what = "support" if name == "review" else "a direct payment"
        reason = (
            f"SEQ-08: review {what} at least every {tidy(days)} days, in one "
            "conversation about outcomes"
        )
        if fix := _review(model, name, reason, interval_days=days):
            yield fix


def fix_dp_review_late(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """SEQ-09: review a direct payment within the target (about six months by default),
    at the first review of the plan when that comes earlier."""
    days = _option("SEQ-09", "max_dp_first_review_days")
    plan = model.policies.review.first_days if model.policies.review else None
    aligned = plan is not None and plan <= days
    why = (
        "at the first review of the plan, in one conversation"
        if aligned
        else f"within {tidy(days)} days of its start"
    )
    reason = f"SEQ-09: review a new direct payment {why}"
    first = plan if aligned and plan is not None else days
    if fix := _review(model, "dp_review", reason, first_days=first):
        yield fix


def fix_allocation_unpublished(model: Model, finding: Finding) -> Iterator[list[Change]]:
    """CONTROL-05: publish how budgets are worked out."""
    yield [
        change(
            "set_policy",
            "CONTROL-05: publish, in plain English, how the amount of a budget is worked out",
            allocation_method_published=True,
        )
    ]


def _move_after(kind: str, rule: str, why: str) -> Fixer:
    def fixer(model: Model, finding: Finding) -> Iterator[list[Change]]:
        assessments = [s.id for s in model.steps if s.kind == "assessment"]
        first = _first(model, assessments)
        for sid in finding.steps:
            if first is not None and model.step(sid).kind == kind:
                yield [change("move_step", f"{rule}: {why}", step=sid, after=first)]

    fixer.__doc__ = f"{rule}: move the {kind} step after the first assessment."
    return fixer


FIXERS: dict[str, Fixer] = {
    "AUTH-01": fix_panel_everywhere,
    "AUTH-03": fix_redundant_approval,
    "SEQ-01": _move_after(
        "financial_assessment", "SEQ-01", "the means test should follow the needs assessment"
    ),
    "SEQ-02": _move_after(
        "eligibility", "SEQ-02", "eligibility is decided on the needs assessment"
    ),
    "SEQ-04": fix_late_contribution,
    "SEQ-03": _tell(
        "indicative_budget",
        "SEQ-03",
        "the person should know the amount of their budget when planning starts",
    ),
    "SEQ-05": _tell(
        "options",
        "SEQ-05",
        "the ways of managing the money should be explained during planning at the latest",
    ),
    "SIMPLE-01": fix_asked_again,
    "HEARD-01": _person(
        "involved",
        "HEARD-01",
        "the person should take part in their assessment, budget, plan and review",
    ),
    "HEARD-03": _person(
        "consulted",
        "HEARD-03",
        "the person (or their advocate) should be able to put their view to the panel",
    ),
    "HEARD-02": fix_no_self_planning,
    "CONTROL-01": fix_options_missing,
    "CONTROL-03": fix_narrow_uses,
    "CONTROL-04": fix_prepaid_default,
    "CONTROL-05": fix_allocation_unpublished,
    "SEQ-07": fix_first_review_late,
    "SEQ-08": fix_review_interval,
    "SEQ-09": fix_dp_review_late,
}
"""Rule id to fixer, in the order findings are tried. A rule is here exactly when its
catalogue entry says ``fix: {proposed: ...}`` (tests check both ways); the others say
``fix: {none: ...}``, the reason shown beside each finding the proposal leaves."""


@dataclass(frozen=True)
class LeftFinding:
    """A finding the proposal does not fix, and why."""

    finding: Finding
    why: str

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.finding.rule,
            "steps": list(self.finding.steps),
            "message": self.finding.message,
            "why": self.why,
        }


@dataclass(frozen=True)
class Proposal:
    """A proposed patch, its result, the measured effect and what is left."""

    scenario: Scenario
    fixed: tuple[str, ...]
    before: dict[str, int]
    after: dict[str, int]
    left: tuple[LeftFinding, ...]

    @property
    def patch(self) -> Patch:
        return self.scenario.to_be.patch

    def text(self) -> str:
        lines = [
            f"Proposed redesign for {clean(self.scenario.as_is.council)}: "
            f"{len(self.patch.changes)} change{'s' if len(self.patch.changes) != 1 else ''}"
        ]
        lines += [
            f"  {n}. {words}" for n, words in enumerate(self.scenario.to_be.described(), start=1)
        ]
        lines.append(
            "Findings fixed (count before and after): "
            + (
                ", ".join(f"{r} {self.before[r]} to {self.after.get(r, 0)}" for r in self.fixed)
                or "none"
            )
        )
        if self.left:
            lines.append("Left for the council to decide:")
            lines += [
                f"  {x.finding.rule} [{', '.join(x.finding.steps) or 'whole process'}]: {x.why}"
                for x in self.left
            ]
        return (
            "\n".join(lines)
            + "\n\n"
            + comparison_text(self.scenario.comparison, self.scenario.framing())
        )


def _counts(result: CheckResult) -> Counter[str]:
    return Counter(f.rule for f in result.findings if f.counts)


def _errors(result: CheckResult) -> set[tuple]:
    return {f.key for f in result.findings if f.counts and f.severity == "error"}


def propose(
    model_text: str, *, model_path: str = "<model>", catalogue: Catalogue | None = None
) -> Proposal | None:
    """Propose a patch for the findings of the model in ``model_text`` (see the module's
    docstring for the checks every change passes); ``None`` when there is nothing to
    propose."""
    catalogue = catalogue or load_catalogue()
    as_is = load_model_text(model_text, model_path)
    start = check_model(as_is, catalogue)
    title = f"Proposed redesign for {clean(as_is.council)}"
    description = (
        "Written by 'sdsaudit redesign'. Each change fixes at least one finding and "
        "was checked to add no error, to add no findings overall, and to bring back "
        "none of the kinds already fixed; see the comparison for everything that "
        "moved. Shares marked 'assumed' are guesses: put your own."
    )
    errors_before = _errors(start)
    changes: list[Change] = []
    current, result = as_is, start
    fixed: list[str] = []
    while len(changes) < MAX_CHANGES:
        step = _next_fix(
            model_text, model_path, title, changes, current, result, fixed, errors_before, catalogue
        )
        if step is None:
            break
        rule, extra, current, result = step
        changes.extend(extra)
        if rule not in fixed:
            fixed.append(rule)
    if not changes:
        return None
    patch = Patch(title, tuple(changes), description, "patch.yaml")
    outcome = scenario(model_text, patch, model_path=model_path, catalogue=catalogue)
    before, after = _counts(start), _counts(outcome.result)
    left = tuple(
        LeftFinding(f, _why_left(f.rule, catalogue)) for f in outcome.result.findings if f.counts
    )
    # a kind of finding an earlier change brought in and a later one took away again
    # was not fixed: only what the whole patch reduces counts
    reduced = tuple(rule for rule in fixed if after[rule] < before[rule])
    return Proposal(outcome, reduced, dict(before), dict(after), left)


def _why_left(rule: str, catalogue: Catalogue) -> str:
    """Why a finding of ``rule`` is left to the council: the reason its catalogue entry
    gives (``fix: {none: ...}``), or, for a rule with a fixer, that no change tried passed."""
    info = next((r for r in catalogue.rules if r.id == rule), None)
    if info is not None and info.fix is not None and not info.fix.proposed:
        return info.fix.text
    if rule in FIXERS:
        return "every change tried for it made another finding worse"
    return "sdsaudit has no change to propose for it"


def _next_fix(
    model_text: str,
    model_path: str,
    title: str,
    changes: list[Change],
    current: Model,
    result: CheckResult,
    fixed: list[str],
    errors_before: set,
    catalogue: Catalogue,
) -> tuple[str, list[Change], Model, CheckResult] | None:
    """The first candidate, in the order of :data:`FIXERS`, that passes every check."""
    counts = _counts(result)
    total = sum(counts.values())
    for rule, fixer in FIXERS.items():
        for finding in (f for f in result.findings if f.rule == rule and f.counts):
            for candidate in fixer(current, finding):
                trial = Patch(title, tuple(changes + candidate), None, "patch.yaml")
                try:
                    applied = apply_patch_text(model_text, trial, model_path=model_path)
                except ModelError:
                    continue
                checked = check_model(applied.model, catalogue)
                after = _counts(checked)
                if after[rule] >= counts[rule]:
                    continue
                if any(after[r] > counts[r] for r in fixed):
                    continue
                if _errors(checked) - errors_before or sum(after.values()) > total:
                    continue
                return rule, candidate, applied.model, checked
    return None


def redesign(
    model_path: str, out_dir: str, *, force: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[str, list[Path]]:
    """``sdsaudit redesign``: propose, then write ``patch.yaml``, ``to-be.yaml`` and the
    comparison in every format to ``out_dir``. Returns the summary text and the paths."""
    names = ("patch.yaml", "redesign.json", *SCENARIO_FILES)
    refuse_existing([Path(out_dir) / n for n in names], force)
    text, name = _read(model_path, max_bytes)
    proposal = propose(text, model_path=name)
    if proposal is None:
        return (
            f"{name}: nothing to propose: sdsaudit has no change for this model's findings "
            "(see 'sdsaudit check'); no files were written\n"
        ), []
    files = {
        "patch.yaml": dump_patch(proposal.patch),
        "to-be.yaml": proposal.scenario.to_be.text,
        **proposal.scenario.render().by_name(),
    }
    files["redesign.json"] = (
        json.dumps(proposal_dict(proposal), indent=2, ensure_ascii=False) + "\n"
    )
    return proposal.text(), write_outputs(files, out_dir, force=True, stale=("map.svg",))


def proposal_dict(proposal: Proposal) -> dict[str, object]:
    """``redesign.json``: the patch, the counts of the kinds fixed, and what is left."""
    return {
        "patch": proposal.patch.as_dict(),
        "fixed": {
            r: {"before": proposal.before.get(r, 0), "after": proposal.after.get(r, 0)}
            for r in proposal.fixed
        },
        "left": [x.as_dict() for x in proposal.left],
    }
