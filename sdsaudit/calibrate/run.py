"""One calibration from files: the model, the log and the map in; a :class:`Calibration` out.

Everything that reads the log happens inside one DuckDB connection (:func:`calibrate`),
which is closed, and its spill folder removed, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..analysis.engine import check_model
from ..analysis.graph import Context
from ..errors import UsageError
from ..model.loader import load_model
from ..model.objects import Model
from ..model.source import DEFAULT_MAX_BYTES
from .calibration import MIN_GROUP, Calibration, calibrate_figures
from .figures import aggregate
from .log import connection, env_memory_limit, open_source, read_events, step_table
from .mapping import choose_columns, read_map

PRESETS = ("cld",)


@dataclass(frozen=True)
class Run:
    """A calibration and, when asked for, the XES text of the mapped log."""

    calibration: Calibration
    xes_written: Path | None = None
    model: Model | None = None


def calibrate(
    model_path: str,
    events_path: str,
    map_path: str | None = None,
    *,
    min_group: int = MIN_GROUP,
    group: str | None = None,
    drop: Sequence[str] = (),
    preset: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    xes: str | None = None,
    force: bool = False,
) -> Run:
    """Calibrate the model at ``model_path`` against the event log at ``events_path``.

    ``map_path`` maps the log's activities to steps (required but for ``preset='cld'``);
    ``group`` names the column of groups (default: ``group`` when the log has one);
    ``drop`` names columns never to read. With ``xes``, the mapped log is also written
    there as XES (refused if it exists, unless ``force``). Raises
    :class:`~sdsaudit.errors.ModelError` with every problem of the map or the log."""
    if min_group < 1:
        raise UsageError(f"--min-group must be at least 1, not {min_group}")
    if preset is not None and preset not in PRESETS:
        raise UsageError(f"--preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    model = load_model(model_path, max_bytes=max_bytes)
    result = check_model(model)
    ctx = Context(model)
    if xes is not None:
        from ..files import refuse_existing

        refuse_existing([Path(xes)], force)
    if preset == "cld":
        from .cld import calibrate_cld

        return calibrate_cld(
            model,
            result,
            ctx,
            events_path,
            map_path,
            min_group=min_group,
            group=group,
            drop=drop,
            xes=xes,
        )
    if map_path is None:
        raise UsageError(
            "calibrate needs --map MAP.yaml: which step of the model each activity of the log is"
        )
    log_map = read_map(map_path, model)
    with connection(env_memory_limit()) as con:
        source = open_source(events_path, con)
        columns = choose_columns(events_path, source.header, log_map, group=group, drop=drop)
        table = step_table(model, ctx)
        read = read_events(con, source, columns, log_map, model, table)
        figures = aggregate(con, model, ctx, table)
        written = None
        if xes is not None:
            from .xes import write_xes

            written = write_xes(con, model, table, xes, force=force)
    calibration = calibrate_figures(
        model,
        result,
        figures,
        log=Path(events_path).name,
        events=read.events,
        ignored=read.ignored,
        min_group=min_group,
        group_column=columns.names.get("group"),
    )
    return Run(calibration, written, model)


CALIBRATION_FILES = (
    "calibration.json",
    "calibration.md",
    "calibration.html",
    "calibrated.patch.yaml",
)
"""What ``sdsaudit calibrate -o DIR`` writes."""


def calibration_files(
    run: Run, model_path: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, str | None]:
    """Every output file's text (``None`` for a patch with nothing to change).

    The patch is made from the model's own steps and arrows with ``set`` changes only, so
    it applies by construction; ``tests/test_calibrate.py`` applies it and runs ``whatif``
    on it (applying it here would cost a third of a small run's time)."""
    from .patch import patch_text
    from .view import render_files

    doc = run.calibration.as_dict()
    files: dict[str, str | None] = dict(render_files(doc))
    model = run.model if run.model is not None else load_model(model_path, max_bytes=max_bytes)
    files["calibrated.patch.yaml"] = patch_text(model, run.calibration)
    return files
