"""The model file a workshop edits: read once, written back only as the workshop left it.

Every save (see :meth:`ModelFile.write`):

1. checks the file on disk is still what the workshop last read or wrote (size,
   modification time and SHA-256): a change made elsewhere (an editor, another
   workshop) is refused, never overwritten;
2. keeps the version it replaces beside it, as ``MODEL.yaml.bak`` (one previous
   version; the workshop's own undo goes further back while it runs);
3. writes the new text atomically (:func:`sdsaudit.files.write_atomic`): a crash leaves
   the old file or the new one, never half of each.

The text is validated by the strict loader before it gets here (the workshop's job).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..files import write_atomic
from ..model.source import DEFAULT_MAX_BYTES, decode, read_bytes

BACKUP_SUFFIX = ".bak"
"""The previous version of ``MODEL.yaml`` is kept as ``MODEL.yaml.bak``."""


class ChangedElsewhere(UsageError):
    """The file on disk is not what the workshop last read or wrote."""


@dataclass(frozen=True)
class Snapshot:
    """The file as the workshop last read or wrote it."""

    text: str
    digest: str
    size: int
    mtime_ns: int

    @property
    def revision(self) -> str:
        """A short name of this version, carried by every form (a form filled in against
        another version is refused)."""
        return self.digest[:16]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ModelFile:
    """One model file, with what the workshop last saw of it."""

    def __init__(self, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = Path(path)
        self.max_bytes = max_bytes
        if self.path.is_symlink():
            raise UsageError(
                f"{self.path} is a symbolic link: the workshop edits the file itself; give "
                "the path of the file the link points to",
                file=str(self.path),
            )
        self.snapshot = self.read()

    @property
    def backup(self) -> Path:
        """Where the version before the last save is kept."""
        return self.path.with_name(self.path.name + BACKUP_SUFFIX)

    def read(self) -> Snapshot:
        """Read the file as it is now (bounded, as every model is read)."""
        data = read_bytes(str(self.path), self.max_bytes)
        stat = os.stat(self.path)
        return Snapshot(decode(data, str(self.path)), _digest(data), len(data), stat.st_mtime_ns)

    def changed_elsewhere(self) -> bool:
        """Whether the file on disk differs from what the workshop last read or wrote
        (a quick look at its size and time first, its SHA-256 when those moved)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return True
        if stat.st_size == self.snapshot.size and stat.st_mtime_ns == self.snapshot.mtime_ns:
            return False
        try:
            data = read_bytes(str(self.path), self.max_bytes)
        except Exception:
            return True
        return _digest(data) != self.snapshot.digest

    def reload(self) -> Snapshot:
        """Take the file as it is on disk now (after a change made elsewhere)."""
        self.snapshot = self.read()
        return self.snapshot

    def write(self, text: str) -> Snapshot:
        """Write ``text`` over the file, keeping the old version as the backup; refuse
        (:class:`ChangedElsewhere`) when the file changed on disk since last seen."""
        if self.changed_elsewhere():
            raise ChangedElsewhere(
                f"{self.path} was changed outside the workshop since it was opened; nothing "
                "was saved. Load the file as it is now, then make the change again",
                file=str(self.path),
            )
        previous = self.snapshot.text
        write_atomic(self.backup, previous, force=True)
        write_atomic(self.path, text, force=True)
        data = text.encode("utf-8")
        stat = os.stat(self.path)
        self.snapshot = Snapshot(text, _digest(data), len(data), stat.st_mtime_ns)
        return self.snapshot
