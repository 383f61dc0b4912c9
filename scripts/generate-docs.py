"""Rewrite the rule tables of docs/scoring.md and docs/patches.md from the catalogue.

Each table sits between two marker comments in the Markdown file::

    <!-- generated: rule weights -->
    | rule | ... |
    <!-- end generated -->

and is generated from ``criteria/rules.yaml`` (each rule's ``score`` and ``fix``),
``criteria/weights.yaml`` (which figures stand in for a rule) and the order of
``sdsaudit.stocktake.redesign.FIXERS``. Run it after changing a rule's score or fix:

    python scripts/generate-docs.py           # rewrite the docs
    python scripts/generate-docs.py --check   # exit 1 if they are out of date (the tests do this)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sdsaudit.model.catalogue import Catalogue, RuleInfo, load_catalogue  # noqa: E402
from sdsaudit.scoring.weights import load_weights  # noqa: E402
from sdsaudit.stocktake.redesign import FIXERS  # noqa: E402

COMMAND = "python scripts/generate-docs.py"
MARKER = re.compile(
    r"(<!-- generated: (?P<name>[^>]+?) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S
)


def _points(points: Mapping[str, int]) -> str:
    """``simple 10, in control 5``: points by building block, in the catalogue's order."""
    return ", ".join(f"{block.replace('_', ' ')} {n}" for block, n in points.items())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rule_weights(catalogue: Catalogue) -> str:
    """The table of what each rule's finding costs (docs/scoring.md)."""
    figures = {m.rule for m in load_weights().metrics if m.rule}
    rows = [
        "| rule | what it finds | at | step points | overall points | cap (overall) |",
        "|---|---|---|---|---|---|",
    ]
    for rule in catalogue.rules:
        w = rule.score
        if w is None:
            rows.append(
                f"| {rule.id} | {_cell(rule.title)} | (the default for its severity) | | | |"
            )
            continue
        overall = _points(w.overall)
        if w.per_subject and overall:
            overall += " per subject"
        if w.extra:
            overall += ", " + ", ".join(f"{n} more for {word}" for word, n in w.extra.items())
        if not overall and rule.id in figures:
            overall = "(figure)"
        cells = (rule.id, _cell(rule.title), w.at, _points(w.step), overall, _points(w.cap))
        rows.append("|" + "|".join(f" {c} " if c else " " for c in cells) + "|")
    return "\n".join(rows) + "\n"


def _fixed(catalogue: Catalogue) -> list[RuleInfo]:
    """The rules redesign proposes a change for, in the order it tries them."""
    by_id = {r.id: r for r in catalogue.rules}
    return [by_id[rule] for rule in FIXERS if rule in by_id]


def redesign_changes(catalogue: Catalogue) -> str:
    """The table of the change redesign tries for each rule (docs/patches.md)."""
    rows = ["| rule | change tried |", "|---|---|"]
    for rule in _fixed(catalogue):
        assert rule.fix is not None
        rows.append(f"| {rule.id} {_cell(rule.title)} | {_cell(rule.fix.text)} |")
    return "\n".join(rows) + "\n"


def redesign_leaves(catalogue: Catalogue) -> str:
    """The table of the rules redesign leaves to the council, and why (docs/patches.md)."""
    rows = ["| rule | why it is left to the council |", "|---|---|"]
    for rule in catalogue.rules:
        if rule.fix is not None and not rule.fix.proposed:
            rows.append(f"| {rule.id} {_cell(rule.title)} | {_cell(rule.fix.text)} |")
    return "\n".join(rows) + "\n"


TABLES: dict[str, Callable[[Catalogue], str]] = {
    "rule weights": rule_weights,
    "redesign changes": redesign_changes,
    "redesign leaves": redesign_leaves,
}
DOCS = ("docs/scoring.md", "docs/patches.md")


def generate(text: str, catalogue: Catalogue | None = None) -> str:
    """``text`` with every generated table rewritten (an unknown table name is an error)."""
    catalogue = catalogue or load_catalogue()

    def table(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in TABLES:
            raise SystemExit(f"unknown generated table '{name}': use one of {', '.join(TABLES)}")
        return match.group(1) + TABLES[name](catalogue) + match.group(4)

    return MARKER.sub(table, text)


def stale(root: Path = ROOT) -> list[str]:
    """The docs whose generated tables differ from what the catalogue gives."""
    out = []
    for doc in DOCS:
        text = (root / doc).read_text(encoding="utf-8")
        if generate(text) != text:
            out.append(doc)
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = stale()
    for doc in changed:
        if check:
            print(f"{doc}: the rule tables differ from criteria/; run: {COMMAND}")
        else:
            path = ROOT / doc
            path.write_text(generate(path.read_text(encoding="utf-8")), encoding="utf-8")
            print(f"rewrote {doc}")
    return 1 if check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
