"""A comparison in words and pictures: the text, JSON, Markdown and HTML of a stock-take
(or a scenario), the new model's map with changed steps marked, and writing them.

:func:`render_comparison` turns a :class:`~.compare.Comparison` into every format;
:func:`compare_paths` is ``sdsaudit compare``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz
from markupsafe import Markup

from ..analysis.findings import Finding
from ..errors import UsageError
from ..files import refuse_existing, write_set
from ..model.objects import Model
from ..model.source import DEFAULT_MAX_BYTES
from ..render.draw import DEFAULT_MAX_NODES, DEFAULT_TIMEOUT, MapUnavailable, render_map
from ..render.jinja import render
from ..render.map import build_map, days_words, map_description, map_outline
from ..render.present import clean, esc
from ..version import __version__
from ..words import plural, tidy
from .compare import (
    Comparison,
    Delta,
    FieldChange,
    FindingMatch,
    ModelInfo,
    StepInfo,
    compare_files,
)

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
        days = days_words(model, step, "plain")  # as the plain map shows it, so it stays
        body += f"<BR/><I>{esc(days)}</I>" if days else ""
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
    accessible SVG. Raises :class:`~sdsaudit.render.draw.MapUnavailable`."""
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
