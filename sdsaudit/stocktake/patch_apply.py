"""Applying a scenario patch (:mod:`sdsaudit.stocktake.patch`) to a model.

Each change edits the model's plain data in order; a change that cannot apply is
reported at its position and undone, and the others are still tried. The result is
written (:mod:`sdsaudit.stocktake.patch_write`) and validated, and a validation error
of the result is reported against the patch.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError, Problem
from ..model import schema as S
from ..model.loader import did_you_mean, load_model_text
from ..model.objects import PERSON_LEVELS, Model, Pos
from ..model.source import DEFAULT_MAX_BYTES, decode, parse_text, read_bytes, truncate
from ..words import join_and
from .patch import (
    Change,
    Patch,
    Raw,
    Value,
    jsonable,
    load_patch,
    put,
    short_text,
    text_of,
    to_data,
    wrap,
)
from .patch_edges import (
    Edge,
    block_problems,
    blocks_of,
    branches_of,
    edges_of,
    forward,
    is_parallel,
    join_of,
    join_when,
    new_in_1_1,
    renormalise,
    set_branches,
    set_edges,
    start_refs,
)
from .patch_write import describe_change, emit_model, one_line, percent

_STRUCTURAL = ("remove_step", "bypass", "send_direct", "move_step", "parallelise")
"""Operations that rewire steps: after each, the parallel blocks are checked again, so
a change that would break one is refused in plain words instead of failing to load."""
_SHAPE_KEYS = ("next", "kind", "branches", "join")
"""Keys a ``set`` may give that rewire steps (checked like the operations above)."""


def _rewiring(item: Change) -> str | None:
    """The operation's name if it rewires steps, the key of a ``set`` that does, else None."""
    if item.op in _STRUCTURAL:
        return item.op
    if item.op == "set":
        return next((k for k in _SHAPE_KEYS if k in item.args), None)
    return None


# --------------------------------------------------------------------------- applying


class _PatchProblem(Exception):
    def __init__(self, pos: Pos | None, message: str):
        self.pos = pos
        self.message = message


@dataclass(frozen=True)
class PatchResult:
    """A model with a patch applied: the to-be text and the validated model."""

    text: str
    model: Model
    patch: Patch
    notes: Mapping[str, tuple[str, ...]]
    """What changed at each step, by step id (steps removed are not listed)."""
    removed: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    """Each change of the patch in plain English, with what applying it worked out (the
    join of a ``parallelise``); one per change, in order."""

    def described(self) -> tuple[str, ...]:
        """Each change in plain English (worked out against the model where it can be)."""
        if len(self.descriptions) == len(self.patch.changes):
            return self.descriptions
        return tuple(describe_change(c) for c in self.patch.changes)

    @property
    def changed_steps(self) -> tuple[str, ...]:
        """Ids of steps the patch changed (or added), in the to-be model's order."""
        return tuple(s.id for s in self.model.steps if s.id in self.notes)


class _Applier:
    """Edits a model's plain data change by change, recording notes and origins."""

    def __init__(self, data: dict, patch: Patch):
        self.data = data
        self.patch = patch
        self.problems: list[Problem] = []
        self.step_notes: dict[str, list[str]] = {}
        self.step_changes: dict[str, list[Change]] = {}
        self.top_notes: dict[str, list[str]] = {}
        self.top_changes: dict[str, list[Change]] = {}
        self.removed: dict[str, int] = {}
        self.context: dict[int, dict[str, str]] = {}
        self.current: Change | None = None
        self.number = 0

    # -- helpers
    @property
    def steps(self) -> list[dict]:
        return [s for s in self.data.get("steps") or [] if isinstance(s, dict)]

    def ids(self) -> list[str]:
        return [text_of(s.get("id")) for s in self.steps]

    def step(self, key: str, value: Value | None = None) -> dict:
        assert self.current is not None
        value = self.current.arg(key) if value is None else value
        sid = text_of(value)
        for step in self.steps:
            if text_of(step.get("id")) == sid:
                return step
        where = value.origin if isinstance(value, Raw) and value.origin else self.current.at(key)
        if sid in self.removed:
            raise _PatchProblem(
                where, f"step '{sid}' was removed by change {self.removed[sid]} of this patch"
            )
        raise _PatchProblem(where, f"the model has no step '{sid}'{did_you_mean(sid, self.ids())}")

    def preds(self, sid: str) -> list[dict]:
        """The steps whose ``next`` leads to ``sid`` (a parallel step starting a branch at
        ``sid`` is not listed: see :meth:`branch_head_of`)."""
        return [
            s
            for s in self.steps
            if text_of(s.get("id")) != sid and any(e.to == sid for e in edges_of(s))
        ]

    def parallels(self) -> list[dict]:
        return [s for s in self.steps if is_parallel(s)]

    def branch_head_of(self, sid: str) -> dict | None:
        """The parallel step of which ``sid`` is the first step of a branch, if any."""
        return next((p for p in self.parallels() if sid in branches_of(p)), None)

    def join_for(self, sid: str) -> dict | None:
        """A parallel step whose branches join at ``sid``, if any."""
        return next((p for p in self.parallels() if join_of(p) == sid), None)

    def note(self, step: dict | str, text: str) -> None:
        sid = step if isinstance(step, str) else text_of(step.get("id"))
        reason = (
            f" ({one_line(self.current.reason)})" if self.current and self.current.reason else ""
        )
        line = f"{text}{reason}"
        if line not in self.step_notes.setdefault(sid, []):
            self.step_notes[sid].append(line)
        changes = self.step_changes.setdefault(sid, [])
        if self.current is not None and self.current not in changes:
            changes.append(self.current)

    def top_note(self, key: str, text: str) -> None:
        reason = (
            f" ({one_line(self.current.reason)})" if self.current and self.current.reason else ""
        )
        self.top_notes.setdefault(key, []).append(f"{text}{reason}")
        self.top_changes.setdefault(key, []).append(self.current)  # type: ignore[arg-type]

    def start_ids(self) -> list[str]:
        """The step of every start entry (one unless ``start`` is a list of groups)."""
        return [ref.to for ref in start_refs(self.data)]

    # -- driver
    def run(self) -> None:
        for n, item in enumerate(self.patch.changes, start=1):
            self.current, self.number = item, n
            snapshot = _copy(self.data)
            saved = _copy(
                (self.step_notes, self.step_changes, self.top_notes, self.top_changes, self.removed)
            )
            try:
                rewires = _rewiring(item)
                broken = set(block_problems(self.data)) if rewires else set()
                getattr(self, f"op_{item.op}")(item)
                if rewires:
                    self._check_blocks(broken, item.at(rewires) if rewires != item.op else None)
                self._upgrade_version()
            except _PatchProblem as problem:
                self.context.pop(n, None)
                self.data.clear()
                self.data.update(snapshot)
                (
                    self.step_notes,
                    self.step_changes,
                    self.top_notes,
                    self.top_changes,
                    self.removed,
                ) = saved
                pos = problem.pos or item.pos
                self.problems.append(
                    Problem(
                        self.patch.path,
                        pos.line if pos else None,
                        pos.column if pos else None,
                        f"change {n} ({item.label()}): {problem.message}",
                    )
                )
        self.current = None

    def _check_blocks(self, before: set[str], pos: Pos | None) -> None:
        """Refuse the current change if it breaks a parallel block that held before it."""
        new = [p for p in block_problems(self.data) if p not in before]
        if new:
            raise _PatchProblem(pos, f"this would break a parallel block: {new[0]}")

    def _upgrade_version(self) -> None:
        """A version-1 model that a change gives something of format 1.1 becomes 1.1."""
        version = self.data.get("sdsaudit")
        if version is None or text_of(version).strip() != "1":
            return
        what = new_in_1_1(self.data)
        if what is not None:
            self.data["sdsaudit"] = Raw("1.1")
            self.top_note("sdsaudit", f"format 1.1, because the model now has {what}")

    # -- reconnecting
    def _detach(self, step: dict, verb: str) -> None:
        """Connect every step before ``step`` to its onward steps (shares multiply)."""
        sid = text_of(step.get("id"))
        onward = forward(edges_of(step), sid)
        for pred in self.preds(sid):
            pid = text_of(pred.get("id"))
            new: list[Edge] = []
            for edge in edges_of(pred):
                if edge.to != sid:
                    new.append(edge)
                    continue
                for after in onward:
                    if after.to == pid:
                        continue  # a loop straight back: the case simply carries on
                    new.append(
                        Edge(
                            after.to,
                            edge.share * after.share,
                            join_when(edge.when, after.when),
                            edge.rework or after.rework,
                        )
                    )
            if not new:
                raise _PatchProblem(
                    None, f"step '{pid}' would have nowhere to go once '{sid}' is {verb}"
                )
            set_edges(pred, renormalise(new), explicit=True)
            targets = ", ".join(f"'{e.to}'" for e in onward if e.to != pid) or "nowhere"
            self.note(pred, f"now goes on to {targets} instead of '{sid}', which is {verb}")
        for ref in start_refs(self.data):
            if ref.to != sid:
                continue
            if len(onward) != 1:
                where = "the start step" if ref.when is None else f"where {ref.who()} starts"
                raise _PatchProblem(
                    None,
                    f"'{sid}' is {where} and leads to "
                    f"{'several steps' if onward else 'no step'}, so the new start is not clear",
                )
            ref.to = onward[0].to
            if ref.when is None:
                self.top_note("start", f"starts at '{onward[0].to}' because '{sid}' is {verb}")
            else:
                self.top_note(
                    "start",
                    f"{ref.who()} starts at '{onward[0].to}' because '{sid}' is {verb}",
                )
        self._close_up_blocks(sid, onward, verb)

    def _close_up_blocks(self, sid: str, onward: list[Edge], verb: str) -> None:
        """Parallel steps naming ``sid`` (taken out of its place) name what came after it:
        a branch starts at its next step (or goes, when that is the join), and a join
        moves to its next step. A block left with one branch is no longer parallel."""
        for par in self.parallels():
            pid = text_of(par.get("id"))
            if pid == sid:
                continue
            branches, join = branches_of(par), join_of(par)
            if sid in branches:
                targets = [e.to for e in onward]
                if len(targets) != 1:
                    raise _PatchProblem(
                        None,
                        f"'{sid}' is the first step of a branch of the parallel step '{pid}' "
                        f"and leads to {'several steps' if targets else 'no step'}, so the "
                        "branch's new first step is not clear: take out the steps after it "
                        "first",
                    )
                if targets[0] == join:
                    branches = [b for b in branches if b != sid]
                    self.note(
                        par,
                        f"no longer runs the branch '{sid}', which is {verb} (it went "
                        f"straight on to the join '{join}')",
                    )
                else:
                    branches = [targets[0] if b == sid else b for b in branches]
                    self.note(
                        par,
                        f"its branch now starts at '{targets[0]}' because '{sid}' is {verb}",
                    )
                set_branches(par, branches)
                if len(branches) < 2:
                    self._dissolve(par)
                    continue
            if join == sid:
                if len(onward) != 1:
                    raise _PatchProblem(
                        None,
                        f"'{sid}' is where the branches of the parallel step '{pid}' join, "
                        f"and it leads to {'several steps' if onward else 'no step'}, so the "
                        "new join is not clear",
                    )
                par["join"] = Raw(onward[0].to)
                self.note(
                    par, f"its branches now join at '{onward[0].to}' because '{sid}' is {verb}"
                )

    def _dissolve(self, par: dict) -> None:
        """Take out a parallel step left with one branch (or none): what led to it leads
        to that branch (or to the join), which goes on to the join as before."""
        pid = text_of(par.get("id"))
        left = branches_of(par)
        target = left[0] if left else join_of(par) or ""
        why = (
            f"'{pid}' is removed, as only '{target}' was left to run in it"
            if left
            else f"'{pid}' is removed, as no branch was left to run in it"
        )
        self._redirect(pid, target, why)
        self.data["steps"] = [s for s in self.data["steps"] if s is not par]
        self.removed[pid] = self.number
        self.step_notes.pop(pid, None)
        self._drop_waivers(pid)
        self.note(target, f"no longer runs side by side with other work: {why}")

    def _redirect(self, old: str, new: str, why: str) -> None:
        """Every transition into ``old`` ("sent back" ones too), every start entry and every
        parallel step's branch or join naming it now names ``new``."""
        for step in self.steps:
            sid = text_of(step.get("id"))
            if sid == old:
                continue
            edges = edges_of(step)
            if any(e.to == old for e in edges):
                for e in edges:
                    if e.to == old:
                        e.to = new
                explicit = any(isinstance(t, dict) and "share" in t for t in step["next"])
                set_edges(step, edges, explicit=explicit)
                self.note(step, f"now goes on to '{new}': {why}")
            if is_parallel(step):
                if old in branches_of(step):
                    set_branches(step, [new if b == old else b for b in branches_of(step)])
                    self.note(step, f"its branch now starts at '{new}': {why}")
                if join_of(step) == old:
                    step["join"] = Raw(new)
                    self.note(step, f"its branches now join at '{new}': {why}")
        for ref in start_refs(self.data):
            if ref.to == old:
                ref.to = new
                self.top_note("start", f"{ref.who()} starts at '{new}': {why}")

    def _drop_waivers(self, sid: str) -> None:
        waivers = self.data.get("waivers") or []
        kept = [w for w in waivers if not (isinstance(w, dict) and text_of(w.get("step")) == sid)]
        if len(kept) != len(waivers):
            self.data["waivers"] = kept
            self.top_note("waivers", f"the waiver for step '{sid}' is dropped with the step")

    def _not_in_a_branch_entry(self, sid: str, verb: str, pos: Pos | None) -> None:
        """Refuse to split the cases at the first step of a branch (every case at the
        parallel step starts every branch) or at a join (every branch must arrive there)."""
        head = self.branch_head_of(sid)
        if head is not None:
            raise _PatchProblem(
                pos,
                f"'{sid}' is the first step of a branch of the parallel step "
                f"'{text_of(head.get('id'))}', which starts every branch for every case, so "
                f"it cannot be {verb}",
            )
        joined = self.join_for(sid)
        if joined is not None:
            raise _PatchProblem(
                pos,
                f"'{sid}' is where the branches of the parallel step "
                f"'{text_of(joined.get('id'))}' join: every branch must arrive there, so it "
                f"cannot be {verb}",
            )

    def op_remove_step(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        if is_parallel(step):
            raise _PatchProblem(
                item.at("step"),
                f"'{sid}' is a parallel step, which starts "
                f"{_names(branches_of(step))} at once: removed, they would have no way in. "
                "To stop running them side by side, remove or move the steps of every branch "
                "but one, and the parallel step goes with them",
            )
        joined = self.join_for(sid)
        if joined is not None and step.get("next") is None:
            raise _PatchProblem(
                item.at("step"),
                f"'{sid}' is where the branches of the parallel step "
                f"'{text_of(joined.get('id'))}' join, and it is an end step: the branches "
                "would have nowhere to go",
            )
        if step.get("next") is None and self.preds(sid):
            # an end step: its predecessors simply lose that branch
            for pred in self.preds(sid):
                kept = [e for e in edges_of(pred) if e.to != sid]
                if not kept:
                    raise _PatchProblem(
                        None,
                        f"step '{text_of(pred.get('id'))}' would have nowhere "
                        f"to go once '{sid}' is removed",
                    )
                set_edges(pred, renormalise(kept), explicit=True)
                self.note(pred, f"no longer goes to '{sid}', which is removed")
        else:
            self._detach(step, "removed")
        self.data["steps"] = [s for s in self.data["steps"] if s is not step]
        self.removed[sid] = self.number
        self.step_notes.pop(sid, None)
        self._drop_waivers(sid)

    def op_bypass(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        share = float(item.arg("share"))
        when, otherwise = item.arg("when"), item.arg("otherwise")
        self._not_in_a_branch_entry(sid, "bypassed", item.at("step"))
        preds = self.preds(sid)
        if not preds:
            raise _PatchProblem(
                item.at("step"), f"no step leads to '{sid}', so nothing can bypass it"
            )
        if is_parallel(step):
            # the whole block is skipped: the rest go straight to where its branches join
            onward = [Edge(join_of(step) or "", 1.0)]
        else:
            onward = [e for e in forward(edges_of(step), sid)]
            if step.get("next") is None:
                raise _PatchProblem(
                    item.at("step"), f"'{sid}' is an end step: it cannot be bypassed"
                )
        for pred in preds:
            pid = text_of(pred.get("id"))
            new: list[Edge] = []
            for edge in edges_of(pred):
                if edge.to != sid:
                    new.append(edge)
                    continue
                # the branch that still goes through is labelled 'when' (else as before); the
                # bypassing branches 'otherwise' (else as the bypassed step's own branches)
                if when is not None:
                    new.append(Edge(sid, edge.share * share, text_of(when), edge.rework, when))
                else:
                    new.append(Edge(sid, edge.share * share, edge.when, edge.rework, edge.when_raw))
                for after in onward:
                    if after.to == pid:
                        continue
                    label, raw = (
                        (text_of(otherwise), otherwise)
                        if otherwise is not None
                        else (after.when, after.when_raw)
                    )
                    new.append(
                        Edge(
                            after.to,
                            edge.share * (1 - share) * after.share,
                            label,
                            edge.rework or after.rework,
                            raw,
                        )
                    )
            set_edges(pred, renormalise(new), explicit=True)
            self.note(
                pred,
                f"only {percent(share)} of cases now go to '{sid}'; the rest go straight "
                f"on to {', '.join(repr(e.to) for e in onward if e.to != pid)}",
            )
        self.note(
            step,
            f"now bypassed by {percent(1 - share)} of cases"
            + (f"; used only {text_of(when)}" if when is not None else ""),
        )

    def op_send_direct(self, item: Change) -> None:
        target, skip = self.step("to"), self.step("skip")
        tid, kid = text_of(target.get("id")), text_of(skip.get("id"))
        if tid == kid:
            raise _PatchProblem(item.at("skip"), "'to' and 'skip' name the same step")
        if is_parallel(skip):
            raise _PatchProblem(
                item.at("skip"),
                f"'{kid}' is a parallel step: every case at it runs all of its branches, so "
                "none can be sent past it",
            )
        self._not_in_a_branch_entry(kid, "skipped", item.at("skip"))
        edges = edges_of(skip)
        branch = next((e for e in edges if e.to == tid and not e.rework), None)
        if branch is None:
            raise _PatchProblem(
                item.at("skip"),
                f"'{kid}' does not go on to '{tid}', so no case can be sent there directly",
            )
        if branch.share >= 1 - 1e-6:
            raise _PatchProblem(
                item.at("skip"),
                f"every case at '{kid}' goes on to '{tid}': use remove_step: {kid} instead",
            )
        preds = self.preds(kid)
        if not preds:
            raise _PatchProblem(item.at("skip"), f"no step leads to '{kid}'")
        s = branch.share
        for pred in preds:
            new: list[Edge] = []
            for edge in edges_of(pred):
                if edge.to != kid:
                    new.append(edge)
                    continue
                new.append(Edge(kid, edge.share * (1 - s), edge.when, edge.rework, edge.when_raw))
                new.append(
                    Edge(
                        tid,
                        edge.share * s,
                        join_when(edge.when, branch.when),
                        edge.rework,
                        branch.when_raw if not edge.when else None,
                    )
                )
            set_edges(pred, renormalise(new), explicit=True)
            self.note(
                pred,
                f"sends cases {branch.when or 'that went on to ' + repr(tid)} straight to "
                f"'{tid}', without '{kid}'",
            )
        rest = [e for e in edges if e is not branch]
        set_edges(skip, renormalise(rest), explicit=True)
        self.note(skip, f"no longer passes cases on to '{tid}': they go there directly")

    def op_move_step(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        key = "before" if item.arg("before") is not None else "after"
        other = self.step(key)
        oid = text_of(other.get("id"))
        if oid == sid:
            raise _PatchProblem(item.at(key), "a step cannot be moved next to itself")
        if is_parallel(step):
            raise _PatchProblem(
                item.at("step"),
                f"'{sid}' is a parallel step: it cannot be moved without its branches. Move "
                "the steps before or after the block instead",
            )
        if step.get("next") is None:
            raise _PatchProblem(item.at("step"), f"'{sid}' is an end step: it cannot be moved")
        if key == "after" and is_parallel(other):
            raise _PatchProblem(
                item.at("after"),
                f"'{oid}' is a parallel step, which starts {_names(branches_of(other))} at "
                f"once, so 'after' it is not one place: to put '{sid}' in a branch, move it "
                f"before that branch's first step; to put it after the block, move it before "
                f"'{join_of(other)}'",
            )
        # branches to an end step (people who stop here) travel with the step; the rest of
        # its flow closes up behind it
        ends = {text_of(s.get("id")) for s in self.steps if text_of(s.get("kind")) == "end"}
        edges = edges_of(step)
        exits = [e for e in edges if e.to in ends and not e.rework]
        if len(exits) == len(edges):
            exits = []
        exit_share = sum(e.share for e in exits)
        if exits:
            set_edges(step, renormalise([e for e in edges if e not in exits]), explicit=True)
        self._detach(step, "moved")
        if oid in self.removed:
            raise _PatchProblem(
                item.at(key),
                f"once '{sid}' is taken out, the parallel step '{oid}' has only one branch "
                f"left and goes, so there is no '{oid}' to put it {key}",
            )
        if key == "before":
            for pred in self.steps:
                pid = text_of(pred.get("id"))
                if pid == sid:
                    continue
                edges = edges_of(pred)
                if any(e.to == oid and not e.rework for e in edges):
                    for e in edges:
                        if e.to == oid and not e.rework:
                            e.to = sid
                    explicit = any(isinstance(t, dict) and "share" in t for t in pred["next"])
                    set_edges(pred, edges, explicit=explicit)
                    self.note(pred, f"now goes on to '{sid}' (moved before '{oid}')")
                if is_parallel(pred) and oid in branches_of(pred):
                    set_branches(pred, [sid if b == oid else b for b in branches_of(pred)])
                    self.note(pred, f"its branch now starts at '{sid}' (moved before '{oid}')")
                if is_parallel(pred) and join_of(pred) == oid:
                    pred["join"] = Raw(sid)
                    self.note(pred, f"its branches now join at '{sid}' (moved before '{oid}')")
            for ref in start_refs(self.data):
                if ref.to == oid:
                    ref.to = sid
                    if ref.when is None:
                        self.top_note("start", f"starts at '{sid}', moved before '{oid}'")
                    else:
                        self.top_note(
                            "start", f"{ref.who()} starts at '{sid}', moved before '{oid}'"
                        )
            set_edges(step, [Edge(oid, 1.0 - exit_share), *exits], explicit=True)
            self.note(step, f"moved before '{oid}'")
        else:
            edges = edges_of(other)
            onward = [e for e in edges if not e.rework]
            if not onward:
                raise _PatchProblem(
                    item.at("after"), f"'{oid}' has no onward step to put '{sid}' before"
                )
            total = sum(e.share for e in onward)
            keep = [e for e in edges if e.rework]
            set_edges(other, [Edge(sid, total), *keep], explicit=True)
            flow = [
                Edge(e.to, e.share * (1 - exit_share), e.when, e.rework, e.when_raw)
                for e in renormalise(onward)
            ]
            set_edges(step, [*flow, *exits], explicit=True)
            self.note(other, f"now goes on to '{sid}' (moved after it)")
            self.note(step, f"moved after '{oid}'")

    def op_parallelise(self, item: Change) -> None:
        values = item.arg("steps")
        if len(values) < 2:
            raise _PatchProblem(
                item.at("steps"),
                "give at least two steps to run side by side, each leading to the next, "
                "such as [planning, financial_assessment]",
            )
        chain = [self.step("steps", v) for v in values]
        ids = [text_of(s.get("id")) for s in chain]
        onward: list[str] = []
        for n, (step, value) in enumerate(zip(chain, values, strict=True)):
            sid = ids[n]
            kind = text_of(step.get("kind"))
            if kind in ("support", "end", "parallel"):
                what = {
                    "support": "the support step: the case ends there",
                    "end": "an end step: the case stops there",
                    "parallel": "a parallel step already",
                }[kind]
                raise _PatchProblem(
                    value.origin, f"'{sid}' is {what}, so it cannot run alongside other steps"
                )
            edges = edges_of(step)
            leaving = [e for e in edges if e.rework and e.to != sid]
            if leaving:
                raise _PatchProblem(
                    value.origin,
                    f"'{sid}' sends cases back to '{leaving[0].to}', which would leave its "
                    "branch: a step running alongside others can only send work back to "
                    "itself",
                )
            ahead = [e for e in edges if not e.rework and e.to != sid]
            last = n + 1 == len(chain)
            if len(ahead) > 1:
                raise _PatchProblem(
                    value.origin,
                    f"'{sid}' goes on to {_names([e.to for e in ahead])}: "
                    + (
                        "there is no single step after the steps for them to join at"
                        if last
                        else "a step running alongside others must go on to one step only"
                    ),
                )
            if not ahead:
                raise _PatchProblem(
                    value.origin,
                    f"'{sid}' has no next step, so there is no step after the steps for them "
                    "to join at",
                )
            onward.append(ahead[0].to)
            if not last and ahead[0].to != ids[n + 1]:
                raise _PatchProblem(
                    values[n + 1].origin,
                    f"the steps must follow one another, but '{sid}' goes on to "
                    f"'{ahead[0].to}', not '{ids[n + 1]}'",
                )
        join = onward[-1]
        if join in ids:
            raise _PatchProblem(
                values[-1].origin,
                f"'{ids[-1]}' goes back to '{join}', so the steps go round in a loop and "
                "there is no step after them to join at",
            )
        for block in blocks_of(self.data):
            held = block.branch_of(ids[0])
            if held is not None and block.branch_of(join) != held:
                raise _PatchProblem(
                    values[-1].origin,
                    f"the steps are inside branch '{block.branches[held][0]}' of the parallel step "
                    f"'{block.step}', but '{ids[-1]}' goes on to '{join}', outside that branch: "
                    "steps side by side inside a branch must join at a later step of the same "
                    "branch",
                )
        # nothing may reach the later steps except the one before each
        members = set(ids)
        for step in self.steps:
            pid = text_of(step.get("id"))
            into = [e.to for e in edges_of(step) if e.to in ids[1:] and pid not in members]
            if is_parallel(step):
                into += [b for b in branches_of(step) if b in ids[1:]]
                into += [j for j in [join_of(step)] if j in ids[1:]]
            if into:
                raise _PatchProblem(
                    item.at("steps"),
                    f"'{pid}' also leads to '{into[0]}': once it runs alongside "
                    f"'{ids[0]}', it can be reached only through the new parallel step",
                )
        for ref in start_refs(self.data):
            if ref.to in ids[1:]:
                raise _PatchProblem(
                    item.at("steps"),
                    f"{ref.who()} starts at '{ref.to}': once it runs alongside '{ids[0]}', "
                    "it can be reached only through the new parallel step",
                )
        new_id = self._new_parallel_id(ids[0], item)
        name = item.arg("name")
        if name is None:
            names = [text_of(s.get("name")) for s in chain]
            name = wrap(f"{names[0]}, alongside {join_and(names[1:])}")
        record: dict[str, Value] = {
            "id": Raw(new_id),
            "name": name,
            "kind": Raw("parallel"),
            "branches": [Raw(i) for i in ids],
            "join": Raw(join),
        }
        self._redirect(ids[0], new_id, f"'{ids[0]}' runs there alongside {_names(ids[1:])}")
        steps = self.data["steps"]
        steps.insert(next(n for n, s in enumerate(steps) if s is chain[0]), record)
        for n, step in enumerate(chain):
            edges = edges_of(step)
            for e in edges:
                if not e.rework and e.to != ids[n]:
                    e.to = join
            explicit = any(isinstance(t, dict) and "share" in t for t in step["next"])
            set_edges(step, edges, explicit=explicit)
            others = _names([i for i in ids if i != ids[n]])
            self.note(
                step, f"now runs alongside {others} (in '{new_id}'), then goes on to '{join}'"
            )
        together = "both are" if len(ids) == 2 else "all are"
        self.note(
            new_id,
            f"new: runs {_names(ids)} side by side; the case goes on at '{join}' when "
            f"{together} done",
        )
        self.context[self.number] = {"id": new_id, "join": join}

    def _new_parallel_id(self, first: str, item: Change) -> str:
        taken = set(self.ids())
        given = item.arg("id")
        if given is not None:
            if text_of(given) in taken:
                raise _PatchProblem(
                    item.at("id"),
                    f"the model already has a step '{text_of(given)}': give the parallel "
                    "step another id",
                )
            return text_of(given)
        base = f"{first}_alongside"
        n, found = 1, base
        while found in taken or found in self.removed:
            n += 1
            found = f"{base}_{n}"
        return found

    def op_add_tells(self, item: Change) -> None:
        step = self.step("step")
        have = [text_of(t) for t in step.get("tells") or []]
        words = item.arg("tells")
        already = [w.text for w in words if w.text in have]
        if already:
            raise _PatchProblem(
                item.at("tells"),
                f"step '{text_of(step.get('id'))}' already tells "
                f"{', '.join(repr(w) for w in already)}",
            )
        put(step, "tells", [*(step.get("tells") or []), *words], S.STEP.keys)
        self.note(step, f"now tells the person {', '.join(w.text for w in words)}")

    def op_merge_asks(self, item: Change) -> None:
        topic = text_of(item.arg("topic"))
        asking = [s for s in self.steps if topic in [text_of(a) for a in s.get("asks") or []]]
        if not asking:
            every = sorted({text_of(a) for s in self.steps for a in s.get("asks") or []})
            raise _PatchProblem(
                item.at("topic"), f"no step asks about '{topic}'{did_you_mean(topic, every)}"
            )
        if item.arg("keep") is not None:
            keep = self.step("keep")
            if keep not in asking:
                raise _PatchProblem(
                    item.at("keep"),
                    f"step '{text_of(keep.get('id'))}' does not ask about '{topic}'",
                )
        else:
            keep = self._earliest(asking)
        kid = text_of(keep.get("id"))
        if item.arg("from") is not None:
            targets = []
            for value in item.arg("from"):
                step = self.step("from", value)
                if step is keep:
                    raise _PatchProblem(
                        value.origin, f"'{kid}' is the step that keeps the question"
                    )
                if step not in asking:
                    raise _PatchProblem(
                        value.origin,
                        f"step '{text_of(step.get('id'))}' does not ask about '{topic}'",
                    )
                targets.append(step)
        else:
            targets = [s for s in asking if s is not keep]
            if not targets:
                raise _PatchProblem(
                    item.at("topic"), f"only '{kid}' asks about '{topic}': nothing to merge"
                )
        for step in targets:
            asks = [a for a in step.get("asks") or [] if text_of(a) != topic]
            if asks:
                step["asks"] = asks
            else:
                del step["asks"]
            self.note(step, f"no longer asks about {topic} (already asked at '{kid}')")

    def _earliest(self, candidates: list[dict]) -> dict:
        """The candidate nearest the start (forward transitions), then first in the file."""
        distance = dict.fromkeys(self.start_ids(), 0)
        queue = deque(distance)
        by_id = {text_of(s.get("id")): s for s in self.steps}
        while queue:
            sid = queue.popleft()
            step = by_id.get(sid, {})
            onward = [e.to for e in edges_of(step) if not e.rework]
            if is_parallel(step):
                onward = [*branches_of(step), *filter(None, [join_of(step)])]
            for to in onward:
                if to not in distance:
                    distance[to] = distance[sid] + 1
                    queue.append(to)
        order = {id(s): i for i, s in enumerate(self.steps)}
        return min(
            candidates, key=lambda s: (distance.get(text_of(s.get("id")), 10**9), order[id(s)])
        )

    def op_set(self, item: Change) -> None:
        step = self.step("step")
        sid = text_of(step.get("id"))
        for key, value in item.args.items():
            if key == "step":
                continue
            old = step.get(key)
            if old is not None and jsonable(old) == jsonable(value):
                raise _PatchProblem(
                    item.at(key), f"step '{sid}' already has {key}: {short_text(value)}"
                )
            if key == "person" and isinstance(value, Raw) and value.text not in PERSON_LEVELS:
                raise _PatchProblem(
                    item.at(key),
                    f"'{truncate(value.text)}' is not a person level"
                    f"{did_you_mean(value.text, PERSON_LEVELS)}; use one "
                    f"of: {', '.join(PERSON_LEVELS)}",
                )
            put(step, key, value, S.STEP.keys)
            default = S.STEP.keys[key].default
            was = (
                short_text(old)
                if old is not None
                else f"{text_of(default)} by default"
                if default not in (None, ())
                else "not set"
            )
            self.note(step, f"{key} set to {short_text(value)} (was {was})")

    def op_add_option(self, item: Change) -> None:
        words = item.arg("option")
        have = [text_of(o) for o in self.data.get("options") or []]
        already = [w.text for w in words if w.text in have]
        if already:
            raise _PatchProblem(
                item.at("option"), f"the council already offers {', '.join(already)}"
            )
        put(self.data, "options", [*(self.data.get("options") or []), *words], S.MODEL.keys)
        self.top_note("options", f"now also offers {', '.join(w.text for w in words)}")

    def op_allow_use(self, item: Change) -> None:
        words = item.arg("use")
        policies = self._policies()
        have = [text_of(u) for u in policies.get("allowed_uses") or []]
        already = [w.text for w in words if w.text in have]
        if already:
            raise _PatchProblem(
                item.at("use"), f"budgets may already be used for {', '.join(already)}"
            )
        put(
            policies,
            "allowed_uses",
            [*(policies.get("allowed_uses") or []), *words],
            S.POLICIES.keys,
        )
        self.top_note(
            "policies", f"budgets may now also be used for {', '.join(w.text for w in words)}"
        )

    def op_remove_restriction(self, item: Change) -> None:
        wanted = _norm(text_of(item.arg("text")))
        places: list[tuple[dict, str]] = []
        if item.arg("step") is not None:
            places.append((self.step("step"), "step"))
        else:
            places.append((self.data.get("policies") or {}, "policies"))
            places.extend((s, "step") for s in self.steps)
        found = False
        every: list[str] = []
        law: list[str] = []
        for record, where in places:
            restrictions = record.get("restrictions") or []
            every.extend(_restriction_text(r) for r in restrictions)
            matched = [r for r in restrictions if _norm(_restriction_text(r)) == wanted]
            law.extend(_restriction_text(r) for r in matched if _basis(r) == "law")
            kept = [r for r in restrictions if r not in matched or _basis(r) == "law"]
            if len(kept) == len(restrictions):
                continue
            found = True
            record["restrictions"] = kept
            if where == "policies":
                self.top_note("policies", f"restriction withdrawn: {text_of(item.arg('text'))}")
            else:
                self.note(record, f"restriction withdrawn: {text_of(item.arg('text'))}")
        if not found and law:
            raise _PatchProblem(
                item.at("text"),
                f"the restriction '{law[0]}' is set by law (basis: law), so the council "
                "cannot withdraw it",
            )
        if not found:
            hint = difflib.get_close_matches(text_of(item.arg("text")), every, n=1, cutoff=0.6)
            raise _PatchProblem(
                item.at("text"),
                "no restriction reads like this"
                + (
                    f" (did you mean '{hint[0]}'?)"
                    if hint
                    else "; copy its words exactly from the model"
                ),
            )

    def op_set_policy(self, item: Change) -> None:
        policies = self._policies()
        for key, value in item.args.items():
            old = policies.get(key)
            if old is not None and jsonable(old) == jsonable(value):
                raise _PatchProblem(
                    item.at(key), f"policies already have {key}: {short_text(value)}"
                )
            put(policies, key, value, S.POLICIES.keys)
            was = "not set" if old is None else short_text(old)
            self.top_note("policies", f"{key} set to {short_text(value)} (was {was})")

    def _policies(self) -> dict:
        policies = self.data.get("policies")
        if not isinstance(policies, dict):
            policies = {}
            put(self.data, "policies", policies, S.MODEL.keys)
        return policies


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _restriction_text(value: Value) -> str:
    """A restriction's words: the string, or the ``text`` of ``{text, basis, ref}``."""
    if isinstance(value, dict):
        return text_of(value.get("text"))
    return text_of(value)


def _basis(value: Value) -> str:
    """Who set a restriction: ``council`` (a plain string's basis) or ``law``."""
    if isinstance(value, dict) and value.get("basis") is not None:
        return text_of(value["basis"]).strip()
    return "council"


def _names(ids: list[str]) -> str:
    """Step ids in quotes, joined: ``'a', 'b' and 'c'``."""
    return join_and(f"'{i}'" for i in ids)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def apply_patch_text(
    model_text: str, patch: Patch, *, model_path: str = "<model>", result_path: str | None = None
) -> PatchResult:
    """Apply ``patch`` to the model written in ``model_text``.

    The model must be valid (its own errors are raised against it). Raises
    :class:`ModelError` with every problem, located in the patch, when a change
    cannot apply or the result does not validate.
    """
    load_model_text(model_text, model_path)
    document = parse_text(model_text, model_path)
    data = to_data(document.root)
    applier = _Applier(data, patch)
    applier.run()
    descriptions = tuple(
        describe_change(c, applier.context.get(n)) for n, c in enumerate(patch.changes, start=1)
    )
    header = _header(patch, model_path, descriptions)
    text, origins, spans = emit_model(data, applier.step_notes, applier.top_notes, header)
    name = result_path or f"{model_path} with {patch.path}"
    try:
        model = load_model_text(text, name)
    except ModelError as exc:
        located = [_locate(p, patch, applier, origins, spans) for p in exc.problems]
        if applier.problems:
            # some changes did not apply: add only the errors of values the patch wrote
            located = [q for p, q in zip(exc.problems, located, strict=True) if p.line in origins]
        raise ModelError([*applier.problems, *located]) from None
    if applier.problems:
        raise ModelError(applier.problems)
    notes = {sid: tuple(n) for sid, n in applier.step_notes.items()}
    kept = _keeping_comments(model_text, data, header, notes, applier.top_notes, name)
    if kept is not None:
        text, model = kept
    return PatchResult(text, model, patch, notes, tuple(applier.removed), descriptions)


def _keeping_comments(
    original: str,
    data: dict,
    header: list[str],
    notes: Mapping[str, tuple[str, ...]],
    top_notes: Mapping[str, Sequence[str]],
    name: str,
) -> tuple[str, Model] | None:
    """The to-be model written into the council's own text, its comments and layout kept
    (the workshop's writer, :mod:`sdsaudit.workshop.keep`), with the header and a comment
    above each changed step; ``None`` when that writer is not installed (the optional
    extra ``sdsaudit[workshop]``) or cannot keep the layout, and the plain re-dump stands.
    The result must read back to the same model as the re-dump."""
    try:
        from ..workshop.keep import LayoutLost, rewrite
    except ImportError:
        return None
    try:
        text = rewrite(original, data, name)
    except (LayoutLost, ModelError):
        return None
    lines = text.split("\n")
    out = [
        f"# {line}" if line else "#"
        for line in header
        if not line.startswith("Comments of the original model")
        and not line.startswith("what changed and why")
    ]
    out += ["# The original model's comments are kept; each changed step has a comment", "#"]
    for line in lines:
        top = re.match(r"^([A-Za-z_]+):", line)
        if top:
            out.extend(f"# changed by patch: {note}" for note in top_notes.get(top.group(1), ()))
        match = re.match(r"^(\s*)- id: *(\S+)\s*$", line)
        if match:
            sid = match.group(2).strip("'\"")
            pad = match.group(1)
            out.extend(f"{pad}# changed by patch: {note}" for note in notes.get(sid, ()))
        out.append(line)
    kept = "\n".join(out)
    try:
        model = load_model_text(kept, name)
    except ModelError:
        return None
    return kept, model


def apply_patch_file(
    model_path: str, patch_path: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> PatchResult:
    """Read a model and a patch from files (``-`` for a model on standard input) and apply."""
    name = "<stdin>" if model_path == "-" else model_path
    model_text = decode(read_bytes(model_path, max_bytes), name)
    patch = load_patch(patch_path, max_bytes=max_bytes)
    return apply_patch_text(model_text, patch, model_path=name, result_path="to-be.yaml")


def _header(patch: Patch, model_path: str, descriptions: tuple[str, ...]) -> list[str]:
    lines = [
        f'To-be model: {Path(model_path).name} with the scenario patch "{one_line(patch.title)}".',
        "Written by sdsaudit: change the patch and apply it again rather than editing this file.",
        "Comments of the original model are not copied; each changed step has a comment saying",
        "what changed and why.",
        "",
        "Changes:",
    ]
    for n, words in enumerate(descriptions, start=1):
        lines.append(f"  {n}. {words}")
    return lines


def _locate(
    problem: Problem,
    patch: Patch,
    applier: _Applier,
    origins: Mapping[int, Pos],
    spans: Mapping[str, tuple[int, int]],
) -> Problem:
    """Report a validation error of the to-be model against the patch."""
    line = problem.line or 0
    step = next(
        (sid for sid, (a, b) in spans.items() if not sid.startswith(":") and a <= line <= b), None
    )
    where: Pos | None = origins.get(line)
    if where is None and step is not None and applier.step_changes.get(step):
        where = applier.step_changes[step][0].pos
    if where is None:
        key = next((k for k, (a, b) in spans.items() if k.startswith(":") and a <= line <= b), None)
        changes = applier.top_changes.get(key[1:]) if key else None
        where = changes[0].pos if changes else patch.pos
    about = f" (at step '{step}')" if step is not None else ""
    return Problem(
        patch.path,
        where.line if where else None,
        where.column if where else None,
        f"after this patch the model is not valid{about}: {problem.message}",
    )
