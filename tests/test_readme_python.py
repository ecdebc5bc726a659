"""Every ```python block of the README runs, and shows what it returns (issue 11, item 19).

The blocks run in a temporary folder holding sample images under the names they use; a line
``EXPR  # VALUE`` whose comment starts with ``array(...)`` or a tuple (or ``EXPR`` followed by a
comment line ``# VALUE``) asserts that EXPR equals VALUE (dtype included, where VALUE names one).
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SAMPLES = ROOT / "sample_images"
#: The file names the README's examples use -> the sample standing in for each.
STAND_INS = {"photo.jpg": "coffee.jpg", "logo.png": "rgba-disc.png"}


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def _shown_value(comment: str) -> str | None:
    """The leading ``array(...)`` or ``(...)`` of a comment, balanced, or None."""
    text = comment.strip()
    if not (text.startswith("array(") or text.startswith("(")):
        return None
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and char == ")":
            return text[: index + 1]
    return None


def checked_source(block: str) -> str:
    """The block with each ``EXPR  # VALUE`` line turned into a check of EXPR against VALUE; a
    comment line ``# VALUE`` right below ``EXPR`` (or below ``EXPR  # words``) counts as well."""
    lines: list[str] = []
    for line in block.splitlines():
        code, _, comment = line.partition("# ")
        shown = _shown_value(comment) if comment else None
        if shown is not None and not code.strip() and lines:
            code, line = lines.pop().partition("  # ")[0], ""
        if shown is not None and _is_expression(code):
            line = f"_check({code.strip()}, {shown!r})"
        lines.append(line)
    return "\n".join(lines)


def _is_expression(code: str) -> bool:
    try:
        body = ast.parse(code.strip()).body
    except SyntaxError:
        return False
    return len(body) == 1 and isinstance(body[0], ast.Expr)


def _check(got: object, shown: str) -> None:
    expected = eval(shown, {"array": np.array, **{name: getattr(np, name) for name in DTYPES}})
    if isinstance(expected, tuple):
        assert got == expected
        return
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, expected)
    if "dtype=" in shown:
        assert got.dtype == expected.dtype
    else:
        assert got.dtype.kind == expected.dtype.kind


DTYPES = ("float32", "float64", "uint8", "int64")


def test_the_readme_has_python_examples_with_values():
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert sum(source.count("_check(") for source in map(checked_source, blocks)) >= 5


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_each_python_block_of_the_readme_runs(index, tmp_path, monkeypatch):
    for name, sample in STAND_INS.items():
        shutil.copy(SAMPLES / sample, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    # Later blocks may use the names of earlier ones (import poolcli), as a reader runs them.
    namespace: dict[str, object] = {"_check": _check}
    for block in python_blocks()[: index + 1]:
        exec(compile(checked_source(block), "README.md", "exec"), namespace)


def test_the_readmes_premultiplied_call_pools_as_the_command_line_does(tmp_path):
    from click.testing import CliRunner

    import poolcli
    from poolcli.cli import main
    from poolcli.imaging.alpha import pool_image

    shutil.copy(SAMPLES / "rgba-disc.png", tmp_path / "logo.png")
    result = CliRunner().invoke(main, ["avg", str(tmp_path / "logo.png"), "-k", "2"])
    assert result.exit_code == 0, result.output
    logo, info = poolcli.load_image(str(tmp_path / "logo.png"))
    poolcli.save_image(str(tmp_path / "mine.png"), pool_image(logo, info, "avg", size=2), info)
    by_cli = poolcli.load_image(str(tmp_path / "logo.avg.png"))[0]
    by_readme = poolcli.load_image(str(tmp_path / "mine.png"))[0]
    np.testing.assert_array_equal(by_cli, by_readme)
    # ... and not what pool alone gives, which lets hidden colour bleed in (as the README says).
    poolcli.save_image(str(tmp_path / "plain.png"), poolcli.pool(logo, "avg", size=2), info)
    assert not np.array_equal(by_cli, poolcli.load_image(str(tmp_path / "plain.png"))[0])


def test_the_readme_says_what_max_unpool_takes_and_what_max_keeps_on_cmyk():
    text = README.read_text(encoding="utf-8")
    assert "max_unpool(values, indices, size)" not in text
    assert "poolcli.max_unpool(values, indices, output_size)" in text
    assert "max keeps\nthe most ink" in text or "max keeps the most ink" in text
