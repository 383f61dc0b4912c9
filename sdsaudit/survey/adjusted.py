"""Adjusted odds ratios: each building block's odds of a good outcome, allowing for the
other two blocks and for how the budget is managed.

A raw odds ratio compares people who had a building block with people who did not.
When the blocks go together (people with a direct payment more often spend on
personal assistants and may also be heard more), a raw ratio mixes the blocks'
effects with each other and with the budget option. A logistic regression of a good
outcome on the three blocks and the budget option gives each block's odds ratio with
the others held level: the adjusted odds ratio.

The model is fitted by statsmodels (the optional extra ``sdsaudit[stats]``), not by
hand: a generalised linear model, binomial with the logit link, on the counts of good
and other outcomes for each combination of the three blocks and the budget option
(the same fit as one row per respondent, but the reader keeps counts only). The 95%
intervals are Wald intervals (log odds ratio plus or minus 1.96 standard errors), as
statsmodels gives them, and the p-values are the Wald tests'. Without statsmodels
the model says so, and how to install it.

Only complete cases enter the model: respondents with all three blocks, a good
outcome or not, and a budget option. A budget option held by fewer than
``min_group`` of them is left out of the model with its respondents (counted, and
said), so that no small group shapes a published figure on its own.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .statistics import Z95

BLOCK_FACTORS = ("heard", "simple", "in_control")
"""The factors the adjusted model estimates, in this order."""

INSTALL = "pip install 'sdsaudit[stats]'"
"""The command that installs the statistics library the adjusted model needs."""

METHOD = (
    "logistic regression of a good outcome on the three building blocks and the budget "
    "option (statsmodels, binomial family, logit link), with Wald 95% intervals"
)

MAX_LOG_SE = 5.0
"""A standard error of a log odds ratio above this means the data cannot pin the ratio
down (near-separation): the model is then reported as not estimable."""

Pattern = tuple[bool, bool, bool, str]
"""(heard, simple, in control, budget option) of a group of respondents."""


@dataclass(frozen=True)
class AdjustedOdds:
    """One building block's adjusted odds ratio with its Wald 95% interval, the Wald
    p-value, and (filled in by the summary) Holm's adjusted p-value and the verdict."""

    factor: str
    ratio: float
    low: float
    high: float
    p: float
    holm: float | None = None
    verdict: str = "unclear"

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "odds_ratio": round(self.ratio, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "p": round(self.p, 4),
            "holm_p": None if self.holm is None else round(self.holm, 4),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class AdjustedModel:
    """The adjusted model, or why there is none.

    ``status`` is ``shown``, ``unavailable`` (statsmodels is not installed), ``small``
    (too few respondents in a block, its absence, or an outcome) or ``not estimable``
    (the fit did not converge or a ratio cannot be pinned down).
    """

    status: str
    respondents: int = 0
    left_out: int = 0
    """Complete cases left out because their budget option had too few respondents."""
    reference: str | None = None
    options: tuple[str, ...] = ()
    odds: tuple[AdjustedOdds, ...] = ()
    reason: str = ""

    @property
    def shown(self) -> bool:
        return self.status == "shown"

    def get(self, factor: str) -> AdjustedOdds | None:
        return next((o for o in self.odds if o.factor == factor), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "method": METHOD,
            "respondents": self.respondents if self.shown else None,
            "left_out_small_options": self.left_out if self.shown else None,
            "reference_option": self.reference,
            "options": list(self.options),
            "odds": [o.as_dict() for o in self.odds],
            "reason": self.reason,
        }


def _statsmodels() -> Any:
    """statsmodels' API module, or ``None`` when the extra is not installed."""
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    return sm


def fit_adjusted(
    patterns: Mapping[Pattern, tuple[int, int]],
    min_group: int,
    options: Sequence[str],
) -> AdjustedModel:
    """Fit the adjusted model to ``patterns``: for each (heard, simple, in control,
    budget option), the numbers with a good outcome and without. ``options`` gives the
    order of the budget options (the reference is the one most respondents have)."""
    sm = _statsmodels()
    if sm is None:
        return AdjustedModel(
            "unavailable",
            reason="the adjusted odds ratios need the optional statistics library: "
            f"install it with {INSTALL} and run again",
        )
    per_option: Counter[str] = Counter()
    for (_, _, _, option), (good, other) in patterns.items():
        per_option[option] += good + other
    kept = [o for o in options if per_option[o] >= min_group]
    left_out = sum(n for o, n in per_option.items() if o not in kept)
    rows = [(key, counts) for key, counts in sorted(patterns.items()) if key[3] in kept]
    n = sum(good + other for _, (good, other) in rows)
    if not kept or not _enough(rows, min_group):
        return AdjustedModel(
            "small",
            reason=f"fewer than {min_group} respondents in a building block, its absence "
            "or an outcome, among those who answered every question the model needs",
        )
    reference = max(kept, key=lambda o: (per_option[o], -kept.index(o)))
    others = [o for o in kept if o != reference]
    design = [
        [1.0, float(h), float(s), float(c), *(float(option == o) for o in others)]
        for (h, s, c, option), _ in rows
    ]
    outcome = [[float(good), float(other)] for _, (good, other) in rows]
    fitted = _fit(sm, outcome, design)
    if fitted is None:
        return AdjustedModel(
            "not estimable",
            respondents=n,
            left_out=left_out,
            reference=reference,
            options=tuple(kept),
            reason="the model could not be fitted reliably (too few people in some "
            "combination of the building blocks and outcomes)",
        )
    estimates, errors, pvalues = fitted
    odds = []
    for i, factor in enumerate(BLOCK_FACTORS, start=1):
        log_ratio, se = estimates[i], errors[i]
        odds.append(
            AdjustedOdds(
                factor,
                math.exp(log_ratio),
                math.exp(log_ratio - Z95 * se),
                math.exp(log_ratio + Z95 * se),
                pvalues[i],
            )
        )
    return AdjustedModel(
        "shown",
        respondents=n,
        left_out=left_out,
        reference=reference,
        options=tuple(kept),
        odds=tuple(odds),
    )


def _enough(rows: list[tuple[Pattern, tuple[int, int]]], m: int) -> bool:
    """Each block present and absent, and each outcome, for at least ``m`` people."""
    for i in range(3):
        for level in (True, False):
            if sum(g + o for key, (g, o) in rows if key[i] is level) < m:
                return False
    good = sum(g for _, (g, _) in rows)
    other = sum(o for _, (_, o) in rows)
    return good >= m and other >= m


def _fit(
    sm: Any, outcome: list[list[float]], design: list[list[float]]
) -> tuple[list[float], list[float], list[float]] | None:
    """Estimates, standard errors and Wald p-values of a binomial GLM, or ``None`` when
    the fit fails, warns of separation or non-convergence, or cannot pin a block down."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = sm.GLM(outcome, design, family=sm.families.Binomial()).fit()
        except Exception:  # noqa: BLE001 - any failure of the fit is "not estimable"
            return None
    if any(_is_fit_warning(w.category) for w in caught):
        return None
    estimates = [float(x) for x in result.params]
    errors = [float(x) for x in result.bse]
    pvalues = [float(x) for x in result.pvalues]
    numbers = estimates + errors + pvalues
    if not all(math.isfinite(x) for x in numbers) or max(errors[1:4]) > MAX_LOG_SE:
        return None
    if not getattr(result, "converged", True):
        return None
    return estimates, errors, pvalues


def _is_fit_warning(category: type[Warning]) -> bool:
    """A warning that says the fit is not to be trusted (separation, no convergence)."""
    name = category.__name__
    return "Separation" in name or "Convergence" in name or "HessianInversion" in name
