"""Property-based tests: valid models load; mutated models give a model or a ModelError, nothing else."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsaudit.errors import ModelError
from sdsaudit.model import schema as S
from sdsaudit.model.loader import load_model_text
from sdsaudit.model.objects import PERSON_LEVELS, Model
from sdsaudit.model.source import dump

ids = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() != "")


@st.composite
def models(draw) -> dict:
    """A random model that obeys every rule of the format."""
    n = draw(st.integers(min_value=1, max_value=8))
    step_ids = draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    actor_ids = draw(st.lists(ids, min_size=2, max_size=4, unique=True))
    actors = {
        a: {
            "name": draw(names),
            "kind": "person" if i == 0 else draw(st.sampled_from(S.ACTOR_KINDS)),
        }
        for i, a in enumerate(actor_ids)
    }
    authorities = [
        {"id": "level_a", "name": "Level A", "limit": 500},
        {"id": "level_b", "name": "Level B"},
    ]
    steps = []
    for i, sid in enumerate(step_ids):
        kind = draw(st.sampled_from([k for k in S.STEP_KINDS if k not in ("end", "parallel")]))
        step: dict = {"id": sid, "name": draw(names), "kind": kind}
        if kind not in S.NO_ACTOR_KINDS:
            step["actor"] = draw(st.sampled_from(actor_ids))
        if kind == "approval":
            step["authority"] = draw(st.sampled_from(["level_a", "level_b"]))
            step["approves"] = draw(
                st.lists(st.sampled_from(S.ARTEFACTS), min_size=1, max_size=3, unique=True)
            )
        if draw(st.booleans()):
            step["person"] = draw(st.sampled_from(PERSON_LEVELS))
        if draw(st.booleans()):
            step["days"] = draw(st.integers(min_value=0, max_value=60))
        if draw(st.booleans()):
            step["tells"] = draw(st.lists(st.sampled_from(S.TELLS), max_size=3, unique=True))
        if draw(st.booleans()):
            step["asks"] = draw(st.lists(ids, max_size=3, unique=True))
        targets = draw(
            st.lists(st.sampled_from(step_ids + ["finish"]), min_size=1, max_size=3, unique=True)
        )
        if len(targets) == 1:
            step["next"] = targets
        else:
            share = round(1 / len(targets), 3)
            step["next"] = [
                {"to": t, "share": share, "rework": j > i} for j, t in enumerate(targets)
            ]
            step["next"][-1].pop("share")
        steps.append(step)
    steps.append({"id": "finish", "name": "Finished", "kind": "end", "outcome": "other"})
    return {
        "sdsaudit": 1,
        "council": draw(names),
        "title": draw(names),
        "as_of": dt.date(2026, 4, 1).isoformat(),
        "authorities": authorities,
        "actors": actors,
        "options": draw(st.lists(st.sampled_from(S.OPTIONS), unique=True)),
        "start": step_ids[0],
        "steps": steps,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_random_valid_models_load(data):
    model = load_model_text(dump(data), "random.yaml")
    assert isinstance(model, Model)
    assert [s.id for s in model.steps] == [s["id"] for s in data["steps"]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.data())
def test_text_mutations_give_model_or_model_error(data, draw):
    text = dump(data)
    for _ in range(draw.draw(st.integers(min_value=1, max_value=4))):
        pos = draw.draw(st.integers(min_value=0, max_value=max(0, len(text) - 1)))
        op = draw.draw(st.sampled_from(["delete", "insert", "dup_line", "drop_line"]))
        if op == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif op == "insert":
            text = (
                text[:pos]
                + draw.draw(st.sampled_from(list(":-[]{}&*!#'\"\t\n |>%@`,?x0")))
                + text[pos:]
            )
        else:
            lines = text.split("\n")
            i = draw.draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[i : i + 1] = [lines[i]] * 2 if op == "dup_line" else []
            text = "\n".join(lines)
    try:
        assert isinstance(load_model_text(text, "mutated.yaml"), Model)
    except ModelError as exc:
        assert exc.problems and all(p.file == "mutated.yaml" for p in exc.problems)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.data())
def test_structural_mutations_give_model_or_model_error(data, draw):
    step = draw.draw(st.sampled_from(data["steps"]))
    key = draw.draw(st.sampled_from(sorted(S.STEP.keys) + ["bogus"]))
    value = draw.draw(
        st.one_of(
            st.none(),
            st.integers(-5, 5),
            st.floats(allow_nan=False),
            names,
            st.booleans(),
            st.lists(names, max_size=2),
            st.dictionaries(ids, names, max_size=2),
        )
    )
    if draw.draw(st.booleans()):
        step.pop(key, None)
    else:
        step[key] = value
    try:
        load_model_text(dump(data), "mutated.yaml")
    except ModelError as exc:
        assert exc.problems
