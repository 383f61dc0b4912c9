"""Synthetic process models for the benchmarks.

    python benchmarks/generate.py chain 5000 > chain-5000.yaml
    python benchmarks/generate.py ladder 60 > ladder-60.yaml
    python benchmarks/generate.py tangle 5000 > tangle-5000.yaml

``chain(n)`` is one long route of ``n`` steps with what real processes have:
hand-offs between three teams, approvals, forms, questions (a few asked twice),
a withdrawal branch every 10 steps and a rework loop every 50. ``ladder(k)``
has ``k`` rungs, each a choice of two steps that meet again, so 2**k routes;
``chain_like_ladder(k)`` is a single route with the same number of steps and
the same step kinds, to compare with. ``blocks(n)`` (format 1.1) is a route of
``n`` steps with 100 parallel blocks, each of three branches of ten steps: one with
a rework loop, one with a choice whose two ways meet again, one a plain chain. All
models are valid and deterministic.
"""

from __future__ import annotations

import sys

_HEAD = """sdsaudit: 1
council: Benchmark Borough Council
title: Synthetic process ({what})
as_of: 2026-04-01
authorities:
  - {{id: practitioner, name: Social worker, limit: 400}}
  - {{id: team_manager, name: Team manager, limit: 900}}
  - {{id: panel, name: Funding panel}}
actors:
  person: {{name: The person, kind: person}}
  front_door: {{name: Contact centre, kind: council}}
  locality: {{name: Locality team, kind: council}}
  finance: {{name: Finance team, kind: finance}}
options: [direct_payment, individual_service_fund, council_managed, mixed]
policies:
  allowed_uses: [personal_assistants, community_activities]
  prepaid_card_default: false
start: s0
steps:
  - {{id: s0, name: First contact, kind: contact, actor: front_door, person: consulted, days: 1,
     asks: [contact_details], tells: [process, options, indicative_budget, contribution],
     next: [s1]}}
"""

_TAIL = """  - {id: support, name: Support in place, kind: support, next: [review]}
  - {id: review, name: Review, kind: review, actor: locality, person: involved, days: 1,
     next: [{to: support, share: 0.9}, {to: s1, share: 0.1, rework: true}]}
  - {id: withdrew, name: Person withdrew, kind: end, outcome: withdrew}
"""

_KINDS = ("information", "assessment", "planning", "approval", "arranging", "decision", "wait")
_ACTORS = ("locality", "finance", "locality", "front_door")


def _step(i: int, kind: str, nxt: list[str], extra: str = "") -> str:
    actor = _ACTORS[i % len(_ACTORS)]
    body = f"id: s{i}, name: Step {i}, kind: {kind}, actor: {actor}, person: involved, days: 1"
    if kind == "approval":
        body += ", authority: team_manager, approves: [support_plan]"
    if kind == "planning":
        body += ", produces: [support_plan]"
    if i % 7 == 0:
        body += ", forms: 1"
    # each question is new, except every 100th step asks for the contact details again
    body += f", asks: [{'contact_details' if i % 100 == 0 else f'topic_{i}'}]"
    return f"  - {{{body}{extra},\n     next: [{', '.join(nxt)}]}}\n"


def chain(n: int, loops_to_start: bool = False) -> str:
    """One route of about ``n`` steps (rework loops and withdrawals aside).

    With ``loops_to_start`` every rework loop goes back to the first step, so the
    whole process is one strongly connected component for the Markov chain.
    """
    body = [_HEAD.format(what=f"chain of {n} steps")]
    last = max(n - 3, 2)
    for i in range(1, last):
        nxt = "support" if i == last - 1 else f"s{i + 1}"
        branches = [nxt]
        if i % 10 == 0:
            branches = [f"{{to: {nxt}, share: 0.98}}", "{to: withdrew, share: 0.02}"]
        elif i % 50 == 25 and i > 10:
            back = f"{{to: s{1 if loops_to_start else i - 10}, share: 0.1, rework: true}}"
            branches = [f"{{to: {nxt}, share: 0.9}}", back]
        body.append(_step(i, _KINDS[i % len(_KINDS)], branches))
    body.append(_TAIL)
    return "".join(body)


def ladder(k: int) -> str:
    """``k`` rungs, each a step that either goes through a second step or skips it, both
    meeting at a third: 2**k routes, 3k + 4 steps."""
    body = [_HEAD.format(what=f"ladder with 2^{k} routes")]
    for r in range(1, k + 1):
        join = f"s{3 * r}"
        after = "support" if r == k else f"s{3 * r + 1}"
        base = 3 * r - 2
        body.append(_step(base, _KINDS[r % len(_KINDS)], [f"s{base + 1}", join]))
        body.append(_step(base + 1, _KINDS[(r + 3) % len(_KINDS)], [join]))
        body.append(_step(base + 2, "decision", [after]))
    return "".join(body) + _TAIL


def chain_like_ladder(k: int) -> str:
    """A single route with the same steps as ``ladder(k)`` (no rung has a choice)."""
    text = ladder(k)
    for r in range(1, k + 1):
        base = 3 * r - 2
        text = text.replace(f"next: [s{base + 1}, s{3 * r}]}}", f"next: [s{base + 1}]}}")
    return text.replace("(ladder with", "(single route, same steps as a ladder with")


def _branch_step(sid: str, kind: str, actor: str, days: int, nxt: list[str]) -> str:
    return (
        f"  - {{id: {sid}, name: Step {sid}, kind: {kind}, actor: {actor}, person: involved, "
        f"days: {days}, asks: [topic_{sid}],\n     next: [{', '.join(nxt)}]}}\n"
    )


def blocks(n: int, count: int = 100) -> str:
    """About ``n`` steps in ``count`` segments, each a parallel block of three branches of
    ten steps (a rework loop in the first, a choice in the second), then plain steps."""
    body = [
        _HEAD.format(what=f"{n} steps with {count} parallel blocks").replace(
            "sdsaudit: 1\n", "sdsaudit: 1.1\n", 1
        )
    ]
    body[0] = body[0].replace("next: [s1]", "next: [p0]")
    size = max(n // count, 32)
    i = 1
    for b in range(count):
        join = f"s{i}"
        firsts = [f"b{b}x0", f"b{b}y0", f"b{b}z0"]
        body.append(
            f"  - {{id: p{b}, name: Side by side {b}, kind: parallel, "
            f"branches: [{', '.join(firsts)}], join: {join}}}\n"
        )
        for letter, actor in (("x", "locality"), ("y", "finance"), ("z", "front_door")):
            for k in range(10):
                sid = f"b{b}{letter}{k}"
                after = f"b{b}{letter}{k + 1}" if k < 9 else join
                nxt = [after]
                if letter == "x" and k == 5:
                    nxt = [
                        f"{{to: {after}, share: 0.8}}",
                        f"{{to: b{b}x3, share: 0.2, rework: true}}",
                    ]
                if letter == "y" and k == 2:
                    nxt = [f"{{to: b{b}y3, share: 0.5}}", f"{{to: b{b}y4, share: 0.5}}"]
                if letter == "y" and k == 3:
                    nxt = [f"b{b}y5"]
                body.append(
                    _branch_step(
                        sid,
                        ("wait", "information", "assessment")[k % 3],
                        actor,
                        1 + (k + b) % 3,
                        nxt,
                    )
                )
        plain = size - 31
        for k in range(plain):
            last_of_all = b == count - 1 and k == plain - 1
            nxt = "support" if last_of_all else (f"p{b + 1}" if k == plain - 1 else f"s{i + 1}")
            ways = [nxt]
            if k == 1:  # some people give up after the block
                ways = [f"{{to: {nxt}, share: 0.98}}", "{to: withdrew, share: 0.02}"]
            body.append(_step(i, _KINDS[i % len(_KINDS)], ways))
            i += 1
    return "".join(body) + _TAIL


if __name__ == "__main__":
    kind, size = sys.argv[1], int(sys.argv[2])
    maker = {
        "chain": chain,
        "ladder": ladder,
        "single": chain_like_ladder,
        "tangle": lambda n: chain(n, loops_to_start=True),
        "blocks": blocks,
    }[kind]
    sys.stdout.write(maker(size))
