"""The effect of blank answers on the survey's combined indicators (issue 16).

    python benchmarks/survey_blanks.py            # 20,000 respondents, seed 7
    python benchmarks/survey_blanks.py 5000 11    # chosen size and seed

Generates a survey with no blanks (examples/survey/generate.py, ``missing=0``), works out
each combined indicator on it (the truth for these respondents), then leaves 5%, 10%
and 20% of every answer blank at random and works the indicators out again two ways:

* the old rule (before issue 16): an answer that settles a combination settles it even
  beside a blank ("partly" makes a respondent not heard whatever the other answer), and
  easy overall and good outcome use whichever parts and life areas were answered;
* complete cases (what ``sdsaudit survey`` does): a respondent who left any answer an
  indicator combines blank is left out of it.

It prints, for each indicator and rate, the share without blanks, each rule's share and
its difference from the truth in percentage points, and the share of respondents that
complete cases leave out. docs/survey.md quotes the figures.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "survey"))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402

from sdsaudit.survey.reader import read_survey  # noqa: E402

INDICATORS = ("heard", "simple", "in_control", "spend_pa_or_community", "good_outcome")
RATES = (0.05, 0.10, 0.20)
FIXED = {"respondent_id", "council", "survey_date", "group", "budget_option", "comment"}
SCORE = {"very_easy": 1, "easy": 2, "difficult": 3, "very_difficult": 4}


def _and(*values):
    if False in values:
        return False
    return None if None in values else True


def _or(*values):
    if True in values:
        return True
    return None if None in values else False


def old_rule(row: dict[str, str]) -> dict[str, bool | None]:
    """The indicators as sdsaudit worked them out before issue 16."""

    def said(column: str, yes: str) -> bool | None:
        value = row[column]
        return None if not value or value == "not_applicable" else value == yes

    heard = _and(said("views_planning", "fully"), said("views_budget", "fully"))
    scores = [SCORE[row[p]] for p in generate.PARTS if row[p] in SCORE]
    easy = (sum(scores) / len(scores) < 2.5) if scores else None
    simple = _and(said("knew_amount", "yes"), easy)
    spend = _or(said("spend_personal_assistants", "yes"), said("spend_community_leisure", "yes"))
    control = _and(said("help_to_plan", "yes"), spend)
    answered = [row[a] for a in generate.AREAS if row[a] and row[a] != "not_applicable"]
    good = (answered.count("better") >= 0.5 * len(answered)) if answered else None
    return {
        "heard": heard,
        "simple": simple,
        "in_control": control,
        "spend_pa_or_community": spend,
        "good_outcome": good,
    }


def share(values: list[bool | None]) -> float:
    counted = [v for v in values if v is not None]
    return sum(counted) / len(counted)


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 20_000
    seed = int(argv[1]) if len(argv) > 1 else generate.SEED
    rows = list(generate.generate(n, seed, missing=0.0))
    answers = [c for c in generate.COLUMNS if c not in FIXED]
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.csv"
        generate.write(full, iter(rows))
        truth = {i: read_survey(full).overall(i).share for i in INDICATORS}
        print(f"{n:,} respondents, seed {seed}; shares in %, differences in percentage points")
        print(
            f"{'indicator':<22} {'blanks':>6} {'no blanks':>9} {'old rule':>9} {'diff':>6} "
            f"{'complete':>9} {'diff':>6} {'left out':>9}"
        )
        for indicator in INDICATORS:
            for rate in RATES:
                rng = random.Random(seed * 1000 + int(rate * 100))
                blanked = [
                    {c: ("" if c in answers and rng.random() < rate else v) for c, v in r.items()}
                    for r in rows
                ]
                path = Path(tmp) / "blanked.csv"
                generate.write(path, iter(blanked))
                summary = read_survey(path)
                est = summary.indicator(indicator)
                old = share([old_rule(r)[indicator] for r in blanked])
                new = est.overall.share or 0.0
                t = truth[indicator] or 0.0
                print(
                    f"{indicator:<22} {rate:>6.0%} {t * 100:>9.1f} {old * 100:>9.1f} "
                    f"{(old - t) * 100:>+6.1f} {new * 100:>9.1f} {(new - t) * 100:>+6.1f} "
                    f"{(est.left_out or 0) / n:>9.0%}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
