"""Writing output safely: atomically, and never over a user's file without ``force``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import UsageError


def refuse_existing(paths: Iterable[Path], force: bool) -> None:
    """Raise :class:`UsageError` naming every path that exists, unless ``force``."""
    if force:
        return
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing:
        raise UsageError(
            f"refusing to overwrite {', '.join(existing)}: choose another place, or add --force to replace "
            + ("it" if len(existing) == 1 else "them"),
            file=existing[0],
        )


def write_atomic(path: Path | str, data: str | bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` via a temporary file and a rename, so a reader
    never sees half a file and a failed write leaves the old one intact.

    Creates missing parent folders. Refuses an existing file unless ``force``.
    """
    path = Path(path)
    refuse_existing([path], force)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
