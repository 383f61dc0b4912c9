"""Survey statistics on data with a planted truth (issue 16): each figure recovers the value
the data were drawn from, where the old rules did not.

Each test draws respondents from known probabilities with a fixed seed
(``tests/survey_truth.py``), runs the real reader and summary on the CSV, and compares
the estimate with the planted value. Suppression (point 6) has its own file,
``tests/test_survey_suppression.py``.
"""

from __future__ import annotations

import html
import json
import math
import random
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.api import write_survey
from sdsaudit.cli import main
from sdsaudit.model.loader import load_model
from sdsaudit.survey.experience import render_survey, survey_text
from sdsaudit.survey.gaps import check_gaps
from sdsaudit.survey.reader import read_survey
from sdsaudit.survey.statistics import holm, score_test_p, wilson_interval
from sdsaudit.survey.summary import pct_beside
from tests.survey_truth import blank_out, logistic, respondent, save
from tests.test_survey_gaps import summary_with
from tests.test_survey_read import base_row

ROOT = Path(__file__).resolve().parent.parent
EXAMPLESHIRE = ROOT / "examples" / "exampleshire" / "process.yaml"
COUNCIL = "Exampleshire County Council"


def share_of(rows, rule) -> tuple[int, int]:
    """(yes, counted) of a per-row rule returning True, False or None (left out)."""
    values = [rule(r) for r in rows]
    return sum(v is True for v in values), sum(v is not None for v in values)


# --------------------------------------------------------------------------- 1. repeats


def test_a_repeated_value_is_counted_once_and_the_outputs_say_so(tmp_path):
    # Planted: 43% had a council worker; a tick-box export repeats each mention 1 to 3
    # times ("council_worker;council_worker;peer"). Counting mentions raised the share to
    # 96% in the independent check; counted once, it is the planted 43%.
    rng = random.Random(1601)
    rows, helped, repeated = [], 0, 0
    for n in range(1, 301):
        council_worker = rng.random() < 0.43
        helped += council_worker
        helpers = ["council_worker" if council_worker else "independent_organisation"]
        if rng.random() < 0.3:
            helpers.append("peer")
        mentions = [h for h in helpers for _ in range(rng.randint(1, 3))]
        rng.shuffle(mentions)
        repeated += len(mentions) > len(set(mentions))
        rows.append(base_row(n, help_from=";".join(mentions)))
    summary = read_survey(save(tmp_path / "s.csv", rows))
    spread = next(d for d in summary.answers if d.id == "help_from")
    est = {value: e for value, _, e in spread.values}["council_worker"]
    assert (est.count, est.total) == (helped, 300)
    assert est.low < 0.43 < est.high
    assert repeated > 100 and dict(summary.repeated) == {"help_from": repeated}
    note = dict(summary.definitions)["repeated_values"]
    assert f"{repeated} respondents in help_from" in note and "counted once" in note


def test_more_mentions_than_respondents_is_no_internal_error(tmp_path):
    rows = [base_row(n, help_from="peer;peer;peer;peer") for n in range(1, 21)]
    path = save(tmp_path / "s.csv", rows)
    result = CliRunner().invoke(main, ["survey", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    data = json.loads((tmp_path / "out" / "survey.json").read_text())
    (spread,) = [a for a in data["survey"]["answers"] if a["id"] == "help_from"]
    (peer,) = [v for v in spread["values"] if v["value"] == "peer"]
    assert (peer["count"], peer["total"], peer["share"]) == (20, 20, 1.0)


def test_an_empty_value_between_semicolons_is_located(tmp_path):
    path = save(tmp_path / "s.csv", [base_row(1, help_from="peer;;provider")])
    result = CliRunner().invoke(main, ["survey", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    column = list(base_row(1)).index("help_from") + 1
    assert f"{path}:2:{column}: error: help_from has an empty value between semicolons" in (
        result.output
    )


# --------------------------------------------------------------------------- 2. blanks


def _old_heard(row):
    """The old rule: an answer that settles it settles it, even beside a blank."""
    said = [row[c] for c in ("views_planning", "views_budget")]
    if any(v and v != "fully" for v in said):
        return False
    return None if "" in said else True


def _old_spend(row):
    said = [row[c] for c in ("spend_personal_assistants", "spend_community_leisure")]
    if "yes" in said:
        return True
    return None if "" in said else False


@pytest.fixture(scope="module")
def blanked(tmp_path_factory):
    """20,000 respondents: heard 36.4%, spending on personal assistants or community
    life 36.9%, help to plan 60% (so in control 22.1%); then 20% of the views and help
    answers and 10% of the spending answers left blank at random."""
    rng = random.Random(1602)
    fully = math.sqrt(0.364)
    rows = []
    for n in range(1, 20_001):
        rows.append(
            base_row(
                n,
                views_planning="fully" if rng.random() < fully else "partly",
                views_budget="fully" if rng.random() < fully else "not_at_all",
                spend_personal_assistants="yes" if rng.random() < 0.18 else "no",
                spend_community_leisure="yes" if rng.random() < 0.23 else "no",
                help_to_plan="yes" if rng.random() < 0.6 else "no",
            )
        )
    rows = blank_out(rows, ["views_planning", "views_budget", "help_to_plan"], 0.2, rng)
    rows = blank_out(rows, ["spend_personal_assistants", "spend_community_leisure"], 0.1, rng)
    path = save(tmp_path_factory.mktemp("blanks") / "s.csv", rows)
    return rows, read_survey(path)


SPEND_TRUTH = 1 - 0.82 * 0.77  # 0.3686
CASES = [
    ("heard", 0.364, _old_heard, ("views_planning", "views_budget")),
    (
        "spend_pa_or_community",
        SPEND_TRUTH,
        _old_spend,
        ("spend_personal_assistants", "spend_community_leisure"),
    ),
    (
        "in_control",
        0.6 * SPEND_TRUTH,
        None,
        ("help_to_plan", "spend_personal_assistants", "spend_community_leisure"),
    ),
]


@pytest.mark.parametrize("indicator,truth,old_rule,columns", CASES)
def test_complete_cases_recover_the_planted_share(blanked, indicator, truth, old_rule, columns):
    rows, summary = blanked
    est = summary.overall(indicator)
    assert est.low < truth < est.high, (indicator, est.share, truth)
    left_out = sum(any(not r[c] for c in columns) for r in rows)
    assert summary.indicator(indicator).left_out == left_out
    assert est.total == len(rows) - left_out
    if old_rule is not None:
        # the old rule's share misses the planted value by far more than chance allows
        yes, counted = share_of(rows, old_rule)
        low, high = wilson_interval(yes, counted)
        assert not low < truth < high, (indicator, yes / counted, truth)
        assert abs(yes / counted - truth) > 0.02


def test_the_page_says_how_many_blanks_left_out(blanked):
    _, summary = blanked
    page = render_survey(summary, None, "test")["survey.md"]
    n = summary.indicator("heard").left_out
    assert f"{n:,} respondents left blank a question this combines and are not counted" in page


# --------------------------------------------------------------------------- 3. adjusted odds


@pytest.fixture(scope="module")
def confounded(tmp_path_factory):
    """8,000 respondents: a direct payment triples the odds of a good outcome and goes
    with being heard (60% against 20%) and in control; being heard itself changes
    nothing (odds ratio 1), knowing the amount and an easy process triples the odds,
    being in control multiplies them by 1.5."""
    rng = random.Random(1603)
    rows = []
    for n in range(1, 8_001):
        direct = rng.random() < 0.4
        heard = rng.random() < (0.6 if direct else 0.2)
        simple = rng.random() < 0.4
        control = rng.random() < (0.5 if direct else 0.1)
        chance = logistic(
            -1.0,
            math.log(1.0) * heard,
            math.log(3.0) * simple,
            math.log(1.5) * control,
            math.log(3.0) * direct,
        )
        rows.append(
            respondent(
                n,
                heard=heard,
                simple=simple,
                control=control,
                good=rng.random() < chance,
                budget_option="direct_payment" if direct else "council_managed",
            )
        )
    return save(tmp_path_factory.mktemp("confounded") / "s.csv", rows)


def test_adjusted_odds_ratios_recover_the_planted_ones(confounded):
    summary = read_survey(confounded)
    raw = {o.factor: o for o in summary.odds}
    model = summary.adjusted
    assert model is not None and model.status == "shown"
    assert model.respondents == 8000 and model.reference == "council_managed"
    # The raw ratio for being heard is confounded by the budget option ...
    assert raw["heard"].low > 1.3 and raw["heard"].verdict == "higher"
    # ... the adjusted one is the planted 1, and the others their planted values.
    heard, simple, control = (model.get(f) for f in ("heard", "simple", "in_control"))
    assert heard.low < 1.0 < heard.high and heard.verdict == "unclear"
    assert simple.low < 3.0 < simple.high and simple.verdict == "higher"
    assert control.low < 1.5 < control.high
    # Wald intervals: symmetric on the log scale
    assert math.log(simple.ratio) - math.log(simple.low) == pytest.approx(
        math.log(simple.high) - math.log(simple.ratio)
    )
    page = render_survey(summary, None, "test")["survey.md"]
    assert "logistic regression" in page and "Wald 95% intervals" in page
    assert f"It uses the {8000:,} respondents" in page


def test_without_statsmodels_the_page_says_how_to_get_adjusted_odds(confounded, monkeypatch):
    for name in [m for m in sys.modules if m == "statsmodels" or m.startswith("statsmodels.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "statsmodels", None)  # import statsmodels fails
    monkeypatch.setitem(sys.modules, "statsmodels.api", None)
    summary = read_survey(confounded)
    assert summary.adjusted is not None and summary.adjusted.status == "unavailable"
    assert summary.odds[0].shown  # the raw figures do not need it
    files = render_survey(summary, None, "test")
    assert "pip install 'sdsaudit[stats]'" in html.unescape(files["survey.html"])
    assert r"pip install 'sdsaudit\[stats\]'" in files["survey.md"]  # Markdown's escapes
    assert json.loads(files["survey.json"])["survey"]["adjusted_odds"]["status"] == "unavailable"
    assert "install the statistics library (pip install 'sdsaudit[stats]')" in survey_text(
        summary, None
    )


# --------------------------------------------------------------------------- 4. like for like


def _national_survey(tmp_path, knew: float, fully: float, quality: float, seed: int):
    rng = random.Random(seed)
    rows = []
    for n in range(1, 1001):
        views = rng.random()
        rows.append(
            base_row(
                n,
                knew_amount="yes" if rng.random() < knew else "no",
                views_planning="fully"
                if views < fully
                else ("partly" if views < fully + 0.35 else "not_at_all"),
                outcome_quality_of_life="better" if rng.random() < quality else "same",
            )
        )
    return read_survey(save(tmp_path / f"n{seed}.csv", rows))


def test_national_figures_are_compared_like_for_like(tmp_path):
    # Planted: 30% knew their amount (POET: half), 45% "fully" and 35% "partly" included
    # (POET counted "fully or mostly": 80%), 95% better quality of life (POET: more than 80%).
    summary = _national_survey(tmp_path, knew=0.30, fully=0.45, quality=0.95, seed=1604)
    verdicts = {c.national.id: c for c in summary.national}
    assert verdicts["poet2017-knew-amount"].verdict == "lower"
    views = verdicts["poet2017-views-planning"]
    assert views.verdict == "different measure" and views.holm is None
    assert views.local is not None and views.local.share < 0.5  # "lower" by the old rule
    assert verdicts["poet2017-information"].verdict == "different measure"
    # a lower bound ("more than 80%") can show a council lower, never higher
    assert verdicts["poet2014-quality-of-life"].verdict == "not lower"
    page = render_survey(summary, None, "test")["survey.md"]
    row = next(line for line in page.splitlines() if line.startswith("| 80% said their views"))
    assert "A different measure: not compared" in row and "Lower" not in row
    assert "counted, fully or mostly" in row and "Share answering" in row  # both definitions


def test_same_measure_figures_can_be_similar_or_lower(tmp_path):
    summary = _national_survey(tmp_path, knew=0.50, fully=0.45, quality=0.60, seed=1605)
    verdicts = {c.national.id: c.verdict for c in summary.national}
    assert verdicts["poet2017-knew-amount"] == "similar"
    assert verdicts["poet2014-quality-of-life"] == "lower"


# --------------------------------------------------------------------------- 5. Holm


def test_gap_rules_keep_the_family_wise_error_rate(monkeypatch):
    # Planted: every figure exactly at its threshold (the process works as written), 300
    # respondents each, 400 surveys. Five of Exampleshire's claims are tested per run.
    model = load_model(str(EXAMPLESHIRE))
    from sdsaudit.analysis.graph import Context

    context = Context(model)
    thresholds = {
        "knew_amount": 0.60,
        "views_planning_fully": 0.50,
        "council_managed": 0.80,
        "easy_ease_information": 0.50,
        "spend_pa_or_community": 0.20,
    }
    rng = random.Random(1605)
    with_holm = without = 0
    for _ in range(400):
        figures = {
            ind: (sum(rng.random() < t for _ in range(300)), 300) for ind, t in thresholds.items()
        }
        result = check_gaps(model, summary_with(**figures), context=context)
        with_holm += bool(result.findings)
        # the unadjusted rule: each figure's own 95% interval on the wrong side
        without += any(
            score_test_p(c, n, thresholds[ind]) < 0.05
            and (c / n > thresholds[ind] if ind == "council_managed" else c / n < thresholds[ind])
            for ind, (c, n) in figures.items()
        )
    assert with_holm / 400 <= 0.05
    assert without / 400 > 0.08 and without > 2 * with_holm


def test_a_borderline_gap_alone_is_found_but_not_among_five_checks():
    model = load_model(str(EXAMPLESHIRE))
    # 153 of 300 knew (51%): score test against 60% gives p about 0.001 alone; choose one
    # just clear: the largest count whose p is between 0.01 and 0.05
    count = max(c for c in range(300) if 0.01 < score_test_p(c, 300, 0.6) < 0.05 and c < 180)
    alone = {
        ind: "small"
        for ind in (
            "views_planning_fully",
            "council_managed",
            "easy_ease_information",
            "spend_pa_or_community",
        )
    }
    result = check_gaps(model, summary_with(knew_amount=(count, 300), **alone))
    assert [f.rule for f in result.findings] == ["GAP-01"]
    assert "after Holm's adjustment for the 1 check made" in result.findings[0].message
    # Among four more checks that are on the right side but not clearly so, it is not clear.
    fine = {
        "views_planning_fully": (155, 300),
        "council_managed": (235, 300),
        "easy_ease_information": (155, 300),
        "spend_pa_or_community": (63, 300),
    }
    result = check_gaps(model, summary_with(knew_amount=(count, 300), **fine))
    check = next(c for c in result.checks if c.rule == "GAP-01")
    assert result.findings == () and check.status == "unclear"
    assert check.holm == pytest.approx(min(1.0, 5 * check.p))
    assert result.tests == 5 and result.as_dict()["tests"] == 5


def test_odds_ratio_verdicts_are_holm_adjusted(confounded):
    summary = read_survey(confounded)
    shown = [o for o in summary.odds if o.shown]
    assert [o.holm for o in shown] == list(holm([o.p for o in shown]))
    for o in shown:
        assert o.verdict == ("unclear" if o.holm >= 0.05 else "higher" if o.ratio > 1 else "lower")
    page = render_survey(summary, None, "test")["survey.md"]
    assert f"A clear difference allows for the {len(shown)} odds ratios" in page


# --------------------------------------------------------------------------- 7. smaller


def test_haldane_correction_and_tiny_ratios_are_marked(tmp_path):
    # Planted: nobody who spends on traditional services has a good outcome, everybody
    # else does (a zero cell: Haldane's 0.5 is added), and the ratio is tiny.
    rows = []
    for n in range(1, 201):
        traditional = n <= 100
        row = respondent(n, good=not traditional)
        row["spend_traditional_services"] = "yes" if traditional else "no"
        rows.append(row)
    summary = read_survey(save(tmp_path / "s.csv", rows))
    odds = next(o for o in summary.odds if o.factor == "spend_traditional_services")
    assert odds.corrected and odds.ratio < 0.001
    assert odds.text().startswith("less than 0.01 (less than 0.01 to")
    files = render_survey(summary, None, "test")
    for name in ("survey.md", "survey.html"):
        text = html.unescape(files[name])
        assert "0.0 (0.0 to 0.0)" not in text and "0.0 (" not in text
        assert "less than 0.01 (less than 0.01 to" in text
        assert "(0.5 added to each count, as one was zero)" in text
        assert "(Haldane-Anscombe): Spent on traditional services." in text


def test_gap_message_never_rounds_a_bound_onto_the_threshold():
    # Planted: a share whose upper bound is 49.8%, against "at least 50%".
    count, total = next(
        (c, 1000)
        for c in range(400, 500)
        if 0.4975 <= wilson_interval(c, 1000)[1] < 0.4985  # type: ignore[index]
    )
    others = dict.fromkeys(
        ("knew_amount", "council_managed", "easy_ease_information", "spend_pa_or_community"),
        "small",
    )
    result = check_gaps(
        load_model(str(EXAMPLESHIRE)),
        summary_with(views_planning_fully=(count, total), **others),
    )
    (finding,) = [f for f in result.findings if f.rule == "GAP-02"]
    assert " to 49.8%, 1,000 people" in finding.message
    assert "to 50%" not in finding.message and "at least 50%" in finding.message
    assert pct_beside(0.4999, 0.5) == "49.99%" and pct_beside(0.5001, 0.5) == "50.01%"


def _two_councils(tmp_path, ours: str = COUNCIL) -> Path:
    # Planted: 70% of our council's 300 knew their amount, 20% of Otherbury's 300; pooled,
    # 45% would contradict a model that tells everyone (GAP-01 expects at least 60%).
    rng = random.Random(1607)
    rows = []
    for n in range(1, 601):
        council = ours if n <= 300 else "Otherbury"
        knew = rng.random() < (0.7 if n <= 300 else 0.2)
        rows.append(base_row(n, council=council, knew_amount="yes" if knew else "no"))
    return save(tmp_path / "pooled.csv", rows)


def test_a_pooled_file_is_filtered_to_the_models_council(tmp_path):
    path = _two_councils(tmp_path)
    run = write_survey(str(path), tmp_path / "out", model_path=str(EXAMPLESHIRE))
    data = json.loads((tmp_path / "out" / "survey.json").read_text())
    gaps = data["gaps"]
    assert (gaps["basis"], gaps["respondents"]) == ("council", 300)
    (check,) = [c for c in gaps["checks"] if c["rule"] == "GAP-01"]
    assert check["status"] == "consistent" and check["survey"]["total"] == 300
    assert check["survey"]["low"] < 0.7 < check["survey"]["high"]
    assert data["survey"]["pooled"] is True
    pooled = next(i for i in data["survey"]["indicators"] if i["id"] == "knew_amount")
    assert pooled["overall"]["high"] < 0.6  # the pooled figure alone would be a gap
    assert f"these checks use only the 300 respondents who named {COUNCIL}" in run.text


def test_a_pooled_file_without_the_models_council_says_it_is_pooled(tmp_path):
    path = _two_councils(tmp_path, ours="Thirdshire")
    write_survey(str(path), tmp_path / "out", model_path=str(EXAMPLESHIRE))
    page = (tmp_path / "out" / "survey.md").read_text()
    assert "these checks use all 600 respondents in the file (pooled)" in page
    data = json.loads((tmp_path / "out" / "survey.json").read_text())
    assert data["gaps"]["basis"] == "pooled"


def test_a_councils_figure_is_hidden_where_the_rest_of_the_file_is_small(tmp_path):
    rows = [base_row(n, council=COUNCIL) for n in range(1, 101)]
    rows += [base_row(100 + n, council="Otherbury") for n in range(1, 13)]
    for row in rows[100:105]:
        row["knew_amount"] = ""  # Otherbury: 7 answered knew_amount
    summary = read_survey(save(tmp_path / "s.csv", rows), councils=(COUNCIL,))
    own, basis = summary.for_council(COUNCIL)
    assert basis == "council"
    assert own.overall("knew_amount").status == "secondary"  # 107 - 100 = 7 others
    assert own.overall("views_planning_fully").shown  # 12 others answered it


def test_each_models_report_uses_its_own_councils_answers(tmp_path):
    from sdsaudit.api import write_reports

    path = _two_councils(tmp_path)
    other = tmp_path / "otherbury.yaml"
    other.write_text(
        EXAMPLESHIRE.read_text().replace(f"council: {COUNCIL}", "council: Otherbury"),
        encoding="utf-8",
    )
    write_reports([str(EXAMPLESHIRE), str(other)], tmp_path / "out", survey=str(path))
    status = {}
    for folder in sorted((tmp_path / "out").iterdir()):
        (entry,) = json.loads((folder / "report.json").read_text())["models"]
        gaps = entry["survey"]["gaps"]
        assert (gaps["basis"], gaps["respondents"]) == ("council", 300)
        (check,) = [c for c in gaps["checks"] if c["rule"] == "GAP-01"]
        status[gaps["council"]] = check["status"]
    # planted: 70% of ours knew their amount, 20% of Otherbury's
    assert status == {COUNCIL: "consistent", "Otherbury": "gap"}
