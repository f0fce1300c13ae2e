"""Decoding real speech written at other rates, channel counts and formats; clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from dictate.audio.loading import AudioFileError, iter_audio_blocks, load_audio
from dictate.constants import SAMPLE_RATE


@pytest.fixture(scope="module")
def jfk_audio(jfk_wav: Path) -> np.ndarray:
    audio, rate = soundfile.read(jfk_wav, dtype="float32")
    assert rate == SAMPLE_RATE
    return audio


def _write_variant(folder: Path, audio: np.ndarray, rate: int, channels: int, fmt: str, subtype: str) -> Path:
    """JFK resampled to `rate`; a second channel at half level (so the mono mix is 0.75 x the speech)."""
    samples = soxr.resample(audio, SAMPLE_RATE, rate, quality="VHQ")
    if channels == 2:
        samples = np.stack([samples, 0.5 * samples], axis=1)
    path = folder / f"jfk_{rate}_{channels}ch_{subtype.lower()}.{fmt.lower()}"
    soundfile.write(path, samples, rate, format=fmt, subtype=subtype)
    return path


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


VARIANTS = [
    # rate, channels, format, subtype, minimum correlation with the 16 kHz original
    (8_000, 1, "WAV", "PCM_16", 0.999),  # speech above 4 kHz is lost, little energy there
    (48_000, 2, "WAV", "PCM_24", 0.9999),
    (44_100, 2, "FLAC", "PCM_24", 0.9999),
    (48_000, 1, "OGG", "VORBIS", 0.99),  # lossy
    (44_100, 1, "MP3", "MPEG_LAYER_III", 0.99),  # lossy
]


@pytest.mark.parametrize(("rate", "channels", "fmt", "subtype", "min_correlation"), VARIANTS)
def test_load_audio_resamples_and_downmixes_real_speech(
    tmp_path: Path, jfk_audio: np.ndarray, rate: int, channels: int, fmt: str, subtype: str, min_correlation: float
) -> None:
    path = _write_variant(tmp_path, jfk_audio, rate, channels, fmt, subtype)
    loaded = load_audio(path)
    assert loaded.dtype == np.float32 and loaded.ndim == 1
    assert len(loaded) == len(jfk_audio)
    assert _correlation(loaded, jfk_audio) > min_correlation
    expected_level = 0.75 if channels == 2 else 1.0
    level = np.std(loaded) / np.std(jfk_audio)
    assert level == pytest.approx(expected_level, rel=0.02)


def test_load_audio_keeps_16k_mono_unchanged(jfk_wav: Path, jfk_audio: np.ndarray) -> None:
    np.testing.assert_array_equal(load_audio(jfk_wav), jfk_audio)


@pytest.mark.parametrize(
    ("rate", "channels", "fmt", "subtype"), [(48_000, 2, "WAV", "PCM_24"), (8_000, 1, "FLAC", "PCM_16")]
)
def test_blocks_concatenate_to_the_whole_file(
    tmp_path: Path, jfk_audio: np.ndarray, rate: int, channels: int, fmt: str, subtype: str
) -> None:
    path = _write_variant(tmp_path, jfk_audio, rate, channels, fmt, subtype)
    blocks = list(iter_audio_blocks(path, block_seconds=1.3))
    assert len(blocks) >= 8
    assert all(len(block) <= 1.5 * SAMPLE_RATE for block in blocks)  # bounded, never the whole file at once
    joined = np.concatenate(blocks)
    whole = load_audio(path)
    assert len(joined) == len(whole)
    np.testing.assert_allclose(joined, whole, atol=1e-4)


def test_blocks_of_a_16k_file_are_the_samples(jfk_wav: Path, jfk_audio: np.ndarray) -> None:
    blocks = list(iter_audio_blocks(jfk_wav, block_seconds=2.0))
    assert [len(block) for block in blocks[:-1]] == [2 * SAMPLE_RATE] * 5
    np.testing.assert_array_equal(np.concatenate(blocks), jfk_audio)


def _assert_clear_error(path: Path, fragment: str) -> None:
    for read in (load_audio, lambda p: list(iter_audio_blocks(p))):
        with pytest.raises(AudioFileError) as caught:
            read(path)
        message = str(caught.value)
        assert str(path) in message
        assert fragment in message
        assert message.endswith(".") and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    _assert_clear_error(tmp_path / "nowhere.wav", "does not exist")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    _assert_clear_error(tmp_path, "is a folder")


def test_non_audio_bytes(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_bytes(b"These are meeting notes, not a recording.\n" * 40)
    _assert_clear_error(path, "not an audio file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    _assert_clear_error(path, "is empty")


def test_zero_frames(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(0, np.float32), SAMPLE_RATE)
    _assert_clear_error(path, "no audio")


def test_truncated_header(tmp_path: Path, jfk_wav: Path) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes(jfk_wav.read_bytes()[:30])
    _assert_clear_error(path, "not an audio file")
