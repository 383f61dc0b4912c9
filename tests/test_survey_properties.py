"""Random survey files never give an internal error (issue 16, point 1).

Hypothesis writes CSV files whose cells are drawn from each column's vocabulary, blanks,
repeated and combined multi-choice values and a few wrong values, with any number of
rows, councils and suppression thresholds. Reading either fails with located problems
(:class:`~sdsaudit.survey.reader.SurveyError`) or gives a summary whose every shown
figure is a proper share, and the gap checks and the three pages are made from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sdsaudit.model.loader import load_model
from sdsaudit.survey.experience import render_survey
from sdsaudit.survey.gaps import check_gaps
from sdsaudit.survey.reader import SurveyError, read_survey
from sdsaudit.survey.summary import Estimate
from tests.test_survey_read import COLUMNS, SPEC, base_row, write_csv

ROOT = Path(__file__).resolve().parent.parent
MODEL = load_model(str(ROOT / "examples" / "exampleshire" / "process.yaml"))
HELPERS = [v for v in SPEC.vocabularies["helper"] if v != "nobody"]
COUNCILS = ["Exampleshire County Council", "Otherbury", "A"]


def _cell(column) -> st.SearchStrategy[str]:
    if column.kind == "choice":
        values = list(SPEC.vocabularies[column.vocabulary])
        return st.one_of(st.sampled_from(values), st.just(""), st.sampled_from(values))
    if column.kind == "choices":
        several = st.lists(st.sampled_from(HELPERS), min_size=1, max_size=5).map(";".join)
        return st.one_of(several, st.sampled_from(["", "nobody", "nobody;nobody", "peer; peer"]))
    return st.nothing()


WRONG = st.sampled_from(["Yes", "maybe", "peer;;peer", "nobody;peer", "2025-13-40", ""])


@st.composite
def surveys(draw) -> tuple[list[dict[str, str]], int]:
    rows = []
    count = draw(st.integers(0, 40))
    for n in range(1, count + 1):
        row = base_row(n, council=draw(st.sampled_from(COUNCILS)))
        for column in SPEC.columns:
            if column.kind in ("choice", "choices") and draw(st.booleans()):
                row[column.name] = draw(_cell(column))
        if draw(st.integers(0, 30)) == 0:  # now and then a wrong value
            row[draw(st.sampled_from(COLUMNS[1:]))] = draw(WRONG)
        rows.append(row)
    return rows, draw(st.integers(1, 12))


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("survey-properties")


def _estimates(data) -> list[dict]:
    """Every estimate in survey.json."""
    found = []
    if isinstance(data, dict):
        if {"status", "count", "total", "share"} <= set(data):
            found.append(data)
        for value in data.values():
            found += _estimates(value)
    elif isinstance(data, list):
        for value in data:
            found += _estimates(value)
    return found


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(surveys())
def test_any_survey_gives_figures_or_located_problems(place, drawn):
    rows, min_group = drawn
    path = write_csv(place / "s.csv", rows)
    try:
        summary = read_survey(path, min_group=min_group, councils=(MODEL.council,))
    except SurveyError as error:
        event("refused with located problems")
        assert error.problems and all(str(p).startswith(str(path)) for p in error.problems)
        return
    event("read" if summary.respondents.shown else "read, all hidden")
    gap = check_gaps(MODEL, summary)
    assert not gap.rule_errors, gap.rule_errors
    files = render_survey(summary, gap, "test")
    data = json.loads(files["survey.json"])
    for est in _estimates(data):
        if est["status"] == "shown":
            assert 0 <= est["count"] <= est["total"]
            assert est["low"] <= est["share"] <= est["high"]
        else:
            assert est["count"] is None and est["share"] is None
    assert "R0001" not in files["survey.html"] + files["survey.md"] + files["survey.json"]
    assert isinstance(summary.overall("heard"), Estimate)
