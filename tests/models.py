"""Where the shipped models are, for tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"


def shipped_models() -> list[Path]:
    """Every process model the project ships (reference models and examples)."""
    candidates = sorted(ROOT.glob("process_models/*.yaml")) + sorted(
        ROOT.glob("examples/**/*.yaml")
    )
    return [
        p
        for p in candidates
        if p.read_text(encoding="utf-8").lstrip("\ufeff").find("sdsaudit: 1") != -1
        and "/out/" not in p.as_posix()
    ]
