"""sdsaudit calibrate on a generated log with planted truth: every planted difference is
reported, observed medians are within sampling error of the planted ones, planted shares lie
inside their intervals; the patch is a valid scenario for whatif; no case id is written."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.api import write_calibration, write_reports
from sdsaudit.calibrate.calibration import Calibration
from sdsaudit.calibrate.patch import patch_text
from sdsaudit.calibrate.run import calibrate
from sdsaudit.cli import main
from sdsaudit.model.loader import load_model
from sdsaudit.stocktake.patch import parse_patch
from sdsaudit.stocktake.patch_apply import apply_patch_text

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parent.parent
MODEL = str(ROOT / "examples" / "exampleshire" / "process.yaml")
SEED = 20260401
CASES = 3000


def generator():
    spec = importlib.util.spec_from_file_location(
        "calgen", ROOT / "examples" / "calibrate" / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = generator()


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, Path, Calibration]:
    folder = tmp_path_factory.mktemp("calibrate")
    log, mapping = folder / "events.csv", folder / "map.yaml"
    GEN.write(log, CASES, SEED)
    mapping.write_text(GEN.map_text(), encoding="utf-8")
    return log, mapping, calibrate(MODEL, str(log), str(mapping)).calibration


def step(cal: Calibration, sid: str):
    return next(s for s in cal.steps if s.step == sid)


def arrow(cal: Calibration, a: str, b: str):
    return next(t for t in (*cal.transitions, *cal.unmodelled) if (t.source, t.target) == (a, b))


def median_error(n: int) -> float:
    """About 3 standard errors of the median of a log-normal (spread 0.35) in days per day of
    median, plus a day for whole-day dates."""
    return 3 * 1.2533 * GEN.SPREAD / math.sqrt(n)


def test_the_slower_step_is_found_and_its_median_recovered(planted):
    *_, cal = planted
    assessment = step(cal, "assessment")
    assert assessment.model_outside == "below"  # the model's 21 days are under the middle half
    assert assessment.basis == "own start and end"
    planted_median = GEN.PLANTED["assessment_median_days"]
    assert (
        abs(assessment.median_days - planted_median)
        <= planted_median * median_error(assessment.cases) + 1
    )


@pytest.mark.parametrize(
    "sid",
    [
        "first_contact",
        "eligibility",
        "indicative_budget",
        "planning",
        "sign_off",
        "financial_assessment",
        "arrange",
    ],
)
def test_steps_as_modelled_have_the_models_median_and_are_not_flagged(planted, sid):
    *_, cal = planted
    fig = step(cal, sid)
    planted_median = GEN.MEDIAN_DAYS[sid]
    assert abs(fig.median_days - planted_median) <= planted_median * median_error(fig.cases) + 1
    assert fig.model_outside is None


def test_the_share_that_differs_is_found_and_the_planted_share_is_inside_its_interval(planted):
    *_, cal = planted
    signposted = arrow(cal, "eligibility", "signposted")
    assert signposted.modelled
    assert signposted.share_low <= GEN.PLANTED["signposted_share"] <= signposted.share_high
    assert signposted.model_share == pytest.approx(0.15)
    assert signposted.model_inside is False


def test_shares_as_modelled_agree(planted):
    *_, cal = planted
    panel = arrow(cal, "sign_off", "panel_review")
    assert panel.share_low <= GEN.PLANTED["panel_share"] <= panel.share_high
    assert panel.model_inside is True
    sent_back = arrow(cal, "panel_review", "planning")
    assert sent_back.share_low <= GEN.PLANTED["panel_sends_back"] <= sent_back.share_high


def test_the_transition_the_model_lacks_is_reported(planted):
    *_, cal = planted
    lacking = arrow(cal, "first_contact", "signposted")
    assert not lacking.modelled
    assert lacking.share_low <= GEN.PLANTED["signposted_at_contact"] <= lacking.share_high
    doc = cal.as_dict()
    assert {"from": "first_contact", "to": "signposted"}.items() <= doc["unmodelled"][
        0
    ].items() or any(
        u["from"] == "first_contact" and u["to"] == "signposted" for u in doc["unmodelled"]
    )
    assert any(d.source == "first_contact" and d.target == "signposted" for d in cal.deviations)


def test_the_contribution_known_late_is_the_planted_share(planted):
    *_, cal = planted
    late = cal.overall.contribution_late
    assert late.low <= GEN.PLANTED["contribution_late_share"] <= late.high
    assert cal.model_contribution_late  # the model itself has SEQ-04


def test_the_share_following_the_model_is_as_planted(planted):
    *_, cal = planted
    p = GEN.PLANTED
    expected = (1 - p["signposted_at_contact"]) * (
        p["signposted_share"] + (1 - p["signposted_share"]) * p["contribution_late_share"]
    )
    assert cal.overall.fitting.low <= expected <= cal.overall.fitting.high


def test_groups_are_reported(planted):
    *_, cal = planted
    assert [g.group for g in cal.groups] == ["North", "South"]
    assert sum(g.cases for g in cal.groups) == cal.cases
    for g in cal.groups:
        assert (
            g.contribution_late.low
            <= GEN.PLANTED["contribution_late_share"]
            <= g.contribution_late.high
        )


def test_json_has_the_contract_shape(planted):
    *_, cal = planted
    doc = cal.as_dict()
    for key in (
        "model",
        "cases",
        "steps",
        "transitions",
        "unmodelled",
        "fitting_share",
        "contribution_late_share",
        "days_to_support",
        "groups",
    ):
        assert key in doc
    assert set(doc["steps"][0]) >= {"step", "cases", "median_days", "p90_days", "model_days"}
    assert set(doc["transitions"][0]) >= {
        "from",
        "to",
        "cases",
        "share",
        "share_low",
        "share_high",
        "model_share",
    }
    assert set(doc["days_to_support"]) >= {"median", "p90"}
    assert set(doc["groups"][0]) >= {
        "group",
        "cases",
        "fitting_share",
        "contribution_late_share",
        "days_to_support",
    }


def test_the_patch_is_a_valid_scenario_that_sets_what_was_observed(planted):
    *_, cal = planted
    model = load_model(MODEL)
    text = patch_text(model, cal)
    assert text is not None
    result = apply_patch_text(
        Path(MODEL).read_text(encoding="utf-8"), parse_patch(text), model_path=MODEL
    )
    after = result.model
    assert after.step("assessment").days == pytest.approx(
        step(cal, "assessment").mean_days, abs=0.05
    )
    shares = {t.to: t.share for t in after.step("eligibility").next}
    assert shares["signposted"] == pytest.approx(
        arrow(cal, "eligibility", "signposted").share, abs=1e-4
    )
    # the panel keeps its observed share; cases leaving by arrows the model lacks go on the main way
    shares = {t.to: t.share for t in after.step("sign_off").next}
    assert shares["panel_review"] == pytest.approx(
        arrow(cal, "sign_off", "panel_review").share, abs=1e-4
    )
    assert sum(shares.values()) == pytest.approx(1)


def test_the_command_writes_every_file_and_whatif_reads_the_patch(planted, tmp_path):
    log, mapping, _ = planted
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["calibrate", MODEL, str(log), "--map", str(mapping), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["calibration.json", "calibration.md", "calibration.html", "calibrated.patch.yaml"]
    )
    whatif = CliRunner().invoke(main, ["whatif", MODEL, str(out / "calibrated.patch.yaml")])
    assert whatif.exit_code == 0, whatif.output
    again = CliRunner().invoke(
        main, ["calibrate", MODEL, str(log), "--map", str(mapping), "-o", str(out)]
    )
    assert again.exit_code == 2 and "refusing to overwrite" in again.output


def test_json_and_text_on_standard_output(planted):
    log, mapping, _ = planted
    result = CliRunner().invoke(
        main, ["calibrate", MODEL, str(log), "--map", str(mapping), "--format", "json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["cases"] == CASES
    text = CliRunner().invoke(main, ["calibrate", MODEL, str(log), "--map", str(mapping)])
    assert "Needs assessment" in text.output and "takes longer than the model says" in text.output


def test_no_case_id_reaches_any_output(planted, tmp_path):
    log, mapping, _ = planted
    out = tmp_path / "out"
    xes = tmp_path / "log.xes"
    run = write_calibration(MODEL, str(log), str(mapping), out_dir=out, xes=str(xes))
    assert len(run.written) == 5
    for path in run.written:
        assert "EX-0" not in path.read_text(encoding="utf-8"), path


def test_xes_has_one_trace_a_case_with_start_and_complete_events(planted, tmp_path):
    import xml.etree.ElementTree as ET

    log, mapping, _ = planted
    xes = tmp_path / "log.xes"
    calibrate(MODEL, str(log), str(mapping), xes=str(xes))
    ns = "{http://www.xes-standard.org/}"
    traces = ET.parse(xes).getroot().findall(f"{ns}trace")
    assert len(traces) == CASES
    first = traces[0]
    assert first.find(f"{ns}string[@key='concept:name']").get("value") == "1"
    life = [
        e.find(f"{ns}string[@key='lifecycle:transition']").get("value")
        for e in first.findall(f"{ns}event")
    ]
    assert life[:2] == ["start", "complete"]  # first contact has a start and an end


def test_the_report_gains_the_section(planted, tmp_path):
    log, mapping, _ = planted
    write_calibration(MODEL, str(log), str(mapping), out_dir=tmp_path / "cal")
    write_reports([MODEL], tmp_path / "report", calibration=str(tmp_path / "cal"))
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert 'id="calibration"' in html and '<a href="#calibration">' in html
    assert "## The process as recorded" in md
    plain = tmp_path / "plain"
    write_reports([MODEL], plain)
    assert "calibration" not in (plain / "report.html").read_text(encoding="utf-8")


def test_the_order_of_the_rows_and_the_ignored_rows_change_no_figure(planted, tmp_path):
    """Each case's events are ordered by the engine, not by the file: the same log shuffled
    gives the same calibration, and the same log without its ignored rows ("Case note
    added", which sit between a case's events) differs only in the count of ignored rows."""
    import random

    log, mapping, cal = planted
    header, *rows = log.read_text(encoding="utf-8").splitlines()
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    other = tmp_path / "shuffled" / log.name
    other.parent.mkdir()
    other.write_text("\n".join([header, *shuffled]) + "\n", encoding="utf-8")
    assert calibrate(MODEL, str(other), str(mapping)).calibration.as_dict() == cal.as_dict()

    kept = [r for r in shuffled if ",Case note added," not in r]
    assert len(kept) < len(rows)
    plain = tmp_path / log.name
    plain.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    doc = calibrate(MODEL, str(plain), str(mapping)).calibration.as_dict()
    expected = cal.as_dict()
    assert expected["ignored_events"] == len(rows) - len(kept)
    assert doc["ignored_events"] == 0
    doc.pop("ignored_events"), expected.pop("ignored_events")
    assert doc == expected
