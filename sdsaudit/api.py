"""The library functions behind each command (the command line only calls these)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ModelError
from .files import write_atomic, write_set
from .model.loader import load_model, load_models
from .model.source import DEFAULT_MAX_BYTES
from .resources import data_dir


def validate_models(paths: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """Validate each model; return every problem as a ``FILE:LINE:COL: error:`` line."""
    try:
        load_models(paths, max_bytes=max_bytes)
    except ModelError as exc:
        return exc.lines()
    return []


def starter_text() -> str:
    """The commented starter model that ``sdsaudit init`` writes."""
    return (data_dir("process_models") / "starter.yaml").read_text(encoding="utf-8")


def write_starter(path: str, *, force: bool = False) -> Path:
    """Write the starter model to ``path`` (refuses to overwrite unless ``force``)."""
    return write_atomic(path, starter_text(), force=force)


# --------------------------------------------------------------------------- import and export


@dataclass(frozen=True)
class Imported:
    """What :func:`import_model` wrote, and what a person must still fill in."""

    path: Path
    to_fill: tuple[str, ...]


def import_model(
    source: str,
    out: str,
    *,
    page: str | None = None,
    force: bool = False,
    max_bytes: int | None = None,
) -> Imported:
    """Read a process kept elsewhere (workbook, CSV, diagrams.net, BPMN) and write it as a
    commented format-1.1 model at ``out``; the model is checked before it is written."""
    from .exchange.data import write_draft
    from .exchange.formats import DEFAULT_MAX_SOURCE_BYTES, read_source

    draft = read_source(source, page=page, max_bytes=max_bytes or DEFAULT_MAX_SOURCE_BYTES)
    header = [
        f"Imported by sdsaudit from {Path(source).name}.",
        "Check every value; those the source could not give are marked 'assumed' or",
        "'days: unknown'. Then run: sdsaudit check " + Path(out).name,
    ]
    text, _ = write_draft(draft, header)
    path = write_atomic(out, text, force=force)
    return Imported(path, tuple(draft.to_fill))


def export_model(
    model_path: str, fmt: str, out: str, *, force: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
) -> Path:
    """Write the model at ``model_path`` as ``fmt`` (xlsx, csv, drawio or bpmn) to ``out``."""
    from .exchange.formats import export_bytes

    model = load_model(model_path, max_bytes=max_bytes)
    return write_atomic(out, export_bytes(model, fmt), force=force)


def write_template(path: str, *, force: bool = False) -> Path:
    """Write the empty workbook template (``sdsaudit init --format xlsx``)."""
    from .exchange.formats import template_bytes

    return write_atomic(path, template_bytes(), force=force)


if TYPE_CHECKING:  # scoring pulls in networkx; import it only when a score is asked for
    from .scoring.scores import ScoreReport


def score_path(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ScoreReport:
    """Load, check and score the model at ``path`` (``-`` for standard input).

    Returns a :class:`~sdsaudit.scoring.scores.ScoreReport`: heard, simple and in control
    per step and overall, each with the reasons that rebuild it, and the Making it
    Real theme statuses. Every rule is run and waivers are applied, as ``check`` does.
    """
    from .audit import prepare

    return prepare(load_model(path, max_bytes=max_bytes)).scores


def score_output(path: str, *, fmt: str = "text", max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """What ``sdsaudit score`` prints: a fixed-width table (``text``) or ``json``."""
    import json

    from .scoring.scores import score_table
    from .version import __version__

    report = score_path(path, max_bytes=max_bytes)
    if fmt == "json":
        return json.dumps({"sdsaudit_version": __version__, **report.as_dict()}, indent=2) + "\n"
    return score_table(report)


# --------------------------------------------------------------------------- check and rules
# They live in sdsaudit.render.check_output, which the command line imports on its own to start fast.
from .render.check_output import (  # noqa: E402, F401  (re-exported)
    check_json,
    check_models,
    check_sarif,
    check_text,
    rule_error_lines,
    rules_text,
    split_ids,
)

# ----------------------------------------------------------------------------- report and map

REPORT_FILES = ("report.html", "report.md", "report.json", "map.svg")
"""What ``sdsaudit report`` writes for each model."""


@dataclass(frozen=True)
class ReportRun:
    """What :func:`write_reports` did: files written, warnings for standard error, exit code."""

    written: tuple[Path, ...]
    warnings: tuple[str, ...]
    exit_code: int


def report_folders(paths: Sequence[str], out_dir: str | Path) -> list[Path]:
    """Where each model's report goes: ``out_dir`` itself for one model, else one
    subfolder per model named from the file stem (``-2``, ``-3`` added to repeats)."""
    out = Path(out_dir)
    if len(paths) == 1:
        return [out]
    folders: list[Path] = []
    taken: set[str] = set()
    for path in paths:
        stem = "stdin" if path == "-" else _folder_name(Path(path).stem)
        name, n = stem, 1
        while name.casefold() in taken:  # x, x-2, x-3 ... never a name already used
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.casefold())
        folders.append(out / name)
    return folders


def _folder_name(stem: str) -> str:
    """A model's file stem as a plain folder name inside the output folder: never ``.``,
    ``..`` or hidden, nothing but letters, digits, ``-`` and ``_``."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")
    return name[:60] or "model"


def write_reports(
    paths: Sequence[str],
    out_dir: str | Path,
    *,
    force: bool = False,
    view: str = "findings",
    fail_on: str = "error",
    use_waivers: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    map_timeout: float | None = None,
    max_nodes: int | None = None,
    survey: str | None = None,
    min_group: int | None = None,
    calibration: str | None = None,
) -> ReportRun:
    """Check, score and report each model into ``out_dir`` (created when needed).

    With ``survey`` (a POET-style CSV, see ``docs/survey.md``) each report gains an
    Experience section and the GAP findings, which count like any other finding;
    ``min_group`` is the survey's suppression threshold. With ``calibration`` (a folder
    ``sdsaudit calibrate -o`` wrote), each report gains the section "The process as
    recorded".

    Writes ``report.html``, ``report.md``, ``report.json`` and ``map.svg`` per
    model. Every model is loaded and every file rendered before anything is
    written, and every target is checked first: an existing file is refused
    (:class:`~sdsaudit.errors.UsageError`) unless ``force``. Writes are atomic.
    When a map cannot be drawn the report still ships, with the map in words
    and a visible note; ``map.svg`` is then not written, a warning is returned,
    and the exit code is unchanged. The exit code is ``check``'s for ``fail_on``.
    """
    from .analysis.engine import exit_code
    from .audit import prepare
    from .files import refuse_existing
    from .model.catalogue import load_catalogue
    from .render.draw import DEFAULT_MAX_NODES, DEFAULT_TIMEOUT
    from .render.report import render_report

    models = load_models(paths, max_bytes=max_bytes)
    folders = report_folders(paths, out_dir)
    refuse_existing([f / name for f in folders for name in REPORT_FILES], force)

    catalogue = load_catalogue()
    summary = None
    if survey is not None:
        from .survey.reader import read_survey

        # each model's gap checks use its own council's answers from a pooled file
        councils = tuple(m.council for m in models)
        summary = read_survey(survey, min_group=min_group, councils=councils)
    recorded = None
    if calibration is not None:
        from .calibrate.view import build_view, read_calibration

        calibrated = read_calibration(calibration)
        recorded = build_view(calibrated)
    results, rendered, warnings = [], [], []
    for model, folder in zip(models, folders, strict=True):
        audit = prepare(model, catalogue, use_waivers=use_waivers, survey=summary)
        files = render_report(
            model,
            audit.result,
            audit.scores,
            audit.catalogue,
            view=view,
            timeout=DEFAULT_TIMEOUT if map_timeout is None else map_timeout,
            max_nodes=DEFAULT_MAX_NODES if max_nodes is None else max_nodes,
            experience=audit.experience,
            numbered=audit.numbered,
            calibration=recorded,
        )
        result = audit.result
        if recorded is not None and calibrated["model"].get("council") != model.council:
            warnings.append(
                f"{model.path}: the calibration in {calibration} is of another council's model "
                f"({calibrated['model'].get('council')}); check that it belongs to this report"
            )
        if files.map_note:
            warnings.append(
                f"{model.path}: the map could not be drawn ({files.map_note}); "
                f"the report shows the map in words instead"
            )
        results.append(result)
        rendered.append((folder, files))

    # every model's files are one set, written as a whole; a map that could not be drawn
    # is None, so no stale map.svg is left beside a report that says it has none
    out = Path(out_dir)
    outputs: dict[str, str | bytes | None] = {}
    for folder, files in rendered:
        where = folder.relative_to(out)
        outputs[str(where / "report.html")] = files.html
        outputs[str(where / "report.md")] = files.markdown
        outputs[str(where / "report.json")] = files.json
        outputs[str(where / "map.svg")] = files.svg
    written = write_set(out, outputs, force=force)
    return ReportRun(tuple(written), tuple(warnings), exit_code(results, fail_on))


def map_output(
    path: str,
    out: str | Path,
    *,
    view: str = "findings",
    force: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Path:
    """Draw the process map of the model at ``path`` into ``out``; the format follows
    its suffix (``.svg``, ``.png``, ``.pdf``, ``.dot``). Refuses an existing file unless
    ``force``. Raises :class:`~sdsaudit.render.draw.MapUnavailable` (an
    :class:`~sdsaudit.errors.SdsauditError`) when ``dot`` cannot draw it."""
    from .analysis.engine import check_model
    from .files import refuse_existing
    from .render.draw import format_of, map_svg, render_map
    from .render.map import build_map, map_description, map_title

    target = Path(out)
    fmt = format_of(target)
    refuse_existing([target], force)
    model = load_model(path, max_bytes=max_bytes)
    result = check_model(model) if view != "plain" else None
    if fmt == "svg":
        return write_atomic(target, map_svg(model, result, view), force=True)
    data = render_map(
        build_map(model, result, view),
        fmt,
        title=map_title(model, view),
        description=map_description(model, result, view),
    )
    return write_atomic(target, data, force=True)


# --------------------------------------------------------------------------- stock-take,
# benchmark and redesign live in their own modules; they are re-exported lazily (below)
# because they pull in rendering, which the quicker commands do not need.

_ELSEWHERE = {
    "compare_paths": "stocktake.compare_output",
    "compare_models": "stocktake.compare",
    "new_since_baseline": "stocktake.baseline",
    "write_benchmark": "stocktake.benchmark",
    "benchmark_models": "stocktake.benchmark",
    "whatif": "stocktake.redesign",
    "redesign": "stocktake.redesign",
    "load_patch": "stocktake.patch",
    "apply_patch_file": "stocktake.patch_apply",
}


def __getattr__(name: str):
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(f".{_ELSEWHERE[name]}", __package__), name)
    raise AttributeError(f"module 'sdsaudit.api' has no attribute {name!r}")


# --------------------------------------------------------------------------- survey evidence


@dataclass(frozen=True)
class SurveyRun:
    """What :func:`write_survey` did: files written, the summary to print, the exit code."""

    written: tuple[Path, ...]
    text: str
    exit_code: int


SURVEY_FILES = ("survey.json", "survey.md", "survey.html")


def write_survey(
    survey_path: str,
    out_dir: str | Path,
    *,
    model_path: str | None = None,
    force: bool = False,
    min_group: int | None = None,
    fail_on: str = "error",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SurveyRun:
    """Summarise the survey at ``survey_path`` (and, with ``model_path``, check it against
    the model's claims) into ``survey.json``, ``survey.md`` and ``survey.html`` in ``out_dir``.

    Every target is checked before anything is read or written: an existing file is
    refused (:class:`~sdsaudit.errors.UsageError`) unless ``force``. Groups of fewer than
    ``min_group`` respondents (default: ``criteria/survey.yaml``) are never shown.
    The exit code is 1 when an unwaived gap finding is at or above ``fail_on``
    (``error``, ``warning``, ``info`` or ``never``), 2 when a gap rule failed, else 0.
    """
    from .analysis.engine import FAIL_ON, exit_code
    from .errors import UsageError
    from .files import refuse_existing
    from .survey.experience import render_survey, survey_text
    from .survey.gaps import check_gaps
    from .survey.reader import read_survey
    from .version import __version__

    if min_group is not None and min_group < 1:
        raise UsageError(f"--min-group must be at least 1, not {min_group}")
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be error, warning, info or never, not {fail_on!r}")
    targets = [Path(out_dir) / name for name in SURVEY_FILES]
    refuse_existing(targets, force)
    model = load_model(model_path, max_bytes=max_bytes) if model_path else None
    councils = (model.council,) if model is not None else ()
    summary = read_survey(survey_path, min_group=min_group, councils=councils)
    gap = check_gaps(model, summary) if model is not None else None
    files = render_survey(summary, gap, __version__)
    written = tuple(write_set(out_dir, {t.name: files[t.name] for t in targets}, force=force))
    code = exit_code([gap] if gap is not None else [], fail_on)
    return SurveyRun(written, survey_text(summary, gap), code)


# --------------------------------------------------------------------------- workshop


def workshop(
    path: str,
    *,
    port: int | None = None,
    open_browser: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the workshop page for the model file at ``path`` on 127.0.0.1 until Ctrl+C.

    The model must be valid. ``announce`` gets the address to open (with its one-time
    token) and the closing line. Needs the optional extra ``sdsaudit[workshop]``."""
    from .errors import UsageError

    if path == "-":
        raise UsageError("the workshop edits a file: give the model's path, not '-'")
    try:
        from .workshop.server import serve
        from .workshop.session import Workshop
    except ImportError as exc:
        raise UsageError(
            f"the workshop needs the optional extra ({exc.name} is missing): "
            "pip install 'sdsaudit[workshop]'"
        ) from None
    serve(
        Workshop.open(path, max_bytes=max_bytes),
        port=port,
        open_browser=open_browser,
        announce=announce,
    )


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationRun:
    """What :func:`write_calibration` did: files written (the XES file last) and the text
    to print."""

    written: tuple[Path, ...]
    text: str


def write_calibration(
    model_path: str,
    events_path: str,
    map_path: str | None = None,
    *,
    out_dir: str | Path | None = None,
    fmt: str = "text",
    min_group: int = 10,
    group: str | None = None,
    drop: Sequence[str] = (),
    preset: str | None = None,
    xes: str | None = None,
    force: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> CalibrationRun:
    """Set the model at ``model_path`` beside the event log at ``events_path``
    (``sdsaudit calibrate``; ``docs/calibrate.md``). Needs the extra ``sdsaudit[calibrate]``.

    With ``out_dir``, writes ``calibration.json``, ``calibration.md``, ``calibration.html``
    and ``calibrated.patch.yaml`` there as one set (every target is checked before the log
    is read: an existing file is refused unless ``force``); otherwise ``text`` is the
    calibration in ``fmt`` (``text`` or ``json``). With ``xes``, the mapped log is written
    there as XES. Bad input raises :class:`ModelError` with every problem; nothing is
    written then."""
    import json

    from .calibrate.run import CALIBRATION_FILES, calibrate, calibration_files
    from .calibrate.view import text_summary
    from .errors import UsageError
    from .files import refuse_existing

    if fmt not in ("text", "json"):
        raise UsageError(f"--format must be text or json, not {fmt!r}")
    if out_dir is not None:
        refuse_existing([Path(out_dir) / name for name in CALIBRATION_FILES], force)
    run = calibrate(
        model_path,
        events_path,
        map_path,
        min_group=min_group,
        group=group,
        drop=drop,
        preset=preset,
        max_bytes=max_bytes,
        xes=xes,
        force=force,
    )
    files = calibration_files(run, model_path, max_bytes)
    doc = run.calibration.as_dict()
    text = text_summary(doc) if fmt == "text" else json.dumps(doc, indent=2) + "\n"
    written: list[Path] = []
    if out_dir is not None:
        written = write_set(out_dir, files, force=force)
    if run.xes_written is not None:
        written.append(run.xes_written)
    return CalibrationRun(tuple(written), text)
