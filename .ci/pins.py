"""Requirement lines for CI, read from pyproject.toml so that they cannot drift from it.

    python .ci/pins.py lint     the test extra's ruff and mypy pins, then the runtime dependencies
                                and the chunked and cluster extras (mypy needs numpy, Pillow,
                                click, dask and distributed to check poolcli)
    python .ci/pins.py floors   each runtime dependency at its declared lowest version, as
                                "name==X" constraints (from "name>=X")
    python .ci/pins.py floors-tools
                                the test extra's tools (pytest, hypothesis, ...), without the
                                project's own extras: the floors venv adds full-depth itself
    python .ci/pins.py verify-floors
                                run by the floors venv's Python: fails unless each of those is
                                the version installed there

Needs Python 3.11 or later (tomllib). Exits non-zero, saying why, if a line cannot be made.
"""

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
LINTERS = ("ruff", "mypy")


def name_of(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    if match is None:
        sys.exit(f"pins.py: cannot read the name of {requirement!r} in {PYPROJECT}")
    return match.group(0).lower().replace("_", "-")


def lint_lines(project: dict) -> list[str]:
    test_extra = project["optional-dependencies"]["test"]
    lines = []
    for linter in LINTERS:
        found = [req for req in test_extra if name_of(req) == linter]
        if len(found) != 1:
            sys.exit(f"pins.py: the test extra in {PYPROJECT} must name {linter} exactly once")
        lines += found
    extras = project["optional-dependencies"]
    own = name_of(project["name"])
    cluster = [req for req in extras["cluster"] if name_of(req) != own]  # less the chunked extra
    return lines + list(project["dependencies"]) + list(extras["chunked"]) + cluster


def floor_lines(project: dict) -> list[str]:
    lines = []
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][0-9.]*)", requirement)
        if match is None:
            sys.exit(f"pins.py: {requirement!r} in {PYPROJECT} is not of the form 'name>=X'")
        lines.append(f"{match.group(1)}=={match.group(2)}")
    return lines


def floor_tool_lines(project: dict) -> list[str]:
    own = name_of(project["name"])
    return [req for req in project["optional-dependencies"]["test"] if name_of(req) != own]


def release(version: str) -> tuple[int, ...]:
    """ "1.24" and "1.24.0" alike as (1, 24); a version that is not plain numbers fails."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)*", version) is None:
        sys.exit(f"pins.py: {version!r} is not a plain release version")
    numbers = [int(part) for part in version.split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def verify_floors(project: dict) -> list[str]:
    lines = []
    for line in floor_lines(project):
        name, floor = line.split("==")
        installed = importlib.metadata.version(name)
        if release(installed) != release(floor):
            sys.exit(f"pins.py: {name} {installed} is installed, not the floor {floor}")
        lines.append(f"{name} {installed}: the floor")
    return lines


def main() -> None:
    modes = {
        "lint": lint_lines,
        "floors": floor_lines,
        "floors-tools": floor_tool_lines,
        "verify-floors": verify_floors,
    }
    if len(sys.argv) != 2 or sys.argv[1] not in modes:
        sys.exit("usage: python .ci/pins.py lint|floors|floors-tools|verify-floors")
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    print("\n".join(modes[sys.argv[1]](project)))


if __name__ == "__main__":
    main()
