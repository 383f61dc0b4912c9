"""Writing a model as a BPMN 2.0 file that bpmn.io and Camunda Modeler open with every
shape in place: one pool, a lane for each team, a task (or gateway or event) for each
step, the model's values that BPMN has no place for in ``sdsaudit`` extension elements,
and the diagram interchange laid out by graphviz's ``dot``. Reading the file back
(:mod:`.bpmn_read`) gives the same model; docs/import.md ("BPMN") has the shape of the
extension elements.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # building our own output only: reading is defusedxml's
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import graphviz

from ..model.objects import Model
from ..version import __version__
from ..vocab import NO_ACTOR_KINDS
from .bpmn import (
    BPMN,
    BPMNDI,
    DC,
    DI,
    SDSAUDIT,
    XSI,
    bpmn_tag,
    duration_text,
    number_text,
    sds_tag,
    share_text,
    split_share,
)
from .data import model_data, step_data

# ============================================================================ writing

TASK_SIZE = (100.0, 80.0)
GATEWAY_SIZE = (50.0, 50.0)
EVENT_SIZE = (36.0, 36.0)
POOL_X, POOL_Y = 160.0, 80.0
LABEL_BAND = 30.0
"""The band at the left of a pool or lane where its name is written."""
PAD = 40.0
MIN_LANE = 140.0

_TASK_TAGS = {
    "contact": "task",
    "information": "sendTask",
    "arranging": "manualTask",
    "support": "task",
}
"""Each kind's BPMN task (``userTask`` for the rest); ``decision`` is an exclusive
gateway, ``parallel`` a parallel gateway, ``wait`` a timer event, ``end`` (and a
``support`` step with no way on) an end event."""

_BAD_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    """Text XML 1.0 can hold (a control character becomes U+FFFD)."""
    return _BAD_XML.sub("\ufffd", str(value))


@dataclass
class _WNode:
    id: str
    tag: str
    name: str | None
    step: dict[str, Any] | None = None
    lane: int = -1
    mark: ET.Element | None = None
    """An sdsaudit element that says what a node that is no step is for."""

    @property
    def size(self) -> tuple[float, float]:
        if self.tag.endswith("Gateway"):
            return GATEWAY_SIZE
        if self.tag.endswith("Event"):
            return EVENT_SIZE
        return TASK_SIZE


@dataclass
class _WFlow:
    id: str
    source: str
    target: str
    when: str | None = None
    share: float | None = None
    rework: bool = False


@dataclass
class _Plan:
    nodes: dict[str, _WNode]
    flows: list[_WFlow]
    lanes: list[tuple[str, str, str]]
    """``(actor id, name, kind)`` of each lane, top first once laid out."""


def _tag_for(step: dict[str, Any]) -> str:
    kind = step["kind"]
    if kind == "decision":
        return "exclusiveGateway"
    if kind == "parallel":
        return "parallelGateway"
    if kind == "wait":
        return "intermediateCatchEvent"
    if kind == "end" or (kind == "support" and not step.get("next")):
        return "endEvent"
    return _TASK_TAGS.get(kind, "userTask")


def _plan(model: Model) -> _Plan:
    """The nodes, flows and lanes of the BPMN file for ``model``."""
    steps = [step_data(s) for s in model.steps]
    joins = {(member, b.join): f"Join.{b.step}" for b in model.blocks for member in b.members}
    nodes: dict[str, _WNode] = {}
    flows: list[_WFlow] = []

    def flow(
        source: str, target: str, when: Any = None, share: Any = None, rework: bool = False
    ) -> None:
        flows.append(_WFlow(f"Flow.{len(flows) + 1}", source, target, when, share, rework))

    for step in steps:
        sid = step["id"]
        nodes[sid] = _WNode(sid, _tag_for(step), step["name"], step)
        if step["kind"] == "parallel":
            for branch in step["branches"]:
                flow(sid, branch)
            continue
        transitions = [_as_transition(t) for t in step.get("next", [])]
        source = sid
        if len(transitions) > 1 and step["kind"] != "decision":
            source = f"Branch.{sid}"
            nodes[source] = _WNode(
                source, "exclusiveGateway", None, mark=ET.Element(sds_tag("branching"))
            )
            flow(sid, source)
        for to, when, share, rework in transitions:
            flow(source, joins.get((sid, to), to), when, share, rework)
    for block in model.blocks:
        gateway = f"Join.{block.step}"
        nodes[gateway] = _WNode(
            gateway, "parallelGateway", None, mark=ET.Element(sds_tag("join"), {"of": block.step})
        )
        flow(gateway, block.join)
    for n, entry in enumerate(model.entries, start=1):
        start = f"Start.{n}"
        mark = None
        if model.grouped:
            mark = ET.Element(
                sds_tag("start"), {} if entry.share is None else {"share": number_text(entry.share)}
            )
        nodes[start] = _WNode(
            start,
            "startEvent",
            _flow_name(entry.when, entry.share) if model.grouped else "Start",
            mark=mark,
        )
        flow(start, entry.to)
    lanes = _lanes(model, nodes, flows)
    return _Plan(nodes, flows, lanes)


def _as_transition(value: Any) -> tuple[str, str | None, float | None, bool]:
    if isinstance(value, str):
        return value, None, None, False
    return value["to"], value.get("when"), value.get("share"), bool(value.get("rework"))


def _lanes(
    model: Model, nodes: dict[str, _WNode], flows: list[_WFlow]
) -> list[tuple[str, str, str]]:
    """One lane for each actor of a step; each node in its actor's lane, or beside the
    node before it (or after it) when it has none."""
    used = list(dict.fromkeys(s.actor for s in model.steps if s.actor))
    lanes = [(a, model.actors[a].name, model.actors[a].kind) for a in used if a in model.actors]
    index = {actor: n for n, (actor, _, _) in enumerate(lanes)}
    for node in nodes.values():
        actor = node.step.get("actor") if node.step else None
        if actor in index:
            node.lane = index[actor]
    if not lanes:
        return lanes
    changed = True
    while changed:
        changed = False
        for f in flows:
            source, target = nodes[f.source], nodes[f.target]
            if target.lane < 0 <= source.lane and not target.id.startswith("Start."):
                target.lane, changed = source.lane, True
            elif source.lane < 0 <= target.lane and (
                source.id.startswith(("Start.", "Branch."))
                or not any(g.target == source.id for g in flows)
            ):
                source.lane, changed = target.lane, True
    for node in nodes.values():
        if node.lane < 0:
            node.lane = 0
    return lanes


def _flow_name(when: str | None, share: float | None) -> str | None:
    if share is None:
        return when
    return f"{when} {share_text(share)}" if when else share_text(share)


def bpmn_bytes(model: Model) -> bytes:
    """``model`` as a BPMN 2.0 file with its diagram."""
    plan = _plan(model)
    boxes, lane_rows, pool = _layout(plan)
    root = ET.Element(
        bpmn_tag("definitions"),
        {
            "id": "Definitions.1",
            "targetNamespace": "https://sdsaudit.invalid/bpmn/1/models",
            "exporter": "sdsaudit",
            "exporterVersion": __version__,
        },
    )
    collaboration = ET.SubElement(root, bpmn_tag("collaboration"), {"id": "Collaboration.1"})
    ET.SubElement(
        collaboration,
        bpmn_tag("participant"),
        {"id": "Pool.1", "name": _text(model.council), "processRef": "Process.1"},
    )
    process = ET.SubElement(
        root,
        bpmn_tag("process"),
        {"id": "Process.1", "name": _text(model.title), "isExecutable": "false"},
    )
    if model.description:
        _sub(process, "documentation", text=model.description)
    holder = ET.SubElement(process, bpmn_tag("extensionElements"))
    holder.append(_model_element(model, {actor for actor, _, _ in plan.lanes}))
    _write_lanes(process, plan)
    incoming: dict[str, list[str]] = {node_id: [] for node_id in plan.nodes}
    outgoing: dict[str, list[str]] = {node_id: [] for node_id in plan.nodes}
    for f in plan.flows:
        incoming[f.target].append(f.id)
        outgoing[f.source].append(f.id)
    for node in plan.nodes.values():
        _write_node(process, node, incoming[node.id], outgoing[node.id])
    for f in plan.flows:
        _write_flow(process, f)
    _write_diagram(root, plan, boxes, lane_rows, pool)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _sub(
    parent: ET.Element,
    name: str,
    attrs: Mapping[str, Any] | None = None,
    *,
    text: Any = None,
    ns: str = BPMN,
) -> ET.Element:
    element = ET.SubElement(
        parent, f"{{{ns}}}{name}", {k: _text(v) for k, v in (attrs or {}).items() if v is not None}
    )
    if text is not None:
        element.text = _text(text)
    return element


def _model_element(model: Model, lane_actors: set[str]) -> ET.Element:
    """sdsaudit:model: the top of the model that no BPMN element holds."""
    data = model_data(model)
    attrs: dict[str, Any] = {
        "council": data["council"],
        "title": data["title"],
        "as_of": data["as_of"].isoformat(),
    }
    if "options" in data:
        attrs["options"] = " ".join(data["options"])
    if data.get("assumed"):
        attrs["assumed"] = " ".join(data["assumed"])
    element = ET.Element(sds_tag("model"), {k: _text(v) for k, v in attrs.items()})
    for source in data.get("sources", ()):
        _sub(
            element,
            "source",
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in source.items()},
            ns=SDSAUDIT,
        )
    for authority in data.get("authorities", ()):
        _sub(
            element,
            "authority",
            {k: (number_text(v) if k == "limit" else v) for k, v in authority.items()},
            ns=SDSAUDIT,
        )
    for actor_id, actor in data["actors"].items():
        if actor_id not in lane_actors:
            _sub(
                element,
                "actor",
                {"id": actor_id, "name": actor["name"], "kind": actor["kind"]},
                ns=SDSAUDIT,
            )
    if "policies" in data:
        element.append(_policies_element(data["policies"]))
    if "targets" in data:
        _sub(
            element,
            "targets",
            {k: number_text(v) for k, v in data["targets"].items()},
            ns=SDSAUDIT,
        )
    for waiver in data.get("waivers", ()):
        _sub(element, "waiver", waiver, ns=SDSAUDIT)
    return element


def _policies_element(policies: Mapping[str, Any]) -> ET.Element:
    attrs: dict[str, str] = {}
    if "allowed_uses" in policies:
        attrs["allowed_uses"] = " ".join(policies["allowed_uses"])
    for key in ("prepaid_card_default", "allocation_method_published"):
        if key in policies:
            attrs[key] = "true" if policies[key] else "false"
    element = ET.Element(sds_tag("policies"), attrs)
    for restriction in policies.get("restrictions", ()):
        _restriction_element(element, restriction)
    for key in ("review", "dp_review"):
        if key in policies:
            _sub(element, key, {k: number_text(v) for k, v in policies[key].items()}, ns=SDSAUDIT)
    return element


def _restriction_element(parent: ET.Element, restriction: Any) -> None:
    if isinstance(restriction, str):
        _sub(parent, "restriction", text=restriction, ns=SDSAUDIT)
    else:
        attrs = {k: restriction[k] for k in ("basis", "ref") if k in restriction}
        _sub(parent, "restriction", attrs, text=restriction["text"], ns=SDSAUDIT)


def _step_element(step: dict[str, Any]) -> ET.Element:
    """sdsaudit:step: what BPMN cannot say about a step (its name, team and arrows are
    the BPMN element's own)."""
    attrs: dict[str, str] = {"kind": step["kind"]}
    if step["kind"] in NO_ACTOR_KINDS and step.get("actor"):
        attrs["actor"] = step["actor"]
    for key in ("person", "authority", "outcome"):
        if key in step:
            attrs[key] = step[key]
    if "days" in step:
        attrs["days"] = step["days"] if step["days"] == "unknown" else number_text(step["days"])
    if "forms" in step:
        attrs["forms"] = str(step["forms"])
    for key in ("tells", "produces", "approves"):
        if key in step:
            attrs[key] = " ".join(step[key])
    if "source" in step:
        attrs["source"] = (
            step["source"] if isinstance(step["source"], str) else " ".join(step["source"])
        )
    if "assumed" in step:
        attrs["assumed"] = " ".join(step["assumed"])
    element = ET.Element(sds_tag("step"), {k: _text(v) for k, v in attrs.items()})
    for topic in step.get("asks", ()):
        _sub(element, "ask", text=topic, ns=SDSAUDIT)
    for restriction in step.get("restrictions", ()):
        _restriction_element(element, restriction)
    return element


def _write_lanes(process: ET.Element, plan: _Plan) -> None:
    if not plan.lanes:
        return
    lane_set = _sub(process, "laneSet", {"id": "LaneSet.1"})
    for n, (actor, name, kind) in enumerate(plan.lanes):
        lane = _sub(lane_set, "lane", {"id": f"Lane.{actor}", "name": name})
        _sub(_sub(lane, "extensionElements"), "actor", {"id": actor, "kind": kind}, ns=SDSAUDIT)
        for node in plan.nodes.values():
            if node.lane == n:
                _sub(lane, "flowNodeRef", text=node.id)


def _write_node(
    process: ET.Element, node: _WNode, incoming: Sequence[str], outgoing: Sequence[str]
) -> None:
    """A flow node: its documentation (the step's note), its sdsaudit element, the ids of
    its flows in and out, and a timer's duration."""
    element = _sub(process, node.tag, {"id": node.id, "name": node.name})
    step = node.step
    if step is not None and step.get("note") is not None:
        _sub(element, "documentation", text=step["note"])
    mark = _step_element(step) if step is not None else node.mark
    if mark is not None:
        _sub(element, "extensionElements").append(mark)
    for flow_id in incoming:
        _sub(element, "incoming", text=flow_id)
    for flow_id in outgoing:
        _sub(element, "outgoing", text=flow_id)
    if node.tag == "intermediateCatchEvent":
        timer = _sub(element, "timerEventDefinition", {"id": f"Timer.{node.id}"})
        days = step.get("days") if step is not None else None
        if days is not None and days != "unknown":
            duration = _sub(timer, "timeDuration", {f"{{{XSI}}}type": "bpmn:tFormalExpression"})
            duration.text = duration_text(float(days))


def _write_flow(process: ET.Element, f: _WFlow) -> None:
    name = _flow_name(f.when, f.share)
    element = _sub(
        process,
        "sequenceFlow",
        {"id": f.id, "name": name, "sourceRef": f.source, "targetRef": f.target},
    )
    if (
        f.share is not None
        or f.rework
        or (f.when is not None and split_share(f.when)[1] is not None)
    ):
        attrs = {}
        if f.share is not None:
            attrs["share"] = number_text(f.share)
        if f.rework:
            attrs["rework"] = "true"
        _sub(_sub(element, "extensionElements"), "flow", attrs, ns=SDSAUDIT)


# ============================================================================ layout

Box = tuple[float, float, float, float]
"""``(x, y, width, height)`` of a shape."""


def _layout(plan: _Plan) -> tuple[dict[str, Box], list[tuple[float, float]], Box]:
    """Where every shape goes: ``dot``'s layout when it can run, else a plain layered
    one; then the lanes stacked as rows, each holding its nodes as dot placed them."""
    centres = _dot_centres(plan) or _layered_centres(plan)
    lanes = range(max(1, len(plan.lanes)))
    members = {n: [node for node in plan.nodes.values() if max(node.lane, 0) == n] for n in lanes}
    order = sorted(
        (n for n in lanes if members[n]),
        key=lambda n: sum(centres[m.id][1] for m in members[n]) / len(members[n]),
    )
    order += [n for n in lanes if not members[n]]
    if plan.lanes:
        plan.lanes[:] = [plan.lanes[n] for n in order]
        for node in plan.nodes.values():
            node.lane = order.index(node.lane)
    left = min((centres[n.id][0] - n.size[0] / 2 for n in plan.nodes.values()), default=0.0)
    boxes: dict[str, Box] = {}
    rows: list[tuple[float, float]] = []
    top = POOL_Y
    for n in order:
        nodes = members[n]
        if not nodes:
            rows.append((top, MIN_LANE))
            top += MIN_LANE
            continue
        high = min(centres[m.id][1] - m.size[1] / 2 for m in nodes)
        low = max(centres[m.id][1] + m.size[1] / 2 for m in nodes)
        height = max(MIN_LANE, low - high + 2 * PAD)
        offset = top + (height - (low - high)) / 2 - high
        for m in nodes:
            width, tall = m.size
            x = POOL_X + 2 * LABEL_BAND + PAD + centres[m.id][0] - width / 2 - left
            boxes[m.id] = (round(x), round(offset + centres[m.id][1] - tall / 2), width, tall)
        rows.append((top, height))
        top += height
    right = max((b[0] + b[2] for b in boxes.values()), default=POOL_X + 400)
    pool = (POOL_X, POOL_Y, right + PAD - POOL_X, top - POOL_Y)
    return boxes, rows, pool


def _dot_centres(plan: _Plan) -> dict[str, tuple[float, float]] | None:
    """The centre of each node as ``dot`` lays the process out (left to right, a
    cluster for each lane), y growing downwards; ``None`` when dot cannot do it."""
    from ..render.draw import dot_layout

    names = {node_id: f"n{n}" for n, node_id in enumerate(plan.nodes)}
    graph = graphviz.Digraph(
        graph_attr={"rankdir": "LR", "newrank": "true", "nodesep": "0.5", "ranksep": "0.6"},
        node_attr={"shape": "box", "fixedsize": "true", "label": ""},
    )
    for lane in range(max(1, len(plan.lanes))):
        with graph.subgraph(name=f"cluster_{lane}") as cluster:
            for node in plan.nodes.values():
                if max(node.lane, 0) == lane:
                    width, height = node.size
                    cluster.node(
                        names[node.id], width=f"{width / 72:.3f}", height=f"{height / 72:.3f}"
                    )
    back = _back_flows(plan)
    for f in plan.flows:
        loose = f.rework or (f.source, f.target) in back
        graph.edge(names[f.source], names[f.target], **({"constraint": "false"} if loose else {}))
    drawn = dot_layout(graph.source, len(plan.nodes))
    if drawn is None:
        return None
    by_name = {v: k for k, v in names.items()}
    centres: dict[str, tuple[float, float]] = {}
    for item in drawn.get("objects", ()):
        if item.get("name") in by_name and "pos" in item:
            x, y = (float(v) for v in str(item["pos"]).split(","))
            centres[by_name[item["name"]]] = (x, -y)
    return centres if len(centres) == len(plan.nodes) else None


def _layered_centres(plan: _Plan) -> dict[str, tuple[float, float]]:
    """A plain layout without dot: each node one column right of the furthest node
    before it (loops back left out), stacked within its lane."""
    following = _following(plan)
    back = _back_flows(plan)
    column = {n: 0 for n in plan.nodes}
    arriving = {n: 0 for n in plan.nodes}
    for f in plan.flows:
        if (f.source, f.target) not in back:
            arriving[f.target] += 1
    ready = deque(n for n, count in arriving.items() if count == 0)
    while ready:
        here = ready.popleft()
        for there in following[here]:
            if (here, there) in back:
                continue
            column[there] = max(column[there], column[here] + 1)
            arriving[there] -= 1
            if arriving[there] == 0:
                ready.append(there)
    slots: dict[tuple[int, int], int] = {}
    centres: dict[str, tuple[float, float]] = {}
    for node in plan.nodes.values():
        cell = (max(node.lane, 0), column[node.id])
        slot = slots.get(cell, 0)
        slots[cell] = slot + 1
        centres[node.id] = (column[node.id] * 150.0, cell[0] * 10_000.0 + slot * 110.0)
    return centres


def _following(plan: _Plan) -> dict[str, list[str]]:
    following: dict[str, list[str]] = {n: [] for n in plan.nodes}
    for f in plan.flows:
        following[f.source].append(f.target)
    return following


def _back_flows(plan: _Plan) -> set[tuple[str, str]]:
    """The flows that go back to a node already on the way from a start (loops)."""
    following = _following(plan)
    starts = [n for n in plan.nodes if n.startswith("Start.")] + list(plan.nodes)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in starts:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            here, index = stack[-1]
            if index >= len(following[here]):
                state[here] = 2
                stack.pop()
                continue
            stack[-1] = (here, index + 1)
            there = following[here][index]
            if state.get(there) == 1:
                back.add((here, there))
            elif there not in state:
                state[there] = 1
                stack.append((there, 0))
    return back


def _waypoints(source: Box, target: Box) -> list[tuple[float, float]]:
    """An arrow's corners: right and across for a step further on; under both shapes
    for one back (a loop)."""
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    if source == target:
        right, below = sx + sw + 20, sy + sh + 20
        return [
            (sx + sw, sy + sh / 2),
            (right, sy + sh / 2),
            (right, below),
            (sx + sw / 2, below),
            (sx + sw / 2, sy + sh),
        ]
    if tx >= sx + sw:
        start, end = (sx + sw, sy + sh / 2), (tx, ty + th / 2)
        if start[1] == end[1]:
            return [start, end]
        middle = (start[0] + end[0]) / 2
        return [start, (middle, start[1]), (middle, end[1]), end]
    below = max(sy + sh, ty + th) + 25
    return [
        (sx + sw / 2, sy + sh),
        (sx + sw / 2, below),
        (tx + tw / 2, below),
        (tx + tw / 2, ty + th),
    ]


def _write_diagram(
    root: ET.Element,
    plan: _Plan,
    boxes: Mapping[str, Box],
    rows: Sequence[tuple[float, float]],
    pool: Box,
) -> None:
    diagram = _sub(root, "BPMNDiagram", {"id": "Diagram.1"}, ns=BPMNDI)
    plane = _sub(
        diagram, "BPMNPlane", {"id": "Plane.1", "bpmnElement": "Collaboration.1"}, ns=BPMNDI
    )
    _shape(plane, "Pool.1", pool, horizontal=True)
    for n, (actor, _, _) in enumerate(plan.lanes):
        top, height = rows[n]
        _shape(
            plane,
            f"Lane.{actor}",
            (POOL_X + LABEL_BAND, top, pool[2] - LABEL_BAND, height),
            horizontal=True,
        )
    for node in plan.nodes.values():
        _shape(plane, node.id, boxes[node.id], marker=node.tag == "exclusiveGateway")
    for f in plan.flows:
        edge = _sub(plane, "BPMNEdge", {"id": f"{f.id}.di", "bpmnElement": f.id}, ns=BPMNDI)
        for x, y in _waypoints(boxes[f.source], boxes[f.target]):
            _sub(edge, "waypoint", {"x": _coordinate(x), "y": _coordinate(y)}, ns=DI)


def _shape(
    plane: ET.Element, element: str, box: Box, *, horizontal: bool = False, marker: bool = False
) -> None:
    attrs = {"id": f"{element}.di", "bpmnElement": element}
    if horizontal:
        attrs["isHorizontal"] = "true"
    if marker:
        attrs["isMarkerVisible"] = "true"
    shape = _sub(plane, "BPMNShape", attrs, ns=BPMNDI)
    x, y, width, height = box
    _sub(
        shape,
        "Bounds",
        {
            "x": _coordinate(x),
            "y": _coordinate(y),
            "width": _coordinate(width),
            "height": _coordinate(height),
        },
        ns=DC,
    )


def _coordinate(value: float) -> str:
    return str(round(value))
