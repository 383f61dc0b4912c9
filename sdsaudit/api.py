"""The library functions behind each command (the command line only calls these)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import ModelError
from .files import write_atomic
from .loader import load_model
from .resources import data_dir
from .source import DEFAULT_MAX_BYTES


def validate_models(paths: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """Validate each model; return every problem as a ``FILE:LINE:COL: error:`` line."""
    lines: list[str] = []
    for path in paths:
        try:
            load_model(path, max_bytes=max_bytes)
        except ModelError as exc:
            lines.extend(exc.lines())
    return lines


def starter_text() -> str:
    """The commented starter model that ``sdsaudit init`` writes."""
    return (data_dir("process_models") / "starter.yaml").read_text(encoding="utf-8")


def write_starter(path: str, *, force: bool = False) -> Path:
    """Write the starter model to ``path`` (refuses to overwrite unless ``force``)."""
    return write_atomic(path, starter_text(), force=force)
