"""Parallel blocks (format 1.1): which steps each branch of a ``parallel`` step holds, and
whether every block is well formed.

Branch *i* of a parallel step is the set of steps reachable from ``branches[i]`` by
``next`` transitions (rework included, a nested parallel step going on to its own
branches) without passing the block's ``join``. :func:`find_blocks` works the blocks out
and lists every way one is malformed, in plain words; the loader refuses a model with
any, so the analyses may rely on every block being a region with one way in (the
parallel step) and one way out (the join).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from .objects import Pos, Step


@dataclass(frozen=True)
class Block:
    """One parallel step, the steps of each of its branches (first step first, then in
    file order) and its join."""

    step: str
    branches: tuple[tuple[str, ...], ...]
    join: str

    @cached_property
    def members(self) -> frozenset[str]:
        """Every step inside the block (the parallel step and the join excluded)."""
        return frozenset(s for branch in self.branches for s in branch)

    def branch_of(self, step_id: str) -> int | None:
        """Which branch (0-based) holds ``step_id``, if any."""
        for n, branch in enumerate(self.branches):
            if step_id in branch:
                return n
        return None


def successors(step: Step) -> list[str]:
    """Where a case goes from ``step``: its ``next`` steps, or a parallel step's branches."""
    if step.kind == "parallel":
        return list(step.branches)
    return [t.to for t in step.next]


def _q(step_id: str) -> str:
    return f"'{step_id}'"


def find_blocks(steps: Sequence[Step]) -> tuple[list[Block], list[tuple[Pos, str]]]:
    """The blocks of every parallel step, innermost first, and the problems found.

    A block is innermost-first when no block listed before it contains it. Problems
    are ``(position, message)`` pairs; a block with problems is left out.
    """
    by_id: Mapping[str, Step] = {s.id: s for s in steps}
    position = {s.id: n for n, s in enumerate(steps)}
    problems: list[tuple[Pos, str]] = []
    blocks: list[Block] = []
    preds: dict[str, list[str]] = {}
    for step in steps:
        for to in successors(step):
            preds.setdefault(to, []).append(step.id)
    for step in steps:
        if step.kind != "parallel" or step.join is None:
            continue
        block = _block(step, by_id, position, preds, problems)
        if block is not None:
            blocks.append(block)
    # nesting: a block inside a branch of another must lie wholly in that branch
    good: list[Block] = []
    for block in blocks:
        fault = False
        for outer in blocks:
            if outer is block or block.step not in outer.members:
                continue
            n = outer.branch_of(block.step)
            assert n is not None
            inside = set(outer.branches[n])
            if block.join not in inside or not block.members <= inside:
                problems.append(
                    (
                        by_id[block.step].pos,
                        f"the parallel step {_q(block.step)} lies in a branch of "
                        f"{_q(outer.step)}, so its own block must end inside that branch, "
                        f"but its join {_q(block.join)} is outside it: join it to a step "
                        f"of the same branch",
                    )
                )
                fault = True
        if not fault:
            good.append(block)
    good.sort(key=lambda b: len(b.members))  # a block holds fewer steps than any holding it
    return good, problems


def _block(
    step: Step,
    by_id: Mapping[str, Step],
    position: Mapping[str, int],
    preds: Mapping[str, list[str]],
    problems: list,
) -> Block | None:
    label = f"the parallel step {_q(step.id)}"
    join = step.join
    assert join is not None
    if join not in by_id or any(b not in by_id for b in step.branches):
        return None  # the loader has reported the unknown ids
    if join in step.branches:
        problems.append(
            (step.pos, f"{label} has its join {_q(join)} as a branch too: a branch must hold work")
        )
        return None
    if join == step.id:
        problems.append((step.pos, f"{label} cannot be its own join: name the step after it"))
        return None
    branches: list[list[str]] = []
    owner: dict[str, int] = {}
    ok = True
    for n, first in enumerate(step.branches):
        seen = _reach([first], by_id, stop=join)
        for sid in sorted(seen, key=position.__getitem__):
            kind = by_id[sid].kind
            if sid == step.id:
                problems.append(
                    (
                        step.pos,
                        f"branch {_q(first)} of {label} leads back to {_q(step.id)} itself "
                        f"without passing the join {_q(join)}: every branch must end at the join",
                    )
                )
                ok = False
            elif kind in ("support", "end"):
                problems.append(
                    (
                        step.pos,
                        f"branch {_q(first)} of {label} reaches the {kind} step {_q(sid)} "
                        f"without passing the join {_q(join)}: a branch may go on only to its "
                        f"own steps or to the join",
                    )
                )
                ok = False
            elif sid in owner and owner[sid] != n:
                problems.append(
                    (
                        by_id[sid].pos,
                        f"step {_q(sid)} is in two branches of {label} "
                        f"({_q(step.branches[owner[sid]])} and {_q(first)}): "
                        f"each step belongs to one branch",
                    )
                )
                ok = False
            owner.setdefault(sid, n)
        branches.append(sorted(seen, key=lambda s: (s != first, position[s])))
    if not ok:
        return None
    for n, branch in enumerate(branches):
        inside = set(branch)
        # every step of the branch leads on to the join
        back = _reach_back(join, inside, by_id)
        for sid in branch:
            if sid not in back:
                problems.append(
                    (
                        by_id[sid].pos,
                        f"from {_q(sid)}, in branch {_q(step.branches[n])} of {label}, the "
                        f"join {_q(join)} cannot be reached: every step of a branch must "
                        f"lead on to the join",
                    )
                )
                ok = False
        # nothing enters the branch from outside it, except the parallel step at its start
        entries = sorted(
            {(p, to) for to in branch for p in preds.get(to, ()) if p not in inside},
            key=lambda pair: (position[pair[0]], position[pair[1]]),
        )
        for source, to in entries:
            other = by_id[source]
            if not (other.id == step.id and to == step.branches[n]):
                problems.append(
                    (
                        _transition_pos(other, to),
                        f"{_q(other.id)} goes to {_q(to)}, inside branch "
                        f"{_q(step.branches[n])} of {label}, from outside that branch: a "
                        f"branch can be entered only from its parallel step",
                    )
                )
                ok = False
    if not ok:
        return None
    return Block(step.id, tuple(tuple(b) for b in branches), join)


def _transition_pos(step: Step, to: str) -> Pos:
    for t in step.next:
        if t.to == to:
            return t.pos
    return step.pos


def _reach(starts: Iterable[str], by_id: Mapping[str, Step], stop: str) -> set[str]:
    """Steps reachable from ``starts`` by ``next`` (and parallel branches), not passing ``stop``."""
    seen: set[str] = set()
    queue = deque(s for s in starts if s in by_id and s != stop)
    seen.update(queue)
    while queue:
        sid = queue.popleft()
        for to in successors(by_id[sid]):
            if to != stop and to in by_id and to not in seen:
                seen.add(to)
                queue.append(to)
    return seen


def _reach_back(join: str, inside: set[str], by_id: Mapping[str, Step]) -> set[str]:
    """Steps of ``inside`` from which ``join`` can be reached without leaving ``inside``.

    A nested parallel step reaches its own join (its branches lead there), so it
    counts as leading on to its join as well as to its branches."""
    preds: dict[str, list[str]] = {}
    for sid in inside:
        step = by_id[sid]
        outs = successors(step) + ([step.join] if step.kind == "parallel" and step.join else [])
        for to in outs:
            preds.setdefault(to, []).append(sid)
    found: set[str] = set()
    queue = deque([join])
    while queue:
        node = queue.popleft()
        for p in preds.get(node, ()):
            if p not in found:
                found.add(p)
                queue.append(p)
    return found
