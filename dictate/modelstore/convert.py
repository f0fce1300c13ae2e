"""CTranslate2 Whisper weights -> ONNX variants: fp32, int8 (dynamic quantisation) and fp16 (CUDA)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx

from dictate.asr.ct2 import read_ct2
from dictate.asr.model import VARIANTS, model_files
from dictate.asr.onnx_graphs import EMBEDDING_INT8, ModelInfo, build_decoder, build_encoder, model_info

PROTOBUF_LIMIT_BYTES = 1_900_000_000  # below protobuf's 2 GiB; larger models keep weights in `<file>.data`
FLOAT_TYPES = {"fp32": np.float32, "fp16": np.float16}
INT8_STAGING_SUFFIX = ".staging.onnx"


def save_onnx(model: onnx.ModelProto, path: Path) -> None:
    """Save inline, or with the weights in one external `<name>.data` file when too big for protobuf."""
    size = sum(len(tensor.raw_data) for tensor in model.graph.initializer)
    if size < PROTOBUF_LIMIT_BYTES:
        onnx.save(model, path)
    else:
        onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                  location=path.name + ".data")


class _DropPreprocessHint(logging.Filter):
    """onnxruntime's quantizer logs a pre-processing hint on the root logger; it does not apply here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 of every MatMul with a constant weight (per output channel); Conv stays float."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    external = (source.parent / (source.name + ".data")).is_file()
    hint_filter = _DropPreprocessHint()
    logging.getLogger().addFilter(hint_filter)
    try:
        quantize_dynamic(source, target, op_types_to_quantize=["MatMul"], per_channel=True,
                         weight_type=QuantType.QInt8, use_external_data_format=external,
                         # DefaultTensorType: the type of outputs ONNX shape inference cannot infer
                         # (com.microsoft.MultiHeadAttention's); all of ours are float32.
                         extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.getLogger().removeFilter(hint_filter)


def steps(variants: Sequence[str]) -> int:
    """How many `on_step` calls `convert` makes (2 per variant)."""
    return 2 * len(variants)


def convert(model_bin: Path, config_path: Path, name: str, out: Path, variants: Sequence[str],
            on_step: Callable[[str], None]) -> ModelInfo:
    """Write `encoder.<variant>.onnx` and `decoder.<variant>.onnx` for each variant into `out`."""
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; choose from {VARIANTS}")
    weights = read_ct2(model_bin)
    info = model_info(weights, json.loads(config_path.read_text(encoding="utf-8")), name)
    for variant in variants:
        encoder_path, decoder_path = model_files(out, variant)
        if variant == "int8":
            staging_encoder = encoder_path.with_suffix(INT8_STAGING_SUFFIX)
            save_onnx(build_encoder(weights, info), staging_encoder)
            _quantize_int8(staging_encoder, encoder_path)
            on_step(f"{variant} encoder")
            staging_decoder = decoder_path.with_suffix(INT8_STAGING_SUFFIX)
            save_onnx(build_decoder(weights, info, embedding=EMBEDDING_INT8), staging_decoder)
            _quantize_int8(staging_decoder, decoder_path)
            on_step(f"{variant} decoder")
            for staging in (staging_encoder, staging_decoder):
                for path in (staging, staging.parent / (staging.name + ".data")):
                    path.unlink(missing_ok=True)
        else:
            save_onnx(build_encoder(weights, info, FLOAT_TYPES[variant]), encoder_path)
            on_step(f"{variant} encoder")
            save_onnx(build_decoder(weights, info, FLOAT_TYPES[variant]), decoder_path)
            on_step(f"{variant} decoder")
    return info
