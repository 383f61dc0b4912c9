"""Surveys with a planted truth, for the survey statistics tests (issue 16).

Each respondent is drawn from known probabilities with a fixed seed, so a test knows
the value the analysis should recover. :func:`respondent` turns the building blocks a
respondent truly has into answers the reader works them out from; :func:`blank_out`
then leaves answers blank at random.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from pathlib import Path

from tests.test_survey_read import COLUMNS, SPEC, base_row, write_csv

PARTS = list(SPEC.process_parts)
AREAS = list(SPEC.life_areas)
OPTIONS = list(SPEC.vocabularies["budget_option"])


def respondent(
    n: int,
    *,
    heard: bool = True,
    simple: bool = True,
    control: bool = True,
    good: bool = True,
    **changes: str,
) -> dict[str, str]:
    """A respondent whose building blocks and outcome are exactly the ones given."""
    row = base_row(n)
    row.update(
        views_planning="fully",
        views_budget="fully" if heard else "partly",
        knew_amount="yes" if simple else "no",
        help_to_plan="yes" if control else "no",
        help_from="council_worker" if control else "nobody",
        spend_personal_assistants="yes" if control else "no",
        spend_community_leisure="no",
    )
    row.update(dict.fromkeys(AREAS, "better" if good else "same"))
    row.update(changes)
    return row


def logistic(*terms: float) -> float:
    """The chance from a sum of log odds."""
    return 1 / (1 + math.exp(-sum(terms)))


def blank_out(
    rows: Iterable[dict[str, str]], columns: Iterable[str], rate: float, rng: random.Random
) -> list[dict[str, str]]:
    """Each answer in ``columns`` left blank with chance ``rate``, independently (missing
    completely at random)."""
    columns = list(columns)
    out = []
    for row in rows:
        row = dict(row)
        for column in columns:
            if rng.random() < rate:
                row[column] = ""
        out.append(row)
    return out


def save(path: Path, rows: list[dict[str, str]]) -> Path:
    return write_csv(path, rows, COLUMNS)
