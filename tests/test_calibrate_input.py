"""calibrate's input: bad logs give FILE:ROW:COLUMN messages all at once, exit 2, nothing
written; columns that look like personal details are refused unless dropped; small groups
are hidden, with secondary suppression; parallel blocks and start groups are read as the
model sees them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsaudit.calibrate.mapping import identifying
from sdsaudit.calibrate.run import calibrate
from sdsaudit.cli import main
from sdsaudit.errors import ModelError

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parent.parent
MODEL = str(ROOT / "examples" / "exampleshire" / "process.yaml")
MAP = str(ROOT / "examples" / "calibrate" / "map.yaml")
HEADER = ["case_id", "activity", "timestamp", "end_timestamp", "group"]


def write_log(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> str:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def simple_case(n: int, group: str = "North", day: int = 1) -> list[list[str]]:
    """A case that goes first contact, assessment, eligibility, signposted."""
    d = f"2025-05-{day:02d}"
    return [
        [f"C{n}", "Contact recorded", d, "", group],
        [f"C{n}", "Needs assessment", "2025-05-03", "2025-05-20", group],
        [f"C{n}", "Eligibility decision", "2025-05-23", "", group],
        [f"C{n}", "Signposted", "2025-05-24", "", group],
    ]


def test_a_group_column_with_too_many_values_is_refused_and_one_at_the_limit_is_not(tmp_path):
    from sdsaudit.calibrate.log import MAX_GROUPS

    out = tmp_path / "out"
    many = [r for n in range(MAX_GROUPS + 1) for r in simple_case(n, group=f"Area {n}")]
    log = write_log(tmp_path / "many.csv", many)
    result = CliRunner().invoke(main, ["calibrate", MODEL, log, "--map", MAP, "-o", str(out)])
    assert result.exit_code == 2
    assert (
        f"{log}:1:5: error: the group column 'group' has {MAX_GROUPS + 1} different values; "
        f"a calibration shows at most {MAX_GROUPS} groups" in result.output
    )
    assert not out.exists()
    enough = [r for n in range(MAX_GROUPS) for r in simple_case(n, group=f"Area {n}")]
    log = write_log(tmp_path / "enough.csv", enough)
    result = CliRunner().invoke(main, ["calibrate", MODEL, log, "--map", MAP, "-o", str(out)])
    assert result.exit_code == 0, result.output


def test_every_problem_at_once_with_row_and_column_and_nothing_written(tmp_path):
    rows = [r for n in range(1, 400) for r in simple_case(n)]
    rows[1232][2] = "01/03/2025"  # row 1,234 of the file (the header is row 1)
    rows[9][1] = "Mystery step"  # row 11
    rows[20][3] = "2025-01-01"  # row 22: ends before it starts
    rows[30][0] = ""  # row 32: no case id
    log = write_log(tmp_path / "events.csv", rows)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["calibrate", MODEL, log, "--map", MAP, "-o", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert any(
        line.startswith(f"{log}:1234:3: error: '01/03/2025' is not a date") for line in lines
    )
    assert any(
        line.startswith(f"{log}:11:2: error: the activity 'Mystery step' is not in the map")
        for line in lines
    )
    assert any(
        line.startswith(f"{log}:22:4: error: this event ends (2025-01-01) before it starts")
        for line in lines
    )
    assert any(line.startswith(f"{log}:32:1: error: no case id") for line in lines)
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not out.exists()


def test_a_missing_column_is_named(tmp_path):
    rows = [[r[0], r[1], r[3], r[4]] for r in simple_case(1)]
    log = write_log(
        tmp_path / "events.csv", rows, ["case_id", "activity", "end_timestamp", "group"]
    )
    with pytest.raises(ModelError) as info:
        calibrate(MODEL, log, MAP)
    assert f"{log}:1: error: no column 'timestamp'" in info.value.lines()[0]


def test_a_row_that_cannot_be_split_is_located(tmp_path):
    log = tmp_path / "events.csv"
    write_log(log, simple_case(1))
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("C2,Contact recorded,2025-05-01,,North,extra\n")
    with pytest.raises(ModelError) as info:
        calibrate(MODEL, str(log), MAP)
    assert any(
        ":6:" in line and "has more values (6) than the header" in line
        for line in info.value.lines()
    )


def test_the_map_is_checked_against_the_model(tmp_path):
    bad = tmp_path / "map.yaml"
    bad.write_text(
        "activities:\n  Contact recorded: first_contactt\n  Panel: plan_and_charge\nignores: []\n"
    )
    log = write_log(tmp_path / "events.csv", simple_case(1))
    with pytest.raises(ModelError) as info:
        calibrate(MODEL, log, str(bad))
    text = "\n".join(info.value.lines())
    assert (
        "2:21: error: the model has no step 'first_contactt' (did you mean 'first_contact'?)"
        in text
    )
    assert "unknown key 'ignores' (did you mean 'ignore'?)" in text


@pytest.mark.parametrize(
    "column, detail",
    [
        ("First Name", "a name"),
        ("surname", "a name"),
        ("Date of Birth", "a date of birth"),
        ("DOB", "a date of birth"),
        ("NHS_Number", "NHS"),
        ("Postcode", "a postcode"),
        ("Client name", "a name"),
    ],
)
def test_personal_columns_are_refused_unless_dropped(tmp_path, column, detail):
    rows = [r + ["x"] for r in simple_case(1)]
    log = write_log(tmp_path / "events.csv", rows, [*HEADER, column])
    with pytest.raises(ModelError) as info:
        calibrate(MODEL, log, MAP)
    (line,) = info.value.lines()
    assert f"{log}:1:6: error: the column '{column}' looks like" in line and detail in line
    assert "--drop" in line
    calibrate(MODEL, log, MAP, drop=[column])  # dropped: never read, no error


def test_ordinary_columns_are_not_taken_for_personal_details():
    for name in (
        "activity",
        "Activity name",
        "Team",
        "Step name",
        "case_id",
        "timestamp",
        "group",
        "Outcome",
    ):
        assert identifying(name) is None, name


def test_the_group_column_may_not_be_personal(tmp_path):
    rows = [r[:4] + ["AB1 2CD"] for r in simple_case(1)]
    log = write_log(
        tmp_path / "events.csv",
        rows,
        ["case_id", "activity", "timestamp", "end_timestamp", "Postcode"],
    )
    with pytest.raises(ModelError) as info:
        calibrate(MODEL, log, MAP, group="Postcode")
    assert "shown as the group" in info.value.lines()[0]


def test_small_groups_are_hidden_with_secondary_suppression(tmp_path):
    rows = [r for n in range(1, 41) for r in simple_case(n, "North")]
    rows += [r for n in range(41, 61) for r in simple_case(n, "South")]
    rows += [r for n in range(61, 64) for r in simple_case(n, "East")]  # 3 cases: hidden
    log = write_log(tmp_path / "events.csv", rows)
    cal = calibrate(MODEL, log, MAP).calibration
    by = {g.group: g for g in cal.groups}
    assert by["East"].cases is None and by["East"].suppressed == "small"
    # East could be worked out from the total and the others: the next smallest goes too
    assert by["South"].cases is None and by["South"].suppressed == "secondary"
    assert by["North"].cases == 40
    doc = cal.as_dict()
    assert all(g["cases"] is None for g in doc["groups"] if g["group"] != "North")


def test_a_rare_transition_is_hidden_and_so_is_its_neighbour(tmp_path):
    rows = [r for n in range(1, 51) for r in simple_case(n)]
    for n in range(51, 54):  # three cases signposted at the front door
        rows += [
            [f"C{n}", "Contact recorded", "2025-05-01", "", "North"],
            [f"C{n}", "Signposted", "2025-05-02", "", "North"],
        ]
    log = write_log(tmp_path / "events.csv", rows)
    cal = calibrate(MODEL, log, MAP).calibration
    rare = next(t for t in cal.unmodelled if t.target == "signposted")
    assert rare.cases is None and rare.share is None
    common = next(
        t for t in cal.transitions if (t.source, t.target) == ("first_contact", "assessment")
    )
    assert common.share is None  # otherwise 1 - its share gives the hidden one away


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6), st.integers(1, 12))
def test_no_shown_figure_rests_on_fewer_than_min_group_cases(tmp_path_factory, sizes, min_group):
    """Whatever the group sizes, every group shown has at least min_group cases, and hidden
    groups are never alone (so none can be worked out from the total)."""
    folder = tmp_path_factory.mktemp("groups")
    rows, n = [], 0
    for g, size in enumerate(sizes):
        for _ in range(size):
            n += 1
            rows += simple_case(n, f"G{g}")
    cal = calibrate(MODEL, write_log(folder / "e.csv", rows), MAP, min_group=min_group).calibration
    hidden = [g for g in cal.groups if g.cases is None]
    for g in cal.groups:
        if g.cases is not None:
            assert g.cases >= min_group
    if sum(sizes) < min_group:  # the total itself is too small: nothing is shown
        assert cal.cases is None and hidden == list(cal.groups)
        assert cal.overall.fitting.share is None and cal.overall.dts_median is None
        return
    assert cal.cases == sum(sizes)
    assert len(hidden) != 1
    if hidden:
        assert sum(sizes) - sum(g.cases for g in cal.groups if g.cases) >= min_group


PARALLEL = """\
sdsaudit: 1.1
council: Testshire
title: Side by side
as_of: 2026-04-01
authorities: [{id: tm, name: Team manager}]
actors:
  person: {name: The person, kind: person}
  team: {name: Team, kind: council}
  finance: {name: Finance, kind: finance}
start:
  - {to: assessment, when: adults, share: 0.7}
  - {to: transitions, when: young people, share: 0.3}
steps:
  - {id: transitions, name: Transitions team, kind: assessment, actor: team, days: 10, next: [assessment]}
  - {id: assessment, name: Assessment, kind: assessment, actor: team, days: 10, next: [both]}
  - {id: both, name: Planning and charging, kind: parallel, branches: [planning, financial_assessment], join: sign_off}
  - {id: planning, name: Planning, kind: planning, actor: team, days: 14, next: [sign_off]}
  - {id: financial_assessment, name: Financial assessment, kind: financial_assessment, actor: finance, days: unknown, tells: [contribution], next: [sign_off]}
  - {id: sign_off, name: Sign-off, kind: approval, actor: team, authority: tm, approves: [support_plan], days: 3, next: [support]}
  - {id: support, name: Support, kind: support}
"""


def test_parallel_branches_and_start_groups_are_read_as_the_model_sees_them(tmp_path):
    model = tmp_path / "model.yaml"
    model.write_text(PARALLEL)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "activities: {Transitions: transitions, Assessment: assessment, Planning: planning, "
        "Charging: financial_assessment, Sign-off: sign_off, Support: support}\n"
        "ignore: [Note]\n"
    )
    rows = []
    for n in range(1, 41):
        group = "young people" if n % 4 == 0 else "adults"
        first = (
            [[f"C{n}", "Transitions", "2025-04-01", "", group]] if group == "young people" else []
        )
        # the two branches interleave differently from case to case
        charging = f"2025-04-{12 + n % 9:02d}"
        rows += first + [
            [f"C{n}", "Assessment", "2025-04-11", "", group],
            # an ignored row between steps is no step's neighbour
            [f"C{n}", "Note", "2025-04-14", "", group],
            [f"C{n}", "Planning", "2025-04-15", "", group],
            [f"C{n}", "Charging", charging, "", group],
            [f"C{n}", "Sign-off", "2025-04-25", "", group],
            [f"C{n}", "Support", "2025-04-26", "", group],
        ]
    log = write_log(tmp_path / "events.csv", rows)
    cal = calibrate(str(model), log, str(mapping)).calibration
    assert cal.ignored == 40
    assert cal.unmodelled == ()
    assert cal.overall.fitting.share == 1.0
    into = next(t for t in cal.transitions if (t.source, t.target) == ("assessment", "both"))
    assert into.cases == 40
    planning = next(s for s in cal.steps if s.step == "planning")
    assert (
        planning.median_days == 4
    )  # from the assessment, not from the charging in the other branch
    sign_off = next(s for s in cal.steps if s.step == "sign_off")
    # the join waits for the later of the two branches: days from whichever ended last
    import statistics

    assert sign_off.median_days == statistics.median(25 - max(15, 12 + n % 9) for n in range(1, 41))
    charging = next(s for s in cal.steps if s.step == "financial_assessment")
    assert charging.model_days_unknown and charging.median_days is not None
    assert cal.overall.contribution_late.share == 0  # charged before sign-off in every case
    groups = {g.group: g for g in cal.groups}
    assert groups["adults"].model_group == "adults" and groups["adults"].model_start == "assessment"
    assert groups["adults"].started_as_modelled.share == 1.0


def test_a_step_with_unknown_days_gets_the_observed_figure_in_the_patch(tmp_path):
    from sdsaudit.calibrate.patch import patch_text
    from sdsaudit.model.loader import load_model

    test_parallel_branches_and_start_groups_are_read_as_the_model_sees_them(tmp_path)
    model = load_model(str(tmp_path / "model.yaml"))
    cal = calibrate(
        str(tmp_path / "model.yaml"), str(tmp_path / "events.csv"), str(tmp_path / "map.yaml")
    ).calibration
    text = patch_text(model, cal)
    assert (
        text is not None
        and "step: financial_assessment" in text
        and "the model said unknown" in text
    )


def test_text_from_the_log_stays_inert_in_every_output(tmp_path):
    from sdsaudit.api import write_calibration

    hostile = '<script>alert(1)</script> [x](https://example.com) | =HYPERLINK("x")'
    rows = [r for n in range(1, 31) for r in simple_case(n, hostile)]
    log = write_log(tmp_path / "events.csv", rows)
    write_calibration(MODEL, log, MAP, out_dir=tmp_path / "out")
    html = (tmp_path / "out" / "calibration.html").read_text(encoding="utf-8")
    md = (tmp_path / "out" / "calibration.md").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in md and "](https://" not in md


def test_a_parquet_log_gives_the_same_figures_as_its_csv(tmp_path):
    import duckdb

    rows = [r for n in range(1, 31) for r in simple_case(n)]
    log = write_log(tmp_path / "events.csv", rows)
    parquet = tmp_path / "events.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{log}', all_varchar=true)) TO '{parquet}' (FORMAT parquet)"
    )
    from_csv = calibrate(MODEL, log, MAP).calibration.as_dict()
    from_parquet = calibrate(MODEL, str(parquet), MAP).calibration.as_dict()
    assert {**from_csv, "log": None} == {**from_parquet, "log": None}
