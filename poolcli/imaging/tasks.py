"""What to do to one loaded input, as plain data: a pooling, a comparison, an inspection.

Each task is a frozen dataclass of plain values, so it pickles and travels to another process or
machine as it is. Its methods resolve it for an input's shape (:meth:`~Pooling.geometry`) and
apply it to a loaded input (``apply(array, info)``). numpy is imported only when a task is
applied, so planning a run costs nothing.

>>> import pickle
>>> from poolcli.core.geometry import Window
>>> task = Pooling("max", Window.of(size=3, stride=2))
>>> pickle.loads(pickle.dumps(task)) == task
True
>>> task.geometry((1, 3, 7, 7)).out_shape
(3, 3)
>>> AdaptivePooling("avg", (64, 64)).name, AdaptivePooling("avg", (64, 64)).op_name
('adaptive', 'adaptive_avg')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from poolcli.core.geometry import MAX_PIXELS, Geometry, Window

if TYPE_CHECKING:
    from PIL import Image

    from poolcli.imaging.quick import QuickPooling
    from poolcli.io.metadata import ImageInfo

__all__ = [
    "AdaptivePooling",
    "Comparison",
    "FractionalPooling",
    "GlobalPooling",
    "Inspection",
    "Pooling",
    "Task",
]


@dataclass(frozen=True)
class Pooling:
    """A pooling op of :func:`poolcli.pool` over a window: max, min, avg, sum, median, lp.

    Images with alpha pool premultiplied colour for the averaging ops unless ``alpha`` is
    ``"straight"`` (:func:`poolcli.imaging.alpha.pool_image`).
    """

    op: str
    window: Window = field(default_factory=Window)
    p: float = 2.0
    alpha: str = "premultiply"

    @property
    def name(self) -> str:
        """The word in output names, ``STEM.NAME.EXT``."""
        return self.op

    @property
    def op_name(self) -> str:
        """The op as reports name it."""
        return self.op

    def geometry(self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS) -> Geometry:
        """The windows over an input of ``shape``; ValueError when they do not fit it, or when
        the padded plane or the output would pass ``max_pixels``."""
        return self.window.resolve(shape, max_pixels)

    def apply(self, array: Any, info: ImageInfo, max_pixels: int | None = MAX_PIXELS) -> Any:
        """The pooled (N, C, oh, ow) array of a loaded input; an output past ``max_pixels``
        (pixels times frames) is refused before it is allocated. A window of one or three
        axes pools every channel on its own (no alpha weighting)."""
        if self.window.axes != 2:
            from poolcli.core import engine

            window = self.window.kwargs()
            if self.window.axes == 3:
                return engine.pool(array, self.op, **window, p=self.p, max_pixels=max_pixels)
            # A signal: every axis but the last is one batch axis of signals.
            signals = array.reshape(-1, array.shape[-1])
            result = engine.pool(signals, self.op, **window, p=self.p, max_pixels=max_pixels)
            return result.reshape(*array.shape[:-1], result.shape[-1])
        from poolcli.imaging import alpha

        return alpha.pool_image(
            array,
            info,
            self.op,
            alpha=self.alpha,
            **self.window.kwargs(),
            p=self.p,
            max_pixels=max_pixels,
        )

    def quick(self) -> QuickPooling | None:
        """The same pooling done by Pillow for the pictures it can, or None for this op."""
        from poolcli.imaging import quick

        planar = self.window.axes == 2
        return quick.QuickPooling(self.op) if planar and self.op in quick.QUICK_OPS else None


@dataclass(frozen=True)
class AdaptivePooling:
    """Pooling to ``output_size`` (height, width), as PyTorch's adaptive pooling; op avg or max.

    An output larger than the input fails that input (ValueError from
    :func:`poolcli.adaptive_pool`).
    """

    op: str
    output_size: tuple[int, int]
    alpha: str = "premultiply"

    name = "adaptive"

    @property
    def op_name(self) -> str:
        return f"adaptive_{self.op}"

    def geometry(self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS) -> None:
        """No window: the report has no window lines."""
        return None

    def apply(self, array: Any, info: ImageInfo, max_pixels: int | None = MAX_PIXELS) -> Any:
        from poolcli.imaging import alpha

        return alpha.pool_image(
            array, info, self.op_name, alpha=self.alpha, output_size=self.output_size
        )

    def quick(self) -> None:
        return None


@dataclass(frozen=True)
class FractionalPooling:
    """Fractional max pooling with windows of ``size`` to ``output_size`` or by ``ratio``.

    The window starts follow PyTorch's FractionalMaxPool2d drawn from ``seed``. An input too
    small for the output fails that input (ValueError from :func:`poolcli.fractional_max_pool`).
    """

    size: tuple[int, int]
    output_size: tuple[int, int] | None
    ratio: float | None
    seed: int

    name = "fractional"
    op_name = "fractional_max"

    def geometry(self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS) -> None:
        return None

    def apply(self, array: Any, info: ImageInfo, max_pixels: int | None = MAX_PIXELS) -> Any:
        from poolcli.core import adaptive

        return adaptive.fractional_max_pool(
            array, self.size, self.output_size, self.ratio, seed=self.seed
        )

    def quick(self) -> None:
        return None


@dataclass(frozen=True)
class GlobalPooling:
    """One value per channel of each frame: the plane's average (``op="avg"``) or maximum."""

    op: str
    alpha: str = "premultiply"

    name = "global"

    @property
    def op_name(self) -> str:
        return self.op

    def geometry(self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS) -> None:
        return None

    def apply(self, array: Any, info: ImageInfo, max_pixels: int | None = MAX_PIXELS) -> Any:
        from poolcli.imaging import alpha

        return alpha.pool_image(array, info, f"global_{self.op}", alpha=self.alpha)

    def quick(self) -> None:
        return None


@dataclass(frozen=True)
class Comparison:
    """The picture of an input beside its max, avg and min pooled versions (frame 0)."""

    window: Window = field(default_factory=Window)
    alpha: str = "premultiply"

    name = "compare"
    op_name = "compare"

    def geometry(self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS) -> None:
        """None: the picture is not the input pooled, its resolution is not scaled."""
        return None

    def apply(
        self, array: Any, info: ImageInfo, max_pixels: int | None = MAX_PIXELS
    ) -> Image.Image:
        from poolcli.imaging import compare

        return compare.compare_picture(
            array, info, alpha=self.alpha, **self.window.kwargs(), max_pixels=max_pixels
        )

    def quick(self) -> None:
        return None


@dataclass(frozen=True)
class Inspection:
    """What an input is, from its header alone; with a window, the shape pooling would give."""

    window: Window | None = None

    name = "info"
    op_name = "info"

    def geometry(
        self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS
    ) -> Geometry | None:
        return None if self.window is None else self.window.resolve(shape, max_pixels)

    def quick(self) -> None:
        return None


Task = Pooling | AdaptivePooling | FractionalPooling | GlobalPooling | Comparison | Inspection
