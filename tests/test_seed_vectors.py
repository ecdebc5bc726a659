"""The lectures' worked examples (tests/seed_vectors.json), one test per named vector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import poolcli

VECTORS = json.loads((Path(__file__).parent / "seed_vectors.json").read_text(encoding="utf-8"))
VALUES = VECTORS["values"]
SHAPES = VECTORS["shapes"]


def by_name(entries, call=None):
    chosen = [e for e in entries if call is None or e["call"] == call]
    return pytest.mark.parametrize("vector", chosen, ids=[e["name"] for e in chosen])


def test_every_shape_vector_is_checked():
    checked = {"im2col", "col2im", "MaxPooling", "global_avg", "image", "formula"}
    assert {e["call"] for e in SHAPES} <= checked


@by_name(VALUES)
def test_values(vector):
    x = np.array(vector["input"])
    expected = np.array(vector["expected"])
    got = poolcli.pool(x, vector["op"], vector["size"], vector["stride"], vector["padding"])
    assert got.shape == expected.shape
    if vector["op"] == "avg":
        assert got.dtype.kind == "f"
    else:
        assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, expected)


@by_name(VALUES)
def test_values_through_the_textbook_layers(vector):
    layer = {"max": poolcli.MaxPooling, "avg": poolcli.AveragePooling}[vector["op"]]
    size, stride = vector["size"], vector["stride"]
    x = np.array(vector["input"])[None, None]
    got = layer(size, size, stride=stride, pad=vector["padding"]).forward(x)
    np.testing.assert_array_equal(got[0, 0], np.array(vector["expected"]))


@by_name(SHAPES, "im2col")
def test_im2col_shape(vector):
    x = np.random.default_rng(0).random(vector["input_shape"])
    col = poolcli.im2col(x, *vector["filter"], stride=vector["stride"], pad=vector["pad"])
    assert col.shape == tuple(vector["expected_shape"])


@by_name(SHAPES, "col2im")
def test_col2im_shape(vector):
    shape, (fh, fw) = vector["input_shape"], vector["filter"]
    col = poolcli.im2col(np.ones(shape), fh, fw, stride=vector["stride"], pad=vector["pad"])
    img = poolcli.col2im(col, shape, fh, fw, stride=vector["stride"], pad=vector["pad"])
    assert img.shape == tuple(vector["expected_shape"])


@by_name(SHAPES, "MaxPooling")
def test_max_pooling_layer_shape(vector):
    x = np.random.default_rng(0).random(vector["input_shape"])
    layer = poolcli.MaxPooling(*vector["filter"], stride=vector["stride"], pad=vector["pad"])
    assert layer.forward(x).shape == tuple(vector["expected_shape"])
    expected = poolcli.pool(x, "max", vector["filter"], vector["stride"], vector["pad"])
    np.testing.assert_array_equal(layer.forward(x), expected)


@by_name(SHAPES, "global_avg")
def test_global_average_shape(vector):
    x = np.random.default_rng(0).random(vector["input_shape"])
    got = poolcli.pool(x, "avg", size=x.shape[-2:])
    assert got.shape == tuple(vector["expected_shape"])
    np.testing.assert_allclose(got[..., 0, 0], x.mean(axis=(2, 3)), rtol=1e-12)


@by_name(SHAPES, "image")
def test_image_shape(vector):
    x = np.zeros(vector["input_shape"], dtype=np.uint8)
    got = poolcli.pool(x, "max", vector["filter"], vector["stride"], vector["pad"])
    assert got.shape == tuple(vector["expected_shape"])


@by_name(SHAPES, "formula")
def test_output_size_formula(vector):
    h, f, s = vector["H"], vector["F"], vector["S"]
    assert poolcli.output_shape((h, h), size=f, stride=s) == (vector["expected"],) * 2


def test_stride_3_ceil_mode_covers_the_last_row():
    (vector,) = [e for e in SHAPES if e["name"] == "output-size-stride3"]
    h, f, s = vector["H"], vector["F"], vector["S"]
    assert poolcli.output_shape((h, h), size=f, stride=s, ceil_mode=True) == (3, 3)
