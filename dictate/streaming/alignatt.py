"""AlignAtt streaming policy (Papi et al. 2023; as ufal/SimulStreaming): commit what the decoder heard in full.

Each decode is greedy over the padded 30-s window. The alignment heads'
cross-attention tells, for every emitted token, which audio frame it attends
most (z-scored over the tokens, median-filtered along time, averaged over the
heads, as SimulStreaming). The first token attending within `frame_threshold`
encoder frames of the end of the real audio is the *frontier*: the decoder is
guessing from there on. The complete words before the frontier are committed at
once, without waiting for a second hypothesis; the word the frontier cuts, and
the last word of a hypothesis that never reaches the frontier, stay tentative.
An utterance end commits everything (`finish`, inherited).

The rest (prompt, buffer trimming, the 30-s window, loop / hallucination /
consistency guards, held sentence marks) is LocalAgreementPolicy's.

The attention costs no extra model pass: the word timings already run the
alignment heads over the decoded tokens, and `AttentionRecorder` keeps that
result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from dictate.asr.alignment import MEDIAN_FILTER_WIDTH, median_filter
from dictate.asr.transcribe import Recognizer
from dictate.constants import HOP_LENGTH, N_FRAMES
from dictate.streaming.backend import WhisperBackend
from dictate.streaming.hypothesis_buffer import HypothesisBuffer
from dictate.streaming.events import Event
from dictate.streaming.policy import Backend, LocalAgreementPolicy, PolicyOptions, starting_at
from dictate.transcript.types import Word

MEL_FRAMES_PER_AUDIO_FRAME = 2  # the encoder halves the mel frame rate: one attention frame is 20 ms
FRAME_THRESHOLD = 25  # attention frames (20 ms): a token attending this close to the audio end is a guess


@runtime_checkable
class FrontierBackend(Protocol):
    """A `Backend` that also tells which leading words of its latest transcription lie before the frontier."""

    stable: tuple[Word, ...]  # leading words of the latest `transcribe` result heard in full

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float) -> list[Word]: ...


class AttentionRecorder:
    """A `WhisperOnnx` stand-in that keeps the latest alignment-head attention (and its tokens)."""

    def __init__(self, model: object) -> None:
        self.model = model
        self.tokens: list[int] = []
        self.weights: np.ndarray | None = None  # [n_alignment_heads, T, n_audio_ctx]

    def alignment_attention(self, tokens: np.ndarray, audio: object) -> np.ndarray:
        self.weights = self.model.alignment_attention(tokens, audio)
        self.tokens = np.asarray(tokens).reshape(-1).tolist()
        return self.weights

    def clear(self) -> None:
        self.tokens, self.weights = [], None

    def __getattr__(self, name: str) -> object:
        return getattr(self.model, name)


def attended_frames(weights: np.ndarray, content_frames: int) -> np.ndarray:
    """Most attended audio frame of each token row of `weights` [heads, T, frames], within the real audio."""
    kept = weights[:, :, : content_frames + MEDIAN_FILTER_WIDTH // 2].astype(np.float64)
    mean = kept.mean(axis=-2, keepdims=True)
    std = np.maximum(kept.std(axis=-2, keepdims=True), np.finfo(np.float64).tiny)
    smoothed = median_filter((kept - mean) / std, MEDIAN_FILTER_WIDTH).mean(axis=0)
    return smoothed[:, :content_frames].argmax(axis=-1)


def frontier_token(frames: Sequence[int], content_frames: int, frame_threshold: int) -> int:
    """Index of the first token attending within `frame_threshold` frames of the audio end (len: none does)."""
    return next((i for i, frame in enumerate(frames) if content_frames - frame <= frame_threshold), len(frames))


def complete_words(words: Sequence[Word], heard_chars: int) -> int:
    """How many leading `words` fit in the first `heard_chars` characters of their joined text."""
    count = length = 0
    for word in words:
        length += len(word.text)
        if length > heard_chars:
            break
        count += 1
    return count


class AttentionFrontierBackend:
    """`WhisperBackend` plus `stable`: the complete words decoded before the attention frontier.

    Installs an `AttentionRecorder` into the backend's recogniser (once), so the word
    timings' alignment pass is kept and read back.
    """

    def __init__(self, backend: WhisperBackend, frame_threshold: int = FRAME_THRESHOLD) -> None:
        if frame_threshold < 0:
            raise ValueError("frame_threshold must be >= 0")
        recognizer = backend.recognizer
        if not isinstance(recognizer.model, AttentionRecorder):
            backend.recognizer = Recognizer(AttentionRecorder(recognizer.model), recognizer.tokenizer)
        self._backend = backend
        self._recorder: AttentionRecorder = backend.recognizer.model
        self.frame_threshold = frame_threshold
        self.stable: tuple[Word, ...] = ()

    @property
    def lead_in_s(self) -> float:
        return self._backend.lead_in_s

    def prepare(self, audio: np.ndarray, offset: float) -> None:
        self._backend.prepare(audio, offset)

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        self._recorder.clear()
        words = self._backend.transcribe(audio, prompt, offset, beam_size=beam_size)
        content_frames = min(N_FRAMES, len(audio) // HOP_LENGTH) // MEL_FRAMES_PER_AUDIO_FRAME
        self.stable = tuple(words[: self._heard_words(words, content_frames)])
        return words

    def _heard_words(self, words: Sequence[Word], content_frames: int) -> int:
        """Complete words before the frontier; never the last word unless the frontier cuts a later one."""
        tokenizer = self._backend.recognizer.tokenizer
        text = [t for segment in self._backend.last_segments for t in segment.tokens if t < tokenizer.eot]
        recorded = self._recorder.tokens
        first = len(recorded) - 1 - len(text)  # rows: sot sequence, <|notimestamps|>, text, <|endoftext|>
        if not words or self._recorder.weights is None or first < 0 or recorded[first:-1] != text:
            return 0
        frames = attended_frames(self._recorder.weights, content_frames)[first:-1]
        frontier = frontier_token(frames, content_frames, self.frame_threshold)
        heard = complete_words(words, len(tokenizer.decode(text[:frontier])))
        return heard if frontier < len(text) else min(heard, len(words) - 1)


def frontier_backend(backend: Backend) -> FrontierBackend:
    """`backend` itself when it reports a frontier; a `WhisperBackend` wrapped with the attention frontier."""
    if isinstance(backend, FrontierBackend):
        return backend
    if isinstance(backend, WhisperBackend):
        return AttentionFrontierBackend(backend)
    raise TypeError(f"AlignAtt needs a WhisperBackend or a FrontierBackend, got {type(backend).__name__}")


class FrontierBuffer(HypothesisBuffer):
    """Hypothesis bookkeeping whose `flush` commits the new words heard in full (no agreement needed)."""

    def __init__(self, committed_time: float = 0.0) -> None:
        super().__init__(committed_time)
        self.heard: frozenset[Word] = frozenset()  # the latest hypothesis' words before the frontier

    def flush(self) -> list[Word]:
        """Commit the leading new words that lie before the frontier; the rest is tentative."""
        count = next((i for i, word in enumerate(self._new) if word not in self.heard), len(self._new))
        commit, self._previous = self._new[:count], self._new[count:]
        self._new, self._has_new = [], False
        self._record(commit)
        return commit


class AlignAttPolicy(LocalAgreementPolicy):
    """LocalAgreementPolicy with AlignAtt's commit rule: words before the attention frontier, at once."""

    def __init__(
        self,
        backend: Backend,
        options: PolicyOptions = PolicyOptions(),
        speech_probability: Callable[[float, float], float] | None = None,
    ) -> None:
        """`speech_probability` None: every span counts as speech (LocalAgreementPolicy's default)."""
        self._frontier = frontier_backend(backend)
        if speech_probability is None:
            super().__init__(self._frontier, options)
        else:
            super().__init__(self._frontier, options, speech_probability)
        self._hypothesis = FrontierBuffer()

    def reset(self) -> list[Event]:
        events = super().reset()
        self._hypothesis = FrontierBuffer(self._hypothesis.committed_time)
        return events

    def _decode(self, since: float | None = None, until: float | None = None, beam_size: int = 1,
                known: Sequence[Word] = ()) -> list[Word]:
        words = super()._decode(since, until, beam_size, known)
        self._hypothesis.heard = frozenset(starting_at(self._frontier.stable, self._offset))
        return words
