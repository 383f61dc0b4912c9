"""Benchmark reading and summarising POET-style surveys of 1,000, 10,000 and 100,000 rows.

    python benchmarks/survey.py              # 1k, 10k, 100k rows
    python benchmarks/survey.py 1000 50000   # chosen sizes

Each survey is generated first (examples/survey/generate.py, seed 7; not timed), then
read, checked and summarised by :func:`sdsaudit.survey.reader.read_survey` in a fresh
subprocess, so each size's memory is its own. For each size it prints:

* ``seconds``: wall time of ``read_survey`` (best of three runs);
* ``rows/s``: rows per second;
* ``traced MiB``: peak Python allocation during ``read_survey`` (tracemalloc), the
  figure that shows whether memory stays flat as rows grow;
* ``peak RSS MiB``: the subprocess's peak resident memory (interpreter and imports
  included).

Target (issue 7): a 100,000-row survey in seconds with flat memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "survey"))

import generate  # noqa: E402

SIZES = (1_000, 10_000, 100_000)

WORKER = r"""
import json, resource, sys, time, tracemalloc
from sdsaudit.survey.reader import read_survey
path = sys.argv[1]
best = None
for _ in range(3):
    t0 = time.perf_counter()
    read_survey(path)
    elapsed = time.perf_counter() - t0
    best = elapsed if best is None else min(best, elapsed)
tracemalloc.start()
summary = read_survey(path)
_, traced = tracemalloc.get_traced_memory()
tracemalloc.stop()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": best, "traced_mib": traced / 2**20, "rss_mib": rss,
                  "respondents": summary.respondents.value}))
"""


def measure(rows: int, folder: Path) -> dict[str, float]:
    path = folder / f"survey-{rows}.csv"
    generate.write(path, generate.generate(rows, generate.SEED))
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    figures = json.loads(out)
    figures["bytes"] = path.stat().st_size
    return figures


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or list(SIZES)
    print(
        f"{'rows':>8} {'file MiB':>9} {'seconds':>8} {'rows/s':>9} {'traced MiB':>11} "
        f"{'peak RSS MiB':>13}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            f = measure(rows, Path(tmp))
            assert f["respondents"] == rows
            print(
                f"{rows:>8,} {f['bytes'] / 2**20:>9.1f} {f['seconds']:>8.2f} "
                f"{rows / f['seconds']:>9,.0f} {f['traced_mib']:>11.1f} {f['rss_mib']:>13.1f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
