"""Reports: a prepared view-model, rendered to HTML and Markdown, plus the JSON.

:func:`build_view` turns a model, its :class:`~sdsaudit.analysis.findings.CheckResult`,
its scores and its map as drawn into plain dataclasses
(:mod:`sdsaudit.render.report_view`) holding every word the report shows, so the
templates (``templates/report.html.j2``, ``templates/report.md.j2``) hold only loops and
ifs. Building the view runs nothing: :func:`render_report` draws the map first
(:func:`draw_report_map`, the one step that runs ``dot``) and renders all three files;
nothing here writes to disk (see :func:`sdsaudit.api.write_reports`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from .. import words
from ..analysis.findings import BLOCKS, Assumption, CheckResult, Finding
from ..model.catalogue import Catalogue, RuleInfo
from ..model.objects import Model
from ..scoring.reasons import Reason
from ..scoring.scores import ScoreReport
from ..version import __version__
from .draw import DEFAULT_MAX_NODES, DEFAULT_TIMEOUT, MapUnavailable, map_svg
from .jinja import render
from .map import map_outline, map_text
from .present import (
    BLOCK_NAMES,
    METRIC_LABELS,
    MODEL_NOTES,
    NumberedFinding,
    capital,
    clean,
    field_words,
    number_findings,
    numbers_by_step,
    readable,
    step_order,
    team_of,
)
from .report_view import (
    BlockScore,
    DrawnMap,
    FindingGroup,
    FindingView,
    GroupRow,
    LawLimit,
    MapView,
    MetricRow,
    NoteRow,
    Question,
    Rating,
    ReportView,
    SourceRow,
    StepRow,
    ThemeRow,
    TopProblem,
    WaiverRow,
)

BLOCK_MEANINGS = {
    "heard": "The person's views are fully included, above all when the budget is set and "
    "support is planned.",
    "simple": "The process is easy: few steps, sign-offs and forms, and the person knows the "
    "amount of their budget.",
    "in_control": "The person decides how the money is spent and managed, with few restrictions.",
}
EASY_BLOCKS = {
    "heard": "Do people listen to you?",
    "simple": "Is it easy to get your support?",
    "in_control": "Do you decide how to spend your money?",
}
EASY_ANSWERS = {
    "good": "Yes, mostly.",
    "needs work": "Sometimes. This needs to get better.",
    "poor": "Not often. This needs to get much better.",
}
"""The easy read answer to each building block's question, by the score's word."""
SEVERITY_WORDS = {"error": "serious problem", "warning": "problem", "info": "worth a look"}
SEVERITY_MEANINGS = {
    "error": "A serious problem: the process as written cannot work.",
    "warning": "A problem: it goes against the evidence of what helps.",
    "info": "Worth a look: a prompt for discussion.",
}
THEME_STATUS_WORDS = {
    "met": "met",
    "partly met": "partly met",
    "not met": "not met",
    "not assessed": "not assessed",
}

METRIC_TARGETS = {
    "approvals_max": "max_approvals",
    "handoffs_max": "max_handoffs",
    "forms_max": "max_forms",
    "expected_days_to_support": "max_days_to_support",
}

DAYS_METRICS = ("expected_days_to_support", "worst_days_to_support")
"""The times to support: lower bounds when a time on the way is unknown."""

SHOWN_ELSEWHERE = frozenset(
    {"groups", "days_unknown", *(f"{key}_at_least" for key in DAYS_METRICS)}
)
"""Metrics the measures table does not list as rows of their own: the lower bounds and the
steps nobody knows the time of are said beside the times, and the groups get their table."""

GROUP_COLUMNS = (
    ("expected_days_to_support", "Typical days to support (average)"),
    ("worst_days_to_support", "Longest route, in days"),
    ("approvals_max", "Most sign-offs"),
    ("handoffs_max", "Most hand-offs"),
    ("forms_max", "Most forms"),
    ("assessments_max", "Most assessments"),
)
"""The figures of each group of people, in the order of the table's columns (the most
sign-offs and so on are on one route, as the caption says)."""

SOURCES = (
    "In Control and Lancaster University, POET national surveys of personal budget holders "
    "(2011, 2013, 2014) and the embedded POET report (2017).",
    "Think Local Act Personal (TLAP) and Sitra, Self-Directed Support: Reducing process, "
    "increasing choice and control (2013).",
    "Think Local Act Personal, Making it Real (2018).",
    "Think Local Act Personal, Re-thinking support planning (2011) and Delivering care and "
    "support planning (2015).",
    "Care Act 2014 and the Care and Support Statutory Guidance; Care and Support (Eligibility "
    "Criteria) Regulations 2015; Care and Support (Direct Payments) Regulations 2014.",
    "Social Care (Self-directed Support) (Scotland) Act 2013 and the Scottish SDS Framework of "
    "Standards.",
)

TOP_PROBLEMS = 5
"""How many problems the summary at a glance names."""

TOP_NOTES = {
    "error": "a serious problem: the process as written cannot work",
    "info": "worth a look",
}
"""Said after a main problem's title; an ordinary problem (a warning) needs no word."""

WEIGHED_KINDS = ("finding", "figure", "cap")
"""Score reasons that count towards a problem's weight: the points its findings take off,
the points its figure over target takes off, and the points a rule's cap gives back."""


# ----------------------------------------------------------------------------- view-model


def rating(score: float | None) -> Rating:
    """The word for a score: 75 and over good, 50 to 74 needs work, under 50 poor."""
    if score is None:
        return Rating(None, "not scored", "none")
    value = int(round(score))
    if value >= 75:
        return Rating(value, "good", "good")
    if value >= 50:
        return Rating(value, "needs work", "fair")
    return Rating(value, "poor", "poor")


def _rule(catalogue: Catalogue | None, finding: Finding) -> RuleInfo | None:
    if catalogue is None:
        return None
    for info in catalogue.rules:
        if info.id == finding.rule:
            return info
    return None


def _text(value: str | None) -> str:
    return "" if not value or value.strip().upper() == "TODO" else value.strip()


def _step_names(model: Model, ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(clean(model.step(i).name) if i in model.step_by_id else i for i in ids)


def _step_name(model: Model, step_id: str) -> str:
    return clean(model.step(step_id).name) if step_id in model.step_by_id else clean(step_id)


def _how_long(names: Sequence[str]) -> str:
    """``how long First contact takes``, ``how long A and B take``."""
    return f"how long {words.join_and(names)} take{'s' if len(names) == 1 else ''}"


def _assumption_parts(
    model: Model, assumptions: Iterable[Assumption]
) -> tuple[tuple[str, str], ...]:
    """Each assumption a finding rests on, in words: what is assumed (``how long it takes
    and the person's part``, ``when reviews happen``) and where (the step's name, or empty
    for the whole model)."""
    parts = []
    for assumption in assumptions:
        what = words.join_and(field_words(f) for f in assumption.fields)
        step = assumption.step
        parts.append((what, "" if step is None else _step_name(model, step)))
    return tuple(dict.fromkeys(parts))


def _assumption_label(parts: Sequence[tuple[str, str]]) -> str:
    """``Rests on an assumption: confirm how long it takes at 'Assessment'`` (the same
    thing assumed at several steps said once: ``at 'Assessment' and 'Sign off'``), or
    empty."""
    if not parts:
        return ""
    places: dict[tuple[str, bool], list[str]] = {}
    for what, step in parts:
        places.setdefault((what, bool(step)), []).extend([f"'{step}'"] if step else [])
    said = [
        f"{what} at {words.join_and(dict.fromkeys(at))}" if at else what
        for (what, _), at in places.items()
    ]
    head = "Rests on an assumption" if len(parts) == 1 else "Rests on assumptions"
    return f"{head}: confirm {'; '.join(said)}"


def _finding_view(model: Model, item: NumberedFinding, catalogue: Catalogue | None) -> FindingView:
    f = item.finding
    info = _rule(catalogue, f)
    parts = _assumption_parts(model, f.assumptions)
    return FindingView(
        number=item.number,
        rule=f.rule,
        slug=f.slug,
        title=_text(info.title if info else "") or f.slug.replace("-", " ").capitalize(),
        severity=f.severity,
        severity_word=SEVERITY_WORDS.get(f.severity, f.severity),
        severity_meaning=SEVERITY_MEANINGS.get(f.severity, f.severity),
        block=item.block,
        block_names=", ".join(BLOCK_NAMES.get(b, b) for b in BLOCKS if b in f.blocks)
        or "none (a note about the model itself, which takes no points)",
        steps=_step_names(model, f.steps),
        message=readable(model, f.message),
        rationale=_text(info.rationale if info else ""),
        evidence=_text(info.evidence if info else ""),
        recommendation=_text(info.recommendation if info else ""),
        question=_text(info.question if info else ""),
        line=f.line,
        assumptions=parts,
        assumption=_assumption_label(parts),
    )


def _reason_lines(model: Model, reasons: Sequence[Reason]) -> list[str]:
    """Score reasons as ``Heard -20: text`` lines, leaving out the starting scores."""
    return [
        f"{BLOCK_NAMES.get(r.block, r.block)} {r.points:+d}: {readable(model, r.text)}".strip()
        for r in reasons
        if r.kind != "base"
    ]


def _metric_value(key: str, value: Any) -> str:
    if value is None:
        return "not known (no route, or a loop with no 'sent back' mark)"
    if key.startswith("share_"):
        return f"{value * 100:.0f}%"
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def _figure(
    model: Model,
    key: str,
    label: str,
    figures: Mapping[str, Any],
    unknown: Sequence[str],
    not_given: Sequence[str],
    *,
    quiet: bool = False,
) -> MetricRow:
    """One figure with its target. A time to support never reads "within the target" when
    it rests on a time nobody knows (``unknown``: the figure is then ``None`` and its
    ``_at_least`` the lower bound) or on steps that give no time at all (``not_given``,
    rule MODEL-01: counted as 0 days). ``quiet`` leaves a plain "within the target" unsaid
    (the groups' table says only what is over the target, or not known to be within it)."""
    target_key = METRIC_TARGETS.get(key)
    limit = getattr(model.targets, target_key) if target_key else None
    target = f"at most {_metric_value('', limit)}" if limit is not None else ""
    value = figures.get(key)
    least = figures.get(f"{key}_at_least") if key in DAYS_METRICS else None
    if value is None and isinstance(least, (int, float)):
        why = f" (not known: {_how_long(unknown)})" if unknown else ""
        over = limit is not None and least > limit
        if limit is None:
            against = ""
        elif over:
            against = "over the target"
        else:
            against = "cannot say yet whether it is within the target"
        return MetricRow(
            key, label, f"at least {_metric_value(key, least)} days{why}", target, against, over
        )
    shown = _metric_value(key, value)
    figure = value if isinstance(value, (int, float)) else None
    known = limit is not None and figure is not None
    over = limit is not None and figure is not None and figure > limit
    against = ("over the target" if over else "within the target") if known else ""
    if key in DAYS_METRICS and not_given and figure is not None:
        shown += f" (0 days counted at {words.join_and(not_given)}: the model gives no time there)"
        if known and not over:
            against = "within the target only if the steps with no time given really take no time"
    if quiet and against == "within the target":
        against = ""
    return MetricRow(key, label, shown, target, against, over)


def _metrics(
    model: Model, metrics: Mapping[str, Any], not_given: Sequence[str] = ()
) -> tuple[MetricRow, ...]:
    keys = [k for k in metrics if k not in SHOWN_ELSEWHERE]
    ordered = [k for k in METRIC_LABELS if k in keys] + sorted(
        k for k in keys if k not in METRIC_LABELS
    )
    unknown = _step_names(model, metrics.get("days_unknown") or ())
    return tuple(
        _figure(
            model,
            key,
            METRIC_LABELS.get(key, key.replace("_", " ").capitalize()),
            metrics,
            unknown,
            not_given,
        )
        for key in ordered
    )


def _route_groups(
    model: Model, metrics: Mapping[str, Any], not_given: Sequence[str] = ()
) -> tuple[GroupRow, ...]:
    """The figures of each group of people alone (``start`` as a list of groups)."""
    rows = []
    for group in metrics.get("groups") or ():
        unknown = _step_names(model, group.get("days_unknown") or ())
        share = group.get("share")
        rows.append(
            GroupRow(
                when=clean(str(group.get("when") or "")),
                start=_step_name(model, str(group.get("start") or "")),
                share=_metric_value("share_", share) if share is not None else "not given",
                cells=tuple(
                    _figure(model, key, label, group, unknown, not_given, quiet=True)
                    for key, label in GROUP_COLUMNS
                ),
            )
        )
    return tuple(rows)


def _law_limits(model: Model) -> tuple[LawLimit, ...]:
    """The restrictions set by law: the whole process's, then each step's from the start."""
    limits = [
        LawLimit(clean(r.text), clean(r.ref or ""), "")
        for r in model.policies.restrictions
        if r.basis == "law"
    ]
    for step in step_order(model):
        limits.extend(
            LawLimit(clean(r.text), clean(r.ref or ""), clean(step.name))
            for r in step.restrictions
            if r.basis == "law"
        )
    return tuple(limits)


def _sentence(text: str) -> str:
    """``text`` ending as a sentence does (a full stop added when it has none), or empty."""
    return text if not text or text[-1] in ".!?" else f"{text}."


def _model_sources(model: Model) -> tuple[SourceRow, ...]:
    """The documents the model is built from, each with the steps documented in it."""
    order = step_order(model)
    return tuple(
        SourceRow(
            title=clean(source.title),
            published=words.date_words(source.published),
            url=clean(source.url or ""),
            note=_sentence(clean(source.note or "")),
            steps=tuple(clean(step.name) for step in order if source.id in step.sources),
        )
        for source in model.sources
    )


def _assumed(model: Model) -> tuple[str, ...]:
    """What the model marks as assumed, in words: its top-level keys, then each step's."""
    out = [capital(field_words(key)) for key in model.assumed]
    for step in step_order(model):
        if step.assumed:
            what = words.join_and(field_words(f) for f in step.assumed)
            out.append(capital(f"{what} at '{clean(step.name)}'"))
    return tuple(out)


def _assumed_summary(count: int) -> str:
    """``3 problems rest on assumptions: ... Each says what to confirm`` (the report adds
    which), or empty when no problem rests on one."""
    if count == 0:
        return ""
    if count == 1:
        return (
            "1 problem rests on an assumption: a value in the model that no published source "
            "states. It says what to confirm"
        )
    return (
        f"{count} problems rest on assumptions: values in the model that no published source "
        "states. Each says what to confirm"
    )


def _unknowns(model: Model, scores: ScoreReport | None) -> tuple[str, ...]:
    """What the scores count at its worst, one sentence each (nothing when every score is
    already its best)."""
    if scores is None or scores.best_words is None:
        return ()
    out = []
    if scores.left_out:
        policies = words.join_and(field_words(key) for key in scores.left_out)
        out.append(f"The model does not say {policies}.")
    if scores.days_unknown:
        out.append(f"Nobody has said {_how_long(_step_names(model, scores.days_unknown))}.")
    return tuple(out)


def _waivers(
    model: Model, result: CheckResult, catalogue: Catalogue | None
) -> tuple[WaiverRow, ...]:
    rows = []
    for waiver in model.waivers:
        waived = tuple(
            readable(model, f.message)
            for f in result.findings
            if f.waived
            and f.rule == waiver.rule
            and (waiver.step is None or waiver.step in f.steps)
        )
        info = _rule(catalogue, Finding(waiver.rule, "", "", (), (), ""))
        rows.append(
            WaiverRow(
                rule=waiver.rule,
                title=_text(info.title) if info else "",
                step=clean(model.step(waiver.step).name)
                if waiver.step and waiver.step in model.step_by_id
                else "",
                reason=waiver.reason,
                waived=waived,
            )
        )
    return tuple(rows)


def _questions(views: Sequence[FindingView]) -> tuple[Question, ...]:
    by_rule: dict[str, tuple[str, list[int]]] = {}
    for view in views:
        if view.question:
            by_rule.setdefault(view.rule, (view.question, []))[1].append(view.number)
    return tuple(Question(text, rule, tuple(nums)) for rule, (text, nums) in by_rule.items())


def _easy_read(
    model: Model, views: Sequence[FindingView], blocks: Sequence[BlockScore], scored: bool
) -> tuple[str, ...]:
    count = len(views)
    lines = [
        f"This report is about how {clean(model.council)} helps people get a personal budget.",
        f"We looked at {len(model.steps)} steps, from the first contact to getting support.",
        "We found no problems."
        if count == 0
        else f"We found {count} problem{'s' if count != 1 else ''}.",
    ]
    if any(view.assumptions for view in views):
        lines.append("Some problems rest on a guess about the process. Ask the council to check.")
    if scored:
        for block in blocks:
            answer = EASY_ANSWERS.get(block.rating.word, f"{block.rating.word}.")
            lines.append(f"{block.easy} {answer}")
    lines.append("The map shows each step. A number on a step is a problem we found.")
    lines.append("Talk about the questions in this report with your group.")
    return tuple(lines)


def problem_points(scores: ScoreReport | None) -> dict[str, int]:
    """Points each rule takes off the scores: overall and every step, all three blocks.

    Counts the reasons of kind ``finding`` and ``figure`` that name the rule, less
    the points its cap gives back; waived findings are left out. A score's floor
    (points given back so it does not go below 0) belongs to no rule and is not
    shared out. Without scores every rule weighs 0.
    """
    if scores is None:
        return {}
    reasons = [*scores.overall.reasons, *(r for s in scores.steps for r in s.scores.reasons)]
    points: dict[str, int] = {}
    for reason in reasons:
        if reason.rule and reason.kind in WEIGHED_KINDS and not reason.waived:
            points[reason.rule] = points.get(reason.rule, 0) - reason.points
    return points


def _top_problems(
    views: Sequence[FindingView], points: Mapping[str, int]
) -> tuple[TopProblem, ...]:
    """The main problems: one per rule, the most serious first (errors, then warnings,
    then notes), then the heaviest (points taken off the scores), then the lowest problem
    number: a note never comes before a warning, however many points it costs."""
    rank = {"error": 0, "warning": 1, "info": 2}
    by_rule: dict[str, list[FindingView]] = {}
    for view in views:
        by_rule.setdefault(view.rule, []).append(view)
    problems = []
    for rule, found in by_rule.items():
        worst = min(found, key=lambda v: (rank.get(v.severity, 3), v.number))
        places = tuple(dict.fromkeys(step for v in found for step in v.steps))
        parts = tuple(dict.fromkeys(part for v in found for part in v.assumptions))
        problems.append(
            TopProblem(
                rule=rule,
                title=worst.title,
                severity=worst.severity,
                severity_word=worst.severity_word,
                note=TOP_NOTES.get(worst.severity, ""),
                numbers=tuple(v.number for v in found),
                places=places,
                whole_process=any(not v.steps for v in found),
                points=max(points.get(rule, 0), 0),
                assumption=_assumption_label(parts),
            )
        )
    problems.sort(key=lambda p: (rank.get(p.severity, 3), -p.points, p.numbers[0]))
    return tuple(problems[:TOP_PROBLEMS])


def draw_report_map(
    model: Model,
    result: CheckResult,
    view: str = "findings",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    draw: bool = True,
    numbered: Sequence[NumberedFinding] | None = None,
    quick: bool = False,
) -> DrawnMap:
    """Draw the report's map (this runs ``dot``); when it cannot be drawn, say why.
    ``quick``: the first layout only (see :func:`~sdsaudit.render.draw.render_map`)."""
    if not draw:
        return DrawnMap()
    try:
        svg = map_svg(
            model,
            result,
            view,
            timeout=timeout,
            max_nodes=max_nodes,
            numbered=numbered,
            quick=quick,
        )
        return DrawnMap(svg, None)
    except MapUnavailable as exc:
        return DrawnMap(None, exc.reason)


def _map_view(
    model: Model,
    result: CheckResult,
    view: str,
    drawn: DrawnMap,
    numbered: Sequence[NumberedFinding],
) -> MapView:
    numbered = numbered if view != "plain" else ()
    return MapView(
        svg=drawn.svg,
        unavailable=drawn.unavailable,
        title=f"Process map of {clean(model.council)}",
        lanes=map_outline(model, result, view, numbered),
        text=map_text(model, result, view, numbered),
        whole_process=tuple(n.number for n in numbered if not n.finding.steps),
        orientation=_orientation(drawn.svg),
    )


def _orientation(svg: str | None) -> str:
    """``landscape`` for a map wider than tall, else ``portrait`` (from the SVG's size)."""
    size = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"[^>]*\sheight="([\d.]+)pt"', svg or "")
    if size and float(size.group(1)) > float(size.group(2)):
        return "landscape"
    return "portrait"


def _blocks(scores: ScoreReport | None) -> tuple[BlockScore, ...]:
    """The three building blocks' overall scores, in report order, each with the best it
    could be where the model leaves something out or nobody knows a time."""
    best = scores.best if scores is not None and scores.best_words else None
    out = []
    for b in BLOCKS:
        up_to = ""
        if scores is not None and best is not None and best.of(b) != scores.overall.of(b):
            up_to = f"up to {rating(best.of(b)).score} {scores.best_words}"
        out.append(
            BlockScore(
                b,
                BLOCK_NAMES[b],
                BLOCK_MEANINGS[b],
                EASY_BLOCKS[b],
                rating(scores.overall.of(b) if scores else None),
                up_to,
            )
        )
    return tuple(out)


def _groups(views: Sequence[FindingView]) -> tuple[FindingGroup, ...]:
    """The numbered findings listed under their building blocks, then any notes about the
    model itself (listed only when there are some)."""
    groups = [
        FindingGroup(b, BLOCK_NAMES[b], BLOCK_MEANINGS[b], tuple(v for v in views if v.block == b))
        for b in BLOCKS
    ]
    notes = tuple(v for v in views if v.block == MODEL_NOTES)
    if notes:
        groups.append(
            FindingGroup(
                MODEL_NOTES,
                "About the model itself",
                "Notes on what the model does not say. They take no points from any building "
                "block, but the figures that rest on them are less certain.",
                notes,
                "note",
            )
        )
    return tuple(groups)


def _step_rows(
    model: Model, scores: ScoreReport | None, numbered: Sequence[NumberedFinding]
) -> tuple[StepRow, ...]:
    """The per-step score table, steps in order from the start."""
    per_step = {row.id: row.scores for row in scores.steps} if scores else {}
    numbers_at = numbers_by_step(numbered)
    rows = []
    for s in step_order(model):
        own = per_step.get(s.id)
        rows.append(
            StepRow(
                id=s.id,
                name=clean(s.name),
                team=team_of(model, s),
                heard=rating(own.heard if own else None),
                simple=rating(own.simple if own else None),
                in_control=rating(own.in_control if own else None),
                reasons=tuple(_reason_lines(model, own.reasons if own else ())),
                note=s.note or "",
                findings=tuple(numbers_at.get(s.id, ())),
            )
        )
    return tuple(rows)


def _themes(scores: ScoreReport | None, views: Sequence[FindingView]) -> tuple[ThemeRow, ...]:
    """The Making it Real themes with their status and the problems behind it."""
    return tuple(
        ThemeRow(
            id=t.theme,
            name=t.name or t.theme,
            status=THEME_STATUS_WORDS.get(t.status, t.status),
            css=t.status.replace(" ", "-"),
            rules=tuple(t.rules),
            explanation=capital(t.explanation),
            problems=tuple(v.number for v in views if v.rule in t.fired),
        )
        for t in (scores.themes if scores else ())
    )


def build_view(
    model: Model,
    result: CheckResult,
    scores: ScoreReport | None = None,
    catalogue: Catalogue | None = None,
    *,
    view: str = "findings",
    drawn: DrawnMap | None = None,
    experience: Any = None,
    numbered: Sequence[NumberedFinding] | None = None,
    calibration: Any = None,
) -> ReportView:
    """Everything the report shows, in words, for one model. Pure: nothing is run.

    ``scores`` is a ``ScoreReport`` (or its ``as_dict()``); without it the
    score sections say "not scored". ``drawn`` is the map as
    :func:`draw_report_map` drew it; without it, or when it could not be drawn,
    ``map.unavailable`` says why and the text version stands in. ``numbered`` is the
    findings' numbering from a prepared audit (worked out from ``result`` without it).
    """
    numbered = number_findings(result) if numbered is None else numbered
    views = tuple(_finding_view(model, item, catalogue) for item in numbered)
    blocks = _blocks(scores)
    steps = _step_rows(model, scores, numbered)
    top = _top_problems(views, problem_points(scores))
    not_given = _step_names(
        model, next((f.steps for f in result.findings if f.rule == "MODEL-01"), ())
    )
    assumed_numbers = tuple(v.number for v in views if v.assumptions)
    return ReportView(
        council=clean(model.council),
        title=clean(model.title),
        as_of=str(model.as_of),
        path=result.path,
        description=model.description or "",
        version=__version__,
        view=view,
        blocks=blocks,
        top_problems=top,
        finding_count=len(views),
        map=_map_view(model, result, view, drawn or DrawnMap(), numbered),
        groups=_groups(views),
        steps=steps,
        themes=_themes(scores, views),
        metrics=_metrics(model, result.metrics, not_given),
        waivers=_waivers(model, result, catalogue),
        questions=_questions(views),
        easy_read=_easy_read(model, views, blocks, scores is not None),
        easy_problems=tuple(p.title for p in top),
        not_assessed=tuple(
            NoteRow(n.rule, n.message) for n in result.notes if n.kind == "not_assessable"
        ),
        rule_errors=tuple(NoteRow(n.rule, n.message) for n in result.rule_errors),
        rules_run=len(catalogue.rules) if catalogue else 0,
        sources=SOURCES,
        evidence=tuple(dict.fromkeys(v.evidence for v in views if v.evidence)),
        scored=scores is not None,
        experience=experience,
        calibration=calibration,
        step_notes=any(row.note for row in steps),
        unknowns=_unknowns(model, scores),
        assumed_numbers=assumed_numbers,
        assumed_summary=_assumed_summary(len(assumed_numbers)),
        group_columns=tuple(label for _, label in GROUP_COLUMNS),
        route_groups=_route_groups(model, result.metrics, not_given),
        law_limits=_law_limits(model),
        model_sources=_model_sources(model),
        assumed=_assumed(model),
    )


# ----------------------------------------------------------------------------- output


@dataclass(frozen=True)
class ReportFiles:
    """The text of each report file for one model (``svg`` is ``None`` when the
    map could not be drawn, and ``map_note`` then says why)."""

    html: str
    markdown: str
    json: str
    svg: str | None
    map_note: str | None


def report_json(
    result: CheckResult, scores: ScoreReport | None, survey: Mapping[str, Any] | None = None
) -> str:
    """``report.json``: the ``check --format json`` document for one model, plus ``scores``
    and, with survey evidence, ``survey`` (the figures and gap checks ``survey.json`` has).

    Written compactly, for tools: a 4,000-step model's file is half the size it would
    be indented (``python -m json.tool report.json`` indents it for reading)."""
    entry = result.as_dict()
    entry["scores"] = scores.as_dict() if scores is not None else None
    if survey is not None:
        entry["survey"] = dict(survey)
    document = {"sdsaudit_version": __version__, "models": [entry]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def render_report(
    model: Model,
    result: CheckResult,
    scores: ScoreReport | None = None,
    catalogue: Catalogue | None = None,
    *,
    view: str = "findings",
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    draw_map: bool = True,
    experience: Any = None,
    numbered: Sequence[NumberedFinding] | None = None,
    calibration: Any = None,
) -> ReportFiles:
    """Render report.html, report.md, report.json and map.svg for one model (in memory).

    The map is drawn here (:func:`draw_report_map`), then handed to :func:`build_view`;
    both use ``numbered`` (a prepared audit's numbering) when given."""
    numbered = number_findings(result) if numbered is None else numbered
    drawn = draw_report_map(
        model, result, view, timeout=timeout, max_nodes=max_nodes, draw=draw_map, numbered=numbered
    )
    report = build_view(
        model,
        result,
        scores,
        catalogue,
        view=view,
        drawn=drawn,
        experience=experience,
        numbered=numbered,
        calibration=calibration,
    )
    inline_svg = None
    if report.map.svg is not None:
        # In HTML the parser puts <svg> in the SVG namespace itself; dropping the
        # attribute keeps the page free of any URL.
        inline_svg = Markup(report.map.svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1))
    html = render("report.html.j2", report=report, inline_svg=inline_svg)
    markdown = render("report.md.j2", report=report)
    return ReportFiles(
        html=html,
        markdown=markdown,
        json=report_json(result, scores, getattr(experience, "figures", None)),
        svg=report.map.svg,
        map_note=report.map.unavailable,
    )
