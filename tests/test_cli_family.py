"""The command line of the pooling family: sum, median, lp, global, adaptive, fractional, info
and explain, through click's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import pixels, run
from click.testing import Result
from PIL import Image

import poolcli
from poolcli.io.images import format_matrix
from poolcli.teaching.explain import explain

LECTURE = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
LECTURE_CSV = "1,2,1,0\n0,1,2,3\n3,0,1,2\n2,4,0,1\n"
PHOTO = (LECTURE * 10).astype(np.uint8)  # a 4x4 grey PNG
# A 2x2 RGBA image: opaque red beside transparent green, over an opaque blue row.
RGBA = np.array(
    [[[255, 0, 0, 255], [0, 255, 0, 0]], [[0, 0, 255, 255], [0, 0, 255, 255]]], dtype=np.uint8
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder: photo.png (PHOTO), rgba.png, lecture.csv, plane.npy."""
    monkeypatch.chdir(tmp_path)
    Image.fromarray(PHOTO).save(tmp_path / "photo.png")
    Image.fromarray(RGBA, "RGBA").save(tmp_path / "rgba.png")
    (tmp_path / "lecture.csv").write_text(LECTURE_CSV)
    np.save(tmp_path / "plane.npy", np.arange(100, dtype=np.float32).reshape(10, 10))
    return tmp_path


def rounded(values: np.ndarray) -> np.ndarray:
    """How a float result is written to a uint8 image: floor(v + 0.5), clipped."""
    return np.clip(np.floor(np.asarray(values, np.float64) + 0.5), 0, 255).astype(np.uint8)


def assert_usage_error(result: Result, message: str) -> None:
    """Exit status 2 and exactly one line on standard error, nothing on standard output."""
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"poolcli: {message}\n"


# ---------------------------------------------------------------------------------------------
# sum, median, lp


@pytest.mark.parametrize("op", ["sum", "median", "lp"])
def test_new_ops_print_a_matrix(folder: Path, op: str) -> None:
    result = run(op, "lecture.csv")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == format_matrix(poolcli.pool(LECTURE, op)) + "\n"


@pytest.mark.parametrize("op", ["sum", "median", "lp"])
def test_new_ops_write_an_image(folder: Path, op: str) -> None:
    result = run(op, "photo.png", "-k", "3", "-s", "1")
    assert result.exit_code == 0
    assert result.stderr == f"poolcli: wrote photo.{op}.png (4x4 -> 2x2)\n"
    expected = rounded(poolcli.pool(PHOTO, op, size=3, stride=1))
    np.testing.assert_array_equal(pixels(folder / f"photo.{op}.png"), expected)


def test_lp_takes_its_power(folder: Path) -> None:
    result = run("lp", "lecture.csv", "--p", "3")
    assert result.exit_code == 0
    assert result.stdout == format_matrix(poolcli.pool(LECTURE, "lp", p=3.0)) + "\n"
    assert result.stdout == "2.1544347 3.3019273\n 4.626065 2.1544347\n"


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "two"])
def test_lp_power_must_be_above_zero(folder: Path, value: str) -> None:
    result = run("lp", "lecture.csv", "--p", value)
    assert_usage_error(
        result, f"invalid value for --p: '{value}'; expected a number above 0, e.g. 2 or 0.5"
    )


def test_only_lp_has_a_power(folder: Path) -> None:
    result = run("max", "lecture.csv", "--p", "2")
    assert result.exit_code == 2
    assert result.stderr.startswith("poolcli: no such option '--p'")
    assert result.stderr.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# global


def test_global_prints_one_line_per_input(folder: Path) -> None:
    result = run("global", "photo.png", "lecture.csv", "plane.npy")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "photo.png: avg L=14.375\nlecture.csv: avg 1.4375\nplane.npy: avg 49.5\n"
    )


def test_global_max_keeps_integers(folder: Path) -> None:
    result = run("global", "photo.png", "--op", "max")
    assert result.stdout == "photo.png: max L=40\n"


def test_global_avg_weighs_colour_by_alpha(folder: Path) -> None:
    # The transparent green pixel adds no colour: (255, 0, 0), (0, 0, 255) twice, weighted 1:2.
    result = run("global", "rgba.png")
    assert result.stdout == "rgba.png: avg R=85 G=0 B=170 A=191.25\n"
    straight = run("global", "rgba.png", "--alpha", "straight")
    assert straight.stdout == "rgba.png: avg R=63.75 G=63.75 B=127.5 A=191.25\n"


def test_global_of_every_frame(folder: Path) -> None:
    frames = [Image.new("L", (3, 2), value) for value in (10, 20)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    result = run("global", "anim.gif")
    assert result.exit_code == 0
    assert (
        result.stdout
        == "anim.gif frame 0: avg R=10 G=10 B=10\nanim.gif frame 1: avg R=20 G=20 B=20\n"
    )


def test_global_json_report(folder: Path) -> None:
    result = run("global", "rgba.png", "lecture.csv", "--report", "json", "--op", "max")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {
            "input": "rgba.png",
            "op": "max",
            "shape": [1, 4, 2, 2],
            "channels": ["R", "G", "B", "A"],
            "values": [[255, 255, 255, 255]],
        },
        {
            "input": "lecture.csv",
            "op": "max",
            "shape": [1, 1, 4, 4],
            "channels": ["c0"],
            "values": [[4]],
        },
    ]


def test_global_goes_on_past_a_bad_input(folder: Path) -> None:
    result = run("global", "photo.png", "missing.png", "lecture.csv")
    assert result.exit_code == 1
    assert result.stdout == "photo.png: avg L=14.375\nlecture.csv: avg 1.4375\n"
    assert result.stderr == "poolcli: missing.png: no such file\n"


def test_global_json_names_the_failed_input(folder: Path) -> None:
    result = run("global", "missing.png", "--report", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "input": "missing.png",
        "op": "avg",
        "error": "missing.png: no such file",
    }


def test_global_writes_nothing_unless_asked(folder: Path) -> None:
    before = sorted(p.name for p in folder.iterdir())
    assert run("global", "photo.png").exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == before


def test_global_output_file(folder: Path) -> None:
    result = run("global", "photo.png", "-o", "mean.png")
    assert result.exit_code == 0
    assert result.stdout == "photo.png: avg L=14.375\n"
    assert result.stderr == "poolcli: wrote mean.png (4x4 -> 1x1)\n"
    assert pixels(folder / "mean.png").tolist() == [[14]]


def test_global_output_folder_for_several_inputs(folder: Path) -> None:
    (folder / "out").mkdir()
    result = run("global", "photo.png", "plane.npy", "-o", "out", "-q")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert pixels(folder / "out" / "photo.global.png").tolist() == [[14]]
    assert np.load(folder / "out" / "plane.global.npy").tolist() == [[49.5]]


def test_global_output_to_stdout(folder: Path) -> None:
    result = run("global", "photo.png", "-o", "-")
    assert result.exit_code == 0
    assert result.stderr == "photo.png: avg L=14.375\n"
    assert pixels(result.stdout_bytes).tolist() == [[14]]


def test_global_several_inputs_need_an_output_folder(folder: Path) -> None:
    result = run("global", "photo.png", "lecture.csv", "-o", "mean.png")
    assert_usage_error(
        result, "-o mean.png is not a folder; with 2 inputs, -o names a folder to write "
        "STEM.global.EXT in"
    )  # fmt: skip


def test_global_bad_op(folder: Path) -> None:
    result = run("global", "photo.png", "--op", "min")
    assert result.exit_code == 2
    assert result.stderr == ("poolcli: invalid value for --op: 'min' is not one of 'avg', 'max'\n")


def test_global_from_stdin(folder: Path) -> None:
    result = run("global", "-", input=LECTURE_CSV)
    assert result.stdout == "<stdin>: avg 1.4375\n"


# ---------------------------------------------------------------------------------------------
# adaptive


def test_adaptive_matrix(folder: Path) -> None:
    result = run("adaptive", "lecture.csv", "--to", "3", "--op", "max")
    assert result.exit_code == 0
    assert result.stdout == "2 2 3\n3 2 3\n4 4 2\n"


def test_adaptive_writes_an_image(folder: Path) -> None:
    result = run("adaptive", "photo.png", "--to", "3x2")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote photo.adaptive.png (4x4 -> 3x2)\n"
    expected = rounded(poolcli.adaptive_pool(PHOTO, (3, 2)))
    np.testing.assert_array_equal(pixels(folder / "photo.adaptive.png"), expected)


def test_adaptive_npy_to_npy(folder: Path) -> None:
    result = run("adaptive", "plane.npy", "--to", "4x3", "-o", "small.npy", "-q")
    assert result.exit_code == 0
    assert result.stderr == ""
    x = np.load(folder / "plane.npy")
    np.testing.assert_array_equal(np.load(folder / "small.npy"), poolcli.adaptive_pool(x, (4, 3)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "0"], "invalid value for --to: '0'; the output size must be at least 1"),
        (["--to", "2x0"], "invalid value for --to: '2x0'; the output size must be at least 1"),
        (["--to", "big"], "invalid value for --to: 'big'; expected N or HxW, e.g. 64 or 48x64"),
        (["--to", "2", "--op", "min"], "invalid value for --op: 'min' is not one of 'avg', 'max'"),
        ([], "missing option '--to'; see 'poolcli adaptive --help'"),
    ],
)
def test_adaptive_bad_options(folder: Path, args: list[str], message: str) -> None:
    assert_usage_error(run("adaptive", "lecture.csv", *args), message)


def test_adaptive_fails_an_input_smaller_than_the_output_and_goes_on(folder: Path) -> None:
    """The size rule is the library's: one input fails (exit 1), the batch goes on."""
    result = run("adaptive", "lecture.csv", "plane.npy", "--to", "5x2", "-o", "out")
    assert result.exit_code == 1
    assert result.stderr == (
        "poolcli: lecture.csv: --to 5x2 is larger than the input 4x4 (height x width); "
        "adaptive pooling only shrinks\n"
        "poolcli: 1 done, 0 skipped, 1 failed\n"
    )
    assert np.load(folder / "out" / "plane.npy").shape == (5, 2)


def test_adaptive_avg_pools_premultiplied_colour(folder: Path) -> None:
    """Opaque red among three transparent greens: red at a quarter of the alpha, 63.75 -> 64."""
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 1] = 255  # transparent green
    rgba[0, 0] = (255, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(folder / "red.png")
    result = run("adaptive", "red.png", "--to", "1", "-o", "out.png")
    assert result.exit_code == 0, result.stderr
    assert pixels(folder / "out.png").tolist() == [[[255, 0, 0, 64]]]
    result = run("adaptive", "red.png", "--to", "1", "-o", "out.png", "--alpha", "straight")
    assert result.exit_code == 0, result.stderr
    assert pixels(folder / "out.png").tolist() == [[[64, 191, 0, 64]]]


def test_adaptive_report(folder: Path) -> None:
    result = run("adaptive", "rgba.png", "--to", "1x2", "--report")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "input         rgba.png\n"
        "input shape   (1, 4, 2, 2)  (N, C, H, W)\n"
        "mode          RGBA\n"
        "dtype         uint8\n"
        "op            adaptive_avg\n"
        "output        rgba.adaptive.png\n"
        "output shape  (1, 4, 1, 2)  (N, C, H, W)\n"
    )
    assert result.stderr == "poolcli: wrote rgba.adaptive.png (2x2 -> 1x2)\n"
    result = run("adaptive", "lecture.csv", "--to", "3", "--op", "max", "--report", "json")
    assert result.exit_code == 0, result.stderr
    report, matrix = result.stdout.split("\n", 1)
    assert json.loads(report) == {
        "input": "lecture.csv",
        "output": "<stdout>",
        "op": "adaptive_max",
        "input_shape": [1, 1, 4, 4],
        "output_shape": [1, 1, 3, 3],
        "mode": None,
        "dtype": "int64",
    }
    assert matrix == "2 2 3\n3 2 3\n4 4 2\n"


def test_adaptive_missing_input(folder: Path) -> None:
    result = run("adaptive", "missing.png", "--to", "2")
    assert result.exit_code == 1
    assert result.stderr == "poolcli: missing.png: no such file\n"


# ---------------------------------------------------------------------------------------------
# fractional


def test_fractional_with_a_seed_is_the_library_result(folder: Path) -> None:
    result = run("fractional", "plane.npy", "--ratio", "0.7", "--seed", "1", "-o", "out.npy")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote out.npy (10x10 -> 7x7)\n"
    x = np.load(folder / "plane.npy")
    expected = poolcli.fractional_max_pool(x, 2, ratio=0.7, seed=1)
    np.testing.assert_array_equal(np.load(folder / "out.npy"), expected)


def test_fractional_to_and_size(folder: Path) -> None:
    result = run("fractional", "plane.npy", "--to", "4x6", "-k", "3", "--seed", "5", "-o", "o.npy")
    assert result.exit_code == 0
    x = np.load(folder / "plane.npy")
    expected = poolcli.fractional_max_pool(x, 3, output_size=(4, 6), seed=5)
    np.testing.assert_array_equal(np.load(folder / "o.npy"), expected)


def test_fractional_without_a_seed_says_which_it_drew(folder: Path) -> None:
    first = run("fractional", "plane.npy", "--ratio", "0.6", "-o", "a.npy")
    assert first.exit_code == 0
    found = re.fullmatch(r"poolcli: wrote a\.npy \(10x10 -> 6x6\), seed (\d+)\n", first.stderr)
    assert found is not None
    again = run("fractional", "plane.npy", "--ratio", "0.6", "--seed", found[1], "-o", "b.npy")
    assert again.exit_code == 0
    np.testing.assert_array_equal(np.load(folder / "a.npy"), np.load(folder / "b.npy"))


def test_fractional_report(folder: Path) -> None:
    args = ["fractional", "plane.npy", "--ratio", "0.5", "--seed", "3", "-o", "out.npy"]
    result = run(*args, "--report", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "input         plane.npy\n"
        "input shape   (1, 1, 10, 10)  (N, C, H, W)\n"
        "dtype         float32\n"
        "op            fractional_max\n"
        "output        out.npy\n"
        "output shape  (1, 1, 5, 5)  (N, C, H, W)\n"
    )
    assert result.stderr == ""
    result = run(*args, "--report", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "input": "plane.npy",
        "output": "out.npy",
        "op": "fractional_max",
        "input_shape": [1, 1, 10, 10],
        "output_shape": [1, 1, 5, 5],
        "mode": None,
        "dtype": "float32",
        "replaced": True,  # over the first run's out.npy (issue 11: every replaced file said)
    }
    assert result.stderr == "poolcli: replaced out.npy (10x10 -> 5x5)\n"


def test_fractional_matrix(folder: Path) -> None:
    result = run("fractional", "lecture.csv", "--to", "3", "--seed", "0")
    assert result.exit_code == 0
    expected = poolcli.fractional_max_pool(LECTURE, 2, output_size=3, seed=0)
    assert result.stdout == format_matrix(expected) + "\n"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--ratio", "0"],
            "invalid value for --ratio: '0'; expected a number between 0 and 1 (exclusive)",
        ),
        (
            ["--ratio", "1"],
            "invalid value for --ratio: '1'; expected a number between 0 and 1 (exclusive)",
        ),
        (
            ["--ratio", "1.5"],
            "invalid value for --ratio: '1.5'; expected a number between 0 and 1 (exclusive)",
        ),
        (
            ["--ratio", "half"],
            "invalid value for --ratio: 'half'; expected a number between 0 and 1 (exclusive)",
        ),
        ([], "give exactly one of --ratio and --to"),
        (["--ratio", "0.5", "--to", "2"], "give exactly one of --ratio and --to"),
        (
            ["--to", "0", "--seed", "1"],
            "invalid value for --to: '0'; the output size must be at least 1",
        ),
        (["--ratio", "0.5", "-k", "0"], "invalid value for --size: '0'; size must be at least 1"),
        (
            ["--ratio", "0.5", "--seed", "-1"],
            "invalid value for --seed: -1 is not in the range x>=0",
        ),
    ],
)
def test_fractional_bad_options(folder: Path, args: list[str], message: str) -> None:
    assert_usage_error(run("fractional", "lecture.csv", *args), message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", "4"],
            "lecture.csv: output height 4 with a window of 2 needs an input height of at least "
            "5 (output + size - 1), got 4",
        ),
        (
            ["--to", "2", "-k", "4"],
            "lecture.csv: output height 2 with a window of 4 needs an input height of at least "
            "5 (output + size - 1), got 4",
        ),
        (["--ratio", "0.2"], "lecture.csv: ratio 0.2 leaves no output height: int(4 * 0.2) = 0"),
    ],
)
def test_fractional_fails_an_input_too_small_and_goes_on(
    folder: Path, args: list[str], message: str
) -> None:
    """The size rules are the library's: one input fails (exit 1), the batch goes on."""
    result = run("fractional", "lecture.csv", "plane.npy", *args, "--seed", "3", "-o", "out")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"poolcli: {message}\npoolcli: 1 done, 0 skipped, 1 failed\n"
    assert (folder / "out" / "plane.npy").is_file()
    assert not (folder / "out" / "lecture.csv").exists()


# ---------------------------------------------------------------------------------------------
# info


PHOTO_INFO = """\
input         photo.png
shape         (1, 1, 4, 4)  (N, C, H, W)
format        PNG image
mode          L
dtype         uint8
frames        1
"""


def test_info(folder: Path) -> None:
    result = run("info", "photo.png", "lecture.csv")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == PHOTO_INFO + (
        "\n"
        "input         lecture.csv\n"
        "shape         (1, 1, 4, 4)  (N, C, H, W)\n"
        "format        CSV matrix\n"
        "dtype         int64\n"
        "frames        1\n"
    )


def test_info_with_pooling_options(folder: Path) -> None:
    result = run("info", "photo.png", "-k", "3", "-s", "2", "--padding", "same")
    assert result.exit_code == 0
    assert result.stdout == PHOTO_INFO + (
        "window        3x3\n"
        "stride        2x2\n"
        "padding       0, 1, 0, 1  (top, bottom, left, right)\n"
        "dilation      1x1\n"
        "rounding      floor\n"
        "pad mode      ignore\n"
        "output shape  (1, 1, 2, 2)  (N, C, H, W)\n"
        "out_h = floor((H + P - e) / s) + 1 = floor((4 + 1 - 3) / 2) + 1 = 2\n"
        "out_w = floor((W + P - e) / s) + 1 = floor((4 + 1 - 3) / 2) + 1 = 2\n"
    )


def test_info_json(folder: Path) -> None:
    np.save(folder / "frames.npy", np.zeros((2, 3, 5, 7), np.float32))
    result = run("info", "rgba.png", "frames.npy", "lecture.csv", "--report", "json", "-k", "2")
    assert result.exit_code == 0
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    picked = [
        {k: r[k] for k in ("kind", "format", "mode", "dtype", "frames", "shape", "decoded")}
        for r in reports
    ]
    assert picked == [
        {
            "kind": "image",
            "format": "PNG",
            "mode": "RGBA",
            "dtype": "uint8",
            "frames": 1,
            "shape": [1, 4, 2, 2],
            "decoded": False,
        },
        {
            "kind": "array",
            "format": None,
            "mode": None,
            "dtype": "float32",
            "frames": 2,
            "shape": [2, 3, 5, 7],
            "decoded": False,
        },
        {
            "kind": "matrix",
            "format": None,
            "mode": None,
            "dtype": "int64",
            "frames": 1,
            "shape": [1, 1, 4, 4],
            "decoded": True,
        },
    ]
    assert [r["output_shape"] for r in reports] == [[1, 4, 1, 1], [2, 3, 2, 3], [1, 1, 2, 2]]
    assert (
        reports[1]["formula_w"]
        == "out_w = floor((W + P - e) / s) + 1 = floor((7 + 0 - 2) / 2) + 1 = 3"
    )


def test_info_reads_no_pixels(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(np, "load", refuse)
    Image.fromarray(np.zeros((3000, 4000, 3), np.uint8)).save(folder / "large.jpg")
    result = run("info", "large.jpg", "plane.npy", "photo.png", "--report", "json")
    assert result.exit_code == 0, result.stderr
    shapes = [json.loads(line)["shape"] for line in result.stdout.splitlines()]
    assert shapes == [[1, 3, 3000, 4000], [1, 1, 10, 10], [1, 1, 4, 4]]


def test_info_goes_on_past_a_bad_input(folder: Path) -> None:
    (folder / "bad.png").write_bytes(b"not an image")
    result = run("info", "missing.png", "bad.png", "photo.png")
    assert result.exit_code == 1
    assert result.stdout == PHOTO_INFO
    assert result.stderr == (
        "poolcli: missing.png: no such file\npoolcli: bad.png: cannot identify image file\n"
    )


def test_info_geometry_that_does_not_fit_an_input(folder: Path) -> None:
    result = run("info", "lecture.csv", "plane.npy", "-k", "5")
    assert result.exit_code == 1
    assert result.stderr == (
        "poolcli: lecture.csv: window 5 is larger than the padded height 4 (height 4 + padding 0)\n"
    )
    assert "output shape  (1, 1, 2, 2)" in result.stdout


def test_info_bad_option(folder: Path) -> None:
    assert_usage_error(
        run("info", "photo.png", "-k", "0"),
        "invalid value for --size: '0'; size must be at least 1",
    )


# ---------------------------------------------------------------------------------------------
# explain


def test_explain_the_lecture_example(folder: Path) -> None:
    result = run("explain")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == explain() + "\n"
    assert result.stdout.endswith("output 2x2\n2 3\n4 2\n")


def test_explain_a_file_with_options(folder: Path) -> None:
    args = [
        "lecture.csv",
        "--op",
        "avg",
        "-k",
        "3",
        "-s",
        "1",
        "--padding",
        "1",
        "--pad-mode",
        "zero",
    ]
    result = run("explain", *args)
    assert result.exit_code == 0
    expected = explain(LECTURE, "avg", size=3, stride=1, padding=1, pad_mode="zero")
    assert result.stdout == expected + "\n"


def test_explain_lp_and_stdin(folder: Path) -> None:
    result = run("explain", "-", "--op", "lp", "--p", "3", input=LECTURE_CSV)
    assert result.exit_code == 0
    assert result.stdout == explain(LECTURE, "lp", p=3.0) + "\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["big.csv"], "big.csv: explain takes matrices up to 16×16; got 17×3"),
        (["rgba.png"], "rgba.png: explain takes one 2-D matrix; got shape (1, 4, 2, 2)"),
        (["-k", "5"], "window 5 is larger than the padded height 4 (height 4 + padding 0)"),
        (
            ["--op", "lp", "--p", "0"],
            "invalid value for --p: '0'; expected a number above 0, e.g. 2 or 0.5",
        ),
        (
            ["--op", "mean"],
            "invalid value for --op: 'mean' is not one of 'max', 'min', 'avg', 'sum', 'median', "
            "'lp', 'mode'",
        ),
    ],
)
def test_explain_bad_options(folder: Path, args: list[str], message: str) -> None:
    (folder / "big.csv").write_text("1,2,3\n" * 17)
    assert_usage_error(run("explain", *args), message)


def test_explain_missing_input(folder: Path) -> None:
    result = run("explain", "missing.csv")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "poolcli: missing.csv: no such file\n"


# ---------------------------------------------------------------------------------------------
# Help


NEW_COMMANDS = ["sum", "median", "lp", "global", "adaptive", "fractional", "info", "explain"]


@pytest.mark.parametrize("command", NEW_COMMANDS)
def test_every_new_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Exit status" in result.stdout
    assert "Examples:" in result.stdout or command in ("sum", "median", "lp")


def test_the_group_lists_the_new_commands() -> None:
    listed = run("--help").stdout
    for command in NEW_COMMANDS:
        assert re.search(rf"^  {command}\s", listed, re.MULTILINE), command
