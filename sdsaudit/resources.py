"""Find the data folders (``criteria/``, ``templates/``, ``process_models/``).

In a checkout (or an editable install) they sit at the top of the repository;
in a wheel they are copied inside the package. Look inside the package first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``criteria``, ``templates`` or ``process_models``)."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"sdsaudit cannot find its {name}/ folder (looked in {_PACKAGE} and {_PACKAGE.parent}); "
        "reinstall the package"
    )
