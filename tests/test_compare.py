"""The stock-take: compare on hand-made pairs, finding matching, deltas, the command, the
accessible HTML, and check --baseline."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sdsaudit.analysis.findings import Finding
from sdsaudit.cli import main
from sdsaudit.model.loader import load_model_text
from sdsaudit.stocktake.compare import Delta, compare_models, make_delta, match_findings
from sdsaudit.stocktake.compare_output import delta_words, render_comparison

from .models import ROOT
from .test_patch import MODEL

OLD_2025 = ROOT / "examples" / "exampleshire" / "2025.yaml"
NEW_2026 = ROOT / "examples" / "exampleshire" / "2026.yaml"

runner = CliRunner()


def model(text: str, name: str = "m.yaml"):
    return load_model_text(text, name)


def finding(rule: str, steps=(), subject=(), message="m") -> Finding:
    return Finding(
        rule, rule.lower(), "warning", ("simple",), tuple(steps), message, subject=tuple(subject)
    )


def keys(findings) -> list[tuple]:
    return [(f.rule, f.steps, f.subject) for f in findings]


# --------------------------------------------------------------------------- matching


def test_exact_matches_persist_and_the_rest_are_new_or_resolved():
    old = [finding("AUTH-03", ["a", "b"], ["support_plan"]), finding("SEQ-04", ["a"])]
    new = [finding("SEQ-04", ["a"]), finding("HAND-02", ["a", "b", "c"])]
    changes = match_findings(old, new)
    assert keys(changes.new) == [("HAND-02", ("a", "b", "c"), ())]
    assert keys(changes.resolved) == [("AUTH-03", ("a", "b"), ("support_plan",))]
    assert [(m.how, m.new.rule) for m in changes.persisting] == [("exact", "SEQ-04")]


def test_one_on_each_side_with_rule_and_subject_persists_with_other_steps():
    old = [finding("HAND-01", ["a", "b", "c"])]
    new = [finding("HAND-01", ["a", "d"])]
    changes = match_findings(old, new)
    assert (changes.new, changes.resolved) == ((), ())
    assert changes.persisting[0].how == "rule and subject"


def test_ambiguous_rule_and_subject_is_not_guessed():
    old = [finding("SEQ-04", ["a"]), finding("SEQ-04", ["b"])]
    new = [finding("SEQ-04", ["c"]), finding("SEQ-04", ["d"])]
    changes = match_findings(old, new)
    assert len(changes.new) == 2 and len(changes.resolved) == 2 and not changes.persisting


def test_a_different_subject_at_the_same_steps_persists_loosely():
    old = [finding("SIMPLE-01", ["a", "b"], ["income"])]
    new = [finding("SIMPLE-01", ["a", "b"], ["savings"])]
    changes = match_findings(old, new)
    assert [m.how for m in changes.persisting] == ["rule and steps"]
    # but not when two of them could pair either way
    old.append(finding("SIMPLE-01", ["a", "b"], ["gp"]))
    new.append(finding("SIMPLE-01", ["a", "b"], ["bank"]))
    changes = match_findings(old, new)
    assert len(changes.new) == 2 and len(changes.resolved) == 2


def test_same_rule_and_steps_with_other_details_persists():
    old = [finding("HEARD-01", ["a"], ["absent"]), finding("CONTROL-02", (), ["x"])]
    new = [finding("HEARD-01", ["a"], ["informed"]), finding("CONTROL-02", (), ["y"])]
    changes = match_findings(old, new)
    assert [(m.how, m.new.rule) for m in changes.persisting] == [("rule and steps", "HEARD-01")]
    # whole-process findings with another subject are different findings (another restriction)
    assert keys(changes.new) == [("CONTROL-02", (), ("y",))]


def test_duplicates_pair_off_one_to_one():
    old = [finding("CONTROL-02", subject=["x"])]
    new = [finding("CONTROL-02", subject=["x"]), finding("CONTROL-02", subject=["x"])]
    changes = match_findings(old, new)
    assert len(changes.persisting) == 1 and len(changes.new) == 1


# --------------------------------------------------------------------------- deltas


@pytest.mark.parametrize(
    "old,new,lower,direction,delta",
    [
        (3, 2, True, "better", -1),
        (2, 3, True, "worse", 1),
        (40, 55, False, "better", 15),
        (5, 5, True, "same", 0),
        (5, 7, None, "changed", 2),
        (None, 7, True, "not comparable", None),
        (0.1, 0.3, True, "worse", 0.2),
    ],
)
def test_make_delta(old, new, lower, direction, delta):
    d = make_delta("k", "K", old, new, lower_better=lower)
    assert (d.direction, d.delta) == (direction, delta)


def test_delta_words_say_better_or_worse_with_an_arrow():
    assert (
        delta_words(Delta("approvals_max", "A", 3, 2, -1, "better")) == "3 to 2 (▼ down 1, better)"
    )
    assert delta_words(Delta("heard", "H", 50, 40, -10, "worse")) == "50 to 40 (▼ down 10, worse)"
    assert (
        delta_words(Delta("share_withdrawing", "S", 0.1, 0.0, -0.1, "better"))
        == "10% to 0% (▼ down 10%, better)"
    )
    assert delta_words(Delta("k", "K", 4, 4, 0, "same")) == "4 (no change)"
    assert (
        delta_words(Delta("k", "K", None, 4, None, "not comparable"))
        == "not known to 4 (not comparable)"
    )


# --------------------------------------------------------------------------- hand-made pairs


def test_identical_models_show_no_change():
    c = compare_models(model(MODEL), model(MODEL))
    assert (c.steps_added, c.steps_removed, c.steps_changed, c.model_changes) == ((), (), (), ())
    assert not c.findings.new and not c.findings.resolved
    assert all(m.how == "exact" for m in c.findings.persisting)
    assert {d.direction for d in c.metrics} == {"same"}
    assert {d.direction for d in c.scores} == {"same"}


def test_steps_added_removed_and_changed_exactly():
    new_text = MODEL.replace(
        "    next: [assess]\n",
        "    next: [advice]\n  - id: advice\n"
        "    name: Advice\n    kind: information\n    actor: team\n"
        "    next: [assess]\n",
        1,
    ).replace("    person: informed\n", "    person: involved\n    days: 9\n")
    c = compare_models(model(MODEL, "old.yaml"), model(new_text, "new.yaml"))
    assert [s.id for s in c.steps_added] == ["advice"]
    assert c.steps_removed == ()
    assert {s.id: s.fields for s in c.steps_changed} == {
        "contact": ("next",),
        "assess": ("person", "days"),
    }
    person = c.steps_changed[1].changes[0]
    assert (person.old, person.new) == ("informed", "involved")
    # HEARD-01 (person only informed at the assessment) is resolved
    assert ("HEARD-01", ("assess",), ("informed",)) in keys(c.findings.resolved)
    assert c.metric("steps").delta == 1
    assert c.metric("steps").direction == "changed"
    assert c.score("heard").direction == "better"


def test_removed_sign_off_and_new_restriction():
    new_text = MODEL.replace(
        "    next: [sign_off]\n",
        "    next:\n"
        "      - {to: panel, when: over 500 GBP a week, share: 0.25}\n"
        "      - {to: money, share: 0.75}\n",
    ).replace(
        "restrictions: [No leisure, Approved providers only]",
        "restrictions: [No leisure, Approved providers only, No gym]",
    )
    start = new_text.index("  - id: sign_off")
    end = new_text.index("  - id: panel")
    new_text = new_text[:start] + new_text[end:]
    c = compare_models(model(MODEL, "old.yaml"), model(new_text, "new.yaml"))
    assert [s.id for s in c.steps_removed] == ["sign_off"]
    assert [s.id for s in c.steps_changed] == ["plan"]
    assert [(ch.name, ch.old, ch.new) for ch in c.model_changes] == [
        (
            "policies.restrictions",
            ["No leisure", "Approved providers only"],
            ["No leisure", "Approved providers only", "No gym"],
        )
    ]
    approvals = c.metric("approvals_max")
    assert (approvals.old, approvals.new, approvals.delta, approvals.direction) == (
        2,
        1,
        -1,
        "better",
    )
    assert (c.metric("approval_steps").old, c.metric("approval_steps").new) == (2, 1)
    assert ("CONTROL-02", (), ("No gym",)) in keys(c.findings.new)
    assert ("AUTH-03", ("sign_off", "panel"), ("support_plan",)) in keys(c.findings.resolved)
    assert c.findings.persisting and all(m.new.rule != "AUTH-03" for m in c.findings.persisting)


def test_a_renamed_step_keeps_its_finding_persisting():
    renamed = MODEL.replace("id: assess", "id: needs").replace("next: [assess]", "next: [needs]")
    c = compare_models(model(MODEL), model(renamed))
    assert [s.id for s in c.steps_added] == ["needs"] and [s.id for s in c.steps_removed] == [
        "assess"
    ]
    heard = [
        m for m in c.findings.persisting if m.new.rule == "HEARD-01" and m.new.steps == ("needs",)
    ]
    assert len(heard) == 1 and heard[0].how == "rule and subject"
    assert heard[0].old.steps == ("assess",) and heard[0].new.steps == ("needs",)


def test_days_deltas_are_exact():
    slower = MODEL.replace("    name: Planning\n", "    name: Planning\n    days: 10\n")
    c = compare_models(model(MODEL), model(slower))
    days = c.metric("expected_days_to_support")
    # planning is visited 1 / (1 - 0.25 * 0.4) times on average (the panel sends back 40%
    # of the quarter it sees): 10 days * 1.111 = 11.1
    assert (days.old, days.new, days.direction) == (0, 11.1, "worse")
    assert c.metric("worst_days_to_support").delta == 10


def test_json_is_the_dataclass_and_is_stable():
    c = compare_models(model(MODEL), model(MODEL.replace("person: informed", "person: leads")))
    data = c.as_dict()
    assert data["summary"] == {
        "steps_added": 0,
        "steps_removed": 0,
        "steps_changed": 1,
        "findings_new": 0,
        "findings_resolved": 1,
        "findings_persisting": len(c.findings.persisting),
    }
    assert data["steps"]["changed"][0]["changes"] == [
        {"field": "person", "old": "informed", "new": "leads"}
    ]
    assert json.dumps(data) == json.dumps(c.as_dict())


# --------------------------------------------------------------------------- the stock-take


def test_exampleshire_stocktake():
    from sdsaudit.stocktake.compare import compare_files

    c, _ = compare_files(str(OLD_2025), str(NEW_2026))
    assert [s.id for s in c.steps_added] == ["indicative_budget", "arrange"]
    assert [s.id for s in c.steps_removed] == [
        "ras_scoring",
        "service_manager_sign_off",
        "brokerage",
        "withdrew",
    ]
    assert c.metric("approvals_max").direction == "better"
    assert all(d.direction == "better" for d in c.scores)
    assert [f.rule for f in c.findings.new] == ["HAND-02"]


def test_newest_first_is_put_in_date_order():
    from sdsaudit.stocktake.compare import compare_files

    c, _ = compare_files(str(NEW_2026), str(OLD_2025))
    assert (c.old.as_of, c.new.as_of) == ("2025-04-01", "2026-04-01")
    assert "newest first" in c.notes[0]


def test_html_is_accessible_in_its_structure():
    old, new = (
        model(MODEL, "old.yaml"),
        model(
            MODEL.replace("person: informed", "person: leads").replace(
                "name: Planning", "name: Planning <b>"
            ),
            "new.yaml",
        ),
    )
    files = render_comparison(compare_models(old, new), new)
    html = files.html
    assert html.count("<h1") == 1
    assert '<html lang="en-GB">' in html
    assert "script-src 'none'" in html
    assert html.count("<table") == html.count("<caption")
    assert "better" in html and "▲" in html
    assert "Planning &lt;b&gt;" in html
    assert "CHANGED" in (files.svg or "") or files.svg is None


# --------------------------------------------------------------------------- the command


def test_compare_command_prints_each_format():
    for fmt, probe in (
        ("text", "Stock-take: Exampleshire"),
        ("json", '"findings_new": 1'),
        ("markdown", "# Exampleshire County Council: stock-take"),
        ("html", "<!DOCTYPE html>"),
    ):
        result = runner.invoke(main, ["compare", str(OLD_2025), str(NEW_2026), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert probe in result.output


def test_compare_command_writes_a_folder_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "stocktake"
    result = runner.invoke(main, ["compare", str(OLD_2025), str(NEW_2026), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.html",
        "compare.json",
        "compare.md",
        "compare.txt",
        "map.svg",
    ]
    again = runner.invoke(main, ["compare", str(OLD_2025), str(NEW_2026), "-o", str(out)])
    assert again.exit_code == 2
    assert "refusing to overwrite" in again.output
    forced = runner.invoke(
        main, ["compare", str(OLD_2025), str(NEW_2026), "-o", str(out), "--force"]
    )
    assert forced.exit_code == 0


def test_compare_command_reports_every_invalid_model(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODEL.replace("kind: contact", "kind: contcat"))
    worse = tmp_path / "worse.yaml"
    worse.write_text(MODEL.replace("actor: team\n    asks", "actor: teem\n    asks", 1))
    result = runner.invoke(main, ["compare", str(bad), str(worse)])
    assert result.exit_code == 2
    assert "did you mean 'contact'?" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- check --baseline


def check_json(path) -> str:
    result = runner.invoke(main, ["check", str(path), "--format", "json"])
    return result.stdout


def test_baseline_of_the_same_model_passes(tmp_path):
    base = tmp_path / "base.json"
    base.write_text(check_json(NEW_2026))
    plain = runner.invoke(main, ["check", str(NEW_2026), "--fail-on", "warning"])
    assert plain.exit_code == 1
    result = runner.invoke(
        main, ["check", str(NEW_2026), "--fail-on", "warning", "--baseline", str(base)]
    )
    assert result.exit_code == 0, result.output
    assert "0 findings new since the baseline" in result.output


def test_only_new_findings_fail(tmp_path):
    base = tmp_path / "report.json"
    base.write_text(check_json(OLD_2025))
    result = runner.invoke(
        main, ["check", str(NEW_2026), "--fail-on", "warning", "--baseline", str(base)]
    )
    assert result.exit_code == 1
    assert "1 finding new since the baseline" in result.output
    # the new finding is a warning: failing on errors only lets it pass
    assert runner.invoke(main, ["check", str(NEW_2026), "--baseline", str(base)]).exit_code == 0


def test_a_bad_baseline_is_an_error_with_a_position(tmp_path):
    base = tmp_path / "base.json"
    base.write_text('{"models": [\n  {"findings": [}\n]}')
    result = runner.invoke(main, ["check", str(NEW_2026), "--baseline", str(base)])
    assert result.exit_code == 2
    assert f"{base}:2:17: error: the baseline is not valid JSON" in result.output
    missing = runner.invoke(main, ["check", str(NEW_2026), "--baseline", str(tmp_path / "no")])
    assert missing.exit_code == 2 and "the baseline cannot be read" in missing.output
    shape = tmp_path / "shape.json"
    shape.write_text('{"sdsaudit_version": "0.1.0"}')
    wrong = runner.invoke(main, ["check", str(NEW_2026), "--baseline", str(shape)])
    assert wrong.exit_code == 2 and "missing the required key 'models'" in wrong.output


def test_report_json_works_as_a_baseline(tmp_path):
    out = tmp_path / "report"
    made = runner.invoke(main, ["report", str(NEW_2026), "-o", str(out)])
    assert made.exit_code in (0, 1), made.output
    result = runner.invoke(
        main,
        ["check", str(NEW_2026), "--fail-on", "warning", "--baseline", str(out / "report.json")],
    )
    assert result.exit_code == 0, result.output


def test_the_stocktake_example_is_current(tmp_path, monkeypatch):
    """examples/exampleshire/stocktake/ is what scripts/update-examples.sh makes today (the
    map and the page that inlines it depend on the graphviz version, so are not compared)."""
    monkeypatch.chdir(ROOT)
    result = runner.invoke(
        main,
        [
            "compare",
            "examples/exampleshire/2025.yaml",
            "examples/exampleshire/2026.yaml",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("compare.txt", "compare.json", "compare.md"):
        shipped = ROOT / "examples" / "exampleshire" / "stocktake" / name
        assert (tmp_path / name).read_text() == shipped.read_text(), (
            f"{shipped} is out of date: run scripts/update-examples.sh and review the diff"
        )
