"""Process maps: a pure ``graphviz.Digraph`` built from a model, and the map in words.

:func:`build_map` never runs anything: its result can be inspected as DOT text
(``build_map(model).source``). It is drawn by :func:`sdsaudit.render.draw.render_map`,
the only function that runs ``dot``; when the map cannot be drawn, the text version
(:func:`map_outline`, :func:`map_text`) stands in with a visible note. Finding numbers,
the order of steps and lanes come from :mod:`sdsaudit.render.present`, shared with the
report.

Every piece of user text (council, names, conditions) goes into the DOT source
as an HTML-like label escaped with :func:`~sdsaudit.render.present.esc`, so quotes,
backslashes, angle brackets and graphviz escapes such as ``\\l`` are shown literally.

Format 1.1 adds to both: a ``parallel`` step is a diamond with a plus and the words
"these happen at the same time", with arrows to each branch's first step, and its join
says "waits for all of these"; a ``days: unknown`` step says "time not known"; a
``start`` given as a list of groups has one start marker per group. The map in words
also says which steps happen at the same time, how people start, each step's sources
and which of its values are assumed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import graphviz

from ..analysis.findings import CheckResult
from ..model.objects import Model, Step, Transition
from ..words import date_words, join_and, plural
from .present import (
    NumberedFinding,
    capital,
    clean,
    esc,
    field_words,
    lane_name,
    lanes,
    number_findings,
    numbers_by_step,
    person_actor_ids,
    step_order,
)

VIEWS = ("findings", "plain", "easy-read")
"""The three kinds of map: problems numbered on it, no problems, and easy read."""


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
    "parallel_fill": "#efe8f7",
    "support_fill": "#dff2e1",
    "end_fill": "#eeeeee",
    "step_fill": "#ffffff",
    "badge": "#8a1c13",
    "rework": "#8a1c13",
    "legend_fill": "#ffffff",
}


# ----------------------------------------------------------------------------- words

KIND_WORDS = {
    "approval": "approval: someone signs off",
    "panel": "funding panel: a group signs off",
    "decision": "decision or eligibility check",
    "support": "support in place",
    "end": "end: the person leaves the process",
    "step": "step",
    "parallel": "these happen at the same time",
}

EASY_WORDS = {
    "approval": "Someone has to say yes",
    "panel": "A group (panel) has to say yes",
    "decision": "A decision is made",
    "support": "You get your support",
    "end": "The process stops here",
    "step": "Something happens",
    "parallel": "These things happen at the same time",
}


PLUS = "+"
"""The sign inside a parallel step's diamond (a parallel gateway), above its words."""

JOIN_WORDS = {"easy-read": "Waits for all of these"}
"""The line on a join (the step after a parallel block), by view; ``waits for all of these``
in the others."""

UNKNOWN_DAYS = {"easy-read": "Time not known"}
"""What a ``days: unknown`` step shows, by view; ``time not known`` in the others."""


def join_words(view: str = "findings") -> str:
    """The words that mark a join on the map: ``waits for all of these``."""
    return JOIN_WORDS.get(view, "waits for all of these")


def joins_of(model: Model) -> dict[str, list[Step]]:
    """Each join's parallel steps (usually one), by the join's id, in file order."""
    out: dict[str, list[Step]] = {}
    for step in model.steps:
        if step.kind == "parallel" and step.join and step.join in model.step_by_id:
            out.setdefault(step.join, []).append(step)
    return out


def mark_of(model: Model, step: Step) -> str:
    """Which of the map's marks (shapes) a step gets: a key of :data:`KIND_WORDS`."""
    if step.kind == "parallel":
        return "parallel"
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
        "parallel": _Style("diamond", "filled", PALETTE["parallel_fill"], penwidth="2"),
        "support": _Style(
            "ellipse", "filled", PALETTE["support_fill"], peripheries=2, penwidth="1.5"
        ),
        "end": _Style("ellipse", "filled", PALETTE["end_fill"]),
        "step": _Style("box", "rounded,filled", PALETTE["step_fill"]),
    }[mark]


def _numbering(
    result: CheckResult | None, view: str, numbered: Sequence[NumberedFinding] | None
) -> Sequence[NumberedFinding]:
    """The findings' numbers as this view shows them: the caller's (a prepared audit
    numbers each model once), else worked out from ``result``; none on the plain map."""
    if view == "plain":
        return ()
    return number_findings(result) if numbered is None else numbered


def _badges(numbers: Sequence[int], per_line: int = 6) -> str:
    """``[1] [4] [7]``, already escaped, six to a line so a busy step stays narrow."""
    lines = [numbers[i : i + per_line] for i in range(0, len(numbers), per_line)]
    return "<BR/>".join(" ".join(f"[{n}]" for n in line) for line in lines)


def _problems_words(count: int) -> str:
    return f"{plural(count, 'problem')} here"


def days_words(model: Model, step: Step, view: str = "findings") -> str:
    """The time a case spends at ``step`` as the map and the map in words show it:
    ``21 days`` (easy read: ``Takes 21 days``), ``time not known`` for ``days: unknown``
    (never ``0 days``), or empty when the step states none.

    Support and end steps show none: the days to support stop at them, so their own
    days are not part of the wait the map is meant to show. A parallel step shows none:
    it is passed at once, and the time is in its branches."""
    if mark_of(model, step) in ("support", "end", "parallel"):
        return ""
    if step.days_unknown:
        return UNKNOWN_DAYS.get(view, "time not known")
    if step.days <= 0:
        return ""
    number = f"{step.days:.2f}".rstrip("0").rstrip(".")
    words = f"{number} day{'' if step.days == 1 else 's'}"
    return f"Takes {words}" if view == "easy-read" else words


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


@dataclass
class _Used:
    """The marks a map has used so far, so its key explains those and no others."""

    shapes: dict[str, None] = field(default_factory=dict)
    days: bool = False
    rework: bool = False
    shares: bool = False
    unknown: bool = False
    joins: bool = False


def build_map(
    model: Model,
    result: CheckResult | None = None,
    view: str = "findings",
    numbered: Sequence[NumberedFinding] | None = None,
    marks: Mapping[str, str] | None = None,
) -> graphviz.Digraph:
    """The process map of ``model`` as a graphviz graph (nothing is run).

    ``view`` is ``findings`` (problems as numbered badges, shares on arrows),
    ``plain`` (no problems) or ``easy-read`` (larger text, plain words, only a
    count of problems per step, no shares). One lane (cluster) per actor; the
    person's lane has a thick border and says so in its label.

    ``marks`` gives some steps a word (the stock-take's ``New`` and ``Changed``): it goes
    in bold capitals at the top of the step's label, above everything the step shows
    (a parallel step's plus too), and its outline is drawn thick, so the mark never rests
    on colour. The caller adds the key's line for it.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown map view {view!r}; choose one of {', '.join(VIEWS)}")
    easy = view == "easy-read"
    numbered = _numbering(result, view, numbered)
    badges = numbers_by_step(numbered)
    graph = Drawing(name="process_map")
    _graph_style(graph, model, easy)
    used = _Used()
    people = set(person_actor_ids(model))
    joins = joins_of(model)
    for index, (actor_id, steps) in enumerate(lanes(model), start=1):
        with graph.subgraph(name=f"cluster_lane_{index}") as lane:
            _lane_style(lane, model, actor_id, is_person=actor_id in people, easy=easy)
            for step in steps:
                _step_node(
                    lane,
                    model,
                    step,
                    badges.get(step.id, []),
                    view,
                    used,
                    step.id in joins,
                    (marks or {}).get(step.id),
                )
    starts = _start_markers(graph, model, view)
    _arrows(graph, model, view, used)
    _legend(
        graph,
        bool(starts),
        list(used.shapes),
        used.rework,
        used.shares,
        bool(badges),
        easy,
        bool(people),
        used.days,
        unknown=used.unknown,
        joins=used.joins,
        more_starts=starts[1:],
    )
    return graph


def start_group_words(share: float | None, when: str | None) -> str:
    """One group of people and its share, as the map in words names it: ``adults (80%)``."""
    words = clean(when or "everyone")
    return f"{words} ({share_text(share)})" if share is not None else words


def _start_markers(graph: graphviz.Digraph, model: Model, view: str) -> list[str]:
    """The start marker (one per group of people when ``start`` is a list) with its arrow
    to the group's first step; returns the markers' node names, the first ``__start``."""
    easy = view == "easy-read"
    word = "Start here" if easy else "Start"
    if not model.grouped:
        if model.start not in model.step_by_id:
            return []
        graph.node("__start", label=_label([word], bold_first=True), shape="plaintext")
        graph.edge("__start", model.start, penwidth="2")
        return ["__start"]
    names: list[str] = []
    for entry in model.entries:
        if entry.to not in model.step_by_id:
            continue
        name = "__start" if not names else f"__start_{len(names) + 1}"
        lines = [word, *_wrap(entry.when or "everyone", 20 if easy else 22)]
        if entry.share is not None and not easy:  # easy read shows no percentages
            lines.append(f"{share_text(entry.share)} of people")
        graph.node(name, label=_label(lines, bold_first=True), shape="plaintext")
        graph.edge(name, entry.to, penwidth="2")
        names.append(name)
    return names


def _font_size(easy: bool) -> int:
    """The map's text size in points: larger in easy read."""
    return 18 if easy else 11


def _graph_style(graph: graphviz.Digraph, model: Model, easy: bool) -> None:
    """The map's title, layout and the look of its boxes and arrows."""
    font_size = str(_font_size(easy))
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
        fontsize=str(_font_size(easy) - (2 if easy else 1)),
        fontcolor=PALETTE["text"],
        color=PALETTE["line"],
        penwidth="1.2",
        arrowsize="0.8",
    )


def _lane_style(
    lane: graphviz.Digraph, model: Model, actor_id: str | None, *, is_person: bool, easy: bool
) -> None:
    """A lane's label and border: the person's own lane thick and saying whose it is."""
    name = lane_name(model, actor_id)
    lane_wrap = 22 if easy else 28  # long team names take two lines, not the map's width
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
    lane.attr(labeljust="l", fontsize=str(_font_size(easy) + 1))


def _step_node(
    lane: graphviz.Digraph,
    model: Model,
    step: Step,
    numbers: Sequence[int],
    view: str,
    used: _Used,
    is_join: bool = False,
    word: str | None = None,
) -> None:
    """One step in its lane: its shape, its name, its days and its problems, under
    ``word`` (a mark such as ``New``) when given.

    A parallel step (a diamond) has a large plus above its name and says "these happen at
    the same time" below it; a join says "waits for all of these" in bold, so neither
    rests on shape alone. A parallel step has no actor, days or forms, so shows none."""
    easy = view == "easy-read"
    mark = mark_of(model, step)
    used.shapes[mark] = None
    style = _node_style(mark)
    extra = ""
    if mark == "parallel":
        # a diamond grows twice as wide as its text: short lines keep it narrow
        lines = _wrap(_words(view)[mark], 16 if easy else 18)
        extra += "".join(f"<BR/><I>{esc(line)}</I>" for line in lines)
    if is_join:
        used.joins = True
        extra += f"<BR/><B>{esc(join_words(view))}</B>"
    days = days_words(model, step, view)
    if days:
        # italic beside the bold problem numbers; upright in easy read, where
        # "2 problems here" is the italic line
        if step.days_unknown:
            used.unknown = True
        else:
            used.days = True
        extra += f"<BR/>{esc(days)}" if easy else f"<BR/><I>{esc(days)}</I>"
    if numbers and easy:
        extra += f"<BR/><I>{esc(_problems_words(len(numbers)))}</I>"
    elif numbers:
        colour = PALETTE["badge"]
        extra += f'<BR/><FONT COLOR="{colour}"><B>{_badges(numbers)}</B></FONT>'
    if mark == "parallel":
        name = _label(_wrap(step.name, 22 if easy else 20), extra=extra)
        name = f"<{_plus(easy)}<BR/>{name[1:]}"
    else:
        name = _label(_wrap(step.name, 22 if easy else 26), extra=extra)
    if word:
        name = f"<<B>{esc(word.upper())}</B><BR/>{name[1:]}"
    lane.node(
        step.id,
        label=name,
        shape=style.shape,
        style=style.style,
        fillcolor=style.fill,
        peripheries=str(style.peripheries),
        penwidth="4" if word else style.penwidth,
        **({"margin": "0.02,0.01"} if mark == "parallel" else {}),
    )


def _words(view: str) -> dict[str, str]:
    """The words for each mark in ``view``: :data:`EASY_WORDS` or :data:`KIND_WORDS`."""
    return EASY_WORDS if view == "easy-read" else KIND_WORDS


def _plus(easy: bool) -> str:
    """The plus of a parallel step's diamond, large and bold (already escaped)."""
    return f'<FONT POINT-SIZE="{_font_size(easy) * 2}"><B>{esc(PLUS)}</B></FONT>'


def _arrows(graph: graphviz.Digraph, model: Model, view: str, used: _Used) -> None:
    """Every arrow between steps, in file order, with its words; work sent back dashed.
    A parallel step's arrows go to the first step of each of its branches."""
    easy = view == "easy-read"
    order = {s.id: i for i, s in enumerate(step_order(model))}
    for step in model.steps:
        if step.kind == "parallel":
            for first in step.branches:
                if first in model.step_by_id:
                    graph.edge(step.id, first)
        for transition in step.next:
            if transition.to not in model.step_by_id:
                continue
            words = transition_words(transition, view)
            attrs = {}
            if words:
                attrs["label"] = _label(_wrap(words, 16 if easy else 20))
            tail, head = step.id, transition.to
            if transition.rework:
                used.rework = True
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
                used.shares = True
            graph.edge(tail, head, **attrs)


def _key_notes(
    rework: bool,
    shares: bool,
    badges: bool,
    easy: bool,
    person_lane: bool,
    days: bool = False,
    *,
    unknown: bool = False,
    joins: bool = False,
    parallel: bool = False,
) -> list[tuple[str, str, str]]:
    """The key's lines for marks that are not shapes: (sample, its words, sample style).

    A parallel step's diamond is explained here by its plus, with the words it carries
    on the map, rather than drawn again among the shapes: a large diamond there made
    the key as tall as a short process."""
    notes = []
    if person_lane:
        words = "Thick border: what you do" if easy else "Thick border: the person's own lane"
        notes.append(("", words, "lane"))
    notes.append(("\u2014\u2014>", "Arrow: what happens next", "arrow"))
    if parallel:
        words = _words("easy-read" if easy else "findings")["parallel"]
        notes.append((PLUS, f"Diamond with a plus: {words[:1].lower()}{words[1:]}", "plus"))
    if joins:
        notes.append(
            (
                join_words("easy-read" if easy else "findings"),
                "all the work done at the same time must be finished first",
                "join",
            )
        )
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
    if unknown and easy:
        notes.append((UNKNOWN_DAYS["easy-read"], "nobody has said how long you wait", "text"))
    elif unknown:
        notes.append(("time not known", "nobody has published how long it takes", "days"))
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
    *,
    unknown: bool = False,
    joins: bool = False,
    more_starts: Sequence[str] = (),
) -> None:
    """A compact key explaining every mark the map uses.

    Each shape is drawn as it is on the map with its meaning inside, two to a row;
    the other marks (the person's lane, arrows, a parallel step's plus, a join's words,
    percentages, problem numbers, days) follow in one table, two to a row, each with a
    small sample beside its words, so the key stays narrow and its text lines up.

    The key's first row shares a rank with the start, so the key sits beside the top
    of the process rather than above it: the first screenful of a map shows steps. When
    people start in several ways, every start marker shares that rank (``more_starts``).
    """
    words = EASY_WORDS if easy else KIND_WORDS
    order = [m for m in KIND_WORDS if m in marks and m != "parallel"]
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
            label=_notes_table(
                _key_notes(
                    rework,
                    shares,
                    badges,
                    easy,
                    person_lane,
                    days,
                    unknown=unknown,
                    joins=joins,
                    parallel="parallel" in marks,
                ),
                easy,
            ),
            shape="plain",
        )
        if previous:
            key.edge(previous, "__key_notes", style="invis")
        first = f"__key_{rows[0][0]}" if rows else "__key_notes"
    # Beside the process, level with the start: the rows of the key take the ranks of the
    # first steps, where a process (narrow at its start) leaves room.
    if start:
        also = "".join(f" {name};" for name in more_starts)
        graph.body.append(f"\t{{rank=same; __start;{also} {first}}}\n")


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
            elif kind == "plus":
                body = _plus(easy)
            elif kind == "join":  # on two lines, so the key stays narrow
                body = "<BR/>".join(f"<B>{esc(w)}</B>" for w in _wrap(sample, 13))
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
    """The time at the step as the map shows it (``21 days``, ``time not known``), or empty."""
    start_words: str = ""
    """When ``start`` is a list of groups: the groups starting here (``start for adults``)."""
    together: str = ""
    """At a parallel step: the steps that then happen at the same time, branch by branch,
    and where the case goes on when all of them are done."""
    branches: tuple[tuple[str, ...], ...] = ()
    """At a parallel step: the names of each branch's steps, in the order a case meets them."""
    waits: tuple[str, ...] = ()
    """At a join: what it waits for, one sentence for each parallel step joining here."""
    sources: tuple[str, ...] = ()
    """Where the step is documented: each source's title, with the date it was published."""
    assumed: tuple[str, ...] = ()
    """The step's values that no source states, in words (``how long it takes``): assumed,
    not published."""


@dataclass(frozen=True)
class OutlineLane:
    """One lane (actor) of the text alternative, its steps in order from start."""

    name: str
    is_person: bool
    steps: tuple[OutlineStep, ...] = field(default_factory=tuple)


class Outline(tuple[OutlineLane, ...]):
    """The map in words: its lanes, in order (a tuple of :class:`OutlineLane`), and
    ``starts``, the sentence saying how people start when ``start`` is a list of groups
    (empty otherwise)."""

    starts: str = ""


def source_words(model: Model, source_id: str) -> str:
    """A source as the map in words names it: its title, and ``(published 1 March 2024)``
    when the model gives the date; the id itself if the model has no such source."""
    source = next((s for s in model.sources if s.id == source_id), None)
    if source is None:
        return clean(source_id)
    title = clean(source.title)
    when = source.published
    if when is None:
        return title
    return f"{title} (published {date_words(when)})"


def starts_sentence(model: Model) -> str:
    """How people start, when ``start`` is a list of groups: ``People start in one of 2
    ways: adults (80%) at First contact; young people moving to adult services at
    Assessment.`` Empty for a single start."""
    if not model.grouped:
        return ""
    ways = [
        f"{start_group_words(e.share, e.when)} at {clean(model.step(e.to).name)}"
        for e in model.entries
        if e.to in model.step_by_id
    ]
    if not ways:
        return ""
    head = (
        "People start in one way" if len(ways) == 1 else f"People start in one of {len(ways)} ways"
    )
    return f"{head}: {'; '.join(ways)}."


def _branches(model: Model, step: Step, position: dict[str, int]) -> tuple[tuple[str, ...], ...]:
    """The step ids of each branch of a parallel step, first step first, then in the order
    a case meets them (only its first steps if the model has no block for it)."""
    block = next((b for b in model.blocks if b.step == step.id), None)
    if block is None:
        return tuple((first,) for first in step.branches if first in model.step_by_id)
    return tuple(
        tuple(sorted(branch, key=lambda s: (s != branch[0], position.get(s, len(position)))))
        for branch in block.branches
    )


def _branch_words(model: Model, branches: tuple[tuple[str, ...], ...]) -> str:
    """``branch 1 (Planning, then Sign off), branch 2 (Financial assessment)``."""
    return ", ".join(
        f"branch {n} ({', then '.join(clean(model.step(s).name) for s in branch)})"
        for n, branch in enumerate(branches, start=1)
    )


def together_words(model: Model, step: Step, branches: tuple[tuple[str, ...], ...]) -> str:
    """What a parallel step says in words: which steps then happen at the same time, and
    where the case goes on."""
    text = f"Then these happen at the same time: {_branch_words(model, branches)}."
    if step.join and step.join in model.step_by_id:
        join = clean(model.step(step.join).name)
        text += f" When all of them are done, the case goes on at {join}."
    return text


def waits_words(model: Model, branches: tuple[tuple[str, ...], ...]) -> str:
    """What a join says in words about one parallel step joining there."""
    return (
        f"{capital(join_words())}, which happen at the same time: {_branch_words(model, branches)}."
    )


def map_outline(
    model: Model,
    result: CheckResult | None = None,
    view: str = "findings",
    numbered: Sequence[NumberedFinding] | None = None,
) -> Outline:
    """The map in words: lanes in order of first appearance from the start, each step with
    its transitions (conditions, shares, rework), finding numbers, sources and assumed
    values; what happens at the same time at parallel steps and joins; and (``starts``)
    how each group of people starts."""
    numbered = _numbering(result, view, numbered)
    badges = numbers_by_step(numbered)
    people = set(person_actor_ids(model))
    position = {s.id: i for i, s in enumerate(step_order(model))}
    branches = {s.id: _branches(model, s, position) for s in model.steps if s.kind == "parallel"}
    joins = joins_of(model)
    groups: dict[str, list[str]] = {}
    if model.grouped:
        for entry in model.entries:
            groups.setdefault(entry.to, []).append(clean(entry.when or "everyone"))
    out = []
    for actor_id, steps in lanes(model):
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
            own = branches.get(step.id, ())
            outline_steps.append(
                OutlineStep(
                    id=step.id,
                    name=clean(step.name),
                    kind_words=KIND_WORDS[mark_of(model, step)],
                    findings=tuple(badges.get(step.id, ())),
                    arrows=arrows,
                    is_start=step.id in model.starts,
                    days=days_words(model, step),
                    start_words=(
                        f"start for {join_and(groups[step.id])}" if step.id in groups else ""
                    ),
                    together=together_words(model, step, own) if step.kind == "parallel" else "",
                    branches=tuple(
                        tuple(clean(model.step(s).name) for s in branch) for branch in own
                    ),
                    waits=tuple(waits_words(model, branches[p.id]) for p in joins.get(step.id, ())),
                    sources=tuple(source_words(model, s) for s in step.sources),
                    assumed=tuple(field_words(a) for a in step.assumed),
                )
            )
        out.append(
            OutlineLane(
                name=lane_name(model, actor_id),
                is_person=actor_id in people,
                steps=tuple(outline_steps),
            )
        )
    outline = Outline(out)
    outline.starts = starts_sentence(model)
    return outline


def map_text(
    model: Model,
    result: CheckResult | None = None,
    view: str = "findings",
    numbered: Sequence[NumberedFinding] | None = None,
) -> str:
    """The text alternative of the map as plain text, lane by lane."""
    lines = [f"Process map of {clean(model.council)}: {clean(model.title)}"]
    outline = map_outline(model, result, view, numbered)
    if outline.starts:
        lines.extend(["", outline.starts])
    for lane in outline:
        lines.append("")
        lines.append(f"{lane.name}{' (the person)' if lane.is_person else ''}:")
        for step in lane.steps:
            tags = [step.kind_words]
            if step.start_words:
                tags.insert(0, step.start_words)
            elif step.is_start:
                tags.insert(0, "start")
            if step.days:
                tags.append(step.days)
            head = f"- {step.name} ({'; '.join(tags)})"
            if step.findings:
                head += ". Problems " + ", ".join(str(n) for n in step.findings)
            lines.append(head)
            if step.sources:
                lines.append(f"  - sources: {'; '.join(step.sources)}")
            if step.assumed:
                lines.append(f"  - assumed, not published: {', '.join(step.assumed)}")
            lines.extend(f"  - {words}" for words in step.waits)
            if step.together:
                lines.append(f"  - {step.together}")
            elif not step.arrows:
                lines.append("  - next: nothing (the process ends here)")
            for arrow in step.arrows:
                extra = f" ({arrow.words})" if arrow.words else ""
                lines.append(f"  - next: {arrow.to_name}{extra}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- name and summary


def map_title(model: Model, view: str = "findings") -> str:
    """The accessible name of a map."""
    what = "Easy read map" if view == "easy-read" else "Process map"
    return f"{what} of {clean(model.council)}: {clean(model.title)}"


def map_description(
    model: Model,
    result: CheckResult | None = None,
    view: str = "findings",
    numbered: Sequence[NumberedFinding] | None = None,
) -> str:
    """A one-paragraph summary of the map for its ``<desc>``."""
    outline = map_outline(model, result, view, numbered)
    steps = sum(len(lane.steps) for lane in outline)
    rework = sum(1 for s in model.steps for t in s.next if t.rework)
    numbered = _numbering(result, view, numbered)
    on_map = sum(1 for n in numbered if n.finding.steps)
    starts = [clean(model.step(s).name) for s in model.starts if s in model.step_by_id]
    where = " or ".join(starts) if starts else "no step"
    by_group = ", by group of people" if model.grouped and len(starts) > 1 else ""
    text = (
        f"{steps} steps in {len(outline)} lanes, one per team or person, starting at "
        f"{where}{by_group}."
    )
    parallel = sum(1 for s in model.steps if s.kind == "parallel")
    if parallel:
        text += (
            f" At {plural(parallel, 'diamond')} with a plus, the work splits into steps that "
            "happen at the same time."
        )
    if rework:
        text += f" {plural(rework, 'arrow')} send work back."
    if view != "plain":
        text += f" {plural(on_map, 'numbered problem')} marked on steps."
    return text + " The steps in order, lane by lane, follow the map as text."
