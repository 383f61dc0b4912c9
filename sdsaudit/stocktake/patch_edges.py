"""A step's onward transitions (its ``next``) as edges with their shares worked out:
read from a model's plain data, reconnected and renormalised by the operations of
:mod:`sdsaudit.stocktake.patch_apply`, and written back."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import schema as S
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
