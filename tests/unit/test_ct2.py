"""The CTranslate2 model.bin reader against files written by ctranslate2's own spec writer."""

from __future__ import annotations

from pathlib import Path

import struct

import numpy as np
import pytest
from ctranslate2.specs import common_spec, model_spec

from dictate.asr.ct2 import read_ct2
from dictate.modelstore.errors import ModelError


class _SmallSpec(model_spec.ModelSpec):
    """A linear layer, a conv, an embedding shared (aliased) with a projection, and a setting."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.linear = common_spec.LinearSpec()
        self.linear.weight = rng.standard_normal((8, 4)).astype(np.float32)
        self.linear.bias = rng.standard_normal(8).astype(np.float32)
        self.conv = common_spec.Conv1DSpec()
        self.conv.weight = rng.standard_normal((8, 3, 3)).astype(np.float32)
        self.conv.bias = rng.standard_normal(8).astype(np.float32)
        self.embeddings = common_spec.EmbeddingsSpec()
        self.embeddings.weight = rng.standard_normal((10, 4)).astype(np.float32)
        self.projection = common_spec.LinearSpec()
        self.projection.weight = self.embeddings.weight
        self.num_heads = np.dtype("int16").type(6)

    @property
    def name(self) -> str:
        return "SmallSpec"

    @property
    def revision(self) -> int:
        return 3


def _write(folder: Path, quantization: str) -> tuple[Path, dict[str, np.ndarray]]:
    spec = _SmallSpec(np.random.default_rng(0))
    originals = {"linear/weight": spec.linear.weight.copy(), "linear/bias": spec.linear.bias.copy(),
                 "conv/weight": spec.conv.weight.copy(), "embeddings/weight": spec.embeddings.weight.copy()}
    spec.validate()
    spec.optimize(quantization=quantization)
    spec.save(str(folder))
    return folder / "model.bin", originals


def _scale_of(original: np.ndarray, scope: str) -> np.ndarray:
    """The magnitude a storage type's rounding error is relative to."""
    if scope == "element":
        return np.abs(original)
    if scope == "row":  # int8: one scale per output row
        rows = np.abs(original.reshape(original.shape[0], -1)).max(axis=1)
        return rows.reshape((-1,) + (1,) * (original.ndim - 1))
    return np.abs(original).max()  # int16: one scale per tensor


@pytest.mark.parametrize(("quantization", "relative_error", "scope"), [
    ("float32", 0.0, "element"),
    ("float16", 2.0**-11, "element"),
    ("int8", 0.5 / 127, "row"),
    ("int16", 0.5 / 2**10, "tensor"),
])
def test_weights_round_trip(tmp_path: Path, quantization: str, relative_error: float, scope: str) -> None:
    path, originals = _write(tmp_path, quantization)
    model = read_ct2(path)
    assert (model.spec, model.revision) == ("SmallSpec", 3)
    assert model.raw("linear/weight").dtype == quantization
    for name, original in originals.items():
        weight = model.weight(name)
        assert weight.dtype == np.float32 and weight.shape == original.shape
        if name.endswith("bias"):  # biases are never quantized, only cast
            continue
        tolerance = relative_error * _scale_of(original, scope) * (1 + 1e-6) + 1e-12
        assert np.all(np.abs(weight - original) <= tolerance), name
        assert quantization == "float32" or not np.array_equal(weight, original), name


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def test_bfloat16_written_by_hand(tmp_path: Path) -> None:
    """ctranslate2 needs torch to write bfloat16, so this file is written byte by byte."""
    original = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    bits = (original.view(np.uint32) >> 16).astype("<u2")  # truncation: relative error < 2**-7
    body = _string("w") + struct.pack("<B2IBI", 2, 5, 3, 5, bits.nbytes) + bits.tobytes()
    path = tmp_path / "model.bin"
    path.write_bytes(struct.pack("<I", 6) + _string("HandSpec") + struct.pack("<II", 1, 1) + body
                     + struct.pack("<I", 1) + _string("alias") + _string("w"))
    model = read_ct2(path)
    weight = model.weight("alias")
    assert model.raw("w").dtype == "bfloat16" and weight.dtype == np.float32
    np.testing.assert_array_equal(weight.view(np.uint32) >> 16, bits)
    assert np.all(np.abs(weight - original) <= 2.0**-7 * np.abs(original))


def test_int8_dequantisation_follows_ctranslate2_scale_convention(tmp_path: Path) -> None:
    path, originals = _write(tmp_path, "int8")
    model = read_ct2(path)
    quantized = model.raw("linear/weight").array
    scale = model.raw("linear/weight_scale").array
    np.testing.assert_allclose(scale, 127 / np.abs(originals["linear/weight"]).max(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(model.weight("linear/weight"), quantized.astype(np.float32) / scale[:, None])


def test_aliases_and_settings(tmp_path: Path) -> None:
    path, originals = _write(tmp_path, "float32")
    model = read_ct2(path)
    assert "projection/weight" in model
    np.testing.assert_array_equal(model.weight("projection/weight"), originals["embeddings/weight"])
    assert model.setting("num_heads") == 6
    with pytest.raises(ModelError, match="is a weight"):
        model.setting("linear/weight")
    with pytest.raises(ModelError, match="missing"):
        model.weight("no/such/weight")


def test_aliased_int8_weight_uses_its_target_scale(tmp_path: Path) -> None:
    path, _ = _write(tmp_path, "int8")
    model = read_ct2(path)
    np.testing.assert_array_equal(model.weight("projection/weight"), model.weight("embeddings/weight"))


@pytest.mark.parametrize("keep", [0, 3, 20, 200, -1])
def test_truncated_file_is_a_model_error_naming_it(tmp_path: Path, keep: int) -> None:
    path, _ = _write(tmp_path, "float16")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(data[:keep] if keep >= 0 else data[:-1])
    with pytest.raises(ModelError, match="truncated.bin"):
        read_ct2(truncated)


def test_missing_file_and_wrong_version_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="absent.bin"):
        read_ct2(tmp_path / "absent.bin")
    path, _ = _write(tmp_path, "float32")
    data = bytearray(path.read_bytes())
    data[0] = 5
    old = tmp_path / "old.bin"
    old.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="version 5"):
        read_ct2(old)


def test_unknown_dtype_is_refused(tmp_path: Path) -> None:
    path, _ = _write(tmp_path, "float32")
    model = read_ct2(path)
    data = bytearray(path.read_bytes())
    name = b"conv/bias\x00"
    # After the name: u8 rank (1), u32 dim, then the u8 dtype id.
    dtype_offset = data.index(name) + len(name) + 1 + 4
    assert data[dtype_offset] == 0 and model.raw("conv/bias").dtype == "float32"
    data[dtype_offset] = 9
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="unknown dtype id 9"):
        read_ct2(bad)
