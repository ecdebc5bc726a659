"""Tests of poolcli.imaging.compare: the input beside its max, avg and min pooled versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from poolcli.core.engine import pool
from poolcli.imaging.compare import (
    MAX_PANEL,
    MIN_PANEL,
    compare_panels,
    compare_picture,
    labels,
    picture_array,
)
from poolcli.io.images import ImageInfo, load_image, save_image

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
RNG = np.random.default_rng(20240503)


def grey(height: int, width: int) -> tuple[np.ndarray, ImageInfo]:
    x = RNG.integers(0, 256, (1, 1, height, width), dtype=np.uint8)
    return x, ImageInfo("image", "PNG", "L", "L", "uint8", 1)


def blocks(plane: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour scaling by a whole factor."""
    return np.kron(plane, np.ones((factor, factor), dtype=plane.dtype))


def find(picture: np.ndarray, panel: np.ndarray) -> list[tuple[int, int]]:
    """Every (top, left) where ``panel`` appears in ``picture`` exactly."""
    h, w = panel.shape[:2]
    found = []
    for top, left in zip(*np.nonzero(np.all(picture == panel[0, 0], axis=-1)), strict=True):
        window = picture[top : top + h, left : left + w]
        if window.shape[:2] == (h, w) and np.array_equal(window, panel):
            found.append((int(top), int(left)))
    return found


class TestPanels:
    def test_panels_are_the_input_and_its_pooled_versions_in_blocks(self):
        x, info = grey(32, 32)
        panels = compare_panels(x, info, size=4)
        factor = MIN_PANEL // 32
        assert [p.size for p in panels] == [(256, 256)] * 4
        expected = [
            blocks(x[0, 0], factor),
            blocks(pool(x[0, 0], "max", size=4), 4 * factor),
            blocks(np.floor(pool(x[0, 0], "avg", size=4) + 0.5).astype(np.uint8), 4 * factor),
            blocks(pool(x[0, 0], "min", size=4), 4 * factor),
        ]
        for panel, want in zip(panels, expected, strict=True):
            np.testing.assert_array_equal(np.asarray(panel), want)

    def test_picture_holds_every_panel_once_in_a_row(self):
        x, info = grey(32, 32)
        picture = compare_picture(x, info, size=4)
        assert picture.mode == "L"
        canvas = np.asarray(picture)[..., np.newaxis]
        places = [
            find(canvas, np.asarray(p)[..., np.newaxis]) for p in compare_panels(x, info, size=4)
        ]
        assert all(len(place) == 1 for place in places)
        tops = {place[0][0] for place in places}
        lefts = [place[0][1] for place in places]
        assert len(tops) == 1 and lefts == sorted(lefts)
        assert canvas[0].min() == 255 and canvas[-1].min() == 255  # white margins
        assert canvas[: tops.pop()].min() == 0  # black label text above the panels

    def test_large_inputs_are_shown_at_most_max_panel(self):
        x, info = grey(40, 2 * MAX_PANEL)
        panels = compare_panels(x, info, size=8)
        assert panels[0].size == (MAX_PANEL, 20)
        picture = compare_picture(x, info, size=8)
        assert picture.width < 4 * MAX_PANEL + 200

    def test_transparent_pixels_show_a_checkerboard(self):
        rgba = np.zeros((1, 4, 16, 16), np.uint8)
        rgba[0, 0, :8] = 255
        rgba[0, 3, :8] = 255  # top half opaque red, bottom half clear
        info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
        first = np.asarray(compare_panels(rgba, info, size=2)[0])
        assert first.shape[2] == 3
        assert (first[: 128 - 1] == (255, 0, 0)).all()
        bottom = first[128:]
        assert set(np.unique(bottom)) == {204, 255}  # the two greys of the checkerboard
        assert compare_picture(rgba, info, size=2).mode == "RGB"

    def test_16_bit_grey_is_stretched_from_min_to_max(self):
        x, info = load_image(SAMPLES / "gray16.png")
        first = np.asarray(compare_panels(x, info, size=8)[0])
        assert (first.min(), first.max()) == (0, 255)
        assert first.dtype == np.uint8

    def test_16_bit_colour_is_shown_at_8_bits(self):
        x = np.full((1, 3, 4, 4), 257 * 200, np.uint16)
        info = ImageInfo("image", "PNG", "RGB;16", "RGB;16", "uint16", 1)
        assert np.asarray(compare_panels(x, info)[0]).max() == 200

    def test_animation_shows_frame_0(self):
        x, info = load_image(SAMPLES / "animated.gif")
        first = compare_panels(x, info)
        only = compare_panels(x[:1], info)
        for a, b in zip(first, only, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert labels(x.shape)[0] == "input 16x16 (frame 0 of 3)"

    def test_too_many_channels(self):
        info = ImageInfo("array", None, None, None, "uint8", 1)
        with pytest.raises(ValueError, match="compare shows 1 to 4 channels, not 5"):
            compare_picture(np.zeros((1, 5, 4, 4), np.uint8), info)


class TestLabels:
    @pytest.mark.parametrize(
        ("geometry", "expected"),
        [
            ({}, "max 2x2 -> 256x256"),
            ({"size": 8}, "max 8x8 -> 64x64"),
            ({"size": (2, 4)}, "max 2x4 -> 256x128"),
            ({"size": 3, "stride": 2}, "max 3x3 stride 2x2 -> 255x255"),
            ({"size": 2, "padding": "same", "stride": 3}, "max 2x2 stride 3x3 -> 171x171"),
        ],
    )
    def test_op_window_and_output_size(self, geometry, expected):
        texts = labels((1, 3, 512, 512), **geometry)
        assert texts[0] == "input 512x512"
        assert texts[1] == expected
        assert texts[2:] == [expected.replace("max", "avg"), expected.replace("max", "min")]

    def test_rectangular_input_is_height_by_width(self):
        """Sizes are printed height x width, as the options take them (issue 11 item 15)."""
        assert labels((1, 3, 400, 600), size=4) == [
            "input 400x600",
            "max 4x4 -> 100x150",
            "avg 4x4 -> 100x150",
            "min 4x4 -> 100x150",
        ]


def test_picture_array_saves_as_png(tmp_path):
    x, info = grey(8, 8)
    picture = compare_picture(x, info)
    save_image(tmp_path / "c.png", *picture_array(picture))
    with Image.open(tmp_path / "c.png") as img:
        assert img.size == picture.size
        np.testing.assert_array_equal(np.asarray(img), np.asarray(picture))
