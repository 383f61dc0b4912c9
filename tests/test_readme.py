"""The README's promises: the example model validates, the quick start is two commands."""

from __future__ import annotations

import re

from sdsaudit.loader import load_model_text

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
