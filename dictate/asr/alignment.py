"""Word timestamps by dynamic time warping over the alignment heads' cross-attention.

Follows openai-whisper's `timing.py`: the attention weights of the alignment heads for
sot sequence + <|notimestamps|> + text + <|endoftext|> are z-scored per head over the
tokens, median-filtered along time, averaged over heads; DTW of the negated matrix
maps tokens to audio positions; tokens are grouped into words; punctuation is merged
into its neighbours; and overlong words at pauses and sentence ends are clipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from dictate.asr.tokenizer import Tokenizer
from dictate.constants import TOKENS_PER_SECOND
from dictate.transcript.types import Segment, Word

MEDIAN_FILTER_WIDTH = 7  # audio positions (of 20 ms)
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
SENTENCE_END_MARKS = ".。!！?？"
MAX_MEDIAN_WORD_SECONDS = 0.7  # cap of the median word duration used by the clipping heuristics
PAUSE_MEDIANS = 4  # a first word this many median durations after the last speech follows a pause
SEGMENT_EDGE_SLACK_SECONDS = 0.5  # how far a segment edge may stray from its first/last word


@dataclass
class WordTiming:
    """One word's text, tokens, times (s from the window start) and probability; mutable while merging."""

    word: str
    tokens: list[int]
    start: float
    end: float
    probability: float


def median_filter(x: np.ndarray, width: int) -> np.ndarray:
    """Median over a sliding window of odd `width` along the last axis, reflect-padded at the edges.

    An odd-even transposition sort of the `width` shifted copies: exact, and a third of `np.median`'s time
    over sliding windows. An input of more than two axes is filtered one slice of its first axis at a time,
    so the copies stay small (a 29-s window's attention heads at once took 67 MB).
    """
    pad = width // 2
    if x.shape[-1] <= pad:
        return x
    if x.ndim > 2:
        return np.stack([median_filter(part, width) for part in x])
    length = x.shape[-1]
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    shifted = [padded[..., k : k + length].copy() for k in range(width)]
    for sweep in range(width):
        for i in range(sweep % 2, width - 1, 2):
            shifted[i], shifted[i + 1] = np.minimum(shifted[i], shifted[i + 1]), np.maximum(shifted[i], shifted[i + 1])
    return shifted[pad]


def dtw(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monotonic alignment path of minimal total cost through x [N, M] -> (row indices, column indices).

    Cells are filled one anti-diagonal at a time (each depends only on the previous two),
    with openai-whisper's tie-breaking: diagonal, then up, then left.
    """
    n, m = x.shape
    cost = np.full((n + 1, m + 1), np.inf, dtype=np.float32)
    trace = np.full((n + 1, m + 1), -1, dtype=np.int8)
    cost[0, 0] = 0
    x = x.astype(np.float32)
    for diagonal in range(2, n + m + 1):
        i = np.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1)
        j = diagonal - i
        c0, c1, c2 = cost[i - 1, j - 1], cost[i - 1, j], cost[i, j - 1]
        choice = np.where((c0 < c1) & (c0 < c2), 0, np.where((c1 < c0) & (c1 < c2), 1, 2))
        cost[i, j] = x[i - 1, j - 1] + np.choose(choice, (c0, c1, c2))
        trace[i, j] = choice
    trace[0, :] = 2
    trace[:, 0] = 1
    i, j = n, m
    path: list[tuple[int, int]] = []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        step = trace[i, j]
        if step == 0:
            i, j = i - 1, j - 1
        elif step == 1:
            i -= 1
        else:
            j -= 1
    rows, cols = np.array(path[::-1]).T
    return rows, cols


def find_alignment(
    model,
    audio,
    tokenizer: Tokenizer,
    sot_sequence: Sequence[int],
    text_tokens: Sequence[int],
    token_probabilities: Sequence[float],
    num_frames: int,
    language: str,
) -> list[WordTiming]:
    """Word timings (seconds from the window start) of `text_tokens` over `num_frames` mel frames."""
    if not text_tokens:
        return []
    matrix = attention_matrix(model, audio, tokenizer, sot_sequence, text_tokens, num_frames)
    text_indices, time_indices = dtw(-matrix)

    words, word_tokens = tokenizer.split_to_word_tokens([*text_tokens, tokenizer.eot], language)
    if len(word_tokens) <= 1:
        return []
    boundaries = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
    jump_times = time_indices[jumps] / TOKENS_PER_SECOND
    starts, ends = jump_times[boundaries[:-1]], jump_times[boundaries[1:]]
    probabilities = np.asarray(token_probabilities, dtype=np.float64)
    return [
        WordTiming(word, tokens_, float(start), float(end), float(np.mean(probabilities[i:j])))
        for word, tokens_, start, end, i, j in zip(words, word_tokens, starts, ends, boundaries[:-1], boundaries[1:])
    ]


def attention_matrix(model, audio, tokenizer: Tokenizer, sot_sequence: Sequence[int], text_tokens: Sequence[int],
                     num_frames: int) -> np.ndarray:
    """Where the decoder looked: the alignment heads' cross-attention, normalised and smoothed as for word
    timings, averaged over the heads; a row per text token and <|endoftext|>, a column per 20 ms of audio."""
    tokens = np.array([[*sot_sequence, tokenizer.no_timestamps, *text_tokens, tokenizer.eot]], dtype=np.int64)
    weights = model.alignment_attention(tokens, audio)[:, :, : num_frames // 2].astype(np.float64)
    weights /= np.maximum(weights.sum(axis=-1, keepdims=True), np.finfo(np.float64).tiny)  # softmax over the kept frames
    mean = weights.mean(axis=-2, keepdims=True)
    std = weights.std(axis=-2, keepdims=True)
    weights = (weights - mean) / np.maximum(std, np.finfo(np.float64).tiny)
    matrix = median_filter(weights, MEDIAN_FILTER_WIDTH).mean(axis=0)
    return matrix[len(sot_sequence) : -1]  # rows predicting text tokens and <|endoftext|>


def merge_punctuations(alignment: list[WordTiming], prepended: str, appended: str) -> None:
    """Attach opening punctuation to the next word and closing punctuation to the previous one."""
    i, j = len(alignment) - 2, len(alignment) - 1
    while i >= 0:
        previous, following = alignment[i], alignment[j]
        if previous.word.startswith(" ") and previous.word.strip() in prepended:
            following.word = previous.word + following.word
            following.tokens = previous.tokens + following.tokens
            previous.word, previous.tokens = "", []
        else:
            j = i
        i -= 1
    i, j = 0, 1
    while j < len(alignment):
        previous, following = alignment[i], alignment[j]
        if not previous.word.endswith(" ") and following.word in appended:
            previous.word = previous.word + following.word
            previous.tokens = previous.tokens + following.tokens
            following.word, following.tokens = "", []
        else:
            i = j
        j += 1


def _clip_sentence_ends(alignment: list[WordTiming], max_duration: float) -> None:
    """Words next to sentence-ending marks may last at most `max_duration`."""
    for i in range(1, len(alignment)):
        if alignment[i].end - alignment[i].start > max_duration:
            if alignment[i].word in SENTENCE_END_MARKS:
                alignment[i].end = alignment[i].start + max_duration
            elif alignment[i - 1].word in SENTENCE_END_MARKS:
                alignment[i].start = alignment[i].end - max_duration


def add_word_timestamps(
    segments: Sequence[Segment],
    model,
    audio,
    tokenizer: Tokenizer,
    sot_sequence: Sequence[int],
    token_probabilities: Sequence[float],
    num_frames: int,
    time_offset: float,
    last_speech_timestamp: float,
    language: str = "en",
) -> tuple[list[Segment], float]:
    """The window's segments with `words` filled in (and edges adjusted), and the new last speech time.

    `token_probabilities` are the probabilities of the segments' text tokens, in order.
    """
    text_tokens_per_segment = [[t for t in segment.tokens if t < tokenizer.eot] for segment in segments]
    text_tokens = [t for tokens in text_tokens_per_segment for t in tokens]
    alignment = find_alignment(model, audio, tokenizer, sot_sequence, text_tokens, token_probabilities, num_frames, language)
    durations = np.array([timing.end - timing.start for timing in alignment])
    durations = durations[durations.nonzero()]
    median_duration = min(MAX_MEDIAN_WORD_SECONDS, float(np.median(durations))) if len(durations) else 0.0
    max_duration = median_duration * 2
    if len(durations):
        _clip_sentence_ends(alignment, max_duration)
    merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)

    result: list[Segment] = []
    word_index = 0
    for segment, tokens in zip(segments, text_tokens_per_segment):
        saved_tokens = 0
        words: list[WordTiming] = []
        while word_index < len(alignment) and saved_tokens < len(tokens):
            timing = alignment[word_index]
            if timing.word:
                words.append(replace(timing, start=round(time_offset + timing.start, 2),
                                     end=round(time_offset + timing.end, 2)))
            saved_tokens += len(timing.tokens)
            word_index += 1
        start, end = segment.start, segment.end
        if words:
            start, end = _fit_edges(words, start, end, last_speech_timestamp, median_duration, max_duration)
            last_speech_timestamp = end
        result.append(replace(segment, start=start, end=end, words=tuple(
            Word(start=w.start, end=w.end, text=w.word, probability=w.probability) for w in words)))
    return result, last_speech_timestamp


def _fit_edges(words: list[WordTiming], start: float, end: float, last_speech: float,
               median_duration: float, max_duration: float) -> tuple[float, float]:
    """openai-whisper's heuristics: shorten overlong words after a pause; reconcile segment and word edges.

    Returns the segment's new (start, end), widened where needed so that it holds all its words.
    """
    first = words[0]
    if first.end - last_speech > median_duration * PAUSE_MEDIANS and (
        first.end - first.start > max_duration
        or (len(words) > 1 and words[1].end - first.start > max_duration * 2)
    ):
        if len(words) > 1 and words[1].end - words[1].start > max_duration:
            boundary = max(words[1].end / 2, words[1].end - max_duration)
            first.end = words[1].start = boundary
        first.start = max(0, first.end - max_duration)
    if start < first.end and start - SEGMENT_EDGE_SLACK_SECONDS > first.start:
        first.start = max(0, min(first.end - median_duration, start))
    else:
        start = first.start
    last = words[-1]
    if end > last.start and end + SEGMENT_EDGE_SLACK_SECONDS < last.end:
        last.end = max(last.start + median_duration, end)
    else:
        end = last.end
    return min(start, first.start), max(end, last.end)  # the words lie inside their segment
