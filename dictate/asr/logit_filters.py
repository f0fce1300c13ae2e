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


def log_normaliser(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(peak, log of the sum of exp(logits - peak)) per row, both [..., 1]:
    log_softmax(logits) == (logits - peak) - log_sum, so a few entries' logprobs need no full array."""
    peak = np.max(logits, axis=-1, keepdims=True)
    return peak, np.log(np.sum(np.exp(logits - peak), axis=-1, keepdims=True))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis (rows of -inf stay finite-safe)."""
    peak, log_sum = log_normaliser(logits)
    return (logits - peak) - log_sum


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
        sampled = tokens[:, self.sample_begin :]
        if sampled.shape[1]:
            is_timestamp = sampled >= begin
            last_was_timestamp = is_timestamp[:, -1]
            penultimate_was_timestamp = is_timestamp[:, -2] if sampled.shape[1] >= 2 else np.ones_like(last_was_timestamp)
            open_pair = last_was_timestamp & ~penultimate_was_timestamp
            logits[last_was_timestamp & penultimate_was_timestamp, begin:] = -np.inf  # a pair closed: text or eot next
            logits[open_pair, : self.eot] = -np.inf  # an open pair: close it or end, no text
            # never go back in time; a closing timestamp may repeat the opening one's position
            # only when it closes a pair, otherwise segments must have nonzero length
            rows = np.arange(len(sampled))
            last_timestamp = sampled[rows, sampled.shape[1] - 1 - np.argmax(is_timestamp[:, ::-1], axis=1)]
            first_allowed = np.where(open_pair, last_timestamp, last_timestamp + 1)
            first_allowed = np.where(is_timestamp.any(axis=1), first_allowed, begin)
            timestamps = logits[:, begin:]
            timestamps[np.arange(begin, logits.shape[1]) < first_allowed[:, None]] = -np.inf
        else:
            logits[:, :begin] = -np.inf
            if self.max_initial_timestamp_index is not None:
                logits[:, begin + self.max_initial_timestamp_index + 1 :] = -np.inf
        # the timestamps' total probability (logsumexp, as openai-whisper) against the likeliest text token's;
        # both sides share the row's log-normaliser, so only the exp of the timestamp slice is needed
        peak = np.max(logits, axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):  # every timestamp forbidden: -inf
            timestamp_logprob = np.log(np.sum(np.exp(logits[:, begin:] - peak), axis=-1))
        max_text_logprob = np.max(logits[:, :begin], axis=-1) - peak[:, 0]
        logits[timestamp_logprob > max_text_logprob, :begin] = -np.inf
