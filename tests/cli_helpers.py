"""Helpers shared by the command-line tests: run poolcli in-process, read back an image."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result
from PIL import Image

from poolcli.cli import main


def run(*args: str, input: bytes | str | None = None) -> Result:
    """``poolcli ARGS`` through CliRunner; stdout, stderr and the exit code kept apart."""
    return CliRunner().invoke(main, list(args), input=input)


def pixels(source: Path | bytes) -> np.ndarray:
    """The pixels of an image file, or of image bytes (as written to standard output)."""
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
        return np.asarray(img)
