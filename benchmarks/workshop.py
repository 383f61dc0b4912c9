"""How long the workshop takes from "Save" to the updated page, measured in the browser.

    python benchmarks/workshop.py            # 50 and 250 steps, 9 saves each
    python benchmarks/workshop.py --steps 50 --saves 15

For each size a synthetic model (``generate.chain``, with hand-offs, approvals, forms,
questions asked twice, withdrawals and rework) is copied to a temporary folder and opened
in a workshop served on 127.0.0.1; Debian's Chromium (the browser tests' harness) opens
a step's form, changes its days and presses Save, and the time is taken from the click
to the ``load`` event of the page the save leads to: the overview, with the findings and
scores worked out again, the map drawn by ``dot``, the file written with its comments
kept. Targets (issue 15): median under 300 ms at 50 steps, under 1 s at 250.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from generate import chain  # noqa: E402

from sdsaudit.workshop.server import running  # noqa: E402
from sdsaudit.workshop.session import Workshop  # noqa: E402
from tests.browser import _use_session  # noqa: E402

TARGETS = {50: 0.3, 250: 1.0}


def measure(steps: int, saves: int) -> list[float]:
    """Seconds from each click on Save to the updated page's load event."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"chain-{steps}.yaml"
        path.write_text(chain(steps - 4), encoding="utf-8")  # the chain adds 4 steps
        with running(Workshop.open(path)) as guard, _use_session() as session:
            context, page = session.new_page(1280, 900)
            try:
                page.goto(guard.address, wait_until="load")
                base = page.url.rstrip("/")
                times = []
                for n in range(saves + 1):
                    page.goto(f"{base}/step/s3", wait_until="load")
                    page.fill("#days", str(2 + n % 2))
                    start = time.perf_counter()
                    page.click("#save")
                    page.wait_for_url("**/?change=*", wait_until="load")
                    elapsed = time.perf_counter() - start
                    if n:  # the first save warms up (templates, the browser)
                        times.append(elapsed)
            finally:
                context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, action="append", help="model sizes (steps)")
    parser.add_argument("--saves", type=int, default=9, help="saves to time per size")
    args = parser.parse_args()
    print(f"{'steps':>6} {'saves':>6} {'median':>9} {'fastest':>9} {'slowest':>9}  target")
    for steps in args.steps or sorted(TARGETS):
        times = measure(steps, args.saves)
        median = statistics.median(times)
        target = TARGETS.get(steps)
        verdict = (
            "" if target is None else f"{'met' if median < target else 'MISSED'} (< {target:g} s)"
        )
        print(
            f"{steps:>6} {len(times):>6} {median * 1000:>7.0f}ms {min(times) * 1000:>7.0f}ms "
            f"{max(times) * 1000:>7.0f}ms  {verdict}"
        )


if __name__ == "__main__":
    main()
