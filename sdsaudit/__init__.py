"""sdsaudit: audit how councils deliver personal budgets and self-directed support.

The public API (``import sdsaudit``) is in :mod:`sdsaudit.api`; the most used
names are re-exported here.
"""

__version__ = "0.1.0"

from .errors import ModelError, Problem, SdsauditError, UsageError  # noqa: E402
from .loader import load_model, load_model_text  # noqa: E402
from .model import Model, Step  # noqa: E402

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
    "check_model": "engine",
    "exit_code": "engine",
    "check_models": "checks",
    "load_catalogue": "catalogue",
    "CheckResult": "findings",
    "Finding": "findings",
}
"""Names loaded on first use (the engine pulls in networkx)."""


def __getattr__(name: str):
    # Survey names load on first use, so commands that never read a survey start faster.
    if name in ("SurveySummary", "read_survey"):
        from . import survey

        return getattr(survey, name)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'sdsaudit' has no attribute {name!r}")
