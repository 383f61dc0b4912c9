"""Writing a model as a diagrams.net drawing (:func:`write`): one swimlane per team, each
step where the process map puts it (the map's layout by ``dot``, run by
:mod:`sdsaudit.render.draw` under its limits; a plain layout when it cannot be used), every
key of a step as a data property, and connectors labelled with their condition and share.

Reading the file back (:mod:`.drawio_read`) gives the same model: a connector carries data
properties only where its label alone would read back differently."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import xml.etree.ElementTree as ET  # building our own output: nothing is parsed here
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..model.objects import Model
from ..vocab import NO_ACTOR_KINDS
from .data import STEP_ORDER, model_data
from .drawio_file import ROOT_CELL, label_text
from .drawio_words import edge_meaning

STEP_STYLES = {
    "step": "rounded=1;whiteSpace=wrap;html=1;fillColor=#ffffff;strokeColor=#4d4d4d;",
    "approval": (
        "rounded=0;whiteSpace=wrap;html=1;fillColor=#fde2e1;strokeColor=#4d4d4d;strokeWidth=2;"
    ),
    "panel": (
        "shape=ext;double=1;rounded=0;whiteSpace=wrap;html=1;fillColor=#f9c9c6;"
        "strokeColor=#4d4d4d;strokeWidth=2;"
    ),
    "decision": "rhombus;whiteSpace=wrap;html=1;fillColor=#e3ecfa;strokeColor=#4d4d4d;",
    "parallel": (
        "shape=mxgraph.bpmn.gateway2;gwType=parallel;outline=none;symbol=none;html=1;"
        "whiteSpace=wrap;verticalLabelPosition=bottom;verticalAlign=top;align=center;"
        "perimeter=rhombusPerimeter;outlineConnect=0;fillColor=#efe8f7;strokeColor=#4d4d4d;"
    ),
    "support": "ellipse;shape=doubleEllipse;whiteSpace=wrap;html=1;fillColor=#dff2e1;strokeColor=#4d4d4d;",
    "end": "ellipse;whiteSpace=wrap;html=1;fillColor=#eeeeee;strokeColor=#4d4d4d;",
}
"""The shape of each of the map's marks (:func:`sdsaudit.render.map.mark_of`), in the
map's colours."""

START_STYLE = "ellipse;whiteSpace=wrap;html=1;fillColor=#ffffff;strokeColor=#1a1a1a;strokeWidth=2;fontStyle=1;"
LANE_STYLE = (
    "swimlane;startSize=30;html=1;whiteSpace=wrap;rounded=1;arcSize=4;fillColor=#f5f7fa;"
    "swimlaneFillColor=#f5f7fa;strokeColor=#5c6670;align=left;spacingLeft=8;"
)
PERSON_LANE_STYLE = (
    "swimlane;startSize=30;html=1;whiteSpace=wrap;fillColor=#fff4cc;swimlaneFillColor=#fff4cc;"
    "strokeColor=#1a1a1a;strokeWidth=3;fontStyle=1;align=left;spacingLeft=8;"
)
EDGE_STYLE = (
    "edgeStyle=orthogonalEdgeStyle;rounded=1;html=1;endArrow=block;endFill=1;"
    "strokeColor=#4d4d4d;labelBackgroundColor=#ffffff;"
)
REWORK_STYLE = EDGE_STYLE.replace("strokeColor=#4d4d4d;", "strokeColor=#8a1c13;") + "dashed=1;"

LANE_HEADER = 30
"""Height of a lane's title bar (px)."""

MARGIN = 40.0


@dataclass(frozen=True)
class Size:
    """A shape's size, and the room it takes in the layout (its label may sit outside)."""

    width: float
    height: float
    room_width: float
    room_height: float


def shape_size(mark: str, name: str) -> Size:
    """How big a step's shape is drawn: room for its name, about 22 characters a line."""
    lines = max(1, math.ceil(len(name) / 22))
    if mark == "parallel":
        return Size(50, 50, 160, 50 + 16 * min(lines, 4) + 10)
    if mark == "decision":
        height = max(90.0, 40 + 16 * lines)
        return Size(180, height, 180, height)
    height = max(60.0, 24 + 16 * lines)
    width = 160.0 if mark != "support" else 170.0
    return Size(width, height, width, height)


START_SIZE = Size(80, 40, 80, 40)


@dataclass
class Layout:
    """Where everything goes (absolute px, y down): each shape's middle, each lane's box."""

    middles: dict[str, tuple[float, float]]
    lanes: dict[str, tuple[float, float, float, float]]
    width: float
    height: float


def _layout_graph(
    model: Model,
    lane_list: Sequence[tuple[str | None, Sequence[Any]]],
    sizes: Mapping[str, Size],
    starts: Sequence[str],
) -> Any:
    """The graph ``dot`` lays out: the map's lanes as clusters, each shape its own size."""
    import graphviz

    graph = graphviz.Digraph(name="layout")
    graph.attr(rankdir="TB", newrank="true", nodesep="0.5", ranksep="0.6", fontsize="14")
    graph.attr("node", shape="box", fixedsize="true", label="")
    names = {s.id: f"n{i}" for i, s in enumerate(model.steps)}
    for index, (actor_id, steps) in enumerate(lane_list):
        # a stand-in of the title's length: dot leaves room for it at the top of the lane
        lane_label = "n" * min(28, len(model.actors[actor_id].name) if actor_id else 10)
        with graph.subgraph(name=f"cluster_{index}") as lane:
            lane.attr(label=lane_label, margin="18", labeljust="l")
            for step in steps:
                size = sizes[step.id]
                lane.node(
                    names[step.id],
                    width=f"{size.room_width / 72:.3f}",
                    height=f"{size.room_height / 72:.3f}",
                )
    for n, to in enumerate(starts):
        graph.node(f"s{n}", width=f"{START_SIZE.width / 72:.3f}", height="0.56")
        if to in names:
            graph.edge(f"s{n}", names[to])
    for step in model.steps:
        if step.kind == "parallel":
            for first in step.branches:
                graph.edge(names[step.id], names[first])
        for t in step.next:
            if t.rework:
                graph.edge(names[step.id], names[t.to], constraint="false")
            else:
                graph.edge(names[step.id], names[t.to])
    return graph, names


def dot_layout(
    model: Model,
    lane_list: Sequence[tuple[str | None, Sequence[Any]]],
    sizes: Mapping[str, Size],
    starts: Sequence[str],
) -> Layout | None:
    """The map's layout by ``dot`` (under the map's time, memory and size limits), or
    ``None`` when ``dot`` cannot lay it out."""
    from ..render import draw

    graph, names = _layout_graph(model, lane_list, sizes, starts)
    found = draw.dot_layout(graph.source, len(model.steps) + len(starts))
    if found is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in found["bb"].split(","))
        middles: dict[str, tuple[float, float]] = {}
        boxes: dict[str, tuple[float, float, float, float]] = {}
        by_name = {v: k for k, v in names.items()}
        by_name.update({f"s{n}": f"start:{n + 1}" for n in range(len(starts))})
        for obj in found.get("objects", []):
            name = obj.get("name", "")
            if "pos" in obj and name in by_name:
                x, y = (float(v) for v in obj["pos"].split(","))
                middles[by_name[name]] = (x - x0 + MARGIN, y1 - y + MARGIN)
            elif name.startswith("cluster_") and "bb" in obj:
                bx0, by0, bx1, by1 = (float(v) for v in obj["bb"].split(","))
                actor_id = lane_list[int(name[len("cluster_") :])][0]
                if actor_id is not None:
                    boxes[actor_id] = (
                        bx0 - x0 + MARGIN,
                        y1 - by1 + MARGIN,
                        bx1 - bx0,
                        by1 - by0,
                    )
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    if set(middles) != {*names, *(f"start:{n + 1}" for n in range(len(starts)))}:
        return None
    return Layout(middles, boxes, x1 - x0 + 2 * MARGIN, y1 - y0 + 2 * MARGIN)


def grid_layout(
    model: Model,
    lane_list: Sequence[tuple[str | None, Sequence[Any]]],
    sizes: Mapping[str, Size],
    starts: Sequence[str],
) -> Layout:
    """A plain layout when ``dot`` cannot be used: lanes side by side, each step one row
    below the step that first leads to it."""
    from ..render.present import step_order

    rank: dict[str, int] = {s: 0 for s in starts}
    for step in step_order(model):
        here = rank.setdefault(step.id, 0)
        onward = [t.to for t in step.next if not t.rework] + list(step.branches)
        for to in onward:
            rank.setdefault(to, here + 1)
    row_height = 40 + max((s.room_height for s in sizes.values()), default=60)
    top = MARGIN + START_SIZE.height + 40
    middles: dict[str, tuple[float, float]] = {}
    boxes: dict[str, tuple[float, float, float, float]] = {}
    x = MARGIN
    rows = max(rank.values(), default=0) + 1
    for actor_id, steps in lane_list:
        per_row: dict[int, int] = {}
        width = 200.0
        for step in steps:
            column = per_row.get(rank[step.id], 0)
            per_row[rank[step.id]] = column + 1
            middles[step.id] = (
                x + 20 + column * 200 + 90,
                top + LANE_HEADER + 20 + rank[step.id] * row_height + row_height / 2,
            )
            width = max(width, 40 + (column + 1) * 200)
        if actor_id is not None:
            boxes[actor_id] = (x, top, width, LANE_HEADER + 40 + rows * row_height)
        x += width + 30
    for n, to in enumerate(starts):
        middles[f"start:{n + 1}"] = (middles[to][0], MARGIN + START_SIZE.height / 2)
    return Layout(middles, boxes, x + MARGIN, top + LANE_HEADER + 80 + rows * row_height)


def _clean_xml(text: str) -> str:
    """Text that XML 1.0 can hold: characters it forbids are left out."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", text)


def _element(parent: Any, tag: str, attrs: Mapping[str, Any]) -> Any:
    return ET.SubElement(parent, tag, {k: _clean_xml(str(v)) for k, v in attrs.items()})


def html_label(text: str, fallback: str = "") -> str:
    """A name as an HTML label: escaped, with its line breaks kept (``fallback`` when
    nothing of it would show)."""
    import html

    if not label_text(_clean_xml(text), False):
        text = fallback
    return html.escape(_clean_xml(text), quote=False).replace("\n", "<br>")


def list_text(items: Sequence[Any]) -> str:
    """A list as a data property: words separated by commas, or JSON when a word would not
    read back as itself (a comma in it, spaces around it, or no words)."""
    plain = all(
        isinstance(i, str)
        and i
        and i == i.strip()
        and not re.search(r"[,\n\r]", i)
        and not i.startswith("[")
        for i in items
    )
    if items and plain:
        return ", ".join(items)
    return json.dumps(list(items), ensure_ascii=False)


def _json_text(value: Any) -> str:
    return json.dumps(
        value,
        ensure_ascii=False,
        default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v),
    )


def _value_text(key: str, value: Any) -> str:
    if key == "restrictions":
        lines = all(
            isinstance(v, str) and v.strip() == v and v and "\n" not in v and not v.startswith("[")
            for v in value
        )
        return "\n".join(value) if lines else _json_text(value)
    if isinstance(value, list):
        return list_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def page_properties(data: Mapping[str, Any]) -> dict[str, str]:
    """The model's top-level keys as the page's data properties."""
    out = {"sdsaudit": "1.1"}
    for key in ("council", "title", "as_of", "description"):
        if key in data:
            value = data[key]
            out[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
    for key in ("sources", "authorities", "policies", "targets", "waivers"):
        if key in data:
            out[key] = _json_text(data[key])
    for key in ("assumed", "options"):
        if key in data:
            out[key] = list_text(data[key])
    return out


def step_properties(step_data: Mapping[str, Any], lane: str | None) -> dict[str, str]:
    """A step's keys as data properties (its name is the label; its ``next`` and
    ``branches`` are the connectors; its actor is the lane, unless it is a step nobody
    does that still names an actor)."""
    kind = step_data["kind"]
    out = {"sdsaudit_id": step_data["id"], "kind": kind}
    if "actor" in step_data and (kind in NO_ACTOR_KINDS or step_data["actor"] != lane):
        out["actor"] = step_data["actor"]
    for key in STEP_ORDER:
        if key in ("id", "name", "kind", "actor", "branches", "next") or key not in step_data:
            continue
        out[key] = _value_text(key, step_data[key])
    if "days" not in step_data:
        out["days"] = ""  # no time given, on purpose: not 'unknown'
    return out


def share_label(share: float | None) -> str:
    if share is None:
        return ""
    text = f"{share * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def connector(when: str | None, share: float | None, rework: bool) -> tuple[str, dict[str, str]]:
    """A connector's label (``eligible 85%``) and the data properties it needs so that it
    reads back exactly (only when the label alone would not)."""
    words = " ".join(w for w in (when or "", share_label(share)) if w)
    label = html_label(words)
    shown = label_text(label, True)
    props: dict[str, str] = {}
    got = edge_meaning(shown, rework, props)
    if got.share != share or got.errors:
        props["share"] = "" if share is None else repr(share)
    if edge_meaning(shown, rework, props).when != when:
        props["when"] = when or ""
    if edge_meaning(shown, rework, props).rework != rework:
        props["rework"] = "true" if rework else "false"
    return label, props


def _cell(
    root: Any,
    cell_id: str,
    label: str,
    props: Mapping[str, str],
    attrs: Mapping[str, str],
) -> Any:
    """A cell, wrapped in an ``<object>`` when it has data properties."""
    if props:
        holder = _element(root, "object", {"label": label, **props, "id": cell_id})
        return _element(holder, "mxCell", attrs)
    return _element(root, "mxCell", {"id": cell_id, "value": label, **attrs})


def _geometry(cell: Any, x: float, y: float, w: float, h: float) -> None:
    _element(
        cell,
        "mxGeometry",
        {"x": f"{x:g}", "y": f"{y:g}", "width": f"{w:g}", "height": f"{h:g}", "as": "geometry"},
    )


def write(model: Model, *, fmt: str = "drawio") -> bytes:
    """The model as a diagrams.net file: one swimlane per team, every step where the map
    puts it, with its kind and other keys as data properties (so :func:`read` gives back
    the same model), connectors labelled with their condition and share, rework dashed."""
    from ..render.map import mark_of
    from ..render.present import lane_of, lanes

    data = model_data(model)
    lane_list = [(a, s) for a, s in lanes(model)]
    sizes = {s.id: shape_size(mark_of(model, s), s.name) for s in model.steps}
    starts = [e.to for e in model.entries] if model.grouped else [model.start]
    layout = dot_layout(model, lane_list, sizes, starts) or grid_layout(
        model, lane_list, sizes, starts
    )
    _fit_lanes(layout, model, lane_list, sizes)
    mxfile = ET.Element("mxfile", {"host": "sdsaudit", "type": "device"})
    diagram = _element(
        mxfile,
        "diagram",
        {
            "id": "sdsaudit-process",
            "name": (model.title[:57] + "..." if len(model.title) > 60 else model.title)
            or "Process",
        },
    )
    graph = _element(
        diagram,
        "mxGraphModel",
        {
            "dx": "1000",
            "dy": "800",
            "grid": "1",
            "gridSize": "10",
            "guides": "1",
            "tooltips": "1",
            "connect": "1",
            "arrows": "1",
            "fold": "1",
            "page": "1",
            "pageScale": "1",
            "pageWidth": f"{max(850, math.ceil(layout.width)):d}",
            "pageHeight": f"{max(1100, math.ceil(layout.height)):d}",
            "math": "0",
            "shadow": "0",
        },
    )
    root = _element(graph, "root", {})
    holder = _element(root, "object", {"label": "", **page_properties(data), "id": ROOT_CELL})
    _element(holder, "mxCell", {})
    _element(root, "mxCell", {"id": "1", "parent": ROOT_CELL})
    people = {a.id for a in model.actors.values() if a.kind == "person"}
    for actor in model.actors.values():
        x, y, w, h = layout.lanes[actor.id]
        lane = _cell(
            root,
            f"lane:{actor.id}",
            html_label(actor.name, actor.id),
            {"sdsaudit_id": actor.id, "kind": actor.kind},
            {
                "style": PERSON_LANE_STYLE if actor.id in people else LANE_STYLE,
                "vertex": "1",
                "parent": "1",
            },
        )
        _geometry(lane, x, y, w, h)
    for step, step_data in zip(model.steps, data["steps"], strict=True):
        lane_id = lane_of(model, step)
        mark = mark_of(model, step)
        style_key = mark if mark in STEP_STYLES else "step"
        cx, cy = layout.middles[step.id]
        size = sizes[step.id]
        lx, ly = (layout.lanes[lane_id][:2]) if lane_id else (0.0, 0.0)
        top = cy - size.room_height / 2
        cell = _cell(
            root,
            step.id,
            html_label(step.name, step.id),
            step_properties(step_data, lane_id),
            {
                "style": STEP_STYLES[style_key],
                "vertex": "1",
                "parent": f"lane:{lane_id}" if lane_id else "1",
            },
        )
        _geometry(cell, cx - size.width / 2 - lx, top - ly, size.width, size.height)
    for n in range(1, len(starts) + 1):
        cx, cy = layout.middles[f"start:{n}"]
        cell = _cell(
            root, f"start:{n}", "Start", {}, {"style": START_STYLE, "vertex": "1", "parent": "1"}
        )
        _geometry(
            cell,
            cx - START_SIZE.width / 2,
            cy - START_SIZE.height / 2,
            START_SIZE.width,
            START_SIZE.height,
        )
    edges = 0

    def edge(source: str, target: str, label: str, props: Mapping[str, str], rework: bool) -> None:
        nonlocal edges
        edges += 1
        cell = _cell(
            root,
            f"edge:{edges}",
            label,
            props,
            {
                "style": REWORK_STYLE if rework else EDGE_STYLE,
                "edge": "1",
                "parent": "1",
                "source": source,
                "target": target,
            },
        )
        _element(cell, "mxGeometry", {"relative": "1", "as": "geometry"})

    for n, entry in enumerate(model.entries if model.grouped else (), start=1):
        label, props = connector(entry.when, entry.share, False)
        edge(f"start:{n}", entry.to, label, props, False)
    if not model.grouped:
        edge("start:1", model.start, "", {}, False)
    for step in model.steps:
        for first in step.branches:
            edge(step.id, first, "", {}, False)
        for t in step.next:
            label, props = connector(t.when, t.share, t.rework)
            edge(step.id, t.to, label, props, t.rework)
    ET.indent(mxfile, space="  ")
    return ET.tostring(mxfile, encoding="unicode").encode("utf-8") + b"\n"


def _fit_lanes(
    layout: Layout,
    model: Model,
    lane_list: Sequence[tuple[str | None, Sequence[Any]]],
    sizes: Mapping[str, Size],
) -> None:
    """Every lane holds its shapes below its title bar, and teams with no steps get an
    empty lane to the right, so every team is kept."""
    for actor_id, steps in lane_list:
        if actor_id is None or not steps:
            continue
        x, y, w, h = layout.lanes.get(actor_id, (math.inf, math.inf, 0.0, 0.0))
        right, bottom = x + w, y + h
        for step in steps:
            cx, cy = layout.middles[step.id]
            size = sizes[step.id]
            x = min(x, cx - size.room_width / 2 - 20)
            y = min(y, cy - size.room_height / 2 - LANE_HEADER - 10)
            right = max(right, cx + size.room_width / 2 + 20)
            bottom = max(bottom, cy + size.room_height / 2 + 20)
        layout.lanes[actor_id] = (x, y, right - x, bottom - y)
    left = layout.width
    for actor in model.actors.values():
        if actor.id not in layout.lanes:
            layout.lanes[actor.id] = (left, MARGIN, 200.0, max(200.0, layout.height - 2 * MARGIN))
            left += 230
    layout.width = max(layout.width, left + MARGIN)
