"""Benchmark importing a 5,000-row workbook against openpyxl just reading it.

    python benchmarks/import_workbook.py          # 5,000 steps, best of 3
    python benchmarks/import_workbook.py 20000    # another size

The workbook is the 5,000-step chain of ``benchmarks/generate.py`` (hand-offs, approvals,
forms, questions, a withdrawal branch every 10 steps, a rework loop every 50) exported by
``sdsaudit export --format xlsx``: 5,000 rows of steps and about 5,600 rows of links, with
the template's drop-down lists (not timed). Then it prints, each the best of three runs:

* ``openpyxl read``: ``openpyxl.load_workbook(read_only=True, data_only=True)`` and every
  value of every sheet, the least an importer can do;
* ``import``: :func:`sdsaudit.exchange.workbook.read`, the workbook to a draft model:
  the same reading, then every header matched, every cell checked and every step and link
  resolved (target, issue 13: at most 3x the time of openpyxl reading it);
* ``import and write``: what ``sdsaudit import`` does in all: the above, then the model
  written as commented YAML and checked by the loader (for information: the loader's
  time grows with the model, not with the workbook).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402

from sdsaudit.exchange import workbook  # noqa: E402
from sdsaudit.exchange.data import write_draft  # noqa: E402
from sdsaudit.model.loader import load_model_text  # noqa: E402

TARGET = 3.0
"""Importing may take at most this many times as long as openpyxl reading the file."""


def openpyxl_read(path: Path) -> int:
    """Every value of every sheet, read as an importer must read them; the number of rows."""
    book = load_workbook(path, read_only=True, data_only=True)
    rows = 0
    for sheet in book.worksheets:
        for _ in sheet.iter_rows(values_only=True):
            rows += 1
    book.close()
    return rows


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> int:
    steps = int(argv[0]) if argv else 5_000
    model = load_model_text(generate.chain(steps), "chain.yaml")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"chain-{steps}.xlsx"
        path.write_bytes(workbook.write(model, fmt="xlsx"))
        rows = openpyxl_read(path)
        draft = workbook.read(str(path), max_bytes=1 << 30)
        assert len(draft.data["steps"]) == len(model.steps), "the import lost steps"
        reading = best_of(3, lambda: openpyxl_read(path))
        importing = best_of(3, lambda: workbook.read(str(path), max_bytes=1 << 30))
        whole = best_of(1, lambda: write_draft(workbook.read(str(path), max_bytes=1 << 30)))
        size = path.stat().st_size
    ratio = importing / reading
    print(f"workbook: {len(model.steps):,} steps, {rows:,} rows in all, {size / 2**20:.1f} MiB")
    print(f"openpyxl read      {reading:6.2f} s")
    print(
        f"import             {importing:6.2f} s   {ratio:.2f}x openpyxl (target: at most {TARGET:g}x)"
    )
    print(f"import and write   {whole:6.2f} s   (YAML written and checked by the loader)")
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"target {verdict}: {ratio:.2f}x <= {TARGET:g}x" if ratio <= TARGET else f"target {verdict}"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
