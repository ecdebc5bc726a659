"""Tests of poolcli.io.atomic: atomic writes, their temporary files, and clean-up after a stop."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from poolcli.errors import OutputError
from poolcli.io import atomic


@pytest.fixture(autouse=True)
def nothing_unfinished() -> Iterator[None]:
    assert atomic.unfinished() == []
    yield
    assert atomic.remove_unfinished() == []


def stopped_write(target: Path) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    """A write to ``target`` that is under way (its temporary file written) until released."""
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def encode(stream: BinaryIO, name: str) -> None:
        stream.write(b"half")
        stream.flush()
        started.set()
        release.wait(10)

    def write() -> None:
        try:
            atomic.write_output(str(target), str(target), encode)
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    assert started.wait(10)
    return thread, release, errors


def test_write_leaves_only_the_target(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    atomic.write_output(str(target), str(target), lambda stream, name: stream.write(b"data"))
    assert os.listdir(tmp_path) == ["out.png"]
    assert target.read_bytes() == b"data"


def test_a_temporary_file_is_recorded_while_the_write_is_under_way(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    thread, release, errors = stopped_write(target)
    (temporary,) = atomic.unfinished()
    assert os.path.dirname(temporary) == str(tmp_path)
    assert os.path.basename(temporary).startswith(".out.png.")
    release.set()
    thread.join()
    assert errors == []
    assert atomic.unfinished() == []
    assert os.listdir(tmp_path) == ["out.png"]


def test_remove_unfinished_removes_ours_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    lookalike = tmp_path / ".out.png.x1y2z3ab.tmp"  # named like ours, not created by poolcli
    lookalike.write_bytes(b"someone else's")
    other = tmp_path / "other.png"
    thread, release, errors = stopped_write(target)
    other_thread, other_release, other_errors = stopped_write(other)
    try:
        (ours,) = [p for p in atomic.unfinished() if ".out.png." in p]
        assert atomic.remove_unfinished([str(target)]) == [ours]
        assert not os.path.exists(ours)
        assert lookalike.read_bytes() == b"someone else's"
        assert len(atomic.unfinished()) == 1  # the write to other.png is untouched
    finally:
        release.set()
        other_release.set()
        thread.join()
        other_thread.join()
    # The stopped write fails rather than renaming a removed file into place.
    assert [type(e) for e in errors] == [OutputError]
    assert other_errors == []
    assert sorted(os.listdir(tmp_path)) == [".out.png.x1y2z3ab.tmp", "other.png"]


def test_remove_unfinished_of_a_relative_target(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    thread, release, errors = stopped_write(Path("out.png"))
    try:
        assert len(atomic.remove_unfinished(["out.png"])) == 1
    finally:
        release.set()
        thread.join()
    assert os.listdir(tmp_path) == []


def test_a_failed_write_removes_its_temporary_file(tmp_path: Path) -> None:
    def broken(stream: BinaryIO, name: str) -> None:
        stream.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="no space left on device"):
        atomic.write_output(str(tmp_path / "out.png"), "out.png", broken)
    assert os.listdir(tmp_path) == []
    assert atomic.unfinished() == []


def test_a_fifo_target_stays_a_fifo_and_receives_the_bytes(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    atomic.write_output(str(fifo), str(fifo), lambda stream, name: stream.write(b"through"))
    reader.join(10)
    assert received == [b"through"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe.png"]


def test_dev_null_stays_a_character_device() -> None:
    atomic.write_output("/dev/null", "/dev/null", lambda stream, name: stream.write(b"gone"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_failed_encode_writes_nothing_into_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)

    def broken(stream: BinaryIO, name: str) -> None:
        raise OutputError(name, "cannot write PNG")

    # No reader: opening the FIFO would block, so this passes only if encoding comes first.
    with pytest.raises(OutputError, match="cannot write PNG"):
        atomic.write_output(str(fifo), str(fifo), broken)


@pytest.mark.parametrize("length", [241, 250, 255])
def test_a_long_target_name_writes(tmp_path: Path, length: int) -> None:
    target = tmp_path / ("x" * (length - 4) + ".png")
    atomic.write_output(str(target), str(target), lambda stream, name: stream.write(b"long"))
    assert os.listdir(tmp_path) == [target.name]
    assert target.read_bytes() == b"long"


def test_temporary_prefix_fits_multibyte_names() -> None:
    prefix = atomic.temporary_prefix("é" * 127)  # 254 bytes
    assert len(os.fsencode(prefix)) + 8 + len(".tmp") <= 255
    assert prefix.startswith(".é") and prefix.endswith(".")
    assert atomic.temporary_prefix("folder/a.png") == ".a.png."
