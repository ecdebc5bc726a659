"""A folder of photos to PNG: poolcli's batch against ImageMagick's mogrify and libvips.

Run:  python benchmarks/bench_batch.py [--images 200] [--repeat 3] [--levels] [--workers]

Makes 200 synthetic 640x480 JPEGs (smooth gradients and noise, so that their PNGs compress as
photos do) in a temporary folder, then times, in the same run and in turn:

    poolcli max DIR -k 2 -o OUT --format png -j 1     (and -j 2)
    mogrify -path OUT -scale 50% -format png DIR/*.jpg
    vips shrink IN.jpg OUT.png 2 2                    over xargs -P 2, one process an image
    vipsthumbnail DIR/*.jpg --size 320x240 -o OUT/%s.png

each as a fresh process, as a user would run it. Prints the median images per second of each,
the size of its PNGs, and the ratios. Tools that are not installed are left out.

--levels times Pillow's PNG encoder at each zlib level on the pooled images (what poolcli's
imageio uses is its _PNG_COMPRESS_LEVEL). --workers compares the ways to spread the work over
two CPUs inside one Python process: threads (what poolcli.batch uses) and processes.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from poolcli.batch import runner
from poolcli.batch.console import Console
from poolcli.batch.jobs import Job, Plan, Status
from poolcli.batch.plan import plan
from poolcli.batch.process import process
from poolcli.batch.recipe import Recipe
from poolcli.core import engine
from poolcli.core.geometry import Window
from poolcli.imaging.tasks import Pooling
from poolcli.io import formats
from poolcli.io import images as imageio

WIDTH, HEIGHT = 640, 480


def make_images(folder: Path, count: int) -> list[Path]:
    """``count`` photo-like JPEGs: a few smooth waves and blobs per channel, plus sensor noise."""
    rng = np.random.default_rng(20240611)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    paths = []
    for index in range(count):
        a, b, c = rng.uniform(0.5, 3.0, 3)
        phase = rng.uniform(0, 2 * np.pi, 3)
        cy, cx = rng.uniform(0, HEIGHT), rng.uniform(0, WIDTH)
        red = 128 + 100 * np.sin(x / WIDTH * a * np.pi + phase[0]) * np.cos(y / HEIGHT * b * 2)
        green = 128 + 100 * np.sin((x + y) / (WIDTH + HEIGHT) * c * 4 + phase[1])
        blue = 128 + 90 * np.cos(np.hypot(x - cx, y - cy) / 80 + phase[2])
        noise = rng.normal(0, 6, (HEIGHT, WIDTH, 3))
        pixels = np.clip(np.stack([red, green, blue], axis=-1) + noise, 0, 255).astype(np.uint8)
        path = folder / f"photo{index:04d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def tools(source: Path, files: list[Path]) -> dict[str, Callable[[Path], list[str] | str]]:
    """name -> a function of the output folder giving the command to run (a list, or shell)."""
    found: dict[str, Callable[[Path], list[str] | str]] = {}
    poolcli = [sys.executable, "-m", "poolcli", "max", str(source), "-k", "2", "--format", "png"]
    found["poolcli -j 1"] = lambda out: [*poolcli, "-o", str(out), "-j", "1", "-q"]
    found["poolcli -j 2"] = lambda out: [*poolcli, "-o", str(out), "-j", "2", "-q"]
    magick = shutil.which("magick")
    mogrify = [magick, "mogrify"] if magick else [shutil.which("mogrify") or ""]
    if mogrify[0]:
        names = [str(path) for path in files]
        found["mogrify"] = lambda out: [
            *mogrify, "-path", str(out), "-scale", "50%", "-format", "png", *names
        ]  # fmt: skip
    if shutil.which("vips"):
        found["vips shrink, xargs -P 2"] = lambda out: (
            f"printf '%s\\0' {source}/*.jpg | xargs -0 -n 1 -P 2 sh -c "
            f'\'vips shrink "$1" "$0/$(basename "$1" .jpg).png" 2 2\' {out}'
        )
    if shutil.which("vipsthumbnail"):
        found["vipsthumbnail"] = lambda out: (
            f"vipsthumbnail {source}/*.jpg --size {WIDTH // 2}x{HEIGHT // 2} -o {out}/%s.png"
        )
    return found


def time_command(command: list[str] | str, out: Path) -> float:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    start = time.perf_counter()
    subprocess.run(command, shell=isinstance(command, str), check=True)
    return time.perf_counter() - start


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


def compare_tools(source: Path, files: list[Path], work: Path, repeat: int) -> None:
    commands = tools(source, files)
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    sizes: dict[str, int] = {}
    for command in commands.values():  # warm up: page cache, imports, .pyc files
        time_command(command(work / "out"), work / "out")
    for _ in range(repeat):
        for name, command in commands.items():
            out = work / "out"
            seconds[name].append(time_command(command(out), out))
            assert len(list(out.iterdir())) == len(files), f"{name} wrote the wrong count"
            sizes[name] = folder_bytes(out)
    rates = {name: len(files) / statistics.median(times) for name, times in seconds.items()}

    print(f"\n{len(files)} JPEGs of {WIDTH}x{HEIGHT} -> PNG at half size, {os.cpu_count()} CPUs")
    print(f"median of {repeat} runs each, in turn\n")
    print(f"{'tool':<26}{'seconds':>9}{'images/s':>10}{'PNG MB':>9}")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:<26}{median:>9.2f}{rates[name]:>10.1f}{sizes[name] / 1e6:>9.1f}")
    print()
    ours = rates["poolcli -j 2"]
    width = max(len(name) for name in commands) + 2
    for name in ["poolcli -j 1", *(name for name in commands if not name.startswith("poolcli"))]:
        print(f"poolcli -j 2 / {name:<{width}}{ours / rates[name]:5.2f}x")


def compare_levels(files: list[Path]) -> None:
    """Encode the pooled images at each zlib level: milliseconds an image and total size."""
    pooled = []
    for path in files:
        array, _ = imageio.load_image(path)
        result = engine.pool(array, "max", size=2)
        pooled.append(Image.fromarray(np.ascontiguousarray(result[0].transpose(1, 2, 0))))
    print(f"\nPillow PNG encoder on the {len(files)} pooled images (320x240 RGB)\n")
    print(f"{'compress_level':<16}{'ms/image':>9}{'total MB':>10}{'vs 6':>8}")
    sizes = {}
    times = {}
    for level in (1, 2, 3, 4, 5, 6, 9):
        start = time.perf_counter()
        total = 0
        for image in pooled:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=level)
            total += buffer.tell()
        times[level] = (time.perf_counter() - start) / len(pooled) * 1000
        sizes[level] = total
    for level in times:
        print(
            f"{level:<16}{times[level]:>9.2f}{sizes[level] / 1e6:>10.2f}"
            f"{sizes[level] / sizes[6] - 1:>+8.1%}"
        )
    print(f"poolcli uses compress_level={formats.PNG_COMPRESS_LEVEL}")


def _single_threaded_engine() -> None:
    engine.PARALLEL_MIN_BYTES = sys.maxsize


def _process_one(job: Job, recipe: Recipe) -> Status:
    return process(job, recipe).status


def compare_workers(source: Path, work: Path, repeat: int) -> None:
    """Threads against processes, two of each, for the same jobs and the same process()."""
    out = work / "workers"
    recipe = Recipe(Pooling("max", Window.of(size=2)))  # plain data: it pickles to processes
    quiet = Console(echo=lambda text, err: None, quiet=True)

    def jobs() -> tuple[Job, ...]:
        if out.exists():
            shutil.rmtree(out)
        return plan([str(source)], op="max", output=str(out), format="png").jobs

    def one_thread() -> None:
        runner.run(Plan(jobs(), True, str(out)), recipe, quiet, runner=runner.ThreadRunner(1))

    def threads() -> None:  # the thread runner: engine single-threaded in each worker
        runner.run(Plan(jobs(), True, str(out)), recipe, quiet, runner=runner.ThreadRunner(2))

    def threads_engine_threaded() -> None:
        todo = jobs()
        out.mkdir()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(_process_one, todo, [recipe] * len(todo)))

    def processes(initializer: Callable[[], None] | None) -> Callable[[], None]:
        def run() -> None:
            todo = jobs()
            out.mkdir()
            with ProcessPoolExecutor(2, initializer=initializer) as pool:
                list(pool.map(_process_one, todo, [recipe] * len(todo), chunksize=4))

        return run

    ways = {
        "1 worker (-j 1)": one_thread,
        "2 threads, engine 1 thread each": threads,
        "2 threads, engine's own pool": threads_engine_threaded,
        "2 processes, engine 1 thread each": processes(_single_threaded_engine),
        "2 processes, engine's own pool": processes(None),
    }
    count = len(jobs())
    rates: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeat):
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            rates[name].append(count / (time.perf_counter() - start))
    print(f"\ndecode + pool + encode in one Python process, {count} images, median of {repeat}\n")
    print(f"{'workers':<36}{'images/s':>9}{'best':>8}")
    for name, values in rates.items():
        print(f"{name:<36}{statistics.median(values):>9.1f}{max(values):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--levels", action="store_true", help="time PNG zlib levels too")
    parser.add_argument("--workers", action="store_true", help="threads against processes too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="poolcli-bench-") as temporary:
        work = Path(temporary)
        source = work / "photos"
        source.mkdir()
        files = make_images(source, args.images)
        compare_tools(source, files, work, args.repeat)
        if args.levels:
            compare_levels(files)
        if args.workers:
            compare_workers(source, work, args.repeat)


if __name__ == "__main__":
    main()
