"""The README's promises: the example model validates, the quick start is two commands."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sdsaudit.model.loader import load_model_text

from .models import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_model_example_is_a_valid_model():
    block = re.search(r"```yaml\n(sdsaudit: 1\n.*?)```", README, re.S)
    assert block, "the README should show a complete model"
    model = load_model_text(block.group(1), "README.md")
    assert model.council == "Smallshire Council"


def test_quick_start_is_two_commands_that_exist():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick, re.S)
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "sdsaudit report examples/exampleshire/process.yaml" in commands[0]
    assert commands[1] == "scripts/setup.sh --test && .venv/bin/python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/setup.sh --test" in ci and ".venv/bin/python -m pytest -q" in ci
    for path in re.findall(r"\b(examples/\S+\.yaml|scripts/\S+\.sh)", quick):
        assert (ROOT / path).exists(), path


def test_documents_linked_from_the_readme_exist():
    for link in re.findall(r"\]\(((?:docs|examples)/[^)#]+)\)", README):
        assert (ROOT / link).exists(), link


# ---------------------------------------------------------------- README examples
# Every shell example in the README that uses only bundled files is run as written
# (from a scratch folder that links the bundled folders, so outputs land there),
# the way a newcomer would after `. .venv/bin/activate`.

BUNDLED = ("examples", "process_models", "criteria", "docs")
PLACEHOLDER = re.compile(r"\b(MODEL|OLD|NEW|PATCH|FILE|DIR|ID)\b")


def _shell_examples() -> list[str]:
    """Commands in the README's ```sh and ```console blocks that call sdsaudit,
    with line continuations joined and trailing comments removed."""
    commands = []
    for block in re.findall(r"```(?:sh|console)\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.removeprefix("$ ").split("  #", 1)[0].strip()
            if line.startswith("sdsaudit "):
                commands.append(" ".join(line.split()))
    return commands


def _uses_only_bundled_files(command: str) -> bool:
    if PLACEHOLDER.search(command):
        return False
    words = shlex.split(command)
    outputs = {words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--output", ">")}
    inputs = [w for w in words if re.search(r"\.(ya?ml|csv|json)$", w) and w not in outputs]
    return all(w.split("/", 1)[0] in BUNDLED and "*" in w or (ROOT / w).exists() for w in inputs)


RUNNABLE = [c for c in _shell_examples() if _uses_only_bundled_files(c)]


def test_readme_has_runnable_examples():
    # a guard on the guard: the filter above must not quietly drop everything
    assert len(RUNNABLE) >= 12, RUNNABLE
    assert any(c.startswith("sdsaudit redesign process_models/traditional.yaml") for c in RUNNABLE)


@pytest.mark.parametrize("command", RUNNABLE)
def test_readme_shell_example_runs_as_written(command, tmp_path):
    for name in BUNDLED:
        (tmp_path / name).symlink_to(ROOT / name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    # 0 clean, 1 findings at or above --fail-on: both are the example working
    assert done.returncode in (0, 1), f"{command}\n{done.stderr[-2000:]}"
    assert "internal error" not in done.stderr


def test_readme_console_example_shows_real_output():
    block = re.search(r"```console\n\$ (sdsaudit [^\n]+)\n(.*?)```", README, re.S)
    assert block
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", block.group(1)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    # every line shown appears in the real output, in order ("..." stands for the rest),
    # and the summary line shown is the real last line
    shown = [line for line in block.group(2).splitlines() if line != "..."]
    lines = iter(done.stdout.splitlines())
    assert all(line in lines for line in shown), done.stdout
    assert done.stdout.splitlines()[-1] == shown[-1]


def test_readme_redesign_figures_match_the_generated_example():
    out = ROOT / "examples" / "redesign" / "traditional" / "out"
    changes = len(json.loads((out / "redesign.json").read_text())["patch"]["changes"])
    compare = json.loads((out / "compare.json").read_text())
    metric = {m["key"]: m for m in compare["metrics"]}
    old = [s["old"] for s in compare["scores"]["overall"]]
    new = [s["new"] for s in compare["scores"]["overall"]]
    days = metric["expected_days_to_support"]
    sentence = (
        f"For the traditional model it proposes {changes} changes: sign-offs on the worst route "
        f"go from {metric['approvals_max']['old']} to {metric['approvals_max']['new']}, typical "
        f"days to support from {round(days['old'])} to {round(days['new'])}, and the heard, "
        f"simple and in-control scores from {old[0]}, {old[1]} and {old[2]} to "
        f"{new[0]}, {new[1]} and {new[2]}."
    )
    assert sentence in README


def test_readme_python_score_example_is_true():
    block = re.search(r"```python\n(import sdsaudit\nfrom sdsaudit.scoring.*?)```", README, re.S)
    assert block
    code, _, expected = block.group(1).strip().rpartition("   # ")
    names: dict = {}
    exec(code.rsplit("\n", 1)[0], names)  # noqa: S102 - the README's own example
    assert repr(eval(code.rsplit("\n", 1)[1], names)) == expected  # noqa: S307
