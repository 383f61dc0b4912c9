"""The house habits, checked with the rest of the suite (and so in CI): the code is
formatted by ruff, passes ruff's lint and passes mypy with the project's configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .models import ROOT

PYTHON_FOLDERS = ["sdsaudit", "tests", "benchmarks", "scripts", "examples"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "format", "--check", *PYTHON_FOLDERS),
        ("ruff", "check", *PYTHON_FOLDERS),
        ("mypy",),  # files and settings: [tool.mypy] in pyproject.toml
    ],
    ids=["ruff-format", "ruff-check", "mypy"],
)
def test_code_meets_the_house_style(command):
    done = _run(*command)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
