"""Tests of poolcli.cli through click's CliRunner: outputs, reports, and every way to fail."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from cli_helpers import pixels, run
from PIL import Image

import poolcli
from poolcli.cli import POOL_OPS, main, texts
from poolcli.cli import run as cli_run

LECTURE = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
LECTURE_CSV = "1,2,1,0\n0,1,2,3\n3,0,1,2\n2,4,0,1\n"
# The lecture matrix times 10 as a 4x4 grey PNG, pooled 2x2 by each op (avg rounded half up)
PHOTO = (LECTURE * 10).astype(np.uint8)
POOLED = {
    "max": [[20, 30], [40, 20]],
    "min": [[0, 0], [0, 0]],
    "avg": [[10, 15], [23, 10]],
}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder, holding photo.png (PHOTO) and lecture.csv."""
    monkeypatch.chdir(tmp_path)
    Image.fromarray(PHOTO).save(tmp_path / "photo.png")
    (tmp_path / "lecture.csv").write_text(LECTURE_CSV)
    return tmp_path


def png_bytes(array: np.ndarray, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format)
    return buffer.getvalue()


def listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# ---------------------------------------------------------------------------------------------
# Outputs


@pytest.mark.parametrize("op", sorted(POOLED))
def test_default_output_is_stem_op_ext_next_to_the_input(folder: Path, op: str) -> None:
    result = run(op, "photo.png")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"poolcli: wrote photo.{op}.png (4x4 -> 2x2)\n"
    assert listing(folder) == sorted(["lecture.csv", "photo.png", f"photo.{op}.png"])
    out = pixels(folder / f"photo.{op}.png")
    assert out.dtype == np.uint8
    assert out.tolist() == POOLED[op]


def test_default_output_of_an_input_in_another_folder(folder: Path) -> None:
    (folder / "sub").mkdir()
    shutil.copy(folder / "photo.png", folder / "sub" / "photo.png")
    result = run("max", "sub/photo.png")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote sub/photo.max.png (4x4 -> 2x2)\n"
    assert pixels(folder / "sub" / "photo.max.png").tolist() == POOLED["max"]


def test_output_option_names_the_file(folder: Path) -> None:
    result = run("max", "photo.png", "-o", "small.png")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote small.png (4x4 -> 2x2)\n"
    assert pixels(folder / "small.png").tolist() == POOLED["max"]
    assert not (folder / "photo.max.png").exists()


def test_output_option_overwrites_an_existing_output(folder: Path) -> None:
    (folder / "small.png").write_bytes(b"old")
    assert run("max", "photo.png", "--output", "small.png").exit_code == 0
    assert pixels(folder / "small.png").tolist() == POOLED["max"]


def test_output_folder_gets_the_default_name(folder: Path) -> None:
    (folder / "out").mkdir()
    result = run("min", "photo.png", "-o", "out")
    assert result.exit_code == 0
    assert result.stderr == f"poolcli: wrote {os.path.join('out', 'photo.min.png')} (4x4 -> 2x2)\n"
    assert pixels(folder / "out" / "photo.min.png").tolist() == POOLED["min"]


def test_format_changes_the_default_extension(folder: Path) -> None:
    result = run("max", "photo.png", "--format", "tiff")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote photo.max.tiff (4x4 -> 2x2)\n"
    with Image.open(folder / "photo.max.tiff") as img:
        assert img.format == "TIFF"
        assert np.asarray(img).tolist() == POOLED["max"]


def test_format_jpeg_writes_jpg(folder: Path) -> None:
    result = run("avg", "photo.png", "--format", "JPEG", "--quality", "95")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote photo.avg.jpg (4x4 -> 2x2)\n"
    with Image.open(folder / "photo.avg.jpg") as img:
        assert img.format == "JPEG"
        assert img.size == (2, 2)


def test_format_npy_writes_the_result_array(folder: Path) -> None:
    assert run("max", "photo.png", "--format", "npy").exit_code == 0
    out = np.load(folder / "photo.max.npy")
    assert out.dtype == np.uint8
    assert out.tolist() == [[POOLED["max"]]]


def test_npy_input_writes_npy_of_the_same_rank(folder: Path) -> None:
    np.save(folder / "plane.npy", LECTURE.astype(np.float32))
    result = run("max", "plane.npy")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote plane.max.npy (4x4 -> 2x2)\n"
    out = np.load(folder / "plane.max.npy")
    assert out.dtype == np.float32
    assert out.tolist() == [[2, 3], [4, 2]]


def test_rectangular_window_stride_and_padding(folder: Path) -> None:
    result = run("max", "photo.png", "-k", "2x1", "-s", "2x1", "-o", "tall.png")
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote tall.png (4x4 -> 2x4)\n"
    assert pixels(folder / "tall.png").tolist() == [[10, 20, 20, 30], [30, 40, 10, 20]]


# ---------------------------------------------------------------------------------------------
# Standard input and output


def test_stdin_goes_to_stdout_in_its_own_format(folder: Path) -> None:
    result = run("max", "-", input=png_bytes(PHOTO))
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout_bytes.startswith(b"\x89PNG\r\n\x1a\n")
    assert pixels(result.stdout_bytes).tolist() == POOLED["max"]
    assert listing(folder) == ["lecture.csv", "photo.png"]


def test_stdin_jpeg_goes_to_stdout_as_jpeg(folder: Path) -> None:
    photo = np.full((8, 8, 3), 200, dtype=np.uint8)
    result = run("avg", "-", input=png_bytes(photo, "JPEG"))
    assert result.exit_code == 0
    with Image.open(io.BytesIO(result.stdout_bytes)) as img:
        assert (img.format, img.size) == ("JPEG", (4, 4))


def test_stdin_to_a_file(folder: Path) -> None:
    result = run("max", "-", "-o", "small.png", input=png_bytes(PHOTO))
    assert result.exit_code == 0
    assert result.stderr == "poolcli: wrote small.png (4x4 -> 2x2)\n"
    assert pixels(folder / "small.png").tolist() == POOLED["max"]


def test_dash_output_writes_only_the_image_bytes(folder: Path) -> None:
    result = run("max", "photo.png", "-o", "-")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert pixels(result.stdout_bytes).tolist() == POOLED["max"]
    assert listing(folder) == ["lecture.csv", "photo.png"]


def test_dash_output_sends_the_report_to_stderr(folder: Path) -> None:
    result = run("max", "photo.png", "-o", "-", "--report")
    assert result.exit_code == 0
    assert pixels(result.stdout_bytes).tolist() == POOLED["max"]
    assert result.stderr.startswith("input         photo.png\n")
    assert "output        <stdout>\n" in result.stderr


def test_dash_output_with_format(folder: Path) -> None:
    result = run("max", "lecture.csv", "-o", "-", "--format", "npy")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert np.load(io.BytesIO(result.stdout_bytes)).tolist() == [[2, 3], [4, 2]]


def test_image_bytes_are_never_written_to_a_terminal(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_run, "stdout_is_terminal", lambda: True)
    result = run("max", "photo.png", "-o", "-")
    assert result.exit_code == 2
    assert result.stderr == (
        "poolcli: refusing to write image data to a terminal; "
        "redirect standard output or give -o FILE\n"
    )
    assert result.stdout_bytes == b""


# ---------------------------------------------------------------------------------------------
# Matrices


def test_csv_input_prints_the_pooled_matrix(folder: Path) -> None:
    result = run("max", "lecture.csv")
    assert result.exit_code == 0
    assert result.stdout == "2 3\n4 2\n"
    assert result.stderr == ""
    assert listing(folder) == ["lecture.csv", "photo.png"]


def test_csv_avg_prints_short_floats_aligned(folder: Path) -> None:
    result = run("avg", "lecture.csv")
    assert result.exit_code == 0
    assert result.stdout == "   1 1.5\n2.25   1\n"


def test_csv_on_stdin_prints_the_matrix(folder: Path) -> None:
    result = run("min", "-", "-k", "2", input=LECTURE_CSV)
    assert result.exit_code == 0
    assert result.stdout == "0 0\n0 0\n"


def test_csv_with_output_file_writes_csv(folder: Path) -> None:
    result = run("max", "lecture.csv", "-o", "pooled.csv")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "poolcli: wrote pooled.csv (4x4 -> 2x2)\n"
    assert (folder / "pooled.csv").read_text() == "2,3\n4,2\n"


def test_sample_lecture_matrix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("max", str(ROOT / "sample_images" / "lecture-4x4.csv"))
    assert result.exit_code == 0
    assert result.stdout == "2 3\n4 2\n"


# ---------------------------------------------------------------------------------------------
# Reports


LECTURE_REPORT = """\
input         lecture.csv
input shape   (1, 1, 4, 4)  (N, C, H, W)
dtype         int64
op            max
window        2x2
stride        2x2
padding       0, 0, 0, 0  (top, bottom, left, right)
dilation      1x1
rounding      floor
pad mode      ignore
output        <stdout>
output shape  (1, 1, 2, 2)  (N, C, H, W)
out_h = floor((H + P - e) / s) + 1 = floor((4 + 0 - 2) / 2) + 1 = 2
out_w = floor((W + P - e) / s) + 1 = floor((4 + 0 - 2) / 2) + 1 = 2
"""


def test_report_text_then_the_matrix(folder: Path) -> None:
    result = run("max", "lecture.csv", "--report")
    assert result.exit_code == 0
    assert result.stdout == LECTURE_REPORT + "\n2 3\n4 2\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--report", "lecture.csv"],
        ["--report", "text", "lecture.csv"],
        ["lecture.csv", "--report=text"],
    ],
    ids=["bare-before-input", "text-before-input", "equals"],
)
def test_report_text_spellings(folder: Path, args: list[str]) -> None:
    result = run("max", *args)
    assert result.exit_code == 0
    assert result.stdout == LECTURE_REPORT + "\n2 3\n4 2\n"


def test_report_text_for_an_image_with_mode(folder: Path) -> None:
    result = run("avg", "photo.png", "-k", "3", "-s", "1", "--report")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:4] == [
        "input         photo.png",
        "input shape   (1, 1, 4, 4)  (N, C, H, W)",
        "mode          L",
        "dtype         uint8",
    ]
    assert "output        photo.avg.png" in result.stdout.splitlines()
    assert result.stderr == "poolcli: wrote photo.avg.png (4x4 -> 2x2)\n"


def test_report_json_is_one_line(folder: Path) -> None:
    result = run(
        "max", "photo.png", "-k", "3", "-s", "2", "-p", "same", "--ceil", "--report", "json"
    )
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    report = json.loads(result.stdout)
    assert report == {
        "input": "photo.png",
        "output": "photo.max.png",
        "op": "max",
        "input_shape": [1, 1, 4, 4],
        "output_shape": [1, 1, 2, 2],
        "mode": "L",
        "dtype": "uint8",
        "size": [3, 3],
        "stride": [2, 2],
        "padding": [0, 1, 0, 1],
        "dilation": [1, 1],
        "ceil_mode": True,
        "pad_mode": "ignore",
        "formula_h": "out_h = ceil((H + P - e) / s) + 1 = ceil((4 + 1 - 3) / 2) + 1 = 2",
        "formula_w": "out_w = ceil((W + P - e) / s) + 1 = ceil((4 + 1 - 3) / 2) + 1 = 2",
    }


def test_report_json_of_a_failed_input_has_the_error(folder: Path) -> None:
    result = run("max", "photo.png", "-k", "5", "--report", "json")
    message = "photo.png: window 5 is larger than the padded height 4 (height 4 + padding 0)"
    assert result.exit_code == 1
    assert result.stderr == f"poolcli: {message}\n"
    assert json.loads(result.stdout) == {
        "input": "photo.png",
        "op": "max",
        "input_shape": [1, 1, 4, 4],
        "mode": "L",
        "dtype": "uint8",
        "error": message,
    }


@pytest.mark.parametrize(
    ("args", "key", "value"),
    [
        (["-k", "3x2"], "size", [3, 2]),
        (["-k", "3x2"], "stride", [3, 2]),
        (["-k", "3", "--stride", "1x2"], "stride", [1, 2]),
        (["-p", "1"], "padding", [1, 1, 1, 1]),
        (["-p", "1x2", "-k", "3"], "padding", [1, 1, 2, 2]),
        (["-p", "1,0, 2 ,0", "-k", "3"], "padding", [1, 0, 2, 0]),
        (["-p", "SAME", "-k", "3"], "padding", [1, 1, 1, 1]),
        (["-p", "valid"], "padding", [0, 0, 0, 0]),
        (["--dilation", "2x1", "-s", "1"], "dilation", [2, 1]),
        (["--ceil"], "ceil_mode", True),
        ([], "ceil_mode", False),
        (["--pad-mode", "Edge"], "pad_mode", "edge"),
        (["--pad-mode", "7"], "pad_mode", 7),
        (["--pad-mode", "-2.5"], "pad_mode", -2.5),
    ],
)
def test_option_values_reach_the_geometry(
    folder: Path, args: list[str], key: str, value: object
) -> None:
    (folder / "seven.csv").write_text("\n".join([" ".join(["1"] * 7)] * 7))
    result = run("max", "seven.csv", "--dry-run", "--report", "json", *args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[key] == value


# ---------------------------------------------------------------------------------------------
# Dry run, quiet, version, help


def test_dry_run_writes_nothing(folder: Path) -> None:
    before = listing(folder)
    result = run("max", "photo.png", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "poolcli: would write photo.max.png (4x4 -> 2x2)\n"
    assert listing(folder) == before


def test_dry_run_to_stdout_prints_nothing_on_stdout(folder: Path) -> None:
    result = run("max", "photo.png", "--dry-run", "-o", "-", "--report", "json")
    assert result.exit_code == 0
    assert result.stdout_bytes == b""
    report_line, message = result.stderr.splitlines()
    assert json.loads(report_line)["output"] == "<stdout>"
    assert message == "poolcli: would write <stdout> (4x4 -> 2x2)"


def test_quiet_prints_nothing(folder: Path) -> None:
    result = run("max", "photo.png", "-q")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("", "")
    assert pixels(folder / "photo.max.png").tolist() == POOLED["max"]


def test_quiet_dry_run_prints_nothing(folder: Path) -> None:
    result = run("max", "photo.png", "--quiet", "--dry-run")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert listing(folder) == ["lecture.csv", "photo.png"]


def test_quiet_still_prints_a_matrix(folder: Path) -> None:
    result = run("max", "lecture.csv", "-q")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "2 3\n4 2\n", "")


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"poolcli {poolcli.__version__}\n"


def test_help_lists_every_command_with_one_line() -> None:
    result = run("--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:\n", 1)[1].splitlines()
    listed = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in commands if line}
    family = {
        "global": texts.GLOBAL_SUMMARY,
        "adaptive": texts.ADAPTIVE_SUMMARY,
        "fractional": texts.FRACTIONAL_SUMMARY,
        "info": texts.INFO_SUMMARY,
        "explain": texts.EXPLAIN_SUMMARY,
    }
    from poolcli.cli import pyramid

    family["pyramid"] = pyramid.SUMMARY
    assert listed == {**POOL_OPS, "compare": texts.COMPARE_SUMMARY, **family}
    assert set(listed) == set(main.list_commands(click.Context(main)))


@pytest.mark.parametrize("name", main.list_commands(click.Context(main)))
def test_every_command_help_ends_with_examples(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    argument = "[INPUT]" if name == "explain" else "INPUT"  # explain has a default matrix
    assert result.stdout.startswith(f"Usage: poolcli {name} [OPTIONS] {argument}\n")
    examples = result.stdout.split("\n  Examples:\n", 1)[1].split("\nOptions:\n", 1)[0]
    lines = [line.strip() for line in examples.splitlines() if line.strip()]
    assert len(lines) >= 2
    assert all(f"poolcli {name} " in line for line in lines)


def test_no_command_shows_the_help() -> None:
    result = run()
    assert result.exit_code == 2
    assert "Commands:" in result.stderr


# ---------------------------------------------------------------------------------------------
# Failures


class TestFailures:
    """Each failure: its exit status, one exact line on stderr, no traceback, no file written."""

    @pytest.fixture(autouse=True)
    def _folder(self, folder: Path) -> None:
        self.folder = folder
        Image.fromarray(np.zeros((4, 4, 4), dtype=np.uint8)).save(folder / "rgba.png")
        Image.fromarray(PHOTO).save(folder / "photo.bmp")
        Image.fromarray(PHOTO).save(folder / "photo.sgi", format="SGI")  # read, never written

    def fails(self, code: int, message: str, *args: str, input: bytes | None = None) -> None:
        before = listing(self.folder)
        result = run(*args, input=input)
        assert result.exit_code == code
        assert result.stderr == f"poolcli: {message}\n"
        assert result.stdout_bytes == b""
        assert isinstance(result.exception, SystemExit)
        assert listing(self.folder) == before

    def test_missing_file(self) -> None:
        """A file that does not exist."""
        self.fails(1, "missing.png: no such file", "max", "missing.png")

    def test_empty_folder_as_input(self) -> None:
        """A folder with no images in it."""
        (self.folder / "pics").mkdir()
        self.fails(1, "pics: no images found", "max", "pics")

    def test_zero_byte_file(self) -> None:
        """An empty file."""
        (self.folder / "empty.png").write_bytes(b"")
        self.fails(1, "empty.png: empty file", "max", "empty.png")

    def test_empty_stdin(self) -> None:
        """Nothing on standard input."""
        self.fails(1, "<stdin>: empty input", "max", "-", input=b"")

    def test_text_named_png(self) -> None:
        """A text file named .png."""
        (self.folder / "notes.png").write_text("not a picture\n")
        self.fails(1, "notes.png: cannot identify image file", "max", "notes.png")

    def test_truncated_png(self) -> None:
        """A PNG cut in half."""
        noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
        data = png_bytes(noise)
        (self.folder / "cut.png").write_bytes(data[: len(data) // 2])
        self.fails(
            1,
            "cut.png: truncated or corrupt image data: image file is truncated",
            "max",
            "cut.png",
        )

    def test_truncated_jpeg(self) -> None:
        """A JPEG cut in half."""
        noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
        data = png_bytes(noise, "JPEG")
        (self.folder / "cut.jpg").write_bytes(data[: len(data) // 2])
        self.fails(
            1,
            "cut.jpg: truncated or corrupt image data: image file is truncated "
            "(2 bytes not processed)",
            "max",
            "cut.jpg",
        )

    def test_more_pixels_than_allowed(self) -> None:
        """An image over --max-pixels."""
        self.fails(
            1,
            "photo.png: image has 16 pixels, more than the limit of 10; raise it with --max-pixels",
            "max",
            "photo.png",
            "--max-pixels",
            "10",
        )

    def test_window_larger_than_the_image(self) -> None:
        """A window larger than the image is the input's failure, exit 1."""
        self.fails(
            1,
            "photo.png: window 5 is larger than the padded height 4 (height 4 + padding 0)",
            "max",
            "photo.png",
            "-k",
            "5",
        )

    def test_window_larger_than_stdin_image(self) -> None:
        """The same on standard input names <stdin>."""
        self.fails(
            1,
            "<stdin>: window 3 is larger than the padded width 2 (width 2 + padding 0)",
            "max",
            "-",
            "-k",
            "1x3",
            input=b"1 2\n3 4\n",
        )

    def test_padding_too_wide_to_ignore(self) -> None:
        """Padding so wide that a window holds only padding."""
        self.fails(
            1,
            "photo.png: padding (2, 2) is too wide for window 2 (dilation 1) on height 4: "
            'window 0 holds only padding; use less padding or a --pad-mode other than "ignore"',
            "max",
            "photo.png",
            "-p",
            "2",
        )

    @pytest.mark.parametrize(
        ("option", "value", "what"),
        [
            ("--size", "0", "size"),
            ("--size", "-1", "size"),
            ("--size", "3x0", "size"),
            ("--stride", "0", "stride"),
            ("--stride", "-2", "stride"),
            ("--dilation", "0", "dilation"),
            ("--dilation", "-1x2", "dilation"),
        ],
    )
    def test_size_stride_dilation_below_one(self, option: str, value: str, what: str) -> None:
        """Size, stride or dilation 0 or negative is a usage error."""
        self.fails(
            2,
            f"invalid value for {option}: '{value}'; {what} must be at least 1",
            "max",
            "photo.png",
            option,
            value,
        )

    def test_short_option_is_named_by_its_long_name(self) -> None:
        """-k 0 is reported as --size."""
        self.fails(
            2, "invalid value for --size: '0'; size must be at least 1", "max", "photo.png", "-k0"
        )

    def test_usage_errors_come_before_reading_the_input(self) -> None:
        """A bad option on a missing input is a usage error, not a missing file."""
        self.fails(
            2, "invalid value for --size: '0'; size must be at least 1", "max", "nope.png", "-k0"
        )

    @pytest.mark.parametrize("value", ["2x", "axb", "3x2x1x1", "x2", "1.5", ""])
    def test_malformed_size(self, value: str) -> None:
        """Sizes that are not K, KHxKW or KDxKHxKW."""
        self.fails(
            2,
            f"invalid value for --size: '{value}'; expected K, KHxKW or KDxKHxKW, "
            "e.g. 3, 3x2 or 2x2x2",
            "max",
            "photo.png",
            "--size",
            value,
        )

    def test_malformed_stride(self) -> None:
        """A stride that is not S or SHxSW."""
        self.fails(
            2,
            "invalid value for --stride: '2y2'; expected S, SHxSW or SDxSHxSW, "
            "e.g. 3, 3x2 or 2x2x2",
            "max",
            "photo.png",
            "-s",
            "2y2",
        )

    @pytest.mark.parametrize("value", ["1,", "a", "1x2x3x4", "1,2,3,4,5", "1,2,3,4,5,6,7,8"])
    def test_malformed_padding(self, value: str) -> None:
        """Padding that is not P, PHxPW, T,B,L,R, same or valid (nor a volume's forms)."""
        self.fails(
            2,
            f"invalid value for --padding: '{value}'; expected P, PHxPW, T,B,L,R, same or valid",
            "max",
            "photo.png",
            "-p",
            value,
        )

    def test_negative_padding(self) -> None:
        """Padding below 0."""
        self.fails(
            2,
            "invalid value for --padding: '1,1,-1,0'; padding must not be negative",
            "max",
            "photo.png",
            "--padding",
            "1,1,-1,0",
        )

    @pytest.mark.parametrize("value", ["wrap", "nan", ""])
    def test_unknown_pad_mode(self, value: str) -> None:
        """A pad mode that is neither a name nor a number."""
        self.fails(
            2,
            f"invalid value for --pad-mode: '{value}'; "
            "expected ignore, zero, edge, reflect or a number",
            "max",
            "photo.png",
            "--pad-mode",
            value,
        )

    @pytest.mark.parametrize("value", ["jpg", "JPG", "Jpeg"])
    def test_format_takes_aliases_in_any_case(self, value: str) -> None:
        """--format jpg (any case) means jpeg."""
        result = run("max", "photo.bmp", "--format", value, "-q")
        assert result.exit_code == 0, result.stderr
        with Image.open(self.folder / "photo.max.jpg") as img:
            assert img.format == "JPEG"

    def test_unknown_format(self) -> None:
        """A --format poolcli cannot write."""
        self.fails(
            2,
            "invalid value for --format: 'sgi'; expected png, jpeg, webp, tiff, gif, npy, csv, "
            "bmp, ppm, tga, ico, pcx, zarr or ome-zarr",
            "max",
            "photo.png",
            "--format",
            "sgi",
        )

    def test_quality_out_of_range(self) -> None:
        """--quality outside 1..100."""
        self.fails(
            2,
            "invalid value for --quality: 0 is not in the range 1<=x<=100",
            "max",
            "photo.png",
            "--quality",
            "0",
        )

    def test_output_in_a_folder_that_is_a_file(self) -> None:
        """An output in a folder that cannot be made: a file is in the way (a missing folder
        is made, since issue 11)."""
        self.fails(
            1,
            f"{os.path.join('lecture.csv', 'out.png')}: cannot create folder lecture.csv: "
            "file exists",
            "max",
            "photo.png",
            "-o",
            os.path.join("lecture.csv", "out.png"),
        )

    def test_output_extension_unknown(self) -> None:
        """An output name whose extension names no format: a usage error (issue 11)."""
        self.fails(
            2,
            "out.xyz: cannot tell the output format from the name; "
            "use --format png|jpeg|webp|tiff|gif|npy",
            "max",
            "photo.png",
            "-o",
            "out.xyz",
        )

    def test_input_format_that_cannot_be_written_back(self) -> None:
        """An SGI input with no --format: its default output name names no format."""
        self.fails(
            1,
            "photo.max.sgi: cannot tell the output format from the name; "
            "use --format png|jpeg|webp|tiff|gif|npy",
            "max",
            "photo.sgi",
        )

    def test_output_format_cannot_hold_the_mode(self) -> None:
        """RGBA written as JPEG."""
        self.fails(
            1,
            "out.jpg: JPEG cannot hold RGBA images; write .png or .tiff",
            "max",
            "rgba.png",
            "-o",
            "out.jpg",
        )

    @pytest.mark.parametrize("output", ["photo.png", "./photo.png", "sub/../photo.png"])
    def test_output_is_the_input(self, output: str) -> None:
        """-o naming the input itself."""
        (self.folder / "sub").mkdir()
        before = (self.folder / "photo.png").read_bytes()
        self.fails(
            2,
            "refusing to write over the input photo.png; choose another --output",
            "max",
            "photo.png",
            "-o",
            output,
        )
        assert (self.folder / "photo.png").read_bytes() == before

    @pytest.mark.parametrize("name", ["lecture.csv", "photo.sgi"])
    def test_dash_output_without_a_format_to_infer(self, name: str) -> None:
        """-o - when neither --format nor the input tells the format."""
        self.fails(
            2, "-o - needs --format (png, jpeg, webp, tiff, gif, npy)", "max", name, "-o", "-"
        )

    def test_stdin_without_a_format_to_infer(self) -> None:
        """An SGI picture on standard input, written to standard output."""
        self.fails(
            2,
            "standard output needs --format (png, jpeg, webp, tiff, gif, npy) for a SGI input, "
            "or give -o FILE",
            "max",
            "-",
            input=png_bytes(PHOTO, "SGI"),
        )

    def test_stdin_with_output_folder(self) -> None:
        """-o DIR cannot name the output of standard input."""
        (self.folder / "out").mkdir()
        self.fails(
            2,
            "-o out is a folder; standard input needs -o FILE or -o -",
            "max",
            "-",
            "-o",
            "out",
            input=png_bytes(PHOTO),
        )

    def test_several_inputs_with_one_output_file(self) -> None:
        """Several inputs need -o FOLDER (tests/test_cli_batch.py has the batches)."""
        (self.folder / "out.png").write_bytes(b"old")
        self.fails(
            2,
            "-o out.png is a file; with several inputs -o names a folder",
            "max",
            "photo.png",
            "lecture.csv",
            "-o",
            "out.png",
        )

    def test_no_input(self) -> None:
        """No INPUT at all."""
        self.fails(2, "missing argument 'INPUT'; see 'poolcli max --help'", "max")

    def test_unknown_option(self) -> None:
        """An option no command has."""
        self.fails(
            2, "no such option '--xyzzy'; see 'poolcli max --help'", "max", "photo.png", "--xyzzy"
        )

    def test_unknown_option_with_a_suggestion(self) -> None:
        """An option no command has, near one this command has: click's suggestion reads on."""
        self.fails(
            2,
            "no such option '--bogus' (did you mean '--jobs'?); see 'poolcli max --help'",
            "max",
            "photo.png",
            "--bogus",
        )

    def test_misspelt_option_with_two_suggestions(self) -> None:
        """Two near names: both suggested, in order."""
        self.fails(
            2,
            "no such option '--qualty' (did you mean '--quality' or '--quiet'?); "
            "see 'poolcli max --help'",
            "max",
            "photo.png",
            "--qualty",
        )

    def test_unknown_command(self) -> None:
        """An op poolcli does not have."""
        self.fails(2, "no such command 'blur'; see 'poolcli --help'", "blur", "photo.png")

    def test_misspelt_command(self) -> None:
        """An op near one poolcli has."""
        self.fails(
            2,
            "no such command 'mxa' (did you mean 'max'?); see 'poolcli --help'",
            "mxa",
            "photo.png",
        )


# ---------------------------------------------------------------------------------------------
# The installed program


def poolcli_command() -> list[str]:
    """The installed console script, else the module (never a skip)."""
    script = shutil.which("poolcli")
    return [script] if script else [sys.executable, "-m", "poolcli"]


def test_console_script_pools_a_file(folder: Path) -> None:
    done = subprocess.run(
        [*poolcli_command(), "max", "photo.png", "-k", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "poolcli: wrote photo.max.png (4x4 -> 2x2)\n"
    assert pixels(folder / "photo.max.png").tolist() == POOLED["max"]


def test_console_script_fails_with_one_line(folder: Path) -> None:
    done = subprocess.run(
        [*poolcli_command(), "avg", "missing.png"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "poolcli: missing.png: no such file\n",
    )


def test_python_m_poolcli_pipes_bytes(folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "poolcli", "max", "-", "-o", "-", "--report"],
        input=(folder / "photo.png").read_bytes(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert pixels(done.stdout).tolist() == POOLED["max"]
    assert done.stderr.decode().startswith("input         <stdin>\n")


@pytest.mark.parametrize(
    "code",
    [
        "import poolcli.cli",
        "from poolcli.cli import main; main(['--help'], prog_name='poolcli')",
        "from poolcli.cli import main; main(['max', '--help'], prog_name='poolcli')",
    ],
    ids=["import", "help", "command-help"],
)
def test_help_does_not_import_numpy_or_pillow(code: str) -> None:
    check = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(' '.join(sorted("
        "m for m in ('numpy', 'PIL') if m in sys.modules))))\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


# ---------------------------------------------------------------------------------------------
# Images: alpha, frames, orientation, metadata, compare


def rgba_png(path: Path) -> None:
    """Opaque red beside fully transparent green, 1 x 2."""
    Image.fromarray(np.array([[[255, 0, 0, 255], [0, 255, 0, 0]]], np.uint8)).save(path)


def animated_gif(path: Path) -> None:
    frames = []
    for k in range(3):
        index = np.zeros((8, 8), np.uint8)
        index[:, 2 * k : 2 * k + 2] = 1
        frame = Image.fromarray(index, mode="P")
        frame.putpalette([0, 0, 0, 255, 255, 255])
        frames.append(frame)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[50, 60, 70], loop=0)


@pytest.mark.parametrize(
    ("args", "expected"),
    [([], [255, 0, 0, 128]), (["--alpha", "straight"], [128, 128, 0, 128])],
    ids=["premultiply", "straight"],
)
def test_alpha_option(folder: Path, args: list[str], expected: list[int]) -> None:
    rgba_png(folder / "rgba.png")
    result = run("avg", "rgba.png", "-k", "1x2", *args)
    assert result.exit_code == 0, result.stderr
    assert pixels(folder / "rgba.avg.png").tolist() == [[expected]]


def test_animated_gif_keeps_its_frames(folder: Path) -> None:
    animated_gif(folder / "anim.gif")
    result = run("max", "anim.gif")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "poolcli: wrote anim.max.gif (8x8 -> 4x4)\n"
    with Image.open(folder / "anim.max.gif") as img:
        assert (img.n_frames, img.info["loop"]) == (3, 0)
        durations = []
        for k in range(3):
            img.seek(k)
            durations.append(img.info["duration"])
            assert np.flatnonzero(np.asarray(img.convert("L")).max(axis=0)).tolist() == [k]
        assert durations == [50, 60, 70]


def test_frames_to_jpeg_fails_naming_the_fix(folder: Path) -> None:
    animated_gif(folder / "anim.gif")
    result = run("max", "anim.gif", "-o", "anim.jpg")
    assert result.exit_code == 1
    assert result.stderr == (
        "poolcli: anim.jpg: JPEG holds one frame, not 3; pick one with --frame K or write a "
        "format that holds frames (.gif, .webp, .png, .tiff)\n"
    )
    assert not (folder / "anim.jpg").exists()


def test_frame_option_picks_one(folder: Path) -> None:
    animated_gif(folder / "anim.gif")
    result = run("max", "anim.gif", "--frame", "2", "-o", "two.jpg")
    assert result.exit_code == 0, result.stderr
    out = pixels(folder / "two.jpg")
    assert out.shape == (4, 4, 3)
    assert out[:, 2].min() > 200 and np.delete(out, 2, axis=1).max() < 60  # frame 2's bar
    result = run("max", "anim.gif", "--frame", "3")
    assert result.exit_code == 1
    assert result.stderr == "poolcli: anim.gif: has no frame 3: it has 3 frames (0 to 2)\n"


def test_no_auto_orient(folder: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((4, 8), np.uint8)).save(folder / "o.png", exif=exif)
    assert run("max", "o.png").stderr == "poolcli: wrote o.max.png (8x4 -> 4x2)\n"
    result = run("max", "o.png", "--no-auto-orient", "-o", "raw.png")
    assert result.stderr == "poolcli: wrote raw.png (4x8 -> 2x4)\n"
    with Image.open(folder / "raw.png") as img:
        assert img.size == (4, 2) and img.getexif()[0x0112] == 6


def test_dpi_follows_the_stride_and_strip_drops_metadata(folder: Path) -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
        folder / "m.png", dpi=(300, 300), icc_profile=profile
    )
    assert run("avg", "m.png", "-k", "3", "-s", "2").exit_code == 0
    with Image.open(folder / "m.avg.png") as img:
        assert img.info["dpi"] == pytest.approx((150, 150), abs=0.05)
        assert img.info["icc_profile"] == profile
    assert run("avg", "m.png", "--strip", "-o", "bare.png").exit_code == 0
    with Image.open(folder / "bare.png") as img:
        assert "dpi" not in img.info and "icc_profile" not in img.info


def test_quality_help_gives_the_default() -> None:
    assert "JPEG and WebP quality. [default: 90]" in " ".join(run("max", "--help").stdout.split())


def test_compare_writes_stem_compare_png(folder: Path) -> None:
    Image.fromarray(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)).save(folder / "g.png")
    result = run("compare", "g.png", "-k", "4")
    assert result.exit_code == 0, result.stderr
    with Image.open(folder / "g.compare.png") as img:
        assert img.mode == "L" and img.height > 256 and img.width > 4 * 256
        size = img.size
    assert result.stderr == f"poolcli: wrote g.compare.png ({size[1]}x{size[0]})\n"
    assert result.stdout == ""


def test_compare_to_a_named_file_and_to_stdout(folder: Path) -> None:
    rgba_png(folder / "rgba.png")
    assert run("compare", "rgba.png", "-k", "1x2", "-o", "c.webp").exit_code == 0
    with Image.open(folder / "c.webp") as img:
        assert img.format == "WEBP"
    result = run("compare", "rgba.png", "-k", "1x2", "-o", "-")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout_bytes.startswith(b"\x89PNG")


class TestCompareFailures:
    def test_window_larger_than_the_image(self, folder: Path) -> None:
        result = run("compare", "photo.png", "-k", "5")
        assert result.exit_code == 1
        assert result.stderr.startswith("poolcli: photo.png: window 5 is larger than")
        assert not (folder / "photo.compare.png").exists()

    def test_stdin_needs_an_output(self, folder: Path) -> None:
        result = run("compare", "-", input=png_bytes(PHOTO))
        assert result.exit_code == 2
        assert result.stderr == "poolcli: standard input needs -o FILE or -o - for the picture\n"

    def test_refuses_to_write_over_the_input(self, folder: Path) -> None:
        result = run("compare", "photo.png", "-o", "photo.png")
        assert result.exit_code == 2
        assert result.stderr == (
            "poolcli: refusing to write over the input photo.png; choose another --output\n"
        )

    def test_missing_input(self, folder: Path) -> None:
        result = run("compare", "nope.png")
        assert (result.exit_code, result.stderr) == (1, "poolcli: nope.png: no such file\n")
