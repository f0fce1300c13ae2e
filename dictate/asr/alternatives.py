"""Alternatives for words the recogniser may have got wrong: their stretch of audio decoded again, with beam search.

The words are decoded in the audio around them (CONTEXT_S on each side), after the words
before them in that audio forced as the decoder's prefix, so every beam continues from the
same place; each beam's text is cut where the word after the selection begins. What is left
of each beam, likeliest first and without repeats or the current text, is an alternative.

    texts = find_alternatives(recognizer, audio_at, words, first=3, last=4)   # e.g. ["my", "by"]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from dictate.asr.decoding import DecodingOptions, WindowDecoder
from dictate.asr.transcribe import Recognizer, window_mel
from dictate.streaming.guards import word_key
from dictate.transcript.types import Word

CONTEXT_S = 2.0  # audio decoded on each side of the words
N_BEST = 5  # beams

AudioAt = Callable[[float, float], np.ndarray]  # (start, end) seconds -> the session's 16 kHz samples


def find_alternatives(recognizer: Recognizer, audio_at: AudioAt, words: Sequence[Word], first: int, last: int,
                      language: str = "en", n_best: int = N_BEST) -> list[str]:
    """Other texts for `words[first..last]` (inclusive), likeliest first; `words` are the committed words in
    time order, whose neighbours give the context."""
    start = max(0.0, words[first].start - CONTEXT_S)
    end = words[last].end + CONTEXT_S
    before = "".join(word.text for word in words[:first] if word.start >= start)
    after = next((word_key(word.text) for word in words[last + 1 :] if word.start < end and word_key(word.text)), "")
    model, tokenizer = recognizer.model, recognizer.tokenizer
    mel, _ = window_mel(audio_at(start, end), model.info.n_mels)
    options = DecodingOptions(language=language, beam_size=n_best, without_timestamps=True,
                              prefix=before.rstrip() or None)
    current = _key(" ".join(word.text for word in words[first : last + 1]))
    found: list[str] = []
    for text in WindowDecoder(model, tokenizer, options).ranked_texts(model.encode(mel[None]), language):
        candidate = _up_to(text, after)
        if candidate is not None and _key(candidate) not in {current, *map(_key, found)}:
            found.append(candidate)
    return found


def _up_to(text: str, stop: str) -> str | None:
    """The words of `text` before the first word whose key is `stop` (all of them if `stop` is "");
    None if `stop` never comes (the beam lost its place)."""
    kept = []
    for token in text.split():
        if stop and word_key(token) == stop:
            return " ".join(kept) or None
        kept.append(token)
    return None if stop else (" ".join(kept) or None)


def _key(text: str) -> str:
    """Words only: ", my" and "My." are both "my"."""
    return " ".join(key for token in text.split() if (key := word_key(token)))
