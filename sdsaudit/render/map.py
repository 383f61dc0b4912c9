"""Process maps: a pure ``graphviz.Digraph`` built from a model, and one function that draws it.

:func:`build_map` never runs anything: its result can be inspected as DOT text
(``build_map(model).source``). :func:`render_map` is the only place that calls
the ``dot`` binary, under a time limit and a node cap; when it cannot draw the
map it raises :class:`MapUnavailable` so callers can ship the text version
(:func:`map_outline`, :func:`map_text`) with a visible note instead.

Every piece of user text (council, names, conditions) goes into the DOT source
as an HTML-like label escaped with :func:`html.escape`, so quotes, backslashes,
angle brackets and graphviz escapes such as ``\\l`` are shown literally.
"""

from __future__ import annotations

import html
import re
import resource
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from ..analysis.findings import BLOCKS, SEVERITIES, CheckResult, Finding
from ..errors import SdsauditError
from ..model.objects import Model, Step, Transition

VIEWS = ("findings", "plain", "easy-read")
"""The three kinds of map: problems numbered on it, no problems, and easy read."""

FORMATS = ("svg", "png", "pdf", "dot")
"""Output formats, chosen by the output file's suffix."""

DEFAULT_TIMEOUT = 20.0
"""Seconds ``dot`` may take before the map is given up (layout time grows steeply)."""

DEFAULT_MAX_NODES = 250
"""Largest map drawn: about 0.05 s at 100 nodes, 12 s at 300, over a minute at 1,000."""

FONT = "DejaVu Sans"

# Colours of the map. Every fill sits behind near-black text (contrast well over
# 4.5:1) and every outline is dark enough against white (3:1 or more); colour
# never carries meaning on its own: shapes, line styles and words do.
PALETTE = {
    "text": "#1a1a1a",
    "line": "#4d4d4d",
    "person_fill": "#fff4cc",
    "person_line": "#1a1a1a",
    "lane_fill": "#f5f7fa",
    "lane_line": "#5c6670",
    "approval_fill": "#fde2e1",
    "panel_fill": "#f9c9c6",
    "decision_fill": "#e3ecfa",
    "support_fill": "#dff2e1",
    "end_fill": "#eeeeee",
    "step_fill": "#ffffff",
    "badge": "#8a1c13",
    "rework": "#8a1c13",
    "legend_fill": "#ffffff",
}


class MapUnavailable(SdsauditError):
    """The map could not be drawn; ``reason`` says why in plain English."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"the process map could not be drawn: {reason}")


# ----------------------------------------------------------------------------- numbering


@dataclass(frozen=True)
class NumberedFinding:
    """A finding with the number it carries on the map and in the report."""

    number: int
    block: str
    finding: Finding


def primary_block(finding: Finding) -> str:
    """The building block a finding is listed under: its first in report order."""
    for block in BLOCKS:
        if block in finding.blocks:
            return block
    return BLOCKS[0]


def number_findings(result: CheckResult | None) -> tuple[NumberedFinding, ...]:
    """Number the findings that count (not waived), grouped by building block.

    Order: building block (heard, simple, in control), then severity (errors
    first), then the engine's own order. The map's badges and the report's
    numbered list both use this, so ``[3]`` on the map is finding 3 in the text.
    """
    if result is None:
        return ()
    live = [(i, f) for i, f in enumerate(result.findings) if not f.waived]
    live.sort(
        key=lambda item: (
            BLOCKS.index(primary_block(item[1])),
            -SEVERITIES.index(item[1].severity),
            item[0],
        )
    )
    return tuple(NumberedFinding(n, primary_block(f), f) for n, (_, f) in enumerate(live, start=1))


def numbers_by_step(numbered: Iterable[NumberedFinding]) -> dict[str, list[int]]:
    """Finding numbers per step id, ascending."""
    out: dict[str, list[int]] = {}
    for item in numbered:
        for step_id in dict.fromkeys(item.finding.steps):
            out.setdefault(step_id, []).append(item.number)
    return out


# ----------------------------------------------------------------------------- order and lanes


def step_order(model: Model) -> list[Step]:
    """Steps in breadth-first order from ``start`` (following ``next`` in file
    order), then any unreachable steps in file order. Deterministic."""
    seen: dict[str, None] = {}
    queue = deque([model.start] if model.start in model.step_by_id else [])
    while queue:
        step_id = queue.popleft()
        if step_id in seen:
            continue
        seen[step_id] = None
        for transition in model.step(step_id).next:
            if transition.to in model.step_by_id and transition.to not in seen:
                queue.append(transition.to)
    order = [model.step(s) for s in seen]
    order.extend(s for s in model.steps if s.id not in seen)
    return order


def person_actor_ids(model: Model) -> list[str]:
    """Ids of actors of kind ``person``, in file order."""
    return [a.id for a in model.actors.values() if a.kind == "person"]


def lane_of(model: Model, step: Step) -> str | None:
    """The actor whose lane shows ``step``. Steps without an actor (support in
    place, end points) are outcomes for the person, so they sit in the person's lane."""
    if step.actor and step.actor in model.actors:
        return step.actor
    people = person_actor_ids(model)
    return people[0] if people else None


def lanes(model: Model) -> list[tuple[str | None, list[Step]]]:
    """Lanes in order of first appearance from ``start``, each with its steps in that order."""
    grouped: dict[str | None, list[Step]] = {}
    for step in step_order(model):
        grouped.setdefault(lane_of(model, step), []).append(step)
    return list(grouped.items())


# ----------------------------------------------------------------------------- words

KIND_WORDS = {
    "approval": "approval: someone signs off",
    "panel": "funding panel: a group signs off",
    "decision": "decision or eligibility check",
    "support": "support in place",
    "end": "end: the person leaves the process",
    "step": "step",
}

EASY_WORDS = {
    "approval": "Someone has to say yes",
    "panel": "A group (panel) has to say yes",
    "decision": "A decision is made",
    "support": "You get your support",
    "end": "The process stops here",
    "step": "Something happens",
}


def mark_of(model: Model, step: Step) -> str:
    """Which of the map's marks (shapes) a step gets: a key of :data:`KIND_WORDS`."""
    if step.kind == "approval":
        actor = model.actor_of(step)
        return "panel" if actor is not None and actor.kind == "panel" else "approval"
    if step.kind in ("eligibility", "decision"):
        return "decision"
    if step.kind in ("support", "end"):
        return step.kind
    return "step"


def share_text(share: float | None) -> str:
    """A share as a whole percentage (``0.85`` -> ``85%``; small shares keep a decimal)."""
    if share is None:
        return ""
    pct = share * 100
    text = f"{pct:.0f}" if abs(pct - round(pct)) < 0.05 or pct >= 10 else f"{pct:.1f}"
    return f"{text}%"


def transition_words(transition: Transition, view: str = "findings") -> str:
    """The words on an arrow: ``sent back``, the condition, and the share."""
    parts = []
    if transition.rework:
        parts.append("sent back")
    if transition.when:
        parts.append(("if " if view == "easy-read" else "when ") + clean(transition.when))
    if view != "easy-read" and transition.share is not None:
        parts.append(share_text(transition.share))
    return ", ".join(parts)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """One line of printable text: control characters dropped, whitespace runs
    (newlines included) made single spaces."""
    return _SPACE.sub(" ", _CONTROL.sub("", str(text))).strip()


def esc(text: str) -> str:
    """Text for inside a graphviz HTML-like label: cleaned, HTML-escaped, and with
    backslashes doubled, because graphviz expands ``\\N``, ``\\G`` and friends even
    inside HTML-like labels (and after entity decoding), and ``\\\\`` is its literal
    backslash."""
    return html.escape(clean(text), quote=True).replace("\\", "\\\\")


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = clean(text).split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines or [""]


def _label(lines: Sequence[str], *, bold_first: bool = False, extra: str = "") -> str:
    """An HTML-like label from plain lines (each escaped)."""
    parts = []
    for i, text in enumerate(lines):
        piece = esc(text)
        parts.append(f"<B>{piece}</B>" if bold_first and i == 0 else piece)
    body = "<BR/>".join(parts)
    return f"<{body}{extra}>"


def _lane_label(lines: Sequence[str], *, bold: bool = False) -> str:
    """A lane's HTML-like label: its lines (each escaped) lined up on the left."""
    parts = [f"<B>{esc(t)}</B>" if bold else esc(t) for t in lines]
    return "<" + "".join(f'{p}<BR ALIGN="LEFT"/>' for p in parts) + ">"


# ----------------------------------------------------------------------------- building


@dataclass(frozen=True)
class _Style:
    shape: str
    style: str
    fill: str
    peripheries: int = 1
    penwidth: str = "1.2"


def _node_style(mark: str) -> _Style:
    return {
        "approval": _Style("octagon", "filled", PALETTE["approval_fill"], penwidth="2"),
        "panel": _Style("doubleoctagon", "filled", PALETTE["panel_fill"], penwidth="2"),
        "decision": _Style("diamond", "filled", PALETTE["decision_fill"]),
        "support": _Style(
            "ellipse", "filled", PALETTE["support_fill"], peripheries=2, penwidth="1.5"
        ),
        "end": _Style("ellipse", "filled", PALETTE["end_fill"]),
        "step": _Style("box", "rounded,filled", PALETTE["step_fill"]),
    }[mark]


def _badges(numbers: Sequence[int], per_line: int = 6) -> str:
    """``[1] [4] [7]``, already escaped, six to a line so a busy step stays narrow."""
    lines = [numbers[i : i + per_line] for i in range(0, len(numbers), per_line)]
    return "<BR/>".join(" ".join(f"[{n}]" for n in line) for line in lines)


def _problems_words(count: int) -> str:
    return f"{count} problem{'' if count == 1 else 's'} here"


def days_words(model: Model, step: Step, view: str = "findings") -> str:
    """The time a case spends at ``step`` as the map and the map in words show it:
    ``21 days`` (easy read: ``Takes 21 days``), or empty when the step states none.

    Support and end steps show none: the days to support stop at them, so their own
    days are not part of the wait the map is meant to show."""
    if step.days <= 0 or mark_of(model, step) in ("support", "end"):
        return ""
    number = f"{step.days:.2f}".rstrip("0").rstrip(".")
    words = f"{number} day{'' if step.days == 1 else 's'}"
    return f"Takes {words}" if view == "easy-read" else words


def build_map(
    model: Model, result: CheckResult | None = None, view: str = "findings"
) -> graphviz.Digraph:
    """The process map of ``model`` as a graphviz graph (nothing is run).

    ``view`` is ``findings`` (problems as numbered badges, shares on arrows),
    ``plain`` (no problems) or ``easy-read`` (larger text, plain words, only a
    count of problems per step, no shares). One lane (cluster) per actor; the
    person's lane has a thick border and says so in its label.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown map view {view!r}; choose one of {', '.join(VIEWS)}")
    easy = view == "easy-read"
    numbered = number_findings(result) if view != "plain" else ()
    badges = numbers_by_step(numbered)
    font_size = "18" if easy else "11"

    graph = Drawing(name="process_map")
    graph.attr(
        rankdir="TB",
        newrank="true",
        compound="true",
        nodesep="0.35",
        ranksep="0.45",
        fontname=FONT,
        fontsize=font_size,
        fontcolor=PALETTE["text"],
        bgcolor="white",
        label=_label([f"{model.council}: {model.title}"], bold_first=True),
        labelloc="t",
        labeljust="l",
        pad="0.2",
    )
    graph.attr(
        "node",
        fontname=FONT,
        fontsize=font_size,
        fontcolor=PALETTE["text"],
        color=PALETTE["line"],
        margin="0.12,0.06",
    )
    graph.attr(
        "edge",
        fontname=FONT,
        fontsize=str(int(font_size) - (2 if easy else 1)),
        fontcolor=PALETTE["text"],
        color=PALETTE["line"],
        penwidth="1.2",
        arrowsize="0.8",
    )

    people = set(person_actor_ids(model))
    used_marks: dict[str, None] = {}
    used_days = False
    wrap = 22 if easy else 26
    lane_wrap = 22 if easy else 28  # long team names take two lines, not the map's width
    for index, (actor_id, steps) in enumerate(lanes(model), start=1):
        actor = model.actors.get(actor_id) if actor_id else None
        is_person = actor_id in people
        with graph.subgraph(name=f"cluster_lane_{index}") as lane:
            name = actor.name if actor else "No team named"
            if is_person:
                who = "You:" if easy else "The person:"
                lane.attr(
                    label=_lane_label([who, *_wrap(name, lane_wrap)], bold=True),
                    style="filled,bold",
                    penwidth="3.5",
                    color=PALETTE["person_line"],
                    fillcolor=PALETTE["person_fill"],
                )
            else:
                lane.attr(
                    label=_lane_label(_wrap(name, lane_wrap)),
                    style="filled,rounded",
                    penwidth="1.2",
                    color=PALETTE["lane_line"],
                    fillcolor=PALETTE["lane_fill"],
                )
            lane.attr(labeljust="l", fontsize=str(int(font_size) + 1))
            for step in steps:
                mark = mark_of(model, step)
                used_marks[mark] = None
                style = _node_style(mark)
                lines = _wrap(step.name, wrap)
                extra = ""
                days = days_words(model, step, view)
                if days:
                    # italic beside the bold problem numbers; upright in easy read, where
                    # "2 problems here" is the italic line
                    used_days = True
                    extra += f"<BR/>{esc(days)}" if easy else f"<BR/><I>{esc(days)}</I>"
                numbers = badges.get(step.id, [])
                if numbers and easy:
                    extra += f"<BR/><I>{esc(_problems_words(len(numbers)))}</I>"
                elif numbers:
                    colour = PALETTE["badge"]
                    extra += f'<BR/><FONT COLOR="{colour}"><B>{_badges(numbers)}</B></FONT>'
                lane.node(
                    step.id,
                    label=_label(lines, extra=extra),
                    shape=style.shape,
                    style=style.style,
                    fillcolor=style.fill,
                    peripheries=str(style.peripheries),
                    penwidth=style.penwidth,
                )

    if model.start in model.step_by_id:
        graph.node(
            "__start",
            label=_label(["Start" if not easy else "Start here"], bold_first=True),
            shape="plaintext",
        )
        graph.edge("__start", model.start, penwidth="2")

    used_rework = used_shares = False
    order = {s.id: i for i, s in enumerate(step_order(model))}
    for step in model.steps:
        for transition in step.next:
            if transition.to not in model.step_by_id:
                continue
            words = transition_words(transition, view)
            attrs = {}
            if words:
                attrs["label"] = _label(_wrap(words, 16 if easy else 20))
            tail, head = step.id, transition.to
            if transition.rework:
                used_rework = True
                attrs.update(style="dashed", color=PALETTE["rework"], penwidth="1.8")
                forward = any(t.to == tail for t in model.step(head).next)
                if order[head] < order[tail] and not forward:
                    # Work sent back to an earlier step: stated from the earlier step with the
                    # arrowhead turned round, so the layout treats it as part of the flow and
                    # routes it beside the steps instead of around the whole map.
                    tail, head = head, tail
                    attrs["dir"] = "back"
                else:
                    # beside an arrow the other way, or forwards: it must not shape the layout
                    attrs["constraint"] = "false"
            if transition.share is not None and not easy:
                used_shares = True
            graph.edge(tail, head, **attrs)

    _legend(
        graph,
        model.start in model.step_by_id,
        list(used_marks),
        used_rework,
        used_shares,
        bool(badges),
        easy,
        bool(people),
        used_days,
    )
    return graph


def _key_notes(
    rework: bool, shares: bool, badges: bool, easy: bool, person_lane: bool, days: bool = False
) -> list[tuple[str, str, str]]:
    """The key's lines for marks that are not shapes: (sample, its words, sample style)."""
    notes = []
    if person_lane:
        words = "Thick border: what you do" if easy else "Thick border: the person's own lane"
        notes.append(("", words, "lane"))
    notes.append(("\u2014\u2014>", "Arrow: what happens next", "arrow"))
    if rework:
        notes.append(
            ("- - ->", "Dashed arrow marked 'sent back': work goes back to be done again", "rework")
        )
    if shares:
        notes.append(("85%", "Percentage on an arrow: share of cases going that way", "text"))
    if badges and not easy:
        notes.append(("[3]", "[3]: problem number 3, explained in the report", "badge"))
    elif badges:
        notes.append(("2 problems here", "the report explains them", "easy_badge"))
    if days and easy:
        notes.append(("Takes 21 days", "how long you usually wait at this step", "text"))
    elif days:
        notes.append(("21 days", "Days: the usual time a case spends at the step", "days"))
    return notes


def _legend(
    graph: graphviz.Digraph,
    start: bool,
    marks: list[str],
    rework: bool,
    shares: bool,
    badges: bool,
    easy: bool,
    person_lane: bool,
    days: bool = False,
) -> None:
    """A compact key explaining every mark the map uses.

    Each shape is drawn as it is on the map with its meaning inside, two to a row;
    the other marks (the person's lane, arrows, percentages, problem numbers, days)
    follow in one table, two to a row, each with a small sample beside its words,
    so the key stays narrow and its text lines up.

    The key's first row shares a rank with the start, so the key sits beside the top
    of the process rather than above it: the first screenful of a map shows steps.
    """
    words = EASY_WORDS if easy else KIND_WORDS
    order = [m for m in KIND_WORDS if m in marks]
    wrap = 16 if easy else 18
    with graph.subgraph(name="cluster_legend") as key:
        key.attr(
            label=_label(["How to read this map" if easy else "Key"], bold_first=True),
            style="solid",
            color=PALETTE["line"],
            penwidth="1.2",
            labeljust="l",
            fillcolor=PALETTE["legend_fill"],
        )
        rows = [order[i : i + 2] for i in range(0, len(order), 2)]
        previous = None
        for number, row in enumerate(rows):
            with key.subgraph(name=f"key_row_{number}") as line:
                line.attr(rank="same")
                for mark in row:
                    style = _node_style(mark)
                    line.node(
                        f"__key_{mark}",
                        label=_label(_wrap(words[mark], wrap)),
                        shape=style.shape,
                        style=style.style,
                        fillcolor=style.fill,
                        peripheries=str(style.peripheries),
                        penwidth=style.penwidth,
                        margin="0.08,0.02",
                    )
                if len(row) == 2:
                    line.edge(f"__key_{row[0]}", f"__key_{row[1]}", style="invis")
            if previous:
                key.edge(previous, f"__key_{row[0]}", style="invis")
            previous = f"__key_{row[0]}"
        key.node(
            "__key_notes",
            label=_notes_table(_key_notes(rework, shares, badges, easy, person_lane, days), easy),
            shape="plain",
        )
        if previous:
            key.edge(previous, "__key_notes", style="invis")
        first = f"__key_{rows[0][0]}" if rows else "__key_notes"
    # Beside the process, level with the start: the rows of the key take the ranks of the
    # first steps, where a process (narrow at its start) leaves room.
    if start:
        graph.body.append(f"\t{{rank=same; __start; {first}}}\n")


def _notes_table(notes: list[tuple[str, str, str]], easy: bool) -> str:
    """The key's table of marks that are not shapes: a sample beside each one's words, two
    to a row."""
    wrap = 18 if easy else 21
    size = (44, 24) if easy else (30, 16)  # the lane sample, in points
    cells = []
    for sample, words, kind in notes:
        text = '<BR ALIGN="LEFT"/>'.join(esc(w) for w in _wrap(words, wrap))
        if kind == "lane":
            cell = (
                f'<TD BORDER="3" COLOR="{PALETTE["person_line"]}" '
                f'BGCOLOR="{PALETTE["person_fill"]}" WIDTH="{size[0]}" HEIGHT="{size[1]}" '
                'FIXEDSIZE="TRUE"></TD>'
            )
        else:
            body = esc(sample)
            colour = PALETTE["text"]
            if kind in ("rework", "badge"):
                colour = PALETTE["rework"] if kind == "rework" else PALETTE["badge"]
                body = f"<B>{body}</B>"
            elif kind in ("easy_badge", "days"):
                body = f"<I>{body}</I>"
            cell = f'<TD ALIGN="CENTER"><FONT COLOR="{colour}">{body}</FONT></TD>'
        cells.append(f'{cell}<TD ALIGN="LEFT" BALIGN="LEFT">{text}<BR ALIGN="LEFT"/></TD>')
    rows = ["".join(cells[i : i + 2]) for i in range(0, len(cells), 2)]
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="2">'
        + "".join(f"<TR>{row}</TR>" for row in rows)
        + "</TABLE>>"
    )


# ----------------------------------------------------------------------------- text alternative


@dataclass(frozen=True)
class OutlineArrow:
    """One transition in words."""

    to: str
    to_name: str
    words: str
    rework: bool


@dataclass(frozen=True)
class OutlineStep:
    """One step of the text alternative."""

    id: str
    name: str
    kind_words: str
    findings: tuple[int, ...]
    arrows: tuple[OutlineArrow, ...]
    is_start: bool = False
    days: str = ""
    """The time at the step as the map shows it (``21 days``), or empty."""


@dataclass(frozen=True)
class OutlineLane:
    """One lane (actor) of the text alternative, its steps in order from start."""

    name: str
    is_person: bool
    steps: tuple[OutlineStep, ...] = field(default_factory=tuple)


def map_outline(
    model: Model, result: CheckResult | None = None, view: str = "findings"
) -> tuple[OutlineLane, ...]:
    """The map in words: lanes in order of first appearance from ``start``, each
    step with its transitions (conditions, shares, rework) and finding numbers."""
    numbered = number_findings(result) if view != "plain" else ()
    badges = numbers_by_step(numbered)
    people = set(person_actor_ids(model))
    out = []
    for actor_id, steps in lanes(model):
        actor = model.actors.get(actor_id) if actor_id else None
        outline_steps = []
        for step in steps:
            arrows = tuple(
                OutlineArrow(
                    to=t.to,
                    to_name=clean(model.step(t.to).name),
                    words=transition_words(t, view),
                    rework=t.rework,
                )
                for t in step.next
                if t.to in model.step_by_id
            )
            outline_steps.append(
                OutlineStep(
                    id=step.id,
                    name=clean(step.name),
                    kind_words=KIND_WORDS[mark_of(model, step)],
                    findings=tuple(badges.get(step.id, ())),
                    arrows=arrows,
                    is_start=step.id == model.start,
                    days=days_words(model, step),
                )
            )
        out.append(
            OutlineLane(
                name=clean(actor.name) if actor else "No team named",
                is_person=actor_id in people,
                steps=tuple(outline_steps),
            )
        )
    return tuple(out)


def map_text(model: Model, result: CheckResult | None = None, view: str = "findings") -> str:
    """The text alternative of the map as plain text, lane by lane."""
    lines = [f"Process map of {clean(model.council)}: {clean(model.title)}"]
    for lane in map_outline(model, result, view):
        lines.append("")
        lines.append(f"{lane.name}{' (the person)' if lane.is_person else ''}:")
        for step in lane.steps:
            tags = [step.kind_words]
            if step.is_start:
                tags.insert(0, "start")
            if step.days:
                tags.append(step.days)
            head = f"- {step.name} ({'; '.join(tags)})"
            if step.findings:
                head += ". Problems " + ", ".join(str(n) for n in step.findings)
            lines.append(head)
            if not step.arrows:
                lines.append("  - next: nothing (the process ends here)")
            for arrow in step.arrows:
                extra = f" ({arrow.words})" if arrow.words else ""
                lines.append(f"  - next: {arrow.to_name}{extra}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- drawing


class Drawing(graphviz.Digraph):
    """A Digraph that counts the nodes added to it and to its subgraphs, so the node cap
    is checked on the graph itself and never on DOT text (which ids can imitate)."""

    nodes_added = 0

    def node(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.nodes_added += 1
        super().node(name, *args, **kwargs)

    def subgraph(self, graph: Any = None, **kwargs: Any) -> Any:
        if graph is not None:
            self.nodes_added += getattr(graph, "nodes_added", 0)
        return super().subgraph(graph, **kwargs)


def count_nodes(graph: graphviz.Digraph) -> int:
    """How many nodes the graph holds (keys included). A graph not built as a
    :class:`Drawing` is counted as having more nodes than any cap."""
    count = getattr(graph, "nodes_added", None)
    return sys.maxsize if count is None else int(count)


def format_of(path: str | Path) -> str:
    """The output format for a file name, from its suffix."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        from ..errors import UsageError

        raise UsageError(
            f"cannot tell the map format from '{path}': use a name ending "
            + ", ".join(f".{f}" for f in FORMATS),
            file=str(path),
        )
    return suffix


def render_map(
    graph: graphviz.Digraph,
    path_or_format: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    title: str = "Process map",
    description: str = "",
) -> bytes:
    """Draw ``graph``: the only function that runs ``dot``.

    ``path_or_format`` is a format (``svg``, ``png``, ``pdf``, ``dot``) or a
    file path whose suffix names one; a path is written atomically (the caller
    decides about overwriting). ``dot`` format is the DOT source itself and
    needs no ``dot``. SVG comes back made accessible and stable
    (:func:`accessible_svg` with ``title`` and ``description``). Raises
    :class:`MapUnavailable` when there is no ``dot``, the graph has more than
    ``max_nodes`` nodes, ``dot`` runs over ``timeout`` seconds or fails.
    """
    target = Path(path_or_format) if str(path_or_format).lower() not in FORMATS else None
    fmt = format_of(target) if target else str(path_or_format).lower()
    if fmt == "dot":
        data = graph.source.encode("utf-8")
    else:
        data = _run_dot(graph, fmt, timeout=timeout, max_nodes=max_nodes)
    if fmt == "svg":
        data = accessible_svg(data, title, description or title).encode("utf-8")
    if target is not None:
        from ..files import write_atomic

        write_atomic(target, data, force=True)
    return data


def _run_dot(graph: graphviz.Digraph, fmt: str, *, timeout: float, max_nodes: int) -> bytes:
    """Lay out and draw ``graph`` in ``fmt``; raises :class:`MapUnavailable`.

    A map from :func:`build_map` has its key beside the top of the process, on the side
    dot chooses. While there is time left, the key is also tried on the other side
    (:func:`key_before_lanes`) and above the process (:func:`key_above`), and the smallest
    drawing is kept (least area, then narrowest): beside, the key takes the room a
    process leaves next to its first steps; above, when something (such as the
    stock-take's wider key) would make the map wider than it saves in height. All tries
    share ``timeout``; if a later one fails or runs out of time, the best so far stands."""
    nodes = count_nodes(graph)
    if nodes > max_nodes:
        raise MapUnavailable(
            f"it has {nodes} boxes, more than the {max_nodes} that can be laid "
            "out in reasonable time"
        )
    exe = shutil.which("dot")
    if exe is None:
        raise MapUnavailable(
            "the graphviz program 'dot' is not installed (apt-get install graphviz)"
        )
    started = time.monotonic()
    best = _dot(exe, graph.source, fmt, timeout)
    once = time.monotonic() - started
    best_size = _smallness(drawn_size(best, fmt))
    for other in (key_before_lanes(graph), key_above(graph)):
        remaining = timeout - (time.monotonic() - started)
        if other is None or best_size is None or remaining < 2 * once:
            continue
        try:
            data = _dot(exe, other.source, fmt, remaining)
        except MapUnavailable:
            break
        size = _smallness(drawn_size(data, fmt))
        if size is not None and size < best_size:
            best, best_size = data, size
    return best


def _smallness(size: tuple[float, float] | None) -> tuple[float, float] | None:
    """How big a drawing is, for choosing the smallest: its area, then its width."""
    return None if size is None else (round(size[0] * size[1]), size[0])


DOT_MEMORY = 768 * 1024 * 1024
"""The most memory ``dot`` may take (address space); past it, the map is left out and
the report shows the map in words."""


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (DOT_MEMORY, DOT_MEMORY))


def _dot(exe: str, source: str, fmt: str, timeout: float) -> bytes:
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=_limit_memory,  # noqa: PLW1509 - no threads start dot
        )
    except subprocess.TimeoutExpired:
        raise MapUnavailable(f"laying it out took longer than {timeout:g} seconds") from None
    except OSError as exc:
        raise MapUnavailable(f"'dot' could not be run ({exc.strerror or exc})") from None
    if done.returncode < 0 or b"out of memory" in done.stderr.lower():
        raise MapUnavailable(
            f"'dot' stopped: laying it out may need more than the {DOT_MEMORY // 2**20} MB "
            "of memory it is allowed"
        )
    if done.returncode != 0 or not done.stdout:
        detail = (
            clean(done.stderr.decode("utf-8", "replace"))[:200] or f"exit code {done.returncode}"
        )
        raise MapUnavailable(f"'dot' failed: {detail}")
    return done.stdout


def key_before_lanes(graph: graphviz.Digraph) -> graphviz.Digraph | None:
    """A copy of a map from :func:`build_map` with its key stated before the lanes, which
    makes dot put the key on the other side of the process; ``None`` when the graph has
    no key beside the start, or no lanes."""
    body = list(graph.body)
    head = "\tsubgraph cluster_legend {\n"
    if head not in body or not any(line.startswith("\t{rank=same; __start;") for line in body):
        return None
    begin = body.index(head)
    end = body.index("\t}\n", begin) + 1
    key = body[begin:end]
    del body[begin:end]
    lanes = [i for i, line in enumerate(body) if line.startswith("\tsubgraph cluster_lane_")]
    if not lanes:
        return None
    body[lanes[0] : lanes[0]] = key
    other = graph.copy()
    other.body = body
    return other


def key_above(graph: graphviz.Digraph) -> graphviz.Digraph | None:
    """A copy of a map from :func:`build_map` with its key above the process instead of
    beside the start (the key's last row ranked before the start, nothing tied to it);
    ``None`` when the graph has no key beside the start."""
    body = list(graph.body)
    tied = [i for i, line in enumerate(body) if line.startswith("\t{rank=same; __start;")]
    if not tied or "\tsubgraph cluster_legend {\n" not in body:
        return None
    body[tied[0]] = "\t__key_notes -> __start [style=invis weight=0]\n"
    other = graph.copy()
    other.body = body
    return other


_SVG_SIZE = re.compile(rb'<svg\s[^>]*?width="([\d.]+)pt"\s+height="([\d.]+)pt"')
_PDF_SIZE = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


def drawn_size(data: bytes, fmt: str) -> tuple[float, float] | None:
    """(width, height) of a drawing in ``svg``, ``png`` or ``pdf``, or ``None`` if unknown.

    Units are the format's own (points, or pixels for PNG): sizes compare only within
    one format."""
    if fmt == "png" and data.startswith(b"\x89PNG") and len(data) >= 24:
        return float(int.from_bytes(data[16:20], "big")), float(int.from_bytes(data[20:24], "big"))
    match = _SVG_SIZE if fmt == "svg" else _PDF_SIZE if fmt == "pdf" else None
    found = match.search(data) if match else None
    return (float(found.group(1)), float(found.group(2))) if found else None


# ----------------------------------------------------------------------------- accessible SVG

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def accessible_svg(
    svg: bytes | str, title: str, description: str, *, id_prefix: str = "map"
) -> str:
    """Make graphviz's SVG fit for a report and a screen reader.

    Adds ``role="img"`` and ``aria-labelledby`` pointing at a new ``<title>``
    and ``<desc>``; drops graphviz's comments, its own per-shape titles,
    links (``<a>``, ``href``, ``xlink:href``), scripts and event attributes;
    prefixes every id with ``id_prefix`` so ids are unique in a page and stable.
    Returns the ``<svg>`` element as text, without an XML declaration.
    """
    raw = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    # The DOCTYPE names an external DTD; nothing in it is needed, so drop it
    # rather than let any parser consider fetching it.
    raw = re.sub(r"<!DOCTYPE[^>]*>", "", raw)
    raw = re.sub(r"<\?xml[^>]*\?>", "", raw)
    root = ET.fromstring(raw)  # comments are discarded by the default parser
    _clean_tree(root, id_prefix)
    for old in [c for c in root if c.tag == f"{{{SVG_NS}}}title"]:
        root.remove(old)
    title_el = ET.Element(f"{{{SVG_NS}}}title", {"id": f"{id_prefix}-title"})
    title_el.text = clean(title)
    desc_el = ET.Element(f"{{{SVG_NS}}}desc", {"id": f"{id_prefix}-desc"})
    desc_el.text = clean(description)
    root.insert(0, desc_el)
    root.insert(0, title_el)
    root.set("role", "img")
    root.set("aria-labelledby", f"{id_prefix}-title {id_prefix}-desc")
    root.set("focusable", "false")
    text = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return text.replace(f' xmlns:xlink="{XLINK_NS}"', "") + "\n"


_STRIP_TAGS = {f"{{{SVG_NS}}}{t}" for t in ("script", "foreignObject", "style", "image", "use")}


def _clean_tree(element: ET.Element, prefix: str) -> None:
    for attr in list(element.attrib):
        local = attr.rsplit("}", 1)[-1]
        value = element.attrib[attr]
        if (
            local.lower().startswith("on")
            or local == "href"
            or "url(" in value.replace(" ", "").lower()
        ):
            del element.attrib[attr]
        elif local == "id":
            element.set(attr, f"{prefix}-{value}")
    for child in list(element):
        if child.tag in _STRIP_TAGS:
            element.remove(child)
            continue
        if child.tag == f"{{{SVG_NS}}}title" and element.tag == f"{{{SVG_NS}}}g":
            element.remove(child)  # graphviz's per-shape tooltips: ids, not words
            continue
        if child.tag == f"{{{SVG_NS}}}a":
            index = list(element).index(child)
            element.remove(child)
            for offset, grandchild in enumerate(list(child)):
                element.insert(index + offset, grandchild)
                _clean_tree(grandchild, prefix)
            continue
        _clean_tree(child, prefix)


def map_title(model: Model, view: str = "findings") -> str:
    """The accessible name of a map."""
    what = "Easy read map" if view == "easy-read" else "Process map"
    return f"{what} of {clean(model.council)}: {clean(model.title)}"


def map_description(model: Model, result: CheckResult | None = None, view: str = "findings") -> str:
    """A one-paragraph summary of the map for its ``<desc>``."""
    outline = map_outline(model, result, view)
    steps = sum(len(lane.steps) for lane in outline)
    rework = sum(1 for s in model.steps for t in s.next if t.rework)
    numbered = number_findings(result) if view != "plain" else ()
    on_map = sum(1 for n in numbered if n.finding.steps)
    text = (
        f"{steps} steps in {len(outline)} lanes, one per team or person, starting at "
        f"{clean(model.step(model.start).name) if model.start in model.step_by_id else 'no step'}."
    )
    if rework:
        text += f" {rework} arrow{'s' if rework != 1 else ''} send work back."
    if view != "plain":
        text += f" {on_map} numbered problem{'s' if on_map != 1 else ''} marked on steps."
    return text + " The steps in order, lane by lane, follow the map as text."


def map_svg(
    model: Model,
    result: CheckResult | None = None,
    view: str = "findings",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_nodes: int = DEFAULT_MAX_NODES,
    id_prefix: str = "map",
) -> str:
    """Build, draw and make accessible the SVG map (raises :class:`MapUnavailable`)."""
    graph = build_map(model, result, view)
    data = _run_dot(graph, "svg", timeout=timeout, max_nodes=max_nodes)
    return accessible_svg(
        data, map_title(model, view), map_description(model, result, view), id_prefix=id_prefix
    )
