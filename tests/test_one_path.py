"""Every command through one path: plain-data jobs that travel, and info, global and compare
over globs and folders as the pooling commands take them."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import pixels, run
from PIL import Image

import poolcli
from poolcli.batch.jobs import Job, Status, Target
from poolcli.batch.plan import plan
from poolcli.batch.process import process
from poolcli.batch.recipe import LoadOptions, Recipe, SaveOptions
from poolcli.core.geometry import Window
from poolcli.imaging.tasks import (
    AdaptivePooling,
    Comparison,
    FractionalPooling,
    GlobalPooling,
    Inspection,
    Pooling,
)

CHILD = """
import pickle, sys
from poolcli.batch.process import process
job, recipe = pickle.loads(sys.stdin.buffer.read())
sys.stdout.buffer.write(pickle.dumps(process(job, recipe)))
"""


@pytest.fixture
def photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """photos/ with a.png (RGB), b.png (RGBA) and sub/c.jpg, each 12x8 of distinct values."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(7)
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 256, (8, 12, 4), dtype=np.uint8), "RGBA").save(folder / "b.png")
    Image.fromarray(rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)).save(folder / "sub/c.jpg")
    return folder


RECIPES = {
    "max": Recipe(Pooling("max", Window.of(size=3, stride=2, padding="same")), report="json"),
    "avg-straight": Recipe(
        Pooling("avg", Window.of(size=2), alpha="straight"), save=SaveOptions(strip=True)
    ),
    "lp": Recipe(Pooling("lp", Window.of(size=(2, 3), pad_mode="edge"), p=3.0)),
    "adaptive": Recipe(AdaptivePooling("max", (3, 5)), report="text"),
    "fractional": Recipe(FractionalPooling((2, 2), (5, 7), None, seed=11)),
    "global": Recipe(GlobalPooling("avg"), report="json"),
    "compare": Recipe(Comparison(Window.of(size=2)), default_format="png"),
    "limited": Recipe(Pooling("max"), load=LoadOptions(max_pixels=10)),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_pickled_job_runs_the_same_in_a_child_process(photos: Path, name: str) -> None:
    """The job and recipe travel as bytes; the child writes the same file and tells the same
    outcome as this process does."""
    recipe = RECIPES[name]
    here = Job(0, str(photos / "b.png"), "b.png", Target(str(photos / "here.png")))
    there = Job(0, str(photos / "b.png"), "b.png", Target(str(photos / "there.png")))
    assert pickle.loads(pickle.dumps((there, recipe))) == (there, recipe)
    local = process(here, recipe)
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=pickle.dumps((there, recipe)),
        capture_output=True,
        check=True,
    )
    remote = pickle.loads(child.stdout)
    assert remote.status == local.status
    if local.status is Status.FAILED:
        assert (
            remote.error
            == local.error
            == f"{photos / 'b.png'}: image has 96 pixels, more than the limit of 10; raise it "
            "with max_pixels"
        )
        return
    assert remote.report == (
        None if local.report is None else local.report.replace("here", "there")
    )
    assert (photos / "there.png").read_bytes() == (photos / "here.png").read_bytes()


def test_a_one_input_job_decides_its_target_in_the_child(photos: Path) -> None:
    """A job planned without a target carries the -o and --format it needs."""
    (job,) = plan([str(photos / "a.png")], op="max", output=str(photos / "out.webp")).jobs
    assert job.target is None
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=pickle.dumps((job, Recipe(Pooling("max")))),
        capture_output=True,
        check=True,
    )
    outcome = pickle.loads(child.stdout)
    assert (outcome.status, outcome.output) == (Status.DONE, str(photos / "out.webp"))
    with Image.open(photos / "out.webp") as img:
        assert (img.format, img.size) == ("WEBP", (6, 4))


def test_inspection_is_a_job_too(photos: Path) -> None:
    recipe = Recipe(Inspection(Window.of(size=4)), report="json")
    outcome = process(Job(0, str(photos / "a.png"), "a.png", writes=False), recipe)
    report = json.loads(outcome.report or "")
    assert (report["shape"], report["output_shape"]) == ([1, 3, 8, 12], [1, 3, 2, 3])


# ---------------------------------------------------------------------------------------------
# info, global and compare take what the pooling commands take


@pytest.mark.parametrize("inputs", [["photos/*.png"], ["photos"]], ids=["glob", "folder"])
def test_info_over_a_glob_or_a_folder(photos: Path, inputs: list[str]) -> None:
    result = run("info", *inputs, "--report", "json")
    assert result.exit_code == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in reports] == ["photos/a.png", "photos/b.png"]
    assert [r["mode"] for r in reports] == ["RGB", "RGBA"]


def test_info_descends_with_r_and_reads_a_list(photos: Path) -> None:
    result = run("info", "photos", "-r")
    assert result.exit_code == 0
    assert [line for line in result.stdout.splitlines() if line.startswith("input")] == [
        "input         photos/a.png",
        "input         photos/b.png",
        "input         photos/sub/c.jpg",
    ]
    listed = run("info", "--files-from", "-", "--report", "json", input="photos/sub/c.jpg\n")
    assert json.loads(listed.stdout)["format"] == "JPEG"


@pytest.mark.parametrize("inputs", [["photos/*.png"], ["photos"]], ids=["glob", "folder"])
def test_global_over_a_glob_or_a_folder(photos: Path, inputs: list[str]) -> None:
    result = run("global", *inputs, "--op", "max")
    assert result.exit_code == 0, result.stderr
    expected = []
    for name in ("a.png", "b.png"):
        image, info = poolcli.load_image(photos / name)
        values = poolcli.global_pool(image, "max")[0, :, 0, 0]
        labels = "RGBA"[: len(values)]
        pairs = " ".join(f"{c}={v}" for c, v in zip(labels, values, strict=True))
        expected.append(f"photos/{name}: max {pairs}")
    assert result.stdout.splitlines() == expected
    assert result.stderr == ""


def test_global_writes_a_folder_of_results(photos: Path) -> None:
    result = run("global", "photos", "-r", "-o", "means", "-q")
    assert result.exit_code == 0, result.stderr
    written = sorted(str(p.relative_to("means")) for p in Path("means").rglob("*.*"))
    assert written == ["a.global.png", "b.global.png", "sub/c.global.jpg"]
    assert pixels(Path("means/a.global.png")).shape == (1, 1, 3)


@pytest.mark.parametrize("inputs", [["photos/*.png"], ["photos"]], ids=["glob", "folder"])
def test_compare_over_a_glob_or_a_folder(photos: Path, inputs: list[str]) -> None:
    result = run("compare", *inputs, "-k", "2", "-o", "pictures")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "poolcli: 2 done, 0 skipped, 0 failed\n"
    for name in ("a", "b"):
        with Image.open(Path("pictures") / f"{name}.compare.png") as img:
            assert img.format == "PNG" and img.width > 4 * 12


def test_compare_goes_on_past_a_bad_input(photos: Path) -> None:
    (photos / "bad.png").write_bytes(b"not an image")
    result = run("compare", "photos/*.png", "-o", "pictures")
    assert result.exit_code == 1
    assert result.stderr == (
        "poolcli: photos/bad.png: cannot identify image file\n"
        "poolcli: 2 done, 0 skipped, 1 failed\n"
    )


def test_info_and_global_say_that_a_glob_found_nothing(photos: Path) -> None:
    for command in ("info", "global"):
        result = run(command, "photos/*.tif")
        assert result.exit_code == 1
        assert result.stderr == "poolcli: photos/*.tif: no images found\n"


@pytest.mark.parametrize("op", ["max", "median"])
def test_standard_input_past_the_limits_worth_of_bytes_is_refused(op: str) -> None:
    """Either way (Pillow alone for max, numpy for median), standard input is read no further
    than an image under the pixel limit could take."""
    result = run(
        op, "-", "--max-pixels", "1", "-o", "-", "--format", "png", input=b"\0" * (17 << 20)
    )
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert result.stderr.startswith("poolcli: <stdin>: more than 16777216 bytes")
    assert result.stderr.endswith("raise it with --max-pixels\n")


def test_one_pooling_command_builds_no_other_command() -> None:
    """Commands are built when asked for: `poolcli max` pays for no other command's options."""
    code = (
        "import sys, click\n"
        "from poolcli.cli import main\n"
        "assert main.get_command(click.Context(main), 'max') is not None\n"
        "print(sorted(main.commands), 'poolcli.cli.family' in sys.modules)\n"
    )
    built = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert built.stdout == "['max'] False\n"
