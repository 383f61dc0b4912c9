"""Time in a parallel block (``sdsaudit.analysis.timing``): branch times and E[max].

Hand-computed cases first (deterministic, a choice, a rework loop, a nested
block, half and quarter days), then properties checked with Hypothesis: single
chains give the largest chain exactly, E[max] lies between the largest and the
sum of the branches' means, block_time is a distribution whose mean is
expected_max, a Monte Carlo walk of random branches agrees with expected_max,
and a branch with a rework loop has the mean that the loop's geometric number
of passes gives.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsaudit.analysis import timing
from sdsaudit.analysis.timing import (
    TAIL,
    Dist,
    block_time,
    branch_time,
    convolve,
    expected_max,
    mean,
    point,
)

F = Fraction
JOIN = "join"


def chain(*days: Fraction | int | str) -> Dist:
    """The time of a branch that visits one step after another, with these days."""
    names = [f"c{i}" for i in range(len(days))]
    moves = {name: [(after, F(1))] for name, after in zip(names, [*names[1:], JOIN], strict=True)}
    duration = {name: point(F(d)) for name, d in zip(names, days, strict=True)}
    return branch_time(names[0], JOIN, moves, duration)


# --------------------------------------------------------------------------- the small pieces


def test_point_convolve_and_mean() -> None:
    assert point(F(3)) == {F(3): F(1)}
    two_ways = {F(0): F(1, 2), F(4): F(1, 2)}
    assert convolve(two_ways, point(F(1))) == {F(1): F(1, 2), F(5): F(1, 2)}
    assert convolve(two_ways, two_ways) == {F(0): F(1, 4), F(4): F(1, 2), F(8): F(1, 4)}
    assert mean(two_ways) == 2
    # a distribution cut short is averaged over the mass it holds
    assert mean({F(2): F(1, 4), F(6): F(1, 4)}) == 4
    with pytest.raises(ValueError, match="no mean"):
        mean({})


def test_a_branch_that_starts_at_the_join_takes_no_time() -> None:
    assert branch_time(JOIN, JOIN, {}, {}) == point(F(0))


def test_bad_branches_are_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="'a' has no moves"):
        branch_time("a", JOIN, {}, {"a": point(F(1))})
    with pytest.raises(ValueError, match="'a' has no time"):
        branch_time("a", JOIN, {"a": [(JOIN, F(1))]}, {})
    with pytest.raises(ValueError, match="do not add up to 1"):
        branch_time("a", JOIN, {"a": [(JOIN, F(1, 2))]}, {"a": point(F(1))})
    with pytest.raises(ValueError, match="negative"):
        branch_time("a", JOIN, {"a": [(JOIN, F(2)), ("a", F(-1))]}, {"a": point(F(1))})
    with pytest.raises(ValueError, match="at least one branch"):
        block_time([])
    with pytest.raises(ValueError, match="at least one branch"):
        expected_max([])
    with pytest.raises(ValueError, match="no probability"):
        expected_max([point(F(1)), {}])


# --------------------------------------------------------------------------- hand-computed blocks


def test_two_deterministic_branches() -> None:
    assert expected_max([chain(3), chain(5)]) == 5
    assert expected_max([chain(1, 2), chain(2, 3)]) == 5
    assert block_time([chain(3), chain(5)]) == point(F(5))


def test_a_choice_inside_a_branch_makes_e_max_more_than_the_largest_mean() -> None:
    # branch A: a 0-day decision, then a 2-day or a 10-day step, half the cases each
    a = branch_time(
        "decide",
        JOIN,
        {
            "decide": [("quick", F(1, 2)), ("slow", F(1, 2))],
            "quick": [(JOIN, F(1))],
            "slow": [(JOIN, F(1))],
        },
        {"decide": point(F(0)), "quick": point(F(2)), "slow": point(F(10))},
    )
    assert a == {F(2): F(1, 2), F(10): F(1, 2)}
    b = chain(7)
    assert mean(a) == 6
    assert max(mean(a), mean(b)) == 7
    assert expected_max([a, b]) == F(17, 2)  # 0.5 * 7 + 0.5 * 10
    assert block_time([a, b]) == {F(7): F(1, 2), F(10): F(1, 2)}


def test_branches_that_meet_again_inside_are_exact() -> None:
    # s -> (x or y) -> t -> join: a diamond, so t gathers mass from two steps
    moves = {
        "s": [("x", F(1, 3)), ("y", F(2, 3))],
        "x": [("t", F(1))],
        "y": [("t", F(1, 2)), (JOIN, F(1, 2))],
        "t": [(JOIN, F(1))],
    }
    duration = {"s": point(F(1)), "x": point(F(2)), "y": point(F(5)), "t": point(F(1))}
    # routes: s x t = 4 (1/3), s y t = 7 (1/3), s y = 6 (1/3)
    assert branch_time("s", JOIN, moves, duration) == {F(4): F(1, 3), F(7): F(1, 3), F(6): F(1, 3)}


def test_a_rework_loop() -> None:
    # branch A: a 10-day step after which half the cases are done again; branch B: 15 days
    a = branch_time("do", JOIN, {"do": [("do", F(1, 2)), (JOIN, F(1, 2))]}, {"do": point(F(10))})
    assert 1 - TAIL * 2 <= sum(a.values()) <= 1
    assert abs(a[F(10)] - F(1, 2)) < 1e-12
    assert abs(mean(a) - 20) < 0.01
    # E[max] = 15 * 1/2 + sum over k >= 2 of 10k / 2^k = 7.5 + 15
    assert abs(expected_max([a, chain(15)]) - F(45, 2)) < 0.01
    assert abs(mean(block_time([a, chain(15)])) - F(45, 2)) < 0.01


def test_a_rework_loop_of_two_steps() -> None:
    # assess (3 days), review (1 day), a third of the cases go back to assess:
    # on average 3/2 passes of 4 days
    moves = {"assess": [("review", F(1))], "review": [("assess", F(1, 3)), (JOIN, F(2, 3))]}
    a = branch_time("assess", JOIN, moves, {"assess": point(F(3)), "review": point(F(1))})
    assert abs(mean(a) - 6) < 0.01
    assert set(a) <= {F(4 * k) for k in range(1, 100)}


def test_a_loop_of_zero_day_steps_converges() -> None:
    # a 0-day check repeated until it passes (9 times in 10 it goes round again), then 2 days
    moves = {"check": [("check", F(9, 10)), ("do", F(1, 10))], "do": [(JOIN, F(1))]}
    a = branch_time("check", JOIN, moves, {"check": point(F(0)), "do": point(F(2))})
    assert list(a) == [F(2)]
    assert abs(a[F(2)] - 1) < 1e-8


def test_a_loop_that_never_lets_its_cases_go_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing, "MAX_UPDATES", 20_000)
    moves = {"start": [(JOIN, F(1, 2)), ("stuck", F(1, 2))], "stuck": [("stuck", F(1))]}
    with pytest.raises(ValueError, match="loop"):
        branch_time("start", JOIN, moves, {"start": point(F(1)), "stuck": point(F(1))})
    moves = {"a": [("b", F(1))], "b": [("a", F(1))]}
    with pytest.raises(ValueError, match="loop"):
        branch_time("a", JOIN, moves, {"a": point(F(0)), "b": point(F(0))})


def test_a_nested_block() -> None:
    # inner block: one branch of 2 days; the other 4 days for half the cases, else 0 days
    maybe = branch_time(
        "triage",
        JOIN,
        {"triage": [("visit", F(1, 2)), (JOIN, F(1, 2))], "visit": [(JOIN, F(1))]},
        {"triage": point(F(0)), "visit": point(F(4))},
    )
    assert maybe == {F(0): F(1, 2), F(4): F(1, 2)}
    inner = block_time([chain(2), maybe])
    assert inner == {F(2): F(1, 2), F(4): F(1, 2)}
    # branch 1: a 1-day step, then the inner block: 3 or 5 days, half each
    one = branch_time(
        "intake",
        JOIN,
        {"intake": [("inner", F(1))], "inner": [(JOIN, F(1))]},
        {"intake": point(F(1)), "inner": inner},
    )
    assert one == {F(3): F(1, 2), F(5): F(1, 2)}
    # branch 2: 4 days. E[max] = 1/2 * 4 + 1/2 * 5
    assert expected_max([one, chain(4)]) == F(9, 2)
    assert block_time([one, chain(4)]) == {F(4): F(1, 2), F(5): F(1, 2)}


def test_half_and_quarter_days_stay_exact() -> None:
    a = chain("0.5", "1.25")
    assert a == {F(7, 4): F(1)}
    b = branch_time(
        "pick",
        JOIN,
        {
            "pick": [("short", F(1, 3)), ("long", F(2, 3))],
            "short": [(JOIN, F(1))],
            "long": [(JOIN, F(1))],
        },
        {"pick": point(F(0)), "short": point(F("0.5")), "long": point(F("2.25"))},
    )
    assert b == {F(1, 2): F(1, 3), F(9, 4): F(2, 3)}
    # max(1.75, 0.5) for a third, max(1.75, 2.25) for two thirds
    assert expected_max([a, b]) == F(1, 3) * F(7, 4) + F(2, 3) * F(9, 4) == F(25, 12)
    assert block_time([a, b]) == {F(7, 4): F(1, 3), F(9, 4): F(2, 3)}


def test_a_loop_with_quarter_days_keeps_exact_times() -> None:
    moves = {"do": [("do", F(1, 4)), (JOIN, F(3, 4))]}
    a = branch_time("do", JOIN, moves, {"do": point(F("0.25"))})
    assert all(t.denominator in (1, 2, 4) for t in a)
    assert abs(mean(a) - F(1, 3)) < 0.01  # 0.25 days for 4/3 passes on average


# --------------------------------------------------------------------------- random branches

DAYS = st.integers(min_value=0, max_value=40).map(lambda k: F(k, 4))


@dataclass(frozen=True)
class Branch:
    """A random branch without loops: steps s0, s1, ... each moving only to later steps or the join."""

    moves: dict[str, list[tuple[str, Fraction]]]
    days: dict[str, Fraction]

    def time(self) -> Dist:
        return branch_time("s0", JOIN, self.moves, {s: point(d) for s, d in self.days.items()})

    def sampler(self) -> Callable[[random.Random], float]:
        """A function walking one case through the branch at random and returning its days."""
        days = {s: float(d) for s, d in self.days.items()}
        ways = {
            s: ([t for t, _ in targets], list(itertools.accumulate(float(p) for _, p in targets)))
            for s, targets in self.moves.items()
        }

        def sample(rng: random.Random) -> float:
            step, total = "s0", 0.0
            while step != JOIN:
                total += days[step]
                targets, cumulative = ways[step]
                step = targets[
                    min(bisect.bisect(cumulative, rng.random() * cumulative[-1]), len(targets) - 1)
                ]
            return total

        return sample


@st.composite
def branches(draw: st.DrawFn, max_steps: int = 4) -> Branch:
    n = draw(st.integers(min_value=1, max_value=max_steps))
    names = [f"s{i}" for i in range(n)]
    moves = {}
    for i, name in enumerate(names):
        later = [*names[i + 1 :], JOIN]
        targets = draw(
            st.lists(st.sampled_from(later), min_size=1, max_size=min(3, len(later)), unique=True)
        )
        weights = [draw(st.integers(min_value=1, max_value=5)) for _ in targets]
        moves[name] = [(t, F(w, sum(weights))) for t, w in zip(targets, weights, strict=True)]
    return Branch(moves, {name: draw(DAYS) for name in names})


BLOCKS = st.lists(branches(), min_size=1, max_size=4)


@given(st.lists(st.lists(DAYS, min_size=1, max_size=5), min_size=1, max_size=5))
def test_single_chains_give_the_longest_chain_exactly(chains: list[list[Fraction]]) -> None:
    times = [chain(*days) for days in chains]
    assert expected_max(times) == max(sum(days) for days in chains)


@given(BLOCKS)
def test_e_max_lies_between_the_largest_mean_and_the_sum_of_means(block: list[Branch]) -> None:
    times = [b.time() for b in block]
    means = [mean(t) for t in times]
    assert max(means) <= expected_max(times) <= sum(means)


@given(BLOCKS)
def test_block_time_is_a_distribution_with_mean_e_max(block: list[Branch]) -> None:
    times = [b.time() for b in block]
    for t in times:
        assert sum(t.values()) == 1
    pmf = block_time(times)
    assert sum(pmf.values()) == 1
    assert all(p > 0 for p in pmf.values())
    assert mean(pmf) == expected_max(times)
    # the block's worst is its slowest branch's worst
    assert max(pmf) == max(max(t) for t in times)


@settings(max_examples=25, deadline=None)
@given(st.lists(branches(max_steps=3), min_size=1, max_size=3))
def test_a_monte_carlo_walk_agrees_with_e_max(block: list[Branch]) -> None:
    rng = random.Random(20240611)
    samples = 20_000
    samplers = [b.sampler() for b in block]
    values = [max(sample(rng) for sample in samplers) for _ in range(samples)]
    estimate = sum(values) / samples
    variance = sum((v - estimate) ** 2 for v in values) / (samples - 1)
    standard_error = math.sqrt(variance / samples)
    exact = float(expected_max([b.time() for b in block]))
    assert abs(estimate - exact) <= 5 * standard_error + 1e-9


def reworked(branch: Branch, share: Fraction) -> dict[str, list[tuple[str, Fraction]]]:
    """``branch``'s moves, with ``share`` of the cases reaching the join sent back to the start."""
    moves: dict[str, list[tuple[str, Fraction]]] = {}
    for step, targets in branch.moves.items():
        moves[step] = []
        for to, p in targets:
            if to == JOIN:
                moves[step] += [("s0", p * share), (JOIN, p * (1 - share))]
            else:
                moves[step].append((to, p))
    return moves


@settings(max_examples=30, deadline=None)
@given(branches(), st.sampled_from([F(1, 10), F(1, 3), F(1, 2), F(2, 3)]))
def test_a_rework_loop_multiplies_the_mean_by_the_expected_passes(
    branch: Branch, share: Fraction
) -> None:
    once = mean(branch.time())
    looped = branch_time(
        "s0", JOIN, reworked(branch, share), {s: point(d) for s, d in branch.days.items()}
    )
    assert abs(sum(looped.values(), F(0)) - 1) < 1e-8
    # passes are geometric with mean 1 / (1 - share), each an independent copy of the branch
    assert abs(mean(looped) - once / (1 - share)) < 0.01
    # a block of the loop and a 5-day partner lies between the larger and the sum of the means
    e_max = expected_max([looped, chain(5)])
    assert max(mean(looped), F(5)) <= e_max <= mean(looped) + 5
