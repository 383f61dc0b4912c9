"""One workshop: the model file, its prepared audit, the saves made and how to undo them.

Every change goes the same way (:meth:`Workshop.commit`): the new plain data is written
into the council's text with its comments kept (:mod:`sdsaudit.workshop.keep`), the text
is validated by the strict loader (nothing is written when it fails, and each problem is
put beside its field), the model is checked and scored as the report does
(:func:`sdsaudit.audit.prepare`), the file is written (:mod:`sdsaudit.workshop.modelfile`:
refused when it changed elsewhere, the old version kept as ``.bak``), and what the change
did is said in words (:class:`Effect`): the problems it fixed, the new ones, and the
typical days to support before and after.

One lock guards the whole workshop: requests are served one at a time, so a save never
meets a half-made one, and rendering (whose Markdown converter is shared and not
thread-safe) never runs in two threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.findings import Finding
from ..audit import Audit, prepare
from ..errors import ModelError
from ..model.catalogue import Catalogue
from ..model.loader import load_model_text
from ..model.objects import Model
from ..model.source import DEFAULT_MAX_BYTES
from ..stocktake.compare import match_findings
from ..words import join_and, number
from .edits import EditRefused, FieldError, locate
from .keep import Keeper, LayoutLost, plain_data, rewrite
from .modelfile import ChangedElsewhere, ModelFile

MAX_UNDO = 100
"""How many saves the workshop can undo, newest first."""


@dataclass(frozen=True)
class Effect:
    """What one save did, in words."""

    what: str
    fixed: tuple[str, ...]
    new: tuple[str, ...]
    days: str
    step: str | None = None
    """The step the change was made at (for "back to the step"), if it is still there."""

    @property
    def sentence(self) -> str:
        """``Saved Funding panel. Fixed: ... New: none. Typical days to support: ...``"""
        fixed = "; ".join(self.fixed) or "none"
        new = "; ".join(self.new) or "none"
        return f"{self.what} Fixed: {fixed}. New: {new}. Typical days to support: {self.days}."


def finding_words(model: Model, finding: Finding, catalogue: Catalogue) -> str:
    """A finding in a few words: ``a panel decides without the person, at Funding panel
    (HEARD-03)``."""
    try:
        title = catalogue.get(finding.rule).title
    except Exception:
        title = finding.rule
    title = title[:1].lower() + title[1:]
    names = [model.step_by_id[s].name for s in finding.steps if s in model.step_by_id]
    where = f", at {join_and(names)}" if names else ""
    return f"{title}{where} ({finding.rule})"


def days_text(audit: Audit) -> str:
    value = audit.result.metrics.get("expected_days_to_support")
    if value is None:
        return "not known"
    at_least = audit.result.metrics.get("expected_days_to_support_at_least")
    return f"at least {number(value, 1)}" if at_least else number(value, 1)


def effect(before: Audit, after: Audit, what: str, step: str | None = None) -> Effect:
    """What changed between two audits of the model: problems fixed and new, and days."""
    changes = match_findings(
        [f for f in before.result.findings if not f.waived],
        [f for f in after.result.findings if not f.waived],
    )
    old, new = days_text(before), days_text(after)
    return Effect(
        what,
        tuple(finding_words(before.model, f, before.catalogue) for f in changes.resolved),
        tuple(finding_words(after.model, f, after.catalogue) for f in changes.new),
        f"{old}, no change" if old == new else f"{old} to {new}",
        step if step in after.model.step_by_id else None,
    )


@dataclass(frozen=True)
class Outcome:
    """What a request to change the model came to: an effect (saved), or errors beside
    their fields (nothing written), or a refusal in words (nothing written)."""

    effect: int | None = None
    errors: tuple[FieldError, ...] = ()
    refused: str | None = None
    step: str | None = None


@dataclass
class _Saved:
    text: str
    what: str
    step: str | None


@dataclass
class Workshop:
    """The state of one workshop (one model file)."""

    file: ModelFile
    model: Model
    audit: Audit
    effects: list[Effect] = field(default_factory=list)
    undo_stack: list[_Saved] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    pages: dict[str, Any] = field(default_factory=dict)
    keeper: Keeper | None = None
    """The file's round-trip document for the next change (rebuilt after a failed one)."""
    """Rendered pages of the current version, by name (emptied by every save)."""

    @classmethod
    def open(cls, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Workshop:
        """Open a model for a workshop: it must be valid, and editable with its comments
        kept. Raises :class:`ModelError` with every problem otherwise."""
        file = ModelFile(path, max_bytes=max_bytes)
        model = load_model_text(file.snapshot.text, str(path))
        keeper = Keeper(file.snapshot.text, str(path))
        rewrite(file.snapshot.text, plain_data(file.snapshot.text, str(path)), str(path))
        return cls(file, model, prepare(model), keeper=keeper)

    @property
    def path(self) -> str:
        return str(self.file.path)

    @property
    def revision(self) -> str:
        return self.file.snapshot.revision

    @property
    def catalogue(self) -> Catalogue:
        return self.audit.catalogue

    def changed_elsewhere(self) -> bool:
        return self.file.changed_elsewhere()

    def page(self, name: str, render: Callable[[], Any]) -> Any:
        """A page of the current version, rendered once."""
        if name not in self.pages:
            self.pages[name] = render()
        return self.pages[name]

    # -- changes

    def change(
        self,
        revision: str,
        what: str,
        edit: Callable[[str, dict], dict | list[FieldError]],
        step: str | None = None,
    ) -> Outcome:
        """Make a change: ``edit`` gets the current text and its plain data and returns the
        new plain data (or the problems with what was typed). Refused when the form was
        filled in against another version, or the file changed elsewhere."""
        if revision != self.revision:
            return Outcome(
                refused="The model changed after this page was opened (another save, or an "
                "undo). Nothing was saved: the form now shows the model as it is; make the "
                "change again.",
                step=step,
            )
        if self.changed_elsewhere():
            return Outcome(refused=_ELSEWHERE, step=step)
        text = self.file.snapshot.text
        try:
            data = edit(text, plain_data(text, self.path))
        except EditRefused as exc:
            return Outcome(refused=f"Nothing was changed: {exc}.", step=step)
        if isinstance(data, list):
            return Outcome(errors=tuple(data), step=step)
        return self.commit(data, what, step)

    def commit(self, data: dict, what: str, step: str | None = None) -> Outcome:
        """Write ``data`` as the model (validated first), and say what it did."""
        old_text = self.file.snapshot.text
        keeper, self.keeper = self.keeper or Keeper(old_text, self.path), None
        text = old_text
        try:
            text = keeper.rewrite(data)
            model = load_model_text(text, self.path)
        except ModelError as exc:
            return Outcome(errors=tuple(locate(exc.problems, text, step)), step=step)
        except LayoutLost as exc:
            return Outcome(refused=f"Nothing was saved: {exc}.", step=step)
        outcome = self._adopt(text, model, what, step, old_text)
        if outcome.effect is not None:
            keeper.moved_on(text, data)
            self.keeper = keeper
        return outcome

    def _adopt(self, text: str, model: Model, what: str, step: str | None, old: str) -> Outcome:
        after = prepare(model, self.catalogue)
        try:
            self.file.write(text)
        except ChangedElsewhere:
            return Outcome(refused=_ELSEWHERE, step=step)
        self.undo_stack.append(_Saved(old, what, step))
        del self.undo_stack[:-MAX_UNDO]
        self.effects.append(effect(self.audit, after, what, step))
        self.model, self.audit = model, after
        self.pages.clear()
        return Outcome(effect=len(self.effects) - 1, step=step)

    def undo(self, revision: str) -> Outcome:
        """Put back the version before the last save."""
        if not self.undo_stack:
            return Outcome(refused="There is nothing to undo.")
        if revision != self.revision:
            return Outcome(refused="The model changed after this page was opened: look again.")
        if self.changed_elsewhere():
            return Outcome(refused=_ELSEWHERE)
        saved = self.undo_stack[-1]
        model = load_model_text(saved.text, self.path)
        old = self.file.snapshot.text
        outcome = self._adopt(
            saved.text, model, f"Undone: {saved.what[:1].lower()}{saved.what[1:]}", saved.step, old
        )
        self.keeper = None  # rebuilt from the text put back, at the next change
        if outcome.effect is not None:
            self.undo_stack.pop()  # the undo itself is not undone by the next undo
            self.undo_stack.pop()
        return outcome

    def reload(self) -> Outcome:
        """Take the file as it is on disk now (after a change made elsewhere); the saves
        made before cannot be undone any more."""
        snapshot = self.file.read()
        try:
            model = load_model_text(snapshot.text, self.path)
        except ModelError as exc:
            return Outcome(
                refused="The file on disk is not a valid model now, so the workshop keeps the "
                "version it had: " + "; ".join(p.message for p in exc.problems[:3]) + "."
            )
        before = self.audit
        self.file.snapshot = snapshot
        self.keeper = None
        self.undo_stack.clear()
        self.model, self.audit = model, prepare(model, self.catalogue)
        self.effects.append(effect(before, self.audit, "Loaded the file as it is on disk now."))
        self.pages.clear()
        return Outcome(effect=len(self.effects) - 1)


_ELSEWHERE = (
    "The file was changed outside the workshop (in an editor, or by another program) since "
    "the workshop read it. Nothing was saved, so that change is not lost. Load the file as "
    "it is now, then make your change again."
)
