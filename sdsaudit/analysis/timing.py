"""Time spent in a parallel block: distributions of days, worked out exactly.

Format 1.1 lets a process split into branches that run at the same time and meet
again at a ``join``. A branch takes the sum of the ``days`` of the steps it
visits before the join; the block takes as long as its slowest branch. So the
expected time of a block is the expectation of the largest branch time, E[max],
which is usually more than the largest of the branches' expected times.

Everything here works on plain distributions: a :data:`Dist` maps a time in
days (an exact :class:`~fractions.Fraction`, so half days and quarter days stay
exact) to its probability. The functions are pure and use only the standard
library; the caller turns the model's steps into ``moves`` and ``duration``.

* :func:`branch_time` walks one branch. Without a loop it is exact. With a
  rework loop the time has no upper bound, so the walk stops once less than
  :data:`TAIL` of the cases are still travelling; the mean is then within a
  tiny fraction of a day of the true one.
* :func:`block_time` gives the distribution of the slowest branch's time and
  :func:`expected_max` its expectation, from the branches' cumulative
  distributions: P(max <= t) is the product of P(branch i <= t).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

Dist = dict[Fraction, Fraction]
"""A time distribution: days -> probability, both exact."""

TAIL = 1e-9
"""A walk with a loop stops once the share of cases still travelling is below this."""

MAX_UPDATES = 1_000_000
"""A walk with a loop gives up (ValueError) after this many state updates."""

_NEGLIGIBLE = 1e-18
"""In a walk with a loop, a (step, time) state holding less than this is dropped."""

_GRID = 10**12
"""Probabilities from a walk with a loop are rounded to the nearest multiple of 1/_GRID."""

_SLACK = Fraction(1, 10**9)
"""How far a step's move probabilities may sum from 1 (shares read from decimals)."""


def point(days: Fraction) -> Dist:
    """The distribution of a time that is always ``days``."""
    return {Fraction(days): Fraction(1)}


def convolve(a: Dist, b: Dist) -> Dist:
    """The distribution of the sum of two independent times distributed as ``a`` and ``b``."""
    total: Dist = {}
    for ta, pa in a.items():
        if not pa:
            continue
        for tb, pb in b.items():
            if pb:
                t = ta + tb
                total[t] = total.get(t, Fraction(0)) + pa * pb
    return total


def mean(d: Dist) -> Fraction:
    """The expected time of ``d``.

    If the probabilities add up to less than 1 (a walk with a loop that was cut
    short), the mean is taken over the mass that is there: it is divided by the
    total. An empty distribution has no mean and raises ValueError.
    """
    mass = sum(d.values(), Fraction(0))
    if mass <= 0:
        raise ValueError("A time distribution with no probability in it has no mean.")
    return sum((t * p for t, p in d.items()), Fraction(0)) / mass


def branch_time(
    first: str,
    join: str,
    moves: Mapping[str, Sequence[tuple[str, Fraction]]],
    duration: Mapping[str, Dist],
) -> Dist:
    """The distribution of the time one branch takes, from ``first`` until it reaches ``join``.

    ``moves`` gives, for each step, the steps a case goes to next and with what
    probability (a step's probabilities add up to 1). ``duration`` gives each
    step's own time: ``point(days)`` for a plain step, or the :func:`block_time`
    of a block nested inside the branch. The join's own time is not counted.

    If the steps reachable from ``first`` (stopping at the join) have no loop,
    the result is exact: steps are taken in topological order, each holding the
    distribution of the time cases arrive at it. If they have a loop (rework),
    the cases are moved round by round until less than :data:`TAIL` of them is
    still travelling; probabilities are then rounded to the nearest multiple of
    10**-12 (so denominators stay small), and what is left travelling is left
    out. Such a result adds up to 1 only within about TAIL; :func:`mean`,
    :func:`block_time` and :func:`expected_max` allow for that.

    Raises ValueError if a step other than the join has no moves or no time, if
    a step's probabilities are negative or do not add up to 1, or if a loop
    keeps its cases for more than :data:`MAX_UPDATES` state updates.
    """
    if first == join:
        return point(Fraction(0))
    steps = _reachable(first, join, moves, duration)
    order = _topological_order(steps, join, moves)
    if order is None:
        return _walk_with_loops(first, join, steps, moves, duration)
    arrival: dict[str, Dist] = {first: point(Fraction(0))}
    for step in order:
        leave = convolve(arrival.pop(step), duration[step])
        for to, p in moves[step]:
            if p:
                into = arrival.setdefault(to, {})
                for t, q in leave.items():
                    into[t] = into.get(t, Fraction(0)) + q * p
    return {t: p for t, p in arrival.get(join, {}).items() if p}


def block_time(branches: Sequence[Dist]) -> Dist:
    """The distribution of the time a parallel block takes: the largest of its branches' times.

    The branches are independent. For every time t that any branch can take,
    P(max <= t) is the product of each branch's P(time <= t); the result gives
    the probability of each time at which that product grows. A branch whose
    probabilities add up to less than 1 (a walk with a loop cut short) is
    scaled up to 1 first. Raises ValueError for no branches or an empty branch.
    """
    result: Dist = {}
    below = Fraction(0)
    for t, at_most in _cdf_of_max(branches):
        if at_most != below:
            result[t] = at_most - below
            below = at_most
    return result


def expected_max(branches: Sequence[Dist]) -> Fraction:
    """The expected time of a parallel block: E[max] of its independent branches' times.

    Computed directly from the branches' cumulative distributions: with the
    distinct times t_1 < t_2 < ... that any branch can take, E[max] is the sum
    of t_k * (P(max <= t_k) - P(max <= t_(k-1))). It equals
    ``mean(block_time(branches))``. Branches are normalised as in
    :func:`block_time`.
    """
    total = Fraction(0)
    below = Fraction(0)
    for t, at_most in _cdf_of_max(branches):
        total += t * (at_most - below)
        below = at_most
    return total


# --------------------------------------------------------------------------- helpers


def _cdf_of_max(branches: Sequence[Dist]) -> list[tuple[Fraction, Fraction]]:
    """Each distinct time any branch can take, in order, with P(max of the branches <= it)."""
    if not branches:
        raise ValueError("A parallel block needs at least one branch.")
    normalised = [_normalised(b) for b in branches]
    times = sorted(set().union(*normalised))
    at_most = [Fraction(1)] * len(times)
    for dist in normalised:
        atoms = sorted(dist.items())
        cumulative = Fraction(0)
        i = 0
        for k, t in enumerate(times):
            while i < len(atoms) and atoms[i][0] <= t:
                cumulative += atoms[i][1]
                i += 1
            at_most[k] *= cumulative
    return list(zip(times, at_most, strict=True))


def _normalised(d: Dist) -> Dist:
    """``d`` without zero probabilities, scaled so that its probabilities add up to 1."""
    mass = sum(d.values(), Fraction(0))
    if mass <= 0:
        raise ValueError("A branch's time distribution has no probability in it.")
    return {Fraction(t): Fraction(p) / mass for t, p in d.items() if p}


def _reachable(
    first: str,
    join: str,
    moves: Mapping[str, Sequence[tuple[str, Fraction]]],
    duration: Mapping[str, Dist],
) -> list[str]:
    """The steps a case can visit from ``first`` before the join, checked for moves and times."""
    seen = {first}
    found = [first]
    i = 0
    while i < len(found):
        step = found[i]
        i += 1
        if not moves.get(step):
            raise ValueError(f"Step {step!r} has no moves, so its cases never reach {join!r}.")
        if not duration.get(step):
            raise ValueError(f"Step {step!r} has no time distribution.")
        probabilities = [p for _, p in moves[step]]
        if any(p < 0 for p in probabilities):
            raise ValueError(f"Step {step!r} has a move with a negative probability.")
        if abs(sum(probabilities, Fraction(0)) - 1) > _SLACK:
            raise ValueError(
                f"The probabilities of the moves from step {step!r} do not add up to 1."
            )
        for to, p in moves[step]:
            if p and to != join and to not in seen:
                seen.add(to)
                found.append(to)
    return found


def _topological_order(
    steps: Sequence[str], join: str, moves: Mapping[str, Sequence[tuple[str, Fraction]]]
) -> list[str] | None:
    """``steps`` in an order where every move goes forward, or None if they have a loop."""
    indegree = dict.fromkeys(steps, 0)
    for step in steps:
        for to, p in moves[step]:
            if p and to != join:
                indegree[to] += 1
    ready = [s for s in steps if indegree[s] == 0]
    order = []
    while ready:
        step = ready.pop()
        order.append(step)
        for to, p in moves[step]:
            if p and to != join:
                indegree[to] -= 1
                if indegree[to] == 0:
                    ready.append(to)
    return order if len(order) == len(steps) else None


def _walk_with_loops(
    first: str,
    join: str,
    steps: Sequence[str],
    moves: Mapping[str, Sequence[tuple[str, Fraction]]],
    duration: Mapping[str, Dist],
) -> Dist:
    """A branch with a loop: move the cases round by round until almost all reach the join.

    A state is (step, time so far) with the share of cases in it; states with
    the same step and time are merged every round. Times stay exact (counted in
    units of 1/scale, where scale is the least common denominator of the steps'
    times); shares are floats while travelling, rounded to fractions at the end.
    """
    scale = math.lcm(*(Fraction(t).denominator for s in steps for t in duration[s]))
    own = {s: [(int(t * scale), float(p)) for t, p in duration[s].items() if p] for s in steps}
    out = {s: [(to, float(p)) for to, p in moves[s] if p] for s in steps}
    arrived: dict[int, float] = {}
    travelling: dict[str, dict[int, float]] = {first: {0: 1.0}}
    updates = 0
    while sum(sum(times.values()) for times in travelling.values()) >= TAIL:
        following: dict[str, dict[int, float]] = {}
        for step, times in travelling.items():
            updates += len(times)
            if updates > MAX_UPDATES:
                raise ValueError(
                    f"The branch from {first!r} keeps its cases in a loop too long to reach {join!r}: more than {MAX_UPDATES} updates."
                )
            for t, share in times.items():
                for d, p in own[step]:
                    leave = t + d
                    leaving = share * p
                    for to, q in out[step]:
                        into = arrived if to == join else following.setdefault(to, {})
                        into[leave] = into.get(leave, 0.0) + leaving * q
        travelling = {}
        for step, times in following.items():
            kept = {t: share for t, share in times.items() if share >= _NEGLIGIBLE}
            if kept:
                travelling[step] = kept
    result: Dist = {}
    for t, share in arrived.items():
        rounded = Fraction(round(share * _GRID), _GRID)
        if rounded:
            result[Fraction(t, scale)] = rounded
    return result
