"""poolcli.pool against PyTorch, OpenCV, Pillow, scikit-image and the textbook im2col.

Run:  python benchmarks/bench_engine.py [--repeat 7] [--quick] [--only volume,signal]

Every reference runs in the same process on the same inputs; each result is checked against
poolcli's before its time is printed. The table gives median milliseconds and the ratio
reference / poolcli: above 1 means poolcli is faster. References that are not installed are left
out (benchmarks/requirements.txt lists them). Volumes (N, C, D, H, W) pool with cubic windows
and signals (N, C, L) with 1-D windows, against torch's 3-D and 1-D pooling and block_reduce.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

import poolcli
from poolcli.teaching.textbook import im2col

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
except ImportError:
    torch = None
try:
    import cv2

    cv2.setNumThreads(2)
except ImportError:
    cv2 = None
try:
    from skimage.measure import block_reduce
except ImportError:
    block_reduce = None
from PIL import Image

VOLUME_WINDOWS = [(2, 2), (3, 1), (3, 2)]
SIGNAL_WINDOWS = [(4, 4), (5, 1)]
CONFIGS = [("max", 2, 2), ("max", 3, 2), ("max", 3, 1), ("max", 8, 8)]
CONFIGS += [("avg", 2, 2), ("avg", 3, 2), ("avg", 3, 1), ("avg", 8, 8), ("global", 0, 0)]
VOLUME_CONFIGS = [(op, size, stride) for op in ("max", "avg") for size, stride in VOLUME_WINDOWS]
SIGNAL_CONFIGS = [(op, size, stride) for op in ("max", "avg") for size, stride in SIGNAL_WINDOWS]


def make_inputs(quick: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    height, width = (540, 960) if quick else (2160, 3840)
    rgb = rng.integers(0, 256, (1, 3, height, width), dtype=np.uint8)
    return {
        "gray u8 700x1024": rng.integers(0, 256, (1, 1, 700, 1024), dtype=np.uint8),
        f"RGB u8 {width}x{height}": rgb,
        f"RGB f32 {width}x{height}": rgb.astype(np.float32) / 255,
        "batch f32 64x3x224x224": rng.random((16 if quick else 64, 3, 224, 224), np.float32),
    }


def make_volumes(quick: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    side = 128 if quick else 256
    return {
        f"volume f32 {side}^3": rng.random((1, 1, side, side, side), np.float32),
        "volumes f32 4x16x64x128x128": rng.random(
            (1 if quick else 4, 16, 64, 128, 128), np.float32
        ),
        "signal f32 64x8x48000": rng.random((16 if quick else 64, 8, 48000), np.float32),
    }


def spatial_axes(x: np.ndarray) -> int:
    """The benchmark's inputs: (N, C, L) signals, (N, C, H, W) images, (N, C, D, H, W) volumes."""
    return x.ndim - 2


def median_ms(function: Callable[[], object], repeat: int) -> float:
    function()  # warm up: first-touch page faults, lazy imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def ours(x: np.ndarray, op: str, size: int, stride: int) -> Callable[[], np.ndarray]:
    if op == "global":
        return lambda: poolcli.global_pool(x, "avg")
    if spatial_axes(x) != 2:
        window = (size,) * spatial_axes(x)
        return lambda: poolcli.pool(x, op, size=window, stride=stride)
    return lambda: poolcli.pool(x, op, size=size, stride=stride)


def per_plane(x: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    planes = [function(x[n, c]) for n in range(x.shape[0]) for c in range(x.shape[1])]
    return np.stack(planes).reshape(*x.shape[:2], *planes[0].shape)


def other_references(x: np.ndarray, op: str, size: int, stride: int) -> dict[str, Callable]:
    """The references for volumes and signals: torch's 3-D and 1-D pooling, block_reduce."""
    found: dict[str, Callable] = {}
    axes = spatial_axes(x)
    if torch is not None:
        t = torch.from_numpy(x)
        functions = {
            (1, "max"): F.max_pool1d,
            (1, "avg"): F.avg_pool1d,
            (3, "max"): F.max_pool3d,
            (3, "avg"): F.avg_pool3d,
        }
        function = functions[(axes, op)]
        found["torch"] = lambda: function(t, size, stride).numpy()
    if block_reduce is not None and size == stride:
        reduce = np.max if op == "max" else np.mean
        outs = [(length - size) // stride + 1 for length in x.shape[2:]]
        cropped = x[(slice(None), slice(None), *(slice(0, out * size) for out in outs))]
        found["skimage"] = lambda: block_reduce(cropped, (1, 1, *(size,) * axes), reduce)
    return found


def references(x: np.ndarray, op: str, size: int, stride: int) -> dict[str, Callable]:
    """The reference implementations that apply to this input and config."""
    if spatial_axes(x) != 2:
        return other_references(x, op, size, stride)
    found: dict[str, Callable] = {}
    floating = x.dtype == np.float32
    overlapping = size != stride
    out_h = (x.shape[2] - size) // stride + 1 if op != "global" else 1
    out_w = (x.shape[3] - size) // stride + 1 if op != "global" else 1
    if torch is not None and floating:
        t = torch.from_numpy(x)
        if op == "max":
            found["torch"] = lambda: F.max_pool2d(t, size, stride).numpy()
        elif op == "avg":
            found["torch"] = lambda: F.avg_pool2d(t, size, stride).numpy()
        else:
            found["torch"] = lambda: F.adaptive_avg_pool2d(t, 1).numpy()
    if cv2 is not None and op != "global":
        kernel = np.ones((size, size), np.uint8)
        anchor = (0, 0)
        if op == "max":

            def cv_max(plane):
                grown = cv2.dilate(plane, kernel, anchor=anchor, borderType=cv2.BORDER_REPLICATE)
                return grown[: out_h * stride : stride, : out_w * stride : stride]

            found["OpenCV"] = lambda: per_plane(x, cv_max)
        elif not overlapping:

            def cv_area(plane):
                cropped = plane[: out_h * size, : out_w * size]
                return cv2.resize(cropped, (out_w, out_h), interpolation=cv2.INTER_AREA)

            found["OpenCV"] = lambda: per_plane(x, cv_area)
        elif floating:

            def cv_blur(plane):
                blurred = cv2.blur(
                    plane, (size, size), anchor=anchor, borderType=cv2.BORDER_REPLICATE
                )
                return blurred[: out_h * stride : stride, : out_w * stride : stride]

            found["OpenCV"] = lambda: per_plane(x, cv_blur)
    if op == "avg" and not overlapping and x.dtype == np.uint8 and x.shape[1] in (1, 3):
        mode = "L" if x.shape[1] == 1 else "RGB"
        image = Image.fromarray(np.ascontiguousarray(x[0].transpose(1, 2, 0)).squeeze(), mode)

        def pillow_reduce():
            cropped = image.crop((0, 0, out_w * size, out_h * size))
            reduced = np.asarray(cropped.reduce(size))
            return reduced.reshape(out_h, out_w, -1).transpose(2, 0, 1)[None]

        found["Pillow"] = pillow_reduce
    if block_reduce is not None and op in ("max", "avg") and not overlapping:
        function = np.max if op == "max" else np.mean
        cropped = x[:, :, : out_h * size, : out_w * size]
        found["skimage"] = lambda: block_reduce(cropped, (1, 1, size, size), function)
    if op != "global" and x.size <= 3_000_000:
        layer = (poolcli.MaxPooling if op == "max" else poolcli.AveragePooling)(size, size, stride)
        found["im2col"] = lambda: layer.forward(x)
    return found


def agrees(ours_result: np.ndarray, theirs: np.ndarray, dtype: np.dtype) -> bool:
    theirs = np.asarray(theirs, dtype=np.float64).reshape(ours_result.shape)
    mine = np.asarray(ours_result, dtype=np.float64)
    if dtype == np.uint8:
        # Libraries that round integer averages may differ by one level.
        return bool(np.abs(np.round(mine) - theirs).max() <= 1)
    return bool(np.allclose(mine, theirs, rtol=1e-5, atol=1e-5))


def run_table(inputs: dict[str, np.ndarray], repeat: int) -> None:
    names = ["torch", "OpenCV", "Pillow", "skimage", "im2col"]
    header = f"{'input':24} {'config':10} {'poolcli':>9}" + "".join(
        f" {name:>9} {'ratio':>6}" for name in names
    )
    print(header)
    print("-" * len(header))
    for label, x in inputs.items():
        configs = {1: SIGNAL_CONFIGS, 2: CONFIGS, 3: VOLUME_CONFIGS}[spatial_axes(x)]
        for op, size, stride in configs:
            config = "global avg" if op == "global" else f"{op} {size}/{stride}"
            run = ours(x, op, size, stride)
            expected = run()
            mine = median_ms(run, repeat)
            row = f"{label:24} {config:10} {mine:9.2f}"
            for name in names:
                reference = references(x, op, size, stride).get(name)
                if reference is None:
                    row += f" {'':>9} {'':>6}"
                    continue
                if not agrees(expected, reference(), x.dtype):
                    row += f" {'MISMATCH':>9} {'':>6}"
                    continue
                theirs = median_ms(reference, repeat)
                row += f" {theirs:9.2f} {theirs / mine:6.2f}"
            print(row, flush=True)


def peak_bytes(function: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_memory(quick: bool) -> None:
    height, width = (540, 960) if quick else (2160, 3840)
    x = np.random.default_rng(1).random((1, 3, height, width), np.float32)
    output = 3 * (height - 2) * (width - 2) * 4
    ours_peak = peak_bytes(lambda: poolcli.pool(x, "max", size=3, stride=1))
    textbook_peak = peak_bytes(lambda: im2col(x, 3, 3, 1, 0))
    mib = 1 << 20
    print(f"\nmemory, max 3/1 on RGB f32 {width}x{height} (input {x.nbytes / mib:.1f} MiB):")
    print(f"  output size              {output / mib:8.1f} MiB")
    print(f"  poolcli.pool peak        {ours_peak / mib:8.1f} MiB")
    print(f"  textbook im2col peak     {textbook_peak / mib:8.1f} MiB")


def run_volume_memory(quick: bool) -> None:
    side = 128 if quick else 256
    x = np.random.default_rng(3).random((1, 1, side, side, side), np.float32)
    output = (side - 2) ** 3 * 4
    ours_peak = peak_bytes(lambda: poolcli.pool(x, "max", size=(3, 3, 3), stride=1))
    mib = 1 << 20
    print(f"\nmemory, max 3/1 on volume f32 {side}^3 (input {x.nbytes / mib:.1f} MiB):")
    print(f"  output size              {output / mib:8.1f} MiB")
    print(f"  poolcli.pool peak        {ours_peak / mib:8.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per cell (median)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated words: only the inputs whose label holds one (e.g. volume,signal)",
    )
    args = parser.parse_args()
    installed = [name for name, module in [("torch", torch), ("cv2", cv2)] if module is not None]
    print(f"poolcli {poolcli.__version__}, numpy {np.__version__}; references: {installed}")
    words = [word for word in args.only.split(",") if word]
    inputs = {**make_inputs(args.quick), **make_volumes(args.quick)}
    if words:
        inputs = {label: x for label, x in inputs.items() if any(w in label for w in words)}
    run_table(inputs, args.repeat)
    if any(label.startswith("RGB f32") for label in inputs):
        run_memory(args.quick)
    if any(label.startswith("volume") for label in inputs):
        run_volume_memory(args.quick)


if __name__ == "__main__":
    main()
