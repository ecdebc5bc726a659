"""A folder of photos on a Dask cluster: what --scheduler costs against the thread runner.

Run:  python benchmarks/bench_cluster.py [--images 400] [--repeat 3] [--tasks 1000]

Makes 400 synthetic 640x480 JPEGs (those of bench_batch.py: smooth waves and sensor noise) in a
temporary folder, then times, in the same run and in turn, each as a fresh process as a user
would run it:

    poolcli max DIR -k 2 -o OUT -q -j 2                        the thread runner, two threads
    poolcli max DIR -k 2 -o OUT -q --scheduler local:2         a LocalCluster the command starts
    poolcli max DIR -k 2 -o OUT -q --scheduler tcp://...       a running scheduler with two
                                                               single-threaded workers

The scheduler and its workers (``dask scheduler``, ``dask worker --nworkers 2 --nthreads 1``)
are started by the benchmark on 127.0.0.1, with the Dask settings the README advises (those of
``local:N``), and stopped at the end. Prints the median images per
second of each and its ratio to the thread runner (the target on a 2-core machine: within 15 %),
both of the whole run (a fresh process) and in the steady state (the same runner in the
benchmark's process, from its first outcome to its last: no start, connection or stop), then
the per-task overhead, measured on the same scheduler: --tasks tasks of no jobs at all
handed over at once, so that their time is Dask's cost of a task alone (and the round trip of
one task waited for). Divided by the jobs a task does in a run of this size, that is the
overhead per image. docs/scaling.md uses these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from poolcli.batch import cluster
from poolcli.batch.cluster import DaskRunner
from poolcli.batch.jobs import Job, Status
from poolcli.batch.plan import plan
from poolcli.batch.recipe import Recipe
from poolcli.batch.runner import Runner, ThreadRunner
from poolcli.core.geometry import Window
from poolcli.imaging.tasks import Pooling

WIDTH, HEIGHT = 640, 480


def make_images(folder: Path, count: int) -> None:
    """``count`` photo-like JPEGs: a few smooth waves and blobs per channel, plus sensor noise."""
    rng = np.random.default_rng(20240611)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    for index in range(count):
        a, b, c = rng.uniform(0.5, 3.0, 3)
        phase = rng.uniform(0, 2 * np.pi, 3)
        cy, cx = rng.uniform(0, HEIGHT), rng.uniform(0, WIDTH)
        red = 128 + 100 * np.sin(x / WIDTH * a * np.pi + phase[0]) * np.cos(y / HEIGHT * b * 2)
        green = 128 + 100 * np.sin((x + y) / (WIDTH + HEIGHT) * c * 4 + phase[1])
        blue = 128 + 90 * np.cos(np.hypot(x - cx, y - cy) / 80 + phase[2])
        noise = rng.normal(0, 6, (HEIGHT, WIDTH, 3))
        pixels = np.clip(np.stack([red, green, blue], axis=-1) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{index:04d}.jpg", quality=90)


DASK_SETTINGS = """\
distributed:
  scheduler:
    worker-saturation: 1.0
  nanny:
    pre-spawn-environ:
      MALLOC_TRIM_THRESHOLD_: null
"""


class Scheduler:
    """``dask scheduler`` and two single-threaded workers on 127.0.0.1, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        file = folder / "scheduler.json"
        self.log = open(folder / "cluster.log", "wb")  # noqa: SIM115
        settings = folder / "dask-config"  # the README's Dask settings for poolcli
        settings.mkdir()
        (settings / "poolcli.yaml").write_text(DASK_SETTINGS)
        env = {**os.environ, "DASK_CONFIG": str(settings)}
        quiet = {"cwd": folder, "stdout": self.log, "stderr": self.log, "env": env}
        dask = [sys.executable, "-m", "dask"]
        self.processes = [
            subprocess.Popen(
                [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
                + ["--scheduler-file", str(file)],
                **quiet,
            )
        ]
        while not (file.exists() and file.stat().st_size):
            time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]
        self.processes.append(
            subprocess.Popen(
                [*dask, "worker", self.address, "--nworkers", "2", "--nthreads", "1"]
                + ["--host", "127.0.0.1", "--no-dashboard"],
                **quiet,
            )
        )
        import distributed

        self.client = distributed.Client(self.address, timeout=60)
        self.client.wait_for_workers(2, timeout=120)

    def close(self) -> None:
        self.client.shutdown()
        self.client.close()
        for process in reversed(self.processes):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()


def time_command(command: list[str], out: Path) -> float:
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def task_overhead(client: object, tasks: int) -> tuple[float, float]:
    """Seconds a task of no jobs costs (``poolcli.batch.cluster.work`` of an empty batch): with
    ``tasks`` of them handed over at once, their total time over their number (what limits a
    cluster's throughput); and one at a time, each waited for (the round trip a task's result
    takes back, which the runner hides by keeping tasks queued)."""
    recipe = Recipe(Pooling("max"))
    submit = client.submit  # type: ignore[attr-defined]
    gather = client.gather  # type: ignore[attr-defined]
    gather([submit(cluster.work, (), recipe, 0, pure=False) for _ in range(20)])  # warm up
    start = time.perf_counter()
    gather([submit(cluster.work, (), recipe, 0, pure=False) for _ in range(tasks)])
    throughput = (time.perf_counter() - start) / tasks
    rounds = max(1, tasks // 10)
    start = time.perf_counter()
    for _ in range(rounds):
        submit(cluster.work, (), recipe, 0, pure=False).result()
    return throughput, (time.perf_counter() - start) / rounds


def steady(runner: Runner, jobs: tuple[Job, ...], out: Path) -> tuple[float, float]:
    """Images a second of ``runner`` once started: from its first outcome to its last, in this
    process (no start, connection or stop in it); and this process's CPU seconds an image
    meanwhile (the work itself for threads; what the client spends on each for a cluster)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    outcomes = runner.outcomes(jobs, Recipe(Pooling("max", Window.of(size=2))))
    try:
        first = next(outcomes)
        start, cpu = time.perf_counter(), time.process_time()
        rest = sum(1 for _ in outcomes)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        runner.stop()
    assert first.status is Status.DONE
    return rest / took, cpu / rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()
    env_source = str(Path(__file__).resolve().parent.parent)
    os.environ["PYTHONPATH"] = env_source + os.pathsep + os.environ.get("PYTHONPATH", "")

    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as temporary:
        work = Path(temporary)
        source = work / "photos"
        source.mkdir()
        print(f"making {args.images} {WIDTH}x{HEIGHT} JPEGs ...", flush=True)
        make_images(source, args.images)
        scheduler = Scheduler(work)
        out = work / "out"
        runners = {
            "threads, -j 2": ["-j", "2"],
            "--scheduler local:2": ["--scheduler", "local:2"],
            "--scheduler tcp:// (2 workers x 1 thread)": ["--scheduler", scheduler.address],
        }
        in_process: dict[str, Callable[[], Runner]] = {
            "threads, -j 2": lambda: ThreadRunner(2),
            "--scheduler local:2": lambda: DaskRunner("local:2"),
            "--scheduler tcp:// (2 workers x 1 thread)": lambda: DaskRunner(scheduler.address),
        }
        jobs = plan([str(source)], op="max", output=str(out)).jobs
        try:
            poolcli = [sys.executable, "-m", "poolcli", "max", str(source), "-k", "2", "-q"]
            for options in runners.values():  # warm up: page cache, imports, .pyc files
                time_command([*poolcli, "-o", str(out), *options], out)
            seconds: dict[str, list[float]] = {name: [] for name in runners}
            rates: dict[str, list[float]] = {name: [] for name in runners}
            cpus: dict[str, list[float]] = {name: [] for name in runners}
            for _ in range(args.repeat):
                for name, options in runners.items():
                    seconds[name].append(time_command([*poolcli, "-o", str(out), *options], out))
                    rate, cpu = steady(in_process[name](), jobs, out)
                    rates[name].append(rate)
                    cpus[name].append(cpu)
            read = sum(path.stat().st_size for path in source.iterdir())
            written = sum(path.stat().st_size for path in out.iterdir())
            threads = 2
            overhead, round_trip = task_overhead(scheduler.client, args.tasks)
        finally:
            scheduler.close()

    print()
    print(f"{args.images} JPEGs {WIDTH}x{HEIGHT}, max -k 2 to JPEG; median of {args.repeat} runs")
    print(
        "'whole': poolcli as a fresh process, start and stop included; 'steady': the runner in "
        "one process, from its first outcome to its last; 'here ms': that process's CPU an image"
    )
    header = f"{'runner':<42} {'whole s':>7} {'images/s':>8} {'vs':>6}"
    print(f"{header} {'steady images/s':>15} {'vs':>6} {'here ms':>7}")
    base_whole = statistics.median(seconds["threads, -j 2"])
    base_steady = statistics.median(rates["threads, -j 2"])
    for name in runners:
        whole = statistics.median(seconds[name])
        rate = statistics.median(rates[name])
        print(
            f"{name:<42} {whole:7.2f} {args.images / whole:8.1f} {base_whole / whole:5.2f}x "
            f"{rate:15.1f} {rate / base_steady:5.2f}x {statistics.median(cpus[name]) * 1000:7.2f}"
        )
    per_image = threads / base_steady
    per_task = cluster.jobs_per_task(args.images, threads)
    tasks = -(-args.images // per_task)
    print()
    print(
        f"storage: {read / args.images / 1000:.0f} kB read and {written / args.images / 1000:.0f}"
        " kB written an image"
    )
    print(
        f"per image, one thread: {per_image * 1000:.1f} ms (2 threads / the steady images/s); "
        f"CPU: {statistics.median(cpus['threads, -j 2']) * 1000:.1f} ms"
    )
    print(
        f"per task: {overhead * 1000:.2f} ms ({args.tasks} empty tasks at once through the "
        f"scheduler; one at a time, waited for: {round_trip * 1000:.2f} ms)"
    )
    print(
        f"{per_task} jobs a task, {tasks} tasks: {overhead / per_task * 1000:.3f} ms an image, "
        f"{overhead / per_task / per_image * 100:.2f} % of its work"
    )


if __name__ == "__main__":
    main()
