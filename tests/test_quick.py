"""Tests of poolcli.imaging.quick: Pillow pools the commonest pictures exactly as the engine does.

Three ways: QuickPooling.pool against poolcli.pool on random pictures (hypothesis), the command
line with and without the quick way writing the same bytes and printing the same text, and the
quick way declining (falling back to numpy) wherever it would differ.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

import poolcli
from poolcli.core.geometry import resolve
from poolcli.imaging import quick
from poolcli.imaging.quick import QuickPooling
from poolcli.imaging.tasks import Pooling

CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}
EXACT_SIDES = (1, 2, 4, 8, 16)


def picture(values: np.ndarray, mode: str) -> Image.Image:
    """A Pillow picture of ``mode`` from (H, W, C) uint8 values."""
    height, width = values.shape[:2]
    return Image.frombytes(mode, (width, height), np.ascontiguousarray(values).tobytes())


def engine_result(values: np.ndarray, op: str, size: tuple[int, int]) -> np.ndarray:
    """poolcli.pool's result as the numpy way writes it: (H, W, C) uint8, averages rounded half
    up."""
    pooled = poolcli.pool(values.transpose(2, 0, 1), op, size=size)
    if op == "avg":
        pooled = np.floor(pooled.astype(np.float64) + 0.5)
    return pooled.astype(np.uint8).transpose(1, 2, 0)


def quick_result(values: np.ndarray, mode: str, op: str, size: tuple[int, int]) -> np.ndarray:
    geometry = resolve(values.shape[:2], size=size)
    pooling = QuickPooling(op)
    assert pooling.pools(mode, geometry)
    pooled = pooling.pool(picture(values, mode), geometry)
    assert pooled.mode == mode and pooled.info == {}
    height, width = geometry.out_shape
    return np.frombuffer(pooled.tobytes(), np.uint8).reshape(height, width, CHANNELS[mode])


# ---------------------------------------------------------------------------------------------
# The pixels


@st.composite
def cases(draw: st.DrawFn, op: str) -> tuple[np.ndarray, str, tuple[int, int]]:
    modes = ["L", "RGB"] if op == "avg" else ["L", "RGB", "RGBA"]
    mode = draw(st.sampled_from(modes))
    sides = st.sampled_from(EXACT_SIDES) if op == "avg" else st.integers(1, 6)
    size = (draw(sides), draw(sides))
    height = draw(st.integers(size[0], size[0] * 5 + 3))
    width = draw(st.integers(size[1], size[1] * 5 + 3))
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).integers(
        0, 256, (height, width, CHANNELS[mode]), dtype=np.uint8
    )
    return values, mode, size


@pytest.mark.parametrize("op", ["max", "min", "avg"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_pillow_pools_as_the_engine(op: str, data: st.DataObject) -> None:
    values, mode, size = data.draw(cases(op))
    np.testing.assert_array_equal(
        quick_result(values, mode, op, size), engine_result(values, op, size)
    )


@pytest.mark.parametrize("strip_bytes", [1, 300])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_and_min_in_strips_of_any_height_pool_as_the_engine(
    monkeypatch: pytest.MonkeyPatch, op: str, strip_bytes: int
) -> None:
    monkeypatch.setattr(quick, "_STRIP_BYTES", strip_bytes)  # strips of 1 row, or a few
    rng = np.random.default_rng(strip_bytes)
    for mode, size in (("L", (2, 2)), ("RGB", (3, 2)), ("RGBA", (1, 4))):
        values = rng.integers(0, 256, (53, 70, CHANNELS[mode]), dtype=np.uint8)
        np.testing.assert_array_equal(
            quick_result(values, mode, op, size), engine_result(values, op, size)
        )


@pytest.mark.parametrize("height_side", EXACT_SIDES)
@pytest.mark.parametrize("width_side", EXACT_SIDES)
def test_averages_halfway_between_two_levels_round_up_as_the_engine(
    height_side: int, width_side: int
) -> None:
    # Windows whose sums are (q + 1/2) * count for many q, and their neighbours: where Pillow's
    # fixed-point division would be off by one if it were inexact.
    count = height_side * width_side
    rng = np.random.default_rng(count)
    windows = 64
    targets = [(2 * q + 1) * count // 2 + delta for q in range(0, 255, 8) for delta in (-1, 0, 1)]
    blocks = []
    for index in range(windows):
        total = max(0, min(targets[index % len(targets)], 255 * count))
        cells = np.zeros(count, np.int64)
        for position in rng.permutation(count):  # spread the total over the cells
            cells[position] = min(255, total)
            total -= cells[position]
        blocks.append(cells.reshape(height_side, width_side))
    values = np.concatenate(blocks, axis=1).astype(np.uint8)[:, :, np.newaxis]
    size = (height_side, width_side)
    np.testing.assert_array_equal(
        quick_result(values, "L", "avg", size), engine_result(values, "avg", size)
    )


def test_the_whole_range_of_a_4k_picture_pools_as_the_engine() -> None:
    # Nearest-neighbour sampling in fixed point must not drift on large pictures.
    values = np.random.default_rng(7).integers(0, 256, (2160, 3840, 3), dtype=np.uint8)
    for op, size in (("max", (2, 2)), ("min", (3, 5)), ("avg", (8, 16))):
        np.testing.assert_array_equal(
            quick_result(values, "RGB", op, size), engine_result(values, op, size)
        )


@pytest.mark.parametrize(
    ("op", "mode", "options"),
    [
        ("max", "RGB", {"size": 3, "stride": 2}),  # overlapping windows
        ("max", "RGB", {"size": 2, "stride": 3}),  # gaps between windows
        ("max", "RGB", {"size": 2, "padding": 1}),
        ("max", "RGB", {"size": 2, "dilation": 2}),
        ("max", "RGB", {"size": 2, "ceil_mode": True}),  # 9x9: a cut last window
        ("avg", "RGB", {"size": 3}),  # 9 cells: Pillow's division is off by one
        ("avg", "RGB", {"size": (2, 3)}),
        ("avg", "RGBA", {"size": 2}),  # Pillow premultiplies in 8 bits
        ("max", "LA", {"size": 2}),
        ("max", "P", {"size": 2}),
        ("max", "CMYK", {"size": 2}),
        ("max", "I;16", {"size": 2}),
    ],
)
def test_pillow_declines_what_it_would_pool_differently(op: str, mode: str, options: dict) -> None:
    assert not QuickPooling(op).pools(mode, resolve((9, 9), **options))


def test_only_max_min_and_avg_are_quick() -> None:
    assert quick.QUICK_OPS == {"max", "min", "avg"}
    with pytest.raises(ValueError, match="op must be one of avg, max, min"):
        QuickPooling("median")


# ---------------------------------------------------------------------------------------------
# The command line: the same bytes and the same words either way


def run_both_ways(
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    collect: Callable[[Result], object] = lambda result: None,
    input: bytes | None = None,
) -> list[tuple[Result, int, object]]:
    """``poolcli ARGS`` with the quick way, then the numpy way: for each run the CliRunner
    result, how many pictures Pillow pooled, and what ``collect(result)`` took of it just after
    (e.g. the output file, which it may remove before the next run). ``input``: standard
    input."""
    runs = []
    for quick_way in (True, False):
        calls: list[int] = []
        with monkeypatch.context() as patch:
            if quick_way:
                patch.setattr(QuickPooling, "pool", counted(QuickPooling.pool, calls))
            else:
                patch.setattr(Pooling, "quick", lambda self: None)
            result = run(*args, input=input)
        runs.append((result, len(calls), collect(result)))
    return runs


def counted(function: Callable, calls: list[int]) -> Callable:
    """``function``, appending to ``calls`` at each call."""

    def wrapper(*args: object) -> object:
        calls.append(1)
        return function(*args)

    return wrapper


def photo(
    path: Path, size: tuple[int, int] = (37, 24), mode: str = "RGB", **params: object
) -> Path:
    """A noisy picture of ``mode`` saved at ``path`` with Pillow's ``params``."""
    values = np.random.default_rng(len(str(path))).integers(
        0, 256, (size[1], size[0], CHANNELS[mode]), dtype=np.uint8
    )
    picture(values, mode).save(path, **params)
    return path


def both_ways(
    monkeypatch: pytest.MonkeyPatch, output: Path, *args: str, quick_way: bool = True
) -> tuple[bytes, bytes]:
    """The bytes ``poolcli ARGS -o OUTPUT`` writes with the quick way, then the numpy way, each
    with exit status 0 and the same output text; ``quick_way``: whether Pillow should pool in the
    first run (else the quick way must have declined)."""

    def take_output(result: Result) -> bytes:
        assert result.exit_code == 0, result.stderr
        written = output.read_bytes()
        output.unlink()
        return written

    runs = run_both_ways(monkeypatch, *args, "-o", str(output), collect=take_output)
    (quick_run, pooled, quick_bytes), (numpy_run, _, numpy_bytes) = runs
    assert (quick_run.stdout, quick_run.stderr) == (numpy_run.stdout, numpy_run.stderr)
    assert pooled == (1 if quick_way else 0)
    return quick_bytes, numpy_bytes


def exif_with(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "poolcli test camera"  # Make
    return exif


@pytest.mark.parametrize("op", ["max", "min", "avg"])
@pytest.mark.parametrize("output", ["out.png", "out.jpg", "out.webp", "out.tiff", "out.gif"])
def test_a_jpeg_with_metadata_is_written_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, op: str, output: str
) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = photo(
        tmp_path / "photo.jpg",
        quality=95,
        dpi=(300, 300),
        icc_profile=profile,
        exif=exif_with(6),  # stored on its side: upright it is 24 wide, 37 high
    )
    args = (op, str(source), "--report", "json")
    quick_bytes, numpy_bytes = both_ways(monkeypatch, tmp_path / output, *args)
    assert quick_bytes == numpy_bytes
    with Image.open(io.BytesIO(quick_bytes)) as img:
        assert img.size == (12, 18)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("op", ["max", "min", "avg"])
@pytest.mark.parametrize("size", ["2", "4x1", "3"])
def test_pngs_of_every_mode_are_written_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, op: str, size: str
) -> None:
    source = photo(tmp_path / "photo.png", mode=mode, dpi=(72, 72))
    args = (op, str(source), "-k", size, "--report", "text")
    quick_way = op != "avg" or (mode != "RGBA" and size != "3")
    quick_bytes, numpy_bytes = both_ways(
        monkeypatch, tmp_path / "out.png", *args, quick_way=quick_way
    )
    assert quick_bytes == numpy_bytes


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("photo.webp", {"quality": 80}),
        ("photo.webp", {"lossless": True}),
        ("photo.tiff", {"dpi": (300, 300)}),
        ("photo.tif", {"compression": "tiff_deflate"}),
        ("photo.bmp", {}),
    ],
)
@pytest.mark.parametrize("op", ["max", "avg"])
def test_other_single_picture_formats_are_written_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, params: dict, op: str
) -> None:
    source = photo(tmp_path / name, **params)
    quick_bytes, numpy_bytes = both_ways(monkeypatch, tmp_path / "out.png", op, str(source))
    assert quick_bytes == numpy_bytes


def test_a_tiff_of_several_pages_goes_the_numpy_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = photo(tmp_path / "first.png")
    with Image.open(first) as page:
        page.save(tmp_path / "pages.tiff", save_all=True, append_images=[page.rotate(180)])
    quick_bytes, numpy_bytes = both_ways(
        monkeypatch, tmp_path / "out.tiff", "max", str(tmp_path / "pages.tiff"), quick_way=False
    )
    assert quick_bytes == numpy_bytes


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_an_oriented_png_is_written_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orientation: int
) -> None:
    source = photo(tmp_path / "photo.png", exif=exif_with(orientation))
    quick_bytes, numpy_bytes = both_ways(monkeypatch, tmp_path / "out.png", "min", str(source))
    assert quick_bytes == numpy_bytes
    with Image.open(io.BytesIO(quick_bytes)) as img:
        assert img.size == ((12, 18) if orientation in (6, 8) else (18, 12))


@pytest.mark.parametrize(
    "args",
    [
        ("--strip",),
        ("--quality", "40"),
        ("--no-auto-orient",),
        ("--format", "JPEG"),  # issue 11 item 13: was png, now refused under an out.jpg name
        ("--max-pixels", "100000"),
        ("-k", "2", "-s", "1"),  # not quick: overlapping windows
        ("-k", "2", "--ceil"),  # not quick: a cut last window on 37 columns
    ],
)
def test_options_are_honoured_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    source = photo(tmp_path / "photo.jpg", dpi=(300, 300), exif=exif_with(8))
    quick_bytes, numpy_bytes = both_ways(
        monkeypatch, tmp_path / "out.jpg", "max", str(source), *args, quick_way="-k" not in args
    )
    assert quick_bytes == numpy_bytes


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "empty file"),
        ("text.png", b"not a picture at all", "cannot identify image file"),
        ("cut.jpg", "truncated", "truncated or corrupt image data"),
        ("huge.png", "huge", "more than the limit of 100000"),
    ],
)
def test_bad_pictures_fail_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: object, message: str
) -> None:
    path = tmp_path / name
    if content == "truncated":
        whole = photo(tmp_path / "whole.jpg", size=(200, 150)).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif content == "huge":
        photo(path, size=(400, 300))
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    lines = []
    args = ("avg", str(path), "--max-pixels", "100000", "-o", str(tmp_path / "o.png"))
    for result, pooled, _ in run_both_ways(monkeypatch, *args):
        assert result.exit_code == 1 and pooled == 0
        lines.append(result.stderr)
    assert lines[0] == lines[1]
    assert lines[0].startswith(f"poolcli: {path}: ") and message in lines[0]
    assert lines[0].count("\n") == 1
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(
    ("args", "quick_way"),
    [
        (("-o", "out.npy"), False),  # an array: numpy writes it
        (("-o", "out.jpg"), False),  # RGBA cannot be JPEG: the numpy way's error
        (("-o", "-", "--format", "png"), True),  # standard output
    ],
)
def test_outputs_pillow_cannot_write_go_the_numpy_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], quick_way: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    photo(tmp_path / "photo.png", mode="RGBA")

    def take_output(result: Result) -> tuple[int, str, bytes]:
        written = b""
        if result.exit_code == 0 and args[1] == "-":
            written = result.stdout_bytes
        elif result.exit_code == 0:
            written = (tmp_path / args[1]).read_bytes()
            (tmp_path / args[1]).unlink()  # the next run writes it anew, not over it
        return result.exit_code, result.stderr, written

    runs = run_both_ways(monkeypatch, "max", "photo.png", *args, collect=take_output)
    assert [pooled for _, pooled, _ in runs] == [int(quick_way), 0]
    assert runs[0][2] == runs[1][2]


def picture_bytes(mode: str, format: str) -> bytes:
    buffer = io.BytesIO()
    values = np.random.default_rng(3).integers(0, 256, (30, 41, CHANNELS[mode]), dtype=np.uint8)
    picture(values, mode).save(buffer, format=format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("stdin", "args", "quick_way", "status"),
    [
        (picture_bytes("RGB", "JPEG"), (), True, 0),
        (picture_bytes("RGBA", "PNG"), ("--format", "webp"), True, 0),
        (picture_bytes("L", "PNG"), ("-k", "3", "-s", "2"), False, 0),  # overlapping windows
        (picture_bytes("RGB", "GIF"), (), False, 0),  # a GIF: the numpy way
        (picture_bytes("RGB", "PNG")[:300], (), False, 1),  # truncated: the numpy way's error
        (b"1, 2, 1, 0\n0, 1, 2, 3\n", ("--format", "tiff"), False, 0),  # a matrix
        (b"\x93NUMPY garbage", ("--format", "png"), False, 1),  # a broken .npy
        (b"", (), False, 1),
    ],
    ids=["jpeg", "rgba-png", "overlapping", "gif", "truncated", "matrix", "broken-npy", "empty"],
)
def test_standard_input_is_pooled_the_same_either_way(
    monkeypatch: pytest.MonkeyPatch,
    stdin: bytes,
    args: tuple[str, ...],
    quick_way: bool,
    status: int,
) -> None:
    def take_output(result: Result) -> tuple[int, bytes, str]:
        return result.exit_code, result.stdout_bytes, result.stderr

    runs = run_both_ways(
        monkeypatch, "max", "-", "-o", "-", *args, collect=take_output, input=stdin
    )
    (_, pooled, quick_output), (_, _, numpy_output) = runs
    assert pooled == int(quick_way)
    assert quick_output == numpy_output
    exit_code, image, message = quick_output
    assert exit_code == status
    if status == 0:
        assert Image.open(io.BytesIO(image)).width > 1 and message == ""
    else:
        assert image == b"" and message.startswith("poolcli: <stdin>: ")


def test_a_folder_pools_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    for index, mode in enumerate(["L", "RGB", "RGBA", "RGB"]):
        photo(tmp_path / "in" / f"{index}.png", mode=mode)
    args = ("avg", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "2", "-q")

    def take_outputs(result: Result) -> dict[str, bytes]:
        assert result.exit_code == 0, result.stderr
        outputs = {path.name: path.read_bytes() for path in (tmp_path / "out").iterdir()}
        shutil.rmtree(tmp_path / "out")
        return outputs

    runs = run_both_ways(monkeypatch, *args, collect=take_outputs)
    (_, quick_pooled, quick_files), (_, _, numpy_files) = runs
    assert quick_files == numpy_files and len(quick_files) == 4
    assert quick_pooled == 3  # all but the RGBA picture


def test_one_jpeg_is_pooled_without_importing_numpy(tmp_path: Path) -> None:
    source = photo(tmp_path / "photo.jpg")
    script = (
        "import sys\n"
        "from poolcli.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as stop:\n"
        "    print('numpy' in sys.modules, stop.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "max", str(source), "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["False", "0"]
    assert (tmp_path / "photo.max.jpg").exists()
