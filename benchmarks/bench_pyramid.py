"""Full pyramids of huge tiled TIFFs: poolcli against libvips and dask.array.coarsen, and drift.

Run:  python benchmarks/bench_pyramid.py [--side 40000] [--rgb-side 20000] [--folder DIR]

Makes (tile by tile, never whole in memory) a SIDE x SIDE uint8 grey tiled TIFF and an
RGB-SIDE x RGB-SIDE RGB one, then writes full pyramids, each as its own process, and prints
megapixels of the base per second and the peak resident memory of the whole process:

- ``poolcli pyramid`` avg and max to OME-Zarr and to pyramidal TIFF (uncompressed, as libvips
  writes by default), and avg to Deep Zoom (JPEG tiles, as ``vips dzsave``), as a user runs
  it: the levels stream from the TIFF in one pass;
- ``vips tiffsave --tile --pyramid`` (mean; ``--region-shrink max`` for max) and ``vips dzsave``;
- the Python references: ngff-zarr's ``to_multiscales`` with its Dask bin shrink (the mean of
  each factor-2 block, when ngff-zarr is installed: ``pip install ngff-zarr``), and
  ``dask.array.coarsen`` level by level (mean of the level above, trimmed to the factor, one
  ``to_zarr`` per level), as it is commonly done.

Every run starts after ``sync``: at these sizes the outputs (gigabytes) are written faster than
the disk takes them, and a run would otherwise pay for the write-back of the one before.

Then the drift on the grey image: the mean of the last level minus the mean of the base pooled
directly to that level (for poolcli its own definition, windows of 2**L with ceil; for the others
the windows their level sizes imply). Large runs take minutes and gigabytes of disk; the images
are kept in ``--folder`` (default: a temporary folder) between runs with ``--keep``; each output
is removed once measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TILE = 512
#: GNU time, for the peak memory of each run (without it the peaks are left out).
TIME = os.path.exists("/usr/bin/time")


def make_tiff(path: Path, side: int, channels: int) -> None:
    """A tiled uncompressed TIFF of smooth gradients plus noise, written tile by tile."""
    import tifffile

    def tiles():
        rng = np.random.default_rng(0)
        for top in range(0, side, TILE):
            for left in range(0, side, TILE):
                y, x = np.mgrid[top : top + TILE, left : left + TILE].astype(np.float32)
                planes = [128 + 100 * np.sin(x / 900 + y / 1300 + k) for k in range(channels)]
                values = np.stack(planes, axis=-1) + rng.normal(0, 20, (TILE, TILE, channels))
                tile = np.clip(values, 0, 255).astype(np.uint8)
                yield tile if channels > 1 else tile[..., 0]

    shape = (side, side, channels) if channels > 1 else (side, side)
    tifffile.imwrite(
        path,
        tiles(),
        shape=shape,
        dtype=np.uint8,
        tile=(TILE, TILE),
        photometric="rgb" if channels > 1 else "minisblack",
        bigtiff=True,
    )


COARSEN = """
import sys, dask.array as da, tifffile, zarr
source, target = sys.argv[1:3]
level = da.from_zarr(zarr.open(tifffile.imread(source, aszarr=True), mode="r"))
axes = {0: 2, 1: 2}
index = 0
while True:
    da.to_zarr(level, f"{target}/{index}", overwrite=True)
    if max(level.shape[:2]) <= 512:
        break
    level = da.coarsen(da.mean, da.from_zarr(f"{target}/{index}"), axes, trim_excess=True)
    level = level.astype("uint8").rechunk((512, 512) + level.shape[2:])
    index += 1
"""


NGFF_ZARR = """
import sys, dask.array as da, tifffile, zarr
import ngff_zarr as nz
source, target = sys.argv[1:3]
array = da.from_zarr(zarr.open(tifffile.imread(source, aszarr=True), mode="r"))
image = nz.to_ngff_image(array, dims=["y", "x"] if array.ndim == 2 else ["y", "x", "c"])
multiscales = nz.to_multiscales(image, method=nz.Methods.DASK_BIN_SHRINK, chunks=512)
nz.to_ngff_zarr(target, multiscales)
"""


def measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``command`` as one process.

    The peak is GNU time's (``/usr/bin/time -f %M``): a child forked from this Python process
    would count this process's memory at the fork in its own peak.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        timer = ["/usr/bin/time", "-f", "%M", "-o", report.name] if TIME else []
        start = time.perf_counter()
        done = subprocess.run([*timer, *command], stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"failed: {' '.join(command)}")
        peak = float(report.read().split()[-1]) / 1024 if TIME else float("nan")
    return seconds, peak


def last_level(path: Path) -> np.ndarray:
    """The smallest level of a written pyramid (OME-Zarr, TIFF or a coarsen folder)."""
    import tifffile
    import zarr

    if path.suffix == ".tif":
        with tifffile.TiffFile(path) as tiff:
            if len(tiff.pages) > 1:  # vips: one page a level (with the input's description)
                return tiff.pages[len(tiff.pages) - 1].asarray()
            return tiff.series[0].levels[-1].asarray()
    if path.suffix == ".coarsen":  # one array a level, in folders 0, 1, ...
        last = max(int(p.name) for p in path.iterdir() if p.name.isdigit())
        return zarr.open_array(str(path / str(last)), mode="r")[:]
    group = zarr.open_group(str(path), mode="r")
    datasets = group.attrs["ome"]["multiscales"][0]["datasets"]
    return group[datasets[-1]["path"]][:]


def drift(source: Path, last: np.ndarray) -> float:
    """Mean of ``last`` minus the mean of the base pooled directly to its size."""
    import dask
    import tifffile
    import zarr

    from poolcli import chunked

    base = chunked.as_dask(zarr.open(tifffile.imread(source, aszarr=True), mode="r"))
    height, width = base.shape[:2]
    level = round(np.log2(height / last.shape[0]))
    window = 2**level
    if (-(-height // window), -(-width // window)) == last.shape[:2]:
        direct = chunked.pool(base, "avg", size=window, ceil_mode=True)
    elif (height // window, width // window) == last.shape[:2]:
        direct = chunked.pool(base, "avg", size=window)
    else:
        direct = chunked.adaptive_pool(base, last.shape[:2], "avg")
    (reference,) = dask.compute(direct.mean(dtype=np.float64))
    return float(last.mean(dtype=np.float64) - reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=40000, help="grey image side")
    parser.add_argument("--rgb-side", type=int, default=20000, help="RGB image side")
    parser.add_argument("--folder", type=Path, help="where the images and outputs go")
    parser.add_argument("--keep", action="store_true", help="keep the folder")
    arguments = parser.parse_args()
    folder = arguments.folder or Path(tempfile.mkdtemp(prefix="bench-pyramid-"))
    folder.mkdir(parents=True, exist_ok=True)
    vips = shutil.which("vips")
    rows = []
    drifts = []
    try:
        for name, side, channels in (
            ("grey", arguments.side, 1),
            ("rgb", arguments.rgb_side, 3),
        ):
            source = folder / f"{name}-{side}.tif"
            if not source.exists():
                print(f"making {source} ...", file=sys.stderr)
                make_tiff(source, side, channels)
            megapixels = side * side / 1e6
            runs: list[tuple[str, list[str], Path]] = []
            for op in ("avg", "max"):
                for suffix in (".ome.zarr", ".tif"):
                    out = folder / f"{name}.poolcli-{op}{suffix}"
                    command = [sys.executable, "-m", "poolcli", "pyramid", str(source), "-o",
                               str(out), "--op", op, "--quiet"]  # fmt: skip
                    runs.append((f"poolcli {op} -> {suffix[1:]}", command, out))
            dzi = folder / f"{name}.poolcli.dzi"
            command = [
                sys.executable,
                "-m",
                "poolcli",
                "pyramid",
                str(source),
                "-o",
                str(dzi),
                "-q",
            ]
            runs.append(("poolcli avg -> dzi", command, None))
            if vips is not None:
                for op, extra in (("avg", []), ("max", ["--region-shrink", "max"])):
                    out = folder / f"{name}.vips-{op}.tif"
                    command = [vips, "tiffsave", str(source), str(out), "--tile", "--pyramid"]
                    command += ["--tile-width", "512", "--tile-height", "512", "--bigtiff", *extra]
                    runs.append((f"vips tiffsave {op}", command, out))
                runs.append(
                    ("vips dzsave", [vips, "dzsave", str(source), str(folder / name)], None)
                )
            if importlib.util.find_spec("ngff_zarr") is not None:
                out = folder / f"{name}.ngff-zarr.ome.zarr"
                command = [sys.executable, "-c", NGFF_ZARR, str(source), str(out)]
                runs.append(("ngff-zarr bin shrink (mean)", command, out))
            out = folder / f"{name}.coarsen"
            runs.append(
                ("dask.array.coarsen mean", [sys.executable, "-c", COARSEN, str(source), str(out)],
                 out)
            )  # fmt: skip
            stale = (f"{name}.dzi", f"{name}_files", f"{name}.poolcli.dzi", f"{name}.poolcli_files")
            for label, command, out in runs:
                os.sync()  # no run pays for the write-back of the one before
                seconds, rss = measured(command)
                rows.append((name, f"{side}x{side}", label, megapixels / seconds, rss, seconds))
                print(f"{rows[-1][0]:5} {label:26} {rows[-1][3]:8.1f} MP/s {rss:7.0f} MiB",
                      file=sys.stderr)  # fmt: skip
                averages = "avg" in label or "mean" in label or "shrink" in label
                if name == "grey" and out is not None and averages:
                    drifts.append((label, drift(source, last_level(out))))
                # Each output goes once measured: gigabytes of them left in the page cache
                # would slow the runs after.
                for old in (out, *(folder / part for part in stale)):
                    if old is not None and old.is_dir():
                        shutil.rmtree(old)
                    elif old is not None and old.exists():
                        old.unlink()
        print(f"\n{'image':6} {'size':12} {'run':28} {'MP/s':>8} {'peak RSS':>10} {'seconds':>8}")
        for name, size, label, rate, rss, seconds in rows:
            print(f"{name:6} {size:12} {label:28} {rate:8.1f} {rss:7.0f} MiB {seconds:8.1f}")
        print("\ndrift (mean of the last level - mean of the base pooled directly to it), grey:")
        for label, value in drifts:
            print(f"  {label:28} {value:+.4f}")
    finally:
        if not arguments.keep and arguments.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
