"""Images larger than memory: poolcli's chunked path against libvips and dask.array.coarsen.

Makes tiled uint8 TIFFs of 15000x15000 and 40000x40000 pixels (tile by tile, never whole in
memory: 225 MB and 1.6 GB), then times, in one run, each tool in its own process, and reads
that process's peak resident memory (``wait4``'s ``ru_maxrss``):

- ``avg -k 2``, tiled TIFF to tiled TIFF: ``poolcli avg`` against ``vips shrink`` (tiled output);
- ``max -k 2``, to a tiled TIFF and to Zarr: ``poolcli max``; libvips has no one-level max
  shrink, so its reference is ``vips tiffsave --tile --pyramid --region-shrink max``, which
  writes the whole pyramid (about a third more pixels than one level);
- the Python reference: ``dask.array.coarsen`` (``np.max`` and ``np.mean``) of the TIFF read
  through tifffile's Zarr store, stored to Zarr; its mean is float64, as coarsen makes it.

Run: ``python benchmarks/bench_chunked.py [--sizes 15000,40000] [--folder DIR] [--keep]``.
Needs the chunked extra and libvips (``vips``) on PATH. Prints megapixels (of the input) per
second and peak RSS, and poolcli's ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import numpy as np
import tifffile

TILE = 512


def make_tiff(path: str, side: int) -> None:
    """A tiled uint8 TIFF of side x side pixels: a gradient with noise, tile by tile."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 64, (8, TILE, TILE), dtype=np.uint8)
    tiles_across = -(-side // TILE)

    def tiles() -> Iterator[np.ndarray]:
        for row in range(tiles_across):
            for col in range(tiles_across):
                base = np.uint8((row * 7 + col * 13) % 192)
                yield noise[(row + col) % 8] + base

    tifffile.imwrite(
        path, tiles(), shape=(side, side), dtype=np.uint8, tile=(TILE, TILE), bigtiff=True
    )


def timed(command: list[str]) -> tuple[float, float]:
    """Seconds and peak resident memory (MiB) of ``command`` run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {stderr}")
    return elapsed, usage.ru_maxrss / 1024


DASK_REFERENCE = """
import sys, dask, dask.array as da, numpy as np, tifffile, zarr
source, target, op = sys.argv[1:4]
store = tifffile.imread(source, aszarr=True)
x = da.from_zarr(zarr.open(store=store, mode="r"), chunks=(2048, 2048))
y = da.coarsen(np.max if op == "max" else np.mean, x, {0: 2, 1: 2}, trim_excess=True)
y.to_zarr(target, overwrite=True)
"""


def runs(source: str, work: str) -> list[tuple[str, str, list[str]]]:
    poolcli = [sys.executable, "-m", "poolcli"]
    out = os.path.join(work, "out")
    tiled = "[tile,tile-width=512,tile-height=512,bigtiff]"
    return [
        ("avg -k 2 -> tif", "poolcli", [*poolcli, "avg", source, "-k", "2", "-o", out + ".tif",
                                        "--overwrite"]),
        ("avg -k 2 -> tif", "vips shrink", ["vips", "shrink", source, out + ".v.tif" + tiled,
                                            "2", "2"]),
        ("avg -k 2 -> zarr", "poolcli", [*poolcli, "avg", source, "-k", "2", "-o", out + ".zarr",
                                         "--overwrite"]),
        ("avg -k 2 -> zarr", "dask coarsen mean", [sys.executable, "-c", DASK_REFERENCE, source,
                                                   out + ".d.zarr", "mean"]),
        ("max -k 2 -> tif", "poolcli", [*poolcli, "max", source, "-k", "2", "-o", out + ".tif",
                                        "--overwrite"]),
        ("max -k 2 -> tif", "vips pyramid max", ["vips", "tiffsave", source, out + ".p.tif",
                                                 "--tile", "--pyramid", "--region-shrink", "max",
                                                 "--bigtiff"]),
        ("max -k 2 -> zarr", "poolcli", [*poolcli, "max", source, "-k", "2", "-o", out + ".zarr",
                                         "--overwrite"]),
        ("max -k 2 -> zarr", "dask coarsen max", [sys.executable, "-c", DASK_REFERENCE, source,
                                                  out + ".d.zarr", "max"]),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="15000,40000")
    parser.add_argument("--folder", default=None, help="where to make the images (a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the images made")
    args = parser.parse_args()
    if shutil.which("vips") is None:
        sys.exit("bench_chunked needs libvips: apt-get install libvips-tools")
    folder = args.folder or tempfile.mkdtemp(prefix="bench-chunked-")
    print(f"{'size':>11}  {'op':<17} {'tool':<19} {'s':>7} {'MP/s':>7} {'peak RSS':>9}  ratio")
    poolcli_rss: list[float] = []
    try:
        for side in (int(s) for s in args.sizes.split(",")):
            source = os.path.join(folder, f"big{side}.tif")
            if not os.path.exists(source):
                make_tiff(source, side)
            megapixels = side * side / 1e6
            work = tempfile.mkdtemp(dir=folder)
            ours: dict[str, float] = {}
            for label, tool, command in runs(source, work):
                seconds, rss = timed(command)
                rate = megapixels / seconds
                if tool == "poolcli":
                    ours[label] = rate
                    poolcli_rss.append(rss)
                    ratio = ""
                else:
                    ratio = f"poolcli {ours[label] / rate:.2f}x"
                print(f"{side:>5}x{side:<5}  {label:<17} {tool:<19} {seconds:7.2f} {rate:7.1f} "
                      f"{rss:7.0f} MiB  {ratio}", flush=True)  # fmt: skip
            shutil.rmtree(work)
            if not args.keep:
                os.unlink(source)
    finally:
        if args.folder is None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"poolcli's peak RSS: {min(poolcli_rss):.0f} to {max(poolcli_rss):.0f} MiB")


if __name__ == "__main__":
    main()
