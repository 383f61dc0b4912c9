"""``sdsaudit check`` and ``sdsaudit rules`` as library functions: run the rules on models
and write the findings as text, JSON or SARIF; list or explain the catalogue.

Kept apart from :mod:`sdsaudit.api` (which re-exports them) so that the command
line can import just this, and ``check`` starts fast: rendering, maps and
scoring are never imported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from ..analysis.findings import CheckResult
from ..errors import UsageError
from ..model.loader import load_models
from ..model.source import DEFAULT_MAX_BYTES


def split_ids(values: Iterable[str] | None) -> list[str]:
    """Rule patterns given as repeated and/or comma-separated values, blanks dropped."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def check_models(
    paths: Iterable[str],
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    use_waivers: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: BinaryIO | None = None,
) -> list[CheckResult]:
    """Load every model (reporting all their problems together) and run the rules on each.

    ``select``/``ignore`` take ids, slugs, families (``AUTH``) and globs (``SEQ-0*``),
    comma-separated or repeated; an unknown one is a :class:`UsageError` with a
    suggestion, raised before any model is read.
    """
    from ..analysis.engine import check_model
    from ..model.catalogue import load_catalogue

    catalogue = load_catalogue()
    chosen, dropped = split_ids(select), split_ids(ignore)
    if select and not chosen:
        raise UsageError("--select names no rule: give rule ids, slugs, families or globs")
    catalogue.select(chosen, dropped)  # unknown ids fail here, before any work
    models = load_models(paths, max_bytes=max_bytes, stdin=stdin)
    return [
        check_model(m, catalogue, select=chosen, ignore=dropped, use_waivers=use_waivers)
        for m in models
    ]


def check_text(results: Iterable[CheckResult]) -> str:
    """``check --format text``: one line a finding, then one summary line."""
    results = list(results)
    lines = []
    counts = {"error": 0, "warning": 0, "info": 0}
    waived = 0
    for result in results:
        for f in result.findings:
            where = f"{f.path}:{f.line}" if f.line else f.path
            steps = f" [{', '.join(f.steps)}]" if f.steps else ""
            note = f" (waived: {f.waiver_reason})" if f.waived else ""
            lines.append(f"{where}: {f.rule} {f.severity}: {f.message}{steps}{note}")
            if f.waived:
                waived += 1
            else:
                counts[f.severity] += 1
    total = sum(counts.values())
    summary = (
        f"{total} finding{'s' if total != 1 else ''} ({counts['error']} errors, "
        f"{counts['warning']} warnings, {counts['info']} info)"
    )
    if waived:
        summary += f" and {waived} waived"
    summary += f" in {len(results)} model{'s' if len(results) != 1 else ''}"
    unassessed = sorted({n.rule for r in results for n in r.notes if n.kind == "not_assessable"})
    if unassessed:
        summary += f"; not assessable: {', '.join(unassessed)}"
    failed = sorted({n.rule for r in results for n in r.rule_errors})
    if failed:
        summary += f"; rules that failed: {', '.join(failed)}"
    lines.append(summary)
    return "\n".join(lines)


def check_json(results: Iterable[CheckResult]) -> str:
    """``check --format json``: the shape given in ``docs/cli.md``."""
    import json

    from ..version import __version__

    return json.dumps(
        {"sdsaudit_version": __version__, "models": [r.as_dict() for r in results]}, indent=2
    )


def check_sarif(results: Iterable[CheckResult]) -> str:
    """``check --format sarif``: a SARIF 2.1.0 log."""
    import json

    from ..model.catalogue import load_catalogue
    from ..version import __version__
    from .sarif import sarif_log

    return json.dumps(sarif_log(results, load_catalogue(), __version__), indent=2)


def rule_error_lines(results: Iterable[CheckResult]) -> list[str]:
    """One ``FILE: error:`` line per rule that crashed, for standard error."""
    return [
        f"{r.path}: error: rule {n.rule} could not be run: {n.message}"
        for r in results
        for n in r.rule_errors
    ]


def rules_text(rule_id: str | None = None) -> str:
    """``sdsaudit rules``: the catalogue, one line a rule; or one rule explained in full."""
    import textwrap

    from ..model.catalogue import load_catalogue

    catalogue = load_catalogue()
    if rule_id is None:
        width = max(len(r.id) for r in catalogue.rules)
        slug_width = max(len(r.slug) for r in catalogue.rules)
        return "\n".join(
            f"{r.id:<{width}}  {r.slug:<{slug_width}}  {r.severity:<7}  {r.title}"
            for r in catalogue.rules
        )
    rule = catalogue.get(rule_id)

    def para(text: str) -> str:
        return textwrap.fill(
            " ".join(text.split()), width=78, initial_indent="  ", subsequent_indent="  "
        )

    parts = [
        f"{rule.id} {rule.slug} ({rule.severity})",
        rule.title,
        "",
        f"Building blocks: {', '.join(rule.blocks) or 'none'}",
        f"Making it Real themes: {', '.join(rule.themes) or 'none'}",
    ]
    if rule.options:
        opts = ", ".join(f"{k} = {v}" for k, v in rule.options.items())
        from ..model.objects import DEFAULT_TARGETS

        settable = [k for k in rule.options if k in DEFAULT_TARGETS]
        where = (
            f" (a model's 'targets: {settable[0]}' overrides it)"
            if settable
            else " (set in criteria/rules.yaml)"
        )
        parts.append(f"Options: {opts}{where}")
    parts += [
        "",
        "Why it matters:",
        para(rule.rationale),
        "",
        "Evidence:",
        para(rule.evidence),
        "",
        "What to do:",
        para(rule.recommendation),
    ]
    if rule.question:
        parts += ["", "A question for a co-production group:", para(rule.question)]
    return "\n".join(parts)
