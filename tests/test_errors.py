"""Tests of poolcli.errors: library wording, command-line wording, what an error keeps."""

from __future__ import annotations

import pickle

import pytest

from poolcli.cli.run import FLAGS as CLI_FLAGS
from poolcli.errors import InputError, OutputError, PoolcliError


def test_str_names_the_library_parameters() -> None:
    error = InputError("a.png", "too large; raise it with {max_pixels}", ("max_pixels",))
    assert str(error) == "a.png: too large; raise it with max_pixels"
    assert error.reason == "too large; raise it with max_pixels"
    assert error.path == "a.png"
    assert error.parameters == ("max_pixels",)


def test_worded_names_the_flags() -> None:
    error = OutputError(
        "a.jpg", "pick one with {frame=K} or use {format=png|gif}", ("frame", "format")
    )
    assert str(error) == "a.jpg: pick one with frame=K or use format=png|gif"
    assert error.worded(CLI_FLAGS) == "a.jpg: pick one with --frame K or use --format png|gif"


def test_worded_leaves_parameters_without_a_flag_as_the_library_names_them() -> None:
    error = PoolcliError("use {frame=K} or {format}", ("frame", "format"))
    assert error.worded({"format": "--format"}) == "use frame=K or --format"


def test_only_the_listed_parameters_are_replaced() -> None:
    # Braces from a file name or an exception's text stay as they are.
    error = InputError("{frame}.png", "bad {x} in {frame=K}", ("frame",))
    assert str(error) == "{frame}.png: bad {x} in frame=K"
    assert error.worded(CLI_FLAGS) == "{frame}.png: bad {x} in --frame K"
    plain = InputError("a.png", "cannot read {max_pixels}")
    assert plain.parameters == ()
    assert plain.worded(CLI_FLAGS) == str(plain) == "a.png: cannot read {max_pixels}"


@pytest.mark.parametrize(
    "error",
    [
        InputError("a.png", "raise it with {max_pixels}", ("max_pixels",)),
        OutputError("b.png", "no space left on device"),
        PoolcliError("pick one with {frame=K}", ("frame",)),
    ],
    ids=["input", "output", "base"],
)
def test_errors_survive_pickling(error: PoolcliError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.worded(CLI_FLAGS) == error.worded(CLI_FLAGS)
    assert copy.parameters == error.parameters
