"""PortAudio really records a PulseAudio source: the path a user's microphone takes."""

from __future__ import annotations

import numpy as np
import sounddevice as sd
import soundfile as sf

from dictate.constants import SAMPLE_RATE

PULSE_DEVICE = "pulse"
RECORD_SECONDS = 16


def test_sounddevice_records_speech_played_into_the_virtual_microphone(pulse_server, jfk_wav):
    speech, rate = sf.read(jfk_wav, dtype="float32")
    recorded = sd.rec(RECORD_SECONDS * SAMPLE_RATE, samplerate=SAMPLE_RATE, channels=1,
                      dtype="float32", device=PULSE_DEVICE)
    player = pulse_server.play(jfk_wav)
    player.wait(timeout=30)
    sd.wait()
    recorded = recorded[:, 0]
    assert rate == SAMPLE_RATE
    # The recording carries the speech: same loudness within a factor of two...
    speech_rms = float(np.sqrt(np.mean(speech**2)))
    recorded_rms = float(np.sqrt(np.mean(recorded**2)))
    assert 0.5 * speech_rms < recorded_rms < 2.0 * speech_rms
    # ...and the same loudness contour (20-ms frames): the speech itself, not noise.
    recorded_envelope, speech_envelope = _envelope(recorded), _envelope(speech)
    correlation = np.correlate(recorded_envelope - recorded_envelope.mean(),
                               speech_envelope - speech_envelope.mean(), "valid")
    best = int(np.argmax(correlation))
    aligned = recorded_envelope[best : best + speech_envelope.size]
    assert np.corrcoef(aligned, speech_envelope)[0, 1] > 0.9


def _envelope(audio: np.ndarray, frame: int = SAMPLE_RATE // 50) -> np.ndarray:
    frames = audio[: audio.size // frame * frame].reshape(-1, frame)
    return np.sqrt(np.mean(frames**2, axis=1))
