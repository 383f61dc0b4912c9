"""The library functions behind each command (the command line only calls these)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

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


if TYPE_CHECKING:  # scoring pulls in networkx; import it only when a score is asked for
    from .scoring import ScoreReport


def score_path(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ScoreReport:
    """Load, check and score the model at ``path`` (``-`` for standard input).

    Returns a :class:`~sdsaudit.scoring.ScoreReport`: heard, simple and in control
    per step and overall, each with the reasons that rebuild it, and the Making it
    Real theme statuses. Every rule is run and waivers are applied, as ``check`` does.
    """
    from .engine import check_model
    from .scoring import score_model

    model = load_model(path, max_bytes=max_bytes)
    return score_model(model, check_model(model))


def score_output(path: str, *, fmt: str = "text", max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """What ``sdsaudit score`` prints: a fixed-width table (``text``) or ``json``."""
    import json

    from . import __version__
    from .scoring import score_table

    report = score_path(path, max_bytes=max_bytes)
    if fmt == "json":
        return json.dumps({"sdsaudit_version": __version__, **report.as_dict()}, indent=2) + "\n"
    return score_table(report)
