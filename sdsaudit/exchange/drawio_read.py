"""Reading diagrams.net drawings (:func:`read`): the cells of the chosen page sorted into
lanes, steps and connectors, and from them a draft model.

What becomes what is described in :mod:`sdsaudit.exchange.drawio` and docs/import.md
("diagrams.net"). Every problem is collected, each at its cell (``FILE.drawio:cell "3"``),
and raised at once."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..model.loader import did_you_mean, load_model_text
from ..vocab import (
    ACTOR_KINDS,
    ARTEFACTS,
    ID_PATTERN,
    NO_ACTOR_KINDS,
    OUTCOMES,
    PERSON_LEVELS,
    STEP_KINDS,
    TELLS,
)
from .data import STEP_ORDER, Draft, write_data
from .drawio_file import (
    ROOT_CELL,
    Cell,
    Problems,
    choose_page,
    norm,
    page_model,
    pages_of,
    parse_xml,
    read_bytes,
    read_cells,
    short,
)
from .drawio_words import (
    EDGE_PROPERTIES,
    IGNORED_SHAPES,
    LANE_PROPERTIES,
    PAGE_PROPERTIES,
    START_WORDS,
    STEP_PROPERTIES,
    Guess,
    edge_meaning,
    guess_actor_kind,
    guess_outcome,
    guess_step_kind,
    is_diamond,
    is_ellipse,
    is_parallel_shape,
    parse_json,
    parse_number,
    parse_restrictions,
    properties,
    split_days,
    words,
)

_ID = re.compile(ID_PATTERN)


# ----------------------------------------------------------------------------- the drawing read


@dataclass
class _Node:
    """A shape that is part of the process: a step, a start marker, or a gateway that
    only joins or merges (no step)."""

    cell: Cell
    role: str  # "step", "start", "join" (a parallel join gateway), "merge" (a label-less diamond)
    lane: str | None = None


@dataclass
class _Edge:
    cell: Cell
    source: str
    target: str
    label: str


@dataclass
class Reading:
    """Everything read from one page, on the way to a draft."""

    path: str
    cells: dict[str, Cell]
    problems: Problems
    lanes: dict[str, Cell] = field(default_factory=dict)
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    to_fill: list[str] = field(default_factory=list)
    comments: dict[str, list[str]] = field(default_factory=dict)
    step_cells: dict[str, str] = field(default_factory=dict)
    """Each step's cell, by step id."""
    leaving: dict[str, list[_Edge]] = field(default_factory=dict)
    """The connectors leaving each shape, by its cell id, in the file's order."""
    leads_to: dict[str, str | None] = field(default_factory=dict)
    """Where an arrow into a shape leads (see :func:`through`), worked out once each."""
    default_actor: str | None = None
    actors_assumed: bool = False
    _onward: dict[str, list[str]] | None = None

    def fill(self, line: str) -> None:
        if line not in self.to_fill:
            self.to_fill.append(line)

    def onward(self) -> dict[str, list[str]]:
        """The steps each shape's connectors lead to (past gateways), by cell id."""
        if self._onward is None:
            self._onward = {}
            for source, edges in self.leaving.items():
                targets = [through(self, e.target) for e in edges]
                self._onward[source] = [t for t in targets if t is not None]
        return self._onward


def _climb(cells: Mapping[str, Cell], cell_id: str, known: Mapping[str, Any]) -> list[str]:
    """The cells from ``cell_id`` up through its parents to the first one already in
    ``known`` (or the top, or a parent that leads round in a circle), nearest first."""
    path: list[str] = []
    passed: set[str] = set()
    here: str | None = cell_id
    while here is not None and here in cells and here not in known and here not in passed:
        path.append(here)
        passed.add(here)
        here = cells[here].parent
    return path


def lanes_above(cells: Mapping[str, Cell], lanes: Mapping[str, Cell]) -> dict[str, str | None]:
    """The lane holding each cell (its nearest ancestor that is a lane), by cell id: each
    parent chain is climbed once."""
    out: dict[str, str | None] = {}
    for cell_id in cells:
        path = _climb(cells, cell_id, out)
        top = cells[path[-1]].parent if path else None
        found = (top if top in lanes else out.get(top)) if top in out else None
        for node in reversed(path):
            out[node] = found
            if node in lanes:
                found = node
    return out


def origins(cells: Mapping[str, Cell]) -> dict[str, tuple[float, float]]:
    """Where each cell's own (0, 0) lies on the page: a shape's position is relative to the
    shape that holds it."""
    out: dict[str, tuple[float, float]] = {}
    for cell_id in cells:
        path = _climb(cells, cell_id, out)
        top = cells[path[-1]].parent if path else None
        x, y = out.get(top, (0.0, 0.0)) if top is not None else (0.0, 0.0)
        for node in reversed(path):
            box = cells[node].box
            if cells[node].vertex and box is not None:
                x, y = x + box[0], y + box[1]
            out[node] = (x, y)
    return out


MAX_LANES_BY_PLACE = 500
"""A shape drawn over a lane, not in it, is placed in the lane under its middle only when
the page has at most this many lanes (each shape is compared with each lane)."""


def classify(reading: Reading) -> None:
    """Sort the cells into lanes, process shapes and connectors."""
    cells = reading.cells
    children: dict[str, list[Cell]] = {}
    for cell in cells.values():
        if cell.parent:
            children.setdefault(cell.parent, []).append(cell)
    edge_labels: dict[str, list[str]] = {}
    for cell in cells.values():
        parent = cells.get(cell.parent or "")
        if cell.vertex and parent is not None and parent.edge:
            if cell.label:
                edge_labels.setdefault(parent.id, []).append(cell.label)
    shapes = [
        c
        for c in cells.values()
        if c.vertex and not (cells.get(c.parent or "") and cells[c.parent or ""].edge)
    ]
    containers = {
        c.id
        for c in shapes
        if not c.has("group")
        and any(k.vertex and not k.has(*IGNORED_SHAPES) for k in children.get(c.id, []))
    }
    for cell in shapes:
        if cell.has(*IGNORED_SHAPES):
            continue
        if cell.has("swimlane") or cell.id in containers:
            holds_lanes = any(
                k.vertex and (k.has("swimlane") or k.id in containers)
                for k in children.get(cell.id, [])
            )
            if not holds_lanes:
                reading.lanes[cell.id] = cell
            continue
        if cell.has("group"):
            continue
        reading.nodes[cell.id] = _Node(cell, "step")
    _place_in_lanes(reading)
    for cell in cells.values():
        if cell.edge:
            label = " ".join([cell.label, *edge_labels.get(cell.id, [])]).strip()
            _connector(reading, cell, label)


def _place_in_lanes(reading: Reading) -> None:
    """Each shape's lane: the lane holding it, or the lane its middle lies in."""
    held = lanes_above(reading.cells, reading.lanes)
    corners = origins(reading.cells)
    boxes = [
        (lane.box[2] * lane.box[3], lane_id, corners[lane_id], lane.box)
        for lane_id, lane in reading.lanes.items()
        if lane.box is not None
    ]
    boxes.sort()  # the smallest lane first: a lane drawn inside a bigger one wins
    for node in reading.nodes.values():
        node.lane = held.get(node.cell.id)
        box = node.cell.box
        if node.lane is not None or box is None or len(boxes) > MAX_LANES_BY_PLACE:
            continue
        x, y = corners[node.cell.id]
        cx, cy = x + box[2] / 2, y + box[3] / 2
        node.lane = next(
            (
                lane_id
                for _, lane_id, (lx, ly), (_, _, w, h) in boxes
                if lx <= cx <= lx + w and ly <= cy <= ly + h
            ),
            None,
        )


def _connector(reading: Reading, cell: Cell, label: str) -> None:
    ends = []
    for side, ref in (("start", cell.source), ("end", cell.target)):
        if not ref:
            reading.problems.at(
                cell.id,
                f"the arrow{_quoted(label)} is not joined to a shape at its {side}: drag its "
                f"{side} onto the shape it comes {'from' if side == 'start' else 'to'}",
            )
            continue
        if ref not in reading.nodes:
            other = reading.cells.get(ref)
            what = (
                f"the lane '{short(other.label)}'"
                if other is not None and ref in reading.lanes
                else "something that is not a step"
            )
            reading.problems.at(
                cell.id,
                f"the arrow{_quoted(label)} is joined at its {side} to {what}: join it to a "
                "step's shape",
            )
            continue
        ends.append(ref)
    if len(ends) == 2:
        edge = _Edge(cell, ends[0], ends[1], label)
        reading.edges.append(edge)
        reading.leaving.setdefault(edge.source, []).append(edge)


def _quoted(label: str) -> str:
    return f" '{short(label)}'" if label else ""


def find_markers(reading: Reading) -> None:
    """Start markers, joining parallel gateways and label-less merging diamonds: the shapes
    that are not steps."""
    into = _count(e.target for e in reading.edges)
    out = _count(e.source for e in reading.edges)
    for node in reading.nodes.values():
        cell = node.cell
        if any(STEP_PROPERTIES.get(norm(k)) == "kind" for k in cell.data):
            continue  # a step by its data
        label = cell.label.lower().rstrip(":").strip()
        if not into.get(cell.id) and (label in START_WORDS or (not label and is_ellipse(cell))):
            node.role = "start"
        elif is_parallel_shape(cell) and into.get(cell.id, 0) >= 2 and out.get(cell.id) == 1:
            node.role = "join"
        elif (
            (is_diamond(cell) or is_parallel_shape(cell))
            and cell.label in ("", "+", "X", "x")
            and out.get(cell.id) == 1
        ):
            node.role = "merge"


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def through(reading: Reading, target: str) -> str | None:
    """Where an arrow into ``target`` leads: past joining and merging gateways to a step
    (``None`` when a gateway leads nowhere, or gateways lead round in a circle)."""
    if target in reading.leads_to:
        return reading.leads_to[target]
    seen: list[str] = []
    found: str | None = target
    while found is not None and reading.nodes[found].role in ("join", "merge"):
        if found in seen:
            found = None
            break
        seen.append(found)
        onward = reading.leaving.get(found, [])
        found = onward[0].target if len(onward) == 1 else None
    for passed in (target, *seen):
        reading.leads_to[passed] = found
    return found


# ----------------------------------------------------------------------------- steps


@dataclass
class _Step:
    cell: Cell
    id: str
    name: str
    kind: str
    data: dict[str, Any]
    props: dict[str, str]
    guessed: Guess | None = None


def _slug(text: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40].strip("_")
    if not slug:
        return fallback
    return slug if slug[0].isalpha() else f"{fallback}_{slug}"


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def build_steps(reading: Reading) -> dict[str, _Step]:
    """A step for every process shape, by cell id: names, ids and kinds."""
    out_count = _count(e.source for e in reading.edges)
    problems = reading.problems
    found: dict[str, _Step] = {}
    explicit: dict[str, str] = {}
    for node in reading.nodes.values():
        if node.role != "step":
            continue
        cell = node.cell
        props = properties(cell, STEP_PROPERTIES, problems, f"the shape{_quoted(cell.label)}")
        name = cell.label
        given_kind = props.get("kind", "").strip().lower()
        if not given_kind and is_parallel_shape(cell) and name.startswith("+"):
            name = name[1:].strip()
        if not name and (given_kind == "parallel" or (not given_kind and is_parallel_shape(cell))):
            name = "Work done at the same time"
        if not name:
            if is_ellipse(cell) and not out_count.get(cell.id):
                name = "End"
            else:
                problems.at(
                    cell.id,
                    "this shape has no words: type the step's name in it, or delete it",
                )
                continue
        if "days" not in props:
            name = split_days(name)[0]
        sid = props.get("id", "").strip()
        if sid:
            if not _ID.match(sid):
                problems.at(
                    cell.id,
                    f"the step id '{short(sid)}' is not an id: use letters, digits, _ and -, "
                    "starting with a letter",
                )
            elif sid in explicit:
                problems.at(
                    cell.id,
                    f"the step id '{sid}' is also given to the shape in cell "
                    f'"{short(explicit[sid])}": every step needs its own',
                )
            explicit[sid] = cell.id
        found[cell.id] = _Step(cell, sid, name, "", {}, props)
    taken = set(explicit)
    for step in found.values():
        if not step.id:
            step.id = _unique(_slug(step.name, "step"), taken)
    return found


def step_kind(reading: Reading, step: _Step, outgoing: int) -> None:
    """The step's kind: its data property, or a guess from its shape and words."""
    given = step.props.get("kind")
    if given is not None:
        kind = given.strip().lower().replace(" ", "_")
        if kind not in STEP_KINDS:
            reading.problems.at(
                step.cell.id,
                f"the kind '{short(given)}' of step '{step.name}' is not a step kind"
                f"{did_you_mean(kind, STEP_KINDS)}; use one of: {', '.join(STEP_KINDS)}",
            )
            kind = "information"
        step.kind = kind
        return
    if is_parallel_shape(step.cell):
        step.kind = "parallel"
        return
    step.guessed = guess_step_kind(step.cell, step.name, outgoing)
    step.kind = step.guessed.kind


def _list_property(
    reading: Reading, step: _Step, key: str, vocabulary: Sequence[str] | None
) -> list[str] | None:
    value = step.props.get(key)
    if value is None:
        return None
    try:
        items = words(value)
    except ValueError as exc:
        reading.problems.at(step.cell.id, f"'{key}' of step '{step.name}' cannot be read: {exc}")
        return None
    if vocabulary is not None:
        for item in items:
            if item not in vocabulary:
                reading.problems.at(
                    step.cell.id,
                    f"'{key}' of step '{step.name}' names '{short(item)}', which is not one of "
                    f"its words{did_you_mean(item, vocabulary)}; use: {', '.join(vocabulary)}",
                )
    return items


def step_fields(reading: Reading, step: _Step) -> None:
    """Every key of a step but ``next`` and ``branches``, from its data properties (and
    its label for the days)."""
    problems, props, cell = reading.problems, step.props, step.cell
    data: dict[str, Any] = {"id": step.id, "name": step.name, "kind": step.kind}
    for key in _list_property(reading, step, "assumed", None) or []:
        assume(data, key)  # the drawing's own, first
    person = props.get("person")
    if person is not None:
        if person.strip() not in PERSON_LEVELS:
            problems.at(
                cell.id,
                f"'person' of step '{step.name}' is '{short(person)}', not a way of taking "
                f"part{did_you_mean(person.strip(), PERSON_LEVELS)}; use one of: "
                f"{', '.join(PERSON_LEVELS)}",
            )
        else:
            data["person"] = person.strip()
    _days(reading, step, data)
    if "forms" in props:
        try:
            forms = parse_number(props["forms"])
            if not isinstance(forms, int):
                raise ValueError
            data["forms"] = forms
        except ValueError:
            problems.at(
                cell.id,
                f"'forms' of step '{step.name}' is '{short(props['forms'])}': write a whole "
                "number (0 or more)",
            )
    for key, vocabulary in (
        ("asks", None),
        ("tells", TELLS),
        ("produces", ARTEFACTS),
        ("approves", ARTEFACTS),
    ):
        items = _list_property(reading, step, key, vocabulary)
        if items is not None:
            data[key] = items
    for key in ("authority", "note", "actor", "join"):
        if key in props and props[key].strip():
            data[key] = props[key].strip() if key != "note" else props[key]
    if "restrictions" in props:
        try:
            data["restrictions"] = parse_restrictions(props["restrictions"])
        except ValueError as exc:
            problems.at(cell.id, f"'restrictions' of step '{step.name}' cannot be read: {exc}")
    if "outcome" in props:
        outcome = props["outcome"].strip()
        if outcome not in OUTCOMES:
            problems.at(
                cell.id,
                f"'outcome' of step '{step.name}' is '{short(outcome)}', not an outcome"
                f"{did_you_mean(outcome, OUTCOMES)}; use one of: {', '.join(OUTCOMES)}",
            )
        else:
            data["outcome"] = outcome
    source = _list_property(reading, step, "source", None)
    if source:
        data["source"] = source[0] if len(source) == 1 else source
    step.data = data


def assume(data: dict[str, Any], key: str) -> None:
    """Mark a step's key as assumed (once)."""
    assumed = data.setdefault("assumed", [])
    if key not in assumed:
        assumed.append(key)


def _days(reading: Reading, step: _Step, data: dict[str, Any]) -> None:
    given = step.props.get("days")
    if given is not None:
        text = given.strip()
        if not text:
            return  # written with no value: the drawing gives no time on purpose
        if text.lower() == "unknown":
            data["days"] = "unknown"
            return
        try:
            data["days"] = parse_number(text)
        except ValueError:
            reading.problems.at(
                step.cell.id,
                f"'days' of step '{step.name}' is '{short(given)}': write a number of days "
                "(0 or more), or unknown",
            )
        return
    if step.kind in ("support", "end", "parallel"):
        return
    _, days, note = split_days(step.cell.label)
    if days is not None:
        data["days"] = int(days) if float(days).is_integer() else days
        if note:
            reading.comments.setdefault(step.id, []).append(f"days: {note}")
        return
    data["days"] = "unknown"
    assume(data, "days")
    reading.fill(f"how long '{step.name}' takes (days)")


# ----------------------------------------------------------------------------- connectors


@dataclass
class _Arrow:
    cell: Cell
    to: str
    when: str | None
    share: float | None
    rework: bool


def arrow(reading: Reading, edge: _Edge, target: str) -> _Arrow:
    """A connector as a transition to the step ``target`` (an id)."""
    cell = edge.cell
    props = properties(cell, EDGE_PROPERTIES, reading.problems, f"the arrow{_quoted(edge.label)}")
    meaning = edge_meaning(edge.label, cell.style.get("dashed") == "1", props)
    for error in meaning.errors:
        reading.problems.at(cell.id, error)
    return _Arrow(cell, target, meaning.when, meaning.share, meaning.rework)


def _transition(a: _Arrow) -> Any:
    if a.when is None and a.share is None and not a.rework:
        return a.to
    out: dict[str, Any] = {"to": a.to}
    if a.when is not None:
        out["when"] = a.when
    if a.share is not None:
        out["share"] = int(a.share) if float(a.share).is_integer() else a.share
    if a.rework:
        out["rework"] = True
    return out


def _check_arrows(
    reading: Reading, step: _Step, arrows: Sequence[_Arrow], steps: Mapping[str, _Step]
) -> None:
    """No two arrows to one step; percentages that add up."""
    seen: dict[str, _Arrow] = {}
    for a in arrows:
        if a.to in seen:
            name = steps[reading.step_cells[a.to]].name
            reading.problems.at(
                a.cell.id,
                f"two arrows go from '{step.name}' to '{name}' (cells "
                f'"{short(seen[a.to].cell.id)}" and "{short(a.cell.id)}"): merge them into one',
            )
        seen[a.to] = a
    shares = [a.share for a in arrows if a.share is not None]
    total = sum(shares)
    if total > 1 + 1e-3:
        reading.problems.at(
            step.cell.id,
            f"the arrows out of '{step.name}' give shares adding up to {total * 100:g}%, more "
            "than 100%: they are the parts of all cases going each way",
        )
    elif shares and len(shares) == len(arrows) and abs(total - 1) > 1e-3:
        reading.problems.at(
            step.cell.id,
            f"every arrow out of '{step.name}' has a share, but they add up to {total * 100:g}%, "
            "not 100%: correct them, or leave one without a percentage to take what is left",
        )


# ----------------------------------------------------------------------------- the whole model


def _lane_actors(reading: Reading) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The actors (by id) from the lanes, and each lane's actor id (by cell id)."""
    actors: dict[str, dict[str, str]] = {}
    by_lane: dict[str, str] = {}
    taken: set[str] = set()
    problems = reading.problems
    guessed = False
    for lane in reading.lanes.values():
        props = properties(lane, LANE_PROPERTIES, problems, f"the lane{_quoted(lane.label)}")
        name = lane.label
        if not name:
            problems.at(lane.id, "this lane has no name: type the team's name in its title")
            continue
        kind = props.get("kind", "").strip().lower()
        if kind and kind not in ACTOR_KINDS:
            problems.at(
                lane.id,
                f"the kind '{short(kind)}' of the lane '{name}' is not a kind of team"
                f"{did_you_mean(kind, ACTOR_KINDS)}; use one of: {', '.join(ACTOR_KINDS)}",
            )
        if not kind:
            kind = guess_actor_kind(name) or "council"
            guessed = True
            reading.fill(
                f"the kind of team '{name}' (no kind in the lane's data: guessed as {kind})"
            )
        aid = props.get("id", "").strip()
        if aid and (not _ID.match(aid) or aid in taken):
            problems.at(
                lane.id,
                f"the lane id '{short(aid)}' is "
                + ("used twice" if aid in taken else "not an id (letters, digits, _ and -)"),
            )
        if not aid:
            aid = _slug(name, "team")
            if kind == "person" and "person" not in taken:
                aid = "person"
        aid = _unique(aid, taken)
        actors[aid] = {"name": name, "kind": kind}
        by_lane[lane.id] = aid
    reading.actors_assumed |= guessed
    return actors, by_lane


def _page_data(reading: Reading, path: str) -> dict[str, Any]:
    """The model's top-level keys from the page's own data (the root cell's properties),
    with placeholders where the drawing gives none."""
    root = reading.cells.get(ROOT_CELL) or next(
        (c for c in reading.cells.values() if not c.parent), None
    )
    props: dict[str, str] = {}
    if root is not None:
        props = properties(root, PAGE_PROPERTIES, reading.problems, "the page's data")
    where = root.id if root is not None else None
    out: dict[str, Any] = {"sdsaudit": "1.1"}
    council = props.get("council", "").strip()
    if not council:
        council = "Unnamed council"
        reading.fill("the council's name (council: written for now as 'Unnamed council')")
    out["council"] = council
    title = props.get("title", "").strip()
    if not title:
        title = Path(path).stem
        reading.fill(f"the title of the process (title: written for now as '{title}')")
    out["title"] = title
    as_of = props.get("as_of", "").strip()
    try:
        out["as_of"] = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        reading.problems.at(
            where, f"'as_of' in the page's data is '{short(as_of)}': write a date as 2026-04-01"
        )
        out["as_of"] = None
    if out["as_of"] is None:
        out["as_of"] = dt.date.today()
        if not as_of:
            reading.fill(
                f"the date the model describes (as_of: written for now as '{out['as_of']}')"
            )
    if props.get("description"):
        out["description"] = props["description"]
    for key, kind in (
        ("sources", list),
        ("authorities", list),
        ("policies", dict),
        ("targets", dict),
        ("waivers", list),
    ):
        if props.get(key, "").strip():
            try:
                out[key] = parse_json(props[key], kind)
            except ValueError as exc:
                reading.problems.at(
                    where,
                    f"'{key}' in the page's data cannot be read ({exc}): write it as JSON, "
                    "as sdsaudit export does",
                )
    for key in ("assumed", "options"):
        if key in props:
            try:
                out[key] = words(props[key])
            except ValueError as exc:
                reading.problems.at(where, f"'{key}' in the page's data cannot be read: {exc}")
    return out


def _starts(reading: Reading, steps: Mapping[str, _Step], arrows_in: Mapping[str, int]) -> Any:
    """Where cases begin: the start markers' arrows, else the steps nothing leads into."""
    entries: list[tuple[str, _Arrow | None]] = []
    for node in reading.nodes.values():
        if node.role != "start":
            continue
        leaving = reading.leaving.get(node.cell.id, [])
        if not leaving:
            reading.problems.at(
                node.cell.id,
                "this start shape has no arrow to the first step: draw one",
            )
        for edge in leaving:
            target = through(reading, edge.target)
            if target is None or target not in steps:
                reading.problems.at(edge.cell.id, "this arrow from the start leads to no step")
                continue
            entries.append((target, arrow(reading, edge, steps[target].id)))
    if not entries:
        entries = [(cid, None) for cid in steps if not arrows_in.get(cid)]
    if not entries:
        reading.problems.at(
            None,
            "no step is the start: every step has an arrow into it. Draw a circle labelled "
            "'Start' with an arrow to the first step",
        )
        return None
    if len(entries) == 1 and (entries[0][1] is None or not entries[0][1].when):
        target, a = entries[0]
        if a is not None and a.share is not None and a.share != 1:
            reading.problems.at(a.cell.id, "the only way in cannot have a share below 100%")
        return steps[target].id
    out = []
    for target, a in entries:
        entry: dict[str, Any] = {"to": steps[target].id}
        if a is not None and a.when:
            entry["when"] = a.when
        else:
            entry["when"] = f"people who start at '{steps[target].name}'"
            reading.fill(
                f"who starts at '{steps[target].name}' (the drawing has several ways in; "
                "name the group of people each is for)"
            )
        if a is not None and a.share is not None:
            entry["share"] = a.share
        out.append(entry)
    return out


def _find_join(reading: Reading, split: _Step, branches: Sequence[str]) -> str | None:
    """Where a parallel step's branches meet: the step every branch reaches soonest (the
    fewest arrows along the slowest branch; the first in the file on a tie). The branches
    are followed one level at a time, together, so the search ends at the join."""
    onward = reading.onward()
    position = {cid: n for n, cid in enumerate(reading.nodes)}
    seen = [{first} for first in branches]
    reached = {first: {n} for n, first in enumerate(branches)}
    fronts = [[first] for first in branches]
    while any(fronts):
        met = []
        for n, front in enumerate(fronts):
            ahead = []
            for here in front:
                for nxt in onward.get(here, []):
                    if nxt in seen[n] or nxt == split.cell.id:
                        continue
                    seen[n].add(nxt)
                    ahead.append(nxt)
                    reached.setdefault(nxt, set()).add(n)
                    if len(reached[nxt]) == len(branches) and nxt not in branches:
                        met.append(nxt)
            fronts[n] = ahead
        if met:
            return min(met, key=lambda c: position.get(c, 0))
    return None


def build(reading: Reading) -> Draft:
    """The draft model from a classified page."""
    problems = reading.problems
    find_markers(reading)
    steps = build_steps(reading)
    reading.step_cells = {s.id: cid for cid, s in steps.items()}
    out_edges = reading.leaving
    for node in reading.nodes.values():
        if node.role in ("join", "merge") and through(reading, node.cell.id) is None:
            problems.at(
                node.cell.id,
                "this gateway joins arrows but leads nowhere: give it one arrow on to the next step",
            )
    page = _page_data(reading, reading.path)
    actors, by_lane = _lane_actors(reading)
    for cid, step in steps.items():
        step_kind(reading, step, len(out_edges.get(cid, [])))
        if step.guessed is not None:
            reading.fill(
                f"the kind of step '{step.name}' (guessed: {step.kind}, from {step.guessed.reason})"
            )
            reading.comments.setdefault(step.id, []).append(
                f"kind guessed (from {step.guessed.reason}): check it"
            )
        step_fields(reading, step)
        if step.guessed is not None:
            rest = [k for k in step.data.get("assumed", []) if k != "kind"]
            step.data["assumed"] = ["kind", *rest]
    ids = {s.id for s in steps.values()}
    arrows_in: dict[str, int] = {}
    authorities = page.get("authorities", [])
    authorities = authorities if isinstance(authorities, list) else []
    authorities_added = False
    for cid, step in steps.items():
        arrows = _arrows_out(reading, out_edges.get(cid, []), steps)
        for a in arrows:
            if not a.rework or step.kind == "parallel":
                target = reading.step_cells[a.to]
                arrows_in[target] = arrows_in.get(target, 0) + 1
        if step.kind == "parallel":
            _parallel(reading, step, arrows, steps, ids)
        elif step.kind == "end":
            _end(reading, step, arrows)
        else:
            _check_arrows(reading, step, arrows, steps)
            if arrows:
                step.data["next"] = [_transition(a) for a in _dedupe(arrows)]
        _actor(reading, step, by_lane, actors)
        if step.kind == "approval":
            authorities_added |= _approval(reading, step, authorities)
    start = _starts(reading, steps, arrows_in)
    if authorities_added and not page.get("authorities"):
        page["authorities"] = [{"id": "sign_off", "name": "Sign-off"}]
        _assume(page, "authorities")
        reading.fill("the levels of sign-off (one level, 'Sign-off', stands in for now)")
    if not any(a["kind"] == "person" for a in actors.values()):
        pid = _unique("person", set(actors))
        actors = {pid: {"name": "The person and their family", "kind": "person"}, **actors}
        reading.actors_assumed = True
        reading.fill(
            "the person's own lane (none in the drawing: 'The person and their family' stands "
            "in for now)"
        )
    if reading.actors_assumed:
        _assume(page, "actors")
    if not any("person" in s.data for s in steps.values() if s.kind not in NO_ACTOR_KINDS):
        reading.fill(
            "how the person takes part in each step (person: informed, consulted, involved or "
            "leads; the drawing does not say, so every step is read as absent)"
        )
    problems.check()
    data = {**page, "actors": actors, "start": start}
    data["steps"] = [_ordered(s.data) for s in steps.values()]
    return Draft(data, reading.path, reading.to_fill, reading.comments)


def _assume(page: dict[str, Any], key: str) -> None:
    assumed = page.setdefault("assumed", [])
    if key not in assumed:
        assumed.append(key)


def _arrows_out(
    reading: Reading, leaving: Sequence[_Edge], steps: Mapping[str, _Step]
) -> list[_Arrow]:
    """A step's connectors as transitions, each past any joining gateway to its step."""
    arrows = []
    for edge in leaving:
        target = through(reading, edge.target)
        if target is None:
            continue  # the gateway's own problem is reported
        if target not in steps:
            if reading.nodes[target].role == "start":
                reading.problems.at(
                    edge.cell.id, "this arrow leads into a start shape: point it at a step"
                )
            continue  # otherwise the shape's own problem is reported
        arrows.append(arrow(reading, edge, steps[target].id))
    return arrows


def _end(reading: Reading, step: _Step, arrows: Sequence[_Arrow]) -> None:
    if arrows:
        reading.problems.at(
            step.cell.id,
            f"'{step.name}' is an end step, but arrows leave it: remove them, or change its kind",
        )
    if "outcome" not in step.data:
        outcome = guess_outcome(step.name)
        step.data["outcome"] = outcome or "other"
        if outcome is None:
            assume(step.data, "outcome")
            reading.fill(f"the outcome of '{step.name}' (guessed: other)")


def _actor(
    reading: Reading, step: _Step, by_lane: Mapping[str, str], actors: dict[str, dict[str, str]]
) -> None:
    """Who does the step: its data property ``actor``, else its lane's team (not for
    support, end and parallel steps, which nobody does)."""
    data = step.data
    if "actor" in data:
        if data["actor"] not in actors:
            reading.problems.at(
                step.cell.id,
                f"'actor' of step '{step.name}' is '{short(data['actor'])}', which is no lane's "
                f"id{did_you_mean(data['actor'], actors)}",
            )
        return
    if step.kind in NO_ACTOR_KINDS:
        return
    lane = by_lane.get(reading.nodes[step.cell.id].lane or "")
    if lane is None:
        if reading.default_actor is None:
            reading.default_actor = _unique("council_team", set(actors))
            actors[reading.default_actor] = {"name": "The council", "kind": "council"}
            reading.actors_assumed = True
        reading.fill(
            f"the team that does '{step.name}' (in no lane: taken as 'The council' for now)"
        )
        lane = reading.default_actor
    data["actor"] = lane


def _dedupe(arrows: Sequence[_Arrow]) -> list[_Arrow]:
    seen: set[str] = set()
    out = []
    for a in arrows:
        if a.to not in seen:
            seen.add(a.to)
            out.append(a)
    return out


def _ordered(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in STEP_ORDER if k in data}


def _parallel(
    reading: Reading,
    step: _Step,
    arrows: Sequence[_Arrow],
    steps: Mapping[str, _Step],
    ids: set[str],
) -> None:
    """A parallel step's branches (its arrows) and join (its data, or where they meet)."""
    data = step.data
    branches = [a.to for a in _dedupe(arrows)]
    if len(branches) < 2:
        reading.problems.at(
            step.cell.id,
            f"the parallel gateway '{step.name}' starts {len(branches)} branch"
            f"{'' if len(branches) == 1 else 'es'}: work done at the same time needs two or "
            "more arrows out of it",
        )
        return
    data["branches"] = branches
    if "join" in data:
        if data["join"] not in ids:
            reading.problems.at(
                step.cell.id,
                f"'join' of the parallel gateway '{step.name}' is '{short(data['join'])}', "
                f"which is no step's id{did_you_mean(data['join'], ids)}",
            )
        return
    firsts = [reading.step_cells[b] for b in branches]
    join = _find_join(reading, step, firsts)
    if join is None or join not in steps:
        reading.problems.at(
            step.cell.id,
            f"the branches of the parallel gateway '{step.name}' never meet again: draw a "
            "parallel gateway where they join, with one arrow on to the next step",
        )
        return
    data["join"] = steps[join].id


def _approval(reading: Reading, step: _Step, authorities: Sequence[Any]) -> bool:
    """An approval's sign-off level and what it approves, guessed when not given; whether
    the default level 'sign_off' was used."""
    data = step.data
    levels = {
        a["id"]: str(a.get("name", a["id"]))
        for a in authorities
        if isinstance(a, dict) and isinstance(a.get("id"), str)
    }
    added = False
    guessed = []
    if "authority" not in data:
        data["authority"] = next(iter(levels), "sign_off")
        added = not levels
        guessed.append("authority")
        name = levels.get(data["authority"], "Sign-off")
        reading.fill(f"who signs off at '{step.name}' (taken as '{name}')")
    if "approves" not in data:
        data["approves"] = ["support_plan"]
        guessed.append("approves")
        reading.fill(f"what '{step.name}' signs off (approves: taken as support_plan)")
    for key in guessed:
        assume(data, key)
    return added


# ----------------------------------------------------------------------------- reading, end to end


def read(path: str, *, page: str | None = None, max_bytes: int = 20 * 1024 * 1024) -> Draft:
    """Read a diagrams.net drawing (``.drawio`` or ``.xml``) into a draft model.

    Raises :class:`~sdsaudit.errors.ModelError` with every problem found, each at its
    cell (``FILE.drawio:cell "3": error: ...``), or :class:`~sdsaudit.errors.UsageError`
    when the page to read must be chosen."""
    raw = read_bytes(path, max_bytes)
    root = parse_xml(raw, path, "the file")
    chosen = choose_page(pages_of(root, path), page, path)
    model = page_model(chosen, path)
    problems = Problems(path)
    cells = read_cells(model, problems)
    reading = Reading(path, {c.id: c for c in cells}, problems)
    classify(reading)
    if not reading.nodes:
        problems.at(None, f"page '{short(chosen.name)}' has no shapes to read as steps")
        problems.check()
    draft = build(reading)  # raises with every problem found, the connectors' too
    check_draft(draft, reading)
    return draft


def check_draft(draft: Draft, reading: Reading) -> None:
    """Load the draft as the model it will be written as; any problem the loader finds is
    reported at the cell of the step (or lane) it is about."""
    text = write_data(draft.data)
    try:
        load_model_text(text, reading.path)
    except ModelError as exc:
        places = _places(text, reading)
        problems = Problems(reading.path)
        for p in exc.problems:
            cell = next((c for line, c in reversed(places) if line <= (p.line or 0)), None)
            problems.at(cell, p.message)
        problems.check()


def _places(text: str, reading: Reading) -> list[tuple[int, str | None]]:
    """(first line, cell) of each part of the written text, in order: the page's data,
    then each step."""
    root = ROOT_CELL if ROOT_CELL in reading.cells else None
    out: list[tuple[int, str | None]] = [(0, root)]
    for number, line in enumerate(text.split("\n"), start=1):
        match = re.match(r"^  - id: \"?([A-Za-z][A-Za-z0-9_-]*)\"?\s*$", line)
        if match and match.group(1) in reading.step_cells:
            out.append((number, reading.step_cells[match.group(1)]))
        elif re.match(r"^[a-z_]+:", line):
            out.append((number, root))
    return out
