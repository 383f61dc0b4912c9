"""Accessibility of the stock-take page in a real browser (axe-core, 320 px reflow)."""

from __future__ import annotations

import pytest

from sdsaudit.stocktake.compare import compare_files
from sdsaudit.stocktake.compare_output import render_comparison
from tests.browser import axe_violations, format_violations, max_horizontal_overflow

from .models import ROOT

EXAMPLESHIRE = ROOT / "examples" / "exampleshire"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    comparison, new = compare_files(
        str(EXAMPLESHIRE / "2025.yaml"), str(EXAMPLESHIRE / "2026.yaml")
    )
    path = tmp_path_factory.mktemp("compare") / "compare.html"
    path.write_text(render_comparison(comparison, new.model).html, encoding="utf-8")
    return path


def test_axe_finds_nothing(page):
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)


def test_axe_on_a_phone(page):
    violations = axe_violations(page, width=320, height=700)
    assert violations == [], format_violations(violations)


def test_no_horizontal_scroll_at_320px(page):
    assert max_horizontal_overflow(page, width=320) == 0
