"""Fuzzing every input a user gives (issue 17): mutated models, survey files and
patches, through the commands that read them. Whatever the input, a command ends
with exit 0, 1 or 2 and never with "internal error". Time is bounded by the
number of examples, not by a clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsaudit.cli import main

from .models import ROOT

MODEL = (ROOT / "examples" / "exampleshire" / "process.yaml").read_text(encoding="utf-8")
PATCH = (ROOT / "examples" / "redesign" / "exampleshire" / "patch.yaml").read_text(encoding="utf-8")
SURVEY = "\n".join(
    (ROOT / "examples" / "exampleshire" / "survey.csv")
    .read_text(encoding="utf-8")
    .splitlines()[:40]
)

PIECES = [
    "",
    " ",
    "\n",
    ":",
    "- ",
    "{",
    "]",
    '"',
    "'",
    "&a",
    "*a",
    "!!python/object",
    "<<: x",
    "\t",
    "0",
    "-1",
    "1e309",
    "9" * 400,
    "nan",
    "~",
    "yes",
    "true",
    "\x00",
    "\x1b[2J",
    "\u202e",
    "é",
    ",",
    ";",
    "start",
    "next",
    "rework",
    "share: 0.5",
    "kind: end",
    "kind: parallel",
    "support",
    "panel",
    "[[[[[[[[",
    "days: 1e308",
]


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few random edits: pieces of YAML, CSV and hostile text put in,
    and runs of characters or whole lines taken out or repeated."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "line", "repeat"]))
        if edit == "insert":
            piece = draw(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)))
            text = text[:at] + piece + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        else:
            lines = text.split("\n")
            n = min(at % max(len(lines), 1), len(lines) - 1)
            if edit == "line":
                del lines[n]
            else:
                lines.insert(n, lines[n])
            text = "\n".join(lines)
    return text


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1, 2), (args, result.output, result.exception)
    assert "internal error" not in result.output, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(text=mutated(MODEL))
def test_any_model_text_gives_a_result_or_a_plain_error(place: Path, text: str) -> None:
    model = place / "model.yaml"
    model.write_bytes(text.encode("utf-8", "surrogatepass"))
    _invoke("validate", str(model))
    _invoke("check", str(model), "--format", "json")
    _invoke("score", str(model))
    _invoke("map", str(model), "-o", str(place / "map.dot"), "--force")


@FUZZ
@given(text=mutated(SURVEY))
def test_any_survey_file_gives_a_result_or_a_plain_error(place: Path, text: str) -> None:
    survey = place / "survey.csv"
    survey.write_bytes(text.encode("utf-8", "surrogatepass"))
    _invoke("survey", str(survey), "-o", str(place / "survey"), "--force", "--min-group", "3")


@FUZZ
@given(text=mutated(PATCH))
def test_any_patch_gives_a_result_or_a_plain_error(place: Path, text: str) -> None:
    patch = place / "patch.yaml"
    patch.write_bytes(text.encode("utf-8", "surrogatepass"))
    model = ROOT / "examples" / "exampleshire" / "2026.yaml"
    _invoke("whatif", str(model), str(patch))
