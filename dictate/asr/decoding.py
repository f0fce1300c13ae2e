"""Decoding one 30-s window: greedy, sampling (best-of) and beam search over the KV cache,
plus temperature fallback. Semantics follow openai-whisper's `decoding.py` / `transcribe.py`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dictate.asr.language import resolve_language
from dictate.asr.logit_filters import (
    ApplyTimestampRules, LogitFilter, SuppressBlank, SuppressTokens, log_normaliser, softmax,
)
from dictate.asr.tokenizer import TASKS, Tokenizer
from dictate.constants import TIME_PRECISION

SUPPRESS_DEFAULT = "-1"  # the model's own list of non-speech tokens
DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class DecodingOptions:
    """How to decode one window (openai-whisper's `DecodingOptions`)."""

    task: str = "transcribe"  # or "translate" (into English)
    language: str | None = None  # None: detect on multilingual models, "en" on English-only ones
    temperature: float = 0.0  # 0: greedy or beam search; > 0: sampling
    sample_len: int | None = None  # max tokens to sample; None: n_text_ctx // 2
    best_of: int | None = None  # independent samples at temperature > 0, the likeliest kept
    beam_size: int | None = None  # beams at temperature 0; None: greedy
    patience: float | None = None  # beam search stops after round(beam_size * patience) finished beams
    length_penalty: float | None = None  # None: rank by logprob / length; else Google NMT's alpha
    prompt: str | tuple[int, ...] | None = None  # previous text, fed after <|startofprev|>
    prefix: str | tuple[int, ...] | None = None  # forced start of this window's text
    forced: tuple[int, ...] = ()  # text already known (timestamps included): decoded as given, returned with the result
    draft: tuple[int, ...] = ()  # tokens greedy decoding is expected to write after `forced` (an earlier decode of
    # most of this audio): checked in one decoder call and kept as far as greedy writes them; the text is greedy's
    suppress_tokens: str | tuple[int, ...] | None = SUPPRESS_DEFAULT  # "-1": the model's non-speech ids
    suppress_blank: bool = True  # no " " or <|endoftext|> as the first token
    without_timestamps: bool = False  # <|notimestamps|>: text only
    max_initial_timestamp: float | None = 1.0  # seconds: latest allowed first timestamp
    seed: int = 0  # random generator seed for sampling

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.beam_size is not None and self.best_of is not None:
            raise ValueError("beam_size and best_of can't be given together")
        if self.temperature == 0 and self.best_of is not None:
            raise ValueError("best_of with greedy sampling (temperature 0) is not compatible")
        if self.patience is not None and self.beam_size is None:
            raise ValueError("patience requires beam_size to be given")
        if self.length_penalty is not None and not 0 <= self.length_penalty <= 1:
            raise ValueError("length_penalty (alpha) should be a value between 0 and 1")
        for name in ("beam_size", "best_of"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")


@dataclass(frozen=True)
class DecodingResult:
    """One decoded window: sampled tokens (no prompt, sot sequence or final eot) and their scores."""

    tokens: tuple[int, ...]
    token_logprobs: tuple[float, ...]  # log-probability of each sampled token
    text: str
    language: str
    language_probability: float
    avg_logprob: float  # sum_logprob / (len(tokens) + 1), the +1 for <|endoftext|>
    no_speech_prob: float
    temperature: float
    compression_ratio: float


def compression_ratio(text: str) -> float:
    """Bytes of UTF-8 text over bytes of its zlib compression (high = repetitive)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _as_tokens(tokenizer: Tokenizer, text_or_tokens: str | Sequence[int]) -> list[int]:
    if isinstance(text_or_tokens, str):
        return tokenizer.encode(" " + text_or_tokens.strip())
    return list(text_or_tokens)


def suppressed_tokens(model_suppress_ids: Sequence[int], tokenizer: Tokenizer, spec: str | Sequence[int] | None) -> list[int]:
    """The ids suppressed at every step: the spec ("-1" = the model's list) + task/control tokens."""
    if spec is None or spec == "":
        ids: list[int] = []
    elif isinstance(spec, str):
        ids = [int(t) for t in spec.split(",")]
    else:
        ids = list(spec)
    if -1 in ids:
        ids = [t for t in ids if t >= 0] + list(model_suppress_ids or tokenizer.non_speech_tokens)
    controls = [tokenizer.transcribe, tokenizer.translate, tokenizer.sot, tokenizer.sot_prev, tokenizer.sot_lm]
    controls += [tokenizer.no_speech] if tokenizer.no_speech >= 0 else []
    return sorted(set(ids + controls))


DRAFT_CHUNK = 16  # draft tokens checked per decoder call: their logits ([16, n_vocab] float32) stay a few MB

# Beam candidates are found through the maxima of token groups (token g + POOL_GROUPS * i):
# a reduction across contiguous rows and a partition of ~1k maxima instead of the whole vocabulary.
POOL_GROUPS = 1024

_Candidate = tuple[list[int], list[float], float]  # sampled tokens (no eot), their logprobs, sum of logprobs


def _candidate_pool(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, tokens, float64 logprobs) of every token at or above its row's k-th largest group maximum.

    That set holds each row's k likeliest tokens (k groups reach the threshold, so k tokens do),
    and ranking it by score selects exactly what ranking openai-whisper's per-row top-k does:
    a token outside its row's top k ranks below k tokens of that row, at most one of them eot.
    """
    n_rows, n_vocab = logits.shape
    size = n_vocab // POOL_GROUPS
    body_max = logits[:, : size * POOL_GROUPS].reshape(n_rows, size, POOL_GROUPS).max(axis=1)
    tail = logits[:, size * POOL_GROUPS :]  # the last tokens, each a group of its own
    threshold = np.partition(np.concatenate([body_max, tail], axis=1), -k, axis=1)[:, -k, None]
    rows, groups = np.nonzero(body_max >= threshold)
    tail_rows, tail_tokens = np.nonzero(tail >= threshold)
    rows = np.concatenate([np.repeat(rows, size), tail_rows])
    tokens = np.concatenate([(groups[:, None] + POOL_GROUPS * np.arange(size)).ravel(), tail_tokens + size * POOL_GROUPS])
    keep = logits[rows, tokens] >= threshold[rows, 0]
    rows, tokens = rows[keep], tokens[keep]
    peak, log_sum = log_normaliser(logits)
    logprobs = (logits[rows, tokens] - peak[rows, 0]) - log_sum[rows, 0]
    return rows, tokens, logprobs.astype(np.float64)


class _Search:
    """The token rows being decoded and their per-token logprobs, preallocated."""

    def __init__(self, initial: Sequence[int], n_rows: int, max_len: int) -> None:
        self.tokens = np.zeros((n_rows, max_len), dtype=np.int64)
        self.tokens[:, : len(initial)] = initial
        self.logprobs = np.zeros((n_rows, max_len), dtype=np.float32)
        self.sample_begin = self.length = len(initial)

    def force(self, tokens: Sequence[int]) -> None:
        """Take `tokens` as sampled, each with logprob 0 (known text, not a choice of the search)."""
        self.tokens[:, self.length : self.length + len(tokens)] = tokens
        self.length += len(tokens)

    @property
    def view(self) -> np.ndarray:
        return self.tokens[:, : self.length]

    def append(self, next_tokens: np.ndarray, logprobs: np.ndarray) -> None:
        self.tokens[:, self.length] = next_tokens
        self.logprobs[:, self.length] = logprobs
        self.length += 1

    def reorder(self, rows: np.ndarray) -> None:
        self.tokens[:, : self.length] = self.tokens[rows, : self.length]
        self.logprobs[:, : self.length] = self.logprobs[rows, : self.length]

    def candidate(self, row: int, sum_logprob: float, eot: int) -> _Candidate:
        """A row's sampled tokens up to (excluding) the first <|endoftext|>."""
        sampled = self.tokens[row, self.sample_begin : self.length].tolist()
        end = sampled.index(eot) if eot in sampled else len(sampled)
        return sampled[:end], self.logprobs[row, self.sample_begin : self.sample_begin + end].tolist(), sum_logprob


class WindowDecoder:
    """Decodes one window's encoded audio with fixed options; build once per window and options."""

    def __init__(self, model, tokenizer: Tokenizer, options: DecodingOptions) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.options = options
        self.n_ctx = model.info.n_text_ctx
        self.sample_len = options.sample_len or self.n_ctx // 2
        self.suppress_ids = suppressed_tokens(model.info.suppress_ids, tokenizer, options.suppress_tokens)

    def _initial_tokens(self, language: str) -> tuple[list[int], int]:
        """(prompt + sot sequence [+ notimestamps] + prefix, index of <|startoftranscript|>)."""
        tokenizer, options = self.tokenizer, self.options
        tokens: list[int] = []
        if options.prompt:
            prompt = _as_tokens(tokenizer, options.prompt)
            tokens = [tokenizer.sot_prev, *prompt[-(self.n_ctx // 2 - 1) :]]
        sot_index = len(tokens)
        tokens += tokenizer.sot_sequence(language, options.task)
        if options.without_timestamps:
            tokens.append(tokenizer.no_timestamps)
        if options.prefix:
            tokens += _as_tokens(tokenizer, options.prefix)[-(self.n_ctx // 2 - 1) :]
        return tokens, sot_index

    def _filters(self, sample_begin: int) -> list[LogitFilter]:
        options = self.options
        filters: list[LogitFilter] = []
        if options.suppress_blank:
            blank = self.model.info.suppress_ids_begin or (*self.tokenizer.encode(" "), self.tokenizer.eot)
            filters.append(SuppressBlank(blank, sample_begin))
        if self.suppress_ids:
            filters.append(SuppressTokens(self.suppress_ids))
        if not options.without_timestamps:
            max_index = None
            if options.max_initial_timestamp is not None:
                max_index = round(options.max_initial_timestamp / TIME_PRECISION)
            filters.append(ApplyTimestampRules(self.tokenizer, sample_begin, max_index))
        return filters

    def decode(self, audio, language: str | None = None) -> DecodingResult:
        """Decode the (batch-1) encoded audio; `language` overrides the options' one."""
        candidates, guess, no_speech_prob = self._search(audio, language)
        tokens, token_logprobs, sum_logprob = max(candidates, key=self._score)
        text = self.tokenizer.decode([t for t in tokens if t < self.tokenizer.eot])
        return DecodingResult(
            tokens=tuple(tokens),
            token_logprobs=tuple(token_logprobs),
            text=text,
            language=guess.language,
            language_probability=guess.probability,
            avg_logprob=float(sum_logprob) / (len(tokens) + 1),
            no_speech_prob=no_speech_prob,
            temperature=self.options.temperature,
            compression_ratio=compression_ratio(text),
        )

    def ranked_texts(self, audio, language: str | None = None) -> list[str]:
        """The text of every finished beam (or sample), likeliest first: the recogniser's n best."""
        candidates, _, _ = self._search(audio, language)
        eot = self.tokenizer.eot
        return [self.tokenizer.decode([t for t in candidate[0] if t < eot])
                for candidate in sorted(candidates, key=self._score, reverse=True)]

    def _search(self, audio, language: str | None) -> tuple[list[_Candidate], object, float]:
        """The finished candidates, the language guess and the no-speech probability."""
        options = self.options
        guess = resolve_language(self.model, audio, self.tokenizer, language or options.language)
        initial, sot_index = self._initial_tokens(guess.language)
        sample_begin = len(initial)
        forced = list(options.forced)
        steps = max(0, min(self.sample_len, self.n_ctx - sample_begin - len(forced)))
        n_rows = options.beam_size or options.best_of or 1

        # up to <|startoftranscript|> first: its logits give the no-speech probability
        head = np.array([initial[: sot_index + 1]], dtype=np.int64)
        logits, cache = self.model.decode(head, audio)
        no_speech_prob = float(softmax(logits[0].astype(np.float64))[self.tokenizer.no_speech]) if self.tokenizer.no_speech >= 0 else 0.0
        rest = initial[sot_index + 1 :] + forced
        if rest:
            logits, cache = self.model.decode(np.array([rest], dtype=np.int64), audio, cache)
        if n_rows > 1:
            cache = cache.reorder(np.zeros(n_rows, dtype=np.int64))  # the audio (batch 1) broadcasts
            logits = np.repeat(logits, n_rows, axis=0)

        search = _Search(initial, n_rows, sample_begin + len(forced) + steps + 1)
        search.force(forced)
        filters = self._filters(sample_begin)
        if options.beam_size is not None and options.temperature == 0:
            candidates = self._beam_search(search, logits, cache, audio, filters, steps)
        else:
            candidates = self._sample(search, logits, cache, audio, filters, steps)
        return candidates, guess, no_speech_prob

    def _sample(self, search: _Search, logits, cache, audio, filters, steps) -> list[_Candidate]:
        """Greedy (temperature 0) or sampling decoding of every row until all end.

        Greedy decoding of one row with a `draft`: once a sampled token is the draft's, the next `DRAFT_CHUNK`
        draft tokens are fed with it in one decoder call, and their logits stand in for the steps while the
        search writes the draft's tokens; at the first other token the cache drops the rest and decoding goes on
        step by step.
        """
        eot = self.tokenizer.eot
        temperature = self.options.temperature
        rng = np.random.default_rng(self.options.seed)
        n_rows = search.tokens.shape[0]
        sum_logprobs = np.zeros(n_rows, dtype=np.float64)
        finished = np.zeros(n_rows, dtype=bool)
        rows = np.arange(n_rows)
        draft = list(self.options.draft) if temperature == 0 and n_rows == 1 else []
        guesses: list[int] = []  # draft tokens in the cache ahead of the search
        ahead = np.zeros((n_rows, 0, 0), dtype=np.float32)  # the logits after each guess
        for step in range(steps):
            filtered = self._filtered(logits, search, filters)
            if temperature == 0:
                next_tokens = np.argmax(filtered, axis=-1)
            else:  # Gumbel-max: a draw from softmax(logits / temperature)
                next_tokens = np.argmax(filtered / temperature + rng.gumbel(size=filtered.shape), axis=-1)
            peak, log_sum = log_normaliser(filtered)
            logprobs = (filtered[rows, next_tokens] - peak[:, 0]) - log_sum[:, 0]
            sum_logprobs += np.where(finished, 0.0, logprobs)
            next_tokens[finished] = eot
            search.append(next_tokens, logprobs)
            finished |= next_tokens == eot
            if finished.all():
                break
            if guesses and next_tokens[0] == guesses[0]:
                logits, ahead, guesses = ahead[:, 0], ahead[:, 1:], guesses[1:]
                continue
            if guesses:  # the search went another way: the cache forgets the guesses, the draft is done with
                cache, guesses, draft = cache.truncate(search.length - 1), [], []
            if step + 1 < len(draft) and next_tokens[0] == draft[step]:
                guesses = draft[step + 1 : step + 1 + DRAFT_CHUNK]
                ahead, cache = self.model.decode_every_position(
                    np.array([[next_tokens[0], *guesses]], dtype=np.int64), audio, cache)
                logits, ahead = ahead[:, 0], ahead[:, 1:]
            else:
                logits, cache = self.model.decode(next_tokens[:, None].astype(np.int64), audio, cache)
        return [search.candidate(row, float(sum_logprobs[row]), eot) for row in range(n_rows)]

    def _beam_search(self, search: _Search, logits, cache, audio, filters, steps) -> list[_Candidate]:
        """openai-whisper's beam search: keep beam_size live beams; stop after
        round(beam_size * patience) finished ones."""
        eot = self.tokenizer.eot
        beam_size = search.tokens.shape[0]
        max_candidates = round(beam_size * (self.options.patience or 1.0))
        sum_logprobs = np.zeros(beam_size, dtype=np.float64)
        finished: dict[tuple[int, ...], _Candidate] = {}
        identity = np.arange(beam_size)
        distinct_rows = 1  # every row holds the initial tokens until the first step
        for _ in range(steps):
            filtered = self._filtered(logits, search, filters)[:distinct_rows]
            rows, tokens, token_logprobs = _candidate_pool(filtered, beam_size + 1)
            scores = sum_logprobs[rows] + token_logprobs
            order = np.argsort(-scores, kind="stable")
            non_eot = np.flatnonzero(tokens[order] != eot)[:beam_size]  # the pool holds beam_size of them
            kept = order[non_eot]
            ranked_before = order[: non_eot[-1]]  # eot candidates above the last kept beam finish
            newly_finished = ranked_before[tokens[ranked_before] == eot]
            for index in newly_finished.tolist():
                if len(finished) >= max_candidates:
                    break
                row = int(rows[index])
                sequence = (*search.tokens[row, search.sample_begin : search.length].tolist(), eot)
                logprobs_row = search.logprobs[row, search.sample_begin : search.length].tolist()
                finished.setdefault(sequence, (list(sequence[:-1]), logprobs_row, float(scores[index])))
            sources = rows[kept]
            sum_logprobs[:] = scores[kept]
            next_tokens = tokens[kept]
            reordered = not np.array_equal(sources, identity)
            if reordered:
                search.reorder(sources)
            search.append(next_tokens, token_logprobs[kept].astype(np.float32))
            distinct_rows = beam_size
            if len(finished) >= max_candidates:
                break
            if reordered:
                cache = cache.reorder(sources)
            logits, cache = self.model.decode(next_tokens[:, None], audio, cache)
        # not enough finished beams: the live ones count too, likeliest first
        for row in np.argsort(-sum_logprobs).tolist():
            if len(finished) >= beam_size:
                break
            candidate = search.candidate(row, float(sum_logprobs[row]), eot)
            finished.setdefault(tuple(candidate[0]) + (eot,), candidate)
        return list(finished.values())

    def _filtered(self, logits: np.ndarray, search: _Search, filters: list[LogitFilter]) -> np.ndarray:
        """A float32 copy of the logits with every filter applied."""
        filtered = logits.astype(np.float32, copy=True)
        for logit_filter in filters:
            logit_filter.apply(filtered, search.view)
        return filtered

    def _score(self, candidate: _Candidate) -> float:
        """How likely a candidate is: logprob over a length penalty (openai's MaximumLikelihoodRanker)."""
        alpha = self.options.length_penalty
        length = len(candidate[0])
        penalty = length if alpha is None else ((5 + length) / 6) ** alpha
        return candidate[2] / penalty if penalty else candidate[2]
