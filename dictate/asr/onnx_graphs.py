"""Whisper encoder and decoder ONNX graphs built directly from CTranslate2 numpy weights.

Encoder: log-mel [B, n_mels, 3000] -> cross-attention keys `cross_k_{i}` [B, H, head_dim, 1500]
(already transposed for Q @ K) and values `cross_v_{i}` [B, H, 1500, head_dim] for every
decoder layer i, so the decoder never recomputes them.

Decoder: tokens int64 [B, T], `past_k_{i}`/`past_v_{i}` [B, H, P, head_dim] (P may be 0) and the
cross K/V and `logits_from` int64 [1] -> `logits` [B, T - logits_from, n_vocab] of the positions from
`logits_from` on (T - 1: the last one; 0: all, to check known tokens in one call), `present_k_{i}`/`present_v_{i}`
[B, H, P+T, head_dim] and `alignment` [B, n_alignment_heads, T, 1500], the cross-attention
weights of the alignment heads. Positions start at P; a causal mask covers T > 1.

One embedding initializer E^T [d, n_vocab] serves the token lookup (Gather on axis 1) and the
output projection (MatMul). The "int8" embedding stores it as int8 with one scale per token
(symmetric), so the int8 decoder keeps a single 1-byte copy; `quantize_dynamic` then handles
the other MatMuls. The encoder's self-attention is one onnxruntime contrib op,
`com.microsoft.MultiHeadAttention` (CPU and CUDA kernels); in the decoder the 1/sqrt(head_dim)
attention scale is folded into the query weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from dictate.asr.ct2 import Ct2Model
from dictate.constants import N_FRAMES
from dictate.modelstore.errors import ModelError

OPSET = 17  # LayerNormalization needs 17
CONTRIB_DOMAIN = "com.microsoft"  # onnxruntime's contrib ops (MultiHeadAttention: CPU and CUDA kernels)
CONTRIB_OPSET = 1
GRAPH_VERSION = 3  # bumped whenever the graphs change, so prepared folders are converted again
LAYER_NORM_EPSILON = 1e-5
MULTILINGUAL_MIN_VOCAB = 51865  # English-only models have 51864 tokens
INT8_MAX = 127
GELU_INV_SQRT2 = float(1 / np.sqrt(2))
EMBEDDING_FLOAT = "float"
EMBEDDING_INT8 = "int8"


@dataclass(frozen=True)
class ModelInfo:
    """A Whisper model's dims and special tokens, stored in (and read from) ONNX metadata."""

    name: str
    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int
    multilingual: bool
    alignment_heads: tuple[tuple[int, int], ...]  # (decoder layer, head) pairs
    suppress_ids: tuple[int, ...]
    suppress_ids_begin: tuple[int, ...]
    lang_ids: tuple[int, ...]

    def to_metadata(self) -> dict[str, str]:
        """Every field as a JSON string, for ONNX `metadata_props`."""
        return {key: json.dumps(value) for key, value in asdict(self).items()}

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> ModelInfo:
        """Inverse of `to_metadata`; a missing key is a ModelError."""
        try:
            values = {field.name: json.loads(metadata[field.name]) for field in fields(cls)}
        except KeyError as error:
            raise ModelError(f"ONNX metadata lacks {error.args[0]!r}: the model was not prepared by dictate") from error
        values["alignment_heads"] = tuple(tuple(pair) for pair in values["alignment_heads"])
        for key in ("suppress_ids", "suppress_ids_begin", "lang_ids"):
            values[key] = tuple(values[key])
        return cls(**values)


def model_info(weights: Ct2Model, config: dict[str, Any], name: str) -> ModelInfo:
    """Dims from the weight shapes and settings; special tokens from CTranslate2's config.json."""
    n_audio_state, n_mels, _ = weights.raw("encoder/conv1/weight").array.shape
    n_vocab, n_text_state = weights.raw("decoder/embeddings/weight").array.shape
    n_text_layer = _count_layers(weights, "decoder")
    heads = config.get("alignment_heads") or [[layer, head] for layer in range(n_text_layer // 2, n_text_layer)
                                              for head in range(weights.setting("decoder/num_heads"))]
    return ModelInfo(
        name=name,
        n_mels=n_mels,
        n_audio_ctx=weights.raw("encoder/position_encodings/encodings").array.shape[0],
        n_audio_state=n_audio_state,
        n_audio_head=weights.setting("encoder/num_heads"),
        n_audio_layer=_count_layers(weights, "encoder"),
        n_vocab=n_vocab,
        n_text_ctx=weights.raw("decoder/position_encodings/encodings").array.shape[0],
        n_text_state=n_text_state,
        n_text_head=weights.setting("decoder/num_heads"),
        n_text_layer=n_text_layer,
        multilingual=n_vocab >= MULTILINGUAL_MIN_VOCAB,
        alignment_heads=tuple(sorted((int(layer), int(head)) for layer, head in heads)),
        suppress_ids=tuple(config.get("suppress_ids", ())),
        suppress_ids_begin=tuple(config.get("suppress_ids_begin", ())),
        lang_ids=tuple(config.get("lang_ids", ())),
    )


def _count_layers(weights: Ct2Model, stack: str) -> int:
    count = 0
    while f"{stack}/layer_{count}/ffn/linear_0/weight" in weights:
        count += 1
    if count == 0:
        raise ModelError(f"{weights.path}: no {stack} layers found; is it a CTranslate2 Whisper model?")
    return count


class _Graph:
    """Accumulates nodes and initializers with unique names."""

    def __init__(self, float_type: np.dtype) -> None:
        self.float_type = np.dtype(float_type)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.domains: set[str] = set()  # non-default op domains used, for the opset imports
        self._count = 0

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, array: np.ndarray, name: str | None = None) -> str:
        """Add an initializer (float arrays are cast to the graph's float type)."""
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(self.float_type)
        tensor = numpy_helper.from_array(np.array(array, order="C"), name or self._name("const"))
        self.initializers.append(tensor)
        return tensor.name

    def ints(self, *values: int) -> str:
        return self.const(np.array(values, dtype=np.int64))

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attributes: Any) -> str:
        """Add a one-output node; return its output name."""
        return self.op_outputs(op_type, *inputs, outputs=[output or self._name(op_type.lower())], **attributes)[0]

    def op_outputs(self, op_type: str, *inputs: str, outputs: list[str], domain: str = "",
                   **attributes: Any) -> list[str]:
        """Add a node with the given output names."""
        if domain:
            self.domains.add(domain)
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=f"{op_type}_{outputs[0]}",
                                           domain=domain, **attributes))
        return outputs

    def gelu(self, x: str) -> str:
        """Exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)); onnxruntime fuses it into one Gelu kernel."""
        erf = self.op("Erf", self.op("Mul", x, self.const(np.array(GELU_INV_SQRT2))))
        return self.op("Mul", self.op("Mul", x, self.const(np.array(0.5))),
                       self.op("Add", erf, self.const(np.array(1.0))))

    def layer_norm(self, x: str, weights: Ct2Model, prefix: str) -> str:
        return self.op("LayerNormalization", x, self.const(weights.weight(f"{prefix}/gamma")),
                       self.const(weights.weight(f"{prefix}/beta")), axis=-1, epsilon=LAYER_NORM_EPSILON)

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray | None) -> str:
        """x @ weight^T + bias, with weight stored [out, in] as in CTranslate2."""
        y = self.op("MatMul", x, self.const(weight.T))
        if bias is None or not bias.any():
            return y
        return self.op("Add", y, self.const(bias))

    def heads(self, x: str, n_head: int, head_dim: int, perm: tuple[int, ...]) -> str:
        """[B, T, d] -> [B, T, H, head_dim] -> transposed by `perm`."""
        return self.op("Transpose", self.op("Reshape", x, self.ints(0, 0, n_head, head_dim)), perm=list(perm))

    def merge_heads(self, x: str, width: int) -> str:
        """[B, H, T, head_dim] -> [B, T, d]."""
        return self.op("Reshape", self.op("Transpose", x, perm=[0, 2, 1, 3]), self.ints(0, 0, width))

    def mlp(self, x: str, weights: Ct2Model, prefix: str) -> str:
        h = self.layer_norm(x, weights, f"{prefix}/layer_norm")
        h = self.gelu(self.linear(h, weights.weight(f"{prefix}/linear_0/weight"),
                                  weights.weight(f"{prefix}/linear_0/bias")))
        h = self.linear(h, weights.weight(f"{prefix}/linear_1/weight"), weights.weight(f"{prefix}/linear_1/bias"))
        return self.op("Add", x, h)

    def fused_qkv(self, h: str, weights: Ct2Model, prefix: str, n_head: int, head_dim: int) -> tuple[str, str, str]:
        """Self-attention q (pre-scaled), k, v, each [B,H,T,hd], from the fused linear_0 [3d, d]."""
        weight = weights.weight(f"{prefix}/linear_0/weight").copy()
        bias = weights.weight(f"{prefix}/linear_0/bias").copy()
        width = weight.shape[1]
        weight[:width] *= head_dim ** -0.5
        bias[:width] *= head_dim ** -0.5
        qkv = self.op("Reshape", self.linear(h, weight, bias), self.ints(0, 0, 3, n_head, head_dim))
        q, k, v = (self.op("Gather", qkv, self.const(np.array(i, dtype=np.int64)), axis=2) for i in range(3))
        return tuple(self.op("Transpose", part, perm=[0, 2, 1, 3]) for part in (q, k, v))

    def self_attention(self, h: str, weights: Ct2Model, prefix: str, n_head: int) -> str:
        """Unmasked self-attention [B,T,d] -> [B,T,d] before the output projection: the fused qkv linear
        split in three, then one MultiHeadAttention (default 1/sqrt(head_dim) scale). Its CPU kernel
        never holds the whole [B,H,T,T] score tensor (the encoder's 1500 x 1500 per head)."""
        weight = weights.weight(f"{prefix}/linear_0/weight")
        width = weight.shape[1]
        qkv = self.linear(h, weight, weights.weight(f"{prefix}/linear_0/bias"))
        q, k, v = self.op_outputs("Split", qkv, self.ints(width, width, width), axis=-1,
                                  outputs=[self._name(part) for part in ("q", "k", "v")])
        return self.op("MultiHeadAttention", q, k, v, domain=CONTRIB_DOMAIN, num_heads=n_head)

    def attend(self, q: str, k_t: str, v: str, mask: str | None = None) -> tuple[str, str]:
        """softmax(q @ k^T [masked]) @ v -> (output [B,H,T,hd], weights [B,H,T,S])."""
        scores = self.op("MatMul", q, k_t)
        if mask is not None:
            scores = self.op("Where", mask, self.const(np.array(-np.inf)), scores)
        probabilities = self.op("Softmax", scores, axis=-1)
        return self.op("MatMul", probabilities, v), probabilities

    def model(self, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto], name: str,
              info: ModelInfo) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        opsets = [helper.make_opsetid("", OPSET)]
        opsets += [helper.make_opsetid(domain, CONTRIB_OPSET) for domain in sorted(self.domains)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="dictate")
        model.ir_version = 8  # readable by onnxruntime >= 1.14
        helper.set_model_props(model, info.to_metadata())
        return model


def _elem_type(float_type: np.dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(float_type))


def build_encoder(weights: Ct2Model, info: ModelInfo, float_type: np.dtype = np.float32) -> onnx.ModelProto:
    """mel [B, n_mels, 3000] -> cross_k_{i} [B,H,hd,S], cross_v_{i} [B,H,S,hd] for each decoder layer."""
    g = _Graph(float_type)
    n_head = info.n_audio_head
    x = g.gelu(g.op("Conv", "mel", g.const(weights.weight("encoder/conv1/weight")),
                    g.const(weights.weight("encoder/conv1/bias")), kernel_shape=[3], pads=[1, 1]))
    x = g.gelu(g.op("Conv", x, g.const(weights.weight("encoder/conv2/weight")),
                    g.const(weights.weight("encoder/conv2/bias")), kernel_shape=[3], pads=[1, 1], strides=[2]))
    x = g.op("Add", g.op("Transpose", x, perm=[0, 2, 1]),
             g.const(weights.weight("encoder/position_encodings/encodings")))
    for layer in range(info.n_audio_layer):
        prefix = f"encoder/layer_{layer}"
        h = g.layer_norm(x, weights, f"{prefix}/self_attention/layer_norm")
        attended = g.self_attention(h, weights, f"{prefix}/self_attention", n_head)
        out = g.linear(attended, weights.weight(f"{prefix}/self_attention/linear_1/weight"),
                       weights.weight(f"{prefix}/self_attention/linear_1/bias"))
        x = g.mlp(g.op("Add", x, out), weights, f"{prefix}/ffn")
    x = g.layer_norm(x, weights, "encoder/layer_norm")

    text_d, text_heads = info.n_text_state, info.n_text_head
    text_head_dim = text_d // text_heads
    elem = _elem_type(float_type)
    outputs = []
    for layer in range(info.n_text_layer):
        kv_weight = weights.weight(f"decoder/layer_{layer}/attention/linear_1/weight")
        kv_bias = weights.weight(f"decoder/layer_{layer}/attention/linear_1/bias")
        for kind, rows, perm in (("k", slice(0, text_d), (0, 2, 3, 1)), ("v", slice(text_d, None), (0, 2, 1, 3))):
            projected = g.linear(x, kv_weight[rows], kv_bias[rows])
            name = f"cross_{kind}_{layer}"
            g.op("Transpose", g.op("Reshape", projected, g.ints(0, 0, text_heads, text_head_dim)),
                 output=name, perm=list(perm))
            shape = ["batch", text_heads, text_head_dim, info.n_audio_ctx] if kind == "k" else \
                ["batch", text_heads, info.n_audio_ctx, text_head_dim]
            outputs.append(helper.make_tensor_value_info(name, elem, shape))
    inputs = [helper.make_tensor_value_info("mel", elem, ["batch", info.n_mels, N_FRAMES])]
    return g.model(inputs, outputs, "whisper_encoder", info)


def _quantized_embedding(embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[V, d] float -> (int8 E^T [d, V], float32 scale [V]) with w = q * scale, symmetric per token."""
    amax = np.abs(embedding).max(axis=1)
    scale = np.where(amax > 0, amax / INT8_MAX, 1.0).astype(np.float32)
    quantized = np.clip(np.rint(embedding / scale[:, None]), -INT8_MAX, INT8_MAX).astype(np.int8)
    return np.ascontiguousarray(quantized.T), scale


def _project(g: _Graph, hidden: str, table_t: str, token_scale: str | None, output: str) -> str:
    """Hidden states [..., d] -> float32 logits [..., V] named `output`, through the shared E^T.

    With the int8 embedding (`token_scale`: one scale per token): a dynamic int8 matmul, then both scales.
    onnxruntime runs it as a plain MatMulInteger (no fusion into DynamicQuantizeMatMul); that fused op
    measured no faster (bench/README.md).
    """
    if token_scale is None:
        return g.op("Cast", g.op("MatMul", hidden, table_t), output=output, to=TensorProto.FLOAT)
    names = [f"{output}_{suffix}" for suffix in ("quantized", "scale", "zero_point")]
    quantized, scale, zero = g.op_outputs("DynamicQuantizeLinear", hidden, outputs=names)
    product = g.op("Cast", g.op("MatMulInteger", quantized, table_t, zero), to=TensorProto.FLOAT)
    return g.op("Mul", g.op("Mul", product, scale), token_scale, output=output)


def build_decoder(weights: Ct2Model, info: ModelInfo, float_type: np.dtype = np.float32,
                  embedding: str = EMBEDDING_FLOAT) -> onnx.ModelProto:
    """Decoder step with self-attention KV cache; see the module docstring for inputs and outputs."""
    if embedding not in (EMBEDDING_FLOAT, EMBEDDING_INT8):
        raise ValueError(f"embedding must be {EMBEDDING_FLOAT!r} or {EMBEDDING_INT8!r}, not {embedding!r}")
    if embedding == EMBEDDING_INT8 and np.dtype(float_type) != np.float32:
        raise ValueError("the int8 embedding needs a float32 graph (DynamicQuantizeLinear is float32 only)")
    g = _Graph(float_type)
    d, n_head = info.n_text_state, info.n_text_head
    head_dim = d // n_head
    elem = _elem_type(float_type)
    table = weights.weight("decoder/embeddings/weight")
    token_scale: str | None = None  # the int8 embedding's scale per token

    # Token lookup from the shared E^T [d, V]: Gather on axis 1 -> [d, B, T] -> [B, T, d].
    if embedding == EMBEDDING_INT8:
        quantized, scale = _quantized_embedding(table)
        table_t, token_scale = g.const(quantized, "embedding_t_int8"), g.const(scale.astype(float_type))
        gathered = g.op("Mul", g.op("Cast", g.op("Gather", table_t, "tokens", axis=1), to=elem),
                        g.op("Gather", token_scale, "tokens"))
    else:
        table_t = g.const(table.T, "embedding_t")
        gathered = g.op("Gather", table_t, "tokens", axis=1)
    tokens = g.op("Transpose", gathered, perm=[1, 2, 0])

    # Positions P .. P+T-1 and the causal mask [T, P+T] (True = hidden).
    zero_axis = g.ints(0)
    past = g.op("Squeeze", g.op("Shape", "past_k_0", start=2, end=3), zero_axis)
    total = g.op("Add", past, g.op("Squeeze", g.op("Shape", "tokens", start=1, end=2), zero_axis))
    one, zero = g.const(np.array(1, dtype=np.int64)), g.const(np.array(0, dtype=np.int64))
    rows = g.op("Range", past, total, one)
    mask = g.op("Greater", g.op("Range", zero, total, one), g.op("Unsqueeze", rows, g.ints(1)))
    positions = g.op("Gather", g.const(weights.weight("decoder/position_encodings/encodings")), rows)
    x = g.op("Add", tokens, positions)

    heads_by_layer: dict[int, list[int]] = {}
    for layer, head in info.alignment_heads:
        heads_by_layer.setdefault(layer, []).append(head)
    alignment_parts: dict[int, str] = {}
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "tokens"])]
    inputs.append(helper.make_tensor_value_info("logits_from", TensorProto.INT64, [1]))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "positions", info.n_vocab])]
    for layer in range(info.n_text_layer):
        prefix = f"decoder/layer_{layer}"
        h = g.layer_norm(x, weights, f"{prefix}/self_attention/layer_norm")
        q, k, v = g.fused_qkv(h, weights, f"{prefix}/self_attention", n_head, head_dim)
        present_k = g.op("Concat", f"past_k_{layer}", k, output=f"present_k_{layer}", axis=2)
        present_v = g.op("Concat", f"past_v_{layer}", v, output=f"present_v_{layer}", axis=2)
        attended, _ = g.attend(q, g.op("Transpose", present_k, perm=[0, 1, 3, 2]), present_v, mask)
        out = g.linear(g.merge_heads(attended, d), weights.weight(f"{prefix}/self_attention/linear_1/weight"),
                       weights.weight(f"{prefix}/self_attention/linear_1/bias"))
        x = g.op("Add", x, out)

        h = g.layer_norm(x, weights, f"{prefix}/attention/layer_norm")
        q = g.heads(g.linear(h, weights.weight(f"{prefix}/attention/linear_0/weight") * head_dim ** -0.5,
                             weights.weight(f"{prefix}/attention/linear_0/bias") * head_dim ** -0.5),
                    n_head, head_dim, (0, 2, 1, 3))
        attended, probabilities = g.attend(q, f"cross_k_{layer}", f"cross_v_{layer}")
        if layer in heads_by_layer:
            alignment_parts[layer] = g.op("Gather", probabilities, g.ints(*heads_by_layer[layer]), axis=1)
        out = g.linear(g.merge_heads(attended, d), weights.weight(f"{prefix}/attention/linear_2/weight"),
                       weights.weight(f"{prefix}/attention/linear_2/bias"))
        x = g.mlp(g.op("Add", x, out), weights, f"{prefix}/ffn")

        for kind in ("k", "v"):
            shape = ["batch", n_head, "past", head_dim]
            inputs.append(helper.make_tensor_value_info(f"past_{kind}_{layer}", elem, shape))
            outputs.append(helper.make_tensor_value_info(f"present_{kind}_{layer}", elem,
                                                         ["batch", n_head, "total", head_dim]))
        inputs.append(helper.make_tensor_value_info(f"cross_k_{layer}", elem,
                                                    ["batch", n_head, head_dim, info.n_audio_ctx]))
        inputs.append(helper.make_tensor_value_info(f"cross_v_{layer}", elem,
                                                    ["batch", n_head, info.n_audio_ctx, head_dim]))

    # Logits from position `logits_from` on: the last one while decoding step by step, every one to check known tokens.
    start = g.op("Slice", x, "logits_from", g.const(np.array([np.iinfo(np.int64).max], dtype=np.int64)), g.ints(1))
    _project(g, g.layer_norm(start, weights, "decoder/layer_norm"), table_t, token_scale, "logits")
    # Alignment heads in config order (grouped per layer, layers ascending).
    ordered = [alignment_parts[layer] for layer in sorted(alignment_parts)]
    alignment = g.op("Concat", *ordered, axis=1) if len(ordered) > 1 else ordered[0]
    g.op("Cast", alignment, output="alignment", to=TensorProto.FLOAT)
    outputs.append(helper.make_tensor_value_info("alignment", TensorProto.FLOAT,
                                                 ["batch", len(info.alignment_heads), "tokens", info.n_audio_ctx]))
    return g.model(inputs, outputs, "whisper_decoder", info)
