"""What the rule families share: the result types, wording and the common shape of
the rules that compare a route maximum with a target."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ...words import number, quoted
from ..findings import Issue, NotAssessable
from ..graph import Context, RouteMax

Result = Issue | NotAssessable


Rule = Callable[[Context, Mapping[str, Any]], Iterator[Result]]


def _q(step_id: str) -> str:
    return f'"{step_id}"'


def _steps(ids: Iterable[str]) -> str:
    return quoted(ids)


def _group(ctx: Context) -> str:
    """``"for adults, "`` when the context is one start group of several, else ``""``."""
    if ctx.model.grouped and len(ctx.starts) < len(ctx.model.starts):
        entry = next(e for e in ctx.model.entries if e.to in ctx.starts)
        return f"for {entry.when}, "
    return ""


def _over_target(result: RouteMax, limit: float, what: str, where: str) -> Iterator[Result]:
    """The shared logic of the rules comparing a route maximum with a target."""
    if result.value is None:
        yield NotAssessable("no route leads from the start step to a support step")
        return
    if not result.exceeds(limit):
        return
    if result.unbounded:
        yield Issue(
            result.counted,
            f"{_steps(result.counted)} lie in a loop with no transition marked as rework, "
            f"so a case can go round it and meet {what} without limit "
            f"(target: at most {number(limit, 1)})",
            rests_on=("targets",),
        )
        return
    yield Issue(
        result.counted,
        f"a route has {number(result.value, 1)} {what}, more than the target of {number(limit, 1)}: "
        f"{where} {_steps(result.counted)}",
        rests_on=("targets",),
    )
