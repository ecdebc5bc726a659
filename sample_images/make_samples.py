"""Write the synthetic sample images in this folder; the same files on every run.

    python sample_images/make_samples.py            # the synthetic images and matrices
    python sample_images/make_samples.py --photos   # also the photographs, from scikit-image

The photographs come from scikit-image's bundled data (see README.md for their licences);
scikit-image is needed only for --photos and is not a dependency of poolcli.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent

LECTURE_4X4 = [[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]]
LECTURE_6X6 = [
    [1, 2, 1, 0, 1, 0],
    [0, 1, 2, 3, 2, 4],
    [3, 0, 1, 2, 1, 2],
    [2, 4, 0, 1, 0, 1],
    [3, 0, 1, 2, 1, 6],
    [2, 5, 0, 1, 0, 1],
]

# Eight colours for the palette images; index 0 is the transparent one in palette-transparent.
PALETTE = [
    (0, 0, 0),
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (255, 255, 255),
]


def lecture(name: str, matrix: list[list[int]]) -> None:
    """The matrix as exact values in an L-mode PNG, and as a CSV."""
    array = np.array(matrix, dtype=np.uint8)
    Image.fromarray(array).save(HERE / f"{name}.png", optimize=True)
    text = "\n".join(",".join(str(v) for v in row) for row in matrix) + "\n"
    (HERE / f"{name}.csv").write_text(text, encoding="ascii")


def rgba_disc() -> None:
    """64x64 RGBA: a colour gradient inside a soft-edged disc, transparent border."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float64)
    radius = np.hypot(x - 31.5, y - 31.5)
    alpha = np.clip((26.0 - radius) / 4.0, 0.0, 1.0) * 255.0  # opaque to r=22, clear from r=26
    rgba = np.stack([x * 4.0, y * 4.0, 255.0 - x * 2.0, alpha], axis=-1)
    rgba = np.floor(rgba + 0.5).astype(np.uint8)
    rgba[alpha == 0, :3] = 0
    Image.fromarray(rgba).save(HERE / "rgba-disc.png", optimize=True)


def gray16() -> None:
    """64x48 16-bit grey (I;16), values 0 to 65535 rising in raster order."""
    ramp = np.linspace(0.0, 65535.0, 64 * 48)
    values = np.floor(ramp + 0.5).astype("<u2").reshape(48, 64)
    Image.frombuffer("I;16", (64, 48), values, "raw", "I;16", 0, 1).save(HERE / "gray16.png")


def palette_pixels() -> np.ndarray:
    """48x32 indices: eight vertical stripes, with a checkered band across the middle."""
    y, x = np.mgrid[0:32, 0:48]
    index = x // 6
    band = (y >= 12) & (y < 20)
    index[band] = ((x[band] // 2 + y[band] // 2) % 2) * 7
    return index.astype(np.uint8)


def palette_image() -> Image.Image:
    img = Image.fromarray(palette_pixels(), mode="P")
    img.putpalette([c for rgb in PALETTE for c in rgb])
    return img


def palettes() -> None:
    palette_image().save(HERE / "palette.png")
    palette_image().save(HERE / "palette-transparent.png", transparency=0)


def animated_gif() -> None:
    """16x16, three frames: a square moving left to right, index 0 transparent."""
    frames = []
    for step in range(3):
        index = np.zeros((16, 16), dtype=np.uint8)
        index[5:11, 1 + 4 * step : 7 + 4 * step] = 1 + step
        frame = Image.fromarray(index, mode="P")
        frame.putpalette([c for rgb in PALETTE for c in rgb])
        frames.append(frame)
    frames[0].save(
        HERE / "animated.gif",
        save_all=True,
        append_images=frames[1:],
        duration=200,
        loop=0,
        transparency=0,
        disposal=2,
    )


def animated_png() -> None:
    """24x16 APNG (RGBA), three frames of 100, 200 and 300 ms: a red square with a half-transparent
    shadow moving right over a transparent background; loops forever."""
    frames = []
    for step in range(3):
        rgba = np.zeros((16, 24, 4), dtype=np.uint8)
        left = 2 + 6 * step
        rgba[6:12, left + 2 : left + 8] = (0, 0, 0, 128)  # the shadow, down and right
        rgba[4:10, left : left + 6] = (230, 25, 75, 255)
        frames.append(Image.fromarray(rgba))
    frames[0].save(
        HERE / "animated.png", save_all=True, append_images=frames[1:], duration=[100, 200, 300]
    )


def rgb16() -> None:
    """64x48 16-bit RGB PNG: red rises left to right, green top to bottom, blue is 1000.

    Written with imagecodecs (the full-depth extra): Pillow cannot write 16-bit colour.
    """
    import imagecodecs  # only for this sample

    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([x * 1040, y * 1394, np.full_like(x, 1000)], axis=-1).astype(np.uint16)
    (HERE / "rgb16.png").write_bytes(imagecodecs.png_encode(rgb, level=9))


def exif_rotated() -> None:
    """A JPEG stored 48 wide and 32 high whose EXIF orientation (6) shows it 32 x 48."""
    y, x = np.mgrid[0:32, 0:48]
    rgb = np.zeros((32, 48, 3), dtype=np.uint8)
    rgb[..., 0] = 255 * (x < 24)  # red on the stored left, which displays at the top
    rgb[..., 2] = 255 * (x >= 24)
    rgb[..., 1] = y * 8
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(HERE / "exif-rotated.jpg", quality=95, exif=exif)


def photos() -> None:
    """Photographs from scikit-image's bundled data (public domain and CC0)."""
    import skimage  # only for this step

    data = Path(skimage.__file__).resolve().parent / "data"
    with Image.open(data / "astronaut.png") as img:
        img.convert("RGB").save(HERE / "astronaut.jpg", quality=90, subsampling=0)
    with Image.open(data / "coffee.png") as img:
        img.convert("RGB").save(HERE / "coffee.jpg", quality=90, subsampling=0)
    shutil.copyfile(data / "chelsea.png", HERE / "chelsea.png")
    shutil.copyfile(data / "camera.png", HERE / "camera.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", action="store_true", help="also copy the photographs")
    args = parser.parse_args()
    lecture("lecture-4x4", LECTURE_4X4)
    lecture("lecture-6x6", LECTURE_6X6)
    rgba_disc()
    gray16()
    palettes()
    animated_gif()
    animated_png()
    rgb16()
    exif_rotated()
    if args.photos:
        photos()


if __name__ == "__main__":
    main()
