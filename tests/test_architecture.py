"""The pipeline's layers: every import inside sdsaudit points down (or across), never up.

model (reading) -> survey data -> analysis -> scoring -> rendering -> stock-take ->
API -> command line. A module may import its own layer and the layers below it,
at the top of the file or inside a function alike. Only the command line imports
click."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .models import ROOT

PACKAGE = ROOT / "sdsaudit"

LAYERS: dict[str, int] = {
    # 0: foundations every layer may use
    "sdsaudit.errors": 0,
    "sdsaudit.vocab": 0,
    "sdsaudit.words": 0,
    "sdsaudit.resources": 0,
    "sdsaudit.files": 0,
    "sdsaudit.version": 0,
    # 1: reading
    "sdsaudit.model": 1,
    # 2: survey answers, read and summarised (no model analysis)
    "sdsaudit.survey.spec": 2,
    "sdsaudit.survey.reader": 2,
    "sdsaudit.survey.summary": 2,
    "sdsaudit.survey.suppression": 2,
    "sdsaudit.survey.tally": 2,
    "sdsaudit.survey.statistics": 2,
    "sdsaudit.survey.adjusted": 2,
    # 3: the graph and the rules (GAP rules too)
    "sdsaudit.analysis": 3,
    "sdsaudit.survey.gaps": 3,
    # 4: scores
    "sdsaudit.scoring": 4,
    # 5: maps, reports, outputs
    "sdsaudit.render": 5,
    "sdsaudit.survey.experience": 5,
    "sdsaudit.audit": 5,
    # 6: stock-take, benchmark, patches, redesign
    "sdsaudit.stocktake": 6,
    "sdsaudit.exchange": 6,
    # the workshop's page and its comment-keeping writer (redesign may use the writer)
    "sdsaudit.workshop": 6,
    "sdsaudit.calibrate": 6,
    # 7: the library's command functions; 8: the command line
    "sdsaudit.api": 7,
    "sdsaudit": 7,
    "sdsaudit.__main__": 8,
    "sdsaudit.cli": 8,
}


def layer_of(module: str) -> int:
    """The layer of a module: that of the longest entry of :data:`LAYERS` naming it or
    a package holding it."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in LAYERS:
            return LAYERS[name]
    raise KeyError(f"{module} has no layer: add it to LAYERS in tests/test_architecture.py")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, int]]:
    """Every sdsaudit module ``path`` imports (resolved), with its line."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "sdsaudit" or target.startswith("sdsaudit."):
                names = [f"{target}.{a.name}" for a in node.names]
                # "from . import x" names a module when x is one
                for name in names:
                    is_module = (ROOT / Path(*name.split("."))).with_suffix(".py").exists() or (
                        ROOT / Path(*name.split("."))
                    ).is_dir()
                    found.append((name if is_module else target, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("sdsaudit")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_down_the_pipeline(path: Path) -> None:
    here = module_name(path)
    upward = [
        f"line {line}: {here} (layer {layer_of(here)}) imports {target} (layer {layer_of(target)})"
        for target, line in imports(path)
        if layer_of(target) > layer_of(here)
    ]
    assert not upward, "\n".join(upward)


def test_every_module_has_a_layer() -> None:
    for path in MODULES:
        layer_of(module_name(path))


def test_only_the_command_line_imports_click() -> None:
    users = [
        module_name(p)
        for p in MODULES
        if any(
            isinstance(n, (ast.Import, ast.ImportFrom))
            and any(
                (getattr(n, "module", None) or a.name).split(".")[0] == "click" for a in n.names
            )
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    ]
    assert users == ["sdsaudit.cli"]


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    # a guard on the guard: a model module importing the renderer must be reported
    fake = PACKAGE / "model" / "_architecture_probe.py"
    fake.write_text("from ..render.jinja import render\n", encoding="utf-8")
    try:
        (target, _), *_ = imports(fake)
        assert target == "sdsaudit.render.jinja"
        assert layer_of(target) > layer_of(module_name(fake))
    finally:
        fake.unlink()
