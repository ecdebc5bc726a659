"""Issue 11, the I/O layer: whole-input pixel limit, endless inputs, truncated headers, warnings
kept off standard error, no silent clipping, the formats Pillow writes, names and formats that
disagree, temporaries and long names."""

from __future__ import annotations

import io
import logging
import os
import stat
import struct
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import tomllib
from PIL import Image

import poolcli
from poolcli.errors import InputError, OutputError
from poolcli.io import atomic, formats, images
from poolcli.io.images import ImageInfo, load_image, read_header, save_image
from poolcli.io.quiet import quiet

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
RNG = np.random.default_rng(11)


def gif_on_a_screen(frames: int, side: int) -> bytes:
    """A GIF of ``frames`` frames of 1x1 on a ``side`` x ``side`` logical screen."""
    out = bytearray(b"GIF89a" + struct.pack("<HH", side, side) + bytes([0x80, 0, 0]))
    out += bytes([0, 0, 0, 255, 255, 255])  # a global colour table of 2
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
        out += b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00"
        out += b"\x02\x02\x44\x01\x00"  # LZW: minimum code size 2, one pixel of colour 1
    return bytes(out + b"\x3b")


# ---------------------------------------------------------------------------------------------
# Item 4: the limit counts every frame, before any is decoded; endless inputs are refused


def test_a_tiny_gif_of_300_frames_on_a_1000x1000_screen_is_refused_by_default(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bomb.gif"
    path.write_bytes(gif_on_a_screen(300, 1000))
    assert path.stat().st_size < 7000
    with pytest.raises(InputError, match=r"300 frames of 1000x1000, 300000000 pixels in all"):
        load_image(path)
    with pytest.raises(InputError, match=r"300 frames of 1000x1000"):
        read_header(path)
    assert load_image(path, frame=299)[0].shape == (1, 3, 1000, 1000)  # one frame is fine


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP", "TIFF"])
def test_every_frame_counts_towards_the_limit(tmp_path: Path, fmt: str) -> None:
    frames = [Image.new("RGB", (100, 100), (i * 40, 0, 0)) for i in range(3)]
    path = tmp_path / f"frames.{fmt.lower()}"
    frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:])
    with pytest.raises(InputError) as caught:
        load_image(path, max_pixels=20_000)
    assert "30000 pixels in all, more than the limit of 20000" in caught.value.reason
    assert caught.value.worded({"frame": "--frame", "max_pixels": "--max-pixels"}).endswith(
        "pick one with --frame K or raise it with --max-pixels"
    )
    assert load_image(path, max_pixels=30_000)[0].shape == (3, 3, 100, 100)
    assert load_image(path, max_pixels=10_000, frame=2)[0].shape == (1, 3, 100, 100)


def test_a_large_later_tiff_page_asked_for_by_frame_honours_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "pages.tiff"
    Image.new("RGB", (4, 4)).save(path, save_all=True, append_images=[Image.new("RGB", (100, 100))])
    with pytest.raises(InputError, match="10000 pixels, more than the limit of 1000"):
        load_image(path, frame=1, max_pixels=1000)


def test_16_bit_colour_tiff_pages_read_by_tifffile_honour_the_limit(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "wide.tiff"
    with tifffile.TiffWriter(path) as tiff:
        tiff.write(np.zeros((4, 4, 3), np.uint16), photometric="rgb")
        tiff.write(np.zeros((100, 100, 3), np.uint16), photometric="rgb")
    with pytest.raises(InputError, match="more than the limit of 1000"):
        load_image(path, frame=1, max_pixels=1000)
    with pytest.raises(InputError, match="more than the limit of 1000"):
        load_image(path, max_pixels=1000)
    assert load_image(path, frame=1, max_pixels=10_000)[0].shape == (1, 3, 100, 100)


class Endless(io.RawIOBase):
    """Zeros for ever; fails the test if read past ``stop`` bytes."""

    def __init__(self, stop: int) -> None:
        self.given = 0
        self.stop = stop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        assert self.given <= self.stop, f"read {self.given} bytes of an endless stream"
        size = len(buffer)
        buffer[:size] = bytes(size)
        self.given += size
        return size


def test_an_endless_stream_is_refused_once_past_the_limits_worth_of_bytes() -> None:
    stream = Endless(stop=64 << 20)
    with pytest.raises(InputError) as caught:
        load_image(io.BufferedReader(stream), max_pixels=1000)
    assert caught.value.reason.startswith("more than 16777216 bytes")
    assert caught.value.parameters == ("max_pixels",)
    assert stream.given <= (16 << 20) + (2 << 20)


def test_dev_zero_is_refused_not_read_until_memory_runs_out() -> None:
    with pytest.raises(InputError, match=r"^/dev/zero: more than 16777216 bytes"):
        load_image("/dev/zero", max_pixels=1000)
    with pytest.raises(InputError, match=r"more than 16777216 bytes"):
        read_header("/dev/zero", max_pixels=1000)


# ---------------------------------------------------------------------------------------------
# Item 6: truncated headers, memory


def test_a_truncated_gif_header_is_one_input_error(tmp_path: Path) -> None:
    path = tmp_path / "t.gif"
    path.write_bytes((SAMPLES / "animated.gif").read_bytes()[:107])
    for read in (read_header, load_image):
        with pytest.raises(InputError, match="truncated or corrupt"):
            read(path)


def test_truncated_tiffs_at_every_length_are_input_errors(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    picture = Image.fromarray(RNG.integers(0, 256, (40, 50, 3), dtype=np.uint8))
    picture.save(buffer, "TIFF", save_all=True, append_images=[Image.new("RGB", (50, 40))])
    data = buffer.getvalue()
    path = tmp_path / "t.tiff"
    others = set()
    for length in [*range(8, 400, 3), *range(400, len(data), 61)]:
        path.write_bytes(data[:length])
        for read in (read_header, load_image):
            try:
                read(path)
            except InputError:
                pass
            except Exception as exc:  # noqa: BLE001 - what the test is looking for
                others.add((length, read.__name__, type(exc).__name__))
    assert others == set()


def huge_npy_header(path: Path) -> None:
    """A .npy of 144 bytes: a header declaring 200000x200000 float64, then 16 bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (200000, 200000)}
    )
    path.write_bytes(header.getvalue() + bytes(16))
    assert path.stat().st_size == 144


def test_a_npy_header_promising_more_than_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "huge.npy"
    huge_npy_header(path)
    expected = "truncated: the header promises 320000000000 bytes, the file has 16"
    with pytest.raises(InputError) as caught:
        load_image(path)
    assert caught.value.reason == expected
    with pytest.raises(InputError) as caught:
        read_header(path)
    assert caught.value.reason == expected
    with pytest.raises(InputError) as caught:
        load_image(io.BytesIO(path.read_bytes()))
    assert caught.value.reason == expected


def test_memory_running_out_while_decoding_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_memory(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(images, "_pixels", no_memory)
    with pytest.raises(InputError, match=r"camera\.png: not enough memory to load its 512x512"):
        load_image(SAMPLES / "camera.png")


# ---------------------------------------------------------------------------------------------
# Item 7: the libraries' warnings never reach standard error


def test_pillow_warnings_of_corrupt_files_do_not_reach_stderr(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (50, 40)).save(
        buffer, "TIFF", save_all=True, append_images=[Image.new("RGB", (50, 40))]
    )
    data = buffer.getvalue()
    for length in range(8, 300, 3):
        (tmp_path / f"t{length:03}.tiff").write_bytes(data[:length])
    script = (
        "import sys, glob\n"
        "from poolcli.io.images import load_image, read_header\n"
        "from poolcli.errors import InputError\n"
        "for path in sorted(glob.glob(sys.argv[1] + '/*.tiff')):\n"
        "    for read in (read_header, load_image):\n"
        "        try:\n"
        "            read(path)\n"
        "        except InputError:\n"
        "            pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0
    assert done.stderr == ""


def test_warnings_and_tifffile_logs_are_collected_only_in_the_thread_that_asks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with warnings.catch_warnings(), quiet() as heard:
        warnings.simplefilter("always")  # not the test suite's "error"
        logging.getLogger("tifffile").warning("TiffPage 1: corrupt")
        warnings.warn("Corrupt EXIF data", UserWarning, stacklevel=1)
        elsewhere = threading.Thread(
            target=lambda: logging.getLogger("tifffile").warning("not ours")
        )
        elsewhere.start()
        elsewhere.join()
    assert heard == ["TiffPage 1: corrupt", "Corrupt EXIF data"]
    assert [record.getMessage() for record in caplog.records] == ["not ours"]


# ---------------------------------------------------------------------------------------------
# Item 10: never clipped without a word


def photo(channels: int = 3, size: int = 8) -> tuple[np.ndarray, ImageInfo]:
    mode = {1: "L", 3: "RGB"}[channels]
    x = RNG.integers(200, 256, (1, channels, size, size), dtype=np.uint8)
    return x, ImageInfo("image", "JPEG", mode, mode, "uint8", 1, size=(size, size))


def test_a_sum_written_to_png_is_written_in_16_bits_exactly(tmp_path: Path) -> None:
    x, info = photo()
    summed = poolcli.pool(x, "sum", size=2)
    assert summed.max() > 255
    save_image(tmp_path / "out.png", summed, info)
    y, back = load_image(tmp_path / "out.png")
    assert back.mode == "RGB;16"
    np.testing.assert_array_equal(y, np.floor(summed.astype(np.float64) + 0.5))


def test_a_grey_lp_result_written_to_tiff_keeps_its_values(tmp_path: Path) -> None:
    x, info = photo(channels=1)
    result = poolcli.pool(x, "lp", size=2, p=2)
    save_image(tmp_path / "out.tiff", result, info)
    y, back = load_image(tmp_path / "out.tiff")
    assert back.mode == "I;16"
    np.testing.assert_array_equal(y, np.floor(result.astype(np.float64) + 0.5))


def test_a_sum_written_to_jpeg_is_refused_naming_the_fix(tmp_path: Path) -> None:
    x, info = photo()
    with pytest.raises(OutputError) as caught:
        save_image(tmp_path / "out.jpg", poolcli.pool(x, "sum", size=2), info)
    assert "do not fit in JPEG RGB (0 to 255) and would be clipped" in caught.value.reason
    assert caught.value.worded({"format": "--format"}).endswith(
        "use --format png or --format tiff or --format npy"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_sum_past_16_bits_is_refused_for_png_and_written_to_npy(tmp_path: Path) -> None:
    x = np.full((1, 3, 32, 32), 255, np.uint8)
    info = ImageInfo("image", "PNG", "RGB", "RGB", "uint8", 1)
    summed = poolcli.pool(x, "sum", size=32)  # 1024 cells of 255
    with pytest.raises(OutputError, match=r"values from 261120 to 261120 .* use format=npy$"):
        save_image(tmp_path / "out.png", summed, info)
    save_image(tmp_path / "out.npy", summed, info)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), summed)


def test_averages_and_maxima_are_written_as_before(tmp_path: Path) -> None:
    x, info = photo()
    for op in ("avg", "max", "min"):
        save_image(tmp_path / f"{op}.jpg", poolcli.pool(x, op, size=2), info)
        assert load_image(tmp_path / f"{op}.jpg")[1].mode == "RGB"


# ---------------------------------------------------------------------------------------------
# Item 13: the formats Pillow writes; names and formats that disagree


@pytest.mark.parametrize(
    ("name", "pillow", "mode"),
    [
        ("out.bmp", "BMP", "RGB"),
        ("out.ppm", "PPM", "RGB"),
        ("out.pgm", "PPM", "L"),
        ("out.pnm", "PPM", "RGB"),
        ("out.tga", "TGA", "RGBA"),
        ("out.ico", "ICO", "RGBA"),
        ("out.pcx", "PCX", "RGB"),
    ],
)
def test_formats_pillow_writes_are_written(
    tmp_path: Path, name: str, pillow: str, mode: str
) -> None:
    channels = len(mode)
    x = RNG.integers(0, 256, (1, channels, 6, 9), dtype=np.uint8)
    save_image(tmp_path / name, x, ImageInfo("image", "PNG", mode, mode, "uint8", 1))
    with Image.open(tmp_path / name) as written:
        assert written.format == pillow
    y, _ = load_image(tmp_path / name)
    np.testing.assert_array_equal(y, x)


def test_ico_larger_than_256_is_refused(tmp_path: Path) -> None:
    x = np.zeros((1, 3, 257, 10), np.uint8)
    with pytest.raises(OutputError, match=r"ICO holds at most 256x256 pixels, not 257x10"):
        save_image(tmp_path / "big.ico", x, ImageInfo("image", "PNG", "RGB", "RGB", "uint8", 1))
    assert list(tmp_path.iterdir()) == []


def test_max_of_a_bmp_writes_a_bmp(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from poolcli.cli import main

    Image.fromarray(RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "photo.bmp")
    result = CliRunner().invoke(main, ["max", str(tmp_path / "photo.bmp")])
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "photo.max.bmp") as written:
        assert (written.format, written.size) == ("BMP", (4, 4))


@pytest.mark.parametrize("name", ["jpg", "JPG", "Jpeg", ".jpg", "JPE"])
def test_jpg_in_any_case_means_jpeg(name: str) -> None:
    assert formats.by_name(name) is formats.by_name("jpeg")
    assert formats.image_format_for("-", name) == "JPEG"
    assert formats.extension(name) == ".jpg"


def test_a_name_and_a_format_that_disagree_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        formats.image_format_for("small.jpg", "png")
    assert caught.value.worded({"format": "--format"}) == (
        "small.jpg: the name says JPEG (.jpg) but --format png asks for PNG; "
        "name it small.png or drop --format"
    )
    with pytest.raises(OutputError, match="the name says JPEG"):
        save_image(tmp_path / "small.jpg", *photo(), format="png")
    assert list(tmp_path.iterdir()) == []
    assert formats.image_format_for("small.JPEG", "jpg") == "JPEG"
    assert formats.image_format_for("m.txt", "csv") == "CSV"
    assert formats.image_format_for("out", "png") == "PNG"


# ---------------------------------------------------------------------------------------------
# Items 1, 2, 16: targets that are no regular file, temporaries, long names, the extra


def test_save_image_into_a_fifo_keeps_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    save_image(fifo, *photo())
    reader.join(10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received[0].startswith(b"\x89PNG")


def test_save_image_to_dev_null_keeps_the_device() -> None:
    save_image("/dev/null", *photo(), format="png")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_users_file_named_like_a_temporary_survives_clean_up(tmp_path: Path) -> None:
    mine = tmp_path / ".img59.gif.mine.tmp"
    mine.write_bytes(b"the user's")
    other_run = tmp_path / ".img59.gif.k2j4h6g8.tmp"  # another process's write in progress
    other_run.write_bytes(b"run B")
    started, release = threading.Event(), threading.Event()

    def slow(stream, name):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)
        stream.write(b"ours")

    errors: list[BaseException] = []

    def write() -> None:
        try:
            atomic.write_output(str(tmp_path / "img59.gif"), "img59.gif", slow)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    started.wait(10)
    try:
        removed = atomic.remove_unfinished()
    finally:
        release.set()
        thread.join()
    assert len(removed) == 1 and os.path.basename(removed[0]).startswith(".img59.gif.")
    assert mine.read_bytes() == b"the user's"
    assert other_run.read_bytes() == b"run B"
    assert [type(e) for e in errors] == [OutputError]


@pytest.mark.parametrize("length", [242, 250, 255])
def test_save_image_writes_names_up_to_255_bytes(tmp_path: Path, length: int) -> None:
    target = tmp_path / ("p" * (length - 4) + ".png")
    save_image(target, *photo())
    assert os.listdir(tmp_path) == [target.name]
    assert load_image(target)[0].shape == (1, 3, 8, 8)


def test_the_missing_extra_is_named_as_pip_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert images.FULL_DEPTH_INSTALL == f"pip install '{project}[full-depth]'"
    real_import = images.importlib.import_module

    def without_tifffile(name: str) -> object:
        if name == "tifffile":
            raise ImportError(name)
        return real_import(name)

    monkeypatch.setattr(images.importlib, "import_module", without_tifffile)
    x = np.zeros((1, 3, 2, 2), np.uint16)
    with pytest.raises(OutputError) as caught:
        save_image("out.tiff", x, ImageInfo("array", None, None, None, "uint16", 1))
    assert caught.value.reason == (
        "16-bit colour TIFF needs the full-depth extra: pip install 'poolcli-image[full-depth]'"
    )
