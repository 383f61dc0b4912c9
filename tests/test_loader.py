"""One test per kind of model error: the message and the position."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sdsaudit.errors import ModelError
from sdsaudit.model.loader import load_model, load_model_text

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "exampleshire" / "process.yaml"

MINIMAL = """\
sdsaudit: 1
council: Testshire Council
title: Minimal process
as_of: 2026-04-01
actors:
  person: {name: The person, kind: person}
  team: {name: Social work team, kind: council}
start: contact
steps:
  - id: contact
    name: First contact
    kind: contact
    actor: team
    next: [support]
  - id: support
    name: Support in place
    kind: support
    next: [contact]
"""


def errors(text: str) -> list[str]:
    with pytest.raises(ModelError) as info:
        load_model_text(text, "m.yaml")
    return info.value.lines()


def one_error(text: str) -> str:
    lines = errors(text)
    assert len(lines) == 1, lines
    return lines[0]


def test_minimal_model_loads():
    model = load_model_text(MINIMAL, "m.yaml")
    assert model.council == "Testshire Council"
    assert [s.id for s in model.steps] == ["contact", "support"]
    assert model.step("contact").pos.line == 10
    assert model.options is None  # not given: rules say "not assessable"
    assert model.targets.max_handoffs == 3


def test_worked_example_loads_with_positions():
    model = load_model(str(EXAMPLE))
    assert len(model.steps) == 12
    assert model.step("sign_off").authority == "team_manager"
    assert model.step("panel_review").next[1].rework is True
    assert model.step("eligibility").next[0].share == 0.85
    assert model.waivers[0].rule == "CONTROL-02"
    assert model.policies.restrictions[0].pos.line > 1


def test_unknown_key_with_hint():
    line = one_error(MINIMAL.replace("    actor: team\n", "    actor: team\n    dayz: 3\n", 1))
    assert line.startswith("m.yaml:14:5: error: unknown key 'dayz' in step (did you mean 'days'?)")


def test_missing_required_keys_share_one_line():
    text = MINIMAL.replace("title: Minimal process\n", "").replace("as_of: 2026-04-01\n", "")
    assert (
        one_error(text) == "m.yaml:1:1: error: model is missing the required keys 'title', 'as_of'"
    )


def test_missing_required_key():
    line = one_error(MINIMAL.replace("title: Minimal process\n", ""))
    assert line == "m.yaml:1:1: error: model is missing the required key 'title'"


def test_wrong_type():
    line = one_error(MINIMAL.replace("    actor: team\n", "    actor: team\n    days: [1, 2]\n", 1))
    assert line.startswith("m.yaml:14:11: error: 'days' should be a number, not a list")


def test_out_of_range_number():
    line = one_error(MINIMAL.replace("    actor: team\n", "    actor: team\n    days: -2\n", 1))
    assert line == "m.yaml:14:11: error: 'days' is -2, below the smallest allowed (0)"


def test_forms_must_be_whole():
    line = one_error(MINIMAL.replace("    actor: team\n", "    actor: team\n    forms: 1.5\n", 1))
    assert "14:12" in line and "'forms' should be a whole number" in line


def test_closed_vocabulary_with_hint():
    line = one_error(MINIMAL.replace("kind: contact", "kind: contcat"))
    assert line.startswith(
        "m.yaml:12:11: error: 'contcat' is not a known step kind (did you mean 'contact'?)"
    )


@pytest.mark.parametrize(
    "field,value,vocab",
    [
        ("person", "lead", "person level"),
        ("tells", "[budget]", "tells"),
        ("produces", "[plan]", "artefact"),
    ],
)
def test_other_vocabularies(field, value, vocab):
    line = one_error(
        MINIMAL.replace("    actor: team\n", f"    actor: team\n    {field}: {value}\n", 1)
    )
    assert f"is not a known {vocab}" in line and line.startswith("m.yaml:14:")


def test_duplicate_key():
    line = one_error(
        MINIMAL.replace(
            "council: Testshire Council\n", "council: Testshire Council\ncouncil: Other\n"
        )
    )
    assert line.startswith(
        "m.yaml:3:1: error: the key 'council' appears twice in this mapping (first at line 2)"
    )


def test_duplicate_step_id():
    text = MINIMAL.replace("  - id: support\n", "  - id: contact\n", 1)
    assert any(
        "m.yaml:15:9: error: step id 'contact' is used twice (first at line 10)" in e
        for e in errors(text)
    )


def test_dangling_actor():
    line = one_error(MINIMAL.replace("actor: team", "actor: teem"))
    assert (
        line
        == "m.yaml:13:12: error: actor 'teem' of step 'contact' is not in 'actors' (did you mean 'team'?)"
    )


def test_dangling_transition_and_start():
    lines = errors(
        MINIMAL.replace("next: [support]", "next: [suport]").replace(
            "start: contact", "start: contat"
        )
    )
    assert (
        "m.yaml:8:8: error: start 'contat' is not the id of any step (did you mean 'contact'?)"
        in lines
    )
    assert any(
        "m.yaml:14:12: error: step 'contact' goes next to 'suport'" in e and "'support'" in e
        for e in lines
    )


def test_dangling_authority_and_missing_authorities():
    approval = (
        "  - id: ok\n    name: Sign off\n    kind: approval\n    actor: team\n"
        "    authority: manger\n    approves: [support_plan]\n    next: [support]\n"
    )
    text = MINIMAL.replace(
        "next: [support]\n  - id: support", "next: [ok]\n" + approval + "  - id: support"
    )
    lines = errors(text)
    assert any("no 'authorities' list" in e for e in lines)
    text2 = text.replace(
        "start: contact", "authorities:\n  - {id: manager, name: Manager}\nstart: contact"
    )
    line = one_error(text2)
    assert (
        "authority 'manger' of step 'ok' is not in 'authorities' (did you mean 'manager'?)" in line
    )


def test_waiver_dangling_rule_and_step():
    lines = errors(
        MINIMAL
        + "waivers:\n  - {rule: AUTH-99, reason: ok}\n  - {rule: AUTH-03, step: nope, reason: ok}\n"
        "  - {rule: AUTH-03, reason: ''}\n"
    )
    assert any("waiver names the rule 'AUTH-99', which does not exist" in e for e in lines)
    assert any("waiver names the step 'nope', which does not exist" in e for e in lines)
    assert any("'reason' is empty" in e for e in lines)


def test_shares_out_of_range_and_over_one():
    text = MINIMAL.replace("next: [support]", "next:\n      - {to: support, share: 1.5}")
    assert "above the largest allowed (1)" in one_error(text)
    text = MINIMAL.replace(
        "next: [support]",
        "next:\n      - {to: support, share: 0.7}\n      - {to: contact, share: 0.6, rework: true}",
    )
    assert "the shares of the branches of step 'contact' add up to 1.3, more than 1" in one_error(
        text
    )
    text = MINIMAL.replace(
        "next: [support]",
        "next:\n      - {to: support, share: 0.7}\n      - {to: contact, share: 0.2, rework: true}",
    )
    assert "add up to 0.9, not 1" in one_error(text)


def test_kind_specific_keys():
    text = MINIMAL.replace(
        "    actor: team\n    next: [support]",
        "    actor: team\n    outcome: withdrew\n    next: [support]",
    )
    assert "'outcome' belongs only on end steps" in one_error(text)
    end = "  - id: stop\n    name: Stopped\n    kind: end\n"
    lines = errors(
        MINIMAL.replace("next: [support]\n", "next: [support, stop]\n", 1)
        + "  "
        + end.strip()
        + "\n"
    )
    assert any(
        "step 'stop' is a end step, so it needs 'outcome'" in e or "needs 'outcome'" in e
        for e in lines
    )
    approval = (
        "  - id: ok\n    name: Sign off\n    kind: approval\n    actor: team\n    next: [support]\n"
    )
    lines = errors(MINIMAL.replace("next: [support]\n", "next: [ok]\n", 1) + approval)
    assert any("needs 'approves'" in e for e in lines) and any(
        "needs 'authority'" in e for e in lines
    )


def test_version_must_be_known():
    assert "reads format versions 1 and 1.1" in one_error(
        MINIMAL.replace("sdsaudit: 1", "sdsaudit: 2")
    )


def test_scalars_stay_text():
    model = load_model_text(
        MINIMAL.replace("title: Minimal process", "title: no").replace(
            "name: First contact", "name: 12:30"
        ),
        "m.yaml",
    )
    assert model.title == "no"
    assert model.step("contact").name == "12:30"
    line = one_error(MINIMAL.replace("  - id: contact\n", '  - id: contact\n    days: "1.10"\n', 1))
    assert "written without quotes" in line


def test_yes_is_not_a_boolean():
    text = MINIMAL + "policies:\n  prepaid_card_default: yes\n"
    assert "should be true or false, not 'yes'" in one_error(text)


def test_all_problems_reported_together():
    text = (
        MINIMAL.replace("kind: contact", "kind: contcat")
        .replace("actor: team", "actor: teem")
        .replace("title: Minimal process", "titel: x")
    )
    assert len(errors(text)) >= 3


def test_every_error_has_file_line_column():
    text = MINIMAL.replace("kind: contact", "kind: contcat").replace("actor: team", "actor: teem")
    for line in errors(text):
        assert re.match(r"^m\.yaml:\d+:\d+: error: ", line), line
