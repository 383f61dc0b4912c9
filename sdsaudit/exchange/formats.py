"""Which reader and writer handle which file: the one table ``import`` and ``export`` use.

Each format's module provides ``read(path, *, page, max_bytes) -> Draft`` and
``write(model) -> bytes``; they are imported only when used, so the base install
(without ``sdsaudit[import]``) still runs every other command.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from ..errors import UsageError
from ..model.objects import Model
from .data import Draft

READERS = {
    ".xlsx": "workbook",
    ".csv": "workbook",
    ".drawio": "drawio",
    ".xml": "drawio",
    ".bpmn": "bpmn",
}
"""File suffix -> the module that imports it."""

WRITERS = {"xlsx": "workbook", "csv": "workbook", "drawio": "drawio", "bpmn": "bpmn"}
"""``--format`` -> the module that exports it."""

DEFAULT_MAX_SOURCE_BYTES = 20 * 1024 * 1024
"""Source files (workbooks, drawings) larger than this are refused unread."""

EXTRA_HINT = (
    "importing and exporting need the optional extra: pip install 'sdsaudit[import]' "
    "(from this folder: .venv/bin/pip install -e '.[import]')"
)


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(f".{name}", __package__)
    except ImportError as exc:  # openpyxl or defusedxml missing
        if (
            exc.name in ("openpyxl", "defusedxml")
            or "openpyxl" in str(exc)
            or "defusedxml" in str(exc)
        ):
            raise UsageError(EXTRA_HINT) from exc
        raise


def read_source(
    path: str, *, page: str | None = None, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES
) -> Draft:
    """Read a process kept elsewhere (by the file's suffix) into a draft model."""
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise UsageError(
            f"cannot tell what kind of file '{path}' is from its name: import reads "
            f"{', '.join(sorted(READERS))} files",
            file=path,
        )
    if page is not None and READERS[suffix] != "drawio":
        raise UsageError("--page is only for diagrams.net files (.drawio or .xml)", file=path)
    module = _module(READERS[suffix])
    draft: Draft = module.read(path, page=page, max_bytes=max_bytes)
    return draft


def export_bytes(model: Model, fmt: str) -> bytes:
    """The model in another format (``xlsx``, ``csv``, ``drawio`` or ``bpmn``)."""
    if fmt not in WRITERS:
        raise UsageError(f"cannot export to '{fmt}': use one of {', '.join(WRITERS)}")
    data: bytes = _module(WRITERS[fmt]).write(model, fmt=fmt)
    return data


def template_bytes() -> bytes:
    """The empty workbook template (``sdsaudit init --format xlsx``)."""
    data: bytes = _module("workbook").template()
    return data
