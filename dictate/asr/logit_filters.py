"""Logit filters applied before each decoding step, and stable (log-)softmax in numpy.

Each filter edits `logits` [n_beams, n_vocab] in place, given the tokens so far
[n_beams, T] (prompt + sot sequence + sampled tokens). Semantics follow
openai-whisper's `decoding.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from dictate.asr.tokenizer import Tokenizer


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis (rows of -inf stay finite-safe)."""
    peak = np.max(logits, axis=-1, keepdims=True)
    shifted = logits - peak
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis."""
    exp = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return exp / np.sum(exp, axis=-1, keepdims=True)


class LogitFilter(Protocol):
    def apply(self, logits: np.ndarray, tokens: np.ndarray) -> None:
        """Mask `logits` in place given the token rows decoded so far."""


class SuppressBlank:
    """At the first sampled position, forbid a blank (" ") and `<|endoftext|>`."""

    def __init__(self, blank_ids: Iterable[int], sample_begin: int) -> None:
        self.ids = np.fromiter(blank_ids, dtype=np.int64)
        self.sample_begin = sample_begin

    def apply(self, logits: np.ndarray, tokens: np.ndarray) -> None:
        if tokens.shape[1] == self.sample_begin:
            logits[:, self.ids] = -np.inf


class SuppressTokens:
    """Forbid a fixed set of tokens at every step."""

    def __init__(self, ids: Iterable[int]) -> None:
        self.ids = np.array(sorted(set(ids)), dtype=np.int64)

    def apply(self, logits: np.ndarray, tokens: np.ndarray) -> None:
        logits[:, self.ids] = -np.inf


class ApplyTimestampRules:
    """Whisper's timestamp grammar.

    Timestamps come in pairs (except right before `<|endoftext|>`), never decrease,
    the first sampled token is a timestamp no later than `max_initial_timestamp_index`,
    and a timestamp is forced when the timestamps' total probability beats every text token.
    """

    def __init__(self, tokenizer: Tokenizer, sample_begin: int, max_initial_timestamp_index: int | None) -> None:
        self.eot = tokenizer.eot
        self.no_timestamps = tokenizer.no_timestamps
        self.timestamp_begin = tokenizer.timestamp_begin
        self.sample_begin = sample_begin
        self.max_initial_timestamp_index = max_initial_timestamp_index

    def apply(self, logits: np.ndarray, tokens: np.ndarray) -> None:
        begin = self.timestamp_begin
        logits[:, self.no_timestamps] = -np.inf
        for row, sequence in enumerate(tokens[:, self.sample_begin :]):
            last_was_timestamp = len(sequence) >= 1 and sequence[-1] >= begin
            penultimate_was_timestamp = len(sequence) < 2 or sequence[-2] >= begin
            if last_was_timestamp:
                if penultimate_was_timestamp:  # a pair just closed: text (or eot) must follow
                    logits[row, begin:] = -np.inf
                else:  # an open pair: close it or end, no text
                    logits[row, : self.eot] = -np.inf
            timestamps = sequence[sequence >= begin]
            if timestamps.size:
                # never go back in time; a closing timestamp may repeat the opening one's position
                # only when it closes a pair, otherwise segments must have nonzero length
                last = timestamps[-1] if last_was_timestamp and not penultimate_was_timestamp else timestamps[-1] + 1
                logits[row, begin:last] = -np.inf
        if tokens.shape[1] == self.sample_begin:
            logits[:, :begin] = -np.inf
            if self.max_initial_timestamp_index is not None:
                logits[:, begin + self.max_initial_timestamp_index + 1 :] = -np.inf
        logprobs = log_softmax(logits)
        timestamp_logprob = np.logaddexp.reduce(logprobs[:, begin:], axis=-1)
        max_text_logprob = np.max(logprobs[:, :begin], axis=-1)
        logits[timestamp_logprob > max_text_logprob, :begin] = -np.inf
