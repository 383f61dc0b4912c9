"""Benchmark ``sdsaudit check`` on synthetic models and print the figures.

    python benchmarks/run.py            # all figures (about a minute)
    python benchmarks/run.py --quick    # fewer repeats

Figures (targets from the issue, on a 2-core machine):

* time and peak memory of loading and checking chains of 50, 500 and 5,000
  steps (target: 5,000 steps under 10 s and 500 MB), each measured in a fresh
  subprocess so peak memory (``ru_maxrss``) is that model's alone;
* the ratio of that time to the time PyYAML's C loader takes just to parse the
  same file;
* whole-process time of ``python -m sdsaudit check`` on 50 steps, from process
  start to exit (target: well under 0.5 s);
* a ladder with 2**60 routes against a single route with the same steps
  (target: at most 2x), and the same at about 5,000 steps;
* a 5,000-step model with 100 parallel blocks (format 1.1; target: under 10 s and
  500 MB), each block's time worked out exactly as the expected slowest branch.

Times are the best of several runs (the least disturbed by other work on the
machine); the median is shown beside whole-process times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import blocks, chain, chain_like_ladder, ladder  # noqa: E402

WORKER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from sdsaudit.analysis.engine import check_model
from sdsaudit.model.loader import load_model
import yaml
t1 = time.perf_counter()
path, repeats = sys.argv[1], int(sys.argv[2])
text = open(path, encoding="utf-8").read()
loader = getattr(yaml, "CSafeLoader", None)
parse = []
for _ in range(repeats):
    a = time.perf_counter(); yaml.load(text, Loader=loader or yaml.SafeLoader)
    parse.append(time.perf_counter() - a)
load, check = [], []
for _ in range(repeats):
    a = time.perf_counter(); model = load_model(path)
    b = time.perf_counter(); result = check_model(model)
    c = time.perf_counter()
    load.append(b - a); check.append(c - b)
print(json.dumps({
    "import_s": t1 - t0, "load_s": min(load), "check_s": min(check),
    "total_s": min(x + y for x, y in zip(load, check)), "yaml_c_parse_s": min(parse),
    "c_loader": loader is not None, "findings": len(result.findings),
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def measure(path: Path, repeats: int) -> dict:
    """Load and check ``path`` in a fresh interpreter; times are the best of ``repeats``."""
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(path), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def whole_process(path: Path, runs: int) -> tuple[float, float]:
    """Best and median wall time of ``python -m sdsaudit check`` from start to exit."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sdsaudit", "check", "--fail-on", "never", str(path)],
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats, runs = (1, 3) if args.quick else (3, 7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def write(name: str, text: str) -> Path:
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path

        print("Chains (one route; hand-offs, approvals, forms, rework and withdrawal branches)")
        print(
            f"{'steps':>6} {'load s':>8} {'check s':>8} {'total s':>8} {'peak MB':>8} "
            f"{'C parse s':>9} {'ratio':>6} {'findings':>8}"
        )
        for n in (50, 500, 5000):
            m = measure(write(f"chain-{n}.yaml", chain(n)), repeats)
            ratio = m["total_s"] / m["yaml_c_parse_s"]
            print(
                f"{n:>6} {m['load_s']:>8.3f} {m['check_s']:>8.3f} {m['total_s']:>8.3f} "
                f"{m['maxrss_mb']:>8.1f} {m['yaml_c_parse_s']:>9.4f} {ratio:>6.1f} "
                f"{m['findings']:>8}"
            )
            if not m["c_loader"]:
                print("        (PyYAML has no C loader here: the parse time is the Python one)")
        m = measure(write("tangle-5000.yaml", chain(5000, loops_to_start=True)), repeats)
        print(
            f"{'5000*':>6} {m['load_s']:>8.3f} {m['check_s']:>8.3f} {m['total_s']:>8.3f} "
            f"{m['maxrss_mb']:>8.1f} {m['yaml_c_parse_s']:>9.4f} "
            f"{m['total_s'] / m['yaml_c_parse_s']:>6.1f} {m['findings']:>8}"
        )
        m = measure(write("blocks-5000.yaml", blocks(5000)), repeats)
        print(
            f"{'5000+':>6} {m['load_s']:>8.3f} {m['check_s']:>8.3f} {m['total_s']:>8.3f} "
            f"{m['maxrss_mb']:>8.1f} {m['yaml_c_parse_s']:>9.4f} "
            f"{m['total_s'] / m['yaml_c_parse_s']:>6.1f} {m['findings']:>8}"
        )
        print("  * every rework loop goes back to the start: one component of 4,998 steps")
        print("  + 100 parallel blocks of three branches of ten steps (target: 10 s, 500 MB)")
        print("  ratio = (load + check) / PyYAML C loader parse of the same file;")
        print(f"  import of sdsaudit.analysis.engine and the loader: {m['import_s']:.3f} s")

        best, median = whole_process(write("p50.yaml", chain(50)), runs)
        print(
            f"\nWhole process, `python -m sdsaudit check` on 50 steps: best {best:.3f} s, "
            f"median {median:.3f} s (target: well under 0.5 s)"
        )

        print("\nLadders (2**k routes) against a single route with the same steps")
        for k in (60, 1666):
            lad = measure(write(f"ladder-{k}.yaml", ladder(k)), repeats)
            one = measure(write(f"single-{k}.yaml", chain_like_ladder(k)), repeats)
            print(
                f"  2^{k} routes, {3 * k + 4} steps: ladder {lad['total_s']:.3f} s, "
                f"single route {one['total_s']:.3f} s, "
                f"ratio {lad['total_s'] / one['total_s']:.2f} (target <= 2); "
                f"peak {lad['maxrss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
