"""Where in the sound a word came from: the decoder's cross-attention (alignment heads) while it writes the word.

The committed words around the word are decoded again as a forced text over their stretch of
audio (CONTEXT_S on each side); the attention rows of the word's tokens, averaged, give a
weight for each 20 ms of that audio. Its peak falls inside the word (what word timings use).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dictate.asr.alignment import attention_matrix
from dictate.asr.transcribe import Recognizer, window_mel
from dictate.constants import TOKENS_PER_SECOND
from dictate.transcript.types import Word

CONTEXT_S = 2.0  # audio on each side of the word


@dataclass(frozen=True)
class WordAttention:
    """The attention over `audio` (16 kHz, from `start` s of the session): one weight per 20 ms."""

    start: float
    audio: np.ndarray
    weights: np.ndarray

    def peak_time(self) -> float:
        """The session time the word's attention is highest at."""
        return self.start + (int(np.argmax(self.weights)) + 0.5) / TOKENS_PER_SECOND


def word_attention(recognizer: Recognizer, audio_at: Callable[[float, float], np.ndarray], words: Sequence[Word],
                   index: int, language: str = "en") -> WordAttention:
    """The attention for `words[index]` among the committed `words` (session times)."""
    start = max(0.0, words[index].start - CONTEXT_S)
    end = words[index].end + CONTEXT_S
    inside = [i for i, word in enumerate(words) if word.start >= start and word.end <= end]
    model, tokenizer = recognizer.model, recognizer.tokenizer
    before = tokenizer.encode("".join(words[i].text for i in inside if i < index))
    own = tokenizer.encode(words[index].text)
    after = tokenizer.encode("".join(words[i].text for i in inside if i > index))
    audio = audio_at(start, end)
    mel, frames = window_mel(audio, model.info.n_mels)
    encoded = model.encode(mel[None])
    matrix = attention_matrix(model, encoded, tokenizer, tokenizer.sot_sequence(language), [*before, *own, *after],
                              frames)
    weights = matrix[len(before) : len(before) + len(own)].mean(axis=0)
    return WordAttention(start, audio, weights)
