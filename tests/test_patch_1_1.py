"""Scenario patches on format 1.1: the ``parallelise`` operation end to end (whatif), its
refusals, and every other operation around parallel blocks, start groups, unknown times
and restrictions with a basis: each either gives a valid model or is refused in plain
words, located in the patch; none crashes or fails to load."""

from __future__ import annotations

import re
import textwrap

import pytest
from click.testing import CliRunner

from sdsaudit.analysis.engine import check_model
from sdsaudit.cli import main
from sdsaudit.errors import ModelError
from sdsaudit.model.loader import load_model_text
from sdsaudit.stocktake.patch import Patch, change, parse_patch
from sdsaudit.stocktake.patch_apply import apply_patch_text
from sdsaudit.stocktake.patch_write import dump_patch
from sdsaudit.stocktake.redesign import propose

from .models import ROOT
from .test_patch import MODEL, comments

runner = CliRunner()

# Planning takes 10 days and half the plans are redone (again and again, each time with
# the same chance): 20 days on average. The financial assessment takes 15 days.
SEQUENTIAL = textwrap.dedent("""\
    sdsaudit: 1
    council: Testshire Council
    title: One after another
    as_of: 2026-04-01
    actors:
      person: {name: The person, kind: person}
      team: {name: Adult social care, kind: council}
      fin: {name: Finance team, kind: finance}
    authorities:
      - {id: tm, name: Team manager}
    start: contact
    steps:
      - id: contact
        name: First contact
        kind: contact
        actor: team
        days: 5
        next: [assess]
      - id: assess
        name: Assessment
        kind: assessment
        actor: team
        days: 10
        next: [support_planning]
      - id: support_planning
        name: Support planning
        kind: planning
        actor: team
        days: 10
        next: [{to: support_planning, share: 0.5, rework: true}, {to: financial_assessment}]
      - id: financial_assessment
        name: Financial assessment
        kind: financial_assessment
        actor: fin
        days: 15
        tells: [contribution]
        next: [sign_off]
      - id: sign_off
        name: Sign off
        kind: approval
        actor: team
        authority: tm
        approves: [support_plan]
        days: 2
        next: [support]
      - id: support
        name: Support
        kind: support
    """)

# The sample of format 1.1: a parallel block, start groups, an unknown time, a
# restriction set by law.
PAR = textwrap.dedent("""\
    sdsaudit: 1.1
    council: Testshire Council
    title: Parallel
    as_of: 2026-04-01
    sources:
      - {id: guide, title: Direct payments guide, published: 2024-03-01}
    assumed: [policies.review]
    actors:
      person: {name: The person, kind: person}
      team: {name: Adult social care, kind: council}
      fin: {name: Finance team, kind: finance}
    authorities:
      - {id: tm, name: Team manager}
    policies:
      restrictions:
        - Only approved providers
        - {text: A direct payment cannot buy NHS services, basis: law, ref: Regulations 2014}
    start:
      - {to: contact, when: adults, share: 0.8}
      - {to: assess, when: young people moving to adult services}
    steps:
      - id: contact
        name: First contact
        kind: contact
        actor: team
        days: unknown
        source: guide
        next: [assess]
      - id: assess
        name: Assessment
        kind: assessment
        actor: team
        days: 10
        assumed: [days]
        next: [both]
      - id: both
        name: Planning and financial assessment side by side
        kind: parallel
        branches: [plan, fa]
        join: signoff
      - id: plan
        name: Planning
        kind: planning
        actor: team
        days: 10
        next: [{to: plan, share: 0.5, rework: true}, {to: signoff}]
      - id: fa
        name: Financial assessment
        kind: financial_assessment
        actor: fin
        days: 15
        tells: [contribution]
        next: [signoff]
      - id: signoff
        name: Sign off
        kind: approval
        actor: team
        authority: tm
        approves: [support_plan]
        days: 2
        next: [support]
      - id: support
        name: Support
        kind: support
    """)

# Nested blocks, a branch of two steps, a join with two ways on, a panel sending cases
# back to the block, a group starting at a step of its own, restrictions with a basis.
RICH = textwrap.dedent("""\
    sdsaudit: 1.1
    council: Testshire Council
    title: Rich
    as_of: 2026-04-01
    actors:
      person: {name: The person, kind: person}
      team: {name: Adult social care, kind: council}
      fin: {name: Finance team, kind: finance}
      panel: {name: Panel, kind: panel}
    authorities:
      - {id: tm, name: Team manager, limit: 500}
      - {id: top, name: Panel}
    policies:
      restrictions:
        - Only approved providers
        - {text: A direct payment cannot buy NHS services, basis: law, ref: Regulations 2014}
        - {text: No holidays, basis: council}
    start:
      - {to: contact, when: adults, share: 0.8}
      - {to: transitions, when: young people moving to adult services}
    steps:
      - id: contact
        name: First contact
        kind: contact
        actor: team
        days: 3
        asks: [address]
        next: [assess]
      - id: assess
        name: Assessment
        kind: assessment
        actor: team
        days: 10
        next: [{to: both, share: 0.9}, {to: stop, when: not eligible, share: 0.1}]
      - id: both
        name: Planning and money side by side
        kind: parallel
        branches: [plan, fa]
        join: signoff
      - id: plan
        name: Planning
        kind: planning
        actor: team
        days: 10
        next: [{to: plan, share: 0.2, rework: true}, {to: budget}]
      - id: budget
        name: Budget
        kind: allocation
        actor: team
        days: 2
        tells: [indicative_budget]
        next: [signoff]
      - id: fa
        name: Financial assessment
        kind: financial_assessment
        actor: fin
        days: 15
        asks: [address]
        tells: [contribution]
        next: [inner]
      - id: inner
        name: Letters side by side
        kind: parallel
        branches: [letter, check]
        join: fa_done
      - id: letter
        name: Letter
        kind: information
        actor: fin
        days: 1
        next: [fa_done]
      - id: check
        name: Check
        kind: wait
        actor: fin
        days: 3
        next: [fa_done]
      - id: fa_done
        name: Charge confirmed
        kind: information
        actor: fin
        days: 1
        next: [signoff]
      - id: signoff
        name: Sign off
        kind: approval
        actor: team
        authority: tm
        approves: [support_plan]
        days: 2
        next: [{to: panel, when: over 500 GBP a week, share: 0.2}, {to: arrange, share: 0.8}]
      - id: panel
        name: Panel
        kind: approval
        actor: panel
        authority: top
        approves: [support_plan]
        days: 7
        next: [{to: arrange, share: 0.7}, {to: both, when: sent back, share: 0.3, rework: true}]
      - id: arrange
        name: Arranging
        kind: arranging
        actor: team
        days: 5
        restrictions: [{text: Receipts monthly, basis: council}]
        next: [support]
      - id: support
        name: Support
        kind: support
      - id: stop
        name: Not eligible
        kind: end
        outcome: not_eligible
      - id: transitions
        name: Transitions team
        kind: contact
        actor: team
        days: unknown
        asks: [address]
        next: [assess]
    """)


def patch_text(*changes: str) -> str:
    body = "".join(f"  - {c}\n" for c in changes)
    return f"sdsaudit_patch: 1\ntitle: A test scenario\nchanges:\n{body}"


def apply(model: str, *changes: str):
    return apply_patch_text(model, parse_patch(patch_text(*changes), "p.yaml"), model_path="m.yaml")


def refused(model: str, *changes: str) -> list[tuple[int | None, int | None, str]]:
    with pytest.raises(ModelError) as caught:
        apply(model, *changes)
    found = [(p.line, p.column, p.message) for p in caught.value.problems]
    # a refusal is the patch's own plain message, never the loader's complaint about a result
    assert all("is not valid" not in m for _, _, m in found), found
    return found


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def nexts(model, step_id: str) -> list[tuple[str, float | None, bool]]:
    return [(t.to, t.share, t.rework) for t in model.step(step_id).next]


def whatif(tmp_path, model: str, *changes: str, out: str | None = None):
    model_path, patch_path = tmp_path / "m.yaml", tmp_path / "p.yaml"
    model_path.write_text(model)
    patch_path.write_text(patch_text(*changes))
    args = ["whatif", str(model_path), str(patch_path)] + (["-o", out] if out else [])
    return runner.invoke(main, args), patch_path


# --------------------------------------------------------------------------- parallelise


def test_parallelise_through_whatif_cuts_the_days_to_the_expected_longest_branch(tmp_path):
    # one after the other: 5 + 10 + 20 + 15 + 2 = 52 days. Side by side the case waits for
    # the slower branch: the 15-day assessment when the plan is done once (half the cases),
    # else the plan, 10 k days when it is done k times (chance 0.5^k):
    # E[max] = 0.5 * 15 + sum over k >= 2 of 10 k 0.5^k = 7.5 + 10 * 1.5 = 22.5,
    # so 5 + 10 + 22.5 + 2 = 39.5 days.
    change_text = "parallelise: [support_planning, financial_assessment]"
    result, _ = whatif(tmp_path, SEQUENTIAL, change_text)
    assert result.exit_code == 0, result.output
    assert (
        "Typical days from first contact to support (average): 52 to 39.5 (▼ down 12.5, better)"
    ) in result.output
    assert (
        "Run 'support_planning' and 'financial_assessment' side by side (the new parallel step "
        "'support_planning_alongside'); the case goes on at 'sign_off' when both are done"
    ) in result.output
    out = tmp_path / "out"
    written, _ = whatif(tmp_path, SEQUENTIAL, change_text, out=str(out))
    assert written.exit_code == 0, written.output
    assert "52 to 39.5" in (out / "compare.txt").read_text()
    text = (out / "to-be.yaml").read_text()
    model = load_model_text(text, "to-be.yaml")
    assert model.version == "1.1"
    assert "# changed by patch: format 1.1, because the model now has a parallel step" in text
    new = model.step("support_planning_alongside")
    assert (new.kind, new.branches, new.join) == (
        "parallel",
        ("support_planning", "financial_assessment"),
        "sign_off",
    )
    assert new.name == "Support planning, alongside Financial assessment"
    assert nexts(model, "assess") == [("support_planning_alongside", None, False)]
    # the plan is still redone half the time, inside its own branch
    assert nexts(model, "support_planning") == [
        ("support_planning", 0.5, True),
        ("sign_off", 0.5, False),
    ]
    assert nexts(model, "financial_assessment") == [("sign_off", None, False)]
    metrics = check_model(model).metrics
    assert metrics["expected_days_to_support"] == 39.5
    assert metrics["worst_days_to_support"] == 32  # 5 + 10 + max(10, 15) + 2
    assert [s.id for s in model.steps][2:4] == ["support_planning_alongside", "support_planning"]


def test_parallelise_three_steps_with_its_own_id_and_name():
    result = apply(
        SEQUENTIAL,
        "parallelise: [assess, support_planning, financial_assessment]\n"
        "    id: all_at_once\n    name: Assessment, planning and the charge together",
    )
    new = result.model.step("all_at_once")
    assert new.branches == ("assess", "support_planning", "financial_assessment")
    assert new.join == "sign_off"
    assert new.name == "Assessment, planning and the charge together"
    assert nexts(result.model, "contact") == [("all_at_once", None, False)]
    assert "when all three are done" in comments(result.text)
    # max(10, planning, 15): 15 when the plan is done once, 10 k days when k >= 2 times
    assert check_model(result.model).metrics["expected_days_to_support"] == 5 + 22.5 + 2


def test_the_default_name_joins_every_name_and_the_default_id_is_made_unique():
    result = apply(SEQUENTIAL, "parallelise: [contact, assess, support_planning]")
    new = result.model.step("contact_alongside")
    assert new.name == "First contact, alongside Assessment and Support planning"
    assert result.model.start == "contact_alongside"
    taken = edit(
        SEQUENTIAL,
        "  - id: support\n",
        "  - id: contact_alongside\n    name: Taken\n    kind: end\n    outcome: other\n"
        "  - id: support\n",
    )
    again = apply(taken, "parallelise: [contact, assess]")
    assert again.model.step("contact_alongside_2").branches == ("contact", "assess")


def test_a_start_group_at_the_first_step_starts_at_the_parallel_step():
    groups = edit(PAR, "{to: assess, when: young", "{to: both, when: young")
    result = apply(groups, "parallelise: [contact, assess]")
    assert [(e.to, e.when) for e in result.model.entries] == [
        ("contact_alongside", "adults"),
        ("both", "young people moving to adult services"),
    ]
    assert result.model.step("contact_alongside").join == "both"


def test_sent_back_to_the_first_step_means_back_to_the_parallel_step():
    model = edit(
        SEQUENTIAL,
        "    days: 2\n    next: [support]\n",
        "    days: 2\n    next: [{to: support, share: 0.9}, "
        "{to: support_planning, when: sent back, share: 0.1, rework: true}]\n",
    )
    result = apply(model, "parallelise: [support_planning, financial_assessment]")
    assert nexts(result.model, "sign_off") == [
        ("support", 0.9, False),
        ("support_planning_alongside", 0.1, True),
    ]


def test_parallelise_inside_a_branch_makes_a_nested_block():
    model = edit(
        RICH,
        "    next: [{to: plan, share: 0.2, rework: true}, {to: budget}]\n",
        "    next: [budget]\n",
    )
    model = edit(
        model,
        "    tells: [indicative_budget]\n    next: [signoff]\n",
        "    tells: [indicative_budget]\n    next: [review_budget]\n"
        "  - id: review_budget\n    name: Budget checked\n    kind: wait\n    actor: team\n"
        "    days: 1\n    next: [signoff]\n",
    )
    result = apply(model, "parallelise: [plan, budget]")
    outer = next(b for b in result.model.blocks if b.step == "both")
    assert outer.branches[0][0] == "plan_alongside"
    assert result.model.step("plan_alongside").join == "review_budget"


def test_the_patch_writer_writes_parallelise_back():
    built = Patch(
        "Built",
        (
            change("parallelise", "side by side", steps=["plan", "fa"], id="p", name="P and F"),
            change("parallelise", steps=["a", "b", "c"]),
        ),
    )
    text = dump_patch(built)
    assert "  - parallelise: [plan, fa]\n    id: p\n    name: P and F\n" in text
    back = parse_patch(text, "patch.yaml")
    assert back.as_dict() == built.as_dict()
    assert dump_patch(back) == text


def test_the_parallelise_example_in_docs_patches_md_works():
    docs = (ROOT / "docs" / "patches.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", docs, re.S) if "parallelise:" in b)
    patch = parse_patch(f"sdsaudit_patch: 1\ntitle: t\nchanges:\n{block}", "docs.yaml")
    result = apply_patch_text(SEQUENTIAL, patch, model_path="m.yaml")
    assert check_model(result.model).metrics["expected_days_to_support"] == 39.5
    words = re.sub(r"\s+", " ", docs)
    assert result.descriptions[0].split(":")[0] in words


# --------------------------------------------------------------------------- refusals


def position(text: str, line: int, token: str) -> tuple[int, int]:
    """Line and column of ``token`` on line ``line`` of ``text`` (1-based)."""
    return line, text.splitlines()[line - 1].index(token) + 1


BRANCHED = edit(
    edit(
        SEQUENTIAL,
        "    days: 10\n    next: [support_planning]\n",
        "    days: 10\n    next: [{to: support_planning, share: 0.9}, "
        "{to: stop, when: not eligible, share: 0.1}]\n",
    ),
    "  - id: support\n",
    "  - id: gone\n    name: Letter\n    kind: information\n    actor: team\n    next: [stop]\n"
    "  - id: stop\n    name: Not eligible\n    kind: end\n    outcome: not_eligible\n"
    "  - id: support\n",
)
SENT_BACK = edit(
    SEQUENTIAL,
    "    days: 2\n    next: [support]\n",
    "    days: 2\n    next: [{to: support, share: 0.9}, "
    "{to: support_planning, when: sent back, share: 0.1, rework: true}]\n",
)
REFUSALS = [
    (
        SEQUENTIAL,
        "parallelise: [assess]",
        "[",
        "give at least two steps to run side by side, each leading to the next",
    ),
    (
        SEQUENTIAL,
        "parallelise: assess",
        "assess",
        "give at least two steps to run side by side",
    ),
    (
        SEQUENTIAL,
        "parallelise: [assess, financial_assessment]",
        "financial_assessment",
        "the steps must follow one another, but 'assess' goes on to 'support_planning', not "
        "'financial_assessment'",
    ),
    (
        SEQUENTIAL,
        "parallelise: [financial_assessment, support_planning]",
        "support_planning",
        "the steps must follow one another, but 'financial_assessment' goes on to 'sign_off', "
        "not 'support_planning'",
    ),
    (
        BRANCHED,
        "parallelise: [assess, support_planning]",
        "assess",
        "'assess' goes on to 'support_planning' and 'stop': a step running alongside others "
        "must go on to one step only",
    ),
    (
        SENT_BACK,
        "parallelise: [financial_assessment, sign_off]",
        "sign_off",
        "'sign_off' sends cases back to 'support_planning', which would leave its branch: a step "
        "running alongside others can only send work back to itself",
    ),
    (
        SEQUENTIAL,
        "parallelise: [sign_off, support]",
        "support]",
        "'support' is the support step: the case ends there, so it cannot run alongside other "
        "steps",
    ),
    (
        BRANCHED,
        "parallelise: [gone, stop]",
        "stop]",
        "'stop' is an end step: the case stops there, so it cannot run alongside other steps",
    ),
    (
        PAR,
        "parallelise: [assess, both]",
        "both]",
        "'both' is a parallel step already, so it cannot run alongside other steps",
    ),
    (
        BRANCHED,
        "parallelise: [contact, assess]",
        "assess]",
        "'assess' goes on to 'support_planning' and 'stop': there is no single step after the "
        "steps for them to join at",
    ),
    (
        PAR,
        "parallelise: [contact, assess]",
        "[",
        "the group 'young people moving to adult services' starts at 'assess': once it runs "
        "alongside 'contact', it can be reached only through the new parallel step",
    ),
    (
        edit(
            SEQUENTIAL,
            "    days: 5\n    next: [assess]\n",
            "    days: 5\n    next: [{to: assess, share: 0.5}, {to: support_planning}]\n",
        ),
        "parallelise: [assess, support_planning]",
        "[",
        "'contact' also leads to 'support_planning': once it runs alongside 'assess', it can be "
        "reached only through the new parallel step",
    ),
    (
        SEQUENTIAL,
        "parallelise: {steps: [assess, support_planning], id: contact}",
        "contact}",
        "the model already has a step 'contact': give the parallel step another id",
    ),
]


@pytest.mark.parametrize("model,change_text,at,message", REFUSALS)
def test_parallelise_refusals_through_whatif(tmp_path, model, change_text, at, message):
    result, patch = whatif(tmp_path, model, change_text)
    assert result.exit_code == 2, result.output
    line, column = position(patch.read_text(), 4, at)
    expected = f"{patch}:{line}:{column}: error: change 1 (parallelise "
    assert expected in result.output, result.output
    assert message in result.output
    assert "Traceback" not in result.output and "not valid" not in result.output


def test_parallelise_refuses_a_loop_and_a_join_outside_the_branch():
    loop = edit(
        SEQUENTIAL,
        "    tells: [contribution]\n    next: [sign_off]\n",
        "    tells: [contribution]\n    next: [support_planning]\n",
    )
    ((_, _, message),) = refused(loop, "parallelise: [support_planning, financial_assessment]")
    assert message.endswith(
        "'financial_assessment' goes back to 'support_planning', so the steps go round in a "
        "loop and there is no step after them to join at"
    )
    ((_, _, message),) = refused(
        edit(
            RICH,
            "    next: [{to: plan, share: 0.2, rework: true}, {to: budget}]\n",
            "    next: [budget]\n",
        ),
        "parallelise: [plan, budget]",
    )
    assert message.endswith(
        "the steps are inside branch 'plan' of the parallel step 'both', but 'budget' goes on "
        "to 'signoff', outside that branch: steps side by side inside a branch must join at a "
        "later step of the same branch"
    )


# --------------------------------------------------------------------------- the other operations


def test_removing_a_step_inside_a_branch_keeps_the_block():
    result = apply(RICH, "remove_step: budget")
    assert nexts(result.model, "plan") == [("plan", 0.2, True), ("signoff", 0.8, False)]
    block = next(b for b in result.model.blocks if b.step == "both")
    assert block.branches[0] == ("plan",)


def test_removing_the_first_step_of_a_branch_moves_the_branch_start():
    result = apply(RICH, "remove_step: plan")
    assert result.model.step("both").branches == ("budget", "fa")
    assert "its branch now starts at 'budget' because 'plan' is removed" in comments(result.text)
    nested = apply(RICH, "remove_step: fa")
    assert nested.model.step("both").branches == ("plan", "inner")


def test_removing_a_one_step_branch_of_two_removes_the_parallel_step():
    result = apply(PAR, "remove_step: fa")
    assert "both" not in result.model.step_by_id
    assert set(result.removed) == {"fa", "both"}
    assert nexts(result.model, "assess") == [("plan", None, False)]
    assert result.model.version == "1.1"
    assert "'both' is removed, as only 'plan' was left to run in it" in comments(result.text)


def test_removing_the_join_moves_the_join_to_its_next_step():
    result = apply(PAR, "remove_step: signoff")
    assert result.model.step("both").join == "support"
    assert nexts(result.model, "fa") == [("support", None, False)]
    assert "its branches now join at 'support' because 'signoff' is removed" in comments(
        result.text
    )


def test_removing_a_join_with_several_ways_on_or_the_parallel_step_is_refused():
    ((line, col, message),) = refused(RICH, "remove_step: signoff")
    assert (line, col) == (4, 5)
    assert message == (
        "change 1 (remove_step signoff): 'signoff' is where the branches of the parallel step "
        "'both' join, and it leads to several steps, so the new join is not clear"
    )
    ((line, col, message),) = refused(PAR, "remove_step: both")
    assert (line, col) == (4, 18)
    assert "'both' is a parallel step, which starts 'plan' and 'fa' at once" in message
    assert "remove or move the steps of every branch but one" in message


def test_removing_a_nested_join_whose_next_is_the_outer_join_is_refused_plainly():
    ((_, _, message),) = refused(RICH, "remove_step: fa_done")
    assert message.startswith(
        "change 1 (remove_step fa_done): this would break a parallel block: the parallel step "
        "'inner' lies in a branch of 'both'"
    )


def test_removing_the_step_a_start_group_goes_to_moves_that_group():
    result = apply(PAR, "remove_step: contact")
    assert [(e.to, e.when) for e in result.model.entries] == [
        ("assess", "adults"),
        ("assess", "young people moving to adult services"),
    ]
    assert "the group 'adults' starts at 'assess' because 'contact' is removed" in comments(
        result.text
    )
    result = apply(PAR, "remove_step: assess")
    assert [e.to for e in result.model.entries] == ["contact", "both"]
    assert nexts(result.model, "contact") == [("both", None, False)]


def test_a_start_group_at_a_step_leading_several_ways_is_refused():
    model = edit(RICH, "{to: transitions, when", "{to: assess, when")
    ((_, _, message),) = refused(model, "remove_step: assess")
    assert message == (
        "change 1 (remove_step assess): 'assess' is where the group 'young people moving to "
        "adult services' starts and leads to several steps, so the new start is not clear"
    )


def test_bypass_around_blocks():
    result = apply(PAR, "bypass: {step: both, share: 0.5, when: complex finances}")
    assert nexts(result.model, "assess") == [("both", 0.5, False), ("signoff", 0.5, False)]
    ((line, col, message),) = refused(PAR, "bypass: {step: fa, share: 0.5}")
    assert (line, col) == (4, 20)
    assert message == (
        "change 1 (bypass fa): 'fa' is the first step of a branch of the parallel step 'both', "
        "which starts every branch for every case, so it cannot be bypassed"
    )
    ((_, _, message),) = refused(PAR, "bypass: {step: signoff, share: 0.5}")
    assert "'signoff' is where the branches of the parallel step 'both' join: every branch " in (
        message
    )
    inside = apply(RICH, "bypass: {step: budget, share: 0.5}")
    assert nexts(inside.model, "plan") == [
        ("plan", 0.2, True),
        ("budget", 0.4, False),
        ("signoff", 0.4, False),
    ]


def test_send_direct_around_blocks():
    ((_, _, message),) = refused(PAR, "send_direct: {to: signoff, skip: fa}")
    assert "'fa' is the first step of a branch of the parallel step 'both'" in message
    assert message.endswith("so it cannot be skipped")
    ((_, _, message),) = refused(RICH, "send_direct: {to: panel, skip: signoff}")
    assert "'signoff' is where the branches of the parallel step 'both' join" in message
    ((_, _, message),) = refused(PAR, "send_direct: {to: plan, skip: both}")
    assert "'both' is a parallel step: every case at it runs all of its branches" in message
    outside = apply(RICH, "send_direct: {to: both, skip: assess}")
    assert outside.model.step("both").branches == ("plan", "fa")


def test_move_step_around_blocks():
    # before the first step of a branch: it heads the branch
    result = apply(RICH, "move_step: {step: arrange, before: fa}")
    assert result.model.step("both").branches == ("plan", "arrange")
    assert nexts(result.model, "arrange") == [("fa", None, False)]
    # before the join: it follows the block, as the new join
    result = apply(RICH, "move_step: {step: arrange, before: signoff}")
    assert result.model.step("both").join == "arrange"
    assert nexts(result.model, "budget") == [("arrange", None, False)]
    # out of a branch: its place closes up
    result = apply(PAR, "move_step: {step: fa, before: assess}")
    assert "both" not in result.model.step_by_id
    assert nexts(result.model, "fa") == [("assess", None, False)]
    assert [e.to for e in result.model.entries] == ["contact", "fa"]


def test_move_step_refusals_around_blocks():
    ((_, _, message),) = refused(PAR, "move_step: {step: both, before: contact}")
    assert "'both' is a parallel step: it cannot be moved without its branches" in message
    ((_, _, message),) = refused(PAR, "move_step: {step: contact, after: both}")
    assert "'both' is a parallel step, which starts 'plan' and 'fa' at once, so 'after' it" in (
        message
    )
    assert "move it before 'signoff'" in message
    # the assessment's 'not eligible' exit would travel with it into the branch
    ((_, _, message),) = refused(RICH, "move_step: {step: assess, before: fa}")
    assert message.startswith(
        "change 1 (move_step assess): this would break a parallel block: branch 'assess' of the "
        "parallel step 'both' reaches the end step 'stop'"
    )
    ((_, _, message),) = refused(RICH, "move_step: {step: letter, before: inner}")
    assert "'inner' has only one branch left and goes" in message


def test_set_around_blocks_and_unknown_days():
    result = apply(PAR, "set: {step: plan, days: unknown}")
    assert result.model.step("plan").days_unknown
    metrics = check_model(result.model).metrics
    assert metrics["expected_days_to_support"] is None
    assert "plan" in metrics["days_unknown"]
    # a version-1 model becomes 1.1, with a comment saying why
    version_1 = apply(MODEL, "set: {step: assess, days: unknown}")
    assert version_1.model.version == "1.1"
    assert version_1.model.step("assess").days_unknown
    assert "format 1.1, because the model now has 'days: unknown'" in comments(version_1.text)
    ((line, col, message),) = refused(PAR, "set: {step: fa, next: [assess]}")
    assert (line, col) == (4, 27)
    assert message.startswith("change 1 (set fa): this would break a parallel block: ")


def test_remove_restriction_matches_the_text_of_an_entry_with_a_basis():
    result = apply(
        RICH, "remove_restriction: receipts   MONTHLY", "remove_restriction: No holidays"
    )
    assert result.model.step("arrange").restrictions == ()
    assert [r.text for r in result.model.policies.restrictions] == [
        "Only approved providers",
        "A direct payment cannot buy NHS services",
    ]
    ((_, _, message),) = refused(
        RICH, "remove_restriction: a direct payment cannot buy NHS services"
    )
    assert message.endswith(
        "the restriction 'A direct payment cannot buy NHS services' is set by law (basis: law), "
        "so the council cannot withdraw it"
    )


def test_merge_asks_keeps_the_ask_nearest_any_start_group():
    # 'transitions' is last in the file, but a group starts there; 'fa' is in a branch
    model = edit(RICH, "    days: 3\n    asks: [address]\n", "    days: 3\n")
    result = apply(model, "merge_asks: address")
    assert [result.model.step(s).asks for s in ("fa", "transitions")] == [(), ("address",)]
    add = apply(RICH, "add_tells: {step: plan, tells: [options]}")
    assert "options" in add.model.step("plan").tells


def test_council_wide_operations_on_a_1_1_model():
    result = apply(
        PAR,
        "add_option: [direct_payment]",
        "allow_use: personal_assistants",
        "set_policy: {prepaid_card_default: false}",
    )
    assert result.model.version == "1.1"
    assert result.model.entries[1].when == "young people moving to adult services"
    assert result.model.sources[0].id == "guide"


def _cases(model: str) -> list[str]:
    loaded = load_model_text(model, "m.yaml")
    ids = [s.id for s in loaded.steps]
    cases = []
    for a in loaded.steps:
        cases += [f"remove_step: {a.id}", f"bypass: {{step: {a.id}, share: 0.5}}"]
        cases += [
            f"move_step: {{step: {a.id}, {p}: {b}}}" for b in ids for p in ("before", "after")
        ]
        for t in a.next:
            cases.append(f"send_direct: {{to: {t.to}, skip: {a.id}}}")
            cases.append(f"parallelise: [{a.id}, {t.to}]")
    return cases


@pytest.mark.parametrize("name", ["PAR", "RICH"])
def test_every_structural_change_gives_a_valid_model_or_a_plain_refusal(name):
    model = {"PAR": PAR, "RICH": RICH}[name]
    applied = 0
    for case in _cases(model):
        try:
            result = apply(model, case)
        except ModelError as exc:
            messages = [p.message for p in exc.problems]
            assert all(p.file == "p.yaml" and p.line == 4 for p in exc.problems), (case, messages)
            assert not any("is not valid" in m for m in messages), (case, messages)
            continue
        applied += 1
        check_model(load_model_text(result.text, "to-be.yaml"))
    assert applied > 20


# --------------------------------------------------------------------------- redesign


@pytest.mark.parametrize("name", ["PAR", "RICH"])
def test_redesign_reads_1_1_models(name):
    model = {"PAR": PAR, "RICH": RICH}[name]
    proposal = propose(model, model_path="m.yaml")
    assert proposal is not None
    to_be = load_model_text(proposal.scenario.to_be.text, "to-be.yaml")
    assert to_be.version == "1.1" and to_be.grouped
    again = apply_patch_text(
        model, parse_patch(dump_patch(proposal.patch), "patch.yaml"), model_path="m.yaml"
    )
    assert again.text == proposal.scenario.to_be.text
    assert all(c.op != "parallelise" for c in proposal.patch.changes)


def test_redesign_command_on_a_1_1_model(tmp_path):
    path = tmp_path / "par.yaml"
    path.write_text(PAR)
    out = tmp_path / "out"
    result = runner.invoke(main, ["redesign", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    load_model_text((out / "to-be.yaml").read_text(), "to-be.yaml")
    parse_patch((out / "patch.yaml").read_text(), "patch.yaml")


def test_redesign_on_the_shipped_1_1_models_with_blocks():
    for path in (
        ROOT / "process_models" / "lean.yaml",
        ROOT / "examples" / "exampleshire" / "process.yaml",
    ):
        text = path.read_text(encoding="utf-8")
        proposal = propose(text, model_path=str(path))
        if proposal is not None:
            load_model_text(proposal.scenario.to_be.text, "to-be.yaml")
