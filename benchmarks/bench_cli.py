"""One 4K JPEG pooled 2×2 as whole processes: poolcli against ImageMagick, libvips and the floor.

Run:  python benchmarks/bench_cli.py [--repeat 7]

The floor is what any Pillow-based tool must pay: start Python, import poolcli, decode the JPEG and
encode an image of the output's size. Ratios above 1 mean poolcli is faster (for the floor: the
floor / poolcli, at most 1). Tools that are not installed are left out. Also times `poolcli --help`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

FLOOR = """
import sys, poolcli
from PIL import Image
if len(sys.argv) > 3:
    import numpy  # noqa: F401  (the array library any numpy-based tool has to load)
image = Image.open(sys.argv[1]); image.load()
small = image.resize((image.width // 2, image.height // 2), Image.Resampling.NEAREST)
small.save(sys.argv[2], quality=90, subsampling=0, compress_level=4)
"""


def make_photo(path: Path) -> None:
    """A 3840×2160 photo-like JPEG: smooth gradients, texture and noise (not compressible to 0)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:2160, 0:3840].astype(np.float32)
    base = np.stack(
        [
            128 + 100 * np.sin(x / 300 + y / 500),
            128 + 90 * np.cos(x / 450 - y / 250),
            128 + 80 * np.sin((x + y) / 700),
        ],
        axis=-1,
    )
    base += rng.normal(0, 12, base.shape).astype(np.float32)
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path, quality=92)


#: Every tool runs as installed: with Python's bytecode cache (a sandbox may switch it off).
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_seconds(command: list[str], repeat: int) -> float:
    # The first run warms the page cache and writes bytecode.
    subprocess.run(command, check=True, capture_output=True, env=ENVIRONMENT)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=ENVIRONMENT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def installed_poolcli() -> str | None:
    """The poolcli script of this Python's environment, as the floor runs this Python itself.

    Not the first ``poolcli`` on PATH: a version manager's shim there (pyenv's) is a shell
    script that finds the real one, and costs ~90 ms a run on its own.
    """
    beside = Path(sys.executable).parent / "poolcli"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("poolcli")


def imagemagick() -> str | None:
    """Debian's own ImageMagick binary (the first `convert` on PATH may be a stand-in)."""
    for name in ("magick", "convert-im6.q16", "/usr/bin/convert"):
        found = shutil.which(name)
        if found and "/usr/local/" not in found:
            return found
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (median)")
    args = parser.parse_args()
    poolcli = installed_poolcli() or sys.exit("poolcli is not installed: pip install .")
    folder = Path(tempfile.mkdtemp(prefix="poolcli-bench-"))
    source = folder / "photo.jpg"
    make_photo(source)
    print(f"input: {source.name}, 3840x2160 JPEG, {source.stat().st_size / 1e6:.1f} MB\n")

    help_seconds = median_seconds([poolcli, "--help"], args.repeat)
    print(f"poolcli --help: {help_seconds * 1000:.0f} ms\n")

    print(f"{'output':6} {'tool':24} {'ms':>7} {'ratio':>7}")
    for extension in ("jpg", "png"):
        out = str(folder / f"out.{extension}")
        ours = median_seconds([poolcli, "max", str(source), "-o", out, "-q"], args.repeat)
        rows = [("poolcli max -k 2", ours)]
        rows.append(
            (
                "poolcli avg -k 2",
                median_seconds([poolcli, "avg", str(source), "-o", out, "-q"], args.repeat),
            )
        )
        floor = [sys.executable, "-c", FLOOR, str(source), out]
        rows.append(("floor (python+Pillow)", median_seconds(floor, args.repeat)))
        rows.append(("floor + import numpy", median_seconds([*floor, "numpy"], args.repeat)))
        magick = imagemagick()
        if magick:
            command = [magick, str(source), "-scale", "50%", out]
            rows.append(("ImageMagick -scale 50%", median_seconds(command, args.repeat)))
        vips = shutil.which("vips")
        if vips:
            command = [vips, "shrink", str(source), out, "2", "2"]
            rows.append(("vips shrink 2 2", median_seconds(command, args.repeat)))
        for name, seconds in rows:
            print(f"{extension:6} {name:24} {seconds * 1000:7.0f} {seconds / ours:7.2f}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
