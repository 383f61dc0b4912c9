"""The survey page and the report's Experience section in a real browser: axe-core finds no
WCAG 2.x A/AA violation, and the page reflows at 320 CSS px (no sideways scrolling)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsaudit.api import write_reports, write_survey
from tests.browser import axe_violations, format_violations, max_horizontal_overflow

ROOT = Path(__file__).resolve().parent.parent
SURVEY = str(ROOT / "examples" / "exampleshire" / "survey.csv")
MODEL = str(ROOT / "examples" / "exampleshire" / "process.yaml")


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("survey-a11y")
    write_survey(SURVEY, out / "survey", model_path=MODEL)
    write_reports([MODEL], out / "report", survey=SURVEY)
    return {"survey": out / "survey" / "survey.html", "report": out / "report" / "report.html"}


@pytest.mark.parametrize("page", ["survey", "report"])
def test_no_axe_violations(pages, page):
    violations = axe_violations(pages[page])
    assert violations == [], format_violations(violations)


@pytest.mark.parametrize("page", ["survey", "report"])
def test_reflows_at_320_pixels(pages, page):
    assert max_horizontal_overflow(pages[page], width=320) == 0
