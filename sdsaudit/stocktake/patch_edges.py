"""A step's onward transitions (its ``next``) as edges with their shares worked out:
read from a model's plain data, reconnected and renormalised by the operations of
:mod:`sdsaudit.stocktake.patch_apply`, and written back; and the rest of the model's
shape that the operations keep valid (format 1.1): parallel steps' branches and joins,
the start (a step id or a list of groups), and what a result needs format 1.1 for."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import schema as S
from ..model.blocks import Block, find_blocks
from ..model.objects import Step, Transition
from .patch import Raw, Value, flag_of, number_of, put, text_of, wrap

_EPS = 1e-9


# --------------------------------------------------------------------------- edges


@dataclass
class Edge:
    """A transition with its effective share worked out."""

    to: str
    share: float
    when: str | None = None
    rework: bool = False
    when_raw: Value = None  # the original 'when' scalar, to keep its quoting


def edges_of(step: dict) -> list[Edge]:
    raw = step.get("next") or []
    found: list[tuple[str, float | None, Value, bool]] = []
    for item in raw:
        if isinstance(item, dict):
            found.append(
                (
                    text_of(item.get("to")),
                    number_of(item.get("share")),
                    item.get("when"),
                    flag_of(item.get("rework")),
                )
            )
        else:
            found.append((text_of(item), None, None, False))
    given = sum(s for _, s, _, _ in found if s is not None)
    missing = sum(1 for _, s, _, _ in found if s is None)
    rest = max(0.0, 1.0 - given) / missing if missing else 0.0
    return [
        Edge(
            to,
            rest if share is None else share,
            None if when is None else text_of(when),
            rework,
            when,
        )
        for to, share, when, rework in found
    ]


def set_edges(step: dict, edges: list[Edge], explicit: bool) -> None:
    """Write edges back into a step: merged by target, shares rounded to 4 places."""
    merged: list[Edge] = []
    for edge in edges:
        same = next((e for e in merged if e.to == edge.to), None)
        if same is None:
            merged.append(Edge(edge.to, edge.share, edge.when, edge.rework, edge.when_raw))
            continue
        same.share += edge.share
        same.rework = same.rework and edge.rework
        if not edge.when or not same.when:
            # one of the branches had no condition: together they cover every case
            same.when, same.when_raw = None, None
        elif edge.when != same.when:
            same.when, same.when_raw = f"{same.when} or {edge.when}", None
    out: list[Value] = []
    for edge in merged:
        if len(merged) == 1 and not edge.when and not edge.rework:
            out.append(Raw(edge.to))
            continue
        item: dict[str, Value] = {"to": Raw(edge.to)}
        if edge.when:
            item["when"] = edge.when_raw if edge.when_raw is not None else wrap(edge.when)
        if len(merged) > 1 and explicit:
            item["share"] = round(edge.share, 4)
        if edge.rework:
            item["rework"] = True
        out.append(item)
    put(step, "next", out, S.STEP.keys)


def join_when(*whens: str | None) -> str | None:
    """The conditions joined with 'and', each once (``None`` when there are none)."""
    parts: list[str] = []
    for when in whens:
        if when and when not in parts:
            parts.append(when)
    return " and ".join(parts) or None


def forward(edges: list[Edge], own: str) -> list[Edge]:
    """A step's onward branches without rework and self-loops, shares renormalised."""
    chosen = [e for e in edges if not e.rework and e.to != own]
    if not chosen:
        chosen = [e for e in edges if e.to != own]
    total = sum(e.share for e in chosen)
    if total <= _EPS:
        return [Edge(e.to, 1 / len(chosen), e.when, e.rework, e.when_raw) for e in chosen]
    return [Edge(e.to, e.share / total, e.when, e.rework, e.when_raw) for e in chosen]


def renormalise(edges: list[Edge]) -> list[Edge]:
    """The edges with their shares scaled to add up to 1 (equal shares if they add to 0)."""
    total = sum(e.share for e in edges)
    if total <= _EPS:
        return [Edge(e.to, 1 / len(edges), e.when, e.rework, e.when_raw) for e in edges]
    return [Edge(e.to, e.share / total, e.when, e.rework, e.when_raw) for e in edges]


# --------------------------------------------------------------------------- parallel blocks and starts


def is_parallel(step: dict) -> bool:
    """Whether a step's plain data is a ``parallel`` step (format 1.1)."""
    return text_of(step.get("kind")) == "parallel"


def branches_of(step: dict) -> list[str]:
    """A parallel step's branches (the first step of each), as ids."""
    raw = step.get("branches")
    if not isinstance(raw, list):
        return []
    return [text_of(b) for b in raw if not isinstance(b, (dict, list))]


def join_of(step: dict) -> str | None:
    """A parallel step's join, as an id (``None`` when it has none)."""
    raw = step.get("join")
    return None if raw is None or isinstance(raw, (dict, list)) else text_of(raw)


def set_branches(step: dict, branches: list[str]) -> None:
    """Write a parallel step's branches back, keeping the scalars that did not change."""
    old = {text_of(b): b for b in step.get("branches") or [] if isinstance(b, Raw)}
    put(step, "branches", [old.get(b, Raw(b)) for b in branches], S.STEP.keys)


@dataclass
class StartRef:
    """One place where the model says where cases start: ``start: ID`` or an entry
    ``{to: ID, when: ...}`` of ``start`` as a list of groups."""

    record: dict
    key: str
    when: str | None = None

    @property
    def to(self) -> str:
        return text_of(self.record[self.key])

    @to.setter
    def to(self, step_id: str) -> None:
        self.record[self.key] = Raw(step_id)

    def who(self) -> str:
        """The cases this start is for, in words."""
        return f"the group '{self.when}'" if self.when else "the process"


def start_refs(data: dict) -> list[StartRef]:
    """Every place the model's ``start`` names a step, in file order."""
    start = data.get("start")
    if isinstance(start, list):
        return [
            StartRef(e, "to", text_of(e["when"]) if e.get("when") is not None else None)
            for e in start
            if isinstance(e, dict) and e.get("to") is not None
        ]
    if start is None or isinstance(start, dict):
        return []
    return [StartRef(data, "start")]


def _safe_edges(step: dict) -> list[Edge]:
    try:
        return edges_of(step)
    except (TypeError, ValueError, AttributeError):
        return []  # a value a 'set' wrote wrongly: the loader reports it at the value


def graph_steps(steps: list[dict]) -> list[Step]:
    """Steps' plain data as model steps carrying only what the parallel blocks depend on
    (ids, kinds, transitions, branches and joins)."""
    out: list[Step] = []
    for step in steps:
        out.append(
            Step(
                id=text_of(step.get("id")),
                name=text_of(step.get("name")),
                kind=text_of(step.get("kind")),
                next=tuple(Transition(e.to, rework=e.rework) for e in _safe_edges(step)),
                branches=tuple(branches_of(step)) if is_parallel(step) else (),
                join=join_of(step) if is_parallel(step) else None,
            )
        )
    return out


def block_problems(data: dict) -> list[str]:
    """Everything that would make the parallel blocks of a model's plain data invalid,
    in plain words (empty for a model without parallel steps)."""
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict)]
    if not any(is_parallel(s) for s in steps):
        return []
    graph = graph_steps(steps)
    ids = {s.id for s in graph}
    problems: list[str] = []
    for step in graph:
        if step.kind != "parallel":
            continue
        for name in (*step.branches, step.join):
            if name is not None and name not in ids:
                problems.append(
                    f"the parallel step '{step.id}' names '{name}', which would no longer be a step"
                )
        if len(step.branches) < 2:
            problems.append(
                f"the parallel step '{step.id}' would have fewer than two branches to run "
                "side by side"
            )
    blocks, found = find_blocks(graph)
    problems.extend(message for _, message in found)
    for ref in start_refs(data):
        for block in blocks:
            n = block.branch_of(ref.to)
            if n is not None:
                problems.append(
                    f"{ref.who()} would start at '{ref.to}', inside branch "
                    f"'{block.branches[n][0]}' of the parallel step '{block.step}': a branch "
                    "can be entered only from its parallel step"
                )
    return problems


def blocks_of(data: dict) -> list[Block]:
    """The well-formed parallel blocks of a model's plain data, innermost first."""
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict)]
    if not any(is_parallel(s) for s in steps):
        return []
    return find_blocks(graph_steps(steps))[0]


def new_in_1_1(data: dict) -> str | None:
    """What in a model's plain data needs format 1.1, in words (``None`` when nothing)."""
    if isinstance(data.get("start"), list):
        return "'start' as a list of groups"
    for key in ("sources", "assumed"):
        if key in data:
            return f"'{key}'"
    restrictions = list((data.get("policies") or {}).get("restrictions") or [])
    for step in data.get("steps") or []:
        if not isinstance(step, dict):
            continue
        if is_parallel(step):
            return "a parallel step"
        for key in ("branches", "join", "source", "assumed"):
            if key in step:
                return f"'{key}'"
        if isinstance(step.get("days"), Raw) and step["days"].text.strip() == "unknown":
            return "'days: unknown'"
        restrictions.extend(step.get("restrictions") or [])
    if any(isinstance(r, dict) for r in restrictions):
        return "a restriction written as {text, basis, ref}"
    return None
