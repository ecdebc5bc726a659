"""poolcli.imaging.alpha: alpha-aware pooling of loaded images, every frame, ready to save."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from poolcli.core import engine
from poolcli.imaging.alpha import AVERAGING_OPS, has_alpha, pool_image
from poolcli.io.images import ImageInfo, load_image, save_image

RNG = np.random.default_rng(20240502)
RED, CLEAR_GREEN = (255, 0, 0, 255), (0, 255, 0, 0)


def write(path: Path, mode: str, hwc: np.ndarray) -> Path:
    Image.fromarray(hwc, mode=None).convert(mode).save(path)
    return path


def rgba_file(tmp_path: Path, pixels: list) -> Path:
    """A PNG of one row of RGBA pixels."""
    return write(tmp_path / "in.png", "RGBA", np.array([pixels], dtype=np.uint8))


def pooled_file(tmp_path: Path, source: Path, op: str, **options) -> np.ndarray:
    """The pixels (H, W, C) of ``source`` pooled with ``op``, saved as PNG and read back."""
    alpha = options.pop("alpha", "premultiply")
    x, info = load_image(source)
    y = pool_image(x, info, op, alpha=alpha, **options)
    save_image(tmp_path / "out.png", y, info)
    with Image.open(tmp_path / "out.png") as img:
        return np.asarray(img)


class TestAlpha:
    def test_red_beside_transparent_green_is_half_transparent_red(self, tmp_path):
        source = rgba_file(tmp_path, [RED, CLEAR_GREEN])
        out = pooled_file(tmp_path, source, "avg", size=(1, 2))
        assert out.tolist() == [[[255, 0, 0, 128]]]

    def test_straight_alpha_gives_the_muddy_average(self, tmp_path):
        source = rgba_file(tmp_path, [RED, CLEAR_GREEN])
        out = pooled_file(tmp_path, source, "avg", size=(1, 2), alpha="straight")
        assert out.tolist() == [[[128, 128, 0, 128]]]

    def test_fully_transparent_result_has_colour_zero(self, tmp_path):
        source = rgba_file(tmp_path, [(200, 100, 50, 0), (10, 20, 30, 0), RED, RED])
        out = pooled_file(tmp_path, source, "avg", size=(1, 2))
        assert out.tolist() == [[[0, 0, 0, 0], [255, 0, 0, 255]]]

    def test_weights_follow_alpha(self, tmp_path):
        """(255, 0, 0) at alpha 64 beside (0, 0, 255) at alpha 192: a quarter red."""
        source = rgba_file(tmp_path, [(255, 0, 0, 64), (0, 0, 255, 192)])
        out = pooled_file(tmp_path, source, "avg", size=(1, 2))
        assert out.tolist() == [[[64, 0, 191, 128]]]

    def test_la_image(self, tmp_path):
        la = np.array([[[200, 255], [0, 0]]], dtype=np.uint8)
        source = write(tmp_path / "la.png", "LA", la)
        out = pooled_file(tmp_path, source, "avg", size=(1, 2))
        assert out.tolist() == [[[200, 128]]]

    def test_palette_with_transparency(self, tmp_path):
        index = np.array([[1, 0]], dtype=np.uint8)
        img = Image.fromarray(index, mode="P")
        img.putpalette([0, 255, 0, 255, 0, 0])
        img.save(tmp_path / "p.png", transparency=0)
        assert pooled_file(tmp_path, tmp_path / "p.png", "avg", size=(1, 2)).tolist() == [
            [[255, 0, 0, 128]]
        ]

    @pytest.mark.parametrize("op", ["avg", "sum", "lp"])
    @pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
    def test_opaque_pixels_pool_as_straight(self, op, dtype):
        top = np.iinfo(dtype).max
        x = RNG.integers(0, top, (2, 4, 6, 8), dtype=dtype, endpoint=True)
        x[:, 3] = top
        info = ImageInfo("image", "PNG", "RGBA", "RGBA", np.dtype(dtype).name, 2)
        premultiplied = pool_image(x, info, op, size=2)
        straight = pool_image(x, info, op, alpha="straight", size=2)
        np.testing.assert_allclose(premultiplied, straight, rtol=1e-6)

    @pytest.mark.parametrize("op", ["max", "min", "median"])
    def test_max_min_median_pool_each_channel(self, op):
        x = RNG.integers(0, 256, (1, 4, 6, 6), dtype=np.uint8)
        info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
        np.testing.assert_array_equal(pool_image(x, info, op, size=3), engine.pool(x, op, size=3))

    def test_numeric_padding_is_a_pixel_of_that_colour_and_alpha(self):
        x = np.array([[[100, 0, 0, 255]]], dtype=np.uint8).transpose(2, 0, 1)[None]
        info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
        clear = pool_image(x, info, "avg", size=(1, 2), padding=(0, 0, 0, 1), pad_mode=0)
        assert clear[0, :, 0, 0].tolist() == [100, 0, 0, 127.5]  # padded by a transparent cell
        white = pool_image(x, info, "avg", size=(1, 2), padding=(0, 0, 0, 1), pad_mode=255)
        assert white[0, :, 0, 0].tolist() == [177.5, 127.5, 127.5, 255]
        grey = pool_image(x, info, "avg", size=(1, 2), padding=(0, 0, 0, 1), pad_mode=51)
        # the padded cell: colour 51 at alpha 51 (0.2): (100 + 51 * 0.2) / (1.2) per channel
        np.testing.assert_allclose(
            grey[0, :, 0, 0], [110.2 / 1.2, 10.2 / 1.2, 10.2 / 1.2, 153], rtol=1e-6
        )

    def test_arrays_are_never_premultiplied(self):
        x = np.array([[RED, CLEAR_GREEN]], dtype=np.uint8).transpose(2, 0, 1)[None]
        info = ImageInfo("array", None, None, None, "uint8", 1)
        assert not has_alpha(info)
        assert pool_image(x, info, "avg", size=(1, 2))[0, :, 0, 0].tolist() == [
            127.5,
            127.5,
            0,
            127.5,
        ]

    def test_unknown_alpha_mode(self):
        info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
        with pytest.raises(ValueError, match="alpha must be one of premultiply, straight, got 'x'"):
            pool_image(np.zeros((1, 4, 2, 2), np.uint8), info, "avg", alpha="x")

    def test_adaptive_and_global_avg_premultiply(self):
        """Opaque red among three transparent greens: red, at a quarter of the alpha."""
        hwc = np.array([[RED, CLEAR_GREEN], [CLEAR_GREEN, CLEAR_GREEN]], dtype=np.uint8)
        x = hwc.transpose(2, 0, 1)[None]
        info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
        for op, options in (("adaptive_avg", {"output_size": 1}), ("global_avg", {})):
            y = pool_image(x, info, op, **options)
            assert y.shape == (1, 4, 1, 1) and y.dtype == np.float32
            assert y[0, :, 0, 0].tolist() == [255, 0, 0, 63.75]
            straight = pool_image(x, info, op, alpha="straight", **options)
            assert straight[0, :, 0, 0].tolist() == [63.75, 191.25, 0, 63.75]

    def test_adaptive_ops_match_the_adaptive_module(self):
        from poolcli.core import adaptive

        x = RNG.integers(0, 256, (2, 4, 7, 9), dtype=np.uint8)
        image = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 2)
        array = ImageInfo("array", None, None, None, "uint8", 2)
        for info in (image, array):
            for op in ("avg", "max"):
                y = pool_image(x, info, f"adaptive_{op}", alpha="straight", output_size=(3, 4))
                np.testing.assert_array_equal(y, adaptive.adaptive_pool(x, (3, 4), op))
                y = pool_image(x, info, f"global_{op}", alpha="straight")
                np.testing.assert_array_equal(y, adaptive.global_pool(x, op))
        assert pool_image(x, image, "adaptive_max", output_size=(3, 4)).dtype == np.uint8

    def test_global_ops_take_no_options(self):
        info = ImageInfo("array", None, None, None, "uint8", 1)
        with pytest.raises(ValueError, match="global_avg takes no options, got size"):
            pool_image(np.zeros((1, 1, 2, 2), np.uint8), info, "global_avg", size=2)

    def test_averaging_ops_cover_the_engine(self):
        assert {"avg", "sum", "lp"} <= AVERAGING_OPS
        assert not {"max", "min", "median"} & AVERAGING_OPS


class TestLayoutAndMemory:
    def test_input_is_not_written_and_result_is_channel_last(self, tmp_path):
        hwc = RNG.integers(0, 256, (8, 10, 4), dtype=np.uint8)
        Image.fromarray(hwc).save(tmp_path / "in.png")
        x, info = load_image(tmp_path / "in.png")
        assert not x.flags.writeable
        for op in ("avg", "max"):
            y = pool_image(x, info, op, size=2)
            assert y.shape == (1, 4, 4, 5)
            assert y.transpose(0, 2, 3, 1).flags.c_contiguous
        np.testing.assert_array_equal(x[0].transpose(1, 2, 0), hwc)

    def test_max_result_is_saved_without_a_copy(self, tmp_path, monkeypatch):
        Image.fromarray(RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "in.png")
        x, info = load_image(tmp_path / "in.png")
        y = pool_image(x, info, "max", size=2)
        seen = []
        original = Image.frombuffer

        def spy(mode, size, data, *args):
            seen.append(data)
            return original(mode, size, data, *args)

        monkeypatch.setattr(Image, "frombuffer", spy)
        save_image(tmp_path / "out.png", y, info)
        assert len(seen) == 1 and np.shares_memory(seen[0], y)

    def test_premultiplied_pooling_of_a_large_image_stays_small(self):
        """One float32 copy of the frame, not several float64 ones."""
        x = RNG.integers(0, 256, (1, 1024, 1024, 4), dtype=np.uint8).transpose(0, 3, 1, 2)
        info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
        tracemalloc.start()
        try:
            y = pool_image(x, info, "avg", size=2)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        frame_float32 = 1024 * 1024 * 4 * 4
        assert peak < 1.6 * frame_float32 + y.nbytes

    def test_every_frame_is_pooled(self):
        x = RNG.integers(0, 256, (3, 4, 6, 6), dtype=np.uint8)
        info = ImageInfo("image", "GIF", "P", "RGBA", "uint8", 3)
        y = pool_image(x, info, "avg", size=3)
        assert y.shape == (3, 4, 2, 2)
        for k in range(3):
            np.testing.assert_array_equal(
                y[k : k + 1], pool_image(x[k : k + 1], info, "avg", size=3)
            )

    def test_matrix_goes_straight_to_the_engine(self):
        x = np.array([[[[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]]]])
        info = ImageInfo("matrix", None, None, None, "int64", 1, ndim=2)
        assert pool_image(x, info, "max")[0, 0].tolist() == [[2, 3], [4, 2]]


class TestBitDepth:
    def test_16_bit_grey_keeps_values_above_255(self, tmp_path):
        values = np.array([[1000, 300, 65535, 0], [256, 4000, 1, 2]], dtype="<u2")
        Image.frombuffer("I;16", (4, 2), values.tobytes(), "raw", "I;16", 0, 1).save(
            tmp_path / "in.png"
        )
        x, info = load_image(tmp_path / "in.png")
        for op, expected in (("max", [[4000, 65535]]), ("avg", [[1389, 16385]])):
            save_image(tmp_path / "out.png", pool_image(x, info, op, size=2), info)
            y, back = load_image(tmp_path / "out.png")
            assert (back.mode, y.dtype) == ("I;16", np.uint16)
            assert y[0, 0].tolist() == expected  # avg: 1389, and 16384.5 rounded half up

    def test_16_bit_rgba_premultiplied(self, tmp_path):
        imagecodecs = pytest.importorskip("imagecodecs")
        rgba = np.array([[[65535, 0, 0, 65535], [0, 65535, 0, 0]]], dtype=np.uint16)
        (tmp_path / "in.png").write_bytes(imagecodecs.png_encode(rgba))
        x, info = load_image(tmp_path / "in.png")
        assert info.save_mode == "RGBA;16"
        save_image(tmp_path / "out.png", pool_image(x, info, "avg", size=(1, 2)), info)
        y, _ = load_image(tmp_path / "out.png")
        assert y[0, :, 0, 0].tolist() == [65535, 0, 0, 32768]

    def test_float_tiff_stays_float(self, tmp_path):
        values = np.array([[0.25, -1.5], [3.0, 1e-3]], dtype=np.float32)
        Image.fromarray(values).save(tmp_path / "in.tiff")
        x, info = load_image(tmp_path / "in.tiff")
        save_image(tmp_path / "out.tiff", pool_image(x, info, "avg", size=2), info)
        y, back = load_image(tmp_path / "out.tiff")
        assert (back.mode, y.dtype) == ("F", np.float32)
        assert y[0, 0, 0, 0] == pytest.approx(0.43775, rel=1e-6)


class TestFramesAndMetadata:
    def test_animated_gif_pooled_keeps_frames_durations_and_loop(self, tmp_path):
        frames = []
        for k in range(3):
            index = np.zeros((8, 8), dtype=np.uint8)
            index[2:6, 2 * k : 2 * k + 2] = 1
            frame = Image.fromarray(index, mode="P")
            frame.putpalette([0, 0, 0, 255, 255, 255])
            frames.append(frame)
        frames[0].save(
            tmp_path / "a.gif",
            save_all=True,
            append_images=frames[1:],
            duration=[50, 100, 150],
            loop=0,
        )
        x, info = load_image(tmp_path / "a.gif")
        save_image(tmp_path / "out.gif", pool_image(x, info, "max", size=2), info)
        y, back = load_image(tmp_path / "out.gif")
        assert y.shape == (3, 3, 4, 4)
        assert (back.durations, back.loop) == ((50, 100, 150), 0)
        assert [np.flatnonzero(y[k, 0].max(axis=0)).tolist() for k in range(3)] == [[0], [1], [2]]

    def test_dpi_halved_by_stride_2(self, tmp_path):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "in.jpg", dpi=(300, 300))
        x, info = load_image(tmp_path / "in.jpg")
        y = pool_image(x, info, "avg", size=3, stride=2)
        save_image(tmp_path / "out.jpg", y, info, scale=(2, 2))
        with Image.open(tmp_path / "out.jpg") as img:
            assert img.size == (3, 3) and img.info["dpi"] == (150, 150)
