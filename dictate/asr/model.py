"""`WhisperOnnx`: encoder (mel -> cross K/V) and decoder step with a self-attention KV cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from dictate.asr.onnx_graphs import ModelInfo
from dictate.asr.runtime import RuntimeOptions, create_session, resolve_device
from dictate.constants import N_FRAMES
from dictate.modelstore.errors import ModelError

VARIANTS = ("int8", "fp32", "fp16")
CPU_VARIANT = "int8"
CUDA_VARIANTS = ("fp16", "fp32")  # preferred order on CUDA (int8 kernels are CPU-only)
_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}

__all__ = ["VARIANTS", "AudioContext", "KVCache", "ModelInfo", "WhisperOnnx", "model_files"]


def model_files(model_dir: Path, variant: str) -> tuple[Path, Path]:
    """(encoder, decoder) ONNX paths of one variant in a prepared folder."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    return model_dir / f"encoder.{variant}.onnx", model_dir / f"decoder.{variant}.onnx"


@dataclass(frozen=True)
class AudioContext:
    """The encoder's cross-attention keys [B,H,head_dim,S] and values [B,H,S,head_dim] per decoder layer."""

    keys: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]

    @property
    def batch_size(self) -> int:
        return self.keys[0].shape[0]

    def repeat(self, n: int) -> AudioContext:
        """The same audio for n beams (batch size 1 -> n; batch b -> b*n, each row repeated n times)."""
        return AudioContext(tuple(np.repeat(k, n, axis=0) for k in self.keys),
                            tuple(np.repeat(v, n, axis=0) for v in self.values))

    def feeds(self) -> dict[str, np.ndarray]:
        return {**{f"cross_k_{i}": k for i, k in enumerate(self.keys)},
                **{f"cross_v_{i}": v for i, v in enumerate(self.values)}}


@dataclass(frozen=True)
class KVCache:
    """Self-attention keys and values [B,H,length,head_dim] per decoder layer."""

    keys: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]

    @property
    def length(self) -> int:
        """Tokens already decoded (the position of the next token)."""
        return self.keys[0].shape[2]

    @property
    def batch_size(self) -> int:
        return self.keys[0].shape[0]

    def reorder(self, indices: np.ndarray | list[int]) -> KVCache:
        """Rows picked (and possibly repeated) by `indices`, e.g. the surviving beams."""
        index = np.asarray(indices, dtype=np.int64)
        return KVCache(tuple(k[index] for k in self.keys), tuple(v[index] for v in self.values))

    def truncate(self, length: int) -> KVCache:
        """The first `length` tokens' keys and values (the rest were guesses the decode did not take)."""
        return KVCache(tuple(k[:, :, :length] for k in self.keys), tuple(v[:, :, :length] for v in self.values))

    def feeds(self) -> dict[str, np.ndarray]:
        return {**{f"past_k_{i}": k for i, k in enumerate(self.keys)},
                **{f"past_v_{i}": v for i, v in enumerate(self.values)}}


class WhisperOnnx:
    """A prepared Whisper model on onnxruntime. Dims and special tokens come from ONNX metadata."""

    def __init__(self, encoder: ort.InferenceSession, decoder: ort.InferenceSession, variant: str,
                 device: str) -> None:
        self.info = ModelInfo.from_metadata(decoder.get_modelmeta().custom_metadata_map)
        if ModelInfo.from_metadata(encoder.get_modelmeta().custom_metadata_map) != self.info:
            raise ModelError("the encoder and decoder metadata differ: they come from different models")
        self.variant = variant
        self.device = device
        self._encoder = encoder
        self._decoder = decoder
        inputs = {node.name: node.type for node in decoder.get_inputs()}
        if "logits_from" not in inputs:
            raise ModelError(f"the decoder of {self.info.name!r} was converted by an older dictate; "
                             f"run `dictate models prepare {self.info.name} --force`")
        self._float = _FLOAT_TYPES[inputs["past_k_0"]]
        self._encoder_outputs = [output.name for output in encoder.get_outputs()]
        self._presents = [f"present_{kind}_{i}" for kind in "kv" for i in range(self.info.n_text_layer)]

    @classmethod
    def load(cls, model_dir: Path, variant: str | None = None, device: str = "auto",
             threads: int | None = None) -> WhisperOnnx:
        """Open `encoder.<variant>.onnx` + `decoder.<variant>.onnx` from a prepared folder.

        variant None picks int8 on CPU and fp16 (else fp32) on CUDA.
        """
        model_dir = Path(model_dir)
        options = RuntimeOptions(device=resolve_device(device), threads=threads)
        if variant is None:
            variant = CPU_VARIANT if options.device == "cpu" else next(
                (v for v in CUDA_VARIANTS if model_files(model_dir, v)[0].is_file()), CUDA_VARIANTS[-1])
        sessions = [_open(path, options, model_dir.name) for path in model_files(model_dir, variant)]
        return cls(*sessions, variant=variant, device=options.device)

    def encode(self, mel: np.ndarray) -> AudioContext:
        """mel float32 [B, n_mels, 3000] (or [n_mels, 3000]) -> cross-attention K/V for the decoder."""
        mel = np.asarray(mel)
        if mel.ndim == 2:
            mel = mel[None]
        if mel.ndim != 3 or mel.shape[1:] != (self.info.n_mels, N_FRAMES):
            raise ValueError(f"mel must be [B, {self.info.n_mels}, {N_FRAMES}], got {list(mel.shape)}")
        outputs = dict(zip(self._encoder_outputs,
                           self._encoder.run(None, {"mel": np.ascontiguousarray(mel, dtype=self._float)})))
        layers = range(self.info.n_text_layer)
        return AudioContext(tuple(outputs[f"cross_k_{i}"] for i in layers),
                            tuple(outputs[f"cross_v_{i}"] for i in layers))

    def empty_cache(self, batch_size: int = 1) -> KVCache:
        """A cache holding no tokens."""
        head_dim = self.info.n_text_state // self.info.n_text_head
        empty = np.zeros((batch_size, self.info.n_text_head, 0, head_dim), dtype=self._float)
        layers = range(self.info.n_text_layer)
        return KVCache(tuple(empty for _ in layers), tuple(empty for _ in layers))

    def decode(self, tokens: np.ndarray, audio: AudioContext,
               cache: KVCache | None = None) -> tuple[np.ndarray, KVCache]:
        """tokens int64 [B, T] after `cache` -> (logits float32 [B, n_vocab] of the last position, new cache)."""
        logits, cache = self._run_decoder(tokens, audio, cache, every_position=False)
        return logits[:, -1], cache

    def decode_every_position(self, tokens: np.ndarray, audio: AudioContext,
                              cache: KVCache | None = None) -> tuple[np.ndarray, KVCache]:
        """tokens int64 [B, T] after `cache` -> (logits float32 [B, T, n_vocab] after each token, new cache):
        what each of T known tokens predicts, from one call."""
        return self._run_decoder(tokens, audio, cache, every_position=True)

    def _run_decoder(self, tokens: np.ndarray, audio: AudioContext, cache: KVCache | None,
                     every_position: bool) -> tuple[np.ndarray, KVCache]:
        tokens = self._check_tokens(tokens, audio)
        cache = cache if cache is not None else self.empty_cache(tokens.shape[0])
        if cache.batch_size != tokens.shape[0]:
            raise ValueError(f"cache batch {cache.batch_size} != tokens batch {tokens.shape[0]}")
        if cache.length + tokens.shape[1] > self.info.n_text_ctx:
            raise ValueError(f"{cache.length} cached + {tokens.shape[1]} new tokens exceed the "
                             f"{self.info.n_text_ctx}-token text context")
        outputs = self._decoder.run(["logits", *self._presents],
                                    {"tokens": tokens, **self._logits_from(tokens, every_position), **cache.feeds(),
                                     **audio.feeds()})
        n = self.info.n_text_layer
        return outputs[0], KVCache(tuple(outputs[1:1 + n]), tuple(outputs[1 + n:]))

    @staticmethod
    def _logits_from(tokens: np.ndarray, every_position: bool) -> dict[str, np.ndarray]:
        """The decoder's `logits_from` feed: 0 for every position's logits, else only the last position's."""
        return {"logits_from": np.array([0 if every_position else tokens.shape[1] - 1], dtype=np.int64)}

    def alignment_attention(self, tokens: np.ndarray, audio: AudioContext) -> np.ndarray:
        """Cross-attention weights of the alignment heads, [n_alignment_heads, T, n_audio_ctx] float32,
        for tokens [1, T] (or [T]) decoded in one pass without a cache."""
        tokens = np.asarray(tokens)
        tokens = self._check_tokens(tokens[None] if tokens.ndim == 1 else tokens, audio)
        if tokens.shape[0] != 1:
            raise ValueError(f"alignment_attention takes one sequence, got a batch of {tokens.shape[0]}")
        (alignment,) = self._decoder.run(["alignment"], {"tokens": tokens, **self._logits_from(tokens, False),
                                                         **self.empty_cache(1).feeds(), **audio.feeds()})
        return alignment[0]

    def _check_tokens(self, tokens: np.ndarray, audio: AudioContext) -> np.ndarray:
        tokens = np.ascontiguousarray(tokens, dtype=np.int64)
        if tokens.ndim != 2 or tokens.shape[1] == 0:
            raise ValueError(f"tokens must be int64 [B, T] with T >= 1, got shape {list(tokens.shape)}")
        if audio.batch_size not in (1, tokens.shape[0]):  # batch 1 broadcasts over every beam
            raise ValueError(f"audio batch {audio.batch_size} must be 1 or the tokens batch {tokens.shape[0]}")
        return tokens


def _open(path: Path, options: RuntimeOptions, name: str) -> ort.InferenceSession:
    """A session, or a ModelError naming the file and the fix."""
    fix = f"run `dictate models prepare {name} --force`"
    if not path.is_file():
        raise ModelError(f"{path} is missing; {fix}")
    try:
        return create_session(path, options)
    except (ort.capi.onnxruntime_pybind11_state.Fail,
            ort.capi.onnxruntime_pybind11_state.InvalidProtobuf,
            ort.capi.onnxruntime_pybind11_state.InvalidGraph) as error:
        raise ModelError(f"{path} cannot be loaded ({str(error).splitlines()[0]}); {fix}") from error
