"""Silero VAD with hysteresis on real speech, digital silence and white noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dictate.audio.loading import load_audio
from dictate.audio.vad import SpeechEnd, SpeechStart, VadOptions, VoiceActivity, silero_model
from dictate.constants import SAMPLE_RATE


class CountingModel:
    """The real Silero model, counting how often the network runs."""

    def __init__(self) -> None:
        self.model = silero_model()
        self.calls = 0

    def process_samples(self, samples: np.ndarray) -> float:
        self.calls += 1
        return self.model.process_samples(samples)

    def reset(self) -> None:
        self.model.reset()


@pytest.fixture(scope="module")
def jfk(jfk_wav: Path) -> np.ndarray:
    return load_audio(jfk_wav)


def test_jfk_speech_is_found_with_its_pauses(jfk: np.ndarray) -> None:
    vad = VoiceActivity()
    transitions = vad.push(np.concatenate([jfk, np.zeros(SAMPLE_RATE, np.float32)]))
    starts = [t.time for t in transitions if isinstance(t, SpeechStart)]
    ends = [t.time for t in transitions if isinstance(t, SpeechEnd)]
    assert len(starts) == len(ends) >= 2  # "... fellow Americans, | ask not ..." has audible pauses
    assert starts[0] < 0.5 and 10.0 < ends[-1] < 11.5
    times = [t.time for t in transitions]
    assert times == sorted(times)
    assert not vad.speaking
    assert vad.speech_probability(4.0, 5.0) > 0.9 and vad.speech_probability(0.0, 0.05) < 0.35


def test_block_size_does_not_change_the_decisions(jfk: np.ndarray) -> None:
    whole = VoiceActivity().push(jfk)
    vad = VoiceActivity()
    pieces = []
    for start in range(0, len(jfk), 1234):
        pieces += vad.push(jfk[start : start + 1234])
    assert pieces == whole


def test_digital_silence_is_silence_without_running_the_network() -> None:
    model = CountingModel()
    vad = VoiceActivity(model=model)
    assert vad.push(np.zeros(60 * SAMPLE_RATE, np.float32)) == []
    assert model.calls == 0
    assert vad.time == pytest.approx(60.0, abs=0.04)


def test_white_noise_is_not_speech() -> None:
    noise = (np.random.default_rng(0).standard_normal(60 * SAMPLE_RATE) * 0.1).astype(np.float32)
    model = CountingModel()
    vad = VoiceActivity(model=model)
    assert vad.push(noise) == []
    assert model.calls > 300  # the network did look at the noise (until the background level was learnt)


def test_steady_room_noise_skips_the_network_and_speech_in_it_is_still_found(jfk: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    noise_s, rms = 20, 0.003  # about -50 dBFS: a quiet room through a laptop microphone
    room = (rng.standard_normal((noise_s + 1) * SAMPLE_RATE + len(jfk)) * rms).astype(np.float32)
    audio = room.copy()
    audio[noise_s * SAMPLE_RATE : noise_s * SAMPLE_RATE + len(jfk)] += jfk
    model = CountingModel()
    transitions = VoiceActivity(model=model).push(audio)
    noise_model = CountingModel()
    assert VoiceActivity(model=noise_model).push(room) == []
    assert noise_model.calls < 0.2 * len(room) / 512  # the background is learnt, then skipped
    starts = [t.time - noise_s for t in transitions if isinstance(t, SpeechStart)]
    clean = [t.time for t in VoiceActivity().push(jfk) if isinstance(t, SpeechStart)]
    assert len(starts) == len(clean) and np.allclose(starts, clean, atol=0.15)
    assert isinstance(transitions[-1], SpeechEnd)


def test_short_bursts_below_min_speech_are_ignored(jfk: np.ndarray) -> None:
    burst = jfk[int(4.0 * SAMPLE_RATE) : int(4.15 * SAMPLE_RATE)]  # 150 ms of speech
    audio = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), burst, np.zeros(SAMPLE_RATE, np.float32)])
    assert VoiceActivity(VadOptions(min_speech_s=0.25)).push(audio) == []


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        VadOptions(on_threshold=0.3, off_threshold=0.5)
