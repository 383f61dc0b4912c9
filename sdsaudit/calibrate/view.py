"""The calibration in words and charts: the view the templates render, and the files.

:func:`build_view` works from the JSON document (``calibration.json``), so the same view
serves ``calibration.html`` / ``calibration.md`` and the report's section
(``sdsaudit report --calibration DIR``, which reads the document back with
:func:`read_calibration`, checking it as any input). Templates:
``templates/_calibration.html.j2`` and ``_calibration.md.j2`` (the section), wrapped by
``calibration.html.j2`` and ``calibration.md.j2``.

The chart is an inline SVG: for each step, a bar to the observed median with the middle
half (quartiles) drawn across it, and the model's days as a black diamond; every figure is
also written beside the bar and in the table after it, so nothing rests on colour or on
seeing the chart.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError, Problem
from ..render.charts import Bar, Chart, Row, Table, Tick
from ..render.jinja import render
from ..version import __version__
from ..words import number

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

LABEL_W, BAR_W, VALUE_W = 250, 300, 230
ROW_H, TOP, BOTTOM = 30, 28, 12


@dataclass(frozen=True)
class CalibrationView:
    """Everything the calibration section shows, in words."""

    title: str
    council: str
    model: str
    log: str
    version: str
    intro: str
    privacy: str
    headlines: tuple[str, ...]
    invisible: str
    chart: Chart | None
    steps: Table
    transitions: Table
    unmodelled: Table | None
    unseen: str
    deviations: Table | None
    person: Table
    groups: Table | None
    milestones: Table | None
    notes: tuple[str, ...]
    definitions: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _days(x: Any) -> str:
    if x is None:
        return "not shown"
    value = round(float(x), 1)
    return f"{number(value)} day{'' if value == 1 else 's'}"


def _pct(x: Any) -> str:
    return "not shown" if x is None else f"{round(float(x) * 100)}%"


def _interval(t: Mapping[str, Any]) -> str:
    if t.get("share") is None:
        return "not shown (too few cases)"
    return f"{_pct(t['share'])} ({_pct(t['share_low'])} to {_pct(t['share_high'])})"


def _count(x: Any, min_group: int) -> str:
    return f"fewer than {min_group}: not shown" if x is None else f"{int(x):,}"


def build_view(doc: Mapping[str, Any]) -> CalibrationView:
    """The view of a ``calibration.json`` document."""
    m = int(doc["min_group"])
    model = doc["model"]
    names = {str(k): str(v) for k, v in (doc.get("step_names") or {}).items()}
    names.update({s["step"]: s.get("name") or s["step"] for s in doc["steps"]})

    def name(sid: str | None) -> str:
        return "(the start)" if sid is None else names.get(sid, sid)

    cases = doc.get("cases")
    cld = doc.get("preset") == "cld"
    intro = (
        f"The process as recorded in {doc['log']}"
        + (" (a Client Level Data extract)" if cld else "")
        + ": "
        + (
            (f"{cases:,} requests" if cld else f"{cases:,} cases and {doc['events']:,} events")
            if cases is not None
            else "too few cases to show"
        )
        + (
            f" ({doc['ignored_events']:,} events of activities that are no step were left out)"
            if doc.get("ignored_events")
            else ""
        )
        + f", set beside the model of {model['council']} ({model['title']}, as of {model['as_of']})."
    )
    privacy = (
        f"To protect people's privacy, no figure is shown for fewer than {m} cases, and where such "
        "a figure could be worked out by subtracting the others from a total, the next smallest is "
        "not shown either. No case id, name, date of birth, NHS number or postcode is read into "
        "or written in these figures."
    )
    expected = doc["model_expected"]
    dts = doc["days_to_support"]
    headlines = []
    if doc.get("fitting_share") is not None:
        headlines.append(
            f"{_pct(doc['fitting_share'])} of cases followed the model all the way (started where it starts and took only its arrows)."
        )
    if dts.get("median") is not None:
        model_dts = expected.get("days_to_support")
        headlines.append(
            f"Days to support: a median of {_days(dts['median'])} (90% of cases within {_days(dts['p90'])}; mean {_days(dts.get('mean'))})"
            + (
                f", against the model's expected {'at least ' if expected.get('days_to_support_is_at_least') else ''}{_days(model_dts)}."
                if model_dts is not None
                else "."
            )
        )
    if doc.get("contribution_late_share") is not None:
        headlines.append(
            f"The person learnt what they must pay only after sign-off or arranging in {_pct(doc['contribution_late_share'])} of the cases that reached them"
            + (
                "; the model says this happens on its routes (SEQ-04)."
                if expected.get("contribution_late")
                else "; the model says it never should."
            )
        )
    slow = [s for s in doc["steps"] if s.get("model_outside_middle_half") == "below"]
    fast = [s for s in doc["steps"] if s.get("model_outside_middle_half") == "above"]
    for s in slow:
        headlines.append(
            f"'{name(s['step'])}' takes longer than the model says: a median of {_days(s['median_days'])} against {_days(s['model_days'])}."
        )
    for s in fast:
        headlines.append(
            f"'{name(s['step'])}' is quicker than the model says: a median of {_days(s['median_days'])} against {_days(s['model_days'])}."
        )
    for t in doc["transitions"]:
        if t.get("model_share_inside_interval") is False and t.get("cases"):
            headlines.append(
                f"From '{name(t['from'])}' to '{name(t['to'])}': {_interval(t)} of the cases leaving it, against the model's {_pct(t['model_share'])}."
            )
    for t in doc["unmodelled"][:3]:
        if t.get("cases") is not None:
            headlines.append(
                f"Not in the model: {t['cases']:,} cases went from '{name(t['from'])}' to '{name(t['to'])}'."
            )
    for ms in doc.get("milestones") or ():
        if ms.get("median_days") is not None:
            model_ms = ms.get("model_days")
            headlines.append(
                f"From '{name(ms['from'])}' to '{name(ms['to'])}': a median of {_days(ms['median_days'])} "
                f"(90% within {_days(ms['p90_days'])})"
                + (
                    f", against the model's {_days(model_ms)}."
                    if model_ms is not None
                    else "; the model gives no time for it."
                )
            )
    invisible = ""
    if doc.get("invisible_steps"):
        invisible = (
            "Client Level Data records requests, assessments, services and reviews only. "
            f"Planning, sign-offs and panels are invisible in it, and so is every other step of the model between them ({', '.join(repr(name(s)) for s in doc['invisible_steps'])}): their time is inside the milestones below, and whether the person knew their contribution in time cannot be seen."
        )
    return CalibrationView(
        title=f"{model['council']}: the process as recorded",
        council=model["council"],
        model=model["path"],
        log=doc["log"],
        version=__version__,
        intro=intro,
        privacy=privacy,
        headlines=tuple(headlines),
        invisible=invisible,
        chart=_chart(doc["steps"], m),
        steps=_steps_table(doc["steps"], m),
        transitions=_transitions_table(doc["transitions"], name, m),
        unmodelled=_unmodelled_table(doc["unmodelled"], name, m) if doc["unmodelled"] else None,
        unseen=(
            "Arrows of the model that no case took: "
            + "; ".join(f"'{name(u['from'])}' to '{name(u['to'])}'" for u in doc["unseen"])
            + "."
            if doc["unseen"]
            else ""
        ),
        deviations=_deviations_table(doc["deviations"], name) if doc["deviations"] else None,
        person=_person_table(doc, m),
        groups=_groups_table(doc, m) if doc["groups"] else None,
        milestones=_milestones_table(doc["milestones"], name, m) if doc.get("milestones") else None,
        notes=tuple(str(n) for n in doc.get("notes", ())),
        definitions=DEFINITIONS,
    )


DEFINITIONS = (
    (
        "days_of_a_step",
        "From the event's own start to its own end when the log gives both; otherwise from the event before it (as the model sees it: inside a parallel block, the event before it in the same branch) to this one. 'Timed from' says which.",
    ),
    (
        "middle_half",
        "The observed middle half runs from the 25th to the 75th percentile. A model's days outside it are flagged.",
    ),
    (
        "share",
        "A transition's share is the times cases left its first step that way, over all the times cases left that step (by the model's arrows or not), with a 95% Wilson interval. A case sent back and done again leaves a step more than once.",
    ),
    (
        "follows_the_model",
        "A case follows the model when its first event is at a step where the model starts and every move from one event to the next (as the model sees it) is an arrow of the model. A case still open counts if it has followed the model so far.",
    ),
    (
        "contribution_late",
        "Among cases that reached a sign-off (approval) or arranging step, those in which no step that tells the person their contribution was done before the first of them.",
    ),
    (
        "days_to_support",
        "From a case's first event to its first event at a support step, for cases that reached support. The model's figure is its expected days to support (a mean).",
    ),
    (
        "hand_offs",
        "A move between steps done by different council teams (or other organisations), as the model counts them, compared with the council's target.",
    ),
)


def _chart(steps: Sequence[Mapping[str, Any]], m: int) -> Chart | None:
    rows = [s for s in steps if s.get("median_days") is not None or s.get("model_days") is not None]
    rows = [s for s in rows if s.get("model_days") is not None or s.get("median_days") is not None]
    rows = [s for s in rows if s.get("model_days") is not None or s.get("model_days_unknown")]
    if not rows:
        return None
    top = max(
        float(v)
        for s in rows
        for v in (s.get("p75_days"), s.get("median_days"), s.get("model_days"), 1)
        if v is not None
    )
    step = _tick_step(top)
    scale_max = math.ceil(top / step) * step
    bars = []
    for n, s in enumerate(rows):
        y = TOP + n * ROW_H
        label = s.get("name") or s["step"]
        model = s.get("model_days")
        model_x = None if model is None else round(LABEL_W + float(model) / scale_max * BAR_W, 1)
        model_text = (
            "model: not known" if model is None else f"model {number(round(float(model), 1))}"
        )
        if s.get("median_days") is None:
            text = f"not shown (fewer than {m} cases); {model_text}"
            bars.append(Bar(label, text, False, y, 0, 0, 0, LABEL_W + 4, model_x=model_x))
            continue
        x = lambda v: round(LABEL_W + float(v) / scale_max * BAR_W, 1)  # noqa: E731
        text = f"{number(round(s['median_days'], 1))} days; {model_text}"
        bars.append(
            Bar(
                label,
                text,
                True,
                y,
                round(float(s["median_days"]) / scale_max * BAR_W, 1),
                x(s.get("p25_days") or s["median_days"]),
                x(s.get("p75_days") or s["median_days"]),
                LABEL_W + BAR_W + 10,
                model_x=model_x,
            )
        )
    ticks = tuple(
        Tick(round(LABEL_W + v / scale_max * BAR_W, 1), f"{number(v)}")
        for v in _range(0, scale_max, step)
    )
    return Chart(
        "cal-chart-days",
        "Days at each step: as recorded (median, with the middle half) and in the model (diamond)",
        "Bar chart: for each step, a bar to the median days observed, a line across it from the "
        "25th to the 75th percentile, and a black diamond at the days the model gives. The same "
        "figures are in the table after it.",
        LABEL_W + BAR_W + VALUE_W,
        TOP + len(bars) * ROW_H + BOTTOM,
        LABEL_W,
        ROW_H - 10,
        tuple(bars),
        ticks,
    )


def _tick_step(top: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if top / step <= 6:
            return step
    return 10 ** math.ceil(math.log10(top / 6))


def _range(start: float, stop: float, step: float) -> list[float]:
    out, v = [], start
    while v <= stop + 1e-9:
        out.append(v)
        v += step
    return out


def _steps_table(steps: Sequence[Mapping[str, Any]], m: int) -> Table:
    rows = []
    for s in steps:
        if s.get("model_days_unknown"):
            model = "not known"
        elif s.get("model_days") is None:
            model = (
                "not counted (support or an end)"
                if s.get("kind") in ("support", "end")
                else "not given"
            )
        else:
            model = _days(s["model_days"])
        middle = (
            f"{number(round(s['p25_days'], 1))} to {number(round(s['p75_days'], 1))} days"
            if s.get("p25_days") is not None
            else "not shown"
        )
        verdict = {
            "below": "Model is below the middle half: it takes longer than modelled",
            "above": "Model is above the middle half: it is quicker than modelled",
        }.get(
            s.get("model_outside_middle_half") or "",
            "Model within the middle half"
            if s.get("p25_days") is not None and s.get("model_days") is not None
            else "",
        )
        rows.append(
            Row(
                s.get("name") or s["step"],
                (
                    _count(s.get("cases"), m) if s.get("cases") != 0 else "0",
                    _days(s.get("median_days")),
                    _days(s.get("p90_days")),
                    middle,
                    model,
                    verdict,
                    s.get("basis") or "",
                ),
            )
        )
    return Table(
        "cal-steps",
        "Days at each step, as recorded and as modelled",
        "Step",
        ("Cases", "Median", "90th percentile", "Middle half", "Model", "Compared", "Timed from"),
        tuple(rows),
    )


def _transitions_table(transitions: Sequence[Mapping[str, Any]], name, m: int) -> Table:
    rows = []
    for t in transitions:
        inside = t.get("model_share_inside_interval")
        rows.append(
            Row(
                f"{name(t['from'])} to {name(t['to'])}",
                (
                    _count(t.get("cases"), m),
                    _interval(t),
                    _pct(t.get("model_share")),
                    ""
                    if inside is None
                    else "Agrees (inside the interval)"
                    if inside
                    else "Differs (outside the interval)",
                ),
            )
        )
    return Table(
        "cal-transitions",
        "Where cases went from each step: the model's arrows",
        "Arrow",
        ("Cases", "Observed share (95% interval)", "Model's share", "Compared"),
        tuple(rows),
    )


def _unmodelled_table(rows_in: Sequence[Mapping[str, Any]], name, m: int) -> Table:
    return Table(
        "cal-unmodelled",
        "Moves the log shows that the model has no arrow for",
        "Move",
        ("Cases", "Share of the cases leaving"),
        tuple(
            Row(
                f"{name(t['from'])} to {name(t['to'])}",
                (_count(t.get("cases"), m), _pct(t.get("share"))),
            )
            for t in rows_in
        ),
    )


def _deviations_table(rows_in: Sequence[Mapping[str, Any]], name) -> Table:
    return Table(
        "cal-deviations",
        "The commonest ways cases first leave the model",
        "Where",
        ("Cases",),
        tuple(
            Row(
                f"Started at '{name(d['to'])}'"
                if d.get("from") is None
                else f"'{name(d['from'])}' to '{name(d['to'])}'",
                (f"{d['cases']:,}",),
            )
            for d in rows_in
        ),
    )


def _person_rows(g: Mapping[str, Any], expected: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    dts = g.get("days_to_support") or {}
    model_dts = expected.get("days_to_support")
    return [
        (
            "Days to support (median; 90th percentile)",
            f"{_days(dts.get('median'))}; {_days(dts.get('p90'))}",
            ("at least " if expected.get("days_to_support_is_at_least") else "")
            + f"{_days(model_dts)} expected (mean)"
            if model_dts is not None
            else "not known",
        ),
        ("Followed the model all the way", _pct(g.get("fitting_share")), ""),
        (
            "Contribution known only after sign-off or arranging",
            _pct(g.get("contribution_late_share")),
            "on the model's routes (SEQ-04)" if expected.get("contribution_late") else "never",
        ),
        (
            "Assessed more than once",
            _pct(g.get("repeated_assessment_share")),
            f"at most {number(expected['assessments_max'])} on any route"
            if expected.get("assessments_max") is not None
            else "",
        ),
        (
            "More hand-offs than the council's target",
            _pct(g.get("over_handoff_target_share")),
            f"target: at most {number(expected['max_handoffs_target'])}",
        ),
    ]


def _person_table(doc: Mapping[str, Any], m: int) -> Table:
    expected = doc["model_expected"]
    return Table(
        "cal-person",
        "The person's side, from the records",
        "Measure",
        ("As recorded", "In the model"),
        tuple(Row(a, (b, c)) for a, b, c in _person_rows(doc, expected)),
    )


def _groups_table(doc: Mapping[str, Any], m: int) -> Table:
    rows = []
    for g in doc["groups"]:
        dts = g.get("days_to_support") or {}
        model = ""
        if g.get("model_group") and g.get("model_days_to_support") is not None:
            model = f"{_days(g['model_days_to_support'])} expected"
        rows.append(
            Row(
                str(g["group"]) or "Group not stated",
                (
                    _count(g.get("cases"), m),
                    _pct(g.get("fitting_share")),
                    _pct(g.get("contribution_late_share")),
                    f"{_days(dts.get('median'))}; {_days(dts.get('p90'))}",
                    model,
                ),
            )
        )
    return Table(
        "cal-groups",
        f"By group ({doc.get('group_column') or 'group'})",
        "Group",
        (
            "Cases",
            "Followed the model",
            "Contribution known late",
            "Days to support (median; 90th percentile)",
            "The model's group",
        ),
        tuple(rows),
    )


def _milestones_table(rows_in: Sequence[Mapping[str, Any]], name, m: int) -> Table:
    return Table(
        "cal-milestones",
        "Milestones the records show, against the model's time between them",
        "Milestone",
        ("Cases", "Median", "90th percentile", "Model"),
        tuple(
            Row(
                f"{name(r['from'])} to {name(r['to'])}",
                (
                    _count(r.get("cases"), m),
                    _days(r.get("median_days")),
                    _days(r.get("p90_days")),
                    _days(r.get("model_days")) if r.get("model_days") is not None else "not known",
                ),
            )
            for r in rows_in
        ),
    )


# --------------------------------------------------------------------------- files


def calibration_json(doc: Mapping[str, Any]) -> str:
    return json.dumps({"sdsaudit_version": __version__, **doc}, indent=2, ensure_ascii=False) + "\n"


def render_files(doc: Mapping[str, Any]) -> dict[str, str]:
    """``calibration.json``, ``.md`` and ``.html`` for a calibration document."""
    view = build_view(doc)
    return {
        "calibration.json": calibration_json(doc),
        "calibration.md": render("calibration.md.j2", calibration=view),
        "calibration.html": render("calibration.html.j2", calibration=view),
    }


def text_summary(doc: Mapping[str, Any], written: Sequence[Path] = ()) -> str:
    """What ``calibrate --format text`` prints: the headlines and the step table."""
    view = build_view(doc)
    lines = [view.title, "", view.intro, ""]
    lines += [f"- {h}" for h in view.headlines]
    lines += ["", view.steps.caption + ":"]
    for row in view.steps.rows:
        lines.append(
            f"  {row.label}: {row.cells[0]} cases, median {row.cells[1]}, model {row.cells[4]}"
        )
    if view.milestones is not None:
        lines += ["", view.milestones.caption + ":"]
        for row in view.milestones.rows:
            lines.append(
                f"  {row.label}: {row.cells[0]} cases, median {row.cells[1]}, model {row.cells[3]}"
            )
    if view.invisible:
        lines += ["", view.invisible]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- reading back


_REQUIRED = {
    "model": dict,
    "log": str,
    "min_group": int,
    "steps": list,
    "transitions": list,
    "unmodelled": list,
    "unseen": list,
    "deviations": list,
    "groups": list,
    "days_to_support": dict,
    "model_expected": dict,
}


def read_calibration(folder: str) -> dict[str, Any]:
    """Read ``calibration.json`` from ``folder`` (as ``calibrate -o`` wrote it), checked."""
    path = Path(folder) / "calibration.json"
    where = str(path)
    if not path.is_file():
        raise ModelError(
            [
                Problem(
                    where,
                    None,
                    None,
                    f"no calibration.json in {folder}: give the folder 'sdsaudit calibrate -o' wrote",
                )
            ]
        )
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise ModelError(
            [
                Problem(
                    where,
                    None,
                    None,
                    "the file is larger than 16 MiB: it is not a calibration sdsaudit wrote",
                )
            ]
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        raise ModelError(
            [
                Problem(
                    where,
                    line,
                    col,
                    "this is not a calibration.json sdsaudit can read: run sdsaudit calibrate again",
                )
            ]
        ) from None
    problems = []
    if not isinstance(doc, dict):
        doc = {}
    for key, kind in _REQUIRED.items():
        if not isinstance(doc.get(key), kind):
            problems.append(
                Problem(
                    where,
                    None,
                    None,
                    f"'{key}' is missing or has the wrong type: run sdsaudit calibrate again",
                )
            )
    if not problems:
        try:
            build_view(doc)
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(
                Problem(
                    where,
                    None,
                    None,
                    "the calibration is incomplete or changed by hand: run sdsaudit calibrate again",
                )
            )
    if problems:
        raise ModelError(problems)
    return doc
