"""A comparison in words and pictures: the text, JSON, Markdown and HTML of a stock-take
(or a scenario), the new model's map with changed steps marked, and writing them.

:func:`render_comparison` turns a :class:`~.compare.Comparison` into every format;
:func:`compare_paths` is ``sdsaudit compare``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
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
from ..render.map import build_map, map_description, map_outline
from ..render.present import clean, esc
from ..version import __version__
from ..words import join_and, plural, tidy
from .compare import (
    Comparison,
    Delta,
    FieldChange,
    FindingMatch,
    GroupChange,
    ModelInfo,
    StepInfo,
    compare_files,
    match_groups,
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


def side_words(delta: Delta, side: str) -> str:
    """One side of a delta for people: the figure, ``at least N days`` where it rests on
    unknown days, and a score's best case beside it (``41 (up to 63)``)."""
    value = getattr(delta, side)
    bound = getattr(delta, f"{side}_at_least")
    if value is None and bound is not None:
        return f"at least {number_words(bound, delta.key)} days"
    words = number_words(value, delta.key)
    best = getattr(delta, f"{side}_best")
    if best is not None:
        words += f" (up to {number_words(best, delta.key)})"
    return words


def delta_words(delta: Delta, old_label: str = "old", new_label: str = "new") -> str:
    """``'2 to 1 (down 1, better)'``: the change in words, with an arrow where it moved.

    The arrow shows the direction of the number; the word says whether that is good,
    so neither colour nor the arrow alone carries the meaning. A time resting on unknown
    days reads ``at least 30 days, was 24`` and is better or worse only when that holds
    whatever the unknown days are (see :func:`bounded_words`). A score with a best case
    shows it (``41 (up to 63)``); when the best cases leave the verdict open, it says the
    verdict counts what is not known at its worst.
    """
    if delta.bounded:
        return bounded_words(delta, old_label, new_label)
    old, new = side_words(delta, "old"), side_words(delta, "new")
    if delta.delta is None:
        return f"{old} to {new} (not comparable)"
    if delta.delta == 0:
        if delta.old_best != delta.new_best:
            return f"{old} to {new} (no change in the score)"
        return f"{old} (no change)"
    size = number_words(abs(delta.delta), delta.key)
    arrow, way = ("▲", "up") if delta.delta > 0 else ("▼", "down")
    verdict = "" if delta.direction == "changed" else f", {delta.direction}"
    if delta.has_best and not _beyond_best(delta):
        verdict += ", with what is not known counted at its worst"
    return f"{old} to {new} ({arrow} {way} {size}{verdict})"


def _beyond_best(delta: Delta) -> bool:
    """Whether a score moved past the other side's whole range (score to best case), so
    the verdict holds whatever is not known."""
    assert delta.old is not None and delta.new is not None and delta.delta is not None
    old_top = delta.old if delta.old_best is None else delta.old_best
    new_top = delta.new if delta.new_best is None else delta.new_best
    return delta.new > old_top if delta.delta > 0 else new_top < delta.old


def bounded_words(delta: Delta, old_label: str = "old", new_label: str = "new") -> str:
    """A time where a side rests on unknown days: ``at least 30 days, was 24 (▲ up at least
    6, worse whatever the days at contact turn out to be)`` when the bound alone decides,
    else ``(not comparable: the new time rests on steps whose days are not known: ...)``."""

    def side(name: str) -> str:
        value = getattr(delta, name)
        bound = getattr(delta, f"{name}_at_least")
        if value is None and bound is not None:
            return f"at least {number_words(bound, delta.key)}"
        return number_words(value, delta.key)

    text = f"{side('new')} days, was {side('old')}"
    unknown = delta.old_unknown or delta.new_unknown
    if delta.moved_at_least is not None:
        size = number_words(abs(delta.moved_at_least), delta.key)
        arrow, way = ("▲", "up") if delta.moved_at_least > 0 else ("▼", "down")
        verdict = "" if delta.direction == "changed" else f", {delta.direction}"
        return (
            f"{text} ({arrow} {way} at least {size}{verdict} whatever the days at "
            f"{', '.join(unknown)} turn out to be)"
        )
    old_l, new_l = old_label.lower(), new_label.lower()
    if delta.old_unknown and delta.new_unknown:
        why = (
            f"both times rest on steps whose days are not known ({old_l}: "
            f"{', '.join(delta.old_unknown)}; {new_l}: {', '.join(delta.new_unknown)})"
        )
    elif delta.new_unknown and delta.old is not None:
        why = f"the {new_l} time rests on steps whose days are not known: {', '.join(unknown)}"
    elif delta.old_unknown and delta.new is not None:
        why = f"the {old_l} time rests on steps whose days are not known: {', '.join(unknown)}"
    else:  # the other side is not known at all
        why = f"the {new_l if delta.old_unknown else old_l} time is not known"
    return f"{text} (not comparable: {why})"


def _pct(share: Any) -> str:
    return "share not known" if share is None else f"{tidy(share * 100, 2)}%"


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


def _ids(values: Any) -> str:
    return join_and(clean(str(v)) for v in values)


def _days_words(old: Any, new: Any) -> str:
    if new == "unknown":
        return f"days: was {_value_words(old)}, now not known"
    return f"days: was not known, now {_value_words(new)}"


def _branches_words(old: list[str], new: list[str]) -> str:
    if not old:
        return f"branches: now starts {_ids(new)} at the same time"
    if not new:
        return f"branches: no longer starts steps at the same time (was {_ids(old)})"
    parts = (
        [f"now also starts {_ids(v for v in new if v not in old)}"] if set(new) - set(old) else []
    )
    if set(old) - set(new):
        parts.append(f"no longer starts {_ids(v for v in old if v not in new)}")
    return "branches: " + ("; ".join(parts) or "reordered") + " (all at the same time)"


def _join_words(old: str | None, new: str | None) -> str:
    if old is None:
        return f"join: the case now goes on at {clean(str(new))} when every branch is done"
    if new is None:
        return f"join: removed (the case went on at {clean(old)} when every branch was done)"
    return f"join: the branches now meet at {clean(new)}, was {clean(old)}"


def _alongside_words(old: list[str], new: list[str]) -> str:
    if not old:
        return f"now runs alongside {_ids(new)} (at the same time)"
    if not new:
        return f"no longer runs alongside {_ids(old)}: now on its own"
    parts = []
    if set(new) - set(old):
        parts.append(f"now also runs alongside {_ids(v for v in new if v not in old)}")
    if set(old) - set(new):
        parts.append(f"no longer runs alongside {_ids(v for v in old if v not in new)}")
    return "; ".join(parts) or "runs alongside the same steps"


def _sources_words(old: list[str], new: list[str]) -> str:
    parts = []
    if set(new) - set(old):
        also = "also " if old else ""
        parts.append(f"now {also}documented in {_ids(v for v in new if v not in old)}")
    if set(old) - set(new):
        parts.append(f"no longer documented in {_ids(v for v in old if v not in new)}")
    return "sources: " + ("; ".join(parts) or "reordered")


def _assumed_words(old: list[str], new: list[str]) -> str:
    parts = []
    gained = [v for v in new if v not in old]
    lost = [v for v in old if v not in new]
    if gained:
        what = "assumptions (no source states them)" if len(gained) > 1 else "an assumption"
        if len(gained) == 1:
            what += " (no source states it)"
        parts.append(f"{_ids(gained)} now marked as {what}")
    if lost:
        parts.append(f"{_ids(lost)} no longer marked as assumed")
    return "assumed: " + ("; ".join(parts) or "reordered")


def _restriction(value: Any) -> tuple[str, str, str | None]:
    if isinstance(value, dict):
        return value["text"], value.get("basis") or "council", value.get("ref")
    return str(value), "council", None


def _basis_words(basis: str, ref: str | None) -> str:
    who = (
        "set by law, which the council cannot change"
        if basis == "law"
        else "the council's own choice"
    )
    return who + (f" ({clean(ref)})" if ref else "")


def _restrictions_words(name: str, old: list[Any], new: list[Any]) -> str:
    before = {t: (b, r) for t, b, r in map(_restriction, old)}
    after = {t: (b, r) for t, b, r in map(_restriction, new)}
    parts = []
    for text, (basis, ref) in after.items():
        if text not in before:
            law = f" ({_basis_words(basis, ref)})" if basis == "law" or ref else ""
            parts.append(f"added {clean(text)}{law}")
        elif before[text][0] != basis:
            parts.append(
                f"{clean(text)}: now {_basis_words(basis, ref)}, was {_basis_words(*before[text])}"
            )
        elif before[text][1] != ref:
            was = before[text][1]
            if ref is None:
                parts.append(f"{clean(text)}: reference removed (was {clean(str(was))})")
            elif was is None:
                parts.append(f"{clean(text)}: reference added ({clean(ref)})")
            else:
                parts.append(f"{clean(text)}: reference now {clean(ref)} (was {clean(was)})")
    for text, (basis, ref) in before.items():
        if text not in after:
            law = f" ({_basis_words(basis, ref)})" if basis == "law" or ref else ""
            parts.append(f"removed {clean(text)}{law}")
    return f"{name}: " + ("; ".join(parts) or "reordered")


def _group_words(group: Mapping[str, Any]) -> str:
    return f"{clean(str(group['when']))} (start at {clean(group['to'])}, {_pct(group['share'])})"


def _start_words(old: Any, new: Any) -> str:
    if isinstance(old, str) and isinstance(new, list):
        return (
            f"start: was one start for everyone at {clean(old)}; now "
            f"{plural(len(new), 'group')} of people: " + "; ".join(_group_words(g) for g in new)
        )
    if isinstance(old, list) and isinstance(new, str):
        return (
            f"start: was {plural(len(old), 'group')} of people ("
            + "; ".join(_group_words(g) for g in old)
            + f"); now one start for everyone at {clean(new)}"
        )
    pairs = {n: o for o, n in match_groups(old, new)}
    parts = []
    for n, g in enumerate(new):
        if n not in pairs:
            parts.append(f"group {_group_words(g)} added")
            continue
        was, moved = old[pairs[n]], []
        if was["to"] != g["to"]:
            moved.append(f"now starts at {clean(g['to'])} (was {clean(was['to'])})")
        if was["share"] != g["share"]:
            moved.append(f"share was {_pct(was['share'])}, now {_pct(g['share'])}")
        if was["when"] != g["when"]:
            moved.append(f"was named {clean(str(was['when']))}")
        if moved:
            parts.append(f"group {clean(str(g['when']))}: {', '.join(moved)}")
    matched = set(pairs.values())
    parts += [f"group {_group_words(g)} removed" for i, g in enumerate(old) if i not in matched]
    return "start: " + ("; ".join(parts) or "groups reordered")


SPECIAL_WORDS: dict[str, Callable[[list[Any], list[Any]], str]] = {
    "branches": _branches_words,
    "alongside": _alongside_words,
    "sources": _sources_words,
    "assumed": _assumed_words,
}
"""Format 1.1 list fields with words of their own (plain words, not a list of values)."""


def change_words(change: FieldChange) -> str:
    """One field change in words: lists say what was added and removed; the format 1.1
    fields say what they mean ("now runs alongside plan", "days: was 10, now not known",
    a restriction now set by law, a single start becoming groups of people)."""
    old, new = change.old, change.new
    if change.name == "days" and "unknown" in (old, new):
        return _days_words(old, new)
    if change.name == "join":
        return _join_words(old, new)
    if change.name in SPECIAL_WORDS:
        return SPECIAL_WORDS[change.name](old or [], new or [])
    if change.name == "start" and (isinstance(old, list) or isinstance(new, list)):
        return _start_words(old, new)
    if (
        change.name in ("restrictions", "policies.restrictions")
        and isinstance(old, list)
        and isinstance(new, list)
        and any(isinstance(v, dict) for v in [*old, *new])
    ):
        return _restrictions_words(change.name, old, new)
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


def assumption_words(finding: Finding) -> str:
    """``'rests on an assumption: confirm days at assess'`` ('' when it rests on none)."""
    if not finding.assumptions:
        return ""
    parts = [
        f"confirm {join_and(a.fields)}" + (f" at {a.step}" if a.step else "")
        for a in finding.assumptions
    ]
    return "rests on an assumption: " + "; ".join(parts)


def finding_words(finding: Finding) -> str:
    """A finding on one line: rule, message, steps, whether it is accepted, and what it
    rests on that the model marks as assumed."""
    where = f" [{', '.join(finding.steps)}]" if finding.steps else ""
    accepted = " (accepted by a waiver)" if finding.waived else ""
    assumed = f" ({assumption_words(finding)})" if finding.assumptions else ""
    return f"{finding.rule} {finding.severity}: {clean(finding.message)}{where}{accepted}{assumed}"


def match_note(match: FindingMatch) -> str:
    """What moved in a persisting finding matched loosely ('' for an exact match)."""
    if match.how == "rule and subject":
        return f"was at {', '.join(match.old.steps) or 'the whole process'}"
    if match.how == "rule and steps":
        return f"was: {clean(match.old.message)}"
    return ""


def summary_lines(c: Comparison, old_label: str = "old", new_label: str = "new") -> list[str]:
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
        lines.append(f"{delta.label}: {delta_words(delta, old_label, new_label)}.")
    lines.append("Scores: " + "; ".join(f"{d.label} {delta_words(d)}" for d in c.scores) + ".")
    return lines


def group_heading(g: GroupChange, old_label: str = "old") -> str:
    """``'adults: start at contact, 80% of people (old: start at intake, 70%)'``."""
    now = f"{g.when}: start at {g.new_start}, {_pct(g.new_share)} of people"
    if (g.old_start, g.old_share) == (g.new_start, g.new_share):
        return now
    return f"{now} ({old_label.lower()}: start at {g.old_start}, {_pct(g.old_share)})"


def group_only_lines(c: Comparison, old_label: str = "Old", new_label: str = "New") -> list[str]:
    """The groups in one model only, and a line when no group is in both."""
    if c.groups is None:
        return []
    lines = []
    if c.groups.new_only:
        lines.append(
            f"Only in the {new_label.lower()} model (no figures to compare): "
            + "; ".join(c.groups.new_only)
        )
    if c.groups.old_only:
        lines.append(
            f"Only in the {old_label.lower()} model (no figures to compare): "
            + "; ".join(c.groups.old_only)
        )
    if not c.groups.both:
        lines.append("No group of people is in both models, so no group's measures are compared.")
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
    labels = (framing.old_label, framing.new_label)
    out += ["", "Summary"] + [f"  {line}" for line in summary_lines(c, *labels)]
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
    out += ["", "Measures"] + [f"  {d.label}: {delta_words(d, *labels)}" for d in c.metrics]
    if c.groups is not None:
        out += ["", "Measures for each group of people (matched by who they are for)"]
        for g in c.groups.both:
            out.append(f"  {group_heading(g, framing.old_label)}")
            out += [f"    {d.label}: {delta_words(d, *labels)}" for d in g.deltas]
        out += [f"  {line}" for line in group_only_lines(c, *labels)]
    out += [f"  {note}" for note in measure_notes(c)]
    out += ["", "Scores (out of 100; higher is better)"]
    out += [f"  {d.label}: {delta_words(d)}" for d in c.scores]
    out += [f"  {note}" for note in score_notes(c)]
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


def mark_key(graph: graphviz.Digraph, marks: Mapping[str, str], since: str) -> None:
    """The key's line for the steps a map built with ``marks`` (:func:`build_map`) marks:
    their words in bold and the thick outline, and what they mean."""
    if not marks:
        return
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
    marks = changed_marks(c)
    graph = build_map(new, None, "plain", marks=marks)
    mark_key(graph, marks, since)
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
class GroupView:
    """One start group in both models: who it is for, where it starts, and its measures."""

    heading: str
    rows: tuple[Row, ...]


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
    groups_shown: bool = False
    groups: tuple[GroupView, ...] = ()
    groups_only: tuple[str, ...] = ()
    measure_notes: tuple[str, ...] = ()
    score_notes: tuple[str, ...] = ()


def _finding_row(f: Finding, note: str = "") -> FindingRow:
    accepted = "accepted by a waiver" if f.waived else ""
    return FindingRow(
        f.rule,
        f.severity,
        clean(f.message),
        ", ".join(f.steps) or "whole process",
        "; ".join(x for x in (note, accepted, assumption_words(f)) if x),
    )


def _delta_row(d: Delta, old_label: str = "old", new_label: str = "new") -> Row:
    return Row(
        d.label,
        (side_words(d, "old"), side_words(d, "new"), delta_words(d, old_label, new_label)),
        d.direction.replace(" ", "-"),
    )


UNKNOWN_TIME_NOTE = (
    "A time shown as 'at least' rests on steps whose days nobody has published: they are "
    "counted as 0, so the real time may be longer. Such a time is called better or worse "
    "only when that holds whatever those days turn out to be; otherwise it is not comparable."
)
BEST_CASE_NOTE = (
    "A score shown as '41 (up to 63)' counts the policies the model leaves out and the times "
    "nobody knows at their worst; the second figure is the score with them at their best."
)


def measure_notes(c: Comparison) -> tuple[str, ...]:
    """How to read 'at least' times, when the comparison has any."""
    deltas = [*c.metrics, *(d for g in (c.groups.both if c.groups else ()) for d in g.deltas)]
    return (UNKNOWN_TIME_NOTE,) if any(d.bounded for d in deltas) else ()


def score_notes(c: Comparison) -> tuple[str, ...]:
    """How to read 'up to' scores, when the comparison has any."""
    return (BEST_CASE_NOTE,) if any(d.has_best for d in c.scores) else ()


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
        summary=tuple(summary_lines(c, framing.old_label, framing.new_label)),
        added=c.steps_added,
        removed=c.steps_removed,
        changed=tuple(
            StepChangeView(s.id, s.name, tuple(change_words(ch) for ch in s.changes))
            for s in c.steps_changed
        ),
        settings=tuple(change_words(ch) for ch in c.model_changes),
        metrics=tuple(_delta_row(d, framing.old_label, framing.new_label) for d in c.metrics),
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
        groups_shown=c.groups is not None,
        groups=tuple(
            GroupView(
                group_heading(g, framing.old_label),
                tuple(_delta_row(d, framing.old_label, framing.new_label) for d in g.deltas),
            )
            for g in (c.groups.both if c.groups else ())
        ),
        groups_only=tuple(group_only_lines(c, framing.old_label, framing.new_label)),
        measure_notes=measure_notes(c),
        score_notes=score_notes(c),
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
