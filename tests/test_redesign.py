"""Redesign: proposals on every shipped model validate, fix strictly fewer findings of the
kinds they fix, add no errors, and are reproducible from the patch they write; what-if and
redesign commands."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from sdsaudit.analysis.engine import check_model
from sdsaudit.cli import main
from sdsaudit.model.catalogue import load_catalogue
from sdsaudit.model.loader import load_model_text
from sdsaudit.stocktake.compare import match_findings
from sdsaudit.stocktake.patch import parse_patch
from sdsaudit.stocktake.patch_apply import apply_patch_text
from sdsaudit.stocktake.patch_write import dump_patch
from sdsaudit.stocktake.redesign import FIXERS, propose, scenario
from tests.browser import axe_violations, format_violations

from .models import EXAMPLE, ROOT, shipped_models
from .test_patch import patch_text

TRADITIONAL = ROOT / "process_models" / "traditional.yaml"
runner = CliRunner()


def counted(result) -> Counter:
    return Counter(f.rule for f in result.findings if f.counts)


@pytest.mark.parametrize("path", shipped_models(), ids=lambda p: str(p.relative_to(ROOT)))
def test_proposal_on_every_shipped_model(path):
    text = path.read_text(encoding="utf-8")
    before = check_model(load_model_text(text, str(path)))
    proposal = propose(text, model_path=str(path))
    if proposal is None:
        # nothing proposed: every candidate for an open finding made something worse, or
        # there was no finding it knows how to fix
        return
    to_be = load_model_text(proposal.scenario.to_be.text, "to-be.yaml")
    after = check_model(to_be)
    old, new = counted(before), counted(after)
    assert proposal.fixed
    for rule in proposal.fixed:
        assert new[rule] < old[rule], rule
    errors = match_findings(
        [f for f in before.findings if f.severity == "error"],
        [f for f in after.findings if f.severity == "error"],
    )
    assert errors.new == ()
    assert sum(new.values()) < sum(old.values())
    # the written patch, read back and applied again, gives the same to-be model byte for byte
    again = apply_patch_text(
        text,
        parse_patch(dump_patch(proposal.patch), "patch.yaml"),
        model_path=str(path),
        result_path="to-be.yaml",
    )
    assert again.text == proposal.scenario.to_be.text


def test_nothing_is_proposed_for_a_clean_model():
    text = (ROOT / "process_models" / "lean.yaml").read_text()
    assert propose(text, model_path="lean.yaml") is None


def test_proposals_are_deterministic():
    text = TRADITIONAL.read_text()
    first, second = propose(text, model_path="t.yaml"), propose(text, model_path="t.yaml")
    assert dump_patch(first.patch) == dump_patch(second.patch)
    assert first.scenario.to_be.text == second.scenario.to_be.text


def test_exampleshire_proposal_makes_sign_offs_exclusive_and_tells_the_charge_first():
    proposal = propose(EXAMPLE.read_text(), model_path="process.yaml")
    ops = [(c.op, c.args.get("to") or c.args.get("step")) for c in proposal.patch.changes]
    assert ("send_direct", "panel_review") in [(o, str(s)) for o, s in ops]
    assert ("move_step", "financial_assessment") in [(o, str(s)) for o, s in ops]
    c = proposal.scenario.comparison
    assert (c.metric("approvals_max").old, c.metric("approvals_max").new) == (2, 1)
    assert not any(f.rule in ("AUTH-03", "SEQ-04") for f in proposal.scenario.result.findings)


def test_traditional_proposal_measured_effect():
    proposal = propose(TRADITIONAL.read_text(), model_path="traditional.yaml")
    c = proposal.scenario.comparison
    assert (c.metric("approvals_max").old, c.metric("approvals_max").new) == (3, 1)
    assert c.metric("expected_days_to_support").direction == "better"
    assert all(d.direction == "better" for d in c.scores)
    assert {"AUTH-01", "AUTH-03", "SEQ-04", "SIMPLE-01", "CONTROL-04"} <= set(proposal.fixed)
    left = {x.finding.rule for x in proposal.left}
    assert "CONTROL-02" in left and not left & set(proposal.fixed)


def test_every_changed_step_has_a_comment():
    proposal = propose(TRADITIONAL.read_text(), model_path="traditional.yaml")
    lines = proposal.scenario.to_be.text.splitlines()
    changed = [s.id for s in proposal.scenario.comparison.steps_changed]
    assert changed
    for sid in changed:
        at = lines.index(f"  - id: {sid}")
        assert lines[at - 1].startswith("  # "), sid
        block = []
        for line in reversed(lines[:at]):
            if not line.startswith("  # "):
                break
            block.append(line)
        assert any("changed by patch" in line for line in block), sid


def test_scenario_measures_a_hand_written_patch():
    patch = parse_patch(patch_text("remove_step: sign_off"), "p.yaml")
    result = scenario(EXAMPLE.read_text(), patch, model_path="process.yaml")
    assert [s.id for s in result.comparison.steps_removed] == ["sign_off"]
    assert result.comparison.metric("approvals_max").new == 1
    assert "Remove the step 'sign_off'" in result.text()


# --------------------------------------------------------------------------- commands


def write_patch(tmp_path, *changes: str):
    path = tmp_path / "patch.yaml"
    path.write_text(patch_text(*changes))
    return path


def test_whatif_prints_and_writes(tmp_path):
    patch = write_patch(tmp_path, "remove_step: sign_off\n    reason: one sign-off is enough")
    shown = runner.invoke(main, ["whatif", str(EXAMPLE), str(patch)])
    assert shown.exit_code == 0, shown.output
    assert "Remove the step 'sign_off'" in shown.output and "As is:" in shown.output
    out = tmp_path / "out"
    written = runner.invoke(main, ["whatif", str(EXAMPLE), str(patch), "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.html",
        "compare.json",
        "compare.md",
        "compare.txt",
        "map.svg",
        "to-be.yaml",
    ]
    load_model_text((out / "to-be.yaml").read_text(), "to-be.yaml")
    again = runner.invoke(main, ["whatif", str(EXAMPLE), str(patch), "-o", str(out)])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    assert (
        runner.invoke(
            main, ["whatif", str(EXAMPLE), str(patch), "-o", str(out), "--force"]
        ).exit_code
        == 0
    )


def test_whatif_reports_patch_errors_with_positions(tmp_path):
    patch = write_patch(tmp_path, "remove_step: sign_of", "set: {step: assessment, days: x}")
    result = runner.invoke(main, ["whatif", str(EXAMPLE), str(patch)])
    assert result.exit_code == 2
    assert f"{patch}:4:18: error: change 1 (remove_step sign_of)" in result.output
    assert f"{patch}:5:35: error: after this patch the model is not valid" in result.output
    assert "Traceback" not in result.output


def test_redesign_writes_everything(tmp_path):
    out = tmp_path / "redesign"
    result = runner.invoke(main, ["redesign", str(TRADITIONAL), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.html",
        "compare.json",
        "compare.md",
        "compare.txt",
        "map.svg",
        "patch.yaml",
        "redesign.json",
        "to-be.yaml",
    ]
    summary = json.loads((out / "redesign.json").read_text())
    assert summary["fixed"]["AUTH-03"] == {"before": 3, "after": 0}
    parse_patch((out / "patch.yaml").read_text(), "patch.yaml")
    again = runner.invoke(main, ["redesign", str(TRADITIONAL), "-o", str(out)])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output


def test_redesign_of_a_clean_model_writes_nothing(tmp_path):
    out = tmp_path / "lean"
    result = runner.invoke(
        main, ["redesign", str(ROOT / "process_models" / "lean.yaml"), "-o", str(out)]
    )
    assert result.exit_code == 0
    assert "nothing to propose" in result.output and not out.exists()


def test_redesign_page_is_accessible(tmp_path):
    out = tmp_path / "redesign"
    assert runner.invoke(main, ["redesign", str(TRADITIONAL), "-o", str(out)]).exit_code == 0
    violations = axe_violations(out / "compare.html")
    assert violations == [], format_violations(violations)


@pytest.mark.parametrize(
    "args,folder,names",
    [
        (
            [
                "whatif",
                "examples/exampleshire/2026.yaml",
                "examples/redesign/exampleshire/patch.yaml",
            ],
            "exampleshire",
            ("to-be.yaml", "compare.txt", "compare.json", "compare.md"),
        ),
        (
            ["redesign", "process_models/traditional.yaml"],
            "traditional",
            (
                "patch.yaml",
                "to-be.yaml",
                "redesign.json",
                "compare.txt",
                "compare.json",
                "compare.md",
            ),
        ),
    ],
)
def test_the_redesign_examples_are_current(tmp_path, monkeypatch, args, folder, names):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(main, [*args, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in names:
        shipped = ROOT / "examples" / "redesign" / folder / "out" / name
        assert (tmp_path / name).read_text() == shipped.read_text(), (
            f"{shipped} is out of date: run scripts/update-examples.sh and review the diff"
        )
    load_model_text((tmp_path / "to-be.yaml").read_text(), "to-be.yaml")


def test_every_rule_that_says_fix_proposed_has_a_fixer_and_no_other_rule_has_one():
    catalogue = load_catalogue()
    proposed = {r.id for r in catalogue.rules if r.fix is not None and r.fix.proposed}
    assert proposed == set(FIXERS), (
        "a rule with 'fix: {proposed: ...}' in criteria/rules.yaml needs a fixer in "
        "redesign.FIXERS, and a rule with a fixer needs 'fix: {proposed: ...}'"
    )
    for rule in catalogue.rules:
        assert rule.fix is not None and rule.fix.text, rule.id
