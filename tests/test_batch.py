"""Tests of poolcli.batch as a library: finding inputs, naming outputs, running jobs, stopping."""

from __future__ import annotations

import errno
import io
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from poolcli.batch import discovery, naming, runner
from poolcli.batch.console import Console
from poolcli.batch.jobs import Job, Plan, PlanError, Status, Summary, Target
from poolcli.batch.plan import plan as make_plan
from poolcli.batch.process import process
from poolcli.batch.recipe import Recipe
from poolcli.core import engine
from poolcli.core.geometry import Window
from poolcli.errors import OutputError
from poolcli.imaging.tasks import AdaptivePooling, Pooling
from poolcli.io import atomic
from poolcli.io import images as imageio


def save(path: Path, value: int = 0, size: tuple[int, int] = (4, 4)) -> Path:
    """A small RGB image whose pixels count up from ``value``: each file's content differs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (np.arange(size[0] * size[1] * 3).reshape(*size, 3) + value) % 256
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def names(plan: Plan) -> list[str]:
    return [job.name for job in plan.jobs]


def outputs(plan: Plan, folder: Path) -> list[str]:
    return [os.path.relpath(job.target.path, folder) for job in plan.jobs if job.target]


def pool_max(array: np.ndarray, info: Any) -> np.ndarray:
    return engine.pool(array, "max", size=2)


@dataclass(frozen=True)
class CallbackPooling(Pooling):
    """max 2x2 whose pooling is ``callback(array, info)``: to act in the middle of a job."""

    callback: Callable[[np.ndarray, Any], np.ndarray] = pool_max

    def apply(self, array: Any, info: Any, max_pixels: int | None = None) -> Any:
        return self.callback(array, info)

    def quick(self) -> None:
        return None  # the callback must see every input


def recipe(pool: Callable[[np.ndarray, Any], np.ndarray] | None = None, **changes: Any) -> Recipe:
    task = (
        Pooling("max", Window.of(size=2))
        if pool is None
        else CallbackPooling("max", Window.of(size=2), callback=pool)
    )
    return Recipe(task, **changes)


def run(planned: Plan, recipe: Recipe, console: Console, workers: int | None = None) -> Summary:
    return runner.run(planned, recipe, console, runner=runner.ThreadRunner(workers))


class Lines:
    """A Console that keeps what it prints."""

    def __init__(self, **options: Any) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.console = Console(echo=self.echo, **options)

    def echo(self, text: str, err: bool) -> None:
        (self.err if err else self.out).append(text)


@pytest.fixture
def photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder, with photos/: a.png, b.jpg, sub/c.png, sub/deeper/d.png,
    notes.txt, and hidden .e.png and .cache/f.png."""
    monkeypatch.chdir(tmp_path)
    folder = Path("photos")
    save(folder / "a.png", 1)
    save(folder / "b.jpg", 2)
    save(folder / "sub" / "c.png", 3)
    save(folder / "sub" / "deeper" / "d.png", 4)
    save(folder / ".e.png", 5)
    save(folder / ".cache" / "f.png", 6)
    (folder / "notes.txt").write_text("1 2\n3 4\n")
    return folder


# ---------------------------------------------------------------------------------------------
# Which files are images


def test_image_extensions_are_what_pillow_opens_and_npy() -> None:
    extensions = discovery.image_extensions()
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".gif", ".bmp", ".npy"} <= extensions
    assert not {".txt", ".csv", ".pdf", ".h5", ".mpg", ".py"} & extensions
    assert all(ext == ext.lower() and ext.startswith(".") for ext in extensions)


def test_extensions_match_in_any_case(tmp_path: Path) -> None:
    save(tmp_path / "UPPER.PNG")
    save(tmp_path / "Mixed.JpG")
    assert [Path(name).name for name in names(make_plan([str(tmp_path)], op="max"))] == [
        "Mixed.JpG",
        "UPPER.PNG",
    ]


# ---------------------------------------------------------------------------------------------
# Folders


def test_one_file_is_not_a_batch(photos: Path) -> None:
    plan = make_plan(["photos/a.png"], op="max", output="x.png")
    assert not plan.batch
    assert plan.jobs == (Job(0, "photos/a.png", "photos/a.png", output="x.png"),)


def test_standard_input_is_named_stdin() -> None:
    assert make_plan(["-"], op="max").jobs == (Job(0, "-", "<stdin>"),)


def test_folder_gives_its_own_images_in_name_order(photos: Path) -> None:
    plan = make_plan(["photos"], op="max")
    assert plan.batch
    assert names(plan) == ["photos/a.png", "photos/b.jpg"]
    assert outputs(plan, Path()) == ["photos/a.max.png", "photos/b.max.jpg"]


def test_recursive_folder_mirrored_below_the_output_folder(photos: Path) -> None:
    plan = make_plan(["photos"], op="max", output="small", recursive=True)
    assert names(plan) == [
        "photos/a.png",
        "photos/b.jpg",
        "photos/sub/c.png",
        "photos/sub/deeper/d.png",
    ]
    assert outputs(plan, Path("small")) == ["a.png", "b.jpg", "sub/c.png", "sub/deeper/d.png"]
    assert plan.output_folder == "small"


def test_format_changes_the_mirrored_extension(photos: Path) -> None:
    plan = make_plan(["photos"], op="max", output="small", format="jpeg")
    assert outputs(plan, Path("small")) == ["a.jpg", "b.jpg"]


def test_extension_that_cannot_be_written_becomes_the_formats_own(tmp_path: Path) -> None:
    save(tmp_path / "x.apng")
    save(tmp_path / "y.bmp")
    plan = make_plan([str(tmp_path)], op="avg", output=str(tmp_path / "out"))
    assert outputs(plan, tmp_path / "out") == ["x.png", "y.bmp"]  # BMP: written as BMP


def test_loose_files_keep_only_their_names(photos: Path) -> None:
    plan = make_plan(["photos/a.png", "photos/sub/c.png"], op="max", output="small")
    assert outputs(plan, Path("small")) == ["a.png", "c.png"]


def test_empty_folder_is_a_job_that_fails(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no pictures here")
    plan = make_plan([str(tmp_path / "empty")], op="max")
    assert plan.found == 0
    assert plan.jobs[0].error == "no images found"


def test_symlink_loop_is_not_followed(photos: Path) -> None:
    os.symlink("..", "photos/sub/loop")
    os.symlink(os.path.abspath("photos"), "photos/sub/deeper/back")
    plan = make_plan(["photos"], op="max", recursive=True, output="small")
    assert len(plan.jobs) == 4
    plan = make_plan(["photos/**/*.png"], op="max")
    assert names(plan) == ["photos/a.png", "photos/sub/c.png", "photos/sub/deeper/d.png"]


def test_link_to_a_file_is_an_input(photos: Path) -> None:
    os.symlink(os.path.abspath("photos/a.png"), "photos/sub/link.png")
    assert "photos/sub/link.png" not in names(make_plan(["photos"], op="max", recursive=True))
    # The same file twice is one job: the link found after its target is left out.
    os.remove("photos/sub/link.png")
    os.symlink(os.path.abspath("photos/sub/c.png"), "photos/b-link.png")
    assert names(make_plan(["photos"], op="max", recursive=True, output="o")) == [
        "photos/a.png",
        "photos/b-link.png",
        "photos/b.jpg",
        "photos/sub/deeper/d.png",
    ]


def test_unreadable_subfolder_is_a_failed_job(
    photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scandir = os.scandir

    def refuse(path: Any = ".") -> Any:
        if str(path).endswith("deeper"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(discovery.os, "scandir", refuse)
    plan = make_plan(["photos"], op="max", recursive=True, output="o")
    assert [(job.name, job.error) for job in plan.jobs][-1] == (
        "photos/sub/deeper",
        "permission denied",
    )


# ---------------------------------------------------------------------------------------------
# Globs


def test_recursive_glob_mirrors_below_its_base(photos: Path) -> None:
    plan = make_plan(["photos/**/*.png"], op="max", output="small")
    assert names(plan) == ["photos/a.png", "photos/sub/c.png", "photos/sub/deeper/d.png"]
    assert outputs(plan, Path("small")) == ["a.png", "sub/c.png", "sub/deeper/d.png"]


def test_glob_one_level(photos: Path) -> None:
    assert names(make_plan(["photos/*/*.png"], op="max")) == ["photos/sub/c.png"]
    assert names(make_plan(["photos/[ab].*"], op="max")) == ["photos/a.png", "photos/b.jpg"]


def test_glob_skips_hidden_names_unless_the_pattern_starts_with_a_dot(photos: Path) -> None:
    assert names(make_plan(["photos/.*.png"], op="max")) == ["photos/.e.png"]
    assert "photos/.e.png" not in names(make_plan(["photos/*.png"], op="max"))


def test_glob_keeps_images_unless_it_names_the_extension(photos: Path) -> None:
    assert names(make_plan(["photos/*"], op="max")) == ["photos/a.png", "photos/b.jpg"]
    assert names(make_plan(["photos/*.txt"], op="max")) == ["photos/notes.txt"]


def test_glob_matching_nothing_is_a_job_that_fails(photos: Path) -> None:
    plan = make_plan(["photos/*.tif", "photos/a.png"], op="max")
    assert [(job.name, job.error) for job in plan.jobs] == [
        ("photos/*.tif", "no images found"),
        ("photos/a.png", None),
    ]


def test_a_file_named_like_a_glob_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    save(tmp_path / "a[1].png")
    plan = make_plan(["a[1].png"], op="max")
    assert not plan.batch and names(plan) == ["a[1].png"]


# ---------------------------------------------------------------------------------------------
# Lists of paths


def test_files_from_lines_and_nul(photos: Path) -> None:
    Path("list.txt").write_text("photos/a.png\r\n\nphotos/sub/c.png\nphotos/sub\n")
    plan = make_plan([], op="max", files_from="list.txt", output="small")
    assert names(plan) == ["photos/a.png", "photos/sub/c.png"]  # the folder is passed over
    assert outputs(plan, Path("small")) == ["photos/a.png", "photos/sub/c.png"]
    stdin = io.BytesIO(b"photos/b.jpg\0" + os.fsencode(os.path.abspath("photos/a.png")) + b"\0")
    plan = make_plan([], op="max", files_from="-", null=True, stdin=stdin, output="small")
    assert names(plan) == ["photos/b.jpg", os.path.abspath("photos/a.png")]
    assert outputs(plan, Path("small")) == ["photos/b.jpg", "a.png"]


def test_files_from_a_missing_list(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"^--files-from nope.txt: no such file or folder$"):
        make_plan([], op="max", files_from="nope.txt")


def test_empty_list_finds_nothing() -> None:
    plan = make_plan([], op="max", files_from="-", stdin=io.BytesIO(b""))
    assert [(job.name, job.error) for job in plan.jobs] == [("<stdin>", "no images found")]


# ---------------------------------------------------------------------------------------------
# Outputs that must not be written


def test_two_inputs_to_one_output(photos: Path) -> None:
    save(Path("photos/a.jpg"))
    with pytest.raises(PlanError) as caught:
        make_plan(["photos"], op="max", output="small", format="png")
    assert str(caught.value) == (
        f"photos/a.jpg and photos/a.png would both be written to {os.path.join('small', 'a.png')}"
        "; rename one, or give them different output folders"
    )


def test_output_folder_inside_a_folder_searched(photos: Path) -> None:
    message = (
        "-o photos/sub/small is inside photos, which is searched for images; "
        "choose an output folder outside it"
    )
    with pytest.raises(PlanError, match=f"^{message}$"):
        make_plan(["photos"], op="max", output="photos/sub/small", recursive=True)
    with pytest.raises(PlanError, match="^-o photos is inside photos"):
        make_plan(["photos"], op="max", output="photos")
    with pytest.raises(PlanError, match="^-o photos/x is inside photos"):
        make_plan(["photos/**/*.png"], op="max", output="photos/x")
    # Not searched below its own level: a subfolder is fine.
    assert make_plan(["photos"], op="max", output="photos/small").found == 2


def test_output_over_an_input_named_directly(photos: Path) -> None:
    save(Path("photos/a.max.png"))
    with pytest.raises(PlanError) as caught:
        make_plan(["photos/a.png", "photos/a.max.png"], op="max")
    assert str(caught.value) == (
        "refusing to write over the input photos/a.max.png (the output of photos/a.png); "
        "choose another --output"
    )
    with pytest.raises(PlanError, match="^refusing to write over the input photos/a.png;"):
        make_plan(["photos/a.png"], op="max", output="photos/a.png")
    with pytest.raises(PlanError, match="^refusing to write over the input photos/a.png;"):
        make_plan(["photos/a.png", "photos/b.jpg"], op="max", output="photos", format="png")


def test_earlier_outputs_found_in_a_folder_are_left_out(photos: Path) -> None:
    save(Path("photos/a.max.png"))
    save(Path("photos/b.max.jpg"))
    assert names(make_plan(["photos"], op="max")) == ["photos/a.png", "photos/b.jpg"]


def test_an_input_named_twice_is_one_job(photos: Path) -> None:
    plan = make_plan(["photos/a.png", "photos", "./photos/a.png"], op="max", output="o")
    assert names(plan) == ["photos/a.png", "photos/b.jpg"]


@pytest.mark.parametrize(
    ("inputs", "options", "message"),
    [
        (["-", "photos/a.png"], {}, "- (standard input) must be the only INPUT"),
        (["-"], {"files_from": "list.txt"}, "- (standard input) must be the only INPUT"),
        (["photos"], {"output": "-"}, "-o - writes one image; give one INPUT file, or -o FOLDER"),
        (
            ["photos/a.png", "photos/b.jpg"],
            {"output": "photos/a.png"},
            "-o photos/a.png is a file; with several inputs -o names a folder",
        ),
    ],
)
def test_batches_that_cannot_start(
    photos: Path, inputs: list[str], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(PlanError) as caught:
        make_plan(inputs, op="max", **options)
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------------
# One job


def job_for(path: str, out: str) -> Job:
    return Job(0, path, path, Target(out), make_folder=True)


def test_process_writes_and_reports(photos: Path) -> None:
    outcome = process(job_for("photos/a.png", "o/deep/a.png"), recipe(report="json"))
    assert (outcome.status, outcome.change) == (Status.DONE, "o/deep/a.png (4x4 -> 2x2)")
    assert outcome.report is not None and '"output_shape":[1,3,2,2]' in outcome.report
    with Image.open("o/deep/a.png") as img:
        assert img.size == (2, 2)


def test_process_failure_is_an_outcome(photos: Path) -> None:
    Path("photos/bad.png").write_text("not a picture")
    outcome = process(job_for("photos/bad.png", "o/bad.png"), recipe(report="json"))
    assert outcome.status is Status.FAILED
    assert outcome.error == "photos/bad.png: cannot identify image file"
    assert outcome.report == (
        '{"input":"photos/bad.png","op":"max","error":"photos/bad.png: cannot identify image file"}'
    )
    assert not Path("o").exists()


def test_process_skips_an_existing_output_without_loading(photos: Path) -> None:
    Path("o").mkdir()
    Path("o/a.png").write_bytes(b"earlier")
    outcome = process(job_for("photos/missing.png", "o/a.png"), recipe(skip_existing=True))
    assert (outcome.status, outcome.output) == (Status.SKIPPED, "o/a.png")
    assert Path("o/a.png").read_bytes() == b"earlier"


def test_process_dry_run_writes_nothing(photos: Path) -> None:
    outcome = process(job_for("photos/a.png", "o/a.png"), recipe(dry_run=True))
    assert (outcome.status, outcome.change) == (Status.DONE, "o/a.png (4x4 -> 2x2)")
    assert not Path("o").exists()


def test_process_without_a_geometry_pools_to_learn_the_output_shape(photos: Path) -> None:
    """An op that pools to a size: no window in the report; a dry run pools, writes nothing."""
    sized = Recipe(AdaptivePooling("max", (2, 2)), report="text", dry_run=True)
    outcome = process(job_for("photos/a.png", "o/a.png"), sized)
    assert (outcome.status, outcome.change) == (Status.DONE, "o/a.png (4x4 -> 2x2)")
    assert outcome.report is not None
    assert "output shape  (1, 3, 2, 2)  (N, C, H, W)" in outcome.report.splitlines()
    assert "window" not in outcome.report
    assert not Path("o").exists()


def test_note_follows_the_wrote_line_of_one_input(photos: Path) -> None:
    lines = Lines()
    planned = make_plan(["photos/a.png"], op="max", output="a.out.png")
    summary = run(planned, recipe(note="seed 7"), lines.console)
    assert summary.exit_status == 0
    assert lines.err == ["poolcli: wrote a.out.png (4x4 -> 2x2), seed 7"]


def test_target_of_one_input(photos: Path) -> None:
    """The command line's rules for where the result of one input goes."""
    png = imageio.ImageInfo("image", "PNG", "RGB", "RGB", "uint8", 1)
    bmp = imageio.ImageInfo("image", "BMP", "RGB", "RGB", "uint8", 1)
    matrix = imageio.ImageInfo("matrix", None, None, None, "int64", 1, ndim=2)
    assert naming.target("photos/a.png", png, op="max") == Target("photos/a.max.png")
    assert naming.target("photos/a.png", png, op="max", format="npy") == Target(
        "photos/a.max.npy", "npy"
    )
    assert naming.target("shot", png, op="avg", output="photos") == Target("photos/shot.avg.png")
    assert naming.target("-", png, op="max") == Target(format="png")
    assert naming.target("m.csv", matrix, op="max") == Target(matrix=True)
    assert naming.target("m.csv", matrix, op="max", output="-", format="npy") == Target(
        format="npy"
    )
    assert naming.target("a.bmp", bmp, op="max", output="-") == Target(format="bmp")
    sgi = imageio.ImageInfo("image", "SGI", "RGB", "RGB", "uint8", 1)
    with pytest.raises(PlanError, match=r"^-o - needs --format \(png, jpeg"):
        naming.target("a.sgi", sgi, op="max", output="-")
    with pytest.raises(PlanError, match="standard input needs -o FILE or -o -"):
        naming.target("-", png, op="max", output="photos")


def test_process_stops_between_steps(photos: Path) -> None:
    stop = threading.Event()
    stop.set()
    outcome = process(job_for("photos/a.png", "o/a.png"), recipe(), stop=stop)
    assert outcome.status is Status.CANCELLED
    assert not Path("o").exists()


def test_process_folder_that_cannot_be_made(photos: Path) -> None:
    Path("o").write_text("a file in the way")
    outcome = process(job_for("photos/a.png", "o/sub/a.png"), recipe())
    assert outcome.status is Status.FAILED
    assert outcome.error == "o/sub/a.png: cannot create folder o/sub: not a directory"


class FullDisk:
    """A temporary file whose writes fail as on a full disk."""

    def __init__(self, real: Any, error: int) -> None:
        self.real = real
        self.name = real.name
        self.error = error

    def write(self, data: bytes) -> int:
        raise OSError(self.error, os.strerror(self.error))

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def full_disk(monkeypatch: pytest.MonkeyPatch, failing: str, error: int = errno.ENOSPC) -> None:
    """Writes of outputs named ``failing`` fail with ``error``."""
    real = atomic.tempfile.NamedTemporaryFile

    def named_temporary_file(*args: Any, **kwargs: Any) -> Any:
        tmp = real(*args, **kwargs)
        return FullDisk(tmp, error) if f".{failing}." in tmp.name else tmp

    monkeypatch.setattr(atomic.tempfile, "NamedTemporaryFile", named_temporary_file)


def test_process_disk_full_leaves_no_file(photos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full_disk(monkeypatch, "a.png")
    outcome = process(job_for("photos/a.png", "o/a.png"), recipe())
    assert outcome.status is Status.FAILED
    assert outcome.error == "o/a.png: no space left on device"
    assert os.listdir("o") == []


# ---------------------------------------------------------------------------------------------
# Runs


def run_folder(workers: int, output: str, **options: Any) -> tuple[Summary, Lines]:
    lines = Lines()
    plan = make_plan(["photos"], op="max", output=output, recursive=True)
    summary = run(plan, recipe(**options), lines.console, workers=workers)
    return summary, lines


def tree(folder: str) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(Path(folder).rglob("*"))
        if path.is_file()
    }


def test_results_do_not_depend_on_the_workers(photos: Path) -> None:
    Path("photos/bad.png").write_text("not a picture")
    results = []
    for workers in (1, 2, 5):
        summary, lines = run_folder(workers, f"out{workers}", report="json")
        assert (summary.done, summary.skipped, summary.failed, summary.exit_status) == (4, 0, 1, 1)
        reports = [line.replace(f'"out{workers}/', '"out/') for line in lines.out]
        results.append((tree(f"out{workers}"), reports, lines.err))
    assert results[0] == results[1] == results[2]
    assert len(results[0][0]) == 4
    assert results[0][2] == [
        "poolcli: photos/bad.png: cannot identify image file",
        "poolcli: 4 done, 0 skipped, 1 failed",
    ]


def test_outcomes_print_in_input_order_when_they_finish_out_of_order(photos: Path) -> None:
    def slow_first(array: np.ndarray, info: Any) -> np.ndarray:
        if int(array[0, 0, 0, 0]) == 1:  # photos/a.png
            time.sleep(0.3)
        return pool_max(array, info)

    summary, lines = run_folder(4, "out", pool=slow_first, report="json")
    assert summary.done == 4
    assert [line.split('"')[3] for line in lines.out] == [
        "photos/a.png",
        "photos/b.jpg",
        "photos/sub/c.png",
        "photos/sub/deeper/d.png",
    ]


def test_jobs_in_flight_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(40):
        save(tmp_path / "many" / f"{index:02d}.png", index)
    most = 0
    outstanding = 0
    lock = threading.Lock()

    class Counting(runner.ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            nonlocal most, outstanding

            def finished(_: Any) -> None:
                nonlocal outstanding
                with lock:
                    outstanding -= 1

            with lock:
                outstanding += 1
                most = max(most, outstanding)
            future = super().submit(*args, **kwargs)
            future.add_done_callback(finished)
            return future

    monkeypatch.setattr(runner, "ThreadPoolExecutor", Counting)
    plan = make_plan([str(tmp_path / "many")], op="max", output=str(tmp_path / "out"))
    summary = run(plan, recipe(), Lines().console, workers=3)
    assert summary.done == 40
    assert 3 < most <= 6


def test_engine_runs_single_threaded_in_batch_workers_only(photos: Path) -> None:
    """Several workers: each pools in its own thread; the caller's threads are untouched."""
    seen = []

    def note(array: np.ndarray, info: Any) -> np.ndarray:
        seen.append(engine.parallel_workers())
        return pool_max(array, info)

    cpus = engine.parallel_workers()
    run_folder(2, "out", pool=note)
    assert set(seen) == {1}
    assert engine.parallel_workers() == cpus
    run_folder(1, "out1", pool=note)
    assert seen[-1] == cpus


def test_skip_existing_resumes(photos: Path) -> None:
    run_folder(2, "out")
    os.remove("out/sub/c.png")
    summary, lines = run_folder(2, "out", skip_existing=True)
    assert (summary.done, summary.skipped) == (1, 3)
    assert lines.err == ["poolcli: 1 done, 3 skipped, 0 failed"]


def test_quiet_prints_the_summary_only_when_something_failed(photos: Path) -> None:
    lines = Lines(quiet=True)
    plan = make_plan(["photos"], op="max", output="out")
    run(plan, recipe(), lines.console, workers=2)
    assert (lines.out, lines.err) == ([], [])
    Path("photos/bad.png").write_text("no")
    run(make_plan(["photos"], op="max", output="out2"), recipe(), lines.console)
    assert lines.err == [
        "poolcli: photos/bad.png: cannot identify image file",
        "poolcli: 2 done, 0 skipped, 1 failed",
    ]


def test_nothing_found_prints_no_summary(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    lines = Lines()
    summary = run(make_plan([str(tmp_path / "empty")], op="max"), recipe(), lines.console)
    assert summary.exit_status == 1
    assert lines.err == [f"poolcli: {tmp_path / 'empty'}: no images found"]


def test_output_folder_that_cannot_be_created(photos: Path) -> None:
    Path("file").write_text("in the way")
    plan = make_plan(["photos"], op="max", output="file/out")
    with pytest.raises(OutputError, match="^file/out: cannot create folder: not a directory$"):
        run(plan, recipe(), Lines().console)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_counts_and_is_cleared(photos: Path) -> None:
    terminal = FakeTerminal()
    lines = Lines(progress=terminal)
    run(make_plan(["photos"], op="max", output="out", recursive=True), recipe(), lines.console)
    drawn = terminal.getvalue()
    assert drawn.startswith("\r0/4 [------------------------]")
    assert "\r4/4 [########################]" in drawn
    assert "images/s" in drawn and "left" in drawn
    assert drawn.endswith("\r" + " " * len(drawn.rsplit("\r", 2)[-2]) + "\r")


@pytest.mark.parametrize(
    ("inputs", "quiet"), [(["photos/a.png"], False), (["photos"], True)], ids=["one", "quiet"]
)
def test_no_progress_bar_for_one_input_or_quiet(
    photos: Path, inputs: list[str], quiet: bool
) -> None:
    terminal = FakeTerminal()
    lines = Lines(progress=terminal, quiet=quiet)
    plan = make_plan(inputs, op="max", output="out" if quiet else "out.png")
    run(plan, recipe(), lines.console)
    assert terminal.getvalue() == ""


def test_a_stopped_run_removes_only_its_own_temporaries(tmp_path: Path) -> None:
    """Files that merely look like poolcli's temporaries are a user's: a stop leaves them."""
    (tmp_path / ".a.png.x1y2z3.tmp").write_bytes(b"a user's file")
    (tmp_path / "a.png").write_bytes(b"whole")
    job = Job(0, "a", "a", Target(str(tmp_path / "a.png")))
    threads = runner.ThreadRunner(1)
    threads.pending[0] = (job, threads_future_done())
    assert threads.stop() == []
    assert sorted(os.listdir(tmp_path)) == [".a.png.x1y2z3.tmp", "a.png"]


def threads_future_done() -> Any:
    from concurrent.futures import Future

    future: Future[Any] = Future()
    future.set_result(None)
    return future


# ---------------------------------------------------------------------------------------------
# Signals, in this process: the pooling of the second image sends one


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_the_run(photos: Path, workers: int, signum: int) -> None:
    for index in range(12):
        save(Path("photos/more") / f"{index:02d}.png", index)
    calls = 0

    def signal_second(array: np.ndarray, info: Any) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 2:
            # Once the first job's output is written (with two workers it may still be on its
            # way): a stop must leave that one counted, whatever the timing.
            deadline = time.monotonic() + 10
            while not any(Path("out").rglob("*.png")) and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(os.getpid(), signum)
            time.sleep(0.2)  # the signal arrives while this job is in flight
        return pool_max(array, info)

    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    summary, lines = run_folder(workers, "out", pool=signal_second)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    assert summary.signal == signum
    assert summary.exit_status == 128 + signum
    assert 1 <= summary.done < 16
    assert summary.not_started == 16 - summary.done
    written = [path for path in Path("out").rglob("*") if path.is_file()]
    assert len(written) == summary.done
    assert not [path for path in written if path.name.endswith(".tmp")]
    for path in written:
        with Image.open(path) as img:
            img.load()
    name = signal.Signals(signum).name
    assert lines.err[-1] == (
        f"poolcli: interrupted by {name}: {summary.done} done, 0 skipped, 0 failed, "
        f"{summary.not_started} left"
    )


def test_a_signal_during_bookkeeping_is_raised_after_it() -> None:
    """An output's count is never cut off from its rename: the stop waits for the books."""
    handlers = runner.SignalHandlers()
    steps = []
    with pytest.raises(runner.Signalled) as raised:
        with handlers.held():
            handlers._raise(signal.SIGTERM, None)
            steps.append("counted")
    assert steps == ["counted"] and raised.value.signum == signal.SIGTERM
    with pytest.raises(runner.Signalled):
        handlers._raise(signal.SIGINT, None)
    handlers.restore()
