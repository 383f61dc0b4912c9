"""One prepared audit per model: every command builds each model's graph context once
(issue 11), and the audit holds what every output shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsaudit import api
from sdsaudit.analysis import graph
from sdsaudit.audit import prepare
from sdsaudit.model.loader import load_model
from sdsaudit.stocktake.benchmark import write_benchmark
from sdsaudit.stocktake.compare_output import compare_paths

from .models import ROOT

EXAMPLE = str(ROOT / "examples" / "exampleshire" / "process.yaml")
SURVEY = str(ROOT / "examples" / "exampleshire" / "survey.csv")


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models a graph context is built for, in order."""
    built: list[str] = []
    original = graph.Context.__init__

    def counting(self: graph.Context, model, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        built.append(model.path)
        original(self, model, *args, **kwargs)

    monkeypatch.setattr(graph.Context, "__init__", counting)
    return built


def test_report_builds_one_context_per_model(contexts: list[str], tmp_path: Path) -> None:
    api.write_reports([EXAMPLE], tmp_path / "out")
    assert len(contexts) == 1


def test_report_with_a_survey_still_builds_one(contexts: list[str], tmp_path: Path) -> None:
    api.write_reports([EXAMPLE], tmp_path / "out", survey=SURVEY)
    assert len(contexts) == 1


def test_score_builds_one(contexts: list[str]) -> None:
    api.score_output(EXAMPLE)
    assert len(contexts) == 1


def test_compare_builds_one_per_side(contexts: list[str], tmp_path: Path) -> None:
    old, new = (str(ROOT / "examples" / "exampleshire" / f"{y}.yaml") for y in (2025, 2026))
    compare_paths(old, new, out_dir=str(tmp_path / "out"))
    assert sorted(contexts) == sorted([old, new])


def test_benchmark_builds_one_per_council(contexts: list[str], tmp_path: Path) -> None:
    councils = sorted(str(p) for p in (ROOT / "examples" / "benchmark").glob("*.yaml"))
    write_benchmark(councils, tmp_path / "out")
    assert sorted(contexts) == councils


def test_the_audit_numbers_every_finding_once_in_the_order_shown() -> None:
    audit = prepare(load_model(EXAMPLE))
    assert [n.number for n in audit.numbered] == list(range(1, len(audit.numbered) + 1))
    assert {n.finding.key for n in audit.numbered} == {
        f.key for f in audit.result.findings if f.counts
    }  # waived findings are listed, not numbered
    assert {s.id for s in audit.order} == {s.id for s in audit.model.steps}
