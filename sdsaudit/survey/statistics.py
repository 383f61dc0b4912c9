"""Small, exact statistics for survey counts: pure Python, ``math`` only.

Two things are needed, both standard and both easy to check by hand:

* a 95% confidence interval for a proportion, by Wilson's score method, which
  behaves well for small groups and for shares near 0% or 100% (where the
  textbook "plus or minus 1.96 standard errors" interval goes below zero);
* an odds ratio from a two-by-two table with a 95% interval on the log scale
  (Woolf's method), adding 0.5 to every cell when one of them is zero
  (the Haldane-Anscombe correction), so that the ratio and its interval stay
  finite.
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class OddsRatio:
    """An odds ratio with its 95% interval.

    ``corrected`` is true when 0.5 was added to every cell because one was zero.
    """

    ratio: float
    low: float
    high: float
    corrected: bool


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
    )
