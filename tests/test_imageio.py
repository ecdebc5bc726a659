"""Tests of poolcli.io.images: images, .npy and .csv in and out as (N, C, H, W)."""

from __future__ import annotations

import errno
import io
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile, JpegImagePlugin

from poolcli.cli.run import FLAGS as CLI_FLAGS
from poolcli.errors import InputError, OutputError
from poolcli.io.images import (
    ImageInfo,
    format_matrix,
    image_format_for,
    load_image,
    read_header,
    save_image,
    to_dtype,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
RNG = np.random.default_rng(20240501)
H, W = 5, 7
PALETTE = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (10, 20, 30)]


def pil(mode: str, hwc: np.ndarray, rawmode: str | None = None) -> Image.Image:
    """A Pillow image of ``mode`` from (H, W[, C]) pixel values."""
    height, width = hwc.shape[:2]
    return Image.frombytes(mode, (width, height), hwc.tobytes(), "raw", rawmode or mode)


def as_nchw(hwc: np.ndarray) -> np.ndarray:
    hwc = hwc.reshape(hwc.shape[0], hwc.shape[1], -1)
    return hwc.transpose(2, 0, 1)[np.newaxis]


def palette_image(transparency: int | None) -> tuple[Image.Image, np.ndarray]:
    index = RNG.integers(0, len(PALETTE), (H, W), dtype=np.uint8)
    img = pil("P", index)
    img.putpalette([c for rgb in PALETTE for c in rgb])
    if transparency is not None:
        img.info["transparency"] = transparency
    rgb = np.array(PALETTE, dtype=np.uint8)[index]
    if transparency is None:
        return img, rgb
    alpha = np.where(index == transparency, 0, 255).astype(np.uint8)
    return img, np.dstack([rgb, alpha])


def u8(*shape: int) -> np.ndarray:
    return RNG.integers(0, 256, shape, dtype=np.uint8)


def mode_cases() -> list[tuple[str, str, Image.Image, np.ndarray, str]]:
    """(id, file extension, image to write, expected (H, W[, C]) pixels, save mode)."""
    bits = RNG.integers(0, 2, (H, W)).astype(bool)
    one = Image.fromarray(bits)
    assert one.mode == "1"
    p_img, p_rgb = palette_image(None)
    pt_img, pt_rgba = palette_image(2)
    la, rgb, rgba, cmyk, ycc = u8(H, W, 2), u8(H, W, 3), u8(H, W, 4), u8(H, W, 4), u8(H, W, 3)
    gray = u8(H, W)
    i16 = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
    i16[0, :3] = [0, 256, 65535]
    i32 = RNG.integers(-(2**31), 2**31 - 1, (H, W), dtype=np.int32)
    f32 = (RNG.standard_normal((H, W)) * 1000).astype(np.float32)
    return [
        ("1", "png", one, np.where(bits, 255, 0).astype(np.uint8), "L"),
        ("L", "png", pil("L", gray), gray, "L"),
        ("P", "png", p_img, p_rgb, "RGB"),
        ("P-transparency", "png", pt_img, pt_rgba, "RGBA"),
        ("LA", "png", pil("LA", la), la, "LA"),
        ("RGB", "png", pil("RGB", rgb), rgb, "RGB"),
        ("RGBA", "png", pil("RGBA", rgba), rgba, "RGBA"),
        ("CMYK", "tiff", pil("CMYK", cmyk), cmyk, "CMYK"),
        ("YCbCr", "tiff", pil("YCbCr", ycc), ycc, "YCbCr"),
        ("I;16", "png", pil("I;16", i16.astype("<u2")), i16, "I;16"),
        ("I;16-tiff", "tiff", pil("I;16", i16.astype("<u2")), i16, "I;16"),
        ("I", "tiff", pil("I", i32.astype("<i4"), "I;32S"), i32, "I"),
        ("F", "tiff", pil("F", f32.astype("<f4"), "F;32F"), f32, "F"),
    ]


MODE_CASES = mode_cases()


class TestModes:
    @pytest.mark.parametrize(
        ("ext", "img", "expected", "save_mode"),
        [case[1:] for case in MODE_CASES],
        ids=[case[0] for case in MODE_CASES],
    )
    def test_load_and_round_trip(self, tmp_path, ext, img, expected, save_mode):
        """Every mode loads as in the table and comes back exact through PNG or TIFF."""
        source = tmp_path / f"in.{ext}"
        img.save(source)
        x, info = load_image(source)
        assert x.shape == (1, *as_nchw(expected).shape[1:])
        assert x.dtype == expected.dtype
        np.testing.assert_array_equal(x, as_nchw(expected))
        assert info.kind == "image"
        assert info.format == ("PNG" if ext == "png" else "TIFF")
        assert info.mode == img.mode
        assert info.save_mode == save_mode
        assert info.dtype == expected.dtype.name
        assert info.frames == 1

        target = tmp_path / f"out.{ext}"
        save_image(target, x, info)
        with Image.open(target) as written:
            assert written.mode == save_mode
        y, info2 = load_image(target)
        assert y.dtype == x.dtype
        np.testing.assert_array_equal(y, x)
        assert info2.save_mode == save_mode

    def test_i16_big_endian_tiff_loads_native_uint16(self, tmp_path):
        values = np.array([[1, 256, 65535], [4660, 0, 300]], dtype=np.uint16)
        pil("I;16B", values.astype(">u2")).save(tmp_path / "be.tiff")
        x, info = load_image(tmp_path / "be.tiff")
        assert x.dtype == np.dtype("=u2")
        np.testing.assert_array_equal(x[0, 0], values)
        assert info.save_mode == "I;16"

    def test_lab_loads_as_rgb(self, tmp_path):
        pil("LAB", u8(H, W, 3)).save(tmp_path / "lab.tiff")
        x, info = load_image(tmp_path / "lab.tiff")
        assert (x.shape, info.mode, info.save_mode) == ((1, 3, H, W), "LAB", "RGB")

    def test_multi_channel_result_is_a_transposed_view(self, tmp_path):
        rgb = u8(H, W, 3)
        pil("RGB", rgb).save(tmp_path / "rgb.png")
        x, _ = load_image(tmp_path / "rgb.png")
        hwc = x.transpose(0, 2, 3, 1)
        assert not x.flags.c_contiguous
        assert hwc.flags.c_contiguous
        assert np.shares_memory(x, hwc)
        assert x.base is not None
        assert x.strides == (H * W * 3, 1, W * 3, 3)
        assert not x.flags.writeable

    def test_single_channel_result_is_a_view(self, tmp_path):
        pil("L", u8(H, W)).save(tmp_path / "l.png")
        x, _ = load_image(tmp_path / "l.png")
        assert x.base is not None
        assert x.flags.c_contiguous
        assert x.strides == (H * W, H * W, W, 1)


class TestSaveLayout:
    def test_transposed_view_is_saved_without_a_copy(self, tmp_path, monkeypatch):
        """A (N, C, H, W) view of a contiguous (N, H, W, C) buffer reaches Pillow as is."""
        nhwc = u8(1, H, W, 3)
        seen = []
        original = Image.frombuffer

        def spy(mode, size, data, *args):
            seen.append(data)
            return original(mode, size, data, *args)

        monkeypatch.setattr(Image, "frombuffer", spy)
        save_image(tmp_path / "out.png", nhwc.transpose(0, 3, 1, 2), _info("RGB"))
        assert len(seen) == 1 and np.shares_memory(seen[0], nhwc)
        monkeypatch.undo()
        y, _ = load_image(tmp_path / "out.png")
        np.testing.assert_array_equal(y, nhwc.transpose(0, 3, 1, 2))

    @pytest.mark.parametrize(
        "make",
        [
            lambda a: np.asfortranarray(a),
            lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
            lambda a: np.ascontiguousarray(a.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0),
            lambda a: np.repeat(np.repeat(a, 2, axis=2), 3, axis=3)[:, :, ::2, ::3],
            lambda a: a.astype(np.float64),
        ],
        ids=["fortran", "nhwc-view", "reversed-axes", "strided-slice", "float64-view"],
    )
    def test_any_layout_saves_the_same_pixels(self, tmp_path, make):
        x = u8(1, 4, H, W)
        save_image(tmp_path / "out.png", make(x), _info("RGBA"))
        y, info = load_image(tmp_path / "out.png")
        assert info.mode == "RGBA"
        np.testing.assert_array_equal(y, x)


def _info(save_mode: str | None, kind: str = "image", ndim: int = 4) -> ImageInfo:
    return ImageInfo(
        kind, "PNG" if kind == "image" else None, save_mode, save_mode, "uint8", 1, ndim
    )


class TestConversion:
    def test_float_to_uint8_rounds_half_up(self, tmp_path):
        # Issue 11 item 10: values out of range are no longer clipped by save_image (they were
        # -3.0, 300.0, inf, -inf here); to_dtype still clips, below.
        values = np.array([[0.5, 1.5, 2.49, -0.5, 255.4, 254.5, 2.5, np.nan]])
        save_image(tmp_path / "out.png", values[None, None], _info("L"))
        y, _ = load_image(tmp_path / "out.png")
        np.testing.assert_array_equal(y[0, 0], [[1, 2, 2, 0, 255, 255, 3, 0]])

    def test_to_dtype_rounds_half_up_and_clips(self):
        values = np.array([[0.5, 1.5, 2.49, -3.0, 300.0, 254.5, 2.5, np.nan, np.inf, -np.inf]])
        np.testing.assert_array_equal(
            to_dtype(values, np.dtype(np.uint8)), [[1, 2, 2, 0, 255, 255, 3, 0, 255, 0]]
        )
        np.testing.assert_array_equal(
            to_dtype(np.array([1000.5, 65535.4, 70000.0, -1.0, 0.49]), np.dtype(np.uint16)),
            [1001, 65535, 65535, 0, 0],
        )
        np.testing.assert_array_equal(
            to_dtype(np.array([3e9, -3e9, -2.5, 2.5, 2147483646.5]), np.dtype(np.int32)),
            [2**31 - 1, -(2**31), -2, 3, 2**31 - 1],
        )
        np.testing.assert_array_equal(
            to_dtype(np.array([-5, 0, 17, 255, 300, 2**40]), np.dtype(np.uint8)),
            [0, 0, 17, 255, 255, 255],
        )

    def test_float32_to_uint8(self, tmp_path):
        values = np.array([[0.49999997, 0.5, 127.5, 255.49]], dtype=np.float32)
        save_image(tmp_path / "out.png", values[None, None], _info("L"))
        y, _ = load_image(tmp_path / "out.png")
        np.testing.assert_array_equal(y[0, 0], [[0, 1, 128, 255]])

    def test_float_to_uint16(self, tmp_path):
        # Issue 11 item 10: 70000.0 and -1.0 (clipped before) are left to the range tests.
        values = np.array([[1000.5, 65535.4, -0.5, 0.49]])
        save_image(tmp_path / "out.png", values[None, None], _info("I;16"))
        y, info = load_image(tmp_path / "out.png")
        assert info.mode == "I;16"
        np.testing.assert_array_equal(y[0, 0], [[1001, 65535, 0, 0]])

    def test_float_to_int32(self, tmp_path):
        # Issue 11 item 10: 3e9 and -3e9 (clipped before) are written as float TIFF now.
        values = np.array([[-2.5, 2.5, 2147483646.5, -(2.0**31)]])
        save_image(tmp_path / "out.tiff", values[None, None], _info("I"))
        y, info = load_image(tmp_path / "out.tiff")
        assert info.mode == "I"
        np.testing.assert_array_equal(y[0, 0], [[-2, 3, 2**31 - 1, -(2**31)]])

    def test_other_integers_in_range_are_written(self, tmp_path):
        # Issue 11 item 10: -5, 300 and 2**40 (clipped before) are refused for PNG now.
        values = np.array([[0, 17, 255]], dtype=np.int64)
        save_image(tmp_path / "out.png", values[None, None], _info("L"))
        y, _ = load_image(tmp_path / "out.png")
        np.testing.assert_array_equal(y[0, 0], [[0, 17, 255]])

    def test_uint8_widens_to_uint16_unchanged(self, tmp_path):
        values = np.array([[0, 1, 255]], dtype=np.uint8)
        save_image(tmp_path / "out.png", values[None, None], _info("I;16"))
        y, _ = load_image(tmp_path / "out.png")
        assert y.dtype == np.uint16
        np.testing.assert_array_equal(y[0, 0], [[0, 1, 255]])

    def test_float64_to_f(self, tmp_path):
        values = np.array([[0.1, -2.5, 1e30]])
        save_image(tmp_path / "out.tiff", values[None, None], _info("F"))
        y, _ = load_image(tmp_path / "out.tiff")
        np.testing.assert_array_equal(y[0, 0], values.astype(np.float32))

    @pytest.mark.parametrize(
        ("dtype", "channels", "mode"),
        [
            (np.uint8, 1, "L"),
            (np.uint8, 2, "LA"),
            (np.uint8, 3, "RGB"),
            (np.float32, 4, "RGBA"),
            (np.uint16, 1, "I;16"),
            (np.bool_, 1, "L"),
        ],
    )
    def test_array_without_save_mode_picks_mode_from_dtype(self, tmp_path, dtype, channels, mode):
        x = RNG.integers(0, 2, (1, channels, H, W)).astype(dtype)
        save_image(tmp_path / "out.png", x, _info(None, kind="array"))
        y, info = load_image(tmp_path / "out.png")
        assert info.mode == mode
        expected = x.astype(np.uint8) * 255 if dtype is np.bool_ else x
        np.testing.assert_array_equal(y, expected)

    @pytest.mark.parametrize(("dtype", "mode"), [(np.int64, "I"), (np.float64, "F")])
    def test_array_of_wide_values_needs_tiff(self, tmp_path, dtype, mode):
        x = np.arange(6, dtype=dtype).reshape(1, 1, 2, 3) * 1000
        with pytest.raises(OutputError) as caught:
            save_image(tmp_path / "out.png", x, _info(None, kind="matrix"))
        assert (
            str(caught.value)
            == f"{tmp_path / 'out.png'}: PNG cannot hold {mode} images; write .tiff"
        )
        save_image(tmp_path / "out.tiff", x, _info(None, kind="matrix"))
        y, info = load_image(tmp_path / "out.tiff")
        assert info.mode == mode
        np.testing.assert_array_equal(y, x)

    def test_five_channels_is_no_image(self, tmp_path):
        with pytest.raises(OutputError, match=r"an image cannot hold 5 channels; write \.npy$"):
            save_image(tmp_path / "out.png", u8(1, 5, 2, 2), _info(None, kind="array"))

    def test_channel_count_overrides_a_mismatched_save_mode(self, tmp_path):
        x = u8(1, 1, H, W)
        save_image(tmp_path / "out.png", x, _info("RGB"))
        y, info = load_image(tmp_path / "out.png")
        assert info.mode == "L"
        np.testing.assert_array_equal(y, x)


class TestFormats:
    @pytest.mark.parametrize(
        ("name", "format", "expected"),
        [
            ("a.png", None, "PNG"),
            ("dir.x/a.PNG", None, "PNG"),
            ("a.jpg", None, "JPEG"),
            ("a.jpeg", None, "JPEG"),
            ("a.webp", None, "WEBP"),
            ("a.tif", None, "TIFF"),
            ("a.tiff", None, "TIFF"),
            ("a.gif", None, "GIF"),
            ("a.npy", None, "NPY"),
            ("a.csv", None, "CSV"),
            ("a.txt", None, "CSV"),
            ("a", "jpg", "JPEG"),
            ("a.jpg", "JPG", "JPEG"),
            ("-", "PNG", "PNG"),
            ("-", "jpeg", "JPEG"),
            ("-", "webp", "WEBP"),
            ("-", "tiff", "TIFF"),
            ("-", "gif", "GIF"),
            ("-", "npy", "NPY"),
            ("-", "csv", "CSV"),
        ],
    )
    def test_format_names(self, name, format, expected):
        assert image_format_for(name, format) == expected

    @pytest.mark.parametrize("name", ["-", "out", "out.xyz", "out.png.part"])
    def test_unknown_format(self, name):
        with pytest.raises(OutputError) as caught:
            image_format_for(name)
        assert str(caught.value) == (
            f"{name}: cannot tell the output format from the name; "
            "use format=png|jpeg|webp|tiff|gif|npy"
        )
        assert caught.value.worded(CLI_FLAGS) == (
            f"{name}: cannot tell the output format from the name; "
            "use --format png|jpeg|webp|tiff|gif|npy"
        )

    def test_bad_format_option(self):
        with pytest.raises(OutputError) as caught:
            image_format_for("out.png", "xbm")
        assert str(caught.value) == (
            "out.png: unknown format 'xbm'; use format=png|jpeg|webp|tiff|gif|npy"
        )
        assert caught.value.worded(CLI_FLAGS) == (
            "out.png: unknown format 'xbm'; use --format png|jpeg|webp|tiff|gif|npy"
        )

    @pytest.mark.parametrize(
        ("save_mode", "channels", "ext", "message"),
        [
            ("RGBA", 4, "jpg", "JPEG cannot hold RGBA images; write .png or .tiff"),
            ("LA", 2, "jpg", "JPEG cannot hold LA images; write .png or .tiff"),
            ("I;16", 1, "jpg", "JPEG cannot hold I;16 images; write .png or .tiff"),
            ("I", 1, "jpeg", "JPEG cannot hold I images; write .tiff"),
            ("F", 1, "jpg", "JPEG cannot hold F images; write .tiff"),
            ("F", 1, "png", "PNG cannot hold F images; write .tiff"),
            ("CMYK", 4, "png", "PNG cannot hold CMYK images; write .tiff"),
            ("CMYK", 4, "webp", "WEBP cannot hold CMYK images; write .tiff"),
            ("I;16", 1, "webp", "WEBP cannot hold I;16 images; write .png or .tiff"),
            ("LA", 2, "gif", "GIF cannot hold LA images; write .png or .tiff"),
        ],
    )
    def test_format_that_cannot_hold_the_mode_writes_nothing(
        self, tmp_path, save_mode, channels, ext, message
    ):
        target = tmp_path / f"out.{ext}"
        with pytest.raises(OutputError) as caught:
            save_image(target, np.zeros((1, channels, 2, 2), np.uint8), _info(save_mode))
        assert str(caught.value) == f"{target}: {message}"
        assert list(tmp_path.iterdir()) == []

    def test_several_frames_to_jpeg(self, tmp_path):
        target = tmp_path / "out.jpg"
        with pytest.raises(OutputError) as caught:
            save_image(target, u8(2, 3, 4, 4), _info("RGB"))
        assert str(caught.value) == (
            f"{target}: JPEG holds one frame, not 2; pick one with frame=K or write a format "
            "that holds frames (.gif, .webp, .png, .tiff)"
        )
        assert caught.value.worded(CLI_FLAGS) == (
            f"{target}: JPEG holds one frame, not 2; pick one with --frame K or write a format "
            "that holds frames (.gif, .webp, .png, .tiff)"
        )
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        ("save_mode", "channels", "ext"),
        [
            ("L", 1, "jpg"),
            ("RGB", 3, "jpg"),
            ("CMYK", 4, "jpg"),
            ("RGB", 3, "webp"),
            ("RGBA", 4, "webp"),
            ("L", 1, "gif"),
            ("RGB", 3, "gif"),
            ("RGBA", 4, "gif"),
        ],
    )
    def test_lossy_formats_write_their_modes(self, tmp_path, save_mode, channels, ext):
        x = np.full((1, channels, 16, 16), 200, np.uint8)
        save_image(tmp_path / f"out.{ext}", x, _info(save_mode))
        y, info = load_image(tmp_path / f"out.{ext}")
        assert y.shape[2:] == (16, 16)
        assert info.format == image_format_for(f"out.{ext}")

    @pytest.mark.parametrize(("quality", "sampling"), [(None, 0), (90, 0), (95, 0), (75, 2)])
    def test_jpeg_quality_and_subsampling(self, tmp_path, quality, sampling):
        x = u8(1, 3, 32, 32)
        save_image(tmp_path / "out.jpg", x, _info("RGB"), quality=quality)
        with Image.open(tmp_path / "out.jpg") as img:
            assert JpegImagePlugin.get_sampling(img) == sampling

    def test_jpeg_quality_changes_the_size(self, tmp_path):
        x = u8(1, 3, 64, 64)
        save_image(tmp_path / "low.jpg", x, _info("RGB"), quality=20)
        save_image(tmp_path / "high.jpg", x, _info("RGB"), quality=100)
        assert (tmp_path / "low.jpg").stat().st_size < (tmp_path / "high.jpg").stat().st_size

    @pytest.mark.parametrize("quality", [0, 101])
    def test_bad_quality(self, tmp_path, quality):
        with pytest.raises(ValueError, match=f"quality must be between 1 and 100, got {quality}"):
            save_image(tmp_path / "out.jpg", u8(1, 3, 2, 2), _info("RGB"), quality=quality)

    def test_wrong_rank_is_a_value_error(self, tmp_path):
        with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
            save_image(tmp_path / "out.png", u8(2, 2), _info("L"))


class TestExifAndIcc:
    def test_orientation_is_applied(self, tmp_path):
        gray = u8(3, 4)
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise to display
        pil("L", gray).save(tmp_path / "o.png", exif=exif)
        x, info = load_image(tmp_path / "o.png")
        np.testing.assert_array_equal(x[0, 0], np.rot90(gray, -1))
        assert info.mode == "L"

    @pytest.mark.parametrize("orientation", [2, 3, 4, 5, 7, 8])
    def test_every_orientation(self, tmp_path, orientation):
        gray = u8(3, 4)
        exif = Image.Exif()
        exif[0x0112] = orientation
        pil("L", gray).save(tmp_path / "o.png", exif=exif)
        x, _ = load_image(tmp_path / "o.png")
        expected = {
            2: np.fliplr(gray),
            3: np.rot90(gray, 2),
            4: np.flipud(gray),
            5: gray.T,
            7: np.rot90(gray, 2).T,
            8: np.rot90(gray, 1),
        }[orientation]
        np.testing.assert_array_equal(x[0, 0], expected)

    def test_orientation_1_keeps_the_pixels(self, tmp_path):
        gray = u8(3, 4)
        exif = Image.Exif()
        exif[0x0112] = 1
        pil("L", gray).save(tmp_path / "o.png", exif=exif)
        x, _ = load_image(tmp_path / "o.png")
        np.testing.assert_array_equal(x[0, 0], gray)

    @pytest.mark.parametrize("ext", ["png", "jpg", "tiff", "webp"])
    def test_icc_profile_is_carried(self, tmp_path, ext):
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        pil("RGB", u8(8, 8, 3)).save(tmp_path / "in.png", icc_profile=profile)
        x, info = load_image(tmp_path / "in.png")
        assert info.icc_profile == profile
        save_image(tmp_path / f"out.{ext}", x, info)
        with Image.open(tmp_path / f"out.{ext}") as img:
            assert img.info.get("icc_profile") == profile
        assert load_image(tmp_path / f"out.{ext}")[1].icc_profile == profile

    def test_no_icc_profile(self, tmp_path):
        pil("RGB", u8(8, 8, 3)).save(tmp_path / "in.png")
        x, info = load_image(tmp_path / "in.png")
        assert info.icc_profile is None
        save_image(tmp_path / "out.png", x, info)
        with Image.open(tmp_path / "out.png") as img:
            assert "icc_profile" not in img.info


class TestArrays:
    @pytest.mark.parametrize(
        ("shape", "dtype"),
        [
            ((4, 5), np.float64),
            ((3, 4, 5), np.uint8),
            ((2, 3, 4, 5), np.int16),
            ((1, 4, 5), np.float32),
            ((1, 1, 4, 5), np.uint16),
            ((2, 2), np.bool_),
            ((4, 5), ">f8"),
        ],
    )
    def test_npy_rank_round_trip(self, tmp_path, shape, dtype):
        x = (RNG.standard_normal(shape) * 100).astype(dtype)
        np.save(tmp_path / "in.npy", x)
        y, info = load_image(tmp_path / "in.npy")
        assert y.shape == (1,) * (4 - len(shape)) + shape
        assert (info.kind, info.format, info.mode, info.save_mode) == ("array", None, None, None)
        assert info.ndim == len(shape)
        assert info.dtype == np.dtype(dtype).name
        assert info.frames == y.shape[0]
        save_image(tmp_path / "out.npy", y, info)
        z = np.load(tmp_path / "out.npy")
        assert z.shape == shape
        assert z.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(z, x)

    def test_npy_result_of_another_shape_keeps_four_dimensions(self, tmp_path):
        np.save(tmp_path / "in.npy", np.zeros((4, 4)))
        _, info = load_image(tmp_path / "in.npy")
        save_image(tmp_path / "out.npy", np.zeros((2, 1, 2, 2), np.float32), info)
        z = np.load(tmp_path / "out.npy")
        assert z.shape == (2, 1, 2, 2) and z.dtype == np.float32

    def test_image_saved_as_npy_is_nchw(self, tmp_path):
        rgb = u8(H, W, 3)
        pil("RGB", rgb).save(tmp_path / "in.png")
        x, info = load_image(tmp_path / "in.png")
        save_image(tmp_path / "out.npy", x, info)
        np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), as_nchw(rgb))

    @pytest.mark.parametrize(
        ("array", "reason"),
        [
            (
                np.zeros(5),
                "array has 1 dimensions; expected 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)",
            ),
            (
                np.zeros((1, 1, 1, 2, 2)),
                "array has 5 dimensions; expected 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)",
            ),
            (np.array([["a", "b"]]), "array of <U1 values; expected numbers"),
            (np.zeros((2, 2), np.complex128), "array of complex128 values; expected numbers"),
            (np.zeros((0, 3)), "array is empty (shape (0, 3))"),
        ],
    )
    def test_bad_npy(self, tmp_path, array, reason):
        np.save(tmp_path / "bad.npy", array)
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "bad.npy")
        assert str(caught.value) == f"{tmp_path / 'bad.npy'}: {reason}"

    def test_pickled_npy_is_refused(self, tmp_path):
        np.save(tmp_path / "obj.npy", np.array([[1, None]], dtype=object), allow_pickle=True)
        with pytest.raises(InputError, match=r"obj\.npy: corrupt \.npy file: .*allow_pickle"):
            load_image(tmp_path / "obj.npy")

    def test_not_npy(self, tmp_path):
        (tmp_path / "x.npy").write_bytes(b"PK\x03\x04 zip")
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "x.npy")
        assert str(caught.value) == f"{tmp_path / 'x.npy'}: not a .npy file"

    def test_truncated_npy(self, tmp_path):
        np.save(tmp_path / "x.npy", np.zeros((50, 50)))
        data = (tmp_path / "x.npy").read_bytes()
        (tmp_path / "x.npy").write_bytes(data[: len(data) // 2])
        # Issue 11 item 6: was "corrupt .npy file: ..."; the header's promise is checked first.
        with pytest.raises(
            InputError, match=r"x\.npy: truncated: the header promises 20000 bytes, the file has"
        ):
            load_image(tmp_path / "x.npy")


class TestMatrices:
    @pytest.mark.parametrize(
        "text",
        [
            "1,2,1,0\n0,1,2,3\n",
            "1 2 1 0\n0 1 2 3",
            "1\t2\t1\t0\n0\t1\t2\t3\n",
            "1, 2 ,1,0\n  0 1, 2   3  \n",
            "# the lecture's matrix\n\n1,2,1,0  # first row\n\n0,1,2,3\n\n",
            "\ufeff1,2,1,0\r\n0,1,2,3\r\n",
            "+1,2,1,-0\n0,1,2,3\n",
        ],
        ids=["comma", "space", "tab", "mixed", "comments-blank", "bom-crlf", "signs"],
    )
    def test_separators(self, tmp_path, text):
        (tmp_path / "m.csv").write_text(text, encoding="utf-8", newline="")
        x, info = load_image(tmp_path / "m.csv")
        assert x.dtype == np.int64
        np.testing.assert_array_equal(x, [[[[1, 2, 1, 0], [0, 1, 2, 3]]]])
        assert (info.kind, info.dtype, info.ndim, info.frames) == ("matrix", "int64", 2, 1)

    def test_floats(self, tmp_path):
        (tmp_path / "m.txt").write_text("1 2.5\n-1e-3 4\n", encoding="ascii")
        x, info = load_image(tmp_path / "m.txt")
        assert x.dtype == np.float64 and info.dtype == "float64"
        np.testing.assert_array_equal(x[0, 0], [[1.0, 2.5], [-0.001, 4.0]])

    def test_huge_integers_become_floats(self, tmp_path):
        (tmp_path / "m.csv").write_text("1,99999999999999999999\n", encoding="ascii")
        x, _ = load_image(tmp_path / "m.csv")
        assert x.dtype == np.float64

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("1,2,3\n4,5,6\n7,8\n", "line 3: 2 values, expected 3 as on line 1"),
            ("\n1 2\n3 4 5\n", "line 3: 3 values, expected 2 as on line 2"),
            ("1,2\n3,x\n", "line 2: not a number: 'x'"),
            ("1,2\n3,1_0\n", "line 2: not a number: '1_0'"),
            ("1,,2\n", "line 1: empty value"),
            ("1,2,\n", "line 1: empty value"),
            ("# nothing\n\n", "no numbers"),
            ("\n\n", "no numbers"),
        ],
    )
    def test_bad_matrices(self, tmp_path, text, reason):
        (tmp_path / "m.csv").write_text(text, encoding="ascii")
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "m.csv")
        assert str(caught.value) == f"{tmp_path / 'm.csv'}: {reason}"

    def test_binary_named_csv(self, tmp_path):
        (tmp_path / "m.csv").write_bytes(b"\xff\xfe\x00\x01")
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "m.csv")
        assert str(caught.value) == f"{tmp_path / 'm.csv'}: not a text file of numbers"

    def test_csv_output(self, tmp_path):
        x = np.array([[1.0, 2.25, -0.5], [1e-20, 3.0, np.float64(1) / 3]])
        save_image(tmp_path / "out.csv", x[None, None], _info(None, kind="matrix", ndim=2))
        text = (tmp_path / "out.csv").read_text(encoding="ascii")
        assert text == "1,2.25,-0.5\n1e-20,3,0.3333333333333333\n"
        y, _ = load_image(tmp_path / "out.csv")
        np.testing.assert_array_equal(y[0, 0], x)

    def test_csv_output_of_integers_and_float32(self, tmp_path):
        ints = np.array([[1, -2], [30, 4]], dtype=np.int64)
        save_image(tmp_path / "i.csv", ints[None, None], _info(None, kind="matrix", ndim=2))
        assert (tmp_path / "i.csv").read_text(encoding="ascii") == "1,-2\n30,4\n"
        f32 = np.array([[0.1, 2.0, 2.5]], dtype=np.float32)
        save_image(tmp_path / "f.csv", f32[None, None], _info(None, kind="matrix", ndim=2))
        assert (tmp_path / "f.csv").read_text(encoding="ascii") == "0.1,2,2.5\n"

    def test_csv_of_several_planes(self, tmp_path):
        with pytest.raises(OutputError) as caught:
            save_image(tmp_path / "out.csv", u8(1, 3, 2, 2), _info("RGB"))
        assert str(caught.value) == (
            f"{tmp_path / 'out.csv'}: CSV holds one plane, not shape (1, 3, 2, 2); "
            "write .npy or an image"
        )

    def test_matrix_to_npy_keeps_two_dimensions(self, tmp_path):
        (tmp_path / "m.csv").write_text("1,2\n3,4\n", encoding="ascii")
        x, info = load_image(tmp_path / "m.csv")
        save_image(tmp_path / "m.npy", x, info)
        z = np.load(tmp_path / "m.npy")
        assert z.shape == (2, 2) and z.dtype == np.int64

    def test_format_matrix(self):
        plane = np.array([[1, 2, 10], [-3, 0, 4]])
        assert format_matrix(plane) == " 1 2 10\n-3 0  4"
        floats = np.array([[0.5, 2.0], [12.25, -1.0]], dtype=np.float32)
        assert format_matrix(floats) == "  0.5  2\n12.25 -1"
        assert format_matrix(np.array([[-0.0]])) == "0"

    def test_format_matrix_needs_two_dimensions(self):
        with pytest.raises(ValueError, match=r"needs a 2-D array, got shape \(3,\)"):
            format_matrix(np.zeros(3))

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.lists(st.floats(allow_nan=False, width=64), min_size=3, max_size=3),
            min_size=1,
            max_size=4,
        )
    )
    def test_csv_round_trip_is_exact(self, rows):
        x = np.array(rows, dtype=np.float64)[None, None]
        out = io.BytesIO()
        save_image(out, x, _info(None, kind="matrix", ndim=2), format="csv")
        y, _ = load_image(io.BytesIO(out.getvalue()))
        np.testing.assert_array_equal(y.astype(np.float64), x)


class TestAtomicWrite:
    def test_failed_encode_leaves_nothing(self, tmp_path, monkeypatch):
        def broken_save(self, fp, *args, **kwargs):
            fp.write(b"\x89PNG half of an image")
            raise RuntimeError("encoder crashed")

        monkeypatch.setattr(Image.Image, "save", broken_save)
        with pytest.raises(RuntimeError, match="encoder crashed"):
            save_image(tmp_path / "out.png", u8(1, 3, 4, 4), _info("RGB"))
        assert list(tmp_path.iterdir()) == []

    def test_failed_encode_keeps_the_old_file(self, tmp_path, monkeypatch):
        (tmp_path / "out.png").write_bytes(b"old")

        def full_disk(self, fp, *args, **kwargs):
            fp.write(b"\x89PNG")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(Image.Image, "save", full_disk)
        with pytest.raises(OutputError) as caught:
            save_image(tmp_path / "out.png", u8(1, 3, 4, 4), _info("RGB"))
        assert str(caught.value) == f"{tmp_path / 'out.png'}: no space left on device"
        assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
        assert (tmp_path / "out.png").read_bytes() == b"old"

    def test_interrupted_write_leaves_nothing(self, tmp_path, monkeypatch):
        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(np, "save", interrupted)
        with pytest.raises(KeyboardInterrupt):
            save_image(tmp_path / "out.npy", np.zeros((1, 1, 2, 2)), _info(None, kind="array"))
        assert list(tmp_path.iterdir()) == []

    def test_overwrites_and_leaves_only_the_output(self, tmp_path):
        (tmp_path / "out.png").write_bytes(b"old")
        save_image(tmp_path / "out.png", u8(1, 3, 4, 4), _info("RGB"))
        assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
        assert load_image(tmp_path / "out.png")[0].shape == (1, 3, 4, 4)

    def test_output_permissions_follow_the_umask(self, tmp_path):
        save_image(tmp_path / "out.png", u8(1, 1, 2, 2), _info("L"))
        umask = os.umask(0o022)
        os.umask(umask)
        assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o666 & ~umask

    def test_missing_folder(self, tmp_path):
        target = tmp_path / "nope" / "out.png"
        with pytest.raises(OutputError) as caught:
            save_image(target, u8(1, 1, 2, 2), _info("L"))
        assert str(caught.value) == f"{target}: folder {tmp_path / 'nope'} does not exist"

    def test_target_is_a_folder(self, tmp_path):
        (tmp_path / "out.png").mkdir()
        with pytest.raises(OutputError) as caught:
            save_image(tmp_path / "out.png", u8(1, 1, 2, 2), _info("L"))
        assert str(caught.value) == f"{tmp_path / 'out.png'}: is a directory"

    def test_permission_denied(self, tmp_path, monkeypatch):
        import tempfile

        def denied(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(tempfile, "NamedTemporaryFile", denied)
        with pytest.raises(OutputError) as caught:
            save_image(tmp_path / "out.png", u8(1, 1, 2, 2), _info("L"))
        assert str(caught.value) == f"{tmp_path / 'out.png'}: permission denied"

    def test_relative_path_in_the_current_folder(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        save_image("out.png", u8(1, 1, 2, 2), _info("L"))
        assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


class TestBadInputs:
    def test_missing(self, tmp_path):
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "missing.png")
        assert str(caught.value) == f"{tmp_path / 'missing.png'}: no such file"
        assert caught.value.path == str(tmp_path / "missing.png")
        assert caught.value.reason == "no such file"

    def test_under_a_file(self, tmp_path):
        (tmp_path / "f").write_bytes(b"x")
        with pytest.raises(InputError, match="no such file"):
            load_image(tmp_path / "f" / "a.png")

    def test_directory(self, tmp_path):
        with pytest.raises(InputError) as caught:
            load_image(tmp_path)
        assert str(caught.value) == f"{tmp_path}: is a directory"

    @pytest.mark.parametrize("name", ["empty.png", "empty.npy", "empty.csv"])
    def test_zero_bytes(self, tmp_path, name):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / name)
        assert str(caught.value) == f"{tmp_path / name}: empty file"

    def test_text_named_png(self, tmp_path):
        (tmp_path / "text.png").write_text("hello, I am not a picture\n", encoding="ascii")
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "text.png")
        assert str(caught.value) == f"{tmp_path / 'text.png'}: cannot identify image file"

    @pytest.mark.parametrize(
        ("ext", "detail"),
        [
            ("png", "image file is truncated"),
            ("jpg", "image file is truncated ("),
            ("gif", "image file is truncated"),
            ("tiff", "image file is truncated"),
        ],
    )
    def test_truncated(self, tmp_path, ext, detail):
        whole = tmp_path / f"whole.{ext}"
        with Image.open(SAMPLES / "chelsea.png") as img:
            img.save(whole)
        data = whole.read_bytes()
        half = tmp_path / f"half.{ext}"
        half.write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError) as caught:
            load_image(half)
        assert str(caught.value).startswith(f"{half}: truncated or corrupt image data: {detail}")

    def test_truncation_is_not_tolerated_globally(self):
        assert ImageFile.LOAD_TRUNCATED_IMAGES is False

    def test_corrupt_pixel_data(self, tmp_path):
        with Image.open(SAMPLES / "chelsea.png") as img:
            img.save(tmp_path / "ok.png")
        data = bytearray((tmp_path / "ok.png").read_bytes())
        idat = data.index(b"IDAT")
        data[idat + 100 : idat + 140] = bytes(40)
        (tmp_path / "bad.png").write_bytes(bytes(data))
        with pytest.raises(InputError, match=r"bad\.png: truncated or corrupt image data: "):
            load_image(tmp_path / "bad.png")


class TestPixelLimit:
    def test_over_the_limit(self, tmp_path):
        pil("L", u8(100, 100)).save(tmp_path / "big.png")
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "big.png", max_pixels=9999)
        assert str(caught.value) == (
            f"{tmp_path / 'big.png'}: image has 10000 pixels, more than the limit of 9999; "
            "raise it with max_pixels"
        )
        assert caught.value.worded(CLI_FLAGS) == (
            f"{tmp_path / 'big.png'}: image has 10000 pixels, more than the limit of 9999; "
            "raise it with --max-pixels"
        )
        assert load_image(tmp_path / "big.png", max_pixels=10000)[0].shape == (1, 1, 100, 100)

    def test_default_is_pillows_limit(self, tmp_path, monkeypatch):
        pil("L", u8(100, 100)).save(tmp_path / "big.png")
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)
        # Pillow would only warn here (between its limit and twice it): poolcli refuses.
        with pytest.raises(InputError, match="image has 10000 pixels, more than the limit of 6000"):
            load_image(tmp_path / "big.png")
        # Pillow would raise DecompressionBombError here (over twice its limit): poolcli obeys
        # the raised limit.
        assert load_image(tmp_path / "big.png", max_pixels=20000)[0].shape == (1, 1, 100, 100)
        assert Image.MAX_IMAGE_PIXELS == 6000

    def test_pillow_limit_left_unchanged(self, tmp_path):
        before = Image.MAX_IMAGE_PIXELS
        pil("L", u8(10, 10)).save(tmp_path / "a.png")
        load_image(tmp_path / "a.png", max_pixels=500)
        with pytest.raises(InputError):
            load_image(tmp_path / "a.png", max_pixels=99)
        (tmp_path / "b.png").write_bytes(b"junk")
        with pytest.raises(InputError):
            load_image(tmp_path / "b.png")
        assert Image.MAX_IMAGE_PIXELS == before

    def test_concurrent_loads_restore_the_limit(self, tmp_path):
        before = Image.MAX_IMAGE_PIXELS
        pil("RGB", u8(64, 64, 3)).save(tmp_path / "a.png")
        barrier = threading.Barrier(4)

        def load(limit):
            barrier.wait()
            try:
                return load_image(tmp_path / "a.png", max_pixels=limit)[0].shape
            except InputError as exc:
                return exc.reason

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(load, [4096, 100, 5000, 4095] * 5))
        refused = "image has 4096 pixels, more than the limit of {}; raise it with max_pixels"
        assert (
            results
            == [(1, 3, 64, 64), refused.format(100), (1, 3, 64, 64), refused.format(4095)] * 5
        )
        assert Image.MAX_IMAGE_PIXELS == before

    def test_bad_max_pixels(self, tmp_path):
        with pytest.raises(ValueError, match="max_pixels must be at least 1, got 0"):
            load_image(tmp_path / "a.png", max_pixels=0)


class TestStreams:
    def test_png_from_stdin(self):
        rgb = u8(H, W, 3)
        buffer = io.BytesIO()
        pil("RGB", rgb).save(buffer, format="PNG")
        x, info = load_image(io.BytesIO(buffer.getvalue()))
        np.testing.assert_array_equal(x, as_nchw(rgb))
        assert info.format == "PNG"

    def test_npy_from_stdin(self):
        buffer = io.BytesIO()
        np.save(buffer, np.arange(6.0).reshape(2, 3))
        x, info = load_image(io.BytesIO(buffer.getvalue()))
        assert x.shape == (1, 1, 2, 3) and info.kind == "array" and info.ndim == 2

    def test_matrix_from_stdin(self):
        x, info = load_image(io.BytesIO(b"1 2\n3 4\n"))
        assert info.kind == "matrix"
        np.testing.assert_array_equal(x[0, 0], [[1, 2], [3, 4]])

    def test_empty_stdin(self):
        with pytest.raises(InputError) as caught:
            load_image(io.BytesIO(b""))
        assert str(caught.value) == "<stdin>: empty input"

    def test_garbage_on_stdin(self):
        with pytest.raises(InputError) as caught:
            load_image(io.BytesIO(b"\x00\x01garbage"))
        assert str(caught.value) == "<stdin>: cannot identify image file"

    def test_truncated_on_stdin(self):
        buffer = io.BytesIO()
        pil("RGB", u8(64, 64, 3)).save(buffer, format="PNG")
        data = buffer.getvalue()
        with pytest.raises(InputError, match=r"^<stdin>: truncated or corrupt image data: "):
            load_image(io.BytesIO(data[: len(data) // 2]))

    def test_open_file_object_is_named(self, tmp_path):
        (tmp_path / "t.png").write_bytes(b"not an image")
        with open(tmp_path / "t.png", "rb") as stream, pytest.raises(InputError) as caught:
            load_image(stream)
        assert str(caught.value) == f"{tmp_path / 't.png'}: cannot identify image file"

    def test_write_to_stdout(self):
        x = u8(1, 3, 4, 4)
        out = io.BytesIO()
        save_image(out, x, _info("RGB"), format="png")
        assert out.getvalue().startswith(b"\x89PNG\r\n\x1a\n")
        np.testing.assert_array_equal(load_image(io.BytesIO(out.getvalue()))[0], x)

    def test_stdout_needs_a_format(self):
        out = io.BytesIO()
        with pytest.raises(OutputError) as caught:
            save_image(out, u8(1, 3, 4, 4), _info("RGB"))
        assert caught.value.worded(CLI_FLAGS) == (
            "<stdout>: cannot tell the output format from the name; "
            "use --format png|jpeg|webp|tiff|gif|npy"
        )
        assert out.getvalue() == b""

    def test_failed_encode_writes_nothing_to_stdout(self, monkeypatch):
        def broken_save(self, fp, *args, **kwargs):
            fp.write(b"\x89PNG partial")
            raise ValueError("bad things")

        monkeypatch.setattr(Image.Image, "save", broken_save)
        out = io.BytesIO()
        with pytest.raises(OutputError) as caught:
            save_image(out, u8(1, 3, 4, 4), _info("RGB"), format="png")
        assert str(caught.value) == "<stdout>: cannot write PNG: bad things"
        assert out.getvalue() == b""

    def test_broken_pipe(self):
        class Closed(io.RawIOBase):
            def writable(self):
                return True

            def write(self, data):
                raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        with pytest.raises(OutputError) as caught:
            save_image(Closed(), u8(1, 1, 2, 2), _info("L"), format="png")
        assert str(caught.value) == "<stdout>: broken pipe"


SAMPLE_CASES = [
    ("astronaut.jpg", (1, 3, 512, 512), "uint8", "RGB", "RGB", 1),
    ("coffee.jpg", (1, 3, 400, 600), "uint8", "RGB", "RGB", 1),
    ("chelsea.png", (1, 3, 300, 451), "uint8", "RGB", "RGB", 1),
    ("camera.png", (1, 1, 512, 512), "uint8", "L", "L", 1),
    ("lecture-4x4.png", (1, 1, 4, 4), "uint8", "L", "L", 1),
    ("lecture-6x6.png", (1, 1, 6, 6), "uint8", "L", "L", 1),
    ("lecture-4x4.csv", (1, 1, 4, 4), "int64", None, None, 1),
    ("lecture-6x6.csv", (1, 1, 6, 6), "int64", None, None, 1),
    ("rgba-disc.png", (1, 4, 64, 64), "uint8", "RGBA", "RGBA", 1),
    ("gray16.png", (1, 1, 48, 64), "uint16", "I;16", "I;16", 1),
    ("palette.png", (1, 3, 32, 48), "uint8", "P", "RGB", 1),
    ("palette-transparent.png", (1, 4, 32, 48), "uint8", "P", "RGBA", 1),
    ("animated.gif", (3, 4, 16, 16), "uint8", "P", "RGBA", 3),
    ("animated.png", (3, 4, 16, 24), "uint8", "RGBA", "RGBA", 3),
    ("rgb16.png", (1, 3, 48, 64), "uint16", "RGB;16", "RGB;16", 1),
    ("exif-rotated.jpg", (1, 3, 48, 32), "uint8", "RGB", "RGB", 1),
]


class TestSamples:
    @pytest.mark.parametrize(
        ("name", "shape", "dtype", "mode", "save_mode", "frames"),
        SAMPLE_CASES,
        ids=[case[0] for case in SAMPLE_CASES],
    )
    def test_sample_loads(self, name, shape, dtype, mode, save_mode, frames):
        x, info = load_image(SAMPLES / name)
        assert x.shape == shape
        assert x.dtype == np.dtype(dtype)
        assert (info.mode, info.save_mode, info.frames) == (mode, save_mode, frames)

    def test_every_sample_is_listed_and_in_the_readme(self):
        readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
        files = {p.name for p in SAMPLES.iterdir()} - {"README.md", "make_samples.py"}
        assert files == {case[0] for case in SAMPLE_CASES}
        for name in files:
            assert name in readme
        assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 5 * 2**20

    @pytest.mark.parametrize("size", [4, 6])
    def test_lecture_png_matches_csv(self, size):
        png, _ = load_image(SAMPLES / f"lecture-{size}x{size}.png")
        csv, _ = load_image(SAMPLES / f"lecture-{size}x{size}.csv")
        np.testing.assert_array_equal(png, csv)
        if size == 4:
            np.testing.assert_array_equal(
                csv[0, 0], [[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]]
            )

    def test_gray16_spans_the_range(self):
        x, _ = load_image(SAMPLES / "gray16.png")
        assert (x.min(), x.max()) == (0, 65535)
        assert np.all(np.diff(x.ravel().astype(np.int64)) >= 0)

    def test_rgba_disc_has_a_transparent_border(self):
        x, _ = load_image(SAMPLES / "rgba-disc.png")
        alpha = x[0, 3]
        assert alpha[0].max() == 0 and alpha[:, 0].max() == 0 and alpha[32, 32] == 255
        assert 0 < alpha[32, 56] < 255  # the soft edge

    def test_exif_rotated_shows_red_on_top(self):
        x, _ = load_image(SAMPLES / "exif-rotated.jpg")
        assert x[0, 0, :24].mean() > 200 and x[0, 2, :24].mean() < 50
        assert x[0, 2, 24:].mean() > 200 and x[0, 0, 24:].mean() < 50

    def test_animated_png_keeps_its_durations(self):
        x, info = load_image(SAMPLES / "animated.png")
        assert (info.durations, info.loop) == ((100.0, 200.0, 300.0), 0)
        square = [x[k, :, 4, 2 + 6 * k] for k in range(3)]  # the top-left corner of each frame
        np.testing.assert_array_equal(square, [[230, 25, 75, 255]] * 3)

    def test_rgb16_is_read_at_full_depth(self):
        pytest.importorskip("imagecodecs")
        x, _ = load_image(SAMPLES / "rgb16.png")
        assert (x[0, 0, 0, 63], x[0, 1, 47, 0], x[0, 2, 10, 10]) == (65520, 65518, 1000)


# ---------------------------------------------------------------------------------------------
# Frames


def gif_frames(durations: list[int]) -> tuple[list[Image.Image], np.ndarray]:
    """Palette frames of a square moving right, index 0 transparent; and their RGBA pixels."""
    frames, rgba = [], []
    palette = np.array([(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)], dtype=np.uint8)
    for step in range(len(durations)):
        index = np.zeros((12, 16), dtype=np.uint8)
        index[3:9, 2 + 3 * step : 8 + 3 * step] = 1 + step % 3
        frame = pil("P", index)
        frame.putpalette(palette.ravel().tolist())
        frames.append(frame)
        alpha = np.where(index == 0, 0, 255).astype(np.uint8)
        colour = np.where(index[..., None] == 0, 0, palette[index])
        rgba.append(np.dstack([colour, alpha]))
    return frames, np.stack(rgba).transpose(0, 3, 1, 2)


class TestFrames:
    def test_animated_gif_loads_every_frame_with_durations_and_loop(self, tmp_path):
        frames, expected = gif_frames([100, 250, 400])
        frames[0].save(
            tmp_path / "a.gif",
            save_all=True,
            append_images=frames[1:],
            duration=[100, 250, 400],
            loop=2,
            transparency=0,
            disposal=2,
        )
        x, info = load_image(tmp_path / "a.gif")
        assert x.shape == (3, 4, 12, 16)
        np.testing.assert_array_equal(x, expected)
        assert (info.frames, info.durations, info.loop) == (3, (100, 250, 400), 2)
        assert (info.mode, info.save_mode) == ("P", "RGBA")

        save_image(tmp_path / "out.gif", x, info)
        y, back = load_image(tmp_path / "out.gif")
        np.testing.assert_array_equal(y, expected)
        assert (back.frames, back.durations, back.loop) == (3, (100, 250, 400), 2)

    def test_gif_without_loop_extension_plays_once(self, tmp_path):
        frames, _ = gif_frames([100, 100])
        frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100)
        x, info = load_image(tmp_path / "a.gif")
        assert info.loop is None
        save_image(tmp_path / "out.gif", x, info)
        with Image.open(tmp_path / "out.gif") as img:
            assert "loop" not in img.info and img.n_frames == 2

    def test_gif_transparency_index_is_alpha(self, tmp_path):
        frames, expected = gif_frames([100])
        frames[0].save(tmp_path / "t.gif", transparency=0)
        x, info = load_image(tmp_path / "t.gif")
        assert (info.mode, info.save_mode, info.frames) == ("P", "RGBA", 1)
        np.testing.assert_array_equal(x, expected)

    def test_tiff_pages_rgb_then_rgba_widen_to_rgba(self, tmp_path):
        rgb, rgba = u8(H, W, 3), u8(H, W, 4)
        pil("RGB", rgb).save(tmp_path / "p.tiff", save_all=True, append_images=[pil("RGBA", rgba)])
        x, info = load_image(tmp_path / "p.tiff")
        assert (x.shape, info.save_mode) == ((2, 4, H, W), "RGBA")
        np.testing.assert_array_equal(x[0, :3], rgb.transpose(2, 0, 1))
        assert x[0, 3].min() == 255  # opaque
        np.testing.assert_array_equal(x[1], rgba.transpose(2, 0, 1))

    def test_apng_round_trip_is_exact(self, tmp_path):
        rgba = u8(3, 6, 8, 4)
        frames = [pil("RGBA", frame) for frame in rgba]
        frames[0].save(
            tmp_path / "a.png",
            save_all=True,
            append_images=frames[1:],
            duration=[40, 80, 120],
            loop=3,
        )
        x, info = load_image(tmp_path / "a.png")
        np.testing.assert_array_equal(x, rgba.transpose(0, 3, 1, 2))
        assert (info.durations, info.loop) == ((40.0, 80.0, 120.0), 3)
        save_image(tmp_path / "out.png", x, info)
        y, back = load_image(tmp_path / "out.png")
        np.testing.assert_array_equal(y, x)
        assert (back.frames, back.durations, back.loop) == (3, (40.0, 80.0, 120.0), 3)

    def test_animated_webp_keeps_frames_durations_and_loop(self, tmp_path):
        rgb = np.zeros((3, 16, 16, 3), np.uint8)
        for k in range(3):
            rgb[k, :, 5 * k : 5 * k + 5] = 255
        frames = [pil("RGB", frame) for frame in rgb]
        frames[0].save(
            tmp_path / "a.webp",
            save_all=True,
            append_images=frames[1:],
            duration=[70, 140, 210],
            loop=4,
            lossless=True,
        )
        x, info = load_image(tmp_path / "a.webp")
        assert x.shape[0] == 3 and (info.durations, info.loop) == ((70, 140, 210), 4)
        np.testing.assert_array_equal(x[:, :3].transpose(0, 2, 3, 1), rgb)
        save_image(tmp_path / "out.webp", x, info)
        y, back = load_image(tmp_path / "out.webp")
        assert y.shape[0] == 3 and (back.durations, back.loop) == ((70, 140, 210), 4)
        assert np.abs(y[:, :3].astype(int) - x[:, :3]).max() < 40  # lossy; the bars stay put

    def test_multi_page_tiff_round_trip(self, tmp_path):
        pages = u8(3, H, W, 3)
        images = [pil("RGB", page) for page in pages]
        images[0].save(tmp_path / "p.tiff", save_all=True, append_images=images[1:])
        x, info = load_image(tmp_path / "p.tiff")
        np.testing.assert_array_equal(x, pages.transpose(0, 3, 1, 2))
        assert (info.frames, info.durations, info.loop) == (3, None, None)
        save_image(tmp_path / "out.tiff", x, info)
        with Image.open(tmp_path / "out.tiff") as img:
            assert img.n_frames == 3
        np.testing.assert_array_equal(load_image(tmp_path / "out.tiff")[0], x)

    def test_tiff_pages_grey_then_colour_widen_to_rgb(self, tmp_path):
        grey, rgb = u8(H, W), u8(H, W, 3)
        pil("L", grey).save(tmp_path / "p.tiff", save_all=True, append_images=[pil("RGB", rgb)])
        x, info = load_image(tmp_path / "p.tiff")
        assert (x.shape, info.save_mode) == ((2, 3, H, W), "RGB")
        np.testing.assert_array_equal(x[0], np.stack([grey] * 3))
        np.testing.assert_array_equal(x[1], rgb.transpose(2, 0, 1))

    def test_tiff_pages_of_different_sizes(self, tmp_path):
        pil("L", u8(4, 6)).save(
            tmp_path / "p.tiff", save_all=True, append_images=[pil("L", u8(2, 3))]
        )
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "p.tiff")
        assert str(caught.value) == (
            f"{tmp_path / 'p.tiff'}: frame 1 is 2x3, frame 0 4x6 (height x width); pick one with "
            "frame=K"
        )
        assert caught.value.worded(CLI_FLAGS) == (
            f"{tmp_path / 'p.tiff'}: frame 1 is 2x3, frame 0 4x6 (height x width); pick one with "
            "--frame K"
        )
        assert load_image(tmp_path / "p.tiff", frame=1)[0].shape == (1, 1, 2, 3)

    def test_tiff_pages_of_incompatible_modes(self, tmp_path):
        first = pil("I;16", np.zeros((2, 2), "<u2"))
        first.save(tmp_path / "p.tiff", save_all=True, append_images=[pil("RGB", u8(2, 2, 3))])
        with pytest.raises(
            InputError, match=r"frame 1 is RGB, frame 0 I;16; pick one with frame=K$"
        ) as caught:
            load_image(tmp_path / "p.tiff")
        assert caught.value.worded(CLI_FLAGS).endswith("pick one with --frame K")

    @pytest.mark.parametrize("frame", [0, 1, 2])
    def test_frame_picks_one(self, tmp_path, frame):
        frames, expected = gif_frames([100, 200, 300])
        frames[0].save(
            tmp_path / "a.gif",
            save_all=True,
            append_images=frames[1:],
            duration=[100, 200, 300],
            transparency=0,
            disposal=2,
        )
        x, info = load_image(tmp_path / "a.gif", frame=frame)
        np.testing.assert_array_equal(x, expected[frame : frame + 1])
        assert (info.frames, info.frame, info.durations) == (3, frame, ([100, 200, 300][frame],))

    def test_frame_out_of_range(self, tmp_path):
        frames, _ = gif_frames([100, 200])
        frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "a.gif", frame=2)
        assert (
            str(caught.value) == f"{tmp_path / 'a.gif'}: has no frame 2: it has 2 frames (0 to 1)"
        )
        pil("L", u8(2, 2)).save(tmp_path / "one.png")
        with pytest.raises(InputError, match=r"one\.png: has no frame 1: it has 1 frame \(0\)$"):
            load_image(tmp_path / "one.png", frame=1)
        with pytest.raises(ValueError, match="frame must be at least 0, got -1"):
            load_image(tmp_path / "one.png", frame=-1)

    def test_frame_of_a_npy_array(self, tmp_path):
        np.save(tmp_path / "a.npy", np.arange(24).reshape(3, 2, 2, 2))
        x, info = load_image(tmp_path / "a.npy", frame=2)
        np.testing.assert_array_equal(x, np.arange(16, 24).reshape(1, 2, 2, 2))
        assert info.frame == 2
        with pytest.raises(InputError, match="has no frame 3: it has 3 frames"):
            load_image(tmp_path / "a.npy", frame=3)

    def test_frames_of_a_multi_picture_jpeg_are_not_an_animation(self, tmp_path):
        """MPO (a phone's JPEG with a second picture) loads its first picture only."""
        first, second = pil("RGB", u8(16, 16, 3)), pil("RGB", u8(8, 8, 3))
        first.save(tmp_path / "m.mpo", format="MPO", save_all=True, append_images=[second])
        x, info = load_image(tmp_path / "m.mpo")
        assert (x.shape, info.format, info.frames) == ((1, 3, 16, 16), "MPO", 2)

    def test_frames_share_one_read_only_channel_last_buffer(self, tmp_path):
        frames, _ = gif_frames([100, 200, 300])
        frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
        x, _ = load_image(tmp_path / "a.gif")
        assert x.transpose(0, 2, 3, 1).flags.c_contiguous and not x.flags.writeable

    def test_frames_to_jpeg_is_an_error_naming_the_fix(self, tmp_path):
        frames, _ = gif_frames([100, 200])
        frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
        x, info = load_image(tmp_path / "a.gif")
        with pytest.raises(
            OutputError, match=r"JPEG holds one frame, not 2; pick one with frame=K"
        ):
            save_image(tmp_path / "out.jpg", x[:, :3], info)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif"]


# ---------------------------------------------------------------------------------------------
# 16-bit colour


def png16(hwc: np.ndarray) -> bytes:
    imagecodecs = pytest.importorskip("imagecodecs")
    return bytes(imagecodecs.png_encode(np.ascontiguousarray(hwc)))


def png_header(data: bytes) -> tuple[int, int]:
    """(bit depth, colour type) from a PNG's IHDR."""
    assert data[12:16] == b"IHDR"
    return data[24], data[25]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


WIDE = [("LA;16", 2, 4), ("RGB;16", 3, 2), ("RGBA;16", 4, 6)]


class TestFullDepth:
    @pytest.mark.parametrize(("mode", "channels", "colour_type"), WIDE, ids=[w[0] for w in WIDE])
    def test_png_round_trip_at_16_bits(self, tmp_path, mode, channels, colour_type):
        values = RNG.integers(0, 65536, (H, W, channels), dtype=np.uint16)
        values[0, 0] = [257 * 3 + 1] * channels  # not a multiple of 257: lost at 8 bits
        (tmp_path / "in.png").write_bytes(png16(values))
        x, info = load_image(tmp_path / "in.png")
        assert x.dtype == np.uint16 and (info.mode, info.save_mode) == (mode, mode)
        np.testing.assert_array_equal(x, as_nchw(values))
        save_image(tmp_path / "out.png", x, info)
        data = (tmp_path / "out.png").read_bytes()
        assert png_header(data) == (16, colour_type)
        y, _ = load_image(tmp_path / "out.png")
        np.testing.assert_array_equal(y, x)

    @pytest.mark.parametrize(("mode", "channels"), [("RGB;16", 3), ("RGBA;16", 4)])
    def test_tiff_round_trip_at_16_bits(self, tmp_path, mode, channels):
        tifffile = pytest.importorskip("tifffile")
        pages = RNG.integers(0, 65536, (2, H, W, channels), dtype=np.uint16)
        extra = {"extrasamples": ["unassalpha"]} if channels == 4 else {}
        with tifffile.TiffWriter(tmp_path / "in.tiff") as tiff:
            for page in pages:
                tiff.write(page, photometric="rgb", **extra)
        x, info = load_image(tmp_path / "in.tiff")
        assert (x.shape, info.save_mode, info.frames) == ((2, channels, H, W), mode, 2)
        np.testing.assert_array_equal(x, pages.transpose(0, 3, 1, 2))
        save_image(tmp_path / "out.tiff", x, info)
        np.testing.assert_array_equal(tifffile.imread(tmp_path / "out.tiff"), pages)
        np.testing.assert_array_equal(load_image(tmp_path / "out.tiff", frame=1)[0], x[1:])

    def test_planar_tiff(self, tmp_path):
        tifffile = pytest.importorskip("tifffile")
        planes = RNG.integers(0, 65536, (3, H, W), dtype=np.uint16)
        tifffile.imwrite(tmp_path / "in.tiff", planes, photometric="rgb", planarconfig="separate")
        x, _ = load_image(tmp_path / "in.tiff")
        np.testing.assert_array_equal(x[0], planes)

    def test_pooled_float_result_is_rounded_to_16_bits(self, tmp_path):
        # Issue 11 item 10: was 70000.0, clipped to 65535; now refused (tests/test_hardening_io).
        values = np.array([[[1000.5, 2.4, 65535.4]]], dtype=np.float32).transpose(2, 0, 1)[None]
        info = ImageInfo("image", "PNG", "RGB;16", "RGB;16", "uint16", 1)
        save_image(tmp_path / "out.png", values, info)
        y, _ = load_image(tmp_path / "out.png")
        assert y[0, :, 0, 0].tolist() == [1001, 2, 65535]

    def test_uint16_colour_array_is_written_at_16_bits(self, tmp_path):
        pytest.importorskip("imagecodecs")
        x = RNG.integers(0, 65536, (1, 3, H, W), dtype=np.uint16)
        save_image(tmp_path / "out.png", x, _info(None, kind="array"))
        assert png_header((tmp_path / "out.png").read_bytes()) == (16, 2)
        np.testing.assert_array_equal(load_image(tmp_path / "out.png")[0], x)

    def test_metadata_on_16_bit_png_and_tiff(self, tmp_path):
        pytest.importorskip("tifffile")
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        exif = Image.Exif()
        exif[0x010F] = "Maker"
        x = RNG.integers(0, 65536, (1, 3, H, W), dtype=np.uint16)
        info = ImageInfo(
            "image", "PNG", "RGB;16", "RGB;16", "uint16", 1,
            icc_profile=profile, exif=exif.tobytes(), dpi=(300.0, 150.0), size=(H, W),
        )  # fmt: skip
        for ext in ("png", "tiff"):
            save_image(tmp_path / f"out.{ext}", x, info)
            with Image.open(tmp_path / f"out.{ext}") as img:
                assert img.info["icc_profile"] == profile
                assert img.info["dpi"] == pytest.approx((300, 150), abs=0.05)
                if ext == "png":
                    assert img.getexif()[0x010F] == "Maker"
            back = load_image(tmp_path / f"out.{ext}")[1]
            assert back.icc_profile == profile
        save_image(tmp_path / "strip.png", x, info, strip=True)
        with Image.open(tmp_path / "strip.png") as img:
            assert not {"icc_profile", "dpi", "exif"} & set(img.info)

    def test_orientation_of_16_bit_colour(self, tmp_path):
        values = RNG.integers(0, 65536, (3, 4, 3), dtype=np.uint16)
        exif = Image.Exif()
        exif[0x0112] = 6
        data = png16(values)
        data = data[:33] + png_chunk(b"eXIf", exif.tobytes()[6:]) + data[33:]
        (tmp_path / "o.png").write_bytes(data)
        x, info = load_image(tmp_path / "o.png")
        np.testing.assert_array_equal(x[0].transpose(1, 2, 0), np.rot90(values, -1))
        assert info.exif is None  # nothing left once the orientation is applied
        raw, raw_info = load_image(tmp_path / "o.png", auto_orient=False)
        np.testing.assert_array_equal(raw[0].transpose(1, 2, 0), values)
        kept = Image.Exif()
        kept.load(raw_info.exif)
        assert dict(kept) == {0x0112: 6}

    def test_without_the_extra_16_bit_png_is_refused(self, tmp_path, monkeypatch):
        data = png16(np.zeros((2, 2, 3), np.uint16))
        (tmp_path / "in.png").write_bytes(data)
        monkeypatch.setitem(sys.modules, "imagecodecs", None)
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "in.png")
        assert str(caught.value) == (
            f"{tmp_path / 'in.png'}: 16-bit colour PNG needs the full-depth extra: "
            "pip install 'poolcli-image[full-depth]'"
        )
        info = ImageInfo("image", "PNG", "RGB;16", "RGB;16", "uint16", 1)
        with pytest.raises(OutputError, match=r"16-bit colour PNG needs the full-depth extra: "):
            save_image(tmp_path / "out.png", np.zeros((1, 3, 2, 2), np.uint16), info)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]

    def test_without_the_extra_16_bit_tiff_is_refused(self, tmp_path, monkeypatch):
        tifffile = pytest.importorskip("tifffile")
        tifffile.imwrite(tmp_path / "in.tiff", np.zeros((2, 2, 3), np.uint16), photometric="rgb")
        monkeypatch.setitem(sys.modules, "tifffile", None)
        with pytest.raises(InputError) as caught:
            load_image(tmp_path / "in.tiff")
        assert str(caught.value) == (
            f"{tmp_path / 'in.tiff'}: 16-bit colour TIFF needs the full-depth extra: "
            "pip install 'poolcli-image[full-depth]'"
        )

    def test_16_bit_colour_cannot_be_jpeg(self, tmp_path):
        info = ImageInfo("image", "PNG", "RGB;16", "RGB;16", "uint16", 1)
        with pytest.raises(
            OutputError, match=r"JPEG cannot hold RGB;16 images; write \.png or \.tiff$"
        ):
            save_image(tmp_path / "out.jpg", np.zeros((1, 3, 2, 2), np.uint16), info)

    def test_8_bit_colour_png_is_not_sent_to_the_extra(self, tmp_path, monkeypatch):
        monkeypatch.setitem(sys.modules, "imagecodecs", None)
        pil("RGB", u8(H, W, 3)).save(tmp_path / "in.png")
        x, info = load_image(tmp_path / "in.png")
        assert (x.dtype, info.save_mode) == (np.uint8, "RGB")


# ---------------------------------------------------------------------------------------------
# Orientation and metadata


def corner_jpeg(path: Path, orientation: int, **extra) -> np.ndarray:
    """A 48 wide, 32 high JPEG, black but for a red 8x8 block at the stored top-left corner."""
    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[:8, :8] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Camera maker"
    for tag, value in extra.items():
        exif[int(tag[1:])] = value
    pil("RGB", rgb).save(path, exif=exif, quality=95)
    return rgb


class TestOrientation:
    def test_jpeg_orientation_6_turns_the_corner(self, tmp_path):
        corner_jpeg(tmp_path / "o.jpg", 6)
        x, info = load_image(tmp_path / "o.jpg")
        assert x.shape == (1, 3, 48, 32)  # displayed 32 wide and 48 high
        red = x[0, 0].astype(int) - x[0, 1]
        assert red[:8, -8:].min() > 120  # the stored top-left shows at the top right
        assert red[:, :-8].max() < 80 and red[8:].max() < 80
        save_image(tmp_path / "out.jpg", x, info)
        with Image.open(tmp_path / "out.jpg") as img:
            exif = img.getexif()
            assert img.size == (32, 48)
            assert 0x0112 not in exif and exif[0x010F] == "Camera maker"
        y, _ = load_image(tmp_path / "out.jpg")
        assert y.shape == x.shape  # not turned a second time

    def test_no_auto_orient_keeps_the_stored_pixels_and_the_tag(self, tmp_path):
        corner_jpeg(tmp_path / "o.jpg", 6)
        x, info = load_image(tmp_path / "o.jpg", auto_orient=False)
        assert x.shape == (1, 3, 32, 48)
        assert (x[0, 0, :8, :8].astype(int) - x[0, 1, :8, :8]).min() > 120
        save_image(tmp_path / "out.jpg", x, info)
        with Image.open(tmp_path / "out.jpg") as img:
            assert img.getexif()[0x0112] == 6

    def test_orientation_views_match_pillow(self, tmp_path):
        """The numpy orientation (16-bit path) turns as Pillow's exif_transpose does."""
        from poolcli.io.images import _ORIENT
        from poolcli.io.metadata import PILLOW_TRANSPOSE

        rgb = u8(3, 5, 3)
        assert set(_ORIENT) == set(PILLOW_TRANSPOSE)
        for orientation, turn in _ORIENT.items():
            expected = np.asarray(pil("RGB", rgb).transpose(PILLOW_TRANSPOSE[orientation]))
            np.testing.assert_array_equal(turn(rgb), expected)

    def test_dpi_swaps_with_a_quarter_turn(self, tmp_path):
        exif = Image.Exif()
        exif[0x0112] = 8
        pil("RGB", u8(4, 6, 3)).save(tmp_path / "o.png", exif=exif, dpi=(300, 100))
        _, info = load_image(tmp_path / "o.png")
        assert info.dpi == pytest.approx((100, 300), abs=0.01)


class TestMetadata:
    def test_exif_pixel_dimensions_follow_the_output(self, tmp_path):
        rgb = u8(16, 24, 3)
        exif = Image.Exif()
        exif[0x010F] = "Maker"
        exif.get_ifd(0x8769).update({0xA002: 24, 0xA003: 16, 0x9003: "2024:05:01 12:00:00"})
        pil("RGB", rgb).save(tmp_path / "in.jpg", exif=exif)
        x, info = load_image(tmp_path / "in.jpg")
        save_image(tmp_path / "out.jpg", x[:, :, ::2, ::2], info)
        with Image.open(tmp_path / "out.jpg") as img:
            out = img.getexif()
            ifd = out.get_ifd(0x8769)
            assert (ifd[0xA002], ifd[0xA003]) == (12, 8)
            assert ifd[0x9003] == "2024:05:01 12:00:00" and out[0x010F] == "Maker"

    @pytest.mark.parametrize("ext", ["png", "jpg", "tiff", "webp"])
    def test_exif_is_carried(self, tmp_path, ext):
        exif = Image.Exif()
        exif[0x0110] = "Model X"
        pil("RGB", u8(8, 8, 3)).save(tmp_path / "in.png", exif=exif)
        x, info = load_image(tmp_path / "in.png")
        save_image(tmp_path / f"out.{ext}", x, info)
        with Image.open(tmp_path / f"out.{ext}") as img:
            assert img.getexif()[0x0110] == "Model X"

    def test_tiff_storage_tags_are_not_carried(self, tmp_path):
        pil("RGB", u8(8, 8, 3)).save(tmp_path / "in.tiff", tiffinfo={271: "Maker", 305: "Soft"})
        x, info = load_image(tmp_path / "in.tiff")
        exif = Image.Exif()
        exif.load(info.exif)
        assert dict(exif) == {271: "Maker", 305: "Soft"}
        save_image(tmp_path / "out.png", x, info)
        with Image.open(tmp_path / "out.png") as img:
            assert dict(img.getexif()) == {271: "Maker", 305: "Soft"}

    @pytest.mark.parametrize("ext", ["png", "jpg", "tiff"])
    def test_dpi_is_divided_by_the_scale(self, tmp_path, ext):
        pil("RGB", u8(8, 12, 3)).save(tmp_path / "in.png", dpi=(300, 200))
        x, info = load_image(tmp_path / "in.png")
        assert info.dpi == pytest.approx((300, 200), abs=0.01)
        half = x[:, :, ::2, ::2]
        save_image(tmp_path / f"out.{ext}", half, info, scale=(2, 2))
        with Image.open(tmp_path / f"out.{ext}") as img:
            assert img.info["dpi"] == pytest.approx((150, 100), abs=0.05)
        save_image(tmp_path / f"ratio.{ext}", half, info)  # by default: the size ratio
        with Image.open(tmp_path / f"ratio.{ext}") as img:
            assert img.info["dpi"] == pytest.approx((150, 100), abs=0.05)

    def test_strip_drops_all_metadata(self, tmp_path):
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        exif = Image.Exif()
        exif[0x010F] = "Maker"
        pil("RGB", u8(8, 8, 3)).save(
            tmp_path / "in.jpg", icc_profile=profile, exif=exif, dpi=(72, 72)
        )
        x, info = load_image(tmp_path / "in.jpg")
        assert info.icc_profile == profile and info.exif and info.dpi
        save_image(tmp_path / "out.jpg", x, info, strip=True)
        with Image.open(tmp_path / "out.jpg") as img:
            assert "icc_profile" not in img.info and "exif" not in img.info
            assert len(img.getexif()) == 0 and img.info.get("dpi") in (None, (1, 1))

    def test_cmyk_jpeg_stays_cmyk(self, tmp_path):
        cmyk = np.zeros((16, 16, 4), np.uint8)
        cmyk[:8, :, 0] = 200
        cmyk[8:, :, 3] = 120
        pil("CMYK", cmyk).save(tmp_path / "in.jpg", quality=95)
        x, info = load_image(tmp_path / "in.jpg")
        assert (x.shape, info.mode, info.save_mode) == ((1, 4, 16, 16), "CMYK", "CMYK")
        save_image(tmp_path / "out.jpg", x[:, :, ::2, ::2], info)
        y, back = load_image(tmp_path / "out.jpg")
        assert back.mode == "CMYK"
        assert np.abs(y.astype(int) - cmyk[::2, ::2].transpose(2, 0, 1)).max() < 8

    def test_pa_image_comes_out_rgba(self):
        from poolcli.io.images import _pixels

        img = Image.new("PA", (2, 1))
        img.putpalette([0, 0, 0, 10, 20, 30])
        img.putpixel((1, 0), (1, 128))
        hwc, save_mode = _pixels(img, "pa")
        assert save_mode == "RGBA"
        assert hwc.tolist() == [[[0, 0, 0, 0], [10, 20, 30, 128]]]


class TestPillowGuardOutsidePoolcli:
    def test_pillow_still_guards_its_own_opens(self, tmp_path, monkeypatch):
        pil("L", u8(100, 100)).save(tmp_path / "big.png")
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)
        with pytest.raises(Image.DecompressionBombError):
            Image.open(tmp_path / "big.png")
        with pytest.raises(InputError, match="image has 10000 pixels, more than the limit of 4000"):
            load_image(tmp_path / "big.png")
        assert load_image(tmp_path / "big.png", max_pixels=10**6)[0].shape == (1, 1, 100, 100)

    def test_guard_stays_on_in_other_threads_during_a_load(self, tmp_path, monkeypatch):
        """A load with a raised limit does not lift Pillow's guard for anyone else."""
        from poolcli.io import images as imageio

        pil("L", u8(100, 100)).save(tmp_path / "big.png")
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)
        inside, release = threading.Event(), threading.Event()
        decode = imageio._decode

        def paused(*args):
            inside.set()
            release.wait(10)
            return decode(*args)

        monkeypatch.setattr(imageio, "_decode", paused)
        with ThreadPoolExecutor(1) as pool:
            loading = pool.submit(load_image, tmp_path / "big.png", max_pixels=10**6)
            assert inside.wait(10)
            try:
                with pytest.raises(Image.DecompressionBombError):
                    Image.open(tmp_path / "big.png")
            finally:
                release.set()
            assert loading.result()[0].shape == (1, 1, 100, 100)

    def test_gif_frame_larger_than_its_canvas(self):
        """A GIF that declares a 4x4 canvas but draws 16x12 frames is 192 pixels a frame, not
        16; issue 11 item 4: its two frames are 384 pixels in all (was: 192 accepted)."""
        frames, _ = gif_frames([10, 20])
        buffer = io.BytesIO()
        frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
        data = bytearray(buffer.getvalue())
        data[6:10] = bytes([4, 0, 4, 0])  # the logical screen's width and height
        with pytest.raises(InputError) as caught:
            load_image(io.BytesIO(bytes(data)), max_pixels=191)
        assert caught.value.reason == (
            "image has 192 pixels, more than the limit of 191; raise it with max_pixels"
        )
        with pytest.raises(InputError, match="2 frames of 16x12, 384 pixels in all"):
            load_image(io.BytesIO(bytes(data)), max_pixels=383)
        assert load_image(io.BytesIO(bytes(data)), max_pixels=384)[0].shape == (2, 3, 12, 16)


# ---------------------------------------------------------------------------------------------
# Headers


def loaded_facts(source: Path | io.BytesIO) -> tuple:
    """(shape, dtype, mode, frames) as load_image gives them."""
    x, info = load_image(source)
    return x.shape, info.dtype, info.mode, info.frames


def header_facts(source: Path | io.BytesIO) -> tuple:
    header = read_header(source)
    return header.shape, header.dtype, header.mode, header.frames


@pytest.fixture
def no_decoding(monkeypatch):
    """Decoding pixels or loading a .npy array fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(np, "load", refuse)


class TestHeaders:
    def test_samples_match_load_image(self):
        paths = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".png", ".jpg", ".gif", ".csv"))
        assert paths
        for path in paths:
            assert header_facts(path) == loaded_facts(path), path.name

    @pytest.mark.parametrize(
        ("ext", "img"), [case[1:3] for case in MODE_CASES], ids=[case[0] for case in MODE_CASES]
    )
    def test_every_mode_matches_load_image_without_decoding(self, tmp_path, ext, img, request):
        img.save(tmp_path / f"in.{ext}")
        expected = loaded_facts(tmp_path / f"in.{ext}")
        request.getfixturevalue("no_decoding")
        header = read_header(tmp_path / f"in.{ext}")
        assert (header.shape, header.dtype, header.mode, header.frames) == expected
        assert (header.kind, header.decoded) == ("image", False)

    def test_a_quarter_turn_swaps_height_and_width(self, tmp_path, no_decoding):
        exif = Image.Exif()
        exif[0x0112] = 6
        pil("RGB", u8(3, 4, 3)).save(tmp_path / "o.jpg", exif=exif)
        assert read_header(tmp_path / "o.jpg").shape == (1, 3, 4, 3)

    def test_any_size_is_described(self, tmp_path, no_decoding, monkeypatch):
        pil("L", u8(100, 100)).save(tmp_path / "big.png")
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)
        assert read_header(tmp_path / "big.png").shape == (1, 1, 100, 100)

    @pytest.mark.parametrize("shape", [(4, 5), (3, 4, 5), (2, 3, 4, 5)])
    def test_npy_header(self, tmp_path, shape):
        np.save(tmp_path / "a.npy", np.zeros(shape, ">f4"))
        expected = loaded_facts(tmp_path / "a.npy")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(np, "load", None)
            header = read_header(tmp_path / "a.npy")
        assert (header.shape, header.dtype, header.mode, header.frames) == expected
        assert (header.kind, header.format, header.decoded) == ("array", None, False)

    def test_animations_and_streams_are_loaded(self, tmp_path):
        frames, _ = gif_frames([10, 20, 30])
        frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
        header = read_header(tmp_path / "a.gif")
        assert (header.shape, header.frames, header.decoded) == ((3, 3, 12, 16), 3, True)
        stream = io.BytesIO(b"1 2\n3 4\n")
        header = read_header(stream)
        assert (header.kind, header.shape, header.decoded) == ("matrix", (1, 1, 2, 2), True)

    @pytest.mark.parametrize(
        ("name", "data"),
        [
            ("missing.png", None),
            ("empty.png", b""),
            ("text.png", b"not an image"),
            ("objects.npy", "objects"),
            ("cube.npy", np.zeros((1, 1, 1, 1, 1))),
        ],
    )
    def test_what_load_image_refuses_fails_in_its_words(self, tmp_path, name, data):
        path = tmp_path / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        elif isinstance(data, np.ndarray):
            np.save(path, data)
        elif data == "objects":
            np.save(path, np.array([None, 1]), allow_pickle=True)
        with pytest.raises(InputError) as loading:
            load_image(path)
        with pytest.raises(InputError) as reading:
            read_header(path)
        assert str(reading.value) == str(loading.value)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "I;16", "I", "F"])
def test_raw_bytes_equal_tobytes(mode):
    """The one-chunk pixel read gives Pillow's own bytes for every mode."""
    from poolcli.io.images import _raw_bytes

    image = Image.radial_gradient("L").resize((37, 23)).convert(mode)
    expected = image.tobytes()
    assert _raw_bytes(image, len(expected)) == expected


def test_raw_bytes_falls_back_to_tobytes(monkeypatch):
    from poolcli.io.images import _raw_bytes

    image = Image.linear_gradient("L").resize((5, 4))
    expected = image.tobytes()
    real, calls = Image._getencoder, []

    def changed_signature(*args):
        calls.append(args)
        if len(calls) == 1:
            raise TypeError("a future Pillow")
        return real(*args)

    monkeypatch.setattr(Image, "_getencoder", changed_signature)
    assert _raw_bytes(image, 20) == expected
    assert len(calls) == 2
