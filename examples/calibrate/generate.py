#!/usr/bin/env python3
"""Write a synthetic event log for the fictional Exampleshire County Council, with known
differences from its model (``examples/exampleshire/process.yaml``) planted in it.

Usage (from the repository root)::

    python3 examples/calibrate/generate.py                 # examples/calibrate/events.csv
    python3 examples/calibrate/generate.py -n 1000000 -o big.csv --seed 7

Nobody in this file is real: case ids are "EX-" and a number. The rows are drawn with
Python's ``random`` module from a fixed seed, so the same command always writes the same
file.

What is planted (:data:`PLANTED`), and what ``sdsaudit calibrate`` must find:

1. **A step slower than modelled**: the needs assessment takes a median of 35 days (the
   model says 21), timed from its own start and end.
2. **A share that differs**: 30% of people are found not eligible and signposted (the
   model says 15%).
3. **A transition the model lacks**: 10% of people are signposted straight after first
   contact, with no assessment.
4. **The contribution known late for 30%**: the model puts the financial assessment after
   sign-off for everyone (SEQ-04); in the log, 70% of people have it before planning and
   only 30% after sign-off.

Everything else follows the model: each step's days are drawn from a log-normal
distribution whose median is the model's ``days`` (spread 0.35), a tenth of plans go to
the funding panel, which sends a fifth back to planning. Dates are whole days (as most
case-management exports are), so an observed median can be half a day off the planted one.
A few "Case note added" rows, which are no step, are mixed in (the map ignores them).
First contact, the needs assessment and the financial assessment have a start and an end;
every other event has one date, so its days are counted from the event before it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent

ACTIVITIES = {
    "first_contact": "Contact recorded",
    "assessment": "Needs assessment",
    "eligibility": "Eligibility decision",
    "indicative_budget": "Indicative budget shared",
    "planning": "Support plan written",
    "sign_off": "Team manager sign-off",
    "panel_review": "Funding panel",
    "financial_assessment": "Financial assessment",
    "arrange": "Support arranged",
    "support": "Support started",
    "review": "Review",
    "signposted": "Signposted",
}
"""The log's name for each step of the model."""

MEDIAN_DAYS = {
    "first_contact": 2,
    "assessment": 35,  # planted: the model says 21
    "eligibility": 3,
    "indicative_budget": 5,
    "planning": 14,
    "sign_off": 7,
    "panel_review": 14,
    "financial_assessment": 20,
    "arrange": 10,
    "signposted": 1,
    "review": 56,
}

PLANTED = {
    "assessment_median_days": 35,
    "signposted_share": 0.30,  # of those assessed for eligibility; the model says 0.15
    "signposted_at_contact": 0.10,  # first_contact -> signposted: not in the model
    "contribution_late_share": 0.30,  # financial assessment after sign-off
    "panel_share": 0.10,
    "panel_sends_back": 0.20,
}

OWN_TIMES = {"first_contact", "assessment", "financial_assessment"}
"""Steps logged with a start and an end; the others with one date."""

GROUPS = (("North", 0.6), ("South", 0.4))
SPREAD = 0.35


def _days(rng: random.Random, step: str) -> float:
    return MEDIAN_DAYS[step] * math.exp(rng.gauss(0.0, SPREAD))


def case_events(rng: random.Random, start: float) -> Iterator[tuple[str, float, float | None]]:
    """One case's events as (step, time, end time or None), times in days since 2025-04-01."""
    t = start

    def step(sid: str) -> tuple[str, float, float | None]:
        nonlocal t
        d = _days(rng, sid)
        if sid in OWN_TIMES:
            begun, t = t, t + d
            return sid, begun, t
        t += d
        return sid, t, None

    yield step("first_contact")
    if rng.random() < PLANTED["signposted_at_contact"]:
        yield step("signposted")
        return
    yield step("assessment")
    yield step("eligibility")
    if rng.random() < PLANTED["signposted_share"]:
        yield step("signposted")
        return
    yield step("indicative_budget")
    early = rng.random() >= PLANTED["contribution_late_share"]
    if early:
        yield step("financial_assessment")
    while True:
        yield step("planning")
        yield step("sign_off")
        if rng.random() >= PLANTED["panel_share"]:
            break
        yield step("panel_review")
        if rng.random() >= PLANTED["panel_sends_back"]:
            break
    if not early:
        yield step("financial_assessment")
    yield step("arrange")
    yield "support", t, None
    yield step("review")


def generate(n_cases: int = 2000, seed: int = 20260401) -> list[tuple[str, str, str, str, str]]:
    """The log's rows (case_id, activity, timestamp, end_timestamp, group), in date order."""
    rng = random.Random(seed)
    origin = dt.date(2025, 4, 1)
    rows: list[tuple[float, int, tuple[str, str, str, str, str]]] = []
    n = 0
    for case in range(1, n_cases + 1):
        case_id = f"EX-{case:06d}"
        group = GROUPS[0][0] if rng.random() < GROUPS[0][1] else GROUPS[1][0]
        start = rng.uniform(0, 365)
        for sid, at, end in case_events(rng, start):
            when = (origin + dt.timedelta(days=int(at))).isoformat()
            until = (origin + dt.timedelta(days=int(end))).isoformat() if end is not None else ""
            rows.append((at, n, (case_id, ACTIVITIES[sid], when, until, group)))
            n += 1
            if rng.random() < 0.03:
                note = (origin + dt.timedelta(days=int(at))).isoformat()
                rows.append((at, n, (case_id, "Case note added", note, "", group)))
                n += 1
    rows.sort()
    return [r for _, _, r in rows]


CLD_TYPES = {
    "first_contact": "Request",
    "assessment": "Assessment",
    "support": "Service",
    "review": "Review",
}


def generate_cld(n_cases: int = 2000, seed: int = 20260401) -> list[tuple[str, ...]]:
    """The same cases as a Client Level Data extract: only requests (first contact),
    assessments, services (support, still open) and reviews; everything between them is
    invisible, as it is in CLD. Columns: LA Code, LA Person Unique Identifier, Client Type,
    Event Type, Event Start Date, Event End Date, Event Outcome, Group."""
    rng = random.Random(seed)
    origin = dt.date(2025, 4, 1)
    rows = []
    for case in range(1, n_cases + 1):
        group = GROUPS[0][0] if rng.random() < GROUPS[0][1] else GROUPS[1][0]
        start = rng.uniform(0, 365)
        for sid, at, end in case_events(rng, start):
            if sid not in CLD_TYPES:
                continue
            kind = CLD_TYPES[sid]
            when = (origin + dt.timedelta(days=int(at))).strftime("%d/%m/%Y")
            until = (
                (origin + dt.timedelta(days=int(end))).strftime("%d/%m/%Y")
                if end is not None
                else ""
            )
            if kind == "Review":
                until = when
            rows.append((at, ("X99", f"P{case:06d}", "Service User", kind, when, until, "", group)))
    rows.sort(key=lambda r: r[0])
    return [r for _, r in rows]


CLD_HEADER = "LA Code,LA Person Unique Identifier,Client Type,Event Type,Event Start Date,Event End Date,Event Outcome,Group\n"


def write_cld(path: Path, n_cases: int, seed: int) -> int:
    rows = generate_cld(n_cases, seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(CLD_HEADER)
        handle.writelines(",".join(r) + "\n" for r in rows)
    return len(rows)


def stream(path: Path, n_cases: int, seed: int = 20260401) -> int:
    """Write a large log case by case (each case's events in time order, cases one after
    another) without holding it in memory, for benchmarks; returns the number of events."""
    rng = random.Random(seed)
    origin = dt.date(2025, 4, 1).toordinal()
    dates = {n: dt.date.fromordinal(origin + n).isoformat() for n in range(0, 4000)}
    events = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("case_id,activity,timestamp,end_timestamp,group\n")
        for case in range(1, n_cases + 1):
            group = GROUPS[0][0] if rng.random() < GROUPS[0][1] else GROUPS[1][0]
            lines = []
            for sid, at, end in case_events(rng, rng.uniform(0, 365)):
                until = dates[int(end)] if end is not None else ""
                lines.append(f"EX-{case:07d},{ACTIVITIES[sid]},{dates[int(at)]},{until},{group}\n")
            handle.writelines(lines)
            events += len(lines)
    return events


def write(path: Path, n_cases: int, seed: int) -> int:
    """Write the log as CSV; returns the number of events."""
    rows = generate(n_cases, seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("case_id,activity,timestamp,end_timestamp,group\n")
        handle.writelines(",".join(r) + "\n" for r in rows)
    return len(rows)


MAP = """\
# Which step of Exampleshire's model (examples/exampleshire/process.yaml) each activity
# of the synthetic log is. Written by examples/calibrate/generate.py.
activities:
{lines}
ignore:
  - Case note added
"""


def map_text() -> str:
    lines = "\n".join(f"  {name}: {sid}" for sid, name in ACTIVITIES.items())
    return MAP.format(lines=lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--cases", type=int, default=2000)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "events.csv")
    parser.add_argument("--seed", type=int, default=20260401)
    parser.add_argument(
        "--map", type=Path, default=HERE / "map.yaml", help="where to write the map"
    )
    args = parser.parse_args()
    events = write(args.output, args.cases, args.seed)
    args.map.write_text(map_text(), encoding="utf-8")
    cld = args.output.with_name("cld.csv")
    requests = write_cld(cld, args.cases, args.seed)
    print(
        f"wrote {args.output} ({args.cases:,} cases, {events:,} events), {args.map} and {cld} ({requests:,} events)"
    )


if __name__ == "__main__":
    main()
