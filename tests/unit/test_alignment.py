"""DTW, median filter and punctuation merging of the word-timestamp alignment."""

from __future__ import annotations

import numpy as np
import pytest

from dictate.asr.alignment import APPEND_PUNCTUATIONS, PREPEND_PUNCTUATIONS, WordTiming, dtw, median_filter, merge_punctuations


def _reference_dtw(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """openai-whisper's `dtw_cpu` + `backtrace`, cell by cell."""
    n, m = x.shape
    cost = np.full((n + 1, m + 1), np.inf, dtype=np.float32)
    trace = -np.ones((n + 1, m + 1), dtype=np.float32)
    cost[0, 0] = 0
    for j in range(1, m + 1):
        for i in range(1, n + 1):
            c0, c1, c2 = cost[i - 1, j - 1], cost[i - 1, j], cost[i, j - 1]
            if c0 < c1 and c0 < c2:
                c, t = c0, 0
            elif c1 < c0 and c1 < c2:
                c, t = c1, 1
            else:
                c, t = c2, 2
            cost[i, j] = x[i - 1, j - 1] + c
            trace[i, j] = t
    i, j = n, m
    trace[0, :] = 2
    trace[:, 0] = 1
    path = []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        if trace[i, j] == 0:
            i, j = i - 1, j - 1
        elif trace[i, j] == 1:
            i -= 1
        else:
            j -= 1
    return np.array(path[::-1]).T


@pytest.mark.parametrize(("n", "m", "seed"), [(1, 1, 0), (3, 7, 1), (12, 40, 2), (30, 9, 3)])
def test_dtw_equals_cell_by_cell_reference(n: int, m: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(n, m)).astype(np.float32)
    rows, cols = dtw(x)
    expected_rows, expected_cols = _reference_dtw(x)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(cols, expected_cols)


def test_dtw_breaks_ties_like_the_reference() -> None:
    x = np.zeros((4, 6), dtype=np.float32)  # every path costs the same
    np.testing.assert_array_equal(np.stack(dtw(x)), _reference_dtw(x))


def test_dtw_follows_a_cheap_diagonal() -> None:
    x = np.ones((5, 5), dtype=np.float32) - 2 * np.eye(5, dtype=np.float32)
    rows, cols = dtw(x)
    np.testing.assert_array_equal(rows, np.arange(5))
    np.testing.assert_array_equal(cols, np.arange(5))


def test_median_filter_equals_naive_reflect_padded_median() -> None:
    x = np.random.default_rng(4).normal(size=(2, 3, 20))
    filtered = median_filter(x, 7)
    padded = np.pad(x, [(0, 0), (0, 0), (3, 3)], mode="reflect")
    expected = np.stack([np.median(padded[..., k : k + 7], axis=-1) for k in range(20)], axis=-1)
    np.testing.assert_allclose(filtered, expected)


def _timings(*words: str) -> list[WordTiming]:
    return [WordTiming(word, [index], float(index), index + 1.0, 1.0) for index, word in enumerate(words)]


def test_punctuation_joins_its_neighbour() -> None:
    alignment = _timings(" He", " said", " \"", "hello", "\"", ".", " (", "yes", ")")
    merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
    assert [t.word for t in alignment if t.word] == [" He", " said", " \"hello\".", " (yes)"]
    merged = next(t for t in alignment if t.word == " \"hello\".")
    assert merged.tokens == [2, 3, 4, 5]
    assert sum(len(t.tokens) for t in alignment) == 9  # no token lost
