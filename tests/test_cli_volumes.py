"""Volumes and signals through the command line: windows of three axes and of one.

A multi-page TIFF read with --volume, .npy arrays of 3 to 5 axes, and .npy or one-row .csv
signals, each compared with the library's ``poolcli.pool`` of the same array (Zarr volumes, which
need the chunked extra: tests/test_chunked_files.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import poolcli
from tests.cli_helpers import run


def noise(shape: tuple[int, ...], dtype: str = "uint8", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape).astype(dtype)
    return rng.integers(0, 200, shape).astype(dtype)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result.stderr


def same(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("op", "options", "kwargs"),
    [
        ("max", ["-k", "2x2x2"], {"size": (2, 2, 2)}),
        ("avg", ["-k", "3", "--axes", "3", "-s", "1x2x2", "-p", "1x1x1"],
         {"size": (3, 3, 3), "stride": (1, 2, 2), "padding": (1, 1, 1)}),
        ("median", ["-k", "1x3x3", "-p", "0,1,1,1,1,1", "--ceil"],
         {"size": (1, 3, 3), "padding": (0, 1, 1, 1, 1, 1), "ceil_mode": True}),
    ],
)  # fmt: skip
def test_a_tiff_stack_read_as_a_volume(tmp_path, op, options, kwargs) -> None:
    stack = noise((9, 30, 41))
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    stderr = ok(
        op, str(tmp_path / "stack.tif"), "--volume", *options, "-o", str(tmp_path / "o.tif")
    )
    expected = poolcli.pool(stack, op, **kwargs)
    assert f"(9x30x41 -> {'x'.join(map(str, expected.shape))})" in stderr
    got = tifffile.imread(tmp_path / "o.tif")  # the depth written back as pages
    rounded = np.floor(expected.astype(np.float64) + 0.5).astype(np.uint8)  # an image's rounding
    np.testing.assert_array_equal(got, expected if expected.dtype.kind == "u" else rounded)


def test_an_rgb_stack_pools_every_channel_over_depth(tmp_path) -> None:
    stack = noise((6, 20, 22, 3))
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="rgb")
    ok("max", str(tmp_path / "stack.tif"), "--volume", "-k", "2x2x2", "-o", str(tmp_path / "o.npy"))
    expected = poolcli.pool(stack.transpose(3, 0, 1, 2), "max", size=(2, 2, 2))  # (C, D, H, W)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected.swapaxes(0, 1))


@pytest.mark.parametrize("shape", [(10, 12, 14), (2, 10, 12, 14), (2, 3, 8, 10, 12)])
def test_npy_volumes(tmp_path, shape) -> None:
    volume = noise(shape, "float32")
    np.save(tmp_path / "v.npy", volume)
    ok("avg", str(tmp_path / "v.npy"), "-k", "2x3x3", "-s", "2", "-o", str(tmp_path / "o.npy"))
    same(np.load(tmp_path / "o.npy"), poolcli.pool(volume, "avg", size=(2, 3, 3), stride=2))


def test_a_signal_from_npy(tmp_path) -> None:
    signals = noise((4, 2, 1000), "float32")
    np.save(tmp_path / "s.npy", signals)
    ok("max", str(tmp_path / "s.npy"), "-k", "5", "--axes", "1", "-s", "1", "-o",
       str(tmp_path / "o.npy"))  # fmt: skip
    same(np.load(tmp_path / "o.npy"), poolcli.pool(signals, "max", size=(5,), stride=(1,)))


def test_a_signal_from_a_one_row_csv(tmp_path) -> None:
    (tmp_path / "s.csv").write_text("1, 5, 2, 8, 3, 3, 9, 0\n")
    result = run("avg", str(tmp_path / "s.csv"), "-k", "4", "--axes", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["4", "3.75"]


def test_the_report_has_a_formula_for_each_axis(tmp_path) -> None:
    np.save(tmp_path / "v.npy", noise((10, 12, 14)))
    result = run("max", str(tmp_path / "v.npy"), "-k", "2x2x2", "--dry-run", "--report", "json")
    report = json.loads(result.stdout)
    assert report["size"] == [2, 2, 2] and report["output_shape"] == [1, 5, 6, 7]
    assert [key for key in report if key.startswith("formula")] == [
        "formula_d", "formula_h", "formula_w",
    ]  # fmt: skip
    assert report["formula_d"].endswith("= 5")
    text = run("max", str(tmp_path / "v.npy"), "-k", "2x2x2", "--dry-run", "--report", "text")
    assert text.stdout.splitlines()[-3].startswith("out_d = floor((D + P - e) / s) + 1")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-k", "2x2x2", "-s", "2x2"], "--size 3, --stride 2"),
        (["-k", "2x2", "--axes", "3"], "--size 2, --axes 3"),
        (["--dilation", "1x1x1", "-k", "2x2"], "--size 2, --dilation 3"),
        (["-p", "1x1x1", "-s", "2x2"], "--stride 2, --padding 3"),
    ],
)
def test_mismatched_lengths_are_one_usage_error(tmp_path, options, message) -> None:
    np.save(tmp_path / "v.npy", noise((10, 12, 14)))
    result = run("max", str(tmp_path / "v.npy"), *options)
    assert result.exit_code == 2
    assert result.stderr == (
        f"poolcli: the window options give different numbers of axes ({message}); give each "
        "one value or one per axis\n"
    )


def test_a_volume_window_over_a_photo_is_refused(tmp_path) -> None:
    from PIL import Image

    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    result = run("max", str(tmp_path / "a.png"), "-k", "2x2x2")
    assert result.exit_code == 1
    assert "a window of 3 axes pools a volume: read the frames of an image as its depth with " \
        "--volume" in result.stderr  # fmt: skip
    result = run("max", str(tmp_path / "a.png"), "--volume")
    assert result.exit_code == 1 and "--volume reads a volume" in result.stderr
