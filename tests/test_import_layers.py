"""The layers of poolcli, enforced: which module may import which, and which stay numpy-free.

Rules a-d read every module's source (imports inside functions and ``if TYPE_CHECKING:`` blocks
count too); rule e imports modules in a fresh interpreter. The layers, bottom up:

- a. ``poolcli.core`` imports neither PIL nor click, and nothing of poolcli but itself and
  ``poolcli.errors``.
- b. ``poolcli.teaching`` imports the standard library, numpy, ``poolcli.core``,
  ``poolcli.errors`` and itself only.
- c. ``poolcli.io`` imports neither ``poolcli.streaming``, ``poolcli.imaging``, ``poolcli.batch``
  nor ``poolcli.cli``; ``poolcli.imaging`` neither ``poolcli.batch`` nor ``poolcli.cli``;
  ``poolcli.batch`` not ``poolcli.cli``; ``poolcli.streaming`` (images streamed band by band,
  above core and io, below chunked) none of chunked, api, imaging, batch and cli;
  ``poolcli.chunked`` (Dask pooling and the files read and written in parts,
  above core and io) neither ``poolcli.api`` (the public functions, above core and chunked),
  imaging, batch nor cli; core and teaching import neither (rules a, b).
- d. No ``from X import _name`` across modules, except from a module whose own file name starts
  with an underscore, inside the importer's subpackage (such as ``core/_kernels.py``); such a
  module's names, private or not, are for its subpackage only.
- e. The modules of :data:`NUMPY_FREE_MODULES` import without numpy, those of
  :data:`DASK_FREE_MODULES` without Dask.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import poolcli

#: Modules that must import without numpy (the command line's start, the Pillow-only way).
NUMPY_FREE_MODULES = (
    "poolcli",
    "poolcli.cli",
    "poolcli.cli.commands",
    "poolcli.cli.pyramid",
    "poolcli.core.geometry",
    "poolcli.io.formats",
    "poolcli.io.atomic",
    "poolcli.io.pictures",
    "poolcli.imaging.quick",
    "poolcli.imaging.tasks",
    "poolcli.batch.plan",
    "poolcli.batch.process",
    "poolcli.batch.runner",
    "poolcli.batch.console",
)

#: Modules that must import without Dask: only poolcli.chunked loads it, when a Dask array comes,
#: and poolcli.batch.cluster's runner (distributed), when a batch runs on a cluster.
DASK_FREE_MODULES = (
    "poolcli",
    "poolcli.api",
    "poolcli.cli",
    "poolcli.cli.commands",
    "poolcli.cli.pyramid",
    "poolcli.cli.run",
    "poolcli.batch.runner",
    "poolcli.batch.cluster",
    "poolcli.io.omezarr",
    "poolcli.streaming.pyramids",
    "poolcli.streaming.tiffrows",
    "poolcli.streaming.zarrchunks",
)

PACKAGE_DIR = Path(poolcli.__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULE_FILES = {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


# ---------------------------------------------------------------------------------------------
# Reading the imports


@dataclass(frozen=True)
class Import:
    """One imported module, as ``module`` (the importer) names it at ``line``.

    ``names`` are those of ``from target import ...``; empty for ``import target``.
    """

    module: str
    target: str
    names: tuple[str, ...]
    line: int

    def __str__(self) -> str:
        if self.names:
            return f"line {self.line}: from {self.target} import {', '.join(self.names)}"
        return f"line {self.line}: import {self.target}"


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def imports_in(
    source: str, module: str, is_package: bool = False, known: frozenset[str] = frozenset()
) -> list[Import]:
    """Every import in ``source``, the text of ``module``, at any depth of its syntax tree.

    ``from P import n`` where ``P.n`` is one of the ``known`` modules imports that module (the
    name is the module); other names are imported from ``P`` itself.

    >>> [str(i) for i in imports_in("from . import b, c\\nimport os", "p.a", False, {"p.b"})]
    ['line 1: from p.b import b', 'line 1: from p import c', 'line 2: import os']
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = node.module or ""
            if node.level:
                package = _package_of(module, is_package).split(".")
                anchor = ".".join(package[: len(package) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            plain = []
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.append(Import(module, f"{base}.{alias.name}", (alias.name,), node.lineno))
                else:
                    plain.append(alias.name)
            if plain:
                found.append(Import(module, base, tuple(plain), node.lineno))
    return sorted(found, key=lambda i: i.line)


# ---------------------------------------------------------------------------------------------
# The rules


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _top(module: str) -> str:
    return module.partition(".")[0]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def core_rule(module: str, item: Import) -> str | None:
    """Rule a: core imports neither PIL nor click, nor poolcli outside core and errors."""
    if not _within(module, "poolcli.core"):
        return None
    target = item.target
    outside = _top(target) == "poolcli" and not (
        _within(target, "poolcli.core") or _within(target, "poolcli.errors")
    )
    if _top(target) in ("PIL", "click") or outside:
        return f"a (core: no PIL, click or poolcli outside core/errors): {item}"
    return None


def teaching_rule(module: str, item: Import) -> str | None:
    """Rule b: teaching imports the standard library, numpy, core, errors and itself."""
    if not _within(module, "poolcli.teaching"):
        return None
    target = item.target
    if _top(target) == "poolcli":
        allowed = ("poolcli.core", "poolcli.errors", "poolcli.teaching")
        ok = any(_within(target, package) for package in allowed)
    else:
        ok = _top(target) == "numpy" or _top(target) in sys.stdlib_module_names
    return None if ok else f"b (teaching: stdlib, numpy, core, errors, itself): {item}"


#: Rule c: importer's package -> packages it may not import.
FORBIDDEN = {
    "poolcli.io": ("poolcli.streaming", "poolcli.imaging", "poolcli.batch", "poolcli.cli"),
    "poolcli.imaging": ("poolcli.batch", "poolcli.cli"),
    "poolcli.batch": ("poolcli.cli",),
    "poolcli.streaming": (
        "poolcli.chunked",
        "poolcli.api",
        "poolcli.imaging",
        "poolcli.batch",
        "poolcli.cli",
    ),
    "poolcli.chunked": ("poolcli.api", "poolcli.imaging", "poolcli.batch", "poolcli.cli"),
}


def upward_rule(module: str, item: Import) -> str | None:
    """Rule c: io, imaging and batch do not import the layers above them."""
    for package, forbidden in FORBIDDEN.items():
        for other in forbidden:
            if _within(module, package) and _within(item.target, other):
                return f"c ({package} may not import {other}): {item}"
    return None


def private_rule(module: str, item: Import, is_package: bool = False) -> str | None:
    """Rule d: underscore names (and private modules) stay in their module (subpackage)."""
    target = item.target
    private_name = any(_is_private(name) for name in item.names)
    private_module = _top(target) == "poolcli" and any(map(_is_private, target.split(".")))
    if not (private_name or private_module) or target == module:
        return None
    package, _, file_name = target.rpartition(".")
    if _is_private(file_name) and package == _package_of(module, is_package):
        return None
    names = tuple(name for name in item.names if _is_private(name)) or item.names
    return f"d (no underscore names across modules): {Import(module, target, names, item.line)}"


def violations(imports: list[Import], module: str, is_package: bool = False) -> list[str]:
    """The rules (a to d) that the imports of ``module`` break, one line each.

    >>> violations(imports_in("import PIL.Image", "poolcli.core.x"), "poolcli.core.x")
    ['a (core: no PIL, click or poolcli outside core/errors): line 1: import PIL.Image']
    """
    broken = []
    for item in imports:
        found = [
            core_rule(module, item),
            teaching_rule(module, item),
            upward_rule(module, item),
            private_rule(module, item, is_package),
        ]
        broken += [line for line in found if line is not None]
    return broken


# ---------------------------------------------------------------------------------------------
# Rules a-d over the package


def _check(module: str) -> list[str]:
    path = MODULE_FILES[module]
    is_package = path.name == "__init__.py"
    known = frozenset(MODULE_FILES)
    found = imports_in(path.read_text(encoding="utf-8"), module, is_package, known)
    return violations(found, module, is_package)


def test_the_package_has_modules_to_check():
    assert {"poolcli", "poolcli.core.engine", "poolcli.cli"} <= set(MODULE_FILES)


@pytest.mark.parametrize("module", sorted(MODULE_FILES))
def test_module_keeps_to_its_layer(module):
    broken = _check(module)
    assert not broken, f"{MODULE_FILES[module].relative_to(SOURCE_ROOT)}:\n" + "\n".join(broken)


# ---------------------------------------------------------------------------------------------
# Rule e: numpy-free at import


def modules_loaded_by(module: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after importing ``module``."""
    code = f"import importlib, sys; importlib.import_module({module!r}); print(*sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=SOURCE_ROOT,
        env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)},
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("module", NUMPY_FREE_MODULES)
def test_module_imports_without_numpy(module):
    loaded = modules_loaded_by(module)
    assert "numpy" not in loaded, (
        f"importing {module} imports numpy; poolcli modules loaded: "
        + ", ".join(sorted(name for name in loaded if _top(name) == "poolcli"))
    )


def test_numpy_free_modules_exist():
    assert set(NUMPY_FREE_MODULES) <= set(MODULE_FILES)


@pytest.mark.parametrize("module", DASK_FREE_MODULES)
def test_module_imports_without_dask(module):
    loaded = modules_loaded_by(module)
    assert "dask" not in loaded and "zarr" not in loaded, f"importing {module} imports Dask"


def test_dask_check_sees_dask():
    assert "dask" in modules_loaded_by("poolcli.chunked")


def modules_loaded_by_batch(folder: Path, *options: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after ``poolcli max`` of two images."""
    from PIL import Image

    for name in ("a.png", "b.png"):
        Image.new("L", (4, 4)).save(folder / name)
    arguments = ["poolcli", "max", "a.png", "b.png", "-o", "out", *options]
    code = (
        f"import sys; from poolcli.cli import main; sys.argv = {arguments!r}\n"
        "try:\n    main()\nexcept SystemExit as end:\n    assert end.code == 0, end.code\n"
        "print(*sys.modules)"
    )
    environment = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
        env={**environment, "PYTHONPATH": str(SOURCE_ROOT)},
    )
    return set(result.stdout.split())


def test_a_batch_without_a_scheduler_imports_no_dask(tmp_path):
    loaded = modules_loaded_by_batch(tmp_path)
    assert (tmp_path / "out" / "b.png").exists()
    assert not {"distributed", "dask"} & loaded


def test_the_batch_check_sees_distributed(tmp_path):
    pytest.importorskip("distributed")
    assert "distributed" in modules_loaded_by_batch(tmp_path, "--scheduler", "local:1")


# ---------------------------------------------------------------------------------------------
# The checks themselves can fail


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("poolcli.core.engine", "from PIL import Image", "a"),
        ("poolcli.core.engine", "def f():\n    import click", "a"),
        ("poolcli.core.engine", "from poolcli.io import images", "a"),
        ("poolcli.core.engine", "from ..teaching import layers", "a"),
        ("poolcli.teaching.layers", "import PIL", "b"),
        ("poolcli.teaching.layers", "from poolcli.imaging.alpha import pool_image", "b"),
        ("poolcli.teaching.layers", "import tifffile", "b"),
        ("poolcli.io.images", "from poolcli.imaging import quick", "c"),
        ("poolcli.io.images", "if TYPE_CHECKING:\n    from poolcli.batch import Job", "c"),
        ("poolcli.io.pictures", "import poolcli.cli", "c"),
        ("poolcli.imaging.quick", "from poolcli import batch", "c"),
        ("poolcli.imaging.alpha", "from poolcli.cli import main", "c"),
        ("poolcli.chunked.arrays", "from poolcli.api import pool", "c"),
        ("poolcli.core.engine", "from poolcli.chunked import pool", "a"),
        ("poolcli.teaching.layers", "from poolcli import api", "b"),
        ("poolcli.batch", "def f():\n    from poolcli.cli import main", "c"),
        ("poolcli.imaging.compare", "from poolcli.io.images import _convert", "d"),
        ("poolcli.teaching.layers", "from .textbook import _work_dtype", "d"),
        ("poolcli.cli", "from poolcli.core._kernels import fast", "d"),
        ("poolcli.core.engine", "from poolcli.core.helpers import _fast", "d"),
    ],
)
def test_checker_reports_a_broken_rule(module, source, rule):
    known = frozenset({*MODULE_FILES, "poolcli.core._kernels", "poolcli.core.helpers"})
    broken = violations(imports_in(source, module, known=known), module)
    assert [line[0] for line in broken] == [rule], broken


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("poolcli.core.engine", "import numpy as np\nfrom poolcli.core.geometry import resolve"),
        ("poolcli.core.adaptive", "from . import engine\nfrom ..errors import InputError"),
        ("poolcli.core.engine", "from poolcli.core._kernels import _fast"),
        ("poolcli.core.engine", "from poolcli.core import _kernels"),
        ("poolcli.teaching.explain", "import math\nfrom poolcli.core.engine import pool"),
        ("poolcli.io.images", "from poolcli.io.pictures import opened\nimport PIL"),
        ("poolcli.imaging.compare", "from poolcli.imaging.alpha import pool_image"),
        ("poolcli.cli", "from poolcli import __version__, batch"),
        ("poolcli.core.engine", "from __future__ import annotations"),
    ],
)
def test_checker_accepts_what_the_rules_allow(module, source):
    known = frozenset({*MODULE_FILES, "poolcli.core._kernels"})
    assert violations(imports_in(source, module, known=known), module) == []


def test_numpy_check_sees_numpy():
    assert "numpy" in modules_loaded_by("poolcli.core.engine")


# ---------------------------------------------------------------------------------------------
# poolcli/__init__: the lazy exports and what type checkers see agree


def _init_tree() -> ast.Module:
    return ast.parse(MODULE_FILES["poolcli"].read_text(encoding="utf-8"))


def test_type_checking_imports_name_every_export_from_its_module():
    seen = {}
    for node in ast.walk(_init_tree()):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                for alias in statement.names:
                    seen[alias.name] = statement.module
    assert seen == {name: f"poolcli.{where}" for name, where in poolcli._EXPORTS.items()}


def test_all_is_a_literal_list_of_the_exports():
    literal = next(
        node.value
        for node in _init_tree().body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
    )
    assert isinstance(literal, ast.List)
    assert ast.literal_eval(literal) == sorted(poolcli._EXPORTS) == poolcli.__all__


@pytest.mark.parametrize("name", sorted(poolcli._EXPORTS))
def test_every_export_loads(name):
    assert getattr(poolcli, name) is not None
