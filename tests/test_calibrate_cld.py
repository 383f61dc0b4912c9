"""The Client Level Data preset: columns by their CLD names, DHSC's linking (the first
assessment and the first service after a request), milestones against the model, personal
columns refused until dropped, and a plain statement of what CLD cannot show."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdsaudit.calibrate.run import calibrate
from sdsaudit.calibrate.view import build_view
from sdsaudit.cli import main
from sdsaudit.errors import ModelError

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parent.parent
MODEL = str(ROOT / "examples" / "exampleshire" / "process.yaml")
spec = importlib.util.spec_from_file_location(
    "calgen", ROOT / "examples" / "calibrate" / "generate.py"
)
assert spec and spec.loader
GEN = importlib.util.module_from_spec(spec)
spec.loader.exec_module(GEN)


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cld") / "cld.csv"
    GEN.write_cld(path, 2000, 20260401)
    return path


def test_milestones_are_linked_as_dhsc_links_them(extract):
    cal = calibrate(MODEL, str(extract), preset="cld", group="Group").calibration
    ms = {(m.source, m.target): m for m in cal.milestones}
    request = ms[("first_contact", "assessment")]
    # 10% are signposted at the front door and never assessed
    assert request.share_low <= 1 - GEN.PLANTED["signposted_at_contact"] <= request.share_high
    assert abs(request.median_days - GEN.MEDIAN_DAYS["first_contact"]) <= 1
    assert request.model_days == pytest.approx(2)
    review = ms[("support", "review")]
    assert review.model_days == 56  # policies.review.first_days
    assessment = next(s for s in cal.steps if s.step == "assessment")
    assert abs(assessment.median_days - GEN.PLANTED["assessment_median_days"]) <= 2
    assert [g.group for g in cal.groups] == ["North", "South"]


def test_it_says_what_cld_cannot_show(extract):
    doc = calibrate(MODEL, str(extract), preset="cld").calibration.as_dict()
    assert {"planning", "sign_off", "panel_review", "financial_assessment"} <= set(
        doc["invisible_steps"]
    )
    view = build_view(doc)
    assert "Planning, sign-offs and panels are invisible in it" in view.invisible
    assert doc["contribution_late_share"] is None and doc["fitting_share"] is None


def test_the_same_event_day_follows_dhsc_priority(tmp_path):
    """A request, an assessment and a service on the same day: request first, then the
    assessment, then the service, whatever the order of the rows."""
    path = tmp_path / "cld.csv"
    rows = []
    for n in range(12):
        rows += [
            ["X99", f"P{n}", "Service User", "Service", "2025-05-01", "", "", "A"],
            ["X99", f"P{n}", "Service User", "Assessment", "2025-05-01", "2025-05-01", "", "A"],
            ["X99", f"P{n}", "Service User", "Request", "2025-05-01", "2025-05-01", "", "A"],
        ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(GEN.CLD_HEADER.strip().split(","))
        writer.writerows(rows)
    cal = calibrate(MODEL, str(path), preset="cld").calibration
    ms = {(m.source, m.target): m for m in cal.milestones}
    assert ms[("first_contact", "assessment")].cases == 12
    assert ms[("assessment", "support")].cases == 12


def test_personal_columns_of_an_extract_are_refused_until_dropped(tmp_path, extract):
    path = tmp_path / "with-pid.csv"
    lines = extract.read_text(encoding="utf-8").splitlines()
    text = [lines[0] + ",NHS Number,Date of Birth"] + [line + ",," for line in lines[1:]]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ModelError) as info:
        calibrate(MODEL, str(path), preset="cld")
    assert len(info.value.lines()) == 2
    result = CliRunner().invoke(
        main,
        ["calibrate", MODEL, str(path), "--preset", "cld", "--drop", "NHS Number,Date of Birth"],
    )
    assert result.exit_code == 0, result.output


def test_a_bad_date_in_an_extract_is_located(tmp_path, extract):
    path = tmp_path / "bad.csv"
    lines = extract.read_text(encoding="utf-8").splitlines()
    fields = lines[9].split(",")
    fields[4] = "31/02/2025"
    lines[9] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ModelError) as info:
        calibrate(MODEL, str(path), preset="cld")
    assert info.value.lines()[0].startswith(f"{path}:10:5: error: '31/02/2025' is not a date")
