"""The decoder's prompt: the user's vocabulary, then the most recent previous text, within Whisper's budget.

As faster-whisper's `hotwords`, the vocabulary prompts every window ahead of the text so far.
A prompt also nudges words that are not in it (tiny.en, LibriSpeech: a five-term list raised
greedy WER on the other utterances by 1.3 points), so a window is decoded with and without
the vocabulary, and the prompted decode is kept only when it writes more of the listed terms.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TERM_SEPARATOR = ","  # between the terms of a vocabulary prompt (Vocabulary.prompt() joins them with ", ")


def prompt_budget(n_text_ctx: int) -> int:
    """Prompt tokens the decoder takes after <|startofprev|> (openai-whisper: n_text_ctx // 2 - 1)."""
    return n_text_ctx // 2 - 1


def compose_prompt(vocabulary: Sequence[int], previous: Sequence[int], budget: int) -> list[int]:
    """The vocabulary's tokens (at most half the budget), then the latest `previous` tokens that fit."""
    head = list(vocabulary[: budget // 2])
    room = budget - len(head)
    return head + (list(previous[-room:]) if room > 0 else [])


def count_terms(text: str, vocabulary: str) -> int:
    """How often the terms of `vocabulary` stand in `text` as whole words (any case)."""
    terms = (term.strip() for term in vocabulary.split(TERM_SEPARATOR))
    return sum(len(re.findall(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE)) for term in terms if term)
