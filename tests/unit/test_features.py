"""Log-mel parity with faster-whisper's numpy port of Whisper's torch computation, and incremental == batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from faster_whisper.feature_extractor import FeatureExtractor
from hypothesis import given, settings
from hypothesis import strategies as st

from dictate.audio.features import (
    IncrementalLogMel,
    log_mel_frames,
    log_mel_spectrogram,
    mel_filters,
    normalize_log_mel,
    pad_or_trim,
)
from dictate.constants import HOP_LENGTH, N_FRAMES, N_SAMPLES, SAMPLE_RATE

PARITY_TOLERANCE = 1e-4  # normalised log-mel units
INCREMENTAL_TOLERANCE = 1e-5  # raw log10 units


@pytest.fixture(scope="session")
def jfk_audio(jfk_wav: Path) -> np.ndarray:
    audio, rate = soundfile.read(jfk_wav, dtype="float32")
    assert rate == SAMPLE_RATE
    return audio


@pytest.mark.parametrize("n_mels", [80, 128])
def test_filter_bank_matches_librosa_slaney(n_mels: int) -> None:
    reference = FeatureExtractor.get_mel_filters(SAMPLE_RATE, 400, n_mels=n_mels)
    np.testing.assert_allclose(mel_filters(n_mels), reference, atol=1e-7)


@pytest.mark.parametrize("n_mels", [80, 128])
def test_batch_matches_faster_whisper_on_speech_with_window_padding(jfk_audio: np.ndarray, n_mels: int) -> None:
    reference = FeatureExtractor(feature_size=n_mels)(jfk_audio, padding=N_SAMPLES)
    ours = log_mel_spectrogram(jfk_audio, n_mels=n_mels, padding=N_SAMPLES)
    assert ours.dtype == np.float32
    assert ours.shape == reference.shape == (n_mels, (len(jfk_audio) + N_SAMPLES) // HOP_LENGTH)
    np.testing.assert_allclose(ours, reference, atol=PARITY_TOLERANCE)


def test_batch_matches_faster_whisper_without_padding(jfk_audio: np.ndarray) -> None:
    clip = jfk_audio[: 3 * SAMPLE_RATE + 77]  # not a whole number of hops
    reference = FeatureExtractor(feature_size=80)(clip, padding=0)
    np.testing.assert_allclose(log_mel_spectrogram(clip), reference, atol=PARITY_TOLERANCE)


def test_normalisation_clamps_to_eight_below_the_window_maximum(jfk_audio: np.ndarray) -> None:
    raw = log_mel_frames(jfk_audio, padding=N_SAMPLES)  # the zero padding sits at the 1e-10 floor
    assert raw.min() == pytest.approx(-10.0)
    normalised = normalize_log_mel(raw)
    assert normalised.max() == pytest.approx((raw.max() + 4) / 4)
    assert normalised.min() == pytest.approx((raw.max() - 8 + 4) / 4)


@pytest.mark.parametrize("length", [0, 5, 201, 1_000, 3 * SAMPLE_RATE + 77])
@pytest.mark.parametrize("padding", [201, 202, 300, N_SAMPLES])
def test_appended_silence_is_not_transformed_but_equals_the_computed_frames(
    jfk_audio: np.ndarray, length: int, padding: int
) -> None:
    """Frames that see only the appended zeros (the end reflection too) take the silent value bit for bit."""
    clip = jfk_audio[SAMPLE_RATE : SAMPLE_RATE + length]  # speech up to its last sample
    computed = log_mel_frames(np.concatenate([clip, np.zeros(padding, np.float32)]))  # no padding: all FFT
    skipped = log_mel_frames(clip, padding=padding)
    assert skipped.shape == computed.shape
    audible = -(-(length + 200) // HOP_LENGTH)  # the later frames' windows start past the last sample
    np.testing.assert_array_equal(skipped[:, audible:], computed[:, audible:])
    np.testing.assert_allclose(skipped, computed, atol=INCREMENTAL_TOLERANCE)


def test_short_audio_gives_whole_hops_of_frames() -> None:
    assert log_mel_spectrogram(np.zeros(HOP_LENGTH - 1, np.float32)).shape == (80, 0)
    assert log_mel_spectrogram(np.zeros(0, np.float32), padding=HOP_LENGTH).shape == (80, 1)


def test_pad_or_trim_along_any_axis() -> None:
    mel = np.ones((80, 120), np.float32)
    padded = pad_or_trim(mel)
    assert padded.shape == (80, N_FRAMES)
    assert padded[:, :120].all() and not padded[:, 120:].any()
    assert pad_or_trim(np.ones((5000, 80)), axis=0).shape == (N_FRAMES, 80)


def _complete_frames(n_samples: int) -> int:
    """Frames k with samples up to k * HOP_LENGTH + 199 (frame 0 reflects samples 1..200, so needs 201)."""
    if n_samples <= 200:
        return 0
    return (n_samples - 200) // HOP_LENGTH + 1


def _run_incremental(audio: np.ndarray, chunk_sizes: list[int], n_mels: int = 80) -> np.ndarray:
    features = IncrementalLogMel(n_mels)
    pieces, position = [], 0
    for size in chunk_sizes:
        pushed_before = features.frames_emitted
        new = features.push(audio[position : position + size])
        pieces.append(new)
        position += size
        assert new.shape[1] == features.frames_emitted - pushed_before
        # exactly the frames whose window (centre +- N_FFT / 2, start reflected) lies in the pushed samples
        assert features.frames_emitted == _complete_frames(features.samples_pushed)
    pieces.append(features.push(audio[position:]))
    pieces.append(features.finish())
    return np.concatenate(pieces, axis=1)


@settings(max_examples=150, deadline=None)
@given(
    offset=st.integers(0, 150_000),
    length=st.integers(0, 12_000),
    chunk_sizes=st.lists(st.integers(0, 2_500), max_size=30),
)
def test_incremental_equals_batch_for_any_chunking(
    jfk_audio: np.ndarray, offset: int, length: int, chunk_sizes: list[int]
) -> None:
    audio = jfk_audio[offset : offset + length]
    ours = _run_incremental(audio, chunk_sizes)
    batch = log_mel_frames(audio)
    assert ours.shape == batch.shape
    np.testing.assert_allclose(ours, batch, atol=INCREMENTAL_TOLERANCE)


def test_incremental_equals_batch_on_whole_recording_in_capture_sized_blocks(jfk_audio: np.ndarray) -> None:
    block = 512  # a typical audio-callback block
    ours = _run_incremental(jfk_audio, [block] * (len(jfk_audio) // block), n_mels=128)
    np.testing.assert_allclose(ours, log_mel_frames(jfk_audio, n_mels=128), atol=INCREMENTAL_TOLERANCE)


def test_a_reused_input_buffer_does_not_change_earlier_frames(jfk_audio: np.ndarray) -> None:
    features, block = IncrementalLogMel(), np.empty(128, np.float32)  # an audio callback may reuse its buffer
    audio = jfk_audio[SAMPLE_RATE : SAMPLE_RATE + 60 * len(block)]  # speech, not the leading silence
    pieces = []
    for position in range(0, len(audio), len(block)):
        block[:] = audio[position : position + len(block)]
        pieces.append(features.push(block))
    pieces.append(features.finish())
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), log_mel_frames(audio), atol=INCREMENTAL_TOLERANCE)


def test_frames_arrive_as_soon_as_their_window_is_complete(jfk_audio: np.ndarray) -> None:
    features = IncrementalLogMel()
    assert features.push(jfk_audio[:200]).shape[1] == 0  # frame 0 reflects samples 1..200
    assert features.push(jfk_audio[200:201]).shape[1] == 1
    assert features.push(jfk_audio[201:359]).shape[1] == 0
    assert features.push(jfk_audio[359:360]).shape[1] == 1  # frame 1 spans samples -40..359
    features.finish()
    with pytest.raises(RuntimeError):
        features.push(jfk_audio[:10])
