"""`poolcli mode` on label images, and the pixel limit bounding padded planes and outputs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import pixels, run
from PIL import Image

import poolcli
from poolcli.core.geometry import resolve
from poolcli.core.mode import mode_pool


@pytest.fixture
def labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """labels.png: a 9x12 grey image of four classes, in tmp_path as the working folder."""
    monkeypatch.chdir(tmp_path)
    values = np.random.default_rng(5).choice([0, 10, 20, 255], size=(9, 12)).astype(np.uint8)
    Image.fromarray(values).save(tmp_path / "labels.png")
    return values


def loop_mode(plane: np.ndarray, k: int) -> np.ndarray:
    """The most frequent value of each k x k window (stride k), ties to the smallest."""
    rows, cols = plane.shape[0] // k, plane.shape[1] // k
    out = np.empty((rows, cols), plane.dtype)
    for i in range(rows):
        for j in range(cols):
            counts = Counter(plane[i * k : (i + 1) * k, j * k : (j + 1) * k].ravel().tolist())
            best = max(counts.values())
            out[i, j] = min(value for value, n in counts.items() if n == best)
    return out


def test_mode_command_keeps_labels(labels: np.ndarray) -> None:
    result = run("mode", "labels.png", "-k", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "poolcli: wrote labels.mode.png (9x12 -> 3x4)\n"
    written = pixels(Path("labels.mode.png"))
    np.testing.assert_array_equal(written, loop_mode(labels, 3))
    assert set(np.unique(written)) <= {0, 10, 20, 255}


def test_pool_knows_mode_as_the_core_module_computes_it(labels: np.ndarray) -> None:
    x = labels[None, None]
    geometry = resolve(x.shape[-2:], size=3, stride=2, padding=1)
    np.testing.assert_array_equal(
        poolcli.pool(x, "mode", size=3, stride=2, padding=1), mode_pool(x, geometry)
    )
    assert poolcli.pool(labels, "mode").dtype == np.uint8
    assert poolcli.result_dtype("mode", np.dtype(np.float32)) == np.float32


def test_an_output_past_the_pixel_limit_fails_that_input(labels: np.ndarray) -> None:
    """Padding that asks for a plane past --max-pixels fails the input before allocating."""
    result = run(
        "max", "labels.png", "-k", "1", "-p", "20", "--pad-mode", "zero", "--max-pixels", "1000"
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "poolcli: labels.png: padding 20 pads the 9x12 plane to 49x52 = 2548 pixels (height x "
        "width), more than --max-pixels (1000); use a smaller window or padding, or raise "
        "--max-pixels\n"
    )
    assert not Path("labels.max.png").exists()
    raised = run(
        "max", "labels.png", "-k", "1", "-p", "20", "--pad-mode", "zero", "--max-pixels", "3000"
    )
    assert raised.exit_code == 0, raised.stderr
    assert pixels(Path("labels.max.png")).shape == (49, 52)


def test_info_refuses_the_same_geometry(labels: np.ndarray) -> None:
    result = run("info", "labels.png", "-k", "1", "-p", "20", "--max-pixels", "1000")
    assert result.exit_code == 1
    assert "more than --max-pixels (1000)" in result.stderr
