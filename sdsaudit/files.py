"""Writing output safely: a set of files as a whole, never over a user's file without
``force``, never through a symbolic link, and never half-written.

Every command that writes several files (a report, a stock-take, a benchmark, a
scenario) writes them with :func:`write_set`:

1. every target is checked first: an existing file (a dangling symbolic link counts)
   is refused unless ``force``, a target that is a folder or lies under a file is
   refused, and a path through a symbolic link the set would write into is refused;
2. the files are written into a hidden staging folder beside the output folder, so a
   full disk or a crash while writing leaves the old files as they were;
3. holding a lock on the output folder's parent, the targets are checked again (two
   runs started together: the second is refused, or with ``force`` waits its turn),
   and the files are moved into place by renames; a new output folder is moved into
   place whole;
4. the staging folder is removed whatever happens; one left by a run that was killed
   is removed by the next run that writes beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .errors import UsageError

STAGING_PREFIX = ".sdsaudit-staging-"
"""Hidden folders a write in progress uses; ``<prefix><pid>-<random>``."""

Payload = str | bytes | None
"""What to write: text (UTF-8), bytes, or ``None`` for "this file must not be left"
(a map that could not be drawn: no stale one may sit beside the new report)."""


def refuse_existing(paths: Iterable[Path], force: bool) -> None:
    """Raise :class:`UsageError` for a target that cannot be written: one that exists
    (unless ``force``; a dangling symbolic link exists), a folder, or one whose folder
    is a file."""
    existing = []
    for path in map(Path, paths):
        problem = _unwritable(path)
        if problem:
            raise UsageError(problem, file=str(path))
        if os.path.lexists(path):
            existing.append(str(path))
    if existing and not force:
        raise UsageError(
            f"refusing to overwrite {', '.join(existing)}: choose another place, or add "
            "--force to replace " + ("it" if len(existing) == 1 else "them"),
            file=existing[0],
        )


def _unwritable(path: Path) -> str | None:
    """Why ``path`` can never be written as a file, or ``None``."""
    if path.is_dir() and not path.is_symlink():
        return f"{path} is a folder: give the name of a file to write"
    for parent in path.parents:
        if os.path.lexists(parent):
            if not parent.is_dir():
                return f"{parent} is a file, not a folder: choose another place to write"
            break
    return None


def _linked_subfolder(folder: Path, names: Iterable[str]) -> Path | None:
    """A sub-folder of ``folder`` that a set would write into and that is a symbolic
    link (the output folder itself may be one: the user named it)."""
    for name in names:
        for part in reversed(Path(name).parents[:-1]):
            if (folder / part).is_symlink():
                return folder / part
    return None


def write_atomic(path: Path | str, data: str | bytes, *, force: bool = False) -> Path:
    """Write one file as a set of one (see :func:`write_set`)."""
    path = Path(path)
    write_set(path.parent, {path.name: data}, force=force)
    return path


def write_set(
    folder: Path | str, files: Mapping[str, Payload], *, force: bool = False
) -> list[Path]:
    """Write ``files`` (names relative to ``folder``, ``/`` for sub-folders) as a whole.

    Returns the paths written, in the order given. Raises :class:`UsageError` before
    writing anything when a target cannot be written (see the module's notes).
    """
    folder = Path(folder)
    targets = {name: folder / name for name in files}
    for name in files:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"file name outside the output folder: {name!r}")
    refuse_existing([t for name, t in targets.items() if files[name] is not None], force)
    linked = _linked_subfolder(folder, files)
    if linked is not None:
        raise UsageError(
            f"{linked} is a symbolic link: sdsaudit does not write through links inside its "
            "output folder; remove the link or choose another folder",
            file=str(linked),
        )
    base = _existing_ancestor(folder)
    _remove_abandoned_staging(base)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=base))
    except OSError as exc:
        raise UsageError(f"cannot write in {base}: {exc.strerror}", file=str(base)) from None
    try:
        _stage(staging, files)
        with _locked(base):
            # a run that started at the same time may have written meanwhile
            refuse_existing([t for name, t in targets.items() if files[name] is not None], force)
            _move_into_place(staging, folder, files)
    except OSError as exc:
        raise UsageError(
            f"could not write the files into {folder}: {exc.strerror or exc}; nothing was changed",
            file=str(folder),
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [t for name, t in targets.items() if files[name] is not None]


def _existing_ancestor(folder: Path) -> Path:
    """The nearest folder at or above ``folder`` that exists (where staging happens,
    so the final renames stay on one file system)."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate
    return Path(".")


def _stage(staging: Path, files: Mapping[str, Payload]) -> None:
    for name, data in files.items():
        if data is None:
            continue
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        with open(path, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, 0o644)


def _move_into_place(staging: Path, folder: Path, files: Mapping[str, Payload]) -> None:
    if not os.path.lexists(folder):
        # a new output folder: the whole set appears at once
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staging, 0o755)
        os.rename(staging, folder)
        return
    for name, data in files.items():
        target = folder / name
        if data is None:
            if os.path.lexists(target) and not target.is_dir():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)


@contextlib.contextmanager
def _locked(base: Path) -> Iterator[None]:
    """An exclusive lock on the folder ``base`` for the duration (released on exit,
    also when the process is killed)."""
    fd = os.open(base, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _remove_abandoned_staging(base: Path) -> None:
    """Remove staging folders left in ``base`` by runs that no longer exist."""
    try:
        entries = list(base.iterdir())
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(STAGING_PREFIX) or not entry.is_dir():
            continue
        pid = entry.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
