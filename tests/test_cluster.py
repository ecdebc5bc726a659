"""Batches on a Dask cluster (poolcli.batch.cluster, --scheduler): the same run as the local one.

A real scheduler and two single-threaded worker processes (``dask scheduler``, ``dask worker``)
run on 127.0.0.1 for the module, in a folder of their own, so every relative path must be made
absolute before it travels. Their workers die, SIGKILL, when they open a file whose name holds
``kills-its-worker`` (a sitecustomize that only they load), and the scheduler lets a task fail
on one worker before it gives up (``allowed-failures: 1``) and gives each worker one task at a
time (``worker-saturation: 1.0``, as the README advises). Each batch runs through the command
line, in a subprocess, and is compared byte for byte with the thread runner's run of it: the
files written, the standard output (NDJSON), the standard error (summary, failure lines) and
the exit status.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from poolcli.batch import cluster
from poolcli.batch.jobs import Job, Outcome, Status, Target
from poolcli.batch.recipe import Recipe
from poolcli.imaging.tasks import Pooling

distributed = pytest.importorskip("distributed")

SOURCE_ROOT = Path(__file__).resolve().parent.parent
CULPRIT = "kills-its-worker"

KILLER = f"""
import builtins, os, signal

_open = builtins.open


def _open_or_die(file, *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and {CULPRIT!r} in os.fsdecode(file):
        os.kill(os.getpid(), signal.SIGKILL)
    return _open(file, *args, **kwargs)


builtins.open = _open_or_die
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    return {**env, "PYTHONPATH": str(SOURCE_ROOT), **extra}


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(600):
        if path.exists() and path.stat().st_size:
            return
        if process.poll() is not None:
            raise RuntimeError(f"{what} ended with {process.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


class Cluster:
    """A scheduler and the worker processes of one ``dask worker`` command, on 127.0.0.1."""

    def __init__(self, folder: Path, workers: int) -> None:
        hooks = folder / "hooks"
        hooks.mkdir(parents=True)
        (hooks / "sitecustomize.py").write_text(KILLER)
        self.home = folder / "elsewhere"  # the processes' folder: not the runs' folder
        self.home.mkdir()
        env = _env(
            PYTHONPATH=f"{hooks}{os.pathsep}{SOURCE_ROOT}",
            DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1",
            # as the README advises: a dying worker holds only the task it runs
            DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0",
        )
        file = folder / "scheduler.json"
        self.log = open(folder / "cluster.log", "wb")  # noqa: SIM115
        common = {"cwd": self.home, "env": env, "stdout": self.log, "stderr": self.log}
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0"]
            + ["--no-dashboard", "--scheduler-file", str(file)],
            **common,
        )
        self.workers: subprocess.Popen[bytes] | None = None
        self.client = None
        try:
            _wait_for_file(file, self.scheduler, "dask scheduler")
            self.address = json.loads(file.read_text())["address"]
            self.workers = subprocess.Popen(
                [sys.executable, "-m", "dask", "worker", self.address, "--nworkers", str(workers)]
                + ["--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"]
                + ["--death-timeout", "20", "--local-directory", str(folder / "scratch")],
                **common,
            )
            self.client = distributed.Client(self.address, timeout=60)
            self.count = workers
            self.client.wait_for_workers(workers, timeout=120)
        except BaseException:
            self.close()
            raise

    def worker_pids(self) -> list[int]:
        self.client.wait_for_workers(self.count, timeout=120)
        return sorted(self.client.run(os.getpid).values())

    def close(self) -> None:
        if self.client is not None:
            if self.scheduler.poll() is None:
                with contextlib.suppress(Exception):
                    self.client.shutdown()  # the scheduler and its workers, at once
            self.client.close(timeout=2)
        for process in (self.workers, self.scheduler):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.workers, self.scheduler):
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory):
    started = Cluster(tmp_path_factory.mktemp("cluster"), workers=2)
    try:
        yield started
    finally:
        started.close()


def make_inputs(folder: Path, count: int, size: int = 48, bad: bool = True) -> None:
    """``count`` PNGs in ``folder`` and its ``sub/``, and a file that is no image."""
    rng = np.random.default_rng(count)
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        place = folder / "sub" if index % 3 == 0 else folder
        pixels = rng.integers(0, 256, (size, size + 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(place / f"p{index:03d}.png")
    if bad:
        (folder / "sub" / "broken.png").write_bytes(b"no image at all")


def poolcli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "poolcli", *args],
        cwd=cwd,
        env=_env() if env is None else env,
        capture_output=True,
        timeout=300,
    )
    return done.returncode, done.stdout, done.stderr


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, by relative path: its bytes."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


def same_as_local(
    cwd: Path, args: list[str], address: str | None, env: dict[str, str] | None = None
) -> None:
    """The run of ``args`` on the cluster (``--scheduler address``; None: ``env`` names it) and
    with ``-j 2`` here: the same, byte for byte."""
    local = poolcli(cwd, *args, "-j", "2")
    written = tree(cwd / "out")
    if (cwd / "out").exists():
        (cwd / "out").rename(cwd / "local-out")
    where = [] if address is None else ["--scheduler", address]
    remote = poolcli(cwd, *args, *where, env=env)
    assert remote == local, (remote[2], local[2])
    assert tree(cwd / "out") == written
    assert temporaries(cwd) == []


# ---------------------------------------------------------------------------------------------
# The same batch, elsewhere


@pytest.mark.parametrize(
    "args",
    [
        ["max", "in", "-r", "-o", "out", "--report", "json", "-k", "3", "-s", "2"],
        ["global", "in", "-r", "-o", "out", "--report", "json", "--op", "max"],
        ["info", "in", "-r", "--report", "text", "-k", "4"],
    ],
    ids=["max", "global", "info"],
)
def test_a_batch_on_the_cluster_is_the_local_run(dask_cluster, tmp_path, args):
    make_inputs(tmp_path / "in", 40)
    same_as_local(tmp_path, args, dask_cluster.address)


def _reset(folder: Path, files: dict[str, bytes]) -> None:
    """``folder`` holding ``files`` and nothing else."""
    if folder.exists():
        shutil.rmtree(folder)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


@pytest.mark.parametrize("extra", ["--dry-run", "--skip-existing", "--overwrite"])
def test_skip_existing_overwrite_and_dry_run_are_the_local_run(dask_cluster, tmp_path, extra):
    make_inputs(tmp_path / "in", 12)
    there = {"sub/p000.png": b"old", "p004.png": b"old", "p010.png": b"old"}
    args = ["max", "in", "-r", "-o", "out", "--report", "json", extra]
    _reset(tmp_path / "out", there)
    local = poolcli(tmp_path, *args, "-j", "2")
    written = tree(tmp_path / "out")
    _reset(tmp_path / "out", there)
    remote = poolcli(tmp_path, *args, "--scheduler", dask_cluster.address)
    assert remote == local
    assert tree(tmp_path / "out") == written
    assert temporaries(tmp_path) == []


def test_the_scheduler_comes_from_the_environment(dask_cluster, tmp_path):
    make_inputs(tmp_path / "in", 40)
    args = ["adaptive", "in", "-r", "-o", "out", "--to", "5x7", "--format", "jpeg"]
    same_as_local(tmp_path, args, None, _env(DASK_SCHEDULER_ADDRESS=dask_cluster.address))


def test_a_local_cluster_of_two_workers(tmp_path):
    make_inputs(tmp_path / "in", 12)
    same_as_local(tmp_path, ["median", "in", "-r", "-o", "out", "--report", "json"], "local:2")


def test_one_input_is_pooled_here(tmp_path):
    """Nothing of it could travel (its output is named once it is loaded): no scheduler is
    asked, not even one that is not there."""
    Image.new("RGB", (8, 6), "red").save(tmp_path / "a.png")
    status, _, err = poolcli(tmp_path, "max", "a.png", "--scheduler", "tcp://127.0.0.1:9")
    assert (status, err) == (0, b"poolcli: wrote a.max.png (6x8 -> 3x4)\n")


@pytest.mark.parametrize("output", ["out.zarr", "out.tif"])
def test_an_image_pooled_in_chunks_on_the_cluster(dask_cluster, tmp_path, output):
    """One huge input with --scheduler: the chunks are computed by the cluster's workers
    (their tasks reach its scheduler), reading the input and writing Zarr chunks themselves;
    the result is the in-memory one."""
    import tifffile
    import zarr

    from poolcli.api import pool

    values = np.random.default_rng(7).integers(0, 255, (1500, 1300), dtype=np.uint8)
    stored = zarr.create_array(store=str(tmp_path / "in.zarr"), shape=values.shape,
                               chunks=(256, 256), dtype="uint8")  # fmt: skip
    stored[:] = values
    status, _, err = poolcli(tmp_path, "max", "in.zarr", "-k", "3", "-s", "2", "-o", output,
                             "--scheduler", dask_cluster.address)  # fmt: skip
    assert status == 0, err
    expected = pool(values, "max", size=3, stride=2)
    if output.endswith(".zarr"):
        got = zarr.open_array(store=str(tmp_path / output), mode="r")[:]
    else:
        got = tifffile.imread(tmp_path / output)
    np.testing.assert_array_equal(got, expected)
    prefixes = dask_cluster.client.run_on_scheduler(
        lambda dask_scheduler: sorted(dask_scheduler.task_prefixes)
    )
    assert any("poolcli-pool" in prefix for prefix in prefixes)
    assert sorted(os.listdir(tmp_path)) == sorted(["in.zarr", output])


# ---------------------------------------------------------------------------------------------
# Faults


def _start(cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "poolcli", *args],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_outputs(folder: Path, process: subprocess.Popen[bytes], count: int) -> None:
    for _ in range(1200):
        if len(list(folder.glob("*.png"))) >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the batch did not start")


def test_a_worker_killed_mid_batch(dask_cluster, tmp_path):
    make_inputs(tmp_path / "in", 150, size=160)
    args = ["avg", "in", "-r", "-o", "out", "--report", "json", "--format", "png"]
    local = poolcli(tmp_path, *args, "-j", "2")
    written = tree(tmp_path / "out")
    (tmp_path / "out").rename(tmp_path / "local-out")
    victim = dask_cluster.worker_pids()[0]
    run = _start(tmp_path, *args, "--scheduler", dask_cluster.address)
    _wait_for_outputs(tmp_path / "out", run, 10)
    os.kill(victim, signal.SIGKILL)
    out, err = run.communicate(timeout=300)
    assert (run.returncode, out, err) == local
    assert tree(tmp_path / "out") == written
    assert temporaries(tmp_path) == []
    assert victim not in dask_cluster.worker_pids()  # the nanny started another


def test_a_file_that_kills_its_workers_fails_alone(dask_cluster, tmp_path):
    make_inputs(tmp_path / "in", 70, bad=False)  # 46 in in/, 3 a task with the culprit
    Image.new("RGB", (40, 40), "blue").save(tmp_path / "in" / f"{CULPRIT}.png")
    args = ["max", "in", "-o", "out", "--report", "json"]
    local = poolcli(tmp_path, *args)
    written = tree(tmp_path / "out")
    (tmp_path / "out").rename(tmp_path / "local-out")
    status, out, err = poolcli(tmp_path, *args, "--scheduler", dask_cluster.address)
    message = f"in/{CULPRIT}.png: its worker died 2 times running it (a crash, or out of memory)"
    assert status == 1
    assert err.decode().splitlines() == [
        f"poolcli: {message}",
        "poolcli: 46 done, 0 skipped, 1 failed",
    ]
    lines = out.decode().splitlines()
    culprit = next(i for i, line in enumerate(lines) if CULPRIT in line)
    assert json.loads(lines[culprit]) == {
        "input": f"in/{CULPRIT}.png",
        "op": "max",
        "error": message,
    }
    expected = local[1].decode().splitlines()
    assert lines[:culprit] + lines[culprit + 1 :] == expected[:culprit] + expected[culprit + 1 :]
    del written[f"{CULPRIT}.png"]
    assert tree(tmp_path / "out") == written
    assert temporaries(tmp_path) == []


def test_ctrl_c_cancels_the_queue_and_leaves_no_temporaries(dask_cluster, tmp_path):
    make_inputs(tmp_path / "in", 200, size=160, bad=False)
    run = _start(tmp_path, "avg", "in", "-o", "out", "--scheduler", dask_cluster.address)
    _wait_for_outputs(tmp_path / "out", run, 5)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130
    last = err.decode().splitlines()[-1]
    assert last.startswith("poolcli: interrupted by SIGINT: ") and last.endswith(" left")
    assert temporaries(tmp_path) == []
    written = tree(tmp_path / "out")
    assert 5 <= len(written) < 133  # of the 133 in in/
    time.sleep(1)
    assert tree(tmp_path / "out") == written  # nothing queued ran after the stop
    for data in written.values():
        Image.open(io.BytesIO(data)).load()  # every output whole


def test_the_scheduler_going_away_is_one_line(tmp_path):
    own = Cluster(tmp_path / "own", workers=1)
    try:
        make_inputs(tmp_path / "in", 120, size=160, bad=False)
        run = _start(tmp_path, "avg", "in", "-o", "out", "--scheduler", own.address)
        _wait_for_outputs(tmp_path / "out", run, 5)
        own.scheduler.kill()
        out, err = run.communicate(timeout=120)
    finally:
        own.close()
    assert run.returncode == 1
    assert err.decode().splitlines() == [
        f"poolcli: lost the Dask scheduler at {own.address}; the outputs written so far are kept"
    ]
    assert 5 <= len(list((tmp_path / "out").iterdir()))
    for path in (tmp_path / "out").glob("*.png"):
        Image.open(path).load()  # every output whole
    # A worker still writing when the scheduler went finishes that output, renames it into
    # place and has nothing more to do: no temporary stays.
    for _ in range(100):
        if not temporaries(tmp_path):
            break
        time.sleep(0.1)
    assert temporaries(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# The option


def test_without_the_cluster_extra_the_option_says_which_to_install(tmp_path):
    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    Image.new("L", (4, 4)).save(tmp_path / "b.png")
    code = (
        "import sys; sys.modules['distributed'] = None; from poolcli.cli import main; "
        "sys.argv = ['poolcli', 'max', 'a.png', 'b.png', '-o', 'out', '--scheduler', 'local:2']; "
        "main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True
    )
    assert done.returncode == 2
    assert done.stderr == (
        b"poolcli: --scheduler needs the cluster extra: pip install 'poolcli-image[cluster]'\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["local:0", "local:x", "tcp://", "two words"])
def test_an_address_that_is_none_is_a_usage_error(tmp_path, address):
    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    status, _, err = poolcli(tmp_path, "max", "a.png", "--scheduler", address)
    assert status == 2
    assert err.decode().startswith(f"poolcli: --scheduler: {address!r} is no scheduler address")


# ---------------------------------------------------------------------------------------------
# The pieces


def test_paths_travel_absolute_and_come_back_as_given(tmp_path):
    job = Job(3, "in/a b.png", "in/a b.png", Target("out/sub/é.png"), make_folder=True)
    travelling, pairs = cluster._travelling(job, "/data/run")
    assert travelling.source == "/data/run/in/a b.png"
    assert travelling.target == Target("/data/run/out/sub/é.png")
    outcome = Outcome(
        3,
        "in/a b.png",
        Status.FAILED,
        output="/data/run/out/sub/é.png",
        report=json.dumps({"output": "/data/run/out/sub/é.png"}),
        error="in/a b.png: cannot create folder /data/run/out/sub: no room; '/data/run/in/a b.png'",
    )
    back = cluster._homecoming(outcome, pairs)
    assert back.output == "out/sub/é.png"
    assert json.loads(back.report) == {"output": "out/sub/é.png"}
    assert back.error == "in/a b.png: cannot create folder out/sub: no room; 'in/a b.png'"
    assert cluster._travelling(Job(0, "/abs/a.png", "/abs/a.png"), "/x") == (
        Job(0, "/abs/a.png", "/abs/a.png"),
        (),
    )


def test_an_output_this_run_wrote_is_reported_not_written_again(tmp_path):
    Image.new("RGB", (8, 6), "green").save(tmp_path / "a.png")
    job = Job(0, str(tmp_path / "a.png"), "a.png", Target(str(tmp_path / "a.max.png")))
    for report in ("json", "text", None):
        recipe = Recipe(Pooling("max"), report=report)
        started = time.time_ns()
        (first,) = cluster.work((job,), recipe, started)
        written = (tmp_path / "a.max.png").stat()
        (again,) = cluster.work((job,), recipe, started)  # a worker died before it said so
        assert again == first
        assert (tmp_path / "a.max.png").stat().st_mtime_ns == written.st_mtime_ns
        skipping = Recipe(Pooling("max"), report=report, skip_existing=True)
        assert cluster.work((job,), skipping, started) == [first]
        assert cluster.work((job,), skipping, time.time_ns())[0].status is Status.SKIPPED
        (tmp_path / "a.max.png").unlink()
    (tmp_path / "a.max.png").write_bytes(b"from a machine whose clock runs a day ahead")
    tomorrow = time.time() + 86400
    os.utime(tmp_path / "a.max.png", (tomorrow, tomorrow))
    (overwritten,) = cluster.work((job,), Recipe(Pooling("max"), overwrite=True), started)
    assert overwritten.replaced and overwritten.status is Status.DONE
    assert (tmp_path / "a.max.png").read_bytes().startswith(b"\x89PNG")


def test_left_temporaries_of_this_run_are_removed_and_nothing_else(tmp_path):
    old = tmp_path / ".a.png.abcd1234.tmp"
    old.write_bytes(b"before the run")
    started = time.time_ns()
    left = tmp_path / ".a.png.k3j_x0z9.tmp"
    left.write_bytes(b"left by a killed worker")
    others = [tmp_path / ".b.png.k3j_x0z9.tmp", tmp_path / ".a.png.short.tmp", tmp_path / "a.png"]
    for path in others:
        path.write_bytes(b"not ours")
    jobs = [Job(0, "in/a.png", "in/a.png", Target(str(tmp_path / "a.png")))]
    assert cluster._remove_left_temporaries(jobs, "/", started) == [str(left)]
    assert sorted(tmp_path.iterdir()) == sorted([old, *others])


@pytest.mark.parametrize(
    ("jobs", "threads", "per_task"),
    [(1, 1, 1), (16, 2, 1), (17, 2, 2), (400, 2, 25), (10**7, 4, 64)],
)
def test_jobs_per_task(jobs, threads, per_task):
    assert cluster.jobs_per_task(jobs, threads) == per_task
