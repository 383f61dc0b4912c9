"""sdsaudit: audit how councils deliver personal budgets and self-directed support.

The public API (``import sdsaudit``) is in :mod:`sdsaudit.api`; the most used
names are re-exported here.
"""

from .errors import ModelError, Problem, SdsauditError, UsageError  # noqa: E402
from .model.loader import load_model, load_model_text  # noqa: E402
from .model.objects import Model, Step  # noqa: E402
from .version import __version__

__all__ = [
    "__version__",
    "ModelError",
    "Problem",
    "SdsauditError",
    "UsageError",
    "load_model",
    "load_model_text",
    "Model",
    "Step",
    "SurveySummary",
    "read_survey",
    "check_model",
    "check_models",
    "exit_code",
    "load_catalogue",
    "CheckResult",
    "Finding",
]

_LAZY = {
    "check_model": "analysis.engine",
    "exit_code": "analysis.engine",
    "check_models": "render.check_output",
    "load_catalogue": "model.catalogue",
    "CheckResult": "analysis.findings",
    "Finding": "analysis.findings",
    "SurveySummary": "survey.summary",
    "read_survey": "survey.reader",
}
"""Names loaded on first use, so commands that never need them start faster (the engine
pulls in networkx, the survey reader its statistics)."""


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'sdsaudit' has no attribute {name!r}")
