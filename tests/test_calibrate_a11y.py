"""calibration.html and the report's section "The process as recorded" in a real browser:
axe-core finds no WCAG 2.x A/AA violation, and the page reflows at 320 CSS px."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsaudit.api import write_calibration, write_reports
from tests.browser import axe_violations, format_violations, max_horizontal_overflow

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parent.parent
MODEL = str(ROOT / "examples" / "exampleshire" / "process.yaml")
EVENTS = str(ROOT / "examples" / "calibrate" / "events.csv")
CLD = str(ROOT / "examples" / "calibrate" / "cld.csv")
MAP = str(ROOT / "examples" / "calibrate" / "map.yaml")


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("calibrate-a11y")
    write_calibration(MODEL, EVENTS, MAP, out_dir=out / "cal")
    write_calibration(MODEL, CLD, preset="cld", group="Group", out_dir=out / "cld")
    write_reports([MODEL], out / "report", calibration=str(out / "cal"))
    return {
        "calibration": out / "cal" / "calibration.html",
        "cld": out / "cld" / "calibration.html",
        "report": out / "report" / "report.html",
    }


@pytest.mark.parametrize("page", ["calibration", "cld", "report"])
def test_no_axe_violations(pages, page):
    violations = axe_violations(pages[page])
    assert violations == [], format_violations(violations)


@pytest.mark.parametrize("page", ["calibration", "report"])
def test_reflows_at_320_pixels(pages, page):
    assert max_horizontal_overflow(pages[page], width=320) == 0
