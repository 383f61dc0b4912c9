"""Format 1.1 metrics: hand-worked cases as data (tests/data/metrics_1_1.yaml), and the
general claims about parallel blocks as properties."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsaudit.analysis.engine import check_model
from sdsaudit.analysis.graph import Context

from .rules.helpers import build_model

CASES = yaml.safe_load(
    (Path(__file__).parent / "data" / "metrics_1_1.yaml").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_metrics_case(case: dict) -> None:
    model = build_model(case["steps"], {"sdsaudit": "1.1", **case.get("top", {})})
    metrics = check_model(model).metrics
    for key, value in case["metrics"].items():
        assert metrics.get(key) == value, key


def test_a_version_1_model_has_no_new_metrics() -> None:
    model = build_model(
        [
            {"id": "s1", "name": "Contact", "kind": "contact", "actor": "a", "next": ["support"]},
            {"id": "support", "name": "Support", "kind": "support"},
        ]
    )
    assert set(check_model(model).metrics) == {
        "steps",
        "approvals_max",
        "handoffs_max",
        "forms_max",
        "assessments_max",
        "expected_days_to_support",
        "worst_days_to_support",
        "share_reaching_support",
        "share_withdrawing",
    }


# ---------------------------------------------------------------- properties

chains = st.lists(
    st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=4),
    min_size=2,
    max_size=4,
)


def _block_model(branches: list[list[int]], parallel: bool):
    """A block whose branches are the chains of ``branches`` (days of each step); or, with
    ``parallel`` false, the same chains one after the other."""
    steps: list[dict] = []
    ids = [[f"b{i}s{k}" for k in range(len(chain))] for i, chain in enumerate(branches)]
    if parallel:
        steps.append(
            {
                "id": "p",
                "name": "Side by side",
                "kind": "parallel",
                "branches": [chain[0] for chain in ids],
                "join": "support",
            }
        )
    flat = [sid for chain in ids for sid in chain]
    for i, chain in enumerate(branches):
        for k, days in enumerate(chain):
            sid = ids[i][k]
            if parallel:
                to = ids[i][k + 1] if k + 1 < len(chain) else "support"
            else:
                at = flat.index(sid)
                to = flat[at + 1] if at + 1 < len(flat) else "support"
            steps.append(
                {"id": sid, "name": sid, "kind": "wait", "actor": "a", "days": days, "next": [to]}
            )
    steps.append({"id": "support", "name": "Support", "kind": "support"})
    return build_model(steps, {"sdsaudit": "1.1"})


@settings(max_examples=40, deadline=None)
@given(chains)
def test_a_block_of_deterministic_chains_takes_its_longest_chain(branches) -> None:
    ctx = Context(_block_model(branches, parallel=True))
    longest = max(sum(chain) for chain in branches)
    assert ctx.chain.expected_days_to_support == Fraction(longest)
    assert ctx.days.value == longest


@settings(max_examples=40, deadline=None)
@given(chains)
def test_running_branches_one_after_another_never_takes_less(branches) -> None:
    side_by_side = Context(_block_model(branches, parallel=True)).chain
    in_turn = Context(_block_model(branches, parallel=False)).chain
    assert side_by_side.expected_days_to_support is not None
    assert in_turn.expected_days_to_support is not None
    assert in_turn.expected_days_to_support >= side_by_side.expected_days_to_support


# ---------------------------------------------------------------- assumptions


def test_findings_say_which_assumed_values_they_rest_on() -> None:
    model = build_model(
        [
            {
                "id": "s1",
                "name": "Assessment",
                "kind": "assessment",
                "actor": "a",
                "person": "absent",
                "days": 40,
                "assumed": ["person", "days", "note"],
                "next": ["s2"],
            },
            {
                "id": "s2",
                "name": "Hand over",
                "kind": "wait",
                "actor": "b",
                "days": 1,
                "assumed": ["days"],
                "next": ["support"],
            },
            {"id": "support", "name": "Support", "kind": "support"},
        ],
        {
            "sdsaudit": "1.1",
            "assumed": ["policies.review"],
            "policies": {"review": {"first_days": 90, "interval_days": 365}},
        },
    )
    found = {f.rule: [a.as_dict() for a in f.assumptions] for f in check_model(model).findings}
    # a finding about the step rests on its assumed person, not on its days
    assert found["HEARD-01"] == [{"step": "s1", "fields": ["person"]}]
    # the time rests on the assumed days of every step it counts
    assert found["SIMPLE-02"] == [
        {"step": "s1", "fields": ["days"]},
        {"step": "s2", "fields": ["days"]},
    ]
    assert found["SEQ-07"] == [{"field": "policies.review"}]
    # nothing assumed: no assumptions
    assert found["SEQ-06"] == []


def test_a_version_1_file_keeps_its_findings_and_metrics_but_for_model_01() -> None:
    from sdsaudit.model.loader import load_model_text

    from .models import ROOT

    text = (ROOT / "process_models" / "traditional.yaml").read_text(encoding="utf-8")
    assert text.startswith("sdsaudit: 1\n") or "\nsdsaudit: 1\n" in text
    result = check_model(load_model_text(text, "traditional.yaml"))
    assert not any(f.assumptions for f in result.findings)
    assert "groups" not in result.metrics and "days_unknown" not in result.metrics
