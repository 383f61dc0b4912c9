"""Scenario patches: reading (errors with positions), every operation, validation of the
result reported against the patch, and deterministic output."""

from __future__ import annotations

import textwrap

import pytest

from sdsaudit.errors import ModelError
from sdsaudit.model.loader import load_model_text
from sdsaudit.stocktake.patch import OPERATIONS, Patch, change, parse_patch
from sdsaudit.stocktake.patch_apply import apply_patch_file, apply_patch_text
from sdsaudit.stocktake.patch_write import dump_patch

from .models import EXAMPLE

MODEL = textwrap.dedent("""\
    sdsaudit: 1
    council: Testshire Council
    title: Test process
    as_of: 2026-04-01
    authorities:
      - {id: manager, name: Manager, limit: 500}
      - {id: panel, name: Panel}
    actors:
      person: {name: The person, kind: person}
      team: {name: Team, kind: council}
      panel: {name: Panel, kind: panel}
      finance: {name: Finance, kind: finance}
    options: [direct_payment, council_managed]
    policies:
      restrictions: [No leisure, Approved providers only]
      prepaid_card_default: true
    start: contact
    steps:
      - id: contact
        name: Contact
        kind: contact
        actor: team
        asks: [address]
        next: [assess]
      - id: assess
        name: Assessment
        kind: assessment
        actor: team
        person: informed
        asks: [address, needs]
        produces: [assessment]
        next:
          - {to: plan, share: 0.8}
          - {to: stop, when: not eligible, share: 0.2}
      - id: plan
        name: Planning
        kind: planning
        actor: team
        person: involved
        produces: [support_plan]
        next: [sign_off]
      - id: sign_off
        name: Manager sign-off
        kind: approval
        actor: team
        authority: manager
        approves: [support_plan]
        next:
          - {to: panel, when: over 500 GBP a week, share: 0.25}
          - {to: money, share: 0.75}
      - id: panel
        name: Panel
        kind: approval
        actor: panel
        authority: panel
        approves: [support_plan]
        next:
          - {to: money, share: 0.6}
          - {to: plan, when: sent back, share: 0.4, rework: true}
      - id: money
        name: Financial assessment
        kind: financial_assessment
        actor: finance
        asks: [address, income]
        tells: [contribution]
        restrictions: [Receipts every month]
        next: [support]
      - id: support
        name: Support
        kind: support
        next: [review]
      - id: review
        name: Review
        kind: review
        actor: team
        next: [support]
      - id: stop
        name: Not eligible
        kind: end
        outcome: not_eligible
    waivers:
      - {rule: HEARD-03, step: panel, reason: The person is invited}
    """)


def patch_text(*changes: str) -> str:
    body = "".join(f"  - {c}\n" for c in changes)
    return f"sdsaudit_patch: 1\ntitle: A test scenario\nchanges:\n{body}"


def apply(*changes: str, model: str = MODEL):
    return apply_patch_text(model, parse_patch(patch_text(*changes), "p.yaml"), model_path="m.yaml")


def edges(result, step_id: str) -> list[tuple[str, float | None, str | None, bool]]:
    return [(t.to, t.share, t.when, t.rework) for t in result.model.step(step_id).next]


def comments(text: str) -> str:
    """The comment lines of a YAML text, joined into one line (undoing the wrapping)."""
    return " ".join(
        line.strip()[1:].strip() for line in text.splitlines() if line.strip().startswith("#")
    )


def errors(*changes: str, model: str = MODEL) -> list[tuple[int | None, int | None, str]]:
    with pytest.raises(ModelError) as caught:
        apply(*changes, model=model)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def read_errors(text: str) -> list[tuple[int | None, int | None, str]]:
    with pytest.raises(ModelError) as caught:
        parse_patch(text, "p.yaml")
    assert all(p.file == "p.yaml" for p in caught.value.problems)
    return [(p.line, p.column, p.message) for p in caught.value.problems]


# --------------------------------------------------------------------------- reading


def test_unknown_operation_is_located_with_a_suggestion():
    ((line, col, message),) = read_errors(patch_text("remove_stp: sign_off"))
    assert (line, col) == (4, 5)
    assert "did you mean 'remove_step'?" in message


def test_unknown_key_of_an_operation_suggests_the_right_one():
    ((line, col, message),) = read_errors(patch_text("set: {step: plan, persn: leads}"))
    assert (line, col) == (4, 23)
    assert "'set' has no key 'persn' (did you mean 'person'?)" in message


def test_bad_share_and_bad_tells_word_are_both_reported():
    found = read_errors(
        patch_text("bypass: panel\n    share: 1.5", "add_tells: {step: plan, tells: [optons]}")
    )
    assert [(f[0], f[1]) for f in found] == [(5, 12), (6, 37)]
    assert "between 0 and 1" in found[0][2]
    assert "did you mean 'options'?" in found[1][2]


def test_top_level_problems():
    found = read_errors("sdsaudit_patch: 2\ntitel: x\nchanges: []\n")
    messages = " | ".join(m for _, _, m in found)
    assert "patch format version 1" in messages
    assert "unknown key 'titel' in the patch (did you mean 'title'?)" in messages
    assert "missing 'title:'" in messages
    assert "'changes' should be a list" in messages


def test_an_empty_file_and_a_list_speak_of_patches():
    assert "a patch needs sdsaudit_patch: 1" in read_errors("")[0][2]
    assert "top level of a patch" in read_errors("- remove_step: x\n")[0][2]


def test_move_step_needs_exactly_one_place():
    ((line, _, message),) = read_errors(patch_text("move_step: money"))
    assert line == 4 and "exactly one of 'before' and 'after'" in message


def test_two_operations_in_one_change_are_refused():
    ((_, _, message),) = read_errors(patch_text("remove_step: plan\n    add_option: mixed"))
    assert "names two operations" in message


def test_a_key_given_twice_is_refused():
    found = read_errors(patch_text("bypass: {step: panel, share: 0.5}\n    share: 0.2"))
    assert "'share' is given twice" in found[0][2]


def test_patch_round_trips_through_its_writer():
    text = patch_text(
        "remove_step: sign_off\n    reason: 'Duplicates: the panel'",
        "bypass: panel\n    share: 0.1\n    when: over 900 GBP a week",
        "set: {step: plan, person: leads, days: 3}",
        "set_policy: {prepaid_card_default: false}",
        "merge_asks: {topic: address, keep: contact, from: [money]}",
    )
    first = parse_patch(text, "p.yaml")
    again = parse_patch(dump_patch(first), "p.yaml")
    assert again.as_dict() == first.as_dict()
    assert dump_patch(again) == dump_patch(first)


def test_changes_built_in_code_write_a_patch_that_reads_back():
    built = Patch(
        "Built",
        (
            change("bypass", "why: not", step="panel", share=0.1, when="big"),
            change("merge_asks", topic="address", keep="contact", from_=["money"]),
            change("set_policy", prepaid_card_default=False),
        ),
    )
    back = parse_patch(dump_patch(built), "p.yaml")
    assert back.as_dict() == built.as_dict()


# --------------------------------------------------------------------------- each operation


def test_remove_step_reconnects_and_multiplies_shares():
    result = apply("remove_step: sign_off\n    reason: The panel decides anyway")
    assert "sign_off" not in result.model.step_by_id
    assert edges(result, "plan") == [
        ("panel", 0.25, "over 500 GBP a week", False),
        ("money", 0.75, None, False),
    ]
    assert result.removed == ("sign_off",)
    assert (
        "changed by patch: now goes on to 'panel', 'money' instead of 'sign_off', which is "
        "removed (The panel decides anyway)"
    ) in comments(result.text)


def test_remove_step_drops_its_own_send_backs_and_its_waiver():
    result = apply("remove_step: panel")
    # the panel's 'sent back' branch goes with it; both branches to money merge into one
    assert edges(result, "sign_off") == [("money", None, None, False)]
    assert result.model.waivers == ()
    assert "the waiver for step 'panel' is dropped" in result.text


def test_remove_step_of_the_start_moves_the_start():
    result = apply("remove_step: contact")
    assert result.model.start == "assess"


def test_remove_an_end_step_takes_away_the_branch():
    result = apply("remove_step: stop")
    assert edges(result, "assess") == [("plan", None, None, False)]


def test_remove_step_that_leaves_a_step_nowhere_to_go_is_an_error():
    ((line, col, message),) = errors("remove_step: review")
    assert (line, col) == (4, 5)
    assert "step 'support' would have nowhere to go once 'review' is removed" in message


def test_bypass_splits_the_cases():
    result = apply("bypass: panel\n    share: 0.5\n    when: over 1000 GBP a week")
    assert edges(result, "sign_off") == [
        ("panel", 0.125, "over 1000 GBP a week", False),
        ("money", 0.875, None, False),
    ]


def test_bypass_on_every_route_makes_the_step_conditional():
    result = apply("bypass: plan\n    share: 0.1\n    otherwise: simple needs")
    assert edges(result, "assess") == [
        ("plan", 0.08, None, False),
        ("sign_off", 0.72, "simple needs", False),
        ("stop", 0.2, "not eligible", False),
    ]


def test_send_direct_routes_large_packages_past_the_first_sign_off():
    result = apply("send_direct: {to: panel, skip: sign_off}")
    assert edges(result, "plan") == [
        ("sign_off", 0.75, None, False),
        ("panel", 0.25, "over 500 GBP a week", False),
    ]
    assert edges(result, "sign_off") == [("money", None, None, False)]


def test_move_step_before():
    result = apply("move_step: money\n    before: plan")
    assert edges(result, "assess") == [
        ("money", 0.8, None, False),
        ("stop", 0.2, "not eligible", False),
    ]
    assert edges(result, "money") == [("plan", None, None, False)]
    assert edges(result, "sign_off") == [
        ("panel", 0.25, "over 500 GBP a week", False),
        ("support", 0.75, None, False),
    ]
    # the panel still sends plans back to planning, not to the financial assessment
    assert ("plan", 0.4, "sent back", True) in edges(result, "panel")


def test_move_step_after():
    result = apply("move_step: {step: money, after: contact}")
    assert edges(result, "contact") == [("money", None, None, False)]
    assert edges(result, "money") == [("assess", None, None, False)]


def test_add_tells():
    result = apply("add_tells: {step: plan, tells: [options, indicative_budget]}")
    assert result.model.step("plan").tells == ("options", "indicative_budget")
    assert result.changed_steps == ("plan",)


def test_merge_asks_keeps_the_earliest_by_default():
    result = apply("merge_asks: address")
    assert [result.model.step(s).asks for s in ("contact", "assess", "money")] == [
        ("address",),
        ("needs",),
        ("income",),
    ]


def test_merge_asks_from_named_steps_only():
    result = apply("merge_asks: {topic: address, keep: assess, from: [money]}")
    assert [result.model.step(s).asks for s in ("contact", "assess", "money")] == [
        ("address",),
        ("address", "needs"),
        ("income",),
    ]


def test_set_fields_of_a_step():
    result = apply("set: {step: assess, person: involved, days: 4}")
    step = result.model.step("assess")
    assert (step.person, step.days) == ("involved", 4.0)
    assert "person set to involved (was informed)" in result.text


def test_council_wide_operations():
    result = apply(
        "add_option: [individual_service_fund, mixed]",
        "allow_use: personal_assistants",
        "remove_restriction: no   LEISURE",
        "remove_restriction: Receipts every month",
        "set_policy: {prepaid_card_default: false}",
    )
    model = result.model
    assert model.options == (
        "direct_payment",
        "council_managed",
        "individual_service_fund",
        "mixed",
    )
    assert model.policies.allowed_uses == ("personal_assistants",)
    assert [r.text for r in model.policies.restrictions] == ["Approved providers only"]
    assert model.step("money").restrictions == ()
    assert model.policies.prepaid_card_default is False
    assert "# changed by patch: now also offers individual_service_fund, mixed" in result.text


def test_every_operation_is_tested_here():
    import inspect
    import sys

    from . import test_patch_1_1

    # the operations of format 1.1 (parallelise) are tested in test_patch_1_1.py
    source = inspect.getsource(sys.modules[__name__]) + inspect.getsource(test_patch_1_1)
    assert all(f"{op}:" in source for op in OPERATIONS)


# --------------------------------------------------------------------------- errors when applying


def test_unknown_step_is_located_at_the_id_with_a_suggestion():
    ((line, col, message),) = errors("remove_step: sign_of")
    assert (line, col) == (4, 18)
    assert (
        "change 1 (remove_step sign_of): the model has no step 'sign_of' (did you mean "
        "'sign_off'?)" == message
    )


def test_a_step_removed_earlier_is_named_as_such_and_all_errors_come_together():
    found = errors(
        "remove_step: panel",
        "bypass: panel\n    share: 0.5",
        "merge_asks: adress",
        "remove_restriction: No leisur",
        "add_tells: {step: money, tells: [contribution]}",
        "add_option: direct_payment",
        "set: {step: plan, person: involved}",
        "send_direct: {to: money, skip: plan}",
        "move_step: {step: plan, before: plan}",
    )
    messages = [m for _, _, m in found]
    assert "step 'panel' was removed by change 1 of this patch" in messages[0]
    assert "no step asks about 'adress' (did you mean 'address'?)" in messages[1]
    assert "(did you mean 'No leisure'?)" in messages[2]
    assert "already tells 'contribution'" in messages[3]
    assert "already offers direct_payment" in messages[4]
    assert "already has person: involved" in messages[5]
    assert "'plan' does not go on to 'money'" in messages[6]
    assert "cannot be moved next to itself" in messages[7]
    assert len(found) == 8


def test_validation_errors_of_the_result_point_at_the_patch_value():
    ((line, col, message),) = errors("set: {step: assess, days: lots}")
    assert (line, col) == (4, 31)
    assert "after this patch the model is not valid (at step 'assess')" in message
    assert "'days' should be a number" in message


def test_validation_errors_without_a_patch_value_point_at_the_change():
    found = errors("add_option: mixed", "set: {step: plan, kind: approval}")
    assert {(line, col) for line, col, _ in found} == {(5, 5)}
    assert all("(at step 'plan')" in m for _, _, m in found)
    assert any("needs 'approves'" in m for _, _, m in found)


def test_an_invalid_model_is_reported_against_the_model():
    with pytest.raises(ModelError) as caught:
        apply("add_option: mixed", model=MODEL.replace("kind: contact", "kind: contcat"))
    assert caught.value.problems[0].file == "m.yaml"


# --------------------------------------------------------------------------- output


def test_output_is_deterministic_and_valid(tmp_path):
    patch = tmp_path / "p.yaml"
    patch.write_text(
        patch_text(
            "remove_step: sign_off",
            "move_step: financial_assessment\n    before: planning",
            "merge_asks: contact_details",
        )
    )
    first = apply_patch_file(str(EXAMPLE), str(patch))
    second = apply_patch_file(str(EXAMPLE), str(patch))
    assert first.text.encode() == second.text.encode()
    load_model_text(first.text, "to-be.yaml")
    assert first.text.startswith("# To-be model: process.yaml with the scenario patch")


def test_comments_sit_on_changed_steps_only():
    result = apply("add_tells: {step: plan, tells: [options]}")
    lines = result.text.splitlines()
    at = lines.index("  - id: plan")
    assert lines[at - 1] == "  # changed by patch: now tells the person options"
    assert "# changed by patch" not in "\n".join(lines[lines.index("steps:") : at - 1])


def test_quoted_text_stays_text_and_numbers_stay_numbers():
    model = MODEL.replace("title: Test process", 'title: "Yes: 2026"').replace(
        "name: Contact", "name: '12'"
    )
    result = apply("add_option: mixed", model=model)
    assert result.model.title == "Yes: 2026"
    assert result.model.step("contact").name == "12"
    assert result.model.authorities[0].limit == 500


def test_a_moved_step_keeps_its_exits():
    model = MODEL.replace(
        "    restrictions: [Receipts every month]\n    next: [support]\n",
        "    restrictions: [Receipts every month]\n    next:\n"
        "      - {to: support, share: 0.9}\n"
        "      - {to: stop, when: stops after hearing the charge, share: 0.1}\n",
    )
    result = apply("move_step: money\n    before: plan", model=model)
    assert edges(result, "money") == [
        ("plan", 0.9, None, False),
        ("stop", 0.1, "stops after hearing the charge", False),
    ]
    # where the financial assessment was, cases go straight on to support
    assert edges(result, "sign_off") == [
        ("panel", 0.25, "over 500 GBP a week", False),
        ("support", 0.75, None, False),
    ]


def test_the_examples_in_docs_patches_md_work():
    import re as regex

    from .models import ROOT

    text = (ROOT / "docs" / "patches.md").read_text(encoding="utf-8")
    blocks = regex.findall(r"```yaml\n(.*?)```", text, regex.S)
    complete = next(b for b in blocks if b.startswith("sdsaudit_patch: 1"))
    model = (ROOT / "examples" / "exampleshire" / "2026.yaml").read_text()
    result = apply_patch_text(model, parse_patch(complete, "docs.yaml"), model_path="2026.yaml")
    assert result.model.step("financial_assessment").forms == 1
    # the two ways of writing a bypass are the same change
    long_form, short_form = blocks[1].rstrip("\n").split("\n  - bypass: {")
    one, two = (
        parse_patch(f"sdsaudit_patch: 1\ntitle: t\nchanges:\n{change_text}\n", "p.yaml")
        for change_text in (long_form, "  - bypass: {" + short_form)
    )
    assert one.as_dict() == two.as_dict()
