"""``sdsaudit check`` and ``sdsaudit rules`` end to end: formats, exit codes, options."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from sdsaudit.analysis import rules as rules_module
from sdsaudit.cli import main
from sdsaudit.model.catalogue import load_catalogue

from .models import ROOT
from .rules.helpers import model_text

EXAMPLE = "examples/exampleshire/process.yaml"


@pytest.fixture(autouse=True)
def _at_the_top_of_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Model paths in these tests (and in the output they check) are relative to the root."""
    monkeypatch.chdir(ROOT)


SCHEMA = Path(__file__).parent / "rules" / "data" / "sarif-schema-2.1.0.json"
runner = CliRunner()

CLEAN_STEPS = [
    {
        "id": "s1",
        "name": "Contact",
        "kind": "contact",
        "days": 0,
        "actor": "a",
        "person": "consulted",
        "tells": ["options", "indicative_budget", "contribution"],
        "next": ["plan"],
    },
    {
        "id": "plan",
        "name": "Planning",
        "kind": "planning",
        "days": 0,
        "actor": "person",
        "person": "leads",
        "next": ["support"],
    },
    {"id": "support", "name": "Support", "kind": "support", "next": ["review"]},
    {
        "id": "review",
        "name": "Review",
        "kind": "review",
        "days": 0,
        "actor": "a",
        "person": "involved",
        "next": ["support"],
    },
]
CLEAN_TOP = {
    "options": ["direct_payment", "individual_service_fund", "council_managed", "mixed"],
    "policies": {
        "allowed_uses": ["personal_assistants", "community_activities"],
        "prepaid_card_default": False,
        "allocation_method_published": True,
        "review": {"first_days": 56, "interval_days": 365},
        "dp_review": {"first_days": 56, "interval_days": 365},
    },
}


def _write(tmp_path: Path, name: str, steps=CLEAN_STEPS, top=CLEAN_TOP) -> str:
    path = tmp_path / name
    path.write_text(model_text(steps, top), encoding="utf-8")
    return str(path)


def run(*args: str, stdin: str | None = None):
    return runner.invoke(main, list(args), input=stdin)


def test_text_format_one_line_a_finding_then_a_summary() -> None:
    result = run("check", EXAMPLE)
    assert result.exit_code == 0, result.output  # warnings only; --fail-on error
    lines = result.stdout.strip().splitlines()
    assert f"{EXAMPLE}:88: AUTH-03 warning: " in result.stdout
    # every rule can be assessed on the worked example
    assert lines[-1] == "12 findings (0 errors, 12 warnings, 0 info) and 1 waived in 1 model"
    assert all(line.startswith(f"{EXAMPLE}:") for line in lines[:-1])
    assert any("CONTROL-02" in line and "(waived: " in line for line in lines)
    assert lines[0].endswith("]") or "(waived" in lines[0]


def test_fail_on_and_no_waivers() -> None:
    assert run("check", "--fail-on", "warning", EXAMPLE).exit_code == 1
    assert run("check", "--fail-on", "never", EXAMPLE).exit_code == 0
    only_waived = run("check", "--select", "CONTROL-02", "--fail-on", "info", EXAMPLE)
    assert only_waived.exit_code == 0
    assert (
        run(
            "check", "--select", "CONTROL-02", "--fail-on", "info", "--no-waivers", EXAMPLE
        ).exit_code
        == 1
    )


def test_a_clean_model_exits_0_even_on_info(tmp_path: Path) -> None:
    result = run("check", "--fail-on", "info", _write(tmp_path, "clean.yaml"))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip() == "0 findings (0 errors, 0 warnings, 0 info) in 1 model"


def test_errors_fail_by_default(tmp_path: Path) -> None:
    steps = CLEAN_STEPS + [
        {"id": "orphan", "name": "Orphan", "kind": "wait", "actor": "a", "next": ["support"]}
    ]
    result = run("check", _write(tmp_path, "orphan.yaml", steps))
    assert result.exit_code == 1
    assert 'STRUCT-01 error: no case can reach "orphan"' in result.stdout


def test_select_and_ignore_take_ids_families_globs_commas_and_repeats() -> None:
    def rules_of(*args: str) -> set[str]:
        out = run("check", "--format", "json", *args, EXAMPLE)
        assert out.exit_code == 0, out.output
        return {f["rule"] for f in json.loads(out.stdout)["models"][0]["findings"]}

    assert rules_of("--select", "AUTH") == {"AUTH-02", "AUTH-03", "AUTH-05"}
    assert rules_of("--select", "SEQ-0*,hand-02") == {"SEQ-04", "HAND-02"}
    assert rules_of("--select", "AUTH-03", "--select", "simple-03") == {"AUTH-03", "SIMPLE-03"}
    assert rules_of("--ignore", "SIMPLE,HAND", "--ignore", "CONTROL-02") == {
        "AUTH-02",
        "AUTH-03",
        "AUTH-05",
        "SEQ-04",
        "HEARD-03",
    }


def test_unknown_rule_is_exit_2_with_a_suggestion() -> None:
    result = run("check", "--select", "AUTH-3", EXAMPLE)
    assert result.exit_code == 2
    assert "unknown rule 'AUTH-3'" in result.stderr and "did you mean" in result.stderr
    assert run("check", "--ignore", "NOPE", EXAMPLE).exit_code == 2


def test_bad_or_missing_models_are_exit_2_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(model_text(CLEAN_STEPS, CLEAN_TOP).replace("kind: planning", "kind: plannig"))
    result = run("check", str(bad), str(tmp_path / "missing.yaml"), EXAMPLE)
    assert result.exit_code == 2
    assert "did you mean 'planning'" in result.stderr
    assert "missing.yaml" in result.stderr
    assert result.stdout == ""


def test_json_shape() -> None:
    result = run("check", "--format", "json", EXAMPLE)
    data = json.loads(result.stdout)
    assert set(data) == {"sdsaudit_version", "models"}
    model = data["models"][0]
    assert {"path", "council", "title", "as_of", "findings", "metrics"} <= set(model)
    finding = next(f for f in model["findings"] if f["rule"] == "AUTH-03")
    assert {
        k: finding[k]
        for k in ("rule", "slug", "severity", "blocks", "steps", "line", "waived", "waiver_reason")
    } == {
        "rule": "AUTH-03",
        "slug": "redundant-approval",
        "severity": "warning",
        "blocks": ["simple"],
        "steps": ["sign_off", "panel_review"],
        "line": 88,
        "waived": False,
        "waiver_reason": None,
    }
    assert model["metrics"]["expected_days_to_support"] == 83.9


def test_several_models_and_stdin(tmp_path: Path) -> None:
    clean = _write(tmp_path, "clean.yaml")
    result = run(
        "check", "--format", "json", clean, "-", stdin=Path(EXAMPLE).read_text(encoding="utf-8")
    )
    assert result.exit_code == 0, result.output
    paths = [m["path"] for m in json.loads(result.stdout)["models"]]
    assert paths == [clean, "<stdin>"]
    text = run("check", "-", stdin=Path(EXAMPLE).read_text(encoding="utf-8"))
    assert "<stdin>:88: AUTH-03 warning" in text.stdout


def test_sarif_is_valid_2_1_0_and_located_at_step_lines(tmp_path: Path) -> None:
    waived_stale = model_text(
        CLEAN_STEPS, {**CLEAN_TOP, "waivers": [{"rule": "SEQ-04", "reason": "fixed last year"}]}
    )
    stale = tmp_path / "stale.yaml"
    stale.write_text(waived_stale)
    result = run(
        "check", "--format", "sarif", EXAMPLE, "process_models/traditional.yaml", str(stale)
    )
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    run_ = log["runs"][0]
    assert log["version"] == "2.1.0"
    rules = run_["tool"]["driver"]["rules"]
    auth03 = next(r for r in run_["results"] if r["ruleId"] == "AUTH-03")
    assert rules[auth03["ruleIndex"]]["id"] == "AUTH-03"
    assert auth03["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == EXAMPLE
    assert auth03["locations"][0]["physicalLocation"]["region"]["startLine"] == 88
    assert auth03["level"] == "warning"
    waived = next(r for r in run_["results"] if r["ruleId"] == "CONTROL-02")
    assert waived["suppressions"][0]["status"] == "accepted"
    assert any(r["ruleId"] == "WAIVER-01" for r in run_["results"])
    assert any(r["level"] == "note" for r in run_["results"])  # HEARD-02 is info


def test_stale_waiver_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "stale.yaml"
    path.write_text(
        model_text(
            CLEAN_STEPS,
            {**CLEAN_TOP, "waivers": [{"rule": "AUTH-03", "reason": "accepted in 2025"}]},
        )
    )
    result = run("check", "--fail-on", "warning", str(path))
    assert result.exit_code == 1
    assert "WAIVER-01 warning: the waiver of AUTH-03 matches no finding" in result.stdout


def test_a_crashing_rule_is_reported_and_the_exit_code_is_2(monkeypatch) -> None:
    def broken(ctx, opts):
        raise RuntimeError("kaboom")
        yield  # pragma: no cover

    monkeypatch.setattr(rules_module.auth, "redundant_approval", broken)
    result = run("check", EXAMPLE)
    assert result.exit_code == 2
    assert (
        "error: rule AUTH-03 could not be run: the rule failed: RuntimeError: kaboom"
        in result.stderr
    )
    assert "SEQ-04 warning" in result.stdout  # the other rules still ran
    assert "Traceback" not in result.output


@pytest.mark.parametrize("rule", ["AUTH-03", "redundant-approval", "auth-03"])
def test_rules_explains_one_rule(rule: str) -> None:
    result = run("rules", rule)
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("AUTH-03 redundant-approval (warning)")
    for part in (
        "Building blocks: simple",
        "MIR-FLEXIBLE",
        "Why it matters:",
        "Evidence:",
        "What to do:",
        "statutory guidance ch.10",
    ):
        assert part in out


def test_rules_lists_the_catalogue() -> None:
    result = run("rules")
    lines = result.stdout.strip().splitlines()
    catalogue = load_catalogue()
    assert len(lines) == len(catalogue.rules) and lines[0].startswith(catalogue.rules[0].id)
    assert run("rules", "AUTH-99").exit_code == 2
