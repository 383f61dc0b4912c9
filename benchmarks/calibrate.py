#!/usr/bin/env python3
"""How fast ``sdsaudit calibrate`` is, and how much memory it takes. Prints its figures.

Run from the repository root (needs the extra sdsaudit[calibrate])::

    python benchmarks/calibrate.py              # 10 million events, and 1,000 events
    python benchmarks/calibrate.py --events 1000000

Targets (issue 14):

* 10 million events in at most 4 times the time DuckDB takes for a bare
  ``SELECT activity, count(*) ... GROUP BY activity`` over the same file, in under 2 GB;
* 1,000 events from process start to exit in under 1 second.

The logs are Exampleshire's synthetic log (``examples/calibrate/generate.py``), written
once into a cache folder (``--cache``, default a folder in the system's temporary folder)
and reused. Each command runs in its own process; its peak memory is the kernel's
``ru_maxrss`` for that process.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "examples" / "exampleshire" / "process.yaml"
MAP = ROOT / "examples" / "calibrate" / "map.yaml"
EVENTS_PER_CASE = 7.67  # the synthetic log's average


def generator():
    spec = importlib.util.spec_from_file_location(
        "calgen", ROOT / "examples" / "calibrate" / "generate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def log_of(events: int, cache: Path) -> tuple[Path, int]:
    """A cached synthetic log of about ``events`` events, and its exact number of events."""
    cases = max(1, round(events / EVENTS_PER_CASE))
    path = cache / f"exampleshire-{cases}.csv"
    count = cache / f"exampleshire-{cases}.count"
    if not path.exists() or not count.exists():
        started = time.perf_counter()
        n = generator().stream(path, cases)
        count.write_text(str(n))
        print(f"  (wrote {path}: {n:,} events in {time.perf_counter() - started:.0f} s)")
    return path, int(count.read_text())


def run(args: list[str]) -> tuple[float, float]:
    """Run a command in its own process: wall seconds and peak memory (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0:
        sys.exit(f"failed: {' '.join(args)}\n{err}")
    return seconds, usage.ru_maxrss / 1024


BARE = """
import duckdb, sys
con = duckdb.connect()
con.execute("SELECT activity, count(*) FROM read_csv(?, header=true) GROUP BY activity", [sys.argv[1]]).fetchall()
"""


ORDERED = """
import duckdb, sys
con = duckdb.connect(config={"memory_limit": "1GB"})
con.execute(
    "CREATE TABLE t AS SELECT case_id, activity, timestamp, end_timestamp, \\"group\\", "
    "lag(activity) OVER (PARTITION BY case_id ORDER BY timestamp) AS before "
    "FROM read_csv(?, header=true)",
    [sys.argv[1]],
)
"""
"""For scale, not a target: DuckDB alone reading every column and ordering each case's events."""


def calibrate_args(path: Path, out: Path | None = None) -> list[str]:
    args = [sys.executable, "-m", "sdsaudit", "calibrate", str(MODEL), str(path), "--map", str(MAP)]
    return args + (["-o", str(out), "--force"] if out else ["--format", "json"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "sdsaudit-benchmark"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, best kept")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"sdsaudit calibrate benchmark ({os.cpu_count()} cores)")

    big, n = log_of(args.events, args.cache)
    size = big.stat().st_size / 1e6
    bare = min(run([sys.executable, "-c", BARE, str(big)]) for _ in range(args.repeat))
    ordered = min(run([sys.executable, "-c", ORDERED, str(big)]) for _ in range(args.repeat))
    full = min(run(calibrate_args(big)) for _ in range(args.repeat))
    ratio = full[0] / bare[0]
    print(f"{n:,} events ({size:,.0f} MB of CSV):")
    print(f"  DuckDB, bare GROUP BY activity: {bare[0]:6.1f} s, {bare[1]:6.0f} MB")
    print(
        f"  DuckDB, every column, each case ordered (for scale): {ordered[0]:6.1f} s, {ordered[1]:6.0f} MB"
    )
    print(f"  sdsaudit calibrate:             {full[0]:6.1f} s, {full[1]:6.0f} MB")
    print(
        f"  against DuckDB's own read-and-order (for scale, not a target): "
        f"{full[0] / ordered[0]:.2f} times"
    )
    print(
        f"  ratio {ratio:.2f} (target at most 4): {'met' if ratio <= 4 else 'NOT MET'}; "
        f"memory {full[1]:,.0f} MB (target under 2,048): {'met' if full[1] < 2048 else 'NOT MET'}"
    )

    small, k = log_of(1_000, args.cache)
    with tempfile.TemporaryDirectory() as out:
        quick = min(run(calibrate_args(small, Path(out) / "cal")) for _ in range(args.repeat))
    print(
        f"{k:,} events, process start to exit, every file written: {quick[0]:.2f} s, {quick[1]:.0f} MB "
        f"(target under 1 s: {'met' if quick[0] < 1 else 'NOT MET'})"
    )


if __name__ == "__main__":
    main()
