"""Small, exact statistics for survey counts: pure Python, ``math`` only.

Three things are needed, all standard and all easy to check by hand:

* a 95% confidence interval for a proportion, by Wilson's score method, which
  behaves well for small groups and for shares near 0% or 100% (where the
  textbook "plus or minus 1.96 standard errors" interval goes below zero);
* an odds ratio from a two-by-two table with a 95% interval on the log scale
  (Woolf's method), adding 0.5 to every cell when one of them is zero
  (the Haldane-Anscombe correction), so that the ratio and its interval stay
  finite;
* p-values for the verdicts (the score test that Wilson's interval inverts, and the
  Wald test of a log odds ratio), and Holm's step-down adjustment, so that a page
  making several comparisons at once does not find differences by chance.

The adjusted odds ratios (logistic regression) are in :mod:`.adjusted`, which uses
statsmodels when it is installed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054
"""The 97.5th percentile of the standard normal distribution (two-sided 95%)."""


def wilson_interval(count: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for ``count`` successes out of ``total``.

    Returns ``(low, high)`` as proportions between 0 and 1, or ``None`` when
    ``total`` is 0 (no interval exists).

    >>> low, high = wilson_interval(50, 100)
    >>> round(low, 4), round(high, 4)
    (0.4038, 0.5962)
    """
    if total < 0 or count < 0 or count > total:
        raise ValueError(f"need 0 <= count <= total, got {count} of {total}")
    if total == 0:
        return None
    p = count / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = (z / denominator) * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # At the ends the interval touches 0 or 1 exactly; do not leave rounding dust.
    return (0.0 if count == 0 else low), (1.0 if count == total else high)


def normal_two_sided_p(z: float) -> float:
    """The two-sided p-value of a standard normal statistic ``z``.

    >>> round(normal_two_sided_p(Z95), 6)
    0.05
    """
    return math.erfc(abs(z) / math.sqrt(2))


def score_test_p(count: int, total: int, expected: float) -> float:
    """Two-sided p-value of the score test that a share is ``expected``.

    ``z = (p - expected) / sqrt(expected * (1 - expected) / total)``. It is the test
    Wilson's interval inverts: the 95% Wilson interval leaves out ``expected`` exactly
    when this p-value is below 0.05, so a single verdict by p-value and one by the
    interval agree. ``expected`` of 0 or 1 gives 0 when the share differs from it,
    else 1.

    >>> round(score_test_p(50, 100, 0.5), 6)
    1.0
    """
    if total <= 0 or count < 0 or count > total:
        raise ValueError(f"need 0 <= count <= total and total > 0, got {count} of {total}")
    p = count / total
    if expected <= 0 or expected >= 1:
        return 1.0 if p == expected else 0.0
    return normal_two_sided_p((p - expected) / math.sqrt(expected * (1 - expected) / total))


def holm(pvalues: Sequence[float]) -> tuple[float, ...]:
    """Holm's step-down adjusted p-values, in the order given.

    The smallest p-value is multiplied by the number of tests, the next by one fewer,
    and so on, each kept at least as large as the one before and at most 1. A test
    whose adjusted p-value is below 0.05 is a finding with a chance of 5% at most
    that any finding of the family is due to chance alone (the family-wise error
    rate), whatever the tests' dependence.

    >>> holm([0.01, 0.04, 0.03])
    (0.03, 0.06, 0.06)
    """
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: (pvalues[i], i))
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = round(running, 12)
    return tuple(adjusted)


@dataclass(frozen=True)
class OddsRatio:
    """An odds ratio with its 95% interval and the p-value of the Wald test that it is 1.

    ``corrected`` is true when 0.5 was added to every cell because one was zero.
    """

    ratio: float
    low: float
    high: float
    corrected: bool
    p: float = 1.0


def odds_ratio(a: int, b: int, c: int, d: int, z: float = Z95) -> OddsRatio | None:
    """Odds ratio of a two-by-two table with Woolf's 95% interval.

    ``a``: had the factor and the outcome; ``b``: had the factor, not the
    outcome; ``c``: without the factor, with the outcome; ``d``: neither.
    The ratio is ``(a*d) / (b*c)``; its log has standard error
    ``sqrt(1/a + 1/b + 1/c + 1/d)``. When any cell is zero, 0.5 is added to
    all four first (Haldane-Anscombe). Returns ``None`` when a whole row or
    column is empty (nobody had the factor, nobody lacked it, nobody had the
    outcome, or everybody had it): then there is nothing to compare.

    >>> r = odds_ratio(20, 10, 10, 20)
    >>> round(r.ratio, 3), round(r.low, 3), round(r.high, 3)
    (4.0, 1.367, 11.703)
    """
    if min(a, b, c, d) < 0:
        raise ValueError("cell counts cannot be negative")
    if a + b == 0 or c + d == 0 or a + c == 0 or b + d == 0:
        return None
    corrected = min(a, b, c, d) == 0
    fa, fb, fc, fd = (x + 0.5 for x in (a, b, c, d)) if corrected else (a, b, c, d)
    log_ratio = math.log(fa * fd / (fb * fc))
    se = math.sqrt(1 / fa + 1 / fb + 1 / fc + 1 / fd)
    return OddsRatio(
        ratio=math.exp(log_ratio),
        low=math.exp(log_ratio - z * se),
        high=math.exp(log_ratio + z * se),
        corrected=corrected,
        p=normal_two_sided_p(log_ratio / se),
    )
