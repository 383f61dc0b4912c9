"""Time, peak memory and output size of the commands at the limits of what sdsaudit
accepts, and on the shapes an attacker would choose (issue 17).

    python benchmarks/limits.py            # all shapes (a few minutes)
    python benchmarks/limits.py --quick    # the 4,000-step chain only

Targets (2-core machine): no command over 1 GB on any model under the default size
limit (1 MiB); ``report`` on a 4,000-step chain at most 3x ``check`` and under 20 MB
written. Each command runs in its own process, so its peak memory (``ru_maxrss`` of
that process) is its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import chain  # noqa: E402

LIMIT = 1 << 20  # the default --max-bytes


def largest_chain() -> str:
    """The longest generated chain that is still under the default size limit."""
    low, high = 100, 20_000
    while high - low > 50:
        middle = (low + high) // 2
        if len(chain(middle).encode()) < LIMIT:
            low = middle
        else:
            high = middle
    return chain(low)


def prefixed_ids(n: int) -> str:
    """A chain whose step ids start with DOT keywords (``subgraph``, ``digraph``): once
    enough to slip past a node count made from DOT text."""

    def rename(match: re.Match[str]) -> str:
        return ("subgraph" if int(match.group(1)) % 2 else "digraph") + match.group(0)

    return re.sub(r"\bs(\d+)\b", rename, chain(n))


def run(args: list[str]) -> tuple[float, float, int]:
    """Seconds, peak MB, exit code of ``python -m sdsaudit ARGS``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "sdsaudit", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        assert process.stderr is not None
        err = process.stderr.read().decode(errors="replace").strip().splitlines()
        print(f"    ({args[0]} exit {code}: {err[-1] if err else ''})")
    return seconds, usage.ru_maxrss / 1024, code


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def measure(name: str, text: str, folder: Path) -> None:
    model = folder / f"{name}.yaml"
    model.write_text(text, encoding="utf-8")
    print(f"{name}: {len(text.encode()) / 1024:,.0f} KB, {text.count('id: ') - 4:,} steps")
    rows = []
    check = run(["check", str(model)])
    rows.append(("check", check, None))
    score_out = folder / f"{name}.score.json"
    with open(score_out, "w", encoding="utf-8") as handle:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "sdsaudit", "score", str(model), "--format", "json"],
            stdout=handle,
        )
        rows.append(
            ("score --format json", (time.perf_counter() - start, 0.0, done.returncode), score_out)
        )
    out = folder / f"{name}.report"
    rows.append(("report", run(["report", str(model), "-o", str(out), "--force"]), out))
    svg = folder / f"{name}.svg"
    rows.append(("map (svg)", run(["map", str(model), "-o", str(svg), "--force"]), svg))
    for label, (seconds, peak, code), output in rows:
        written = f", {size_mb(output):,.1f} MB written" if output and output.exists() else ""
        memory = f", peak {peak:,.0f} MB" if peak else ""
        print(f"  {label:22} {seconds:7.2f} s{memory}{written} (exit {code})")
    report_s = rows[2][1][0]
    print(f"  report / check: {report_s / check[0]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the 4,000-step chain")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sdsaudit-limits-"))
    try:
        measure("chain-4000", chain(4000), folder)
        if not args.quick:
            measure("largest-accepted", largest_chain(), folder)
            measure("dot-keyword-ids", prefixed_ids(3000), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
