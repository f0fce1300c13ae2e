"""Spoken-language identification: one decoder step on `<|startoftranscript|>`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dictate.asr.logit_filters import softmax
from dictate.asr.tokenizer import TASKS, Tokenizer

ENGLISH = "en"


@dataclass(frozen=True)
class LanguageGuess:
    """The most likely language, its probability, and the whole distribution (code -> probability)."""

    language: str
    probability: float
    distribution: dict[str, float]


def detect_language(model, audio, tokenizer: Tokenizer) -> LanguageGuess:
    """Softmax over the language tokens after `<|startoftranscript|>` (first item of `audio`).

    English-only models always answer English with probability 1.
    """
    if not tokenizer.multilingual:
        return LanguageGuess(ENGLISH, 1.0, {ENGLISH: 1.0})
    logits, _ = model.decode(np.array([[tokenizer.sot]], dtype=np.int64), audio)
    probabilities = softmax(logits[0, list(tokenizer.language_tokens)].astype(np.float64))
    distribution = dict(zip(tokenizer.language_codes, probabilities.tolist()))
    best = int(np.argmax(probabilities))
    return LanguageGuess(tokenizer.language_codes[best], float(probabilities[best]), distribution)


def check_task(tokenizer: Tokenizer, task: str) -> None:
    """Refuse a task the model cannot do, in words the user understands."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    if task == "translate" and not tokenizer.multilingual:
        raise ValueError("this model is English-only; it cannot translate (choose a multilingual model such as base)")


def resolve_language(model, audio, tokenizer: Tokenizer, language: str | None) -> LanguageGuess:
    """The user's fixed language (probability 1), else the detected one."""
    if language is not None:
        if tokenizer.multilingual:
            tokenizer.language_token(language)  # validates the code
        elif language != ENGLISH:
            raise ValueError(f"this model is English-only; language {language!r} is not available")
        return LanguageGuess(language, 1.0, {language: 1.0})
    return detect_language(model, audio, tokenizer)
