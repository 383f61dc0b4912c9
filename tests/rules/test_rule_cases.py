"""Every rule against its cases in tests/rules/cases/*.yaml (pass and fail cases as data)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest
import yaml

from sdsaudit.analysis.engine import ENGINE_RULES, check_model
from sdsaudit.analysis.findings import SEVERITIES
from sdsaudit.analysis.rules import FAMILIES, RULES, rule_functions
from sdsaudit.model.catalogue import load_catalogue, theme_ids

from .helpers import build_model

CASES_DIR = Path(__file__).parent / "cases"


def _cases() -> list[dict]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            out.append({**case, "file": path.name})
    return out


CASES = _cases()


def _expected(case: dict) -> set[tuple]:
    found = set()
    for entry in case.get("expect", []):
        if isinstance(entry, dict):
            found.add((tuple(entry["steps"]), tuple(entry["subject"])))
        else:
            found.add((tuple(entry), None))
    return found


@pytest.mark.parametrize("case", CASES, ids=[f"{c['rule']}: {c['name']}" for c in CASES])
def test_rule_case(case: dict) -> None:
    model = build_model(case["steps"], case.get("top"))
    result = check_model(model, select=[case["rule"]], use_waivers=False)
    assert not result.rule_errors, result.rule_errors
    assert {f.rule for f in result.findings} <= {case["rule"]}
    notes = [n for n in result.notes if n.kind == "not_assessable"]
    if case.get("not_assessable"):
        assert notes and not result.findings
        return
    assert not notes, notes
    expected = _expected(case)
    with_subject = {e for e in expected if e[1] is not None}
    got = {(f.steps, f.subject if with_subject else None) for f in result.findings}
    assert got == expected
    assert len(result.findings) == len(expected), "a finding is reported twice"
    for finding in result.findings:
        assert finding.message and finding.severity == load_catalogue().get(case["rule"]).severity
    if "message" in case:  # words the finding's message must contain
        assert any(case["message"] in f.message for f in result.findings), result.findings


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    firing = {c["rule"] for c in CASES if c.get("expect")}
    quiet = {c["rule"] for c in CASES if "expect" in c and not c["expect"]}
    assert set(RULES) <= firing
    assert set(RULES) <= quiet


def test_catalogue_and_registry_match_one_to_one() -> None:
    catalogue = load_catalogue()
    ids = [r.id for r in catalogue.rules]
    slugs = [r.slug for r in catalogue.rules]
    assert len(ids) == len(set(ids)) and len(slugs) == len(set(slugs))
    assert set(ids) == set(RULES) | set(ENGINE_RULES)
    assert not set(RULES) & set(ENGINE_RULES)
    # every public function of a family module is the rule of that family with its slug
    by_slug = {r.slug.replace("-", "_"): r.id for r in catalogue.rules}
    for prefix, module in FAMILIES.items():
        for name in rule_functions(module):
            assert by_slug.get(name, "").startswith(prefix + "-"), f"{module.__name__}.{name}"


def test_catalogue_entries_are_complete() -> None:
    # severities, blocks and theme ids are checked when the catalogue is read (an unknown
    # one is an error with its line); the severity of each finding is compared with its
    # rule's entry in test_rule_case
    themes = set(theme_ids())
    for rule in load_catalogue().rules:
        assert rule.severity in SEVERITIES, rule.id
        assert set(rule.themes) <= themes, rule.id
        if rule.id not in ENGINE_RULES and rule.family != "MODEL":  # notes on the model itself
            assert rule.blocks and rule.themes, rule.id
        assert "TODO" not in rule.rationale + rule.recommendation + rule.evidence
        assert rule.question.endswith("?"), rule.id


def test_catalogue_defaults_for_the_targets_equal_the_formats() -> None:
    # A model's targets (defaults from the format) override these options, so the two
    # copies of each default must agree, or the catalogue's would silently never apply.
    from sdsaudit.model.objects import DEFAULT_TARGETS

    seen = set()
    for rule in load_catalogue().rules:
        for key, value in rule.options.items():
            if key in DEFAULT_TARGETS:
                assert value == DEFAULT_TARGETS[key], (rule.id, key)
                seen.add(key)
    assert seen == set(DEFAULT_TARGETS)


def test_every_option_a_rule_reads_is_declared_in_its_catalogue_entry() -> None:
    # The catalogue fills in every option it declares, so a rule reads opts["name"] and
    # never keeps a default of its own (opts.get("name", default)).
    for rule in load_catalogue().rules:
        function = RULES.get(rule.id)
        if function is None:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        read = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "opts":
                assert isinstance(node.slice, ast.Constant), rule.id
                read.add(node.slice.value)
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "opts":
                raise AssertionError(f"{rule.id} calls opts.{node.attr}: read opts['name']")
        assert read <= set(rule.options), (rule.id, read - set(rule.options))
