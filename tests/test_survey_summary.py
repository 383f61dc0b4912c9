"""Survey arithmetic: indicators, suppression, outcome odds, national comparisons, and a
planted association recovered from a generated survey."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from sdsaudit.survey.reader import read_survey
from sdsaudit.survey.spec import load_spec
from sdsaudit.survey.statistics import odds_ratio, wilson_interval
from sdsaudit.survey.summary import summarise
from sdsaudit.survey.suppression import hidden_cells, hidden_table
from sdsaudit.survey.tally import MAX_COUNCILS, Tally
from tests.test_survey_read import base_row, write_csv

ROOT = Path(__file__).resolve().parent.parent
SPEC = load_spec()
PARTS = list(SPEC.process_parts)
AREAS = list(SPEC.life_areas)


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "survey_generate", ROOT / "examples" / "survey" / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def arithmetic(tmp_path_factory):
    """20 respondents whose indicators are worked out by hand below."""
    rows = []
    for n in range(1, 21):
        row = base_row(n)
        # Heard: 1-8 fully/fully (yes); 9-14 fully/partly (no); 15-17 fully/blank and 18-20
        # blank/not_at_all left out (complete cases: a blank leaves the respondent out even
        # where the other answer would settle it). Heard = 8 of 14, 6 left out.
        if 9 <= n <= 14:
            row["views_budget"] = "partly"
        elif 15 <= n <= 17:
            row["views_budget"] = ""
        elif n >= 18:
            row.update(views_planning="", views_budget="not_at_all")
        # Knew: 1-10 yes, 11-15 no, 16-18 not_sure, 19-20 blank. Knew = 10 of 18.
        row["knew_amount"] = (
            "yes" if n <= 10 else "no" if n <= 15 else "not_sure" if n <= 18 else ""
        )
        # Easy overall: row 1 three easy (2), three difficult (3), one n/a: mean 2.5, NOT
        # easy; row 2 every part n/a: nothing applies, left out (no blank); row 3 very
        # easy, very difficult, difficult, rest blank: left out for the blanks; the rest
        # all "easy". Easy = 17 of 18, 1 left out for a blank.
        if n == 1:
            for part, rating in zip(
                PARTS, ["easy"] * 3 + ["difficult"] * 3 + ["not_applicable"], strict=True
            ):
                row[part] = rating
        elif n == 2:
            row.update(dict.fromkeys(PARTS, "not_applicable"))
        elif n == 3:
            row.update(dict.fromkeys(PARTS, ""))
            row.update({PARTS[0]: "very_easy", PARTS[1]: "very_difficult", PARTS[2]: "difficult"})
        # Simple = knew AND easy: 1 no (not easy), 2 left out (nothing applies), 3 left out
        # (blank parts), 4-10 yes, 11-18 no (did not know), 19-20 left out (knew blank).
        # Simple = 7 of 16, 3 left out for blanks.
        # Good outcome: row 1 seven better and seven same (exactly half: good); row 2 six
        # better, seven same, one n/a (6 of 13: not good); row 3 all n/a (unknown); the
        # rest all better (good). Good = 18 of 19.
        if n == 1:
            row.update({a: ("better" if i < 7 else "same") for i, a in enumerate(AREAS)})
        elif n == 2:
            row.update({a: ("better" if i < 6 else "same") for i, a in enumerate(AREAS)})
            row[AREAS[-1]] = "not_applicable"
        elif n == 3:
            row.update(dict.fromkeys(AREAS, "not_applicable"))
        rows.append(row)
    path = write_csv(tmp_path_factory.mktemp("arith") / "s.csv", rows)
    return read_survey(path)


@pytest.mark.parametrize(
    "indicator,count,total",
    [
        ("heard", 8, 14),
        ("views_planning_fully", 17, 17),
        ("views_budget_fully", 8, 17),
        ("knew_amount", 10, 18),
        ("easy_overall", 17, 18),
        ("simple", 7, 16),
        ("good_outcome", 18, 19),
        ("help_to_plan", 20, 20),
        ("spend_personal_assistants", 0, 20),
    ],
)
def test_indicator_arithmetic(arithmetic, indicator, count, total):
    est = arithmetic.overall(indicator)
    assert (est.status, est.count, est.total) == ("shown", count, total)
    assert est.share == pytest.approx(count / total)
    assert (est.low, est.high) == pytest.approx(wilson_interval(count, total))


@pytest.mark.parametrize(
    "indicator,left_out",
    [("heard", 6), ("easy_overall", 1), ("simple", 3), ("good_outcome", 0), ("knew_amount", None)],
)
def test_combined_indicators_say_how_many_a_blank_left_out(arithmetic, indicator, left_out):
    assert arithmetic.indicator(indicator).left_out == left_out


def test_ease_part_excludes_not_applicable(arithmetic):
    # Part 7 (making changes): row 1 n/a, row 2 n/a, row 3 blank; 17 rated, all "easy".
    est = arithmetic.overall(f"easy_{PARTS[6]}")
    assert (est.count, est.total) == (17, 17)
    # Part 2: row 1 easy, row 2 n/a, row 3 very difficult, rows 4-20 easy: 19 rated, 18 easy.
    est = arithmetic.overall(f"easy_{PARTS[1]}")
    assert (est.count, est.total) == (18, 19)


def test_text_of_an_estimate(arithmetic):
    # 8 of 14 = 57.1%; Wilson (32.6%, 78.6%)
    assert arithmetic.overall("heard").text() == "57% (33% to 79%)"


def rows_by_group(person: int, carer: int) -> list[dict[str, str]]:
    rows = [base_row(n, group="person") for n in range(1, person + 1)]
    rows += [base_row(1000 + n, group="carer") for n in range(1, carer + 1)]
    return rows


def test_nine_carers_are_suppressed(tmp_path):
    summary = read_survey(write_csv(tmp_path / "s.csv", rows_by_group(30, 9)))
    cells = {c.key: c for c in summary.breakdown("group").cells}
    assert cells["carer"].respondents.status == "small"
    assert cells["carer"].respondents.value is None
    assert cells["carer"].get("heard").status == "small"
    assert cells["carer"].get("heard").count is None
    # With only two groups the other one would give the carers away by subtraction.
    assert cells["person"].respondents.status == "secondary"
    assert summary.respondents.value == 39


def test_ten_carers_are_shown(tmp_path):
    summary = read_survey(write_csv(tmp_path / "s.csv", rows_by_group(30, 10)))
    cells = {c.key: c for c in summary.breakdown("group").cells}
    assert cells["carer"].respondents.value == 10
    assert cells["carer"].get("heard").count == 10
    assert cells["person"].respondents.value == 30


def test_min_group_is_configurable(tmp_path):
    path = write_csv(tmp_path / "s.csv", rows_by_group(30, 9))
    cells = {c.key: c for c in read_survey(path, min_group=9).breakdown("group").cells}
    assert cells["carer"].respondents.value == 9
    cells = {c.key: c for c in read_survey(path, min_group=31).breakdown("group").cells}
    assert cells["person"].respondents.status == "small"


def test_a_whole_survey_under_the_threshold_shows_nothing(tmp_path):
    summary = read_survey(write_csv(tmp_path / "s.csv", rows_by_group(6, 3)))
    assert summary.respondents.status == "small"
    assert all(not i.overall.shown for i in summary.indicators)
    assert all(not o.shown for o in summary.odds)
    assert all(not n.shown for _, n in summary.councils)


def test_a_figure_with_too_few_answers_is_hidden_even_in_a_big_group(tmp_path):
    rows = [base_row(n, knew_amount="" if n > 9 else "yes") for n in range(1, 41)]
    est = read_survey(write_csv(tmp_path / "s.csv", rows)).overall("knew_amount")
    assert (est.status, est.count, est.total, est.share) == ("small", None, None, None)


def test_hidden_cells_rules():
    assert hidden_cells({"a": 50, "b": 30, "c": 5}, 10) == {"c": "small", "b": "secondary"}
    assert hidden_cells({"a": 50, "b": 30, "c": 5, "d": 6}, 10) == {"c": "small", "d": "small"}
    assert hidden_cells({"a": 50, "b": 0, "c": 12}, 10) == {}
    # Two small cells that add up to fewer than ten need a third.
    assert hidden_cells({"a": 50, "b": 30, "c": 2, "d": 3}, 10) == {
        "c": "small",
        "d": "small",
        "b": "secondary",
    }


def test_hidden_table_leaves_no_hidden_cell_alone_in_a_row_or_column():
    sizes = {("p", "x"): 40, ("p", "y"): 7, ("c", "x"): 30, ("c", "y"): 25}
    assert hidden_table(sizes, 10) == {
        ("p", "y"): "small",
        ("p", "x"): "secondary",
        ("c", "y"): "secondary",
        ("c", "x"): "secondary",
    }
    sizes = {
        ("p", "x"): 40,
        ("p", "y"): 7,
        ("p", "z"): 50,
        ("c", "x"): 30,
        ("c", "y"): 8,
        ("c", "z"): 60,
    }
    # Column y is safe (7 + 8), but each row total would give its small cell away.
    assert hidden_table(sizes, 10) == {
        ("p", "y"): "small",
        ("c", "y"): "small",
        ("p", "x"): "secondary",
        ("c", "x"): "secondary",
    }


def test_odds_ratio_matches_the_two_by_two_table(tmp_path):
    # heard (fully/fully) with good outcomes: 30 heard, 20 good; 40 not heard, 12 good.
    rows = []
    for n in range(1, 71):
        heard = n <= 30
        good = n <= 20 if heard else n <= 42
        row = base_row(n, views_budget="fully" if heard else "partly")
        if not good:
            row.update(dict.fromkeys(AREAS, "same"))
        rows.append(row)
    summary = read_survey(write_csv(tmp_path / "s.csv", rows))
    odds = next(o for o in summary.odds if o.factor == "heard")
    expected = odds_ratio(20, 10, 12, 28)
    assert odds.ratio == pytest.approx(expected.ratio)  # (20*28)/(10*12) = 4.667
    assert (odds.low, odds.high) == pytest.approx((expected.low, expected.high))
    assert (odds.with_factor.count, odds.with_factor.total) == (20, 30)
    assert (odds.without_factor.count, odds.without_factor.total) == (12, 40)
    assert odds.national is not None and odds.national.figure == 2


def test_odds_ratio_is_hidden_when_a_comparison_group_is_small(tmp_path):
    rows = [base_row(n, views_budget="fully" if n <= 9 else "partly") for n in range(1, 51)]
    odds = next(
        o for o in read_survey(write_csv(tmp_path / "s.csv", rows)).odds if o.factor == "heard"
    )
    assert odds.status == "small" and odds.ratio is None
    assert odds.with_factor.count is None


def test_national_comparisons_are_labelled_and_judged_by_the_interval(arithmetic):
    by_id = {c.national.id: c for c in arithmetic.national}
    knew = by_id["poet2017-knew-amount"]
    assert (knew.national.year, knew.national.figure) == (2017, 0.5)
    assert "4,300" in knew.national.source
    assert knew.verdict == "similar"  # 10 of 18: interval 33% to 75% holds 50%
    assert by_id["poet2017-decide-spending"].verdict == "not asked"
    assert by_id["poet2014-quality-of-life"].national.year == 2014


def _evidence_table(heading_word: str) -> dict[str, tuple[str, ...]]:
    """Rows of the table in docs/evidence.md whose header starts with `heading_word`."""
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    rows: dict[str, tuple[str, ...]] = {}
    inside = False
    for line in text.splitlines():
        cells = tuple(c.strip() for c in line.strip().strip("|").split("|"))
        if line.startswith("| " + heading_word + " |"):
            inside = True
        elif inside and line.startswith("|") and not set(line) <= set("|- "):
            rows[cells[0]] = cells[1:]
        elif inside and not line.startswith("|"):
            break
    return rows


def test_every_national_figure_is_quoted_from_the_evidence_notes():
    # The project's own evidence notes (docs/evidence.md) list every national figure
    # a survey report may quote, with its id, figure and year; the two must agree exactly.
    table = _evidence_table("id")
    assert {fig.id for fig in SPEC.national} == set(table)
    for fig in SPEC.national:
        figure, year, *_ = table[fig.id]
        assert float(figure) == fig.figure, fig.id
        assert int(year) == fig.year, fig.id
    odds = _evidence_table("building block")
    assert set(SPEC.national_odds) == set(odds)
    for block, fig in SPEC.national_odds.items():
        assert float(odds[block][0]) == fig.figure, block


def test_each_national_figures_measure_and_bound_are_those_of_the_evidence_notes():
    table = _evidence_table("figure id")
    assert set(table) == {fig.id for fig in SPEC.national}
    for fig in SPEC.national:
        measure, bound = table[fig.id]
        expected = "not asked" if fig.indicator is None else fig.measure
        assert measure.startswith(expected), fig.id
        assert bound == ("a lower bound" if fig.bound == "at_least" else "a value"), fig.id


def test_planted_odds_ratio_is_recovered(tmp_path):
    generate = load_generator()
    path = tmp_path / "planted.csv"
    generate.write(path, generate.generate(10000, 11, or_heard=2.0, or_simple=1.0, or_control=1.0))
    summary = read_survey(path)
    heard = next(o for o in summary.odds if o.factor == "heard")
    assert heard.low < 2.0 < heard.high
    assert heard.low > 1.5
    simple = next(o for o in summary.odds if o.factor == "simple")
    assert simple.low < 1.0 < simple.high


def test_planted_simple_odds_ratio_of_three_is_recovered(tmp_path):
    generate = load_generator()
    path = tmp_path / "planted.csv"
    generate.write(path, generate.generate(10000, 12, or_heard=1.0, or_simple=3.0, or_control=1.0))
    simple = next(o for o in read_survey(path).odds if o.factor == "simple")
    assert simple.low < 3.0 < simple.high


# --------------------------------------------------------------------------- councils


def rows_by_council(**sizes: int) -> list[dict[str, str]]:
    rows, n = [], 0
    for council, size in sizes.items():
        for _ in range(size):
            n += 1
            rows.append(base_row(n, council=council.replace("_", " ")))
    return rows


UNNAMED = "Councils not named, each given by fewer than 10 respondents"


def test_a_council_given_by_one_respondent_is_never_named(tmp_path):
    rows = rows_by_council(Testshire=30)
    rows.append(base_row(99, council="12 Acacia Avenue, NHS 943 476 5919"))
    summary = read_survey(write_csv(tmp_path / "s.csv", rows))
    councils = dict(summary.councils)
    assert list(councils) == ["Testshire", UNNAMED]
    assert councils[UNNAMED].status == "small"
    # shown, Testshire's 30 would give the other one away by subtraction from the 31
    assert councils["Testshire"].status == "secondary"
    assert "Acacia" not in json.dumps(summary.as_dict())
    assert (
        "shown only where at least 10 respondents gave it" in dict(summary.definitions)["councils"]
    )


def test_small_councils_are_counted_together_and_shown_when_enough(tmp_path):
    singles = {f"Council_{i}": 1 for i in range(12)}
    summary = read_survey(write_csv(tmp_path / "s.csv", rows_by_council(Testshire=30, **singles)))
    councils = dict(summary.councils)
    assert list(councils) == ["Testshire", UNNAMED]
    assert councils["Testshire"].value == 30 and councils[UNNAMED].value == 12
    assert not any("Council " in name for name in councils)


def test_a_council_given_by_min_group_respondents_is_named(tmp_path):
    path = write_csv(tmp_path / "s.csv", rows_by_council(Testshire=10, Otherbury=25))
    summary = read_survey(path)
    assert [(c, n.value) for c, n in summary.councils] == [("Otherbury", 25), ("Testshire", 10)]
    assert "councils" not in dict(summary.definitions)
    assert [c for c, _ in read_survey(path, min_group=11).councils] == [
        "Otherbury",
        UNNAMED.replace("10", "11"),
    ]


def test_a_survey_under_the_threshold_names_no_council(tmp_path):
    summary = read_survey(write_csv(tmp_path / "s.csv", rows_by_council(Testshire=6)))
    assert [c for c, _ in summary.councils] == [UNNAMED]


def test_council_names_past_the_cap_are_counted_together_and_said_to_be():
    tally = Tally(source="s.csv")
    for i in range(MAX_COUNCILS + 500):
        tally.count_council(f"C{i}")
    tally.count_council("C0")  # a name already met is still counted one by one
    assert len(tally.councils) == MAX_COUNCILS and tally.councils_uncounted == 500
    tally.cells[("person", "direct_payment")] = {("n",): MAX_COUNCILS + 501}
    summary = summarise(tally, SPEC)
    ((name, count),) = summary.councils
    assert name == f"{UNNAMED} or first given after 1,000 other names"
    assert count.value == MAX_COUNCILS + 501
    text = dict(summary.definitions)["councils"]
    assert "more than 1,000 different councils" in text and "500 respondents" in text
