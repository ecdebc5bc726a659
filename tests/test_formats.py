"""Tests of poolcli.io.formats: the one registry of formats, and the names read from it."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from poolcli.cli.run import FLAGS as CLI_FLAGS
from poolcli.errors import OutputError
from poolcli.io import formats, pictures
from poolcli.io.metadata import ImageInfo
from poolcli.io.modes import SAVE_MODES


def test_choices_are_the_written_formats_in_their_order() -> None:
    assert formats.choices() == (
        *("png", "jpeg", "webp", "tiff", "gif", "npy", "csv"),
        *("bmp", "ppm", "tga", "ico", "pcx"),  # issue 11 item 13
        *("zarr", "ome-zarr"),  # folders of chunks, written by poolcli.chunked
    )
    assert formats.result_choices() == ("png", "jpeg", "webp", "tiff", "gif", "npy")


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("png", ".png"),
        ("jpeg", ".jpg"),
        ("webp", ".webp"),
        ("tiff", ".tiff"),
        ("gif", ".gif"),
        ("npy", ".npy"),
        ("csv", ".csv"),
    ],
)
def test_extension_written(name: str, ext: str) -> None:
    assert formats.extension(name) == ext
    assert formats.image_format_for("x" + ext) == formats.by_name(name).pillow


def test_no_extension_for_a_format_not_written() -> None:
    with pytest.raises(KeyError):
        formats.extension("xbm")


@pytest.mark.parametrize(
    ("pillow", "name"),
    [
        ("PNG", "png"),
        ("JPEG", "jpeg"),
        ("MPO", "jpeg"),
        ("WEBP", "webp"),
        ("TIFF", "tiff"),
        ("GIF", "gif"),
        ("BMP", "bmp"),  # issue 11 item 13: was None
        ("ICO", "ico"),  # issue 11 item 13: was None
        ("XBM", None),
        ("NPY", None),
        (None, None),
    ],
)
def test_written_back_as(pillow: str | None, name: str | None) -> None:
    assert formats.written_back_as(pillow) == name


def test_names_aliases_and_extensions() -> None:
    assert formats.by_name("JPG") is formats.by_name("jpeg")
    assert formats.by_name(".Tif") is formats.by_name("tiff")
    assert formats.by_name("txt") is None  # an extension of CSV, not a name of it
    assert formats.for_path("a.TXT") is formats.by_name("csv")
    assert formats.for_path("a.jpe") is formats.by_name("jpeg")
    assert formats.for_path("archive.tar") is None


def test_errors_list_the_result_formats_and_name_the_format_parameter() -> None:
    with pytest.raises(OutputError) as caught:
        formats.image_format_for("out.xyz")
    listed = "|".join(formats.result_choices())
    assert caught.value.parameters == ("format",)
    assert caught.value.reason.endswith(f"use format={listed}")
    assert caught.value.worded(CLI_FLAGS).endswith(f"use --format {listed}")
    with pytest.raises(OutputError, match=r"unknown format 'xbm'; use format="):
        formats.image_format_for("out.png", "xbm")


def test_formats_for_several_frames_in_the_order_suggested() -> None:
    assert [f.name for f in formats.frame_formats()] == ["gif", "webp", "png", "tiff"]


def test_pillow_options() -> None:
    assert formats.by_name("png").pillow_options(50) == {"compress_level": 4}
    assert formats.by_name("jpeg").pillow_options(90) == {"quality": 90, "subsampling": 0}
    assert formats.by_name("jpeg").pillow_options(89) == {"quality": 89}
    assert formats.by_name("webp").pillow_options() == {"quality": 90}
    assert formats.by_name("gif").pillow_options(90) == {}


_WRITTEN_BY_PILLOW = [
    (f.name, mode)
    for f in formats.FORMATS
    if f.writes and f.kind == "image"
    for mode in sorted(f.modes)
    if mode in SAVE_MODES
]


@pytest.mark.parametrize(("name", "mode"), _WRITTEN_BY_PILLOW)
def test_pillow_writes_every_mode_a_format_says_it_holds(name: str, mode: str) -> None:
    record = formats.by_name(name)
    stream = io.BytesIO()
    picture = Image.new(mode, (3, 2))
    pictures.save_with_pillow(stream, "x", record.pillow, [picture], record.pillow_options())
    stream.seek(0)
    with Image.open(stream) as back:
        assert back.format == record.pillow
        assert back.size == (3, 2)


def test_records_are_frozen_and_so_is_image_info() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        formats.by_name("png").writes = False  # type: ignore[misc]
    info = ImageInfo("image", "PNG", "L", "L", "uint8", 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.frame = 1  # type: ignore[misc]
