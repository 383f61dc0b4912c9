"""Reading a BPMN file (parsed by :func:`sdsaudit.exchange.bpmn.parse_xml`) into a draft
model: which pool, which nodes are steps, where each arrow leads past the gateways and
events that are no steps, what the ``sdsaudit`` extension elements state, and what has to
be guessed. docs/import.md ("BPMN") says the rules in plain words.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # the types of defusedxml's trees
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError, Problem
from ..model.loader import did_you_mean, load_model_text
from ..vocab import NO_ACTOR_KINDS
from .bpmn import (
    BPMN,
    FLOW_NODES,
    GATEWAYS,
    ID_RE,
    XmlFile,
    bpmn_tag,
    clean,
    date_of,
    duration_days,
    extension,
    flag_of,
    is_person_side,
    kind_from_words,
    local_name,
    namespace_of,
    outcome_from_words,
    plain_number,
    sds_tag,
    share_text,
    slug,
    split_share,
    team_kind,
    unique,
    value_of,
)
from .data import STEP_ORDER, Draft, write_data

# ============================================================================ the process read


@dataclass
class _Flow:
    id: str
    source: str
    target: str
    name: str
    condition: str
    pos: tuple[int | None, int | None]
    ext: ET.Element | None
    default: bool = False


@dataclass
class _Node:
    id: str
    tag: str
    name: str
    pos: tuple[int | None, int | None]
    element: ET.Element
    lane: str | None = None
    incoming: list[_Flow] = field(default_factory=list)
    outgoing: list[_Flow] = field(default_factory=list)
    boundaries: list[str] = field(default_factory=list)
    attached_to: str | None = None

    @property
    def ext(self) -> ET.Element | None:
        return extension(self.element, "step")

    def has(self, definition: str) -> bool:
        return self.element.find(bpmn_tag(definition)) is not None


@dataclass
class _Lane:
    id: str
    name: str
    pos: tuple[int | None, int | None]
    ext: ET.Element | None


@dataclass(frozen=True)
class _Arrow:
    """Where a case goes from a step: to another step's key, with the flow's words."""

    to: str
    when: str | None = None
    share: float | None = None
    rework: bool | Any = False
    stated: bool = False
    """Whether ``rework`` is stated (by an sdsaudit:flow element, or in an sdsaudit
    file), rather than to be worked out from the drawing."""


def _words_attr(element: ET.Element, name: str) -> list[str] | None:
    text = element.get(name)
    return None if text is None else text.split()


def _documentation(element: ET.Element) -> str | None:
    texts = [d.text or "" for d in element.findall(bpmn_tag("documentation"))]
    joined = "\n".join(t for t in texts if t.strip())
    return joined or None


def _condition(element: ET.Element) -> str:
    found = element.find(bpmn_tag("conditionExpression"))
    text = clean(found.text if found is not None else "")
    match = re.fullmatch(r"[$#]\{\s*(.*?)\s*\}", text)
    return match.group(1) if match else text


def _event_type(node: _Node) -> str | None:
    for definition in ("timer", "message", "signal", "error", "escalation", "conditional", "link"):
        if node.has(f"{definition}EventDefinition"):
            return definition
    return None


def _timer_days(node: _Node) -> float | None:
    timer = node.element.find(bpmn_tag("timerEventDefinition"))
    if timer is None:
        return None
    duration = timer.find(bpmn_tag("timeDuration"))
    return duration_days(duration.text or "") if duration is not None else None


class _Reader:
    """One BPMN file read into a draft model: the steps of one pool's process."""

    def __init__(self, xml: XmlFile) -> None:
        self.xml = xml
        self.path = xml.path
        self.problems: list[Problem] = []
        self.to_fill: list[str] = []
        self.top_assumed: list[str] = []
        self.nodes: dict[str, _Node] = {}
        self.flows: dict[str, _Flow] = {}
        self.lanes: dict[str, _Lane] = {}
        self.model_ext: ET.Element | None = None
        self.process: ET.Element | None = None
        self.pool_name = ""
        """The name of the chosen process's pool (participant), if it has one."""
        self.process_name = ""
        self.person_pool = ""
        self.person_parts: set[str] = set()
        self.message_flows: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ problems

    def problem(self, where: tuple[int | None, int | None], message: str) -> None:
        self.problems.append(Problem(self.path, where[0], where[1], message))

    def check(self) -> None:
        if self.problems:
            raise ModelError(self.problems)

    @property
    def stated(self) -> bool:
        """Whether the file was written by sdsaudit (it carries sdsaudit:model)."""
        return self.model_ext is not None

    # ------------------------------------------------------------------ choosing the pool

    def choose_process(self) -> None:
        """Pick the pool to read: the one sdsaudit wrote, else, passing over a pool
        named as the person (a customer, resident, family ...), the one with the most
        tasks, events and gateways."""
        root = self.xml.root
        if root.tag != bpmn_tag("definitions"):
            self._not_bpmn(root)
        participants = [
            p
            for c in root.findall(bpmn_tag("collaboration"))
            for p in c.findall(bpmn_tag("participant"))
        ]
        pool_of = {p.get("processRef", ""): clean(p.get("name")) for p in participants}
        processes = [p for p in root.findall(bpmn_tag("process")) if self._count_nodes(p)]
        if not processes:
            self.problem(
                self.xml.pos(root),
                "the file has no process with any task, event or gateway in it: draw the "
                "process (or save it with its process, not only the diagram)",
            )
            self.check()

        def name_of(process: ET.Element) -> str:
            ident = process.get("id", "")
            return pool_of.get(ident, "") or clean(process.get("name")) or ident

        stated = [p for p in processes if extension(p, "model") is not None]
        people = [p for p in processes if is_person_side(name_of(p))]
        choices = stated or [p for p in processes if p not in people] or processes
        chosen = max(choices, key=self._count_nodes)
        self.process = chosen
        self.model_ext = extension(chosen, "model")
        self.pool_name = pool_of.get(chosen.get("id", ""), "")
        self.process_name = clean(chosen.get("name"))
        for other in processes:
            if other is chosen:
                continue
            if other in people:
                self.person_pool = self.person_pool or name_of(other)
                self.person_parts |= {e.get("id", "") for e in other.iter()}
            else:
                self.to_fill.append(
                    f"steps from the pool '{name_of(other)}', which was left out (one pool "
                    f"is read: '{name_of(chosen)}')"
                )
        for participant in participants:
            name = clean(participant.get("name"))
            if participant.get("processRef") != chosen.get("id") and is_person_side(name):
                self.person_pool = self.person_pool or name
                self.person_parts.add(participant.get("id", ""))
        for collaboration in root.findall(bpmn_tag("collaboration")):
            for message in collaboration.findall(bpmn_tag("messageFlow")):
                self.message_flows.append(
                    (message.get("sourceRef", ""), message.get("targetRef", ""))
                )

    def _not_bpmn(self, root: ET.Element) -> None:
        found = local_name(root.tag)
        hint = (
            " It looks like a diagrams.net drawing: import it as a .drawio file."
            if found in ("mxfile", "mxGraphModel")
            else ""
        )
        namespace = namespace_of(root.tag) or "no namespace"
        self.problem(
            self.xml.pos(root),
            f"this is not a BPMN 2.0 file: its outer element is <{found}> in {namespace}, "
            f"where a BPMN file has <definitions> in {BPMN}.{hint}",
        )
        self.check()

    @staticmethod
    def _count_nodes(process: ET.Element) -> int:
        return sum(
            1
            for child in process
            if namespace_of(child.tag) == BPMN and local_name(child.tag) in FLOW_NODES
        )

    # ------------------------------------------------------------------ nodes, flows, lanes

    def collect(self) -> None:
        assert self.process is not None
        everywhere = {e.get("id") for e in self.xml.root.iter() if e.get("id")}
        seen: dict[str, tuple[int | None, int | None]] = {}
        for child in self.process:
            if namespace_of(child.tag) != BPMN:
                continue
            tag = local_name(child.tag)
            if tag not in FLOW_NODES and tag != "sequenceFlow":
                continue
            where = self.xml.pos(child)
            ident = child.get("id", "")
            if not ident:
                self.problem(where, f"this <{tag}> has no id: every BPMN element needs one")
                continue
            if ident in seen:
                self.problem(
                    where,
                    f"the id '{ident}' is used twice (first at line {seen[ident][0]}); ids must be unique",
                )
                continue
            seen[ident] = where
            if tag == "sequenceFlow":
                self.flows[ident] = _Flow(
                    ident,
                    child.get("sourceRef", ""),
                    child.get("targetRef", ""),
                    child.get("name") or "",
                    _condition(child),
                    where,
                    extension(child, "flow"),
                )
            else:
                name = child.get("name") or ""
                self.nodes[ident] = _Node(
                    ident, tag, name, where, child, attached_to=child.get("attachedToRef")
                )
        for flow in self.flows.values():
            for end, ref in (("from", flow.source), ("to", flow.target)):
                if ref not in self.nodes:
                    where_word = "is not in this process" if ref in everywhere else "does not exist"
                    what = (
                        "has no sourceRef"
                        if end == "from" and not ref
                        else (
                            "has no targetRef"
                            if not ref
                            else f"goes {end} '{ref}', which {where_word}"
                        )
                    )
                    self.problem(
                        flow.pos,
                        f"the sequence flow '{flow.id}' {what}{did_you_mean(ref, self.nodes) if ref else ''}; "
                        "connect both ends to a task, event or gateway of the same pool",
                    )
            if flow.source in self.nodes and flow.target in self.nodes:
                self.nodes[flow.source].outgoing.append(flow)
                self.nodes[flow.target].incoming.append(flow)
        for node in self.nodes.values():
            if node.tag in ("exclusiveGateway", "inclusiveGateway", "complexGateway"):
                default = node.element.get("default")
                for flow in node.outgoing:
                    flow.default = flow.id == default
            if node.attached_to is not None:
                if node.attached_to in self.nodes:
                    self.nodes[node.attached_to].boundaries.append(node.id)
                else:
                    self.problem(
                        node.pos,
                        f"the boundary event '{node.id}' is attached to '{node.attached_to}', "
                        f"which is not a task of this process{did_you_mean(node.attached_to, self.nodes)}",
                    )
        self._collect_lanes(everywhere)

    def _collect_lanes(self, everywhere: set[str | None]) -> None:
        assert self.process is not None
        pending: deque[tuple[ET.Element, int]] = deque(
            (lane_set, 0) for lane_set in self.process.findall(bpmn_tag("laneSet"))
        )
        depth_of: dict[str, int] = {}
        while pending:
            lane_set, depth = pending.popleft()
            for lane in lane_set.findall(bpmn_tag("lane")):
                ident = lane.get("id") or f"lane {len(self.lanes) + 1}"
                self.lanes[ident] = _Lane(
                    ident, lane.get("name") or "", self.xml.pos(lane), extension(lane, "actor")
                )
                for ref in lane.findall(bpmn_tag("flowNodeRef")):
                    node_id = (ref.text or "").strip()
                    if node_id in self.nodes:
                        if depth >= depth_of.get(node_id, -1):
                            self.nodes[node_id].lane = ident
                            depth_of[node_id] = depth
                    elif node_id not in everywhere:
                        self.problem(
                            self.xml.pos(ref),
                            f"the lane '{clean(self.lanes[ident].name) or ident}' lists '{node_id}', which "
                            f"does not exist{did_you_mean(node_id, self.nodes)}",
                        )
                for child in lane.findall(bpmn_tag("childLaneSet")):
                    pending.append((child, depth + 1))


# ============================================================================ the flow graph


class _Graph:
    """Which nodes are steps, which are passed through, and where each step's arrows
    lead (past the gateways and events that are not steps)."""

    def __init__(self, reader: _Reader) -> None:
        self.r = reader
        self.nodes = reader.nodes
        self.role: dict[str, str] = {}
        """Node id -> ``step``, ``through`` (dissolved into the arrows past it),
        ``start`` or ``boundary``."""
        self.joins: dict[str, str | None] = {}
        """Parallel split -> the converging gateway where its branches meet (or None)."""
        self.claimed: dict[str, list[str]] = {}
        self.waits_for_all: set[str] = set()
        """Converging gateways read as a step of their own ("All of these done")."""
        self.pre_step: dict[str, str] = {}
        """A gateway that joins and splits again -> the key of its "All of these done" step."""

    # ------------------------------------------------------------------ roles

    def classify(self) -> None:
        for node in self.nodes.values():
            self.role[node.id] = self._role(node)
        self._pair_parallel()
        for gateway in self.claimed:
            outgoing = len(self.nodes[gateway].outgoing)
            if outgoing >= 2:
                self.role[gateway] = "step"
                self.pre_step[gateway] = f"{gateway}#join"
            elif outgoing == 1:
                self.role[gateway] = "through"
            else:
                self.role[gateway] = "step"
                self.waits_for_all.add(gateway)
        changed = True
        while changed:  # a join straight into another join: the first one is a step
            changed = False
            for gateway in self.claimed:
                if self.role[gateway] == "through" and self._runs_into_join(gateway):
                    self.role[gateway] = "step"
                    self.waits_for_all.add(gateway)
                    changed = True

    def _role(self, node: _Node) -> str:
        if node.tag == "startEvent":
            return "start"
        if node.tag == "boundaryEvent":
            return "boundary"
        if node.ext is not None:
            return "step"
        one_way = len(node.outgoing) == 1
        if node.tag in GATEWAYS:
            if extension(node.element, "branching") is not None and node.outgoing:
                return "through"
            return "through" if one_way else "step"
        if node.tag == "intermediateThrowEvent" and not clean(node.name) and one_way:
            return "through"
        if node.tag == "intermediateCatchEvent" and _event_type(node) == "link" and one_way:
            return "through"
        return "step"

    def is_split(self, node: _Node) -> bool:
        """Whether ``node`` starts parallel branches."""
        ext = node.ext
        if ext is not None:
            return ext.get("kind") == "parallel"
        return (
            node.tag == "parallelGateway"
            and len(node.outgoing) >= 2
            and extension(node.element, "join") is None
        )

    def _pair_parallel(self) -> None:
        marked: dict[str, str] = {}
        for node in self.nodes.values():
            join = extension(node.element, "join")
            if join is not None and join.get("of") in self.nodes:
                marked[join.get("of", "")] = node.id
        for split in [n for n in self.nodes.values() if self.is_split(n)]:
            gateway = marked.get(split.id) or self._find_join(split, set(marked.values()))
            self.joins[split.id] = gateway
            if gateway is not None:
                self.claimed.setdefault(gateway, []).append(split.id)

    def _find_join(self, split: _Node, taken: set[str]) -> str | None:
        """The converging parallel gateway that every branch of ``split`` reaches, the
        nearest first (fewest arrows from the branch that takes most)."""
        candidates = [
            n.id
            for n in self.nodes.values()
            if n.tag == "parallelGateway"
            and len(n.incoming) >= 2
            and n.id != split.id
            and n.id not in taken
            and n.ext is None
        ]
        reach = [self._distances(flow.target, split.id) for flow in split.outgoing]
        common = [c for c in candidates if all(c in d for d in reach)]
        if not common:
            return None
        return min(common, key=lambda c: max(d[c] for d in reach))

    def _distances(self, start: str, avoid: str) -> dict[str, int]:
        distance = {start: 1}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            node = self.nodes[here]
            for there in [f.target for f in node.outgoing] + node.boundaries:
                if there != avoid and there not in distance:
                    distance[there] = distance[here] + 1
                    queue.append(there)
        return distance

    def _runs_into_join(self, gateway: str) -> bool:
        here, seen = gateway, {gateway}
        while len(self.nodes[here].outgoing) == 1:
            here = self.nodes[here].outgoing[0].target
            if here in seen or self.role.get(here) != "through":
                return False
            if here in self.claimed:
                return True
            seen.add(here)
        return False

    # ------------------------------------------------------------------ arrows

    def label(self, flow: _Flow) -> _Arrow:
        """The words on a flow: ``when``, ``share`` and ``rework``."""
        ext = flow.ext
        if ext is not None or self.r.stated:
            name = flow.name
            share: Any = None
            rework: Any = False
            if ext is not None:
                if ext.get("share") is not None:
                    name, share = named_share(name, ext.get("share", ""))
                if ext.get("rework") is not None:
                    rework = flag_of(ext.get("rework", ""))
            else:
                name, share = split_share(name)
            return _Arrow("", name or None, share, rework, True)
        when, found = split_share(clean(flow.name))
        if not when:
            when = flow.condition
        if not when and flow.default:
            when = "otherwise"
        source = self.nodes.get(flow.source)
        target = self.nodes.get(flow.target)
        if not when and source is not None and target is not None:
            if source.tag == "eventBasedGateway":
                when = clean(target.name)
        return _Arrow("", when or None, found, False, False)

    def resolve(self, flow: _Flow, seen: frozenset[str] = frozenset()) -> list[_Arrow]:
        """Where ``flow`` leads, past the gateways and events that are not steps."""
        arrow = self.label(flow)
        target = flow.target
        if target in self.pre_step:
            return [_replace(arrow, to=self.pre_step[target])]
        role = self.role.get(target)
        if role == "step":
            return [_replace(arrow, to=target)]
        node = self.nodes[target]
        if role == "through":
            if target in seen:
                self.r.problem(
                    node.pos,
                    "the gateways here lead round in a circle with no task between them, so "
                    "a case could never leave: put the work that is repeated inside the loop",
                )
                return []
            out: list[_Arrow] = []
            for onward in node.outgoing:
                out.extend(_combine(arrow, a) for a in self.resolve(onward, seen | {target}))
            return out
        what = "start" if role == "start" else "boundary"
        self.r.problem(
            flow.pos,
            f"the sequence flow '{flow.id}' goes into the {what} event "
            f"'{clean(node.name) or node.id}', and nothing may flow into one: point it at a task",
        )
        return []

    def arrows_from(self, node: _Node) -> list[_Arrow]:
        """Every arrow out of ``node`` (a step), one to each next step."""
        out: list[_Arrow] = []
        for flow in node.outgoing:
            out.extend(self.resolve(flow))
        return _merged(out)


def named_share(name: str, stated: str) -> tuple[str, Any]:
    """``when`` and ``share`` of a flow (or start event) whose sdsaudit element states a
    share and whose name shows one ("not eligible 15%"): the stated share, exactly,
    unless the name's percentage was changed since (in a BPMN tool), when that wins."""
    when, shown = split_share(name)
    share = value_of(stated)
    if shown is not None and isinstance(share, int | float):
        if share_text(shown) != share_text(share):
            return when, shown
    return when, share


def _replace(arrow: _Arrow, **changes: Any) -> _Arrow:
    values: dict[str, Any] = {
        "to": arrow.to,
        "when": arrow.when,
        "share": arrow.share,
        "rework": arrow.rework,
        "stated": arrow.stated,
    }
    values.update(changes)
    return _Arrow(**values)


def _combine(first: _Arrow, then: _Arrow) -> _Arrow:
    """An arrow into a dissolved gateway and one out of it, as one arrow."""
    whens = [w for w in (first.when, then.when) if w]
    share: Any = first.share if then.share is None else then.share
    if isinstance(first.share, int | float) and isinstance(then.share, int | float):
        share = round(first.share * then.share, 9)
    rework = first.rework if first.rework is not False else then.rework
    return _Arrow(
        then.to, "; ".join(dict.fromkeys(whens)) or None, share, rework, first.stated or then.stated
    )


def _merged(arrows: Iterable[_Arrow]) -> list[_Arrow]:
    """Arrows to the same step made one: a step lists each next step once."""
    out: dict[str, _Arrow] = {}
    for arrow in arrows:
        old = out.get(arrow.to)
        if old is None:
            out[arrow.to] = arrow
            continue
        whens = [w for w in (old.when, arrow.when) if w]
        share: Any = None
        if isinstance(old.share, int | float) and isinstance(arrow.share, int | float):
            share = round(old.share + arrow.share, 9)
        out[arrow.to] = _Arrow(
            arrow.to, " or ".join(dict.fromkeys(whens)) or None, share, old.rework, old.stated
        )
    return list(out.values())


# ============================================================================ steps

_PERSON_FROM_MESSAGES = ("absent", "informed", "consulted")

_FALLBACK_NAMES = {
    "decision": "Decision",
    "wait": "Wait",
    "end": "End",
    "support": "Support in place",
    "parallel": "These happen at the same time",
}


class _Steps:
    """The draft model built from a read process and its flow graph."""

    def __init__(self, reader: _Reader, graph: _Graph) -> None:
        self.r = reader
        self.g = graph
        self.order: list[tuple[str, _Node]] = []
        """``(key, node)`` of every step in file order; the key is the node's id, or
        ``ID#join`` for the "All of these done" step before a gateway that joins and
        splits again."""
        self.ids: dict[str, str] = {}
        self.data: dict[str, dict[str, Any]] = {}
        self.arrows: dict[str, list[_Arrow]] = {}
        self.escapes: dict[str, list[_Arrow]] = {}
        """Arrows out of boundary events, by the key of the step they are attached to."""
        self.comments: dict[str, list[str]] = {}
        self.fill: dict[str, list[str]] = {}
        self.actors: dict[str, dict[str, str]] = {}
        self.lane_actor: dict[str, str] = {}
        self.authorities: list[dict[str, Any]] = []
        self.no_person: list[str] = []
        self.top_fill: list[str] = []
        self.team_fill: list[str] = []
        self.default_team: str | None = None
        self.notes: dict[str, list[str]] | None = None
        """Text annotations by the id of the node they are joined to (read once)."""

    # ------------------------------------------------------------------ which steps

    def collect(self) -> None:
        for node in self.r.nodes.values():
            if self.g.role[node.id] != "step":
                continue
            if node.id in self.g.pre_step:
                self.order.append((self.g.pre_step[node.id], node))
            self.order.append((node.id, node))
        taken: set[str] = set()
        for key, node in self.order:
            if self.r.stated and key == node.id and node.ext is not None and ID_RE.match(node.id):
                self.ids[key] = unique(node.id, taken)
        for key, node in self.order:
            if key not in self.ids:
                self.ids[key] = unique(slug(self._plain_name(key, node), "step"), taken)

    def _plain_name(self, key: str, node: _Node) -> str:
        if key != node.id:
            return "All of these done"
        if key in self.g.waits_for_all:
            return clean(node.name) or "All of these done"
        return clean(node.name) or _FALLBACK_NAMES.get(self._shape_kind(node), "Step")

    def _shape_kind(self, node: _Node) -> str:
        if node.tag == "endEvent":
            return "end"
        if node.tag == "intermediateCatchEvent":
            return "wait"
        if node.tag in GATEWAYS:
            return "parallel" if self.g.is_split(node) and self.g.joins.get(node.id) else "decision"
        return "step"

    # ------------------------------------------------------------------ teams

    def actor_for(self, node: _Node) -> str:
        if node.lane is not None:
            return self._lane_actor(node.lane)
        return self._default_team()

    def _lane_actor(self, lane_id: str) -> str:
        if lane_id in self.lane_actor:
            return self.lane_actor[lane_id]
        lane = self.r.lanes[lane_id]
        ext = lane.ext
        if ext is not None and ID_RE.match(ext.get("id", "")) and ext.get("id") not in self.actors:
            actor_id = ext.get("id", "")
            self.actors[actor_id] = {
                "name": lane.name or ext.get("id", ""),
                "kind": ext.get("kind", ""),
            }
        else:
            name = (
                clean(lane.name)
                or self.r.pool_name
                or self.r.process_name
                or f"Team {len(self.lane_actor) + 1}"
            )
            actor_id = self._new_team(name)
        self.lane_actor[lane_id] = actor_id
        return actor_id

    def _default_team(self) -> str:
        if self.default_team is None:
            self.default_team = self._new_team(
                self.r.pool_name or self.r.process_name or "The council"
            )
        return self.default_team

    def _new_team(self, name: str) -> str:
        actor_id = unique(slug(name, "team"), set(self.actors))
        found = team_kind(name)
        kind = found or "council"
        if found is None:
            self.team_fill.append(f"the kind of team '{name}' (guessed as council)")
            if "actors" not in self.r.top_assumed:
                self.r.top_assumed.append("actors")
        self.actors[actor_id] = {"name": name, "kind": kind}
        return actor_id

    # ------------------------------------------------------------------ one step

    def build_steps(self) -> None:
        for key, node in self.order:
            if key != node.id or key in self.g.waits_for_all:
                self.data[key] = self._waits_for_all(key, node)
            elif node.ext is not None:
                self.data[key] = self._stated(node)
            else:
                self.data[key] = self._guessed(key, node)
            if key == node.id:
                for boundary in node.boundaries:
                    self.escapes.setdefault(key, []).extend(self._escape(self.r.nodes[boundary]))

    def _waits_for_all(self, key: str, node: _Node) -> dict[str, Any]:
        """A converging parallel gateway read as a step: no time, the lane's team."""
        if key != node.id:  # it splits again: the split is the gateway's own step
            self.arrows[key] = [_Arrow(node.id, stated=True)]
        else:
            self.arrows[key] = self.g.arrows_from(node)
        return {
            "name": self._plain_name(key, node),
            "kind": "wait",
            "actor": self.actor_for(node),
            "days": 0,
        }

    def _stated(self, node: _Node) -> dict[str, Any]:
        ext = node.ext
        assert ext is not None
        if not self.r.stated:
            self.comments[node.id] = [
                f"From the BPMN {node.tag} '{node.id}' (line {node.pos[0]}), whose "
                "sdsaudit:step gives its values."
            ]
        kind = ext.get("kind", "")
        data: dict[str, Any] = {"name": node.name, "kind": kind}
        if not node.name.strip():
            data["name"] = _FALLBACK_NAMES.get(kind, "Step")
            self._fill(node.id, f"a name for the step '{self.ids[node.id]}' (it has none)")
        if ext.get("actor") is not None:
            data["actor"] = ext.get("actor")
        elif kind not in NO_ACTOR_KINDS:
            data["actor"] = self.actor_for(node)
        for key in ("person", "authority", "outcome"):
            if ext.get(key) is not None:
                data[key] = ext.get(key)
        days = ext.get("days")
        if days is not None:
            data["days"] = "unknown" if days.strip() == "unknown" else value_of(days)
        timer = _timer_days(node)
        if kind == "wait" and timer is not None:
            data["days"] = plain_number(timer)
        if ext.get("forms") is not None:
            data["forms"] = value_of(ext.get("forms", ""))
        asks = [a.text or "" for a in ext.findall(sds_tag("ask"))]
        if asks:
            data["asks"] = asks
        for key in ("tells", "produces", "approves", "assumed"):
            words = _words_attr(ext, key)
            if words:
                data[key] = words
        restrictions = [_restriction_of(e) for e in ext.findall(sds_tag("restriction"))]
        if restrictions:
            data["restrictions"] = restrictions
        sources = _words_attr(ext, "source")
        if sources:
            data["source"] = sources[0] if len(sources) == 1 else sources
        note = _documentation(node.element)
        if note is not None:
            data["note"] = note
        self._add_structure(node, data)
        return data

    def _guessed(self, key: str, node: _Node) -> dict[str, Any]:
        name = self._plain_name(key, node)
        kind, reason = self._guess_kind(node, name)
        data: dict[str, Any] = {"name": name, "kind": kind}
        assumed: list[str] = []
        where = f"the BPMN {node.tag} '{node.id}' (line {node.pos[0]})"
        self.comments[key] = [f"From {where}."]
        if reason is not None:
            self.comments[key].append(f"Kind guessed ({reason}): check it.")
            self._fill(key, f"the kind of step '{name}' (guessed: {kind}, {reason})")
        if reason is not None or (self.g.is_split(node) and kind == "decision"):
            assumed.append("kind")
        if kind not in NO_ACTOR_KINDS:
            data["actor"] = self.actor_for(node)
            if node.lane is None and self.r.lanes:
                assumed.append("actor")
                team = self.actors[data["actor"]]["name"]
                self._fill(key, f"the team that does '{name}' (in no lane: taken as '{team}')")
        days = self._guess_days(node, kind)
        if days is not None:
            data["days"] = days
        if days == "unknown":
            assumed.append("days")
            self._fill(key, f"how long '{name}' takes (days)")
        if kind == "end":
            self._guess_outcome(key, name, data, assumed)
        if kind == "approval":
            data["approves"] = ["support_plan"]
            data["authority"] = self._authority()
            assumed += ["approves", "authority"]
            level = next(a["name"] for a in self.authorities if a["id"] == data["authority"])
            self._fill(key, f"who signs off at '{name}' (taken as '{level}')")
            self._fill(key, f"what '{name}' signs off (approves: taken as support_plan)")
        if kind not in ("end", "support", "parallel") and node.tag not in GATEWAYS:
            self._guess_person(key, node, data, assumed)
        note = _documentation(node.element) or self._annotations(node)
        if note:
            data["note"] = clean(note)
        if assumed:
            data["assumed"] = list(dict.fromkeys(assumed))
        self._add_structure(node, data)
        return data

    def _guess_kind(self, node: _Node, name: str) -> tuple[str, str | None]:
        """The step's kind, and why it is a guess (``None``: the drawing says it)."""
        if node.tag in GATEWAYS:
            if self.g.is_split(node):
                if self.g.joins.get(node.id):
                    return "parallel", None
                self._fill(
                    node.id,
                    f"'{name}' starts work side by side that never comes together again at a "
                    "parallel gateway: it is read as a choice of one way (kind: decision); "
                    "draw where the branches meet, or check the choice",
                )
                return "decision", None
            if node.tag == "inclusiveGateway" and len(node.outgoing) > 1:
                self._fill(
                    node.id,
                    f"'{name}' (an inclusive gateway) may send a case several ways at once: it "
                    "is read as a choice of one way; check it",
                )
            if "eligib" in name.lower():
                return "eligibility", "from its gateway shape and the word 'eligible'"
            return "decision", None
        if node.tag == "endEvent":
            return ("support" if self._is_support_end(name) else "end"), None
        if node.tag == "intermediateCatchEvent":
            return "wait", None
        found = kind_from_words(name)
        if found is not None:
            return found[0], f"from the word{'s' if ' ' in found[1] else ''} '{found[1]}'"
        if node.tag == "receiveTask":
            return "wait", "a receive task waits for a message"
        if node.tag == "businessRuleTask":
            return "decision", "a business rule task decides"
        return "information", "no word in its name says what it is"

    @staticmethod
    def _is_support_end(name: str) -> bool:
        """An end event whose name says the person's support starts there."""
        found = kind_from_words(name)
        return outcome_from_words(name) is None and found is not None and found[0] == "support"

    def _guess_days(self, node: _Node, kind: str) -> Any:
        if kind in ("end", "support", "parallel"):
            return None
        if node.tag in GATEWAYS or node.tag == "intermediateThrowEvent":
            return 0
        if node.tag == "intermediateCatchEvent":
            days = _timer_days(node)
            return "unknown" if days is None else plain_number(days)
        return "unknown"

    def _guess_outcome(self, key: str, name: str, data: dict[str, Any], assumed: list[str]) -> None:
        found = outcome_from_words(name)
        if found is not None:
            data["outcome"] = found
            return
        data["outcome"] = "other"
        assumed.append("outcome")
        self._fill(
            key,
            f"the outcome of '{name}' (guessed: other; if the person's support starts there, "
            "make it kind: support)",
        )

    def _guess_person(
        self, key: str, node: _Node, data: dict[str, Any], assumed: list[str]
    ) -> None:
        level = 0
        for source, target in self.r.message_flows:
            if source == node.id and target in self.r.person_parts:
                level = max(level, 1)
            if target == node.id and source in self.r.person_parts:
                level = max(level, 2)
        if level:
            data["person"] = _PERSON_FROM_MESSAGES[level]
            assumed.append("person")
            self.comments[key].append(
                f"The person's part ({data['person']}) is guessed from the messages to and "
                f"from the pool '{self.r.person_pool}'."
            )
        else:
            self.no_person.append(data["name"])

    def _authority(self) -> str:
        if not self.authorities:
            self.authorities.append({"id": "sign_off", "name": "Sign-off"})
            self.top_fill.append(
                "the levels of sign-off (one level, 'Sign-off', stands in for now)"
            )
            if "authorities" not in self.r.top_assumed:
                self.r.top_assumed.append("authorities")
        return str(self.authorities[-1]["id"])

    def _annotations(self, node: _Node) -> str:
        """The text annotations joined to ``node``, as one text."""
        if self.notes is None:
            assert self.r.process is not None
            texts = {
                a.get("id"): clean(a.findtext(bpmn_tag("text")))
                for a in self.r.process.iter(bpmn_tag("textAnnotation"))
            }
            self.notes = {}
            for link in self.r.process.iter(bpmn_tag("association")):
                for one, other in (("sourceRef", "targetRef"), ("targetRef", "sourceRef")):
                    text = texts.get(link.get(other))
                    if text:
                        self.notes.setdefault(link.get(one, ""), []).append(text)
        return " ".join(self.notes.get(node.id, ()))

    def _add_structure(self, node: _Node, data: dict[str, Any]) -> None:
        """``branches`` and ``join`` of a parallel step, else the arrows out of it."""
        if data["kind"] == "parallel":
            branches = [a.to for flow in node.outgoing for a in self.g.resolve(flow)]
            data["branches"] = list(dict.fromkeys(branches))
            gateway = self.g.joins.get(node.id)
            data["join"] = self._join_key(gateway) if gateway else None
            return
        self.arrows[node.id] = self.g.arrows_from(node)

    def _join_key(self, gateway: str) -> str | None:
        if gateway in self.g.pre_step:
            return self.g.pre_step[gateway]
        if self.g.role[gateway] == "step":
            return gateway
        found = [a.to for flow in self.r.nodes[gateway].outgoing for a in self.g.resolve(flow)]
        return found[0] if found else None

    def _escape(self, boundary: _Node) -> list[_Arrow]:
        """Arrows out of a boundary event: another way out of the step it sits on."""
        kind = _event_type(boundary)
        default = clean(boundary.name) or (
            f"if the {kind} event happens" if kind else "if interrupted"
        )
        return [
            a if a.when else _replace(a, when=default)
            for flow in boundary.outgoing
            for a in self.g.resolve(flow)
        ]

    def _fill(self, key: str, line: str) -> None:
        self.fill.setdefault(key, []).append(line)


def _restriction_of(element: ET.Element) -> Any:
    text = element.text or ""
    if element.get("basis") is None and element.get("ref") is None:
        return text
    out: dict[str, Any] = {"text": text}
    if element.get("basis") is not None:
        out["basis"] = element.get("basis")
    if element.get("ref") is not None:
        out["ref"] = element.get("ref")
    return out


# ============================================================================ the model


def _top_stated(model: ET.Element, process: ET.Element) -> dict[str, Any]:
    """The top of the model from an sdsaudit:model element and the process's
    documentation (its description)."""
    out: dict[str, Any] = {
        "sdsaudit": "1.1",
        "council": model.get("council", ""),
        "title": model.get("title", ""),
        "as_of": date_of(model.get("as_of", "")),
    }
    description = _documentation(process)
    if description is not None:
        out["description"] = description
    sources = [
        {k: (date_of(v) if k == "published" else v) for k, v in e.attrib.items()}
        for e in model.findall(sds_tag("source"))
    ]
    if sources:
        out["sources"] = sources
    assumed = _words_attr(model, "assumed")
    if assumed:
        out["assumed"] = assumed
    authorities = [
        {
            "id": e.get("id", ""),
            "name": e.get("name", ""),
            **({"limit": value_of(e.get("limit", ""))} if e.get("limit") is not None else {}),
        }
        for e in model.findall(sds_tag("authority"))
    ]
    if authorities:
        out["authorities"] = authorities
    out["actors"] = {
        e.get("id", ""): {"name": e.get("name", ""), "kind": e.get("kind", "")}
        for e in model.findall(sds_tag("actor"))
    }
    options = _words_attr(model, "options")
    if options is not None:
        out["options"] = options
    policies = model.find(sds_tag("policies"))
    if policies is not None:
        out["policies"] = _policies_of(policies)
    targets = model.find(sds_tag("targets"))
    if targets is not None:
        out["targets"] = {k: value_of(v) for k, v in targets.attrib.items()}
    waivers = [dict(e.attrib) for e in model.findall(sds_tag("waiver"))]
    if waivers:
        out["waivers"] = waivers
    return out


def _policies_of(element: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    uses = _words_attr(element, "allowed_uses")
    if uses is not None:
        out["allowed_uses"] = uses
    restrictions = [_restriction_of(e) for e in element.findall(sds_tag("restriction"))]
    if restrictions:
        out["restrictions"] = restrictions
    for key in ("prepaid_card_default", "allocation_method_published"):
        if element.get(key) is not None:
            out[key] = flag_of(element.get(key, ""))
    for key in ("review", "dp_review"):
        found = element.find(sds_tag(key))
        if found is not None:
            out[key] = {k: value_of(v) for k, v in found.attrib.items()}
    return out


def _top_guessed(reader: _Reader, fill: list[str]) -> dict[str, Any]:
    """The top of a model from a file sdsaudit did not write: placeholders, listed."""
    assert reader.process is not None
    council = reader.pool_name or "Unnamed council"
    title = reader.process_name or reader.pool_name
    if reader.pool_name:
        fill.append(
            f"the council's name (council: written for now as the pool's name, '{council}')"
        )
    else:
        fill.append(f"the council's name (council: written for now as '{council}')")
    if not title:
        title = Path(reader.path).stem
        fill.append(f"the title of the process (title: written for now as '{title}')")
    fill.append(f"the date the model describes (as_of: written for now as '{dt.date.today()}')")
    out: dict[str, Any] = {
        "sdsaudit": "1.1",
        "council": council,
        "title": title,
        "as_of": dt.date.today(),
        "actors": {},
    }
    description = _documentation(reader.process)
    if description:
        out["description"] = clean(description)
    return out


class _Assembler:
    """Puts the read steps together: start, escapes, rework, ids, the top of the model."""

    def __init__(self, reader: _Reader, graph: _Graph, steps: _Steps):
        self.r = reader
        self.g = graph
        self.s = steps
        self.start_pos: tuple[int | None, int | None] = (None, None)

    def entries(self) -> list[tuple[str, str | None, Any]]:
        """``(step key, when, share)`` of every way in."""
        starts = [n for n in self.r.nodes.values() if self.g.role[n.id] == "start"]
        out: list[tuple[str, str | None, Any]] = []
        for event in starts:
            self.start_pos = self.start_pos if self.start_pos[0] else event.pos
            targets = list(dict.fromkeys(a.to for f in event.outgoing for a in self.g.resolve(f)))
            label = clean(event.name) or event.id
            if not targets:
                self.r.problem(
                    event.pos,
                    f"the start event '{label}' leads nowhere: draw a sequence flow from it to "
                    "the first task",
                )
                continue
            if len(targets) > 1:
                self.r.problem(
                    event.pos,
                    f"the start event '{label}' has {len(targets)} ways out; sdsaudit reads one "
                    "way in for each start event: put a gateway after it, or draw a start event "
                    "for each group of people",
                )
                continue
            out.append((targets[0], *self._start_words(event)))
        if starts:
            return out
        arrived = {a.to for arrows in self.s.arrows.values() for a in arrows}
        arrived |= {b for d in self.s.data.values() for b in d.get("branches", ())}
        roots = [key for key, _ in self.s.order if key not in arrived]
        if not roots:
            assert self.r.process is not None
            self.r.problem(
                self.r.xml.pos(self.r.process),
                "the process has no start event, and every step has a flow into it, so "
                "there is no telling where a case begins: draw a start event",
            )
        return [(key, None, None) for key in roots]

    def _start_words(self, event: _Node) -> tuple[str | None, Any]:
        ext = extension(event.element, "start")
        if ext is not None and ext.get("share") is not None:
            when, share = named_share(event.name, ext.get("share", ""))
            return when or None, share
        if ext is not None:
            return event.name or None, None
        when, share = split_share(event.name if self.r.stated else clean(event.name))
        return when or None, share

    def start(self, entries: list[tuple[str, str | None, Any]]) -> Any:
        """``start``: one step id, or a list of groups."""
        stated_groups = any(
            extension(n.element, "start") is not None
            for n in self.r.nodes.values()
            if self.g.role[n.id] == "start"
        )
        if len(entries) == 1 and not stated_groups:
            return self.s.ids[entries[0][0]]
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for key, when, share in entries:
            if not when:
                name = self.s.data[key]["name"]
                when = f"people who start at '{name}'"
                self.s.top_fill.append(
                    f"who starts at '{name}' (the file has several start events; name the "
                    "group of people each is for)"
                )
            base, k = when, 2
            while when in seen:
                when, k = f"{base} ({k})", k + 1
            seen.add(when)
            out.append(
                {"to": self.s.ids[key], "when": when, **({} if share is None else {"share": share})}
            )
        return out

    # ------------------------------------------------------------------ arrows

    def members(self) -> set[str]:
        """Every step inside a branch of a parallel step."""
        out: set[str] = set()
        for key, data in self.s.data.items():
            if data["kind"] != "parallel" or not data.get("join"):
                continue
            queue = deque(data["branches"])
            seen = set(queue)
            while queue:
                here = queue.popleft()
                if here == data["join"] or here == key:
                    continue
                out.add(here)
                for there in self._successors(here):
                    if there not in seen:
                        seen.add(there)
                        queue.append(there)
        return out

    def _successors(self, key: str) -> list[str]:
        data = self.s.data.get(key, {})
        if data.get("kind") == "parallel":
            return list(data.get("branches", ()))
        return [a.to for a in self.s.arrows.get(key, ())]

    def add_escapes(self) -> None:
        inside = self.members()
        for key, escapes in self.s.escapes.items():
            if not escapes:
                continue
            if key in inside:
                names = ", ".join(f"'{self.s.data[a.to]['name']}'" for a in escapes)
                self.s._fill(
                    key,
                    f"the way out of '{self.s.data[key]['name']}' to {names} (a boundary event "
                    "inside work done side by side, which a model cannot hold: it was left out)",
                )
                continue
            self.s.arrows[key] = _merged(self.s.arrows.get(key, []) + escapes)

    def mark_rework(self, roots: Sequence[str]) -> None:
        """Arrows that go back to a step already on the way (a loop) are rework, unless
        the file states what they are."""
        state: dict[str, int] = {}
        for root in [*roots, *(k for k, _ in self.s.order)]:
            if root in state:
                continue
            state[root] = 1
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                key, index = stack[-1]
                onward = self._successors(key)
                if index >= len(onward):
                    state[key] = 2
                    stack.pop()
                    continue
                stack[-1] = (key, index + 1)
                there = onward[index]
                if state.get(there) == 1:
                    self._rework(key, index)
                elif there not in state:
                    state[there] = 1
                    stack.append((there, 0))

    def _rework(self, key: str, index: int) -> None:
        if self.s.data[key].get("kind") == "parallel":
            return
        arrow = self.s.arrows[key][index]
        if arrow.stated or arrow.rework is not False:
            return
        self.s.arrows[key][index] = _replace(arrow, rework=True)
        data = self.s.data[key]
        data["assumed"] = list(dict.fromkeys([*data.get("assumed", []), "next"]))
        self.s._fill(
            key,
            f"whether going from '{data['name']}' back to '{self.s.data[arrow.to]['name']}' is "
            "rework (taken as rework: it goes back to an earlier step)",
        )

    # ------------------------------------------------------------------ the draft

    def step_list(self) -> list[dict[str, Any]]:
        ids = self.s.ids
        out: list[dict[str, Any]] = []
        for key, _ in self.s.order:
            data = dict(self.s.data[key])
            data["id"] = ids[key]
            if data["kind"] == "parallel":
                data["branches"] = [ids.get(b, b) for b in data.get("branches", [])]
                join = data.get("join")
                if join is None:
                    data.pop("join", None)
                else:
                    data["join"] = ids.get(join, join)
            elif self.s.arrows.get(key):
                data["next"] = [_transition(ids[a.to], a) for a in self.s.arrows[key]]
            out.append({k: data[k] for k in STEP_ORDER if k in data})
        return out


def _transition(to: str, arrow: _Arrow) -> Any:
    if arrow.when is None and arrow.share is None and arrow.rework is False:
        return to
    out: dict[str, Any] = {"to": to}
    if arrow.when is not None:
        out["when"] = arrow.when
    if arrow.share is not None:
        out["share"] = arrow.share
    if arrow.rework is not False:
        out["rework"] = arrow.rework
    return out


def draft_from(xml: XmlFile) -> Draft:
    """The draft model of a parsed BPMN file. Raises :class:`ModelError` naming every
    problem at its line and column in the file."""
    reader = _Reader(xml)
    reader.choose_process()
    reader.collect()
    graph = _Graph(reader)
    graph.classify()
    steps = _Steps(reader, graph)
    top_fill: list[str] = []
    if reader.model_ext is not None:
        assert reader.process is not None
        top = _top_stated(reader.model_ext, reader.process)
        steps.actors.update(top["actors"])
        steps.authorities = top.setdefault("authorities", [])
    else:
        top = _top_guessed(reader, top_fill)
    steps.collect()
    steps.build_steps()
    assembler = _Assembler(reader, graph, steps)
    entries = assembler.entries()
    reader.check()
    start = assembler.start(entries)
    assembler.add_escapes()
    if not reader.stated:
        assembler.mark_rework([key for key, _, _ in entries])
    reader.check()
    draft = _draft(reader, steps, assembler, top, start, top_fill)
    _validate(draft, reader, steps, assembler)
    return draft


def _draft(
    reader: _Reader,
    steps: _Steps,
    assembler: _Assembler,
    top: dict[str, Any],
    start: Any,
    top_fill: list[str],
) -> Draft:
    data = dict(top)
    data["authorities"] = steps.authorities
    if not steps.authorities:
        del data["authorities"]
    actors = dict(steps.actors)
    if not any(a.get("kind") == "person" for a in actors.values()):
        person_id = unique("person", set(actors))
        actors[person_id] = {
            "name": reader.person_pool or "The person and their family",
            "kind": "person",
        }
    data["actors"] = actors
    if reader.top_assumed:
        data["assumed"] = list(dict.fromkeys([*data.get("assumed", []), *reader.top_assumed]))
    data["start"] = start
    data["steps"] = assembler.step_list()
    fill = [*top_fill, *steps.top_fill, *steps.team_fill]
    for key, _ in steps.order:
        fill.extend(steps.fill.get(key, ()))
    if steps.no_person:
        names = ", ".join(f"'{n}'" for n in steps.no_person[:8])
        more = f" and {len(steps.no_person) - 8} more" if len(steps.no_person) > 8 else ""
        fill.append(
            f"how the person takes part at {names}{more} (person: nothing in the BPMN file "
            "says, so none was written, which reads as absent)"
        )
    fill.extend(reader.to_fill)
    comments = {steps.ids[k]: v for k, v in steps.comments.items() if k in steps.ids}
    return Draft(data, reader.path, list(dict.fromkeys(fill)), comments)


def _validate(draft: Draft, reader: _Reader, steps: _Steps, assembler: _Assembler) -> None:
    """Load the draft as the import will; any problem is reported at the BPMN element
    it comes from."""
    text = write_data(draft.data)
    try:
        load_model_text(text, reader.path)
    except ModelError as exc:
        places = {steps.ids[key]: node.pos for key, node in steps.order}
        model_pos = reader.xml.pos(
            reader.model_ext if reader.model_ext is not None else reader.process
        )
        start_pos = assembler.start_pos if assembler.start_pos[0] else model_pos
        origin = _origins(text)
        moved = []
        for problem in exc.problems:
            key, step = origin[min(max((problem.line or 1) - 1, 0), len(origin) - 1)]
            where = places.get(step) or (start_pos if key == "start" else model_pos)
            moved.append(Problem(problem.file, where[0], where[1], problem.message))
        raise ModelError(moved) from None


def _origins(text: str) -> list[tuple[str, str]]:
    """For each line of a written model, the top-level key it is under and the id of
    the step it belongs to (``""`` outside the steps)."""
    out: list[tuple[str, str]] = []
    key = step = ""
    for line in text.split("\n"):
        top = re.match(r"^([a-z_]+):", line)
        if top:
            key, step = top.group(1), ""
        found = re.match(r"^  - id: (.+)$", line)
        if key == "steps" and found:
            step = found.group(1).strip().strip('"')
        out.append((key, step))
    return out
