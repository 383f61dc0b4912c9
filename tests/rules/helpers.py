"""Build small models for rule tests from plain data."""

from __future__ import annotations

from typing import Any

import yaml

from sdsaudit.model.loader import load_model_text
from sdsaudit.model.objects import Model

HEADER = """sdsaudit: {version}
council: Test Council
title: A rule case
as_of: 2026-04-01
"""

DEFAULTS: dict[str, Any] = {
    "authorities": [
        {"id": "practitioner", "name": "Social worker", "limit": 400},
        {"id": "manager", "name": "Team manager", "limit": 900},
        {"id": "top", "name": "Head of service"},
    ],
    "actors": {
        "person": {"name": "The person", "kind": "person"},
        "carer": {"name": "A carer", "kind": "carer"},
        "a": {"name": "Team A", "kind": "council"},
        "b": {"name": "Team B", "kind": "council"},
        "c": {"name": "Team C", "kind": "council"},
        "fin": {"name": "Finance team", "kind": "finance"},
        "panel": {"name": "Funding panel", "kind": "panel"},
    },
}


def model_text(steps: list[dict[str, Any]], top: dict[str, Any] | None = None) -> str:
    """A whole model as YAML: the header, default actors and authorities, ``top`` keys
    (which replace the defaults), start at the first step, and ``steps``."""
    data = {**DEFAULTS, **(top or {})}
    version = data.pop("sdsaudit", "1")
    data.setdefault("start", steps[0]["id"])
    data["steps"] = steps
    return HEADER.format(version=version) + yaml.safe_dump(data, sort_keys=False)


def build_model(
    steps: list[dict[str, Any]], top: dict[str, Any] | None = None, path: str = "case.yaml"
) -> Model:
    """Load the case's model through the real loader."""
    return load_model_text(model_text(steps, top), path)
