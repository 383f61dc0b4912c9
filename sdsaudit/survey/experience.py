"""The "Experience" view: survey evidence, ready for a template, and the survey files.

:func:`build_experience` turns a :class:`~sdsaudit.survey.summary.SurveySummary` (and,
with a model, a :class:`~sdsaudit.survey.gaps.GapResult`) into an
:class:`ExperienceView`: everything already in words and every chart already
laid out, so templates hold only loops and ifs. The same view feeds
``templates/_experience.html.j2`` and ``templates/_experience.md.j2``, which
``sdsaudit survey`` wraps in a page of its own (``survey.html.j2``,
``survey.md.j2``) and ``sdsaudit report --survey`` includes as a section.

Charts are inline SVG bar charts: every bar carries its figure as text, a
hidden group is said in words where its bar would be, and each chart has a
title, a description and the same figures in a table beside it, so no meaning
rests on colour or on seeing the chart.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, replace
from typing import Any

from ..analysis.findings import CheckResult
from ..analysis.graph import Context
from ..model.catalogue import Catalogue
from ..model.objects import Model
from ..render.charts import Bar, Chart, Row, Table, Tick
from ..render.jinja import render
from .adjusted import INSTALL, AdjustedModel
from .gaps import GapResult, check_gaps, load_gap_catalogue, p_text
from .spec import MIN_GROUP
from .summary import (
    STATUS_TEXT,
    Cell,
    Comparison,
    Count,
    Estimate,
    OutcomeOdds,
    SurveySummary,
    pct,
    pct_beside,
    ratio_text,
)

BLOCKS = (
    ("heard", "Heard", "had their views fully included in planning and in setting the budget"),
    ("simple", "Simple", "knew their budget amount and found the process easy"),
    (
        "in_control",
        "In control",
        "had help to plan and spent their budget on personal assistants or community life",
    ),
)
"""Building block id, name, and who the survey indicator counts ("people who ...")."""

COMPONENTS = {
    "heard": ("views_planning_fully", "views_budget_fully"),
    "simple": ("knew_amount", "easy_overall"),
    "in_control": (
        "help_to_plan",
        "spend_personal_assistants",
        "spend_community_leisure",
        "spend_traditional_services",
        "spend_equipment_other",
        "council_managed",
    ),
}

VERDICT_TEXT = {
    "lower": "Lower than the national figure",
    "higher": "Higher than the national figure",
    "similar": "Not clearly different from the national figure",
    "not lower": "Not clearly below the national figure (nationally a lower bound, so it "
    "cannot be called higher)",
    "different measure": "A different measure: not compared",
    "not shown": "Not shown (too few answers)",
    "not asked": "This survey does not ask it",
}

ODDS_VERDICT_TEXT = {
    "higher": "Yes: clearly higher odds",
    "lower": "Yes: clearly lower odds",
    "unclear": "Not clear",
}

BASIS_TEXT = {
    "single": "",
    "council": "The survey file holds answers from several councils: these checks use only "
    "the {n} respondents who named {council}.",
    "pooled": "The survey file holds answers from several councils and does not show "
    "{council} by name: these checks use all {n} respondents in the file (pooled), not "
    "{council}'s alone.",
}

GAP_STATUS_TEXT = {
    "gap": "Gap: the survey contradicts the model",
    "unclear": (
        "Possible gap: the figure is on the wrong side, but not clearly once chance and the "
        "number of checks are allowed for"
    ),
    "consistent": "No gap: the survey agrees with the model",
    "no claim": "The model makes no such claim",
    "not assessable": "Not assessable: too few answers",
}

# Chart geometry (SVG user units).
LABEL_W, BAR_W, VALUE_W = 230, 300, 200
ROW_H, TOP, BOTTOM = 30, 28, 12
CHART_W = LABEL_W + BAR_W + VALUE_W


@dataclass(frozen=True)
class BlockView:
    """One building block: the headline indicator as a chart and a table."""

    id: str
    name: str
    meaning: str
    label: str
    definition: str
    overall: str
    chart: Chart
    table: Table
    components: Table
    odds: str
    national_odds: str | None
    left_out: str
    adjusted: str


@dataclass(frozen=True)
class GapFindingView:
    rule: str
    title: str
    severity: str
    steps: tuple[str, ...]
    message: str
    waived: bool
    waiver_reason: str | None


@dataclass(frozen=True)
class GapView:
    """The process on paper beside the process as lived."""

    model: str
    council: str
    council_matches: bool
    table: Table
    findings: tuple[GapFindingView, ...]
    basis: str
    family: str


@dataclass(frozen=True)
class ExperienceView:
    """Everything the Experience section shows, in words; :meth:`as_dict` for JSON."""

    source: str
    respondents: str
    min_group: int
    councils: str
    years: str
    suppression: str
    blocks: tuple[BlockView, ...]
    ease: Table
    outcomes: Table
    good_outcome: str
    odds: Table
    odds_note: str
    adjusted: str
    national: Table
    national_note: str
    groups: Table
    answers: tuple[Table, ...]
    gap: GapView | None
    definitions: tuple[tuple[str, str], ...]
    figures: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """The survey's figures as ``survey.json`` has them (``survey`` and ``gaps``), for
    ``report.json``."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def build_experience(summary: SurveySummary, gap: GapResult | None = None) -> ExperienceView:
    """The view of ``summary`` (and ``gap``) that the Experience templates render."""
    m = summary.min_group
    return ExperienceView(
        source=summary.source,
        respondents=_count_text(summary.respondents, m),
        min_group=m,
        councils="; ".join(f"{name} ({_count_text(n, m)})" for name, n in summary.councils),
        years="; ".join(f"{year} ({_count_text(n, m)})" for year, n in summary.years),
        suppression=(
            f"To protect people's privacy, no figure is shown for a group of fewer than "
            f"{m} people, nor any figure that fewer than {m} people answered; and so that "
            "no hidden figure can be worked out by subtracting the others from a total, the "
            "fewest other figures needed are hidden too. No respondent's id, date or "
            "comment appears anywhere."
        ),
        blocks=tuple(_block(summary, b, name, meaning) for b, name, meaning in BLOCKS),
        ease=_distribution_table(
            "xp-ease-table",
            "How easy people found each part of the process",
            "Part of the process",
            summary.ease,
            "Easy or very easy",
            m,
        ),
        outcomes=_distribution_table(
            "xp-outcomes-table",
            "What difference the budget made, by life area",
            "Life area",
            summary.outcomes,
            "Better",
            m,
        ),
        good_outcome=summary.overall("good_outcome").text(m)
        + _left_out_text(summary.indicator("good_outcome").left_out),
        odds=_odds_table(summary, m),
        odds_note=_odds_note(summary),
        adjusted=_adjusted_text(summary.adjusted),
        national=_national_table(summary),
        national_note=_national_note(summary),
        groups=_groups_table(summary),
        answers=tuple(_answers_table(d, m) for d in summary.answers),
        gap=_gap_view(gap, m) if gap is not None else None,
        definitions=summary.definitions,
        figures=figures(summary, gap),
    )


def figures(summary: SurveySummary, gap: GapResult | None) -> dict[str, Any]:
    """The survey's figures and gap checks as plain data (``survey.json``)."""
    return {
        "survey": summary.as_dict(),
        "gaps": gap.as_dict() if gap is not None else None,
    }


def _left_out_text(n: int | None) -> str:
    if not n:
        return ""
    people = f"{n:,} respondent{'s' if n != 1 else ''}"
    return f"; {people} who left a life area blank are not counted"


def _count_text(count: Count, m: int) -> str:
    if count.shown:
        return f"{count.value:,} respondent{'s' if count.value != 1 else ''}"
    return STATUS_TEXT[count.status].format(n=m)


def _cells_for_chart(summary: SurveySummary) -> list[tuple[str, Cell | None]]:
    cells: list[tuple[str, Cell | None]] = [("All respondents", None)]
    for bid, blank in (("group", "Group not stated"), ("budget_option", "Option not stated")):
        for cell in summary.breakdown(bid).cells:
            cells.append((blank if cell.key == "" else cell.label, cell))
    return cells


def _block(summary: SurveySummary, block: str, name: str, meaning: str) -> BlockView:
    m = summary.min_group
    ind = summary.indicator(block)
    rows = []
    estimates = []
    for label, cell in _cells_for_chart(summary):
        est = ind.overall if cell is None else cell.get(block)
        n = summary.respondents if cell is None else cell.respondents
        estimates.append((label, est))
        rows.append(
            Row(label, (_count_text(n, m) if n.shown else "not shown", est.text(m), _fraction(est)))
        )
    chart = _chart(
        f"xp-chart-{block}",
        f"{name}: {ind.label}",
        f"Bar chart of the share of respondents who {meaning}, for all "
        "respondents, by group and by budget option, with 95% intervals. "
        "The same figures are in the table beside it.",
        estimates,
        m,
    )
    components = tuple(
        Row(summary.indicator(c).label, (summary.overall(c).text(m), _fraction(summary.overall(c))))
        for c in COMPONENTS[block]
    )
    odds = next(o for o in summary.odds if o.factor == block)
    national = odds.national
    left_out = summary.indicator(block).left_out
    return BlockView(
        id=block,
        name=name,
        meaning=f"People who {meaning}.",
        label=ind.label,
        definition=ind.definition,
        overall=ind.overall.text(m),
        chart=chart,
        table=Table(
            f"xp-table-{block}",
            f"{name}: {ind.label}, by group and budget option",
            "Group",
            ("Respondents", "Share (95% interval)", "Count"),
            tuple(rows),
        ),
        components=Table(
            f"xp-parts-{block}",
            f"{name}: the answers behind it, all respondents",
            "Answer",
            ("Share (95% interval)", "Count"),
            components,
        ),
        odds=_odds_sentence(odds, m),
        national_odds=(
            f"{national.statement} ({national.source}"
            f"{', ' + str(national.year) if national.year else ''})"
            if national
            else None
        ),
        left_out=(
            f"{left_out:,} respondent{'s' if left_out != 1 else ''} left blank a question "
            f"this combines and {'are' if left_out != 1 else 'is'} not counted."
            if left_out
            else ""
        ),
        adjusted=_adjusted_sentence(summary.adjusted, block),
    )


def _fraction(est: Estimate) -> str:
    return f"{est.count:,} of {est.total:,}" if est.shown else "not shown"


def _chart(
    chart_id: str, title: str, desc: str, estimates: list[tuple[str, Estimate]], m: int
) -> Chart:
    bars = []
    for n, (label, est) in enumerate(estimates):
        y = TOP + n * ROW_H
        if est.shown:
            assert est.share is not None and est.low is not None and est.high is not None
            width = est.share * BAR_W
            bars.append(
                Bar(
                    label,
                    est.text(m),
                    True,
                    y,
                    round(width, 1),
                    round(LABEL_W + est.low * BAR_W, 1),
                    round(LABEL_W + est.high * BAR_W, 1),
                    LABEL_W + BAR_W + 8,
                )
            )
        else:
            bars.append(Bar(label, est.text(m), False, y, 0, 0, 0, LABEL_W + 4))
    ticks = tuple(Tick(LABEL_W + f * BAR_W, f"{int(f * 100)}%") for f in (0, 0.25, 0.5, 0.75, 1))
    return Chart(
        chart_id,
        title,
        desc,
        CHART_W,
        TOP + len(bars) * ROW_H + BOTTOM,
        LABEL_W,
        ROW_H - 10,
        tuple(bars),
        ticks,
    )


def _odds_sentence(odds: OutcomeOdds, m: int) -> str:
    if not odds.shown:
        return f"Good outcomes with and without it: {odds.text(m)}."
    assert odds.ratio is not None and odds.low is not None and odds.high is not None
    corrected = (
        " (0.5 was added to each count, as one was zero: the Haldane-Anscombe correction)"
        if odds.corrected
        else ""
    )
    return (
        f"The odds of a good outcome were {ratio_text(odds.ratio)} times as high for people "
        f"who had it (95% interval {ratio_text(odds.low)} to {ratio_text(odds.high)})"
        f"{corrected}: {odds.with_factor.text(m)} of them had a good outcome, against "
        f"{odds.without_factor.text(m)} of the others."
    )


def _adjusted_sentence(model: AdjustedModel | None, block: str) -> str:
    """What the adjusted model says about one building block, in a sentence."""
    if model is None:
        return ""
    odds = model.get(block)
    if not model.shown or odds is None:
        return (
            f"Adjusted for the other building blocks and the budget option: {_not_adjusted(model)}."
        )
    clear = {
        "higher": "clearly higher",
        "lower": "clearly lower",
        "unclear": "not clearly different from 1",
    }[odds.verdict]
    return (
        "With the other two building blocks and the way the budget is managed held level, "
        f"the odds were {ratio_text(odds.ratio)} times as high (95% interval "
        f"{ratio_text(odds.low)} to {ratio_text(odds.high)}; {clear} once the three are "
        "compared together)."
    )


def _not_adjusted(model: AdjustedModel) -> str:
    if model.status == "unavailable":
        return f"not worked out here; install the statistics library ({INSTALL}) to get them"
    return f"not shown ({model.reason})"


def _adjusted_text(model: AdjustedModel | None) -> str:
    """The paragraph that says how the adjusted odds ratios were made, or why there are
    none."""
    if model is None:
        return ""
    if model.status == "unavailable":
        return (
            "Adjusted odds ratios (each building block with the others and the budget "
            "option held level) need the optional statistics library, which is not "
            f"installed: install it with {INSTALL} and run again to get them."
        )
    if not model.shown:
        return f"Adjusted odds ratios are not shown: {model.reason}."
    left = (
        f"; {model.left_out:,} more, whose budget option fewer than the threshold share, "
        "are left out"
        if model.left_out
        else ""
    )
    return (
        "The adjusted odds ratios come from a logistic regression of a good outcome on the "
        "three building blocks and the way the budget is managed (compared with "
        f"{_option_label(model.reference)}), fitted by statsmodels, with Wald 95% "
        f"intervals. It uses the {model.respondents:,} respondents who answered every "
        f"question it needs{left}."
    )


def _option_label(option: str | None) -> str:
    return {
        "direct_payment": "a direct payment",
        "individual_service_fund": "an individual service fund",
        "council_managed": "a council-managed budget",
        "mixed": "a mix of these",
    }.get(option or "", option or "")


def _distribution_table(
    table_id: str, caption: str, corner: str, items, headline: str, m: int
) -> Table:
    first = items[0]
    head = (*(label for _, label, _ in first.values), f"{headline} (95% interval)", "Answered")
    rows = []
    for d in items:
        if not d.answered.shown:
            hidden = STATUS_TEXT[d.answered.status].format(n=m)
            rows.append(Row(d.label, (*(hidden for _ in d.values), hidden, hidden)))
            continue
        shares = tuple(pct(e.share) if e.shown else e.text(m) for _, _, e in d.values)
        rows.append(
            Row(d.label, (*shares, d.summary.text(m) if d.summary else "", f"{d.answered.value:,}"))
        )
    return Table(table_id, caption, corner, head, tuple(rows))


def _answers_table(d, m: int) -> Table:
    rows = []
    for _value, label, est in d.values:
        rows.append(Row(label, (est.text(m), _fraction(est))))
    if d.blank is not None:
        rows.append(Row("Left blank (not counted in the shares)", ("", f"{d.blank:,}")))
    return Table(
        f"xp-answers-{d.id}", d.label, "Answer", ("Share (95% interval)", "Count"), tuple(rows)
    )


def _odds_table(summary: SurveySummary, m: int) -> Table:
    rows = []
    adjusted = summary.adjusted
    for o in summary.odds:
        nat = o.national
        adj = adjusted.get(o.factor) if adjusted is not None else None
        if adjusted is not None and o.factor in ("heard", "simple", "in_control"):
            if adj is not None and adjusted.shown:
                adj_text = (
                    f"{ratio_text(adj.ratio)} ({ratio_text(adj.low)} to "
                    f"{ratio_text(adj.high)}); {ODDS_VERDICT_TEXT[adj.verdict].lower()}"
                )
            else:
                adj_text = "not shown"
        else:
            adj_text = ""
        ratio = o.text(m)
        if o.shown and o.corrected:
            ratio += " (0.5 added to each count, as one was zero)"
        rows.append(
            Row(
                o.label,
                (
                    o.with_factor.text(m),
                    o.without_factor.text(m),
                    ratio,
                    ODDS_VERDICT_TEXT[o.verdict] if o.shown else "",
                    adj_text,
                    f"{nat.statement} ({nat.source})" if nat else "",
                ),
            )
        )
    return Table(
        "xp-odds-table",
        "Odds of a good outcome with and without each factor",
        "Factor",
        (
            "Good outcome: had it",
            "Good outcome: did not",
            "Odds ratio (95% interval)",
            "A clear difference? (Holm)",
            "Adjusted odds ratio (95% interval)",
            "National finding",
        ),
        tuple(rows),
    )


def _odds_note(summary: SurveySummary) -> str:
    shown = sum(1 for o in summary.odds if o.shown)
    corrected = [o.label for o in summary.odds if o.shown and o.corrected]
    text = (
        f"A clear difference allows for the {shown} odds ratios compared together: "
        "Holm's method adjusts their p-values, and a difference is clear only when the "
        "adjusted p-value is below 0.05. The 95% intervals are not adjusted."
    )
    if corrected:
        text += (
            " Where a count was zero, 0.5 was added to each of the four counts first "
            f"(Haldane-Anscombe): {', '.join(corrected)}."
        )
    return text


def _national_table(summary: SurveySummary) -> Table:
    m = summary.min_group
    rows = []
    for c in summary.national:
        n = c.national
        year = str(n.year) if n.year else "year not given"
        rows.append(
            Row(
                n.statement,
                (
                    pct(n.figure) + (" or more" if n.bound == "at_least" else ""),
                    n.question,
                    f"{n.source}, {year}",
                    _local_text(c, m),
                    VERDICT_TEXT[c.verdict] + _holm_text(c),
                    n.note,
                ),
            )
        )
    return Table(
        "xp-national-table",
        "This survey beside the national POET figures",
        "National finding",
        (
            "National figure",
            "What POET asked (in our words)",
            "Source and year",
            "This survey",
            "Comparison",
            "How far the questions match",
        ),
        tuple(rows),
    )


def _local_text(c: Comparison, m: int) -> str:
    if c.local is None:
        return "not asked"
    text = c.local.text(m)
    if c.verdict == "different measure" and c.local_definition:
        text += f". This survey's measure: {c.local_definition}"
    return text


def _holm_text(c: Comparison) -> str:
    return "" if c.holm is None else f" ({p_text(c.holm)}, Holm)"


def _national_note(summary: SurveySummary) -> str:
    compared = sum(1 for c in summary.national if c.holm is not None)
    different = sum(1 for c in summary.national if c.verdict == "different measure")
    text = (
        "A council's figure is compared with a national one only where both count the same thing; "
    )
    if different:
        text += (
            f"{different} national figure{'s' if different != 1 else ''} "
            f"measure{'s' if different == 1 else ''} something different and "
            f"{'are' if different != 1 else 'is'} shown with both definitions, not compared. "
        )
    else:
        text += "every figure here does. "
    text += (
        f"The {compared} comparison{'s' if compared != 1 else ''} made "
        f"{'are' if compared != 1 else 'is'} judged together: Holm's method adjusts their "
        "p-values, and a figure is lower or higher only when the adjusted p-value is below "
        '0.05. Where POET gave a lower bound ("more than 80%"), a council can be found '
        "lower, never higher."
    )
    return text


def _groups_table(summary: SurveySummary) -> Table:
    m = summary.min_group
    cross = summary.breakdown("group_option")
    names = {i.id: i.label for i in summary.indicators}
    head = ("Respondents", *(names[i] for i in cross.indicators))
    rows = tuple(
        Row(
            cell.label,
            (_count_text(cell.respondents, m), *(cell.get(i).text(m) for i in cross.indicators)),
        )
        for cell in cross.cells
    )
    return Table(
        "xp-groups-table",
        "Building blocks and good outcomes by group and budget option",
        "Group and budget option",
        head,
        rows,
    )


def _gap_view(gap: GapResult, m: int) -> GapView:
    rows = []
    for c in gap.checks:
        side = "at least" if c.direction == "min" else "at most"
        figure = c.estimate.text(m)
        if c.estimate.shown:
            assert c.estimate.share is not None
            assert c.estimate.low is not None and c.estimate.high is not None
            t = c.threshold
            figure = (
                f"{pct_beside(c.estimate.share, t)} ({pct_beside(c.estimate.low, t)} to "
                f"{pct_beside(c.estimate.high, t)})"
            )
        conclusion = GAP_STATUS_TEXT[c.status]
        if c.holm is not None and c.status in ("gap", "unclear"):
            conclusion += f" ({p_text(c.holm)}, Holm)"
        rows.append(
            Row(
                f"{c.rule}: {c.title}",
                (
                    (c.claim[0].upper() + c.claim[1:]) if c.claim else "No such claim in the model",
                    f"{c.label}: {figure}",
                    f"{side} {pct(c.threshold)}",
                    conclusion,
                ),
            )
        )
    findings = tuple(
        GapFindingView(
            f.rule,
            next(c.title for c in gap.checks if c.rule == f.rule),
            f.severity,
            f.steps,
            f.message,
            f.waived,
            f.waiver_reason,
        )
        for f in gap.findings
    )
    tests = gap.tests
    respondents = f"{gap.respondents:,}" if gap.respondents is not None else "the"
    return GapView(
        model=gap.model_path,
        council=gap.council,
        council_matches=gap.council_matches,
        table=Table(
            "xp-gap-table",
            "What the model claims beside what people said",
            "Check",
            ("The model", "The survey", "Expected", "Conclusion"),
            tuple(rows),
        ),
        findings=findings,
        basis=BASIS_TEXT[gap.basis].format(n=respondents, council=gap.council),
        family=(
            f"The {tests} check{'s' if tests != 1 else ''} where the model makes the claim "
            "and the figure is shown are judged together: each figure is tested against "
            "its expected level, Holm's method adjusts the p-values for the number of "
            "checks, and a gap is found only where the adjusted p-value is below 0.05 and "
            "the figure is on the wrong side. With one check this is the same as the whole "
            "95% interval lying on the wrong side."
        ),
    )


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class SurveyPage:
    """What ``survey.html.j2`` and ``survey.md.j2`` get as ``report``."""

    title: str
    version: str
    experience: ExperienceView


def survey_json(summary: SurveySummary, gap: GapResult | None, version: str) -> str:
    """``survey.json``: the summary and gap checks (``as_dict``), sorted and stable."""
    data = {"sdsaudit_version": version, **figures(summary, gap)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_survey(summary: SurveySummary, gap: GapResult | None, version: str) -> dict[str, str]:
    """The three survey files (``survey.json``, ``survey.md``, ``survey.html``) as text."""
    view = build_experience(summary, gap)
    councils = [name for name, _ in summary.councils]
    who = councils[0] if len(councils) == 1 else f"{len(councils)} councils"
    page = SurveyPage(
        title=f"{who}: what people said about the personal budget process",
        version=version,
        experience=view,
    )
    return {
        "survey.json": survey_json(summary, gap, version),
        "survey.md": render("survey.md.j2", report=page),
        "survey.html": render("survey.html.j2", report=page),
    }


def survey_text(summary: SurveySummary, gap: GapResult | None) -> str:
    """The short summary ``sdsaudit survey`` prints: the blocks, good outcomes, gaps."""
    m = summary.min_group
    lines = [f"survey {summary.source}: {_count_text(summary.respondents, m)}"]
    odds = {o.factor: o for o in summary.odds}
    adjusted = summary.adjusted
    for block, name, _ in BLOCKS:
        est = summary.overall(block)
        line = f"  {name:<12} {est.text(m):<34} odds of a good outcome {odds[block].text(m)}"
        adj = adjusted.get(block) if adjusted is not None and adjusted.shown else None
        if adj is not None:
            line += f", adjusted {ratio_text(adj.ratio)} ({ratio_text(adj.low)} to {ratio_text(adj.high)})"
        lines.append(line)
    lines.append(f"  {'Good outcome':<12} {summary.overall('good_outcome').text(m)}")
    if adjusted is not None and adjusted.status == "unavailable":
        lines.append(f"  adjusted odds ratios: install the statistics library ({INSTALL})")
    if gap is not None:
        tally: dict[str, int] = {}
        for check in gap.checks:
            tally[check.status] = tally.get(check.status, 0) + 1
        said = ", ".join(f"{n} {status}" for status, n in tally.items())
        lines.append(f"gap checks against {gap.model_path}: {said}")
        if gap.basis != "single":
            respondents = f"{gap.respondents:,}" if gap.respondents is not None else "the"
            lines.append("  " + BASIS_TEXT[gap.basis].format(n=respondents, council=gap.council))
        for f in gap.findings:
            where = f"{f.path}:{f.line}" if f.line else f.path
            waived = " (waived)" if f.waived else ""
            lines.append(f"{where}: {f.rule} {f.severity}{waived}: {f.message}")
        for note in gap.notes:
            lines.append(f"  {note.rule} {note.kind.replace('_', ' ')}: {note.message}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the report


def with_experience(
    model: Model,
    result: CheckResult,
    summary: SurveySummary,
    catalogue: Catalogue,
    *,
    context: Context | None = None,
    use_waivers: bool = True,
) -> tuple[CheckResult, Catalogue, ExperienceView]:
    """What ``sdsaudit report --survey`` adds to one model's report.

    Returns the check result with the GAP findings (and notes) after the others, a
    catalogue that also knows the GAP rules (so the report can explain them like any
    other rule), and the Experience view for ``_experience.*.j2``. ``context`` shares
    the prepared graph the check used.
    """
    gap = check_gaps(model, summary, context=context, use_waivers=use_waivers)
    merged = replace(
        result, findings=result.findings + gap.findings, notes=result.notes + gap.notes
    )
    both = Catalogue(catalogue.rules + load_gap_catalogue().rules)
    return merged, both, build_experience(summary, gap)


__all__ = [
    "ExperienceView",
    "build_experience",
    "render_survey",
    "survey_json",
    "survey_text",
    "with_experience",
    "MIN_GROUP",
]
