"""The pure streaming policy: LocalAgreement-2 over a growing audio buffer (after ufal/whisper_streaming).

It sees the recogniser only through `Backend` and knows no clock and no
threads, so it is tested with a fake backend, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dictate.constants import CHUNK_LENGTH, SAMPLE_RATE
from dictate.streaming.events import Committed, Event, Tentative, UtteranceEnd
from dictate.streaming.guards import is_known_hallucination, loop_start
from dictate.streaming.hypothesis_buffer import HypothesisBuffer
from dictate.transcript.types import Word

SENTENCE_ENDS = (".", "?", "!", "…")
HALLUCINATION_SPEECH_PROBABILITY = 0.35  # below this VAD probability a known hallucination is dropped


class Backend(Protocol):
    """A recogniser of one window: timed words (absolute seconds) for `audio` starting at `offset`."""

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float) -> list[Word]: ...


class StreamingPolicy(Protocol):
    """What the engine drives: audio in, events out."""

    def insert_audio(self, audio: np.ndarray, start: float) -> None: ...

    def process(self) -> list[Event]: ...

    def finish(self, speech_end: float | None = None) -> list[Event]: ...


@dataclass(frozen=True)
class PolicyOptions:
    """Knobs of `LocalAgreementPolicy` (seconds unless named otherwise)."""

    prompt_chars: int = 200  # committed text fed back as the decoding prompt
    trim_after_s: float = 15.0  # buffer length beyond which it is cut at a committed sentence end
    max_buffer_s: float = 25.0  # buffer length beyond which it is cut at the last committed word
    max_window_s: float = float(CHUNK_LENGTH) - 1.0  # never decode more than this: Whisper sees 30 s

    def __post_init__(self) -> None:
        if not 0 < self.trim_after_s <= self.max_buffer_s <= self.max_window_s <= CHUNK_LENGTH:
            raise ValueError("need 0 < trim_after_s <= max_buffer_s <= max_window_s <= 30 s")
        if self.prompt_chars < 0:
            raise ValueError("prompt_chars must be >= 0")


def _always_speech(start: float, end: float) -> float:
    return 1.0


class LocalAgreementPolicy:
    """Commit the longest common prefix of two consecutive hypotheses; commit all at an utterance end."""

    def __init__(
        self,
        backend: Backend,
        options: PolicyOptions = PolicyOptions(),
        speech_probability: Callable[[float, float], float] = _always_speech,
    ) -> None:
        self._backend = backend
        self._options = options
        self._speech_probability = speech_probability  # max VAD probability over [start, end) s
        self._audio = np.zeros(0, dtype=np.float32)
        self._offset = 0.0  # audio time (s) of self._audio[0]
        self._decoded_until = 0.0  # audio time covered by the last decode
        self._hypothesis = HypothesisBuffer()
        self._committed: list[Word] = []  # every committed word, for the prompt
        self._prompt_floor = 0  # committed words before this index never go into the prompt
        self._tentative: tuple[Word, ...] = ()

    @property
    def buffer_end(self) -> float:
        """Audio time (s) at the end of the inserted audio."""
        return self._offset + len(self._audio) / SAMPLE_RATE

    @property
    def undecoded_s(self) -> float:
        """Seconds of inserted audio no decode has seen yet."""
        return self.buffer_end - self._decoded_until

    def insert_audio(self, audio: np.ndarray, start: float) -> None:
        """Append audio whose first sample is at `start` s; a gap is filled with silence, an empty buffer moves."""
        if len(self._audio) == 0:
            self._offset = self._decoded_until = start
            self._hypothesis.committed_time = max(self._hypothesis.committed_time, start)
        gap = int(round((start - self.buffer_end) * SAMPLE_RATE))
        parts = [self._audio, np.zeros(max(gap, 0), dtype=np.float32), np.asarray(audio, dtype=np.float32)]
        self._audio = np.concatenate(parts)

    def process(self) -> list[Event]:
        """Decode the buffer once; commit what two hypotheses agree on; trim the buffer."""
        if self.undecoded_s <= 0:
            return []
        events = self._enforce_window()
        self._hypothesis.insert(self._decode())
        events += self._commit(self._hypothesis.flush())
        self._trim()
        return events + self._tentative_event(self._hypothesis.tentative)

    def finish(self, speech_end: float | None = None) -> list[Event]:
        """Final decode of the utterance, commit all of it, and start afresh after it."""
        end = self.buffer_end
        events: list[Event] = []
        if self.undecoded_s > 0:
            events += self._enforce_window()
            self._hypothesis.insert(self._decode())
        events += self._commit(self._hypothesis.flush_all())
        self._audio = np.zeros(0, dtype=np.float32)
        self._offset = self._decoded_until = end
        self._hypothesis = HypothesisBuffer(committed_time=max(end, self._hypothesis.committed_time))
        events += self._tentative_event(())
        return events + [UtteranceEnd(speech_end if speech_end is not None else end)]

    def _decode(self) -> list[Word]:
        words = self._backend.transcribe(self._audio, self._prompt(), self._offset)
        self._decoded_until = self.buffer_end
        loop = loop_start(words)
        if loop is not None:
            words = words[:loop]
            self._prompt_floor = len(self._committed)  # a looping prompt must not feed the next decode
        fresh = [word for word in words if word.end > self._hypothesis.committed_time]
        if is_known_hallucination(fresh) and self._speech_probability(fresh[0].start, fresh[-1].end) < (
            HALLUCINATION_SPEECH_PROBABILITY
        ):
            return [word for word in words if word not in fresh]
        return words

    def _prompt(self) -> str:
        """The last `prompt_chars` of committed text whose audio already left the buffer."""
        chosen: list[str] = []
        length = 0
        for word in reversed(self._committed[self._prompt_floor :]):
            if length >= self._options.prompt_chars:
                break
            if word.end <= self._offset:
                chosen.append(word.text)
                length += len(word.text)
        return "".join(reversed(chosen)).strip()

    def _commit(self, words: Sequence[Word]) -> list[Event]:
        if not words:
            return []
        self._committed.extend(words)
        return [Committed(tuple(words))]

    def _tentative_event(self, words: tuple[Word, ...]) -> list[Event]:
        if words == self._tentative:
            return []
        self._tentative = words
        return [Tentative(words)]

    def _trim(self) -> None:
        """Cut the buffer at a committed sentence end (long buffer) or the last committed word (too long)."""
        length = self.buffer_end - self._offset
        in_buffer = [word for word in self._committed if word.end > self._offset]
        if length > self._options.trim_after_s:
            sentence_ends = [word.end for word in in_buffer if word.text.rstrip().endswith(SENTENCE_ENDS)]
            if sentence_ends:
                self._cut_at(sentence_ends[-1])
                return
        if length > self._options.max_buffer_s and in_buffer:
            self._cut_at(in_buffer[-1].end)

    def _enforce_window(self) -> list[Event]:
        """Before a decode: never give the backend more than `max_window_s`; commit what falls out."""
        cut = self.buffer_end - self._options.max_window_s
        if cut <= self._offset:
            return []
        leaving = [word for word in self._hypothesis.tentative if word.end <= cut]
        self._hypothesis.insert(leaving)
        events = self._commit(self._hypothesis.flush_all())
        self._cut_at(cut)
        return events

    def _cut_at(self, time: float) -> None:
        drop = int(round((time - self._offset) * SAMPLE_RATE))
        if drop <= 0:
            return
        self._audio = self._audio[drop:]
        self._offset += drop / SAMPLE_RATE
        self._hypothesis.drop_committed_before(self._offset)
