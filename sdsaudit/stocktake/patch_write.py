"""Writing plain data as YAML, deterministically: a to-be model with a comment on each
changed step and key, and a patch itself; and each change of a patch in plain English."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence

from ..model.objects import Pos
from ..words import join_and, number
from .patch import OPERATIONS, Change, Patch, Raw, Value, short_text, text_of, wrap

LINE_WIDTH = 100
_COUNTS = {3: "three", 4: "four", 5: "five", 6: "six"}


# --------------------------------------------------------------------------- writing YAML

_PLAIN = re.compile(r"^[\w.+/(][\w .+\-/()'%£?!]*$")
_NULL_WORDS = ("", "~", "null", "Null", "NULL")


def scalar_text(value: Value) -> str:
    """One scalar as YAML: plain where it is safe in any context, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number(value, 4)
    if isinstance(value, Raw):
        if value.plain and value.text in _NULL_WORDS:
            return "null"
        if value.plain and _PLAIN.match(value.text) and not value.text.endswith(" "):
            return value.text
        text = value.text
    else:
        text = str(value)
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\x85")


def _is_scalar(value: Value) -> bool:
    return not isinstance(value, (dict, list))


def _flow(value: Value) -> str | None:
    """``value`` on one line, when it is made only of scalars (one level deep)."""
    if _is_scalar(value):
        return scalar_text(value)
    if isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            return "[" + ", ".join(scalar_text(v) for v in value) + "]"
        return None
    if all(
        _is_scalar(v) or (isinstance(v, list) and all(_is_scalar(i) for i in v))
        for v in value.values()
    ):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return None


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.origins: dict[int, Pos] = {}

    def add(self, text: str, value: Value = None) -> None:
        self.lines.append(text.rstrip())
        origin = _first_origin(value)
        if origin is not None:
            self.origins[len(self.lines)] = origin

    def comment(self, indent: int, text: str) -> None:
        # a numbered item ("  3. ...") wraps under its own text, not under the number
        item = re.match(r"^\s*\d+\.\s", text)
        for line in textwrap.wrap(
            text,
            LINE_WIDTH - indent - 2,
            subsequent_indent=" " * len(item.group(0)) if item else "",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]:
            self.lines.append(f"{' ' * indent}# {line}".rstrip())

    def mapping(self, record: dict, indent: int, first_prefix: str | None = None) -> None:
        """Block mapping; ``first_prefix`` replaces the indent of its first line (``- ``)."""
        for i, (key, value) in enumerate(record.items()):
            pad = first_prefix if (i == 0 and first_prefix is not None) else " " * indent
            self.entry(pad, key, value, indent)

    def entry(self, pad: str, key: str, value: Value, indent: int) -> None:
        flow = _flow(value)
        if flow is not None and (
            len(pad) + len(key) + 2 + len(flow) <= LINE_WIDTH or _is_scalar(value)
        ):
            self.add(f"{pad}{key}: {flow}", value)
            return
        if isinstance(value, dict):
            self.add(f"{pad}{key}:")
            self.mapping(value, indent + 2)
        else:
            self.add(f"{pad}{key}:")
            self.sequence(value, indent + 2)

    def sequence(self, items: list, indent: int) -> None:
        for item in items:
            self.item(item, indent)

    def item(self, item: Value, indent: int) -> None:
        pad = " " * indent + "- "
        flow = _flow(item)
        if flow is not None and len(pad) + len(flow) <= LINE_WIDTH:
            self.add(pad + flow, item)
        elif isinstance(item, dict):
            self.mapping(item, indent + 2, first_prefix=pad)
        elif isinstance(item, list):
            self.add(pad.rstrip())
            self.sequence(item, indent + 2)
        else:
            self.add(pad + scalar_text(item), item)


def _first_origin(value: Value) -> Pos | None:
    if isinstance(value, Raw):
        return value.origin
    if isinstance(value, dict):
        values: Iterable[Value] = value.values()
    elif isinstance(value, list):
        values = value
    else:
        return None
    for v in values:
        found = _first_origin(v)
        if found is not None:
            return found
    return None


def emit_model(
    data: dict,
    step_notes: Mapping[str, Sequence[str]] | None = None,
    top_notes: Mapping[str, Sequence[str]] | None = None,
    header: Sequence[str] = (),
) -> tuple[str, dict[int, Pos], dict[str, tuple[int, int]]]:
    """Write a model's plain data as YAML, with comments on changed steps and keys.

    Returns the text, the patch positions of values on each line, and the line
    span of each step (by id) and top-level key (as ``:key``).
    """
    step_notes = step_notes or {}
    top_notes = top_notes or {}
    out = _Writer()
    for line in header:
        out.comment(0, line) if line else out.lines.append("#")
    spans: dict[str, tuple[int, int]] = {}
    for key, value in data.items():
        first = len(out.lines) + 1
        for note in top_notes.get(key, ()):
            out.comment(0, f"changed by patch: {note}")
        if key == "steps" and isinstance(value, list):
            out.add("steps:")
            for n, step in enumerate(value):
                if n:
                    out.lines.append("")
                begin = len(out.lines) + 1
                sid = text_of(step.get("id")) if isinstance(step, dict) else ""
                for note in step_notes.get(sid, ()):
                    out.comment(2, f"changed by patch: {note}")
                if isinstance(step, dict):
                    out.mapping(step, 4, first_prefix="  - ")
                else:
                    out.item(step, 2)
                spans[sid] = (begin, len(out.lines))
        else:
            out.entry("", key, value, 0)
        spans[f":{key}"] = (first, len(out.lines))
    return "\n".join(out.lines) + "\n", out.origins, spans


def dump_patch(patch: Patch) -> str:
    """A patch as YAML text that :func:`~sdsaudit.stocktake.patch.parse_patch` reads back
    to an equal patch."""
    out = _Writer()
    out.add("sdsaudit_patch: 1")
    out.entry("", "title", wrap(patch.title), 0)
    if patch.description:
        out.entry("", "description", wrap(patch.description), 0)
    out.add("changes:")
    for item in patch.changes:
        spec = OPERATIONS[item.op]
        record: dict[str, Value] = {}
        if spec.main is not None and spec.main in item.args:
            record[item.op] = item.args[spec.main]
            record.update((k, v) for k, v in item.args.items() if k != spec.main)
        else:
            record[item.op] = dict(item.args)
        if item.reason:
            record["reason"] = wrap(item.reason)
        out.mapping(record, 4, first_prefix="  - ")
    return "\n".join(out.lines) + "\n"


# --------------------------------------------------------------------------- describing a change


def one_line(text: str) -> str:
    """``text`` on one line, each run of white space a single space."""
    return " ".join(text.split())


def percent(share: float) -> str:
    """A share as a percentage, e.g. ``12.5%``."""
    return f"{number(round(share * 100, 2), 4)}%"


def describe_change(item: Change, context: Mapping[str, str] | None = None) -> str:
    """A change in plain English, with its reason (for reports and the command line).

    ``context`` holds what applying the change worked out (for ``parallelise``, the
    ``join`` and the new step's ``id``); without it the words say only what the patch says.
    """
    a = item.args
    context = context or {}

    def t(key: str) -> str:
        value = a.get(key)
        if isinstance(value, list):
            return ", ".join(text_of(v) for v in value)
        return one_line(text_of(value)) if value is not None else ""

    if item.op == "remove_step":
        words = f"Remove the step '{t('step')}' and join up the steps around it"
    elif item.op == "bypass":
        share = float(a["share"])
        words = (
            f"Only {percent(share)} of cases still go through '{t('step')}'"
            + (f" ({t('when')})" if "when" in a else "")
            + f"; the other {percent(1 - share)} skip it"
        )
    elif item.op == "send_direct":
        words = f"Send cases that went from '{t('skip')}' to '{t('to')}' straight to '{t('to')}'"
    elif item.op == "move_step":
        place = "before" if "before" in a else "after"
        words = f"Move '{t('step')}' to just {place} '{t(place)}'"
    elif item.op == "parallelise":
        steps = [f"'{text_of(v)}'" for v in a["steps"]]
        together = (
            "both are" if len(steps) == 2 else f"all {_COUNTS.get(len(steps), 'of them')} are"
        )
        join = f"'{context['join']}'" if "join" in context else f"the step after {steps[-1]}"
        new = context.get("id") or (text_of(a["id"]) if "id" in a else None)
        words = (
            f"Run {join_and(steps)} side by side"
            + (f" (the new parallel step '{new}')" if new else "")
            + f"; the case goes on at {join} when {together} done"
        )
    elif item.op == "add_tells":
        words = f"At '{t('step')}', also tell the person: {t('tells')}"
    elif item.op == "merge_asks":
        where = f" at '{t('from')}'" if "from" in a else ""
        keep = f" (it is asked at '{t('keep')}')" if "keep" in a else ""
        words = f"Stop asking again about {t('topic')}{where}{keep}"
    elif item.op == "set":
        fields = ", ".join(f"{k} to {short_text(v)}" for k, v in a.items() if k != "step")
        words = f"At '{t('step')}', set {fields}"
    elif item.op == "add_option":
        words = f"Offer {t('option')}"
    elif item.op == "allow_use":
        words = f"Allow budgets to be used for {t('use')}"
    elif item.op == "remove_restriction":
        words = f'Withdraw the restriction "{t("text")}"'
    else:  # set_policy
        words = "Set " + ", ".join(f"{k} to {short_text(v)}" for k, v in a.items())
    return f"{words}: {one_line(item.reason)}" if item.reason else words
