"""The command line: parse arguments, call the library, write output, pick the exit code.

Each command is a few lines; the work happens in the library. Exit codes:
0 done and clean, 1 findings at or above ``--fail-on``, 2 could not do it.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from .errors import EXIT_ERROR, EXIT_OK, SdsauditError
from .model.source import DEFAULT_MAX_BYTES
from .version import __version__
from .vocab import FAIL_ON


class _Group(click.Group):
    """Turns every sdsaudit error into ``FILE:LINE:COL: error: ...`` lines and exit 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SdsauditError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            for line in exc.lines():
                click.echo(line, err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("sdsaudit: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            else:
                click.echo(
                    f"sdsaudit: internal error: {type(exc).__name__}: {exc}. "
                    "Run again with --debug for details, and please report it.",
                    err=True,
                )
            ctx.exit(EXIT_ERROR)


# ---------------------------------------------------------------- options several commands share


def _fail_on(what: str = "finding") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--fail-on",
        type=click.Choice(list(FAIL_ON)),
        default="error",
        show_default=True,
        help=f"Exit 1 when an unwaived {what} is at or above this severity.",
    )


_no_waivers = click.option(
    "--no-waivers", is_flag=True, help="Ignore the models' waivers: report everything."
)


def _output(
    help_text: str, *, metavar: str = "DIR", required: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("-o", "--output", "out", required=required, metavar=metavar, help=help_text)


def _force(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--force", is_flag=True, help=help_text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sdsaudit")
@click.option("--debug", is_flag=True, help="Show a full traceback on errors.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Refuse model files larger than this.",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, max_bytes: int) -> None:
    """Audit a council's personal budget / self-directed support process."""
    ctx.ensure_object(dict)
    ctx.obj.update(debug=debug, max_bytes=max_bytes)


def _max_bytes() -> int:
    return click.get_current_context().find_root().obj["max_bytes"]


def _max_source_bytes() -> int | None:
    """``--max-bytes`` when given on the command line, for sources to import (whose own
    default is larger than a model's: a workbook is bigger than its YAML)."""
    root = click.get_current_context().find_root()
    given = root.get_parameter_source("max_bytes") == click.core.ParameterSource.COMMANDLINE
    return root.obj["max_bytes"] if given else None


@main.command()
@click.argument("models", nargs=-1, required=True)
def validate(models: tuple[str, ...]) -> None:
    """Read and validate MODELS; print nothing but errors."""
    from .api import validate_models

    problems = validate_models(models, max_bytes=_max_bytes())
    for line in problems:
        click.echo(line, err=True)
    sys.exit(EXIT_ERROR if problems else EXIT_OK)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the process-model format."""
    from .model.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@click.argument("file")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "xlsx"]),
    default="yaml",
    show_default=True,
    help="A commented YAML model, or the empty workbook template.",
)
@_force("Replace FILE if it exists.")
def init(file: str, fmt: str, force: bool) -> None:
    """Write a commented starter model (or, with --format xlsx, the workbook template) to FILE."""
    from .api import write_starter, write_template

    if fmt == "xlsx":
        path = write_template(file, force=force)
        click.echo(f"wrote {path}: fill it in, then run 'sdsaudit import {path} -o model.yaml'")
        return
    path = write_starter(file, force=force)
    click.echo(f"wrote {path}: edit it, then run 'sdsaudit validate {path}'")


@main.command(name="import")
@click.argument("source")
@_output("The model to write (YAML).", metavar="MODEL.yaml")
@click.option("--page", help="The page to read, in a diagrams.net file with several.")
@_force("Replace MODEL.yaml if it exists.")
def import_(source: str, out: str, page: str | None, force: bool) -> None:
    """Read a process from SOURCE (.xlsx, .csv, .drawio, .xml or .bpmn) and write a model."""
    from .api import import_model

    done = import_model(source, out, page=page, force=force, max_bytes=_max_source_bytes())
    click.echo(f"wrote {done.path}")
    if done.to_fill:
        click.echo("to finish this model, fill in:")
        for line in done.to_fill:
            click.echo(f"  - {line}")


@main.command()
@click.argument("model")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv", "drawio", "bpmn"]),
    required=True,
    help="The format to write.",
)
@_output("The file to write.", metavar="FILE")
@_force("Replace FILE if it exists.")
def export(model: str, fmt: str, out: str, force: bool) -> None:
    """Write MODEL as a workbook, CSV, diagrams.net or BPMN file, laid out to be edited."""
    from .api import export_model

    path = export_model(model, fmt, out, force=force, max_bytes=_max_bytes())
    click.echo(f"wrote {path}")


@main.command()
@click.argument("model")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A readable table, or JSON.",
)
def score(model: str, fmt: str) -> None:
    """Score MODEL: heard, simple and in control, per step and overall, with the reasons
    behind every score, and the Making it Real theme statuses."""
    from .api import score_output

    click.echo(score_output(model, fmt=fmt, max_bytes=_max_bytes()), nl=False)


@main.command()
@click.argument("models", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="One line a finding, JSON, or SARIF 2.1.0.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="IDS",
    help="Run only these rules: ids, families (AUTH) or globs (SEQ-0*); "
    "comma-separated or repeated.",
)
@click.option(
    "--ignore", multiple=True, metavar="IDS", help="Do not run these rules (as --select)."
)
@_fail_on()
@_no_waivers
@click.option(
    "--baseline",
    metavar="REPORT.json",
    help="Fail only on findings that are new since this report.json or check JSON.",
)
def check(
    models: tuple[str, ...],
    fmt: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str,
    no_waivers: bool,
    baseline: str | None,
) -> None:
    """Run the rules on MODELS ('-' reads standard input) and report the findings."""
    from .analysis.engine import exit_code
    from .render import check_output as api

    results = api.check_models(
        models, select=select, ignore=ignore, use_waivers=not no_waivers, max_bytes=_max_bytes()
    )
    render = {"text": api.check_text, "json": api.check_json, "sarif": api.check_sarif}[fmt]
    click.echo(render(results))
    for line in api.rule_error_lines(results):
        click.echo(line, err=True)
    if baseline:
        from .stocktake.baseline import new_since_baseline

        run = new_since_baseline(results, baseline)
        click.echo(run.summary(baseline), err=True)
        results = list(run.results)
    sys.exit(exit_code(results, fail_on))


@main.command()
@click.argument("rule_id", required=False, metavar="[ID]")
def rules(rule_id: str | None) -> None:
    """List the rule catalogue, or explain one rule (by id or slug)."""
    from .render.check_output import rules_text

    click.echo(rules_text(rule_id))


MAP_VIEWS = ("findings", "plain", "easy-read")


@main.command()
@click.argument("models", nargs=-1, required=True)
@_output(
    "Folder for the reports (created when needed; one subfolder per model when there are several).",
)
@_force("Replace existing report files.")
@click.option(
    "--view",
    type=click.Choice(MAP_VIEWS),
    default="findings",
    show_default=True,
    help="Which map the report shows.",
)
@_fail_on()
@_no_waivers
@click.option(
    "--survey",
    "survey_file",
    metavar="SURVEY.csv",
    help="Survey answers to add as an Experience section, with the GAP checks.",
)
@click.option(
    "--min-group",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="With --survey: hide groups of fewer than N respondents [default: 10].",
)
@click.option(
    "--calibration",
    "calibration_dir",
    metavar="DIR",
    help="Add 'The process as recorded' from the folder 'sdsaudit calibrate -o' wrote.",
)
def report(
    models: tuple[str, ...],
    out: str,
    force: bool,
    view: str,
    fail_on: str,
    no_waivers: bool,
    survey_file: str | None,
    min_group: int | None,
    calibration_dir: str | None,
) -> None:
    """Write report.html, report.md, report.json and map.svg for each of MODELS."""
    from .api import write_reports

    run = write_reports(
        models,
        out,
        force=force,
        view=view,
        fail_on=fail_on,
        use_waivers=not no_waivers,
        max_bytes=_max_bytes(),
        survey=survey_file,
        min_group=min_group,
        calibration=calibration_dir,
    )
    for warning in run.warnings:
        click.echo(f"sdsaudit: warning: {warning}", err=True)
    for path in run.written:
        click.echo(f"wrote {path}")
    for path in (p for p in run.written if p.name == "report.html"):
        click.echo(f"open {path} in a web browser to read the report")
    sys.exit(run.exit_code)


@main.command(name="map")
@click.argument("model")
@_output(
    "Where to write the map; .svg, .png, .pdf or .dot.",
    metavar="FILE",
)
@click.option(
    "--view",
    type=click.Choice(MAP_VIEWS),
    default="findings",
    show_default=True,
    help="Problems numbered on the map, a plain map, or an easy read map.",
)
@_force("Replace FILE if it exists.")
def map_command(model: str, out: str, view: str, force: bool) -> None:
    """Draw the process map of MODEL; the format follows FILE's suffix."""
    from .api import map_output

    click.echo(f"wrote {map_output(model, out, view=view, force=force, max_bytes=_max_bytes())}")


@main.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="What to print (without -o).",
)
@_output(
    "Write compare.txt, .json, .md, .html and map.svg into DIR instead.",
    required=False,
)
@_force("Replace existing files in DIR.")
def compare(old: str, new: str, fmt: str, out: str | None, force: bool) -> None:
    """The stock-take: what changed from OLD to NEW (two versions of a model)."""
    from .api import compare_paths

    text, written = compare_paths(
        old, new, out_dir=out, fmt=fmt, force=force, max_bytes=_max_bytes()
    )
    if text is not None:
        click.echo(text, nl=False)
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("survey_file", metavar="SURVEY.csv")
@click.option(
    "--model",
    "model_path",
    metavar="MODEL",
    help="Process model to set beside the survey (adds the GAP checks).",
)
@_output(
    "Folder for survey.json, survey.md and survey.html (created when needed).",
)
@_force("Replace existing survey files.")
@click.option(
    "--min-group",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Hide groups of fewer than N respondents [default: 10, criteria/survey.yaml].",
)
@_fail_on("GAP finding")
def survey(
    survey_file: str,
    model_path: str | None,
    out: str,
    force: bool,
    min_group: int | None,
    fail_on: str,
) -> None:
    """Summarise POET-style survey answers in SURVEY.csv, beside a process model."""
    from .api import write_survey

    run = write_survey(
        survey_file,
        out,
        model_path=model_path,
        force=force,
        min_group=min_group,
        fail_on=fail_on,
        max_bytes=_max_bytes(),
    )
    click.echo(run.text, nl=False)
    for path in run.written:
        click.echo(f"wrote {path}")
    sys.exit(run.exit_code)


@main.command()
@click.argument("models", nargs=-1, required=True)
@_output(
    "Folder for benchmark.html, .md, .csv and .json (created when needed).",
)
@click.option(
    "--anonymise",
    is_flag=True,
    help="Call the councils 'Council A, B, ...' and leave out names, titles and paths.",
)
@_force("Replace existing benchmark files.")
def benchmark(models: tuple[str, ...], out: str, anonymise: bool, force: bool) -> None:
    """Set several councils' MODELS side by side: scores, measures, ranks and quartiles."""
    from .api import write_benchmark

    for path in write_benchmark(
        models, out, anonymise=anonymise, force=force, max_bytes=_max_bytes()
    ):
        click.echo(f"wrote {path}")


@main.command()
@click.argument("model")
@click.argument("patch")
@_output(
    "Write to-be.yaml and the comparison (compare.txt, .json, .md, .html, map.svg) into DIR.",
    required=False,
)
@_force("Replace existing files in DIR.")
def whatif(model: str, patch: str, out: str | None, force: bool) -> None:
    """Apply the scenario PATCH to MODEL and show the effect, before and after."""
    from .api import whatif as run

    text, written = run(model, patch, out_dir=out, force=force, max_bytes=_max_bytes())
    click.echo(text if out is None else text.split("\n\n", 1)[0] + "\n", nl=False)
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("model")
@_output(
    "Folder for patch.yaml, to-be.yaml, redesign.json and the comparison.",
)
@_force("Replace existing files in DIR.")
def redesign(model: str, out: str, force: bool) -> None:
    """Propose changes to MODEL for the findings sdsaudit can fix, and measure them."""
    from .api import redesign as run

    text, written = run(model, out, force=force, max_bytes=_max_bytes())
    click.echo(text if not written else text.split("\n\n", 1)[0] + "\n", nl=False)
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("model")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="The port to listen on (on 127.0.0.1 only); a free one by default.",
)
@click.option("--no-browser", is_flag=True, help="Print the address but open no browser.")
def workshop(model: str, port: int | None, no_browser: bool) -> None:
    """A local page where a group changes MODEL together and sees what each change does."""
    from .api import workshop as run

    run(model, port=port, open_browser=not no_browser, max_bytes=_max_bytes(), announce=click.echo)


@main.command()
@click.argument("model")
@click.argument("events", metavar="EVENTS.csv")
@click.option(
    "--map",
    "map_path",
    metavar="MAP.yaml",
    help="Which step of MODEL each activity of the log is (optional with --preset cld).",
)
@_output("Write calibration.json, .md, .html and calibrated.patch.yaml into DIR.", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="What to print (without -o).",
)
@click.option(
    "--min-group",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    metavar="N",
    help="Hide every figure from fewer than N cases.",
)
@click.option(
    "--group", metavar="COLUMN", help="Figures for each value of COLUMN [default: group]."
)
@click.option(
    "--drop",
    multiple=True,
    metavar="COLUMN",
    help="A column never to read (one that looks like personal details); repeatable.",
)
@click.option(
    "--preset",
    type=click.Choice(["cld"]),
    help="Read a Client Level Data extract (requests, assessments, services, reviews).",
)
@click.option("--xes", metavar="FILE", help="Also write the mapped log as XES (row-level data).")
@_force("Replace existing files.")
def calibrate(
    model: str,
    events: str,
    map_path: str | None,
    out: str | None,
    fmt: str,
    min_group: int,
    group: str | None,
    drop: tuple[str, ...],
    preset: str | None,
    xes: str | None,
    force: bool,
) -> None:
    """Set MODEL beside the council's case records in EVENTS.csv: days, shares, the person's side."""
    from .api import write_calibration

    run = write_calibration(
        model,
        events,
        map_path,
        out_dir=out,
        fmt=fmt,
        min_group=min_group,
        group=group,
        drop=[d.strip() for item in drop for d in item.split(",") if d.strip()],
        preset=preset,
        xes=xes,
        force=force,
        max_bytes=_max_bytes(),
    )
    if out is None:
        click.echo(run.text, nl=False)
    for path in run.written:
        click.echo(f"wrote {path}")
