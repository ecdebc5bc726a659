"""What an input holds, from its header: the (N, C, H, W) shape, mode, dtype and frames.

:func:`probe` answers what :func:`~poolcli.imageio.load_image` would return, without decoding the
pixels where the format allows: Pillow opens an image lazily and reads only its header (size,
mode, frames, EXIF orientation), and a .npy file's header gives its shape and dtype. Animations
and multi-page files in formats whose frames are all loaded, CSV matrices and standard input are
loaded in full, since their shape is only known then.

:func:`info_text` and :func:`info_report` lay the answer out for ``poolcli info``, with the output
shape and size formulas when a pooling geometry is given.

Examples
--------
>>> import io
>>> facts = probe(io.BytesIO(b"1, 2, 1, 0\\n0, 1, 2, 3\\n"), "m.csv")
>>> facts.shape, facts.dtype
((1, 1, 2, 4), 'int64')
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from . import imageio
from .geometry import Geometry

__all__ = ["Probe", "info_report", "info_text", "probe"]

_LABEL_WIDTH = 14


@dataclass(frozen=True)
class Probe:
    """What :func:`~poolcli.imageio.load_image` would give for one input.

    Attributes
    ----------
    name : str
        The input as named.
    kind : str
        ``"image"``, ``"array"`` (.npy) or ``"matrix"`` (.csv / .txt).
    format : str or None
        Pillow's format name for images, e.g. ``"PNG"``.
    mode : str or None
        Pillow mode of an image as loaded (``"RGB;16"`` for 16-bit colour).
    dtype : str
        numpy dtype name of the array load_image returns.
    frames : int
        Frames in the file (for .npy, the length of its N axis).
    shape : tuple of 4 ints
        (N, C, H, W) of the array load_image returns (after the EXIF orientation).
    decoded : bool
        True when the pixels had to be read to find this out.
    """

    name: str
    kind: str
    format: str | None
    mode: str | None
    dtype: str
    frames: int
    shape: tuple[int, int, int, int]
    decoded: bool


def probe(source: str | os.PathLike | BinaryIO, name: str | None = None) -> Probe:
    """The shape, mode, dtype and frame count of an input, from its header where possible.

    Parameters
    ----------
    source : path or binary stream
        As :func:`~poolcli.imageio.load_image` takes it. A stream is read in full.
    name : str, optional
        How to name the input in errors; by default the path.

    Raises
    ------
    InputError
        For an input load_image would refuse for what its header says (missing, not an image,
        a .npy of the wrong rank or dtype, ...). Corrupt pixel data past a good header goes
        unnoticed.
    """
    if hasattr(source, "read"):
        return _loaded(source, name or "<stdin>")
    path = os.fsdecode(os.fspath(source))
    name = name or path
    ext = os.path.splitext(path)[1].lower()
    try:
        st = os.stat(path)
    except OSError:
        return _loaded(path, name)  # load_image says why, in its words
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0 or ext in (".csv", ".txt"):
        return _loaded(path, name)
    if ext == ".npy":
        return _npy_header(path, name)
    return _image_header(path, name)


def _loaded(source: Any, name: str) -> Probe:
    """Load the input in full: the only way to know its shape."""
    array, info = imageio.load_image(source)
    return _from_info(name, array.shape, info, decoded=True)


def _from_info(name: str, shape: tuple[int, ...], info: imageio.ImageInfo, decoded: bool) -> Probe:
    n, c, h, w = (int(d) for d in shape)
    return Probe(
        name, info.kind, info.format, info.mode, info.dtype, info.frames, (n, c, h, w), decoded
    )


def _npy_header(path: str, name: str) -> Probe:
    try:
        with open(path, "rb") as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, OSError, SyntaxError):
        return _loaded(path, name)  # a corrupt header: load_image's message
    if dtype.kind not in "biuf" or len(shape) not in (2, 3, 4) or 0 in shape:
        return _loaded(path, name)
    n, c, h, w = (1,) * (4 - len(shape)) + tuple(int(d) for d in shape)
    return Probe(name, "array", None, None, dtype.name, n, (n, c, h, w), decoded=False)


# Pillow mode -> channels and dtype as load_image gives them (its _LOAD_MODES and _SAVE_MODES).
def _channels_and_dtype(img: Image.Image) -> tuple[str, int, str]:
    """(mode as loaded, channels, dtype name) from an open image's header."""
    wide = imageio._wide_colour(img)
    if wide is not None:
        mode = f"{img.mode};16"
        return mode, imageio._WIDE_MODES[mode], "uint16"
    mode = img.mode
    if mode == "P":
        return mode, (4 if img.has_transparency_data else 3), "uint8"
    if mode in imageio._LOAD_MODES:
        _, dtype, save_mode = imageio._LOAD_MODES[mode]
        return mode, imageio._SAVE_MODES[save_mode][0], np.dtype(dtype).name
    if mode.startswith("I;"):
        return mode, 1, "int32"
    return mode, 3, "uint8"


def _image_header(path: str, name: str) -> Probe:
    with imageio._pixel_limit(None):  # nothing is decoded: any size may be described
        try:
            img = Image.open(path)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return _loaded(path, name)  # load_image's words for why it is not an image
        with img:
            frames = getattr(img, "n_frames", 1)
            animated = frames > 1 and img.format in imageio._FRAME_FORMATS
            if not animated:
                mode, channels, dtype = _channels_and_dtype(img)
                orientation = imageio._Metadata.of(img, auto_orient=True, decoded=False)
                width, height = img.size
                if orientation.orientation >= 5:  # turned a quarter: the axes swap
                    width, height = height, width
                shape = (1, channels, height, width)
                return Probe(name, "image", img.format, mode, dtype, frames, shape, False)
    # All frames load, and they may differ in mode and widen the array: load to know.
    return _loaded(path, name)


def info_report(facts: Probe, geometry: Geometry | None = None) -> dict[str, Any]:
    """The facts as a JSON-ready dict; with ``geometry``, the pooled shape and its formulas.

    >>> facts = Probe("a.png", "image", "PNG", "RGB", "uint8", 1, (1, 3, 5, 5), False)
    >>> from poolcli.geometry import resolve
    >>> report = info_report(facts, resolve((5, 5), 2))
    >>> report["shape"], report["output_shape"], report["padding"]
    ([1, 3, 5, 5], [1, 3, 2, 2], [0, 0, 0, 0])
    """
    report: dict[str, Any] = {
        "input": facts.name,
        "kind": facts.kind,
        "format": facts.format,
        "mode": facts.mode,
        "dtype": facts.dtype,
        "frames": facts.frames,
        "shape": list(facts.shape),
        "decoded": facts.decoded,
    }
    if geometry is not None:
        report.update(
            size=list(geometry.size),
            stride=list(geometry.stride),
            padding=list(geometry.padding),
            dilation=list(geometry.dilation),
            ceil_mode=geometry.ceil_mode,
            pad_mode=geometry.pad_mode,
            output_shape=[*facts.shape[:2], *geometry.out_shape],
            formula_h=geometry.height.formula("H"),
            formula_w=geometry.width.formula("W"),
        )
    return report


def info_text(facts: Probe, geometry: Geometry | None = None) -> str:
    """The facts one a line (no trailing newline); with ``geometry``, the pooled shape too.

    >>> facts = Probe("a.png", "image", "PNG", "RGB", "uint8", 1, (1, 3, 7, 7), False)
    >>> from poolcli.geometry import resolve
    >>> print(info_text(facts, resolve((7, 7), 3, stride=2)))
    input         a.png
    shape         (1, 3, 7, 7)  (N, C, H, W)
    format        PNG image
    mode          RGB
    dtype         uint8
    frames        1
    window        3x3
    stride        2x2
    padding       0, 0, 0, 0  (top, bottom, left, right)
    dilation      1x1
    rounding      floor
    pad mode      ignore
    output shape  (1, 3, 3, 3)  (N, C, H, W)
    out_h = floor((H + P - e) / s) + 1 = floor((7 + 0 - 3) / 2) + 1 = 3
    out_w = floor((W + P - e) / s) + 1 = floor((7 + 0 - 3) / 2) + 1 = 3
    """
    kind = {"image": f"{facts.format} image", "array": "NPY array", "matrix": "CSV matrix"}
    rows = [
        ("input", facts.name),
        ("shape", f"{_shape(facts.shape)}  (N, C, H, W)"),
        ("format", kind.get(facts.kind, facts.kind)),
    ]
    if facts.mode is not None:
        rows.append(("mode", facts.mode))
    rows += [("dtype", facts.dtype), ("frames", str(facts.frames))]
    lines = [f"{label:<{_LABEL_WIDTH}}{value}" for label, value in rows]
    if geometry is None:
        return "\n".join(lines)
    top, bottom, left, right = geometry.padding
    pad_mode = geometry.pad_mode
    rows = [
        ("window", _by(geometry.size)),
        ("stride", _by(geometry.stride)),
        ("padding", f"{top}, {bottom}, {left}, {right}  (top, bottom, left, right)"),
        ("dilation", _by(geometry.dilation)),
        ("rounding", "ceil" if geometry.ceil_mode else "floor"),
        ("pad mode", pad_mode if isinstance(pad_mode, str) else f"{pad_mode:g}"),
        ("output shape", f"{_shape((*facts.shape[:2], *geometry.out_shape))}  (N, C, H, W)"),
    ]
    lines += [f"{label:<{_LABEL_WIDTH}}{value}" for label, value in rows]
    lines.append(geometry.height.formula("H"))
    lines.append(geometry.width.formula("W"))
    return "\n".join(lines)


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _by(pair: tuple[int, int]) -> str:
    return f"{pair[0]}x{pair[1]}"
