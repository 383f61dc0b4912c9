"""Benchmarking: several councils side by side on building-block scores and measures.

:func:`benchmark_models` checks and scores every model with the same rules and
weights and returns a frozen :class:`Benchmark`: each council's figures, its rank
on each measure, and the median and quartiles of each measure. It can be
anonymised for publication. :func:`render_benchmark` writes it as HTML,
Markdown, CSV and JSON.

Methods (also stated in every output):

* **Quartiles**: ``statistics.quantiles(values, n=4, method="inclusive")``, which
  treats the councils as the whole population (the lower quartile of 1, 2, 3, 4,
  5 is 2); with one council, every quartile is its own value. The median is the
  middle quartile.
* **Ranks**: standard competition ranking ("1224"): councils with equal values
  share the best rank, and the next rank is skipped. Higher is better for the
  building-block scores; fewer is better for sign-offs, hand-offs, forms,
  assessments, days, people giving up and problems. The number of steps and the
  share reaching support are shown but not ranked: neither is good or bad in
  itself. A council without a value (a route measure that cannot be worked out)
  is not ranked and is left out of the median and quartiles.
* **Unknown times** (format 1.1 ``days: unknown``): a time resting on steps whose
  days nobody knows is shown as "at least N" (the unknown days counted as 0). It is
  never ranked as if known: it gets no rank, only the best rank it could have (one
  after the councils whose known figure is below N), and it is left out of the median
  and quartiles.
* **Best cases**: a score that counts left-out policies or unknown times at their
  worst is shown with its best case beside it ("41 (up to 63)"); ranks use the score.
* **Start groups** (format 1.1 ``start`` as a list): a council with groups of people
  starting in different places is benchmarked on its overall figures (each group
  weighed by its share), with a note saying how many groups it has.
* **Order**: councils appear in alphabetical order of their names. Anonymised,
  they are lettered "Council A, B, ..." in order of the published figures
  (highest average building-block score first, then each figure in turn), so
  the letters reveal neither the input order nor the names.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.findings import BLOCKS
from ..errors import UsageError
from ..files import refuse_existing
from ..model.catalogue import Catalogue, load_catalogue
from ..model.loader import load_models
from ..model.objects import Model
from ..model.source import DEFAULT_MAX_BYTES
from ..render.jinja import render
from ..render.present import BLOCK_NAMES, clean
from ..version import __version__
from ..words import plural, tidy
from .compare import Assessed, assess, metric_label
from .compare_output import number_words, write_outputs

# --------------------------------------------------------------------------- measures


@dataclass(frozen=True)
class Measure:
    """One column of the benchmark: ``better`` is ``higher``, ``lower`` or ``None``
    (shown, not ranked)."""

    key: str
    label: str
    better: str | None
    group: str  # "score" or "measure"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "better": self.better, "group": self.group}


MEASURES: tuple[Measure, ...] = (
    *(Measure(b, BLOCK_NAMES[b], "higher", "score") for b in BLOCKS),
    Measure("approvals_max", metric_label("approvals_max"), "lower", "measure"),
    Measure("handoffs_max", metric_label("handoffs_max"), "lower", "measure"),
    Measure("forms_max", metric_label("forms_max"), "lower", "measure"),
    Measure("assessments_max", metric_label("assessments_max"), "lower", "measure"),
    Measure(
        "expected_days_to_support", metric_label("expected_days_to_support"), "lower", "measure"
    ),
    Measure("worst_days_to_support", metric_label("worst_days_to_support"), "lower", "measure"),
    Measure("share_withdrawing", metric_label("share_withdrawing"), "lower", "measure"),
    Measure("problems", "Problems found (not accepted by a waiver)", "lower", "measure"),
    Measure("steps", metric_label("steps"), None, "measure"),
    Measure("share_reaching_support", metric_label("share_reaching_support"), None, "measure"),
)
"""The columns, in the order every output shows them."""

QUARTILE_METHOD = 'statistics.quantiles(values, n=4, method="inclusive")'
RANK_METHOD = (
    "standard competition ranking (1224): equal values share the best rank and "
    "the next rank is skipped"
)


def rank(values: Sequence[float | None], higher_is_better: bool) -> list[int | None]:
    """Competition ranks ("1224") of ``values``; ``None`` values get no rank."""
    present = [v for v in values if v is not None]
    out: list[int | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        better = sum(1 for v in present if (v > value if higher_is_better else v < value))
        out.append(better + 1)
    return out


@dataclass(frozen=True)
class Summary:
    """The spread of one measure over the councils that have it."""

    n: int
    minimum: float | None
    lower_quartile: float | None
    median: float | None
    upper_quartile: float | None
    maximum: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "min": self.minimum,
            "lower_quartile": self.lower_quartile,
            "median": self.median,
            "upper_quartile": self.upper_quartile,
            "max": self.maximum,
        }


def summarise(values: Sequence[float | None]) -> Summary:
    """Median and quartiles by :data:`QUARTILE_METHOD` (``None`` values left out)."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return Summary(0, None, None, None, None, None)
    if len(present) == 1:
        q1 = q2 = q3 = present[0]
    else:
        q1, q2, q3 = statistics.quantiles(present, n=4, method="inclusive")
    return Summary(
        len(present),
        tidy(present[0], 4),
        tidy(q1, 4),
        tidy(q2, 4),
        tidy(q3, 4),
        tidy(present[-1], 4),
    )


# --------------------------------------------------------------------------- the benchmark


@dataclass(frozen=True)
class CouncilRow:
    """One council's figures and ranks. ``council``, ``title``, ``path`` and ``as_of``
    are ``None`` when the benchmark is anonymised."""

    label: str
    council: str | None
    title: str | None
    path: str | None
    as_of: str | None
    values: dict[str, int | float | None]
    ranks: dict[str, int | None]
    findings: dict[str, int]
    at_least: dict[str, int | float] = field(default_factory=dict)
    """Measures whose value is ``None`` because they rest on unknown days: the lower bound."""
    rank_at_best: dict[str, int] = field(default_factory=dict)
    """For each ``at_least`` measure, the best rank the council could have."""
    best: dict[str, int] = field(default_factory=dict)
    """Scores with a best case above them (left-out policies and unknown days at best)."""
    days_unknown: tuple[str, ...] = ()
    """The steps whose days nobody knows, on the way to support."""
    start_groups: int = 0
    """How many start groups the model has (0: one start for everyone)."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label}
        if self.council is not None:
            out.update(council=self.council, title=self.title, path=self.path, as_of=self.as_of)
        out.update(values=dict(self.values), ranks=dict(self.ranks), findings=dict(self.findings))
        # the format 1.1 keys only where they say something, so version-1 output is unchanged
        if self.at_least:
            out.update(at_least=dict(self.at_least), rank_at_best=dict(self.rank_at_best))
            if self.council is not None:  # step ids could name a council
                out["days_unknown"] = list(self.days_unknown)
        if self.best:
            out["best"] = dict(self.best)
        if self.start_groups:
            out["start_groups"] = self.start_groups
        return out


@dataclass(frozen=True)
class Benchmark:
    """Councils side by side: rows in the order shown, and the spread of each measure."""

    rows: tuple[CouncilRow, ...]
    summary: dict[str, Summary]
    anonymised: bool
    measures: tuple[Measure, ...] = MEASURES

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``benchmark.json``)."""
        return {
            "sdsaudit_version": __version__,
            "anonymised": self.anonymised,
            "method": {
                "quartiles": QUARTILE_METHOD,
                "ranks": RANK_METHOD,
                "order": (
                    "by published figures, highest average building-block score first"
                    if self.anonymised
                    else "alphabetical by council name"
                ),
            },
            "measures": [m.as_dict() for m in self.measures],
            "councils": [r.as_dict() for r in self.rows],
            "summary": {k: s.as_dict() for k, s in self.summary.items()},
        }


def _values(side: Assessed) -> dict[str, int | float | None]:
    metrics = side.result.metrics
    values: dict[str, int | float | None] = {b: side.scores.overall.of(b) for b in BLOCKS}
    for measure in MEASURES:
        if measure.group == "measure" and measure.key != "problems":
            values[measure.key] = metrics.get(measure.key)
    values["problems"] = sum(1 for f in side.result.findings if f.counts)
    return values


def _at_least(side: Assessed) -> dict[str, int | float]:
    """The lower bounds of the measures that rest on unknown days."""
    metrics = side.result.metrics
    return {
        m.key: metrics[f"{m.key}_at_least"]
        for m in MEASURES
        if metrics.get(m.key) is None and metrics.get(f"{m.key}_at_least") is not None
    }


def _best(side: Assessed) -> dict[str, int]:
    """The best case of each score that has one above it."""
    scores = side.scores
    return {
        b: scores.overall_best.of(b)
        for b in BLOCKS
        if scores.overall_best.of(b) != scores.overall.of(b)
    }


def rank_at_best(bound: float, known: Sequence[float | None], higher_is_better: bool) -> int:
    """The best rank a council whose figure is at least ``bound`` could have: one after the
    councils whose known figure is certainly better."""
    return 1 + sum(
        1 for v in known if v is not None and (v > bound if higher_is_better else v < bound)
    )


def _findings(side: Assessed) -> dict[str, int]:
    counted = [f for f in side.result.findings if f.counts]
    return {s: sum(1 for f in counted if f.severity == s) for s in ("error", "warning", "info")} | {
        "waived": sum(1 for f in side.result.findings if f.waived)
    }


def letters(count: int) -> list[str]:
    """``A, B, ..., Z, AA, AB, ...``: enough labels for any number of councils."""
    out: list[str] = []
    for n in range(count):
        label, k = "", n
        while True:
            label = string.ascii_uppercase[k % 26] + label
            k = k // 26 - 1
            if k < 0:
                break
        out.append(label)
    return out


def _published_order(
    values: dict[str, int | float | None], fingerprint: str, extra: dict[str, Any] | None = None
) -> tuple:
    """Sort key from the published figures only (best first; ``extra`` holds the other
    published figures: lower bounds, best cases, groups), then a fingerprint that only
    breaks ties between identical rows."""
    extra = extra or {}
    key: list[Any] = [-(sum(values[b] or 0 for b in BLOCKS) / len(BLOCKS))]
    for measure in MEASURES:
        value = values.get(measure.key)
        missing = value is None
        number = 0 if value is None else value
        key.append((missing, -number if measure.better == "higher" else number))
    key.append(tuple(sorted(extra.items())))
    key.append(fingerprint)
    return tuple(key)


def benchmark_models(
    models: Sequence[Model | Assessed],
    *,
    anonymise: bool = False,
    catalogue: Catalogue | None = None,
) -> Benchmark:
    """Check, score and set side by side ``models`` (one per council)."""
    catalogue = catalogue or load_catalogue()
    sides = [m if isinstance(m, Assessed) else assess(m, catalogue) for m in models]
    entries = [(_values(s), _findings(s), s) for s in sides]
    if anonymise:

        def fingerprint(side: Assessed) -> str:
            text = "\0".join((side.model.council, side.model.title, str(side.model.as_of)))
            return hashlib.sha256(text.encode("utf-8")).hexdigest()

        entries.sort(key=lambda e: _published_order(e[0], fingerprint(e[2]), _extra(e[2])))
        labels = [f"Council {x}" for x in letters(len(entries))]
    else:
        entries.sort(
            key=lambda e: (
                clean(e[2].model.council).casefold(),
                str(e[2].model.as_of),
                e[2].result.path,
            )
        )
        labels = _named_labels([e[2] for e in entries])
    ranks = {
        m.key: rank([e[0].get(m.key) for e in entries], m.better == "higher")
        for m in MEASURES
        if m.better is not None
    }
    rows = []
    for n, ((values, counts, side), label) in enumerate(zip(entries, labels, strict=True)):
        bounds = _at_least(side)
        rows.append(
            CouncilRow(
                label=label,
                council=None if anonymise else clean(side.model.council),
                title=None if anonymise else clean(side.model.title),
                path=None if anonymise else side.result.path,
                as_of=None if anonymise else side.model.as_of.isoformat(),
                values=values,
                ranks={k: r[n] for k, r in ranks.items()},
                findings=counts,
                at_least=bounds,
                rank_at_best={
                    m.key: rank_at_best(
                        bounds[m.key], [e[0].get(m.key) for e in entries], m.better == "higher"
                    )
                    for m in MEASURES
                    if m.key in bounds and m.better is not None
                },
                best=_best(side),
                days_unknown=tuple(side.result.metrics.get("days_unknown") or ()),
                start_groups=len(side.model.entries) if side.model.grouped else 0,
            )
        )
    summary = {m.key: summarise([e[0].get(m.key) for e in entries]) for m in MEASURES}
    return Benchmark(tuple(rows), summary, anonymise)


def _extra(side: Assessed) -> dict[str, Any]:
    """The published figures beside the values (for the anonymised order)."""
    return {
        "at_least": tuple(sorted(_at_least(side).items())),
        "best": tuple(sorted(_best(side).items())),
        "groups": len(side.model.entries) if side.model.grouped else 0,
    }


def _named_labels(sides: Sequence[Assessed]) -> list[str]:
    names = [clean(s.model.council) for s in sides]
    out = []
    for side, name in zip(sides, names, strict=True):
        if names.count(name) > 1:
            name = f"{name} (as of {side.model.as_of})"
        out.append(name)
    return [
        f"{name} ({s.result.path})" if out.count(name) > 1 else name
        for name, s in zip(out, sides, strict=True)
    ]


# --------------------------------------------------------------------------- output


def rank_words(rank_value: int | None, of: int) -> str:
    """``'2nd of 5'`` (or ``'not ranked'``)."""
    if rank_value is None:
        return "not ranked"
    suffix = (
        "th"
        if 10 <= rank_value % 100 <= 20
        else {1: "st", 2: "nd", 3: "rd"}.get(rank_value % 10, "th")
    )
    return f"{rank_value}{suffix} of {of}"


def value_words(key: str, value: Any) -> str:
    """A figure for people (shares as percentages, missing as 'not known')."""
    return number_words(value, key)


def cell_value(row: CouncilRow, key: str) -> str:
    """A council's figure for people: ``at least 34.5`` where it rests on unknown days, and
    a score's best case beside it (``41 (up to 63)``)."""
    if key in row.at_least:
        return f"at least {value_words(key, row.at_least[key])}"
    words = value_words(key, row.values.get(key))
    if key in row.best:
        words += f" (up to {value_words(key, row.best[key])})"
    return words


def cell_rank(row: CouncilRow, measure: Measure, of: int) -> str:
    """A council's rank in words; a figure resting on unknown days is not ranked, with the
    best rank it could have."""
    if not measure.better:
        return "not ranked"
    if measure.key in row.rank_at_best:
        best = rank_words(row.rank_at_best[measure.key], of)
        return f"not ranked: rests on unknown days; {best} at best"
    return rank_words(row.ranks.get(measure.key), of)


def benchmark_notes(bench: Benchmark) -> tuple[str, ...]:
    """What a reader needs to know about particular councils: start groups, times resting
    on unknown days, scores with a best case (nothing for a version-1 benchmark)."""
    notes = []
    for r in bench.rows:
        if r.start_groups:
            notes.append(
                f"{r.label} has {plural(r.start_groups, 'start group')} (groups of people who "
                "start in "
                "different places): its figures are for everyone, each group weighed by its "
                "share."
            )
    unknown = [r for r in bench.rows if r.at_least]
    for r in unknown:
        steps = (
            f"the days at {', '.join(r.days_unknown)} are not known"
            if not bench.anonymised and r.days_unknown
            else f"the days at {plural(len(r.days_unknown), 'step')} are not known"
        )
        notes.append(
            f"{r.label}: {steps}, so its times are shown as 'at least' (those days counted as "
            "0) and are not ranked or counted in the medians and quartiles."
        )
    if unknown:
        notes.append(
            "A council whose time is 'at least N' could, once its days are known, come "
            "before councils whose time is above N: ranks of times are among the councils "
            "whose times are known."
        )
    if any(r.best for r in bench.rows):
        notes.append(
            "A score shown as '41 (up to 63)' counts the policies the model leaves out and the "
            "times nobody knows at their worst; the second figure is the score with them at "
            "their best. Ranks use the score."
        )
    return tuple(notes)


@dataclass(frozen=True)
class Cell:
    value: str
    rank: str


@dataclass(frozen=True)
class RowView:
    label: str
    detail: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class SummaryView:
    label: str
    better: str
    cells: tuple[str, ...]  # n, min, lower quartile, median, upper quartile, max


@dataclass(frozen=True)
class BenchmarkView:
    """Everything the benchmark templates show, in words."""

    heading: str
    version: str
    anonymised: bool
    count: int
    scores: tuple[Measure, ...]
    measures: tuple[Measure, ...]
    score_rows: tuple[RowView, ...]
    measure_rows: tuple[RowView, ...]
    summary: tuple[SummaryView, ...]
    quartile_method: str
    rank_method: str
    order: str
    notes: tuple[str, ...] = ()


def build_benchmark_view(bench: Benchmark) -> BenchmarkView:
    """The view-model of ``templates/benchmark.*.j2``."""
    count = len(bench.rows)
    scores = tuple(m for m in bench.measures if m.group == "score")
    measures = tuple(m for m in bench.measures if m.group == "measure")

    def rows(columns: Sequence[Measure]) -> tuple[RowView, ...]:
        return tuple(
            RowView(
                r.label,
                "" if bench.anonymised else f"{r.title}, as of {r.as_of}",
                tuple(Cell(cell_value(r, m.key), cell_rank(r, m, count)) for m in columns),
            )
            for r in bench.rows
        )

    better = {"higher": "higher is better", "lower": "fewer is better", None: "not ranked"}
    summary = tuple(
        SummaryView(
            m.label,
            better[m.better],
            tuple(
                str(bench.summary[m.key].n)
                if i == 0
                else value_words(m.key, getattr(bench.summary[m.key], name))
                for i, name in enumerate(
                    ("n", "minimum", "lower_quartile", "median", "upper_quartile", "maximum")
                )
            ),
        )
        for m in bench.measures
    )
    return BenchmarkView(
        heading=(
            "Benchmark of "
            + (f"{count} councils (anonymised)" if bench.anonymised else f"{count} councils")
        ),
        version=__version__,
        anonymised=bench.anonymised,
        count=count,
        scores=scores,
        measures=measures,
        score_rows=rows(scores),
        measure_rows=rows(measures),
        summary=summary,
        quartile_method=QUARTILE_METHOD,
        rank_method=RANK_METHOD,
        order=bench.as_dict()["method"]["order"],
        notes=benchmark_notes(bench),
    )


def benchmark_csv(bench: Benchmark) -> str:
    """``benchmark.csv``: one row per council (value and rank of every measure), then the
    median and quartile rows. Cells that a spreadsheet would run as a formula are quoted
    with a leading apostrophe. When any council has one, a score's best case follows it
    (``KEY_up_to``, the score itself where it has none), and when any time rests on
    unknown days its lower bound does (``KEY_at_least``; its value and rank are empty):
    these columns appear only then, so a version-1 benchmark's file is as it was."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    head = ["row", "council"] + ([] if bench.anonymised else ["title", "path", "as_of"])
    up_to = {m.key for m in bench.measures if any(m.key in r.best for r in bench.rows)}
    at_least = {m.key for m in bench.measures if any(m.key in r.at_least for r in bench.rows)}
    for m in bench.measures:
        head.append(m.key)
        if m.better:
            head.append(f"{m.key}_rank")
        if m.key in up_to:
            head.append(f"{m.key}_up_to")
        if m.key in at_least:
            head.append(f"{m.key}_at_least")
    writer.writerow(head)
    for r in bench.rows:
        line: list[Any] = ["council", _cell(r.label)]
        if not bench.anonymised:
            line += [_cell(r.title or ""), _cell(r.path or ""), r.as_of]
        for m in bench.measures:
            line.append(_csv_value(r.values.get(m.key)))
            if m.better:
                line.append(_csv_value(r.ranks.get(m.key)))
            if m.key in up_to:
                line.append(_csv_value(r.best.get(m.key, r.values.get(m.key))))
            if m.key in at_least:
                line.append(_csv_value(r.at_least.get(m.key)))
        writer.writerow(line)
    for name, attr in (
        ("lower quartile", "lower_quartile"),
        ("median", "median"),
        ("upper quartile", "upper_quartile"),
    ):
        line = [name, ""] + ([] if bench.anonymised else ["", "", ""])
        for m in bench.measures:
            line.append(_csv_value(getattr(bench.summary[m.key], attr)))
            line += [""] * ((m.better is not None) + (m.key in up_to) + (m.key in at_least))
        writer.writerow(line)
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    return str(tidy(value, 4)) if isinstance(value, float) else str(value)


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def benchmark_json(bench: Benchmark) -> str:
    return json.dumps(bench.as_dict(), indent=2, ensure_ascii=False) + "\n"


BENCHMARK_FILES = ("benchmark.html", "benchmark.md", "benchmark.csv", "benchmark.json")


def render_benchmark(bench: Benchmark) -> dict[str, str]:
    """Every benchmark file, name to text (in memory)."""
    view = build_benchmark_view(bench)
    return {
        "benchmark.html": render("benchmark.html.j2", view=view),
        "benchmark.md": render("benchmark.md.j2", view=view),
        "benchmark.csv": benchmark_csv(bench),
        "benchmark.json": benchmark_json(bench),
    }


def write_benchmark(
    paths: Sequence[str],
    out_dir: str | Path,
    *,
    anonymise: bool = False,
    force: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Path]:
    """``sdsaudit benchmark``: load, check, score, and write the four files to ``out_dir``."""
    if len(paths) < 2:
        raise UsageError("a benchmark needs at least two models, one for each council")
    refuse_existing([Path(out_dir) / name for name in BENCHMARK_FILES], force)
    models = load_models(paths, max_bytes=max_bytes)
    bench = benchmark_models(models, anonymise=anonymise)
    return write_outputs(render_benchmark(bench), out_dir, force=True)
