"""The decoder's prompt: the user's vocabulary, then the most recent previous text, within Whisper's budget.

As faster-whisper's `hotwords`: the vocabulary prompts every window, ahead of the text so far,
so names and rare words the user listed are spelled as listed.
"""

from __future__ import annotations

from collections.abc import Sequence


def prompt_budget(n_text_ctx: int) -> int:
    """Prompt tokens the decoder takes after <|startofprev|> (openai-whisper: n_text_ctx // 2 - 1)."""
    return n_text_ctx // 2 - 1


def compose_prompt(vocabulary: Sequence[int], previous: Sequence[int], budget: int) -> list[int]:
    """The vocabulary's tokens (at most half the budget), then the latest `previous` tokens that fit."""
    head = list(vocabulary[: budget // 2])
    room = budget - len(head)
    return head + (list(previous[-room:]) if room > 0 else [])
