"""SARIF 2.1.0 output of ``check``: one run, every model's findings located at their lines.

SARIF is the format code-scanning tools read. Each finding becomes a result at
its step's line in the model file; a waived finding carries an accepted
in-source suppression with the waiver's reason; rule errors and rules that
could not be assessed become tool notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from ..analysis.findings import CheckResult, Finding
from ..model.catalogue import Catalogue

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
"""sdsaudit severities as SARIF levels."""


def artifact_uri(path: str) -> str:
    """A model's path as a relative URI reference (standard input becomes ``stdin``)."""
    if path in ("-", "<stdin>"):
        return "stdin"
    return quote(PurePath(path).as_posix(), safe="/:")


def sarif_log(results: Iterable[CheckResult], catalogue: Catalogue, version: str) -> dict[str, Any]:
    """The SARIF log (a JSON-ready dict) for the results of one ``check`` run."""
    results = list(results)
    index = {rule.id: n for n, rule in enumerate(catalogue.rules)}
    notifications: list[dict[str, Any]] = []
    sarif_results: list[dict[str, Any]] = []
    for result in results:
        uri = artifact_uri(result.path)
        sarif_results.extend(_result(f, uri, index) for f in result.findings)
        for note in result.notes:
            notifications.append(
                {
                    "level": "error" if note.kind == "rule_error" else "note",
                    "message": {
                        "text": f"{result.path}: {note.rule} "
                        f"{'failed' if note.kind == 'rule_error' else 'not assessable'}"
                        f": {note.message}"
                    },
                    "descriptor": {"id": note.rule},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                }
            )
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "sdsaudit",
                "version": version,
                "semanticVersion": version,
                "rules": [_descriptor(rule) for rule in catalogue.rules],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not any(r.rule_errors for r in results),
                "toolExecutionNotifications": notifications,
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": sarif_results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _descriptor(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": f"{rule.recommendation}\n\nEvidence: {rule.evidence}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": list(dict.fromkeys([rule.family.lower(), *rule.blocks])),
            "blocks": list(rule.blocks),
            "themes": list(rule.themes),
            "evidence": rule.evidence,
            "options": dict(rule.options),
        },
    }


def _result(finding: Finding, uri: str, index: dict[str, int]) -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
    if finding.line:
        location["physicalLocation"]["region"] = {"startLine": finding.line}
    if finding.steps:
        location["logicalLocations"] = [{"name": s, "kind": "element"} for s in finding.steps]
    steps = f" [{', '.join(finding.steps)}]" if finding.steps else ""
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message + steps},
        "locations": [location],
        "partialFingerprints": {
            "sdsaudit/v1": "|".join(
                (finding.rule, ",".join(finding.steps), ",".join(finding.subject))
            ),
        },
        "properties": {
            "steps": list(finding.steps),
            "subject": list(finding.subject),
            "blocks": list(finding.blocks),
        },
    }
    if finding.rule in index:
        out["ruleIndex"] = index[finding.rule]
    if finding.waived:
        out["suppressions"] = [
            {"kind": "inSource", "status": "accepted", "justification": finding.waiver_reason or ""}
        ]
    return out
