"""The command line's batches and pipelines: CliRunner for most, real processes for signals,
pipes and the terminal."""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import pixels as read_pixels
from cli_helpers import run
from PIL import Image

from poolcli.io import atomic
from poolcli.io import images as imageio

# A 4x4 grey image per name, each different; pooled max 2x2 it is [[v+5, v+7], [v+13, v+15]].
BASE = {"a": 0, "b": 20, "c": 40, "d": 60}


def grey(value: int) -> np.ndarray:
    return (np.arange(16).reshape(4, 4) + value).astype(np.uint8)


def pooled(value: int) -> list[list[int]]:
    return [[value + 5, value + 7], [value + 13, value + 15]]


def save(path: Path, value: int = 0, format: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grey(value)).save(path, format=format)
    return path


def pixels(source: Path | bytes) -> list[list[int]]:
    return read_pixels(source).tolist()


def listing(folder: Path | str) -> list[str]:
    root = Path(folder)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder with photos/a.png, b.png, sub/c.png, sub/d.png, a text
    file and a hidden image."""
    monkeypatch.chdir(tmp_path)
    folder = Path("photos")
    for name, value in BASE.items():
        save(folder / ("sub" if name in "cd" else "") / f"{name}.png", value)
    (folder / "notes.txt").write_text("not an image\n")
    save(folder / ".hidden.png", 99)
    return folder


# ---------------------------------------------------------------------------------------------
# Several inputs


def test_several_files_are_written_beside_their_inputs(photos: Path) -> None:
    result = run("max", "photos/a.png", "photos/sub/c.png")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "poolcli: 2 done, 0 skipped, 0 failed\n"
    assert pixels(photos / "a.max.png") == pooled(BASE["a"])
    assert pixels(photos / "sub" / "c.max.png") == pooled(BASE["c"])


def test_folder_to_an_output_folder_keeps_names(photos: Path) -> None:
    result = run("max", "photos", "-o", "small")
    assert (result.exit_code, result.stderr) == (0, "poolcli: 2 done, 0 skipped, 0 failed\n")
    assert listing("small") == ["a.png", "b.png"]
    assert pixels(Path("small/b.png")) == pooled(BASE["b"])


def test_recursive_folder_mirrors_the_tree_and_format_changes_extensions(photos: Path) -> None:
    result = run("max", "photos", "-r", "-o", "small", "--format", "tiff")
    assert result.exit_code == 0, result.stderr
    assert listing("small") == ["a.tiff", "b.tiff", "sub/c.tiff", "sub/d.tiff"]
    assert pixels(Path("small/sub/d.tiff")) == pooled(BASE["d"])


def test_quoted_glob_is_expanded_by_poolcli(photos: Path) -> None:
    result = run("avg", "photos/**/[bc].png", "-o", "small", "-k", "4")
    assert result.exit_code == 0, result.stderr
    assert listing("small") == ["b.png", "sub/c.png"]


def test_files_from_standard_input_with_nul(photos: Path) -> None:
    listed = b"photos/a.png\0photos/sub/d.png\0"
    result = run("max", "--files-from", "-", "-0", "-o", "small", input=listed)
    assert result.exit_code == 0, result.stderr
    assert listing("small") == ["photos/a.png", "photos/sub/d.png"]


def test_files_from_a_file_and_inputs_together(photos: Path) -> None:
    Path("list.txt").write_text("photos/sub/c.png\n")
    result = run("max", "photos/a.png", "--files-from", "list.txt", "-o", "small")
    assert result.exit_code == 0, result.stderr
    assert listing("small") == ["a.png", "photos/sub/c.png"]


def test_results_are_the_same_whatever_the_jobs(photos: Path) -> None:
    for jobs in ("1", "3"):
        result = run("avg", "photos", "-r", "-o", f"out{jobs}", "-j", jobs, "--report", "json")
        assert result.exit_code == 0, result.stderr
    assert listing("out1") == listing("out3")
    for name in listing("out1"):
        assert (Path("out1") / name).read_bytes() == (Path("out3") / name).read_bytes()


def test_no_progress_bar_when_stderr_is_not_a_terminal(photos: Path) -> None:
    result = run("max", "photos", "-r", "-o", "small")
    assert "\r" not in result.stderr


# ---------------------------------------------------------------------------------------------
# Reports


def test_report_json_in_input_order_with_failures(photos: Path) -> None:
    Path("photos/sub/bad.png").write_text("not a picture")
    result = run("max", "photos", "-r", "-o", "small", "-j", "4", "--report", "json")
    assert result.exit_code == 1
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [report["input"] for report in reports] == [
        "photos/a.png",
        "photos/b.png",
        "photos/sub/bad.png",
        "photos/sub/c.png",
        "photos/sub/d.png",
    ]
    assert reports[2] == {
        "input": "photos/sub/bad.png",
        "op": "max",
        "error": "photos/sub/bad.png: cannot identify image file",
    }
    assert reports[3]["output"] == os.path.join("small", "sub", "c.png")
    assert result.stderr == (
        "poolcli: photos/sub/bad.png: cannot identify image file\n"
        "poolcli: 4 done, 0 skipped, 1 failed\n"
    )


def test_report_text_for_each_input_separated_by_a_blank_line(photos: Path) -> None:
    result = run("max", "photos", "-o", "small", "--report")
    assert result.exit_code == 0
    first, second = result.stdout.split("\n\n")
    assert first.startswith("input         photos/a.png\n")
    assert second.startswith("input         photos/b.png\n")


def test_skipped_inputs_in_the_json_report(photos: Path) -> None:
    assert run("max", "photos", "-o", "small").exit_code == 0
    result = run("max", "photos", "-o", "small", "--skip-existing", "--report", "json")
    assert result.exit_code == 0
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"input": "photos/a.png", "output": "small/a.png", "op": "max", "skipped": True},
        {"input": "photos/b.png", "output": "small/b.png", "op": "max", "skipped": True},
    ]
    assert result.stderr == "poolcli: 0 done, 2 skipped, 0 failed\n"


# ---------------------------------------------------------------------------------------------
# Resuming, dry runs, quiet


def test_skip_existing_leaves_outputs_alone(photos: Path) -> None:
    Path("small").mkdir()
    Path("small/a.png").write_bytes(b"from an earlier run")
    result = run("max", "photos", "-o", "small", "--skip-existing")
    assert (result.exit_code, result.stderr) == (0, "poolcli: 1 done, 1 skipped, 0 failed\n")
    assert Path("small/a.png").read_bytes() == b"from an earlier run"
    assert pixels(Path("small/b.png")) == pooled(BASE["b"])


def test_skip_existing_one_input(photos: Path) -> None:
    save(photos / "a.max.png")
    result = run("max", "photos/a.png", "--skip-existing")
    assert (result.exit_code, result.stderr) == (
        0,
        "poolcli: skipped photos/a.max.png: it exists\n",
    )


def test_dry_run_batch_writes_nothing(photos: Path) -> None:
    result = run("max", "photos", "-r", "-o", "small", "--dry-run")
    assert result.exit_code == 0
    assert not Path("small").exists()
    assert result.stderr.splitlines() == [
        f"poolcli: would write {os.path.join('small', 'a.png')} (4x4 -> 2x2)",
        f"poolcli: would write {os.path.join('small', 'b.png')} (4x4 -> 2x2)",
        f"poolcli: would write {os.path.join('small', 'sub', 'c.png')} (4x4 -> 2x2)",
        f"poolcli: would write {os.path.join('small', 'sub', 'd.png')} (4x4 -> 2x2)",
        "poolcli: 4 done, 0 skipped, 0 failed (dry run: nothing written)",
    ]


def test_quiet_batch_prints_nothing_when_all_is_well(photos: Path) -> None:
    result = run("max", "photos", "-o", "small", "-q")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_quiet_batch_prints_failures_and_the_summary(photos: Path) -> None:
    Path("photos/bad.png").write_text("not a picture")
    result = run("max", "photos", "-o", "small", "-q")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "poolcli: photos/bad.png: cannot identify image file\n"
        "poolcli: 2 done, 0 skipped, 1 failed\n"
    )


# ---------------------------------------------------------------------------------------------
# Bad input, each with its test


class TestBadInput:
    """What a batch does with each kind of bad input: exit status, the lines, what is written."""

    @pytest.fixture(autouse=True)
    def _photos(self, photos: Path) -> None:
        self.photos = photos

    def test_empty_folder(self) -> None:
        """An empty folder: no images found, exit 1, nothing else."""
        Path("empty").mkdir()
        result = run("max", "empty", "-o", "small")
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == "poolcli: empty: no images found\n"

    def test_glob_matching_nothing(self) -> None:
        """A glob that matches no file."""
        result = run("max", "photos/*.jpg")
        assert (result.exit_code, result.stderr) == (1, "poolcli: photos/*.jpg: no images found\n")

    def test_glob_matching_nothing_among_others(self) -> None:
        """One input finds nothing, the others are done: exit 1, counted as failed."""
        result = run("max", "photos/*.jpg", "photos/a.png", "-o", "small")
        assert result.exit_code == 1
        assert result.stderr == (
            "poolcli: photos/*.jpg: no images found\npoolcli: 1 done, 0 skipped, 1 failed\n"
        )
        assert listing("small") == ["a.png"]

    def test_folder_mixing_images_text_and_corrupt_images(self) -> None:
        """Text files are not images (passed over); a corrupt image is one failure line."""
        Path("photos/readme.md").write_text("# photos\n")
        Path("photos/broken.png").write_bytes(imageio._NPY_MAGIC + b"garbage")
        noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(noise).save(buffer, format="PNG")
        Path("photos/cut.png").write_bytes(buffer.getvalue()[: buffer.tell() // 2])
        result = run("max", "photos", "-o", "small")
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            "poolcli: photos/broken.png: cannot identify image file",
            "poolcli: photos/cut.png: truncated or corrupt image data: image file is truncated",
            "poolcli: 2 done, 0 skipped, 2 failed",
        ]
        assert listing("small") == ["a.png", "b.png"]

    def test_symlink_loop(self) -> None:
        """A link back up the tree is not followed: the walk ends."""
        os.symlink("..", "photos/sub/up")
        os.symlink("loop", "photos/loop")  # a link to itself
        result = run("max", "photos", "-r", "-o", "small")
        assert (result.exit_code, result.stderr) == (0, "poolcli: 4 done, 0 skipped, 0 failed\n")
        result = run("max", "photos/**/*.png", "-o", "small2")
        assert (result.exit_code, result.stderr) == (0, "poolcli: 4 done, 0 skipped, 0 failed\n")

    @pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file"
    )
    def test_unreadable_file_by_permissions(self) -> None:
        """chmod 000 on an image: one line, the batch goes on."""
        os.chmod("photos/b.png", 0)
        result = run("max", "photos", "-o", "small")
        assert result.exit_code == 1
        assert "poolcli: photos/b.png: permission denied\n" in result.stderr

    def test_unreadable_file(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An image that cannot be opened for reading (simulated: tests may run as root)."""
        real_open = builtins.open

        def refusing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            if str(file).endswith("b.png"):
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", refusing_open)
        result = run("max", "photos", "-o", "small")
        assert result.exit_code == 1
        assert result.stderr == (
            "poolcli: photos/b.png: permission denied\npoolcli: 1 done, 0 skipped, 1 failed\n"
        )
        assert listing("small") == ["a.png"]

    def test_output_folder_that_cannot_be_created(self) -> None:
        """A file where the output folder's parent should be."""
        Path("taken").write_text("a file")
        result = run("max", "photos", "-o", "taken/small")
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == "poolcli: taken/small: cannot create folder: not a directory\n"

    def test_output_folder_is_a_file(self) -> None:
        """-o names a file for a folder of inputs."""
        Path("taken").write_text("a file")
        result = run("max", "photos", "-o", "taken")
        assert result.exit_code == 2
        assert result.stderr == (
            "poolcli: -o taken is a file; with several inputs -o names a folder\n"
        )

    @pytest.mark.parametrize(
        ("error", "reason"),
        [(errno.ENOSPC, "no space left on device"), (errno.EACCES, "permission denied")],
        ids=["disk-full", "permission"],
    )
    def test_write_fails(self, monkeypatch: pytest.MonkeyPatch, error: int, reason: str) -> None:
        """The disk fills up (or a write is refused) for one output: no partial file is left."""
        real = atomic.tempfile.NamedTemporaryFile

        def failing(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("prefix") == ".a.png.":
                raise OSError(error, os.strerror(error))
            return real(*args, **kwargs)

        monkeypatch.setattr(atomic.tempfile, "NamedTemporaryFile", failing)
        result = run("max", "photos", "-o", "small", "-j", "2")
        assert result.exit_code == 1
        assert result.stderr == (
            f"poolcli: {os.path.join('small', 'a.png')}: {reason}\n"
            "poolcli: 1 done, 0 skipped, 1 failed\n"
        )
        assert os.listdir("small") == ["b.png"]

    def test_duplicate_outputs(self) -> None:
        """Two inputs that would be written to one output: refused before any work."""
        save(Path("photos/a.jpg"), format="JPEG")
        result = run("max", "photos", "-o", "small", "--format", "png")
        assert result.exit_code == 2
        assert result.stderr == (
            "poolcli: photos/a.jpg and photos/a.png would both be written to "
            f"{os.path.join('small', 'a.png')}; rename one, or give them different output "
            "folders\n"
        )
        assert not Path("small").exists()

    def test_output_folder_inside_the_folder_searched(self) -> None:
        """-r with -o inside the input folder."""
        result = run("max", "photos", "-r", "-o", "photos/small")
        assert result.exit_code == 2
        assert result.stderr == (
            "poolcli: -o photos/small is inside photos, which is searched for images; "
            "choose an output folder outside it\n"
        )
        assert not Path("photos/small").exists()

    def test_output_over_an_input(self) -> None:
        """A batch whose output folder holds one of its inputs under the same name."""
        save(Path("small/a.png"), 5)
        result = run("max", "small/a.png", "photos/b.png", "-o", "small")
        assert result.exit_code == 2
        assert result.stderr == (
            "poolcli: refusing to write over the input small/a.png; choose another --output\n"
        )
        assert pixels(Path("small/a.png")) == grey(5).tolist()

    def test_empty_standard_input(self) -> None:
        """Nothing on standard input."""
        result = run("max", "-", "-o", "-", input=b"")
        assert (result.exit_code, result.stdout_bytes) == (1, b"")
        assert result.stderr == "poolcli: <stdin>: empty input\n"

    def test_standard_input_not_an_image(self) -> None:
        """Standard input that is no image (nor a matrix)."""
        result = run("max", "-", "-o", "-", "--format", "png", input=b"\x00\x01 not an image")
        assert (result.exit_code, result.stdout_bytes) == (1, b"")
        assert result.stderr == "poolcli: <stdin>: cannot identify image file\n"

    def test_standard_input_among_other_inputs(self) -> None:
        result = run("max", "-", "photos/a.png", input=b"")
        assert (result.exit_code, result.stderr) == (
            2,
            "poolcli: - (standard input) must be the only INPUT\n",
        )

    def test_standard_output_for_several_inputs(self) -> None:
        result = run("max", "photos", "-o", "-")
        assert (result.exit_code, result.stdout_bytes) == (2, b"")
        assert result.stderr == (
            "poolcli: -o - writes one image; give one INPUT file, or -o FOLDER\n"
        )


# ---------------------------------------------------------------------------------------------
# Real processes: pipes, the terminal, signals


def poolcli() -> list[str]:
    return [sys.executable, "-m", "poolcli"]


def test_pipeline_of_two_poolcli_stages(photos: Path) -> None:
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save("big.png")
    with open("big.png", "rb") as source, open("out.png", "wb") as sink:
        first = subprocess.Popen(
            [*poolcli(), "max", "-", "-k", "2", "-o", "-"], stdin=source, stdout=subprocess.PIPE
        )
        assert first.stdout is not None
        second = subprocess.Popen(
            [*poolcli(), "avg", "-", "-k", "2", "-o", "-"], stdin=first.stdout, stdout=sink
        )
        first.stdout.close()
        assert (second.wait(timeout=120), first.wait(timeout=120)) == (0, 0)
    # max 2x2 of 0..63 gives 9, 11, ... 63; avg 2x2 of that, rounded half up
    assert pixels(Path("out.png")) == [[18, 22], [50, 54]]


@pytest.mark.skipif(shutil.which("convert-im6.q16") is None, reason="ImageMagick 6 not installed")
def test_pipeline_from_imagemagick(photos: Path) -> None:
    convert = subprocess.run(
        ["convert-im6.q16", "photos/a.png", "png:-"], capture_output=True, check=True, timeout=60
    )
    done = subprocess.run(
        [*poolcli(), "max", "-", "-o", "-", "--format", "png"],
        input=convert.stdout,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert pixels(done.stdout) == pooled(BASE["a"])


def test_progress_bar_on_a_terminal(photos: Path) -> None:
    parent, child = pty.openpty()
    try:
        done = subprocess.run(
            [*poolcli(), "max", "photos", "-r", "-o", "small", "-j", "2"],
            stderr=child,
            stdout=subprocess.PIPE,
            timeout=120,
            check=False,
        )
        os.close(child)
        child = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if child >= 0:
            os.close(child)
        os.close(parent)
    assert done.returncode == 0
    text = drawn.decode()
    assert "\r0/4 [" in text and "\r4/4 [########################]" in text
    assert text.endswith("\rpoolcli: 4 done, 0 skipped, 0 failed\r\n")


def many_images(folder: Path, count: int) -> None:
    """``count`` copies of a 400x400 noise PNG: slow enough to encode to interrupt a batch."""
    folder.mkdir()
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "0000.png", compress_level=0)
    for index in range(1, count):
        shutil.copyfile(folder / "0000.png", folder / f"{index:04d}.png")


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_signal_stops_a_batch_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str, signum: int, status: int
) -> None:
    monkeypatch.chdir(tmp_path)
    many_images(Path("in"), 150)
    process = subprocess.Popen(
        [*poolcli(), "max", "in", "-o", "out", "-k", "1", "-j", jobs],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (Path("out").is_dir() and any(not n.startswith(".") for n in os.listdir("out"))):
            assert process.poll() is None, "the batch ended before the first output"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, stderr
    written = os.listdir("out")
    assert not [name for name in written if name.startswith(".") or name.endswith(".tmp")]
    assert 1 <= len(written) < 150
    for name in written:
        with Image.open(Path("out") / name) as img:
            img.load()
            assert img.size == (400, 400)
    name = signal.Signals(signum).name
    assert stderr == (
        f"poolcli: interrupted by {name}: {len(written)} done, 0 skipped, 0 failed, "
        f"{150 - len(written)} left\n"
    )


def test_ctrl_c_while_searching(photos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("poolcli.batch.plan.plan", interrupted)
    result = run("max", "photos", "-r", "-o", "small")
    assert (result.exit_code, result.stdout) == (130, "")
    assert result.stderr == "poolcli: interrupted by SIGINT before any input was read\n"
    assert not Path("small").exists()
