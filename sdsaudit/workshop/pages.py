"""The workshop's pages: view-models in words, rendered by the project's one jinja2
environment (autoescaped; templates ``templates/workshop*.j2`` hold only loops and ifs).

The overview is the report's own view (:func:`sdsaudit.render.report.build_view`: the
scores, the main problems, the map and the map in words, the findings), with a form per
step; the map is drawn once per version of the model. The styles are the report's, served
as files (``/static/report.css``, ``/static/workshop.css``) so the pages keep a strict
Content-Security-Policy with no inline style or script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ..render.draw import MapUnavailable, map_svg
from ..render.jinja import render
from ..render.map import days_words
from ..render.present import clean, numbers_by_step, team_of
from ..render.report import build_view, draw_report_map
from ..render.report_view import ReportView
from ..version import __version__
from .edits import (
    EXTRA_ROWS,
    KIND_WORDS,
    PERSON_WORDS,
    TELL_WORDS,
    FieldError,
    Row,
    Values,
    neighbours,
    values_of,
)
from .session import Effect, Workshop, finding_words


@dataclass(frozen=True)
class Choice:
    """One option of a select, or one checkbox."""

    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class Common:
    """What every page shows: the council, the tokens a form carries, the file's state."""

    council: str
    path: str
    csrf: str
    revision: str
    elsewhere: bool
    version: str = __version__


def common(ws: Workshop, csrf: str) -> Common:
    return Common(clean(ws.model.council), ws.path, csrf, ws.revision, ws.changed_elsewhere())


def _inline(svg: str | None) -> Markup | None:
    if svg is None:
        return None
    return Markup(svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1))


def _report(ws: Workshop) -> ReportView:
    def build() -> Any:
        audit = ws.audit
        # one layout, not three: the page is redrawn after every save
        drawn = draw_report_map(audit.model, audit.result, numbered=audit.numbered, quick=True)
        return build_view(
            audit.model,
            audit.result,
            audit.scores,
            audit.catalogue,
            drawn=drawn,
            numbered=audit.numbered,
        )

    view = ws.page("report", build)
    assert isinstance(view, ReportView)
    return view


@dataclass(frozen=True)
class StepLink:
    id: str
    name: str
    team: str
    problems: int
    note: str


def overview(ws: Workshop, csrf: str, shown: Effect | None) -> str:
    """The overview: what the last change did, the scores, the main problems, the map, the
    person's journey in words, the findings, the group's notes and every step's form."""
    report = _report(ws)
    at = numbers_by_step(ws.audit.numbered)
    steps = tuple(
        StepLink(s.id, clean(s.name), team_of(ws.model, s), len(at.get(s.id, ())), s.note or "")
        for s in ws.audit.order
    )
    return render(
        "workshop.html.j2",
        page=common(ws, csrf),
        report=report,
        inline_svg=_inline(report.map.svg),
        effect=shown,
        last_save=ws.undo_stack[-1].what if ws.undo_stack else "",
        steps=steps,
        notes=tuple(s for s in steps if s.note),
    )


@dataclass(frozen=True)
class RowView:
    """One row of "where it goes next"."""

    n: int
    to: tuple[Choice, ...]
    share: str
    when: str
    rework: bool


def _choices(pairs: Sequence[tuple[str, str]], chosen: str) -> tuple[Choice, ...]:
    return tuple(Choice(v, label, v == chosen) for v, label in pairs)


def step_page(
    ws: Workshop,
    csrf: str,
    sid: str,
    *,
    values: Values | None = None,
    errors: Sequence[FieldError] = (),
    refused: str | None = None,
    shown: Effect | None = None,
) -> str:
    """A step's form (``values`` as the group typed them when a save was refused)."""
    model = ws.model
    step = model.step(sid)
    values = values or values_of(step)
    others = [(s.id, clean(s.name)) for s in ws.audit.order if s.id != sid]
    rows = [*values.rows, *(Row() for _ in range(EXTRA_ROWS))]
    row_views = tuple(
        RowView(n, _choices([("", "Choose a step"), *others], r.to), r.share, r.when, r.rework)
        for n, r in enumerate(rows)
    )
    numbered = [n for n in ws.audit.numbered if sid in n.finding.steps]
    problems = tuple(
        f"[{n.number}] {finding_words(model, n.finding, ws.catalogue)}" for n in numbered
    )
    by_id = model.step_by_id
    return render(
        "workshop_step.html.j2",
        page=common(ws, csrf),
        step=step,
        name=clean(step.name),
        parallel=step.kind == "parallel",
        branches=tuple(clean(by_id[b].name) for b in step.branches if b in by_id),
        join=clean(by_id[step.join].name) if step.join and step.join in by_id else "",
        values=values,
        kinds=_choices(list(KIND_WORDS.items()), values.kind),
        actors=_choices(
            [
                ("", "No team (support, end)"),
                *((a.id, clean(a.name)) for a in model.actors.values()),
            ],
            values.actor,
        ),
        persons=_choices(list(PERSON_WORDS.items()), values.person),
        tells=tuple(Choice(t, w, t in values.tells) for t, w in TELL_WORDS.items()),
        rows=row_views,
        problems=problems,
        errors=tuple(errors),
        error_for={e.field: e.message for e in errors if e.field},
        refused=refused,
        effect=shown,
        alongside=tuple(Choice(i, clean(by_id[i].name)) for i in neighbours(model, sid)),
    )


@dataclass(frozen=True)
class Slide:
    """One thing at a time, for a projector."""

    heading: str
    lines: tuple[str, ...]


def slides(ws: Workshop) -> tuple[Slide, ...]:
    """The present view's slides: the scores, each main problem, then each step in order."""
    report = _report(ws)
    model = ws.model
    out = [
        Slide(
            f"{report.council}: how the process scores",
            tuple(f"{b.name}: {b.rating.text}" for b in report.blocks)
            + (f"We found {len(ws.audit.numbered)} problems.",),
        )
    ]
    for n, p in enumerate(report.top_problems, start=1):
        where = "; ".join(p.places) if p.places else "the process as a whole"
        out.append(Slide(f"Main problem {n}: {p.title}", (f"Where: {where}.",)))
    at = numbers_by_step(ws.audit.numbered)
    findings = {n.number: n.finding for n in ws.audit.numbered}
    order = ws.audit.order
    for i, s in enumerate(order, start=1):
        lines = [f"Team: {team_of(model, s)}."]
        if s.kind not in ("parallel", "support", "end"):
            lines.append(f"How the person takes part: {PERSON_WORDS[s.person]}.")
        days = days_words(model, s)
        if days:
            lines.append(f"How long: {days}.")
        for number in at.get(s.id, ()):
            lines.append(
                f"Problem {number}: {finding_words(model, findings[number], ws.catalogue)}."
            )
        onward = [model.step(t.to).name for t in s.next if t.to in model.step_by_id]
        if s.kind == "parallel":
            lines.append(
                "These happen at the same time: "
                + "; ".join(model.step(b).name for b in s.branches if b in model.step_by_id)
                + "."
            )
        elif onward:
            lines.append("Next: " + "; ".join(clean(o) for o in onward) + ".")
        out.append(Slide(f"Step {i} of {len(order)}: {clean(s.name)}", tuple(lines)))
    return tuple(out)


def present_page(ws: Workshop, csrf: str, item: int) -> str:
    shown = slides(ws)
    item = min(max(item, 1), len(shown))
    return render(
        "workshop_present.html.j2",
        page=common(ws, csrf),
        slide=shown[item - 1],
        item=item,
        count=len(shown),
    )


def easy_page(ws: Workshop, csrf: str) -> str:
    """The easy read view: short sentences in large text, and the easy read map."""
    report = _report(ws)

    def draw() -> Any:
        try:
            return map_svg(
                ws.model, ws.audit.result, "easy-read", numbered=ws.audit.numbered, quick=True
            )
        except MapUnavailable:
            return None

    svg = ws.page("easy-map", draw)
    return render(
        "workshop_easy.html.j2",
        page=common(ws, csrf),
        report=report,
        inline_svg=_inline(svg if isinstance(svg, str) else None),
    )


def refused_page(message: str, status: str) -> str:
    """The page of a refused request (no token, a foreign address): no model content."""
    return render("workshop_refused.html.j2", message=message, status=status)
