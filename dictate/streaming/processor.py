"""VAD-gated streaming: audio in, events out; the policy runs only while someone speaks.

No threads and no clock: the engine (or a benchmark's simulated clock) feeds
16 kHz blocks. Decodes end on a grid of audio times (every `min_chunk_s` from
the utterance's start) and the final one at the utterance's end, not wherever
a block happened to end, so the text depends on the audio alone: a real-time
run writes what `--fast` writes, as long as the decoder keeps up. One that
falls behind for a moment catches up one grid point per block; one slower than
the grid, or more than `max_behind_s` behind, skips to the newest grid point
(larger chunks instead of a growing lag).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from dictate.audio.vad import SILENCE_DBFS, VAD_CHUNK_S, SpeechEnd, SpeechStart, VadOptions, VoiceActivity, level_dbfs
from dictate.constants import SAMPLE_RATE
from dictate.streaming.events import Event
from dictate.streaming.policies import DEFAULT_POLICY, make_policy
from dictate.streaming.policy import Backend, PolicyOptions

HISTORY_S = 2.0  # audio kept before the newest block, enough for the VAD's confirmation delay and padding


@dataclass(frozen=True)
class ProcessorOptions:
    """When to decode, and the VAD and policy settings."""

    min_chunk_s: float = 0.6  # new speech audio needed before the next decode (0.3: WER 1.5x offline; bench)
    context_pause_s: float = 1.5  # a shorter pause keeps the audio before it as context; a longer one resets
    max_behind_s: float = 1.5  # decodes this far behind the grid skip to its newest point (a loaded machine)
    final_silence_s: float = 0.16  # silence after the speech in the final decode: it is encoded while the VAD waits
    policy_kind: str = DEFAULT_POLICY  # a name in dictate.streaming.policies.POLICIES
    vad: VadOptions = field(default_factory=VadOptions)
    policy: PolicyOptions = field(default_factory=PolicyOptions)

    def __post_init__(self) -> None:
        if self.min_chunk_s <= 0:
            raise ValueError("min_chunk_s must be > 0")
        if self.max_behind_s < 0:
            raise ValueError("max_behind_s must be >= 0")
        if self.vad.min_speech_s + self.vad.speech_pad_s + 0.1 > HISTORY_S:
            raise ValueError(f"min_speech_s + speech_pad_s must stay below {HISTORY_S - 0.1} s")
        if not 0 <= self.context_pause_s <= HISTORY_S:
            raise ValueError(f"context_pause_s must be within [0, {HISTORY_S}] s")
        if not 0 <= self.final_silence_s <= self.vad.min_silence_s:
            raise ValueError("final_silence_s must be within [0, vad.min_silence_s]")


class StreamProcessor:
    """VAD + a streaming policy (LocalAgreement by default) over one continuous audio timeline."""

    def __init__(self, backend: Backend, options: ProcessorOptions = ProcessorOptions(), vad: VoiceActivity | None = None) -> None:
        self.options = options
        self.vad = vad if vad is not None else VoiceActivity(options.vad)
        self.policy = make_policy(options.policy_kind, backend, options.policy, self.vad.speech_probability)
        self._history = np.zeros(0, np.float32)  # the newest audio, ending at self._received
        self._received = 0  # samples fed so far (the timeline, gaps included)
        self._fed = 0  # samples handed to the policy so far
        self._next_decode = 0  # the grid point (sample) where the next decode ends
        self._latest_decode_s = 0.0  # wall seconds of the latest decode
        self.speaking = False
        self.level_db = SILENCE_DBFS  # level of the latest block
        self.last_decode_s = 0.0  # wall seconds the latest feed spent decoding
        self.last_decoded_audio_s = 0.0  # audio seconds that decode covered anew
        self._prepared_for: float | None = None  # the silence (its start, s) whose final decode was prepared

    @property
    def audio_time(self) -> float:
        """Seconds of audio received (the timeline's end)."""
        return self._received / SAMPLE_RATE

    @property
    def decode_window(self) -> tuple[float, float] | None:
        """The audio (start, end s) the policy's decodes see now; None when it holds none."""
        if not self.policy.has_context:
            return None
        return self.policy.buffer_start, self.policy.buffer_end

    @property
    def undecoded_s(self) -> float:
        """Speech audio no decode has seen yet."""
        return self.policy.undecoded_s if self.speaking else 0.0

    def feed(self, samples: np.ndarray) -> list[Event]:
        """Take the next block; return the events it caused: one decode at most while speech goes on; at its end,
        the grid decodes still due before it and the final one."""
        samples = np.asarray(samples, dtype=np.float32)
        self.last_decode_s = self.last_decoded_audio_s = 0.0
        if len(samples) == 0:
            return []
        self.level_db = level_dbfs(samples)
        history = np.concatenate([self._history, samples])
        self._received += len(samples)
        events: list[Event] = []
        for transition in self.vad.push(samples):
            at = int(round(transition.time * SAMPLE_RATE))
            if isinstance(transition, SpeechStart):
                self.speaking = True
                if self.policy.has_context and at - self._fed > self._pause_limit:  # the reset a later block missed
                    events += self.policy.reset()
                elif self.policy.has_context:  # the pause since the last utterance, as context
                    self._to_policy(history, at, pause=True)
                self._fed = max(self._fed, at)
                self._next_decode = at + self._chunk
            elif isinstance(transition, SpeechEnd):
                self._to_policy(history, min(at, self._received))
                silence_from = int(round(transition.silence_from * SAMPLE_RATE))
                while (due := self._due_decode(silence_from)) is not None:  # grid points the speech reached
                    events += self._decode_until(due)
                end = min(transition.time, transition.silence_from + self.options.final_silence_s)
                events += self._timed(lambda t=end: self.policy.finish(speech_end=t))
                self.speaking = False
                self._fed = max(self._fed, at)
        if self.speaking:
            self._to_policy(history, self._received)
            due = self._due_decode(min(self._received, int(round(self.vad.settled_s * SAMPLE_RATE))))
            if due is not None:
                events += self._decode_until(due)
            else:
                self._prepare_final()
        elif self.policy.has_context and self._received - self._fed > self._pause_limit + self._start_backdating:
            events += self.policy.reset()  # no speech start still to come can fall within the pause limit
        self._history = history[-int(HISTORY_S * SAMPLE_RATE) :]
        return events

    def flush(self) -> list[Event]:
        """End the current utterance now (stop, pause, source switch, lost audio)."""
        events: list[Event] = []
        if self.speaking:
            events = self._timed(lambda: self.policy.finish(speech_end=self.audio_time))
        events += self.policy.reset()
        self.speaking = False
        self._fed = self._received
        self.vad.reset()
        return events

    def skip(self, seconds: float) -> list[Event]:
        """Audio that was lost: end the utterance, then move the timeline on by `seconds` of silence."""
        events = self.flush()
        events += self.feed(np.zeros(int(round(seconds * SAMPLE_RATE)), np.float32))
        return events

    @property
    def _pause_limit(self) -> int:
        return int(round(self.options.context_pause_s * SAMPLE_RATE))

    @property
    def _start_backdating(self) -> int:
        """How far before its detection a speech start can lie (samples)."""
        vad = self.options.vad
        return int(round((vad.min_speech_s + vad.speech_pad_s + 2 * VAD_CHUNK_S) * SAMPLE_RATE))  # + a partial chunk

    @property
    def _chunk(self) -> int:
        return int(round(self.options.min_chunk_s * SAMPLE_RATE))

    def _due_decode(self, reached: int) -> int | None:
        """The grid point (sample) the next decode ends at, once the settled speech has `reached` it; else None.

        Settled: a grid point in a pause that may end the utterance waits until the VAD decides, so
        whether it is decoded does not depend on where the blocks ended: speech goes on and it is decoded,
        or the utterance ends and the final decode stands for it (no decode delays the final text). A
        decoder slower than the grid (its latest decode took longer than a chunk of audio lasts) or far
        behind it skips to its newest point: catching up one chunk at a time would only fall further behind.
        """
        if reached < self._next_decode:
            return None
        behind = reached - self._next_decode
        if behind > self.options.max_behind_s * SAMPLE_RATE or self._latest_decode_s > self.options.min_chunk_s:
            self._next_decode += behind // self._chunk * self._chunk
        due, self._next_decode = self._next_decode, self._next_decode + self._chunk
        return due

    def _prepare_final(self) -> None:
        """In a silence that may end the utterance, once `final_silence_s` of it is in: let the policy start on the
        final decode (its encoder) while the VAD waits for `min_silence_s` to decide. Should the speech go on,
        that work is lost; should it end, the final text comes sooner, and is the same."""
        silence_from = self.vad.silence_from
        if silence_from is None or silence_from == self._prepared_for:
            return
        end = silence_from + self.options.final_silence_s
        if self._received < round(end * SAMPLE_RATE) or self._next_decode <= round(silence_from * SAMPLE_RATE):
            return  # not that much silence yet, or a decode before the silence is still due
        self._prepared_for = silence_from
        started = time.perf_counter()
        self.policy.prepare_final(end)
        self.last_decode_s += time.perf_counter() - started

    def _decode_until(self, due: int) -> list[Event]:
        return self._timed(lambda: self.policy.process(until=due / SAMPLE_RATE))

    def _to_policy(self, history: np.ndarray, until: int, pause: bool = False) -> None:
        """Hand the policy the audio in [self._fed, until) (absolute samples) from `history`."""
        history_start = self._received - len(history)
        start = max(self._fed, history_start)
        if until > start:
            insert = self.policy.insert_pause if pause else self.policy.insert_audio
            insert(history[start - history_start : until - history_start], start / SAMPLE_RATE)
            self._fed = until

    def _timed(self, step) -> list[Event]:
        audio_before = self.policy.undecoded_s
        started = time.perf_counter()
        events = step()
        self._latest_decode_s = time.perf_counter() - started
        self.last_decode_s += self._latest_decode_s
        self.last_decoded_audio_s += audio_before - self.policy.undecoded_s
        return events
