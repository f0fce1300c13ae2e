"""Checks that keep invented text out of a transcript: repetition loops, prompt echoes, silence hallucinations."""

from __future__ import annotations

import string
from collections.abc import Sequence

from dictate.transcript.types import Word

# Phrases Whisper is known to produce from silence or noise (normalised keys of the whole hypothesis).
KNOWN_HALLUCINATIONS = frozenset(
    {
        "you",
        "thank you",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thank you very much",
        "bye",
        "so",
        "oh",
        "please subscribe",
        "subtitles by the amaraorg community",
    }
)
MAX_LOOP_NGRAM = 4  # longest word n-gram checked for repetition loops
MIN_LOOP_REPEATS = 3  # consecutive copies of an n-gram (n >= 2) that make a loop
MIN_LOOP_REPEATS_UNIGRAM = 4  # a single word needs more copies ("no no no" is real speech)
SQUEEZED_WORD_S = 0.02  # a word no longer than one alignment frame (0.02 s) was matched to (almost) no audio
MIN_SQUEEZED_WORDS = 3  # that many such words in a row are text that is not in the audio
ECHO_NGRAM = 4  # words in a row that a hypothesis shares with its prompt to be suspected of copying it

_PUNCTUATION = str.maketrans("", "", string.punctuation + "¿¡“”‘’…")


def word_key(text: str) -> str:
    """The comparison key of a word: lower case without punctuation or surrounding spaces."""
    return text.translate(_PUNCTUATION).strip().lower()


def text_key(words: Sequence[Word]) -> str:
    """The comparison key of a word sequence: its word keys joined by single spaces."""
    return " ".join(key for key in (word_key(word.text) for word in words) if key)


def is_known_hallucination(words: Sequence[Word]) -> bool:
    """True when the words as a whole are a phrase Whisper invents in silence."""
    return bool(words) and text_key(words) in KNOWN_HALLUCINATIONS


def loop_start(words: Sequence[Word]) -> int | None:
    """Index of the first word of a repetition loop's second copy, or None without a loop.

    A loop is an n-gram (n <= MAX_LOOP_NGRAM) repeated back to back at least
    MIN_LOOP_REPEATS times (MIN_LOOP_REPEATS_UNIGRAM for single words).
    """
    keys = [word_key(word.text) for word in words]
    for start in range(len(keys)):
        for n in range(1, MAX_LOOP_NGRAM + 1):
            needed = MIN_LOOP_REPEATS_UNIGRAM if n == 1 else MIN_LOOP_REPEATS
            if start + n * needed > len(keys):
                continue
            gram = keys[start : start + n]
            if all(keys[start + k * n : start + (k + 1) * n] == gram for k in range(1, needed)):
                return start + n
    return None


def squeezed_runs(words: Sequence[Word]) -> list[range]:
    """The index ranges of every run of at least MIN_SQUEEZED_WORDS words that the word alignment squeezed into
    a frame or none (each at most SQUEEZED_WORD_S long).

    Whisper now and then writes text that is not in the audio: on past the speech at a window's end ("And
    apparently, he had a great time, and he had a great time" for "and apparently all"), or a phrase said
    once written twice ("the gut-end the gut-end being cut"). The cross-attention finds no audio for those
    words, and they land together on one frame. A real word or two can be squeezed so; a phrase cannot.
    Punctuation alone neither counts nor breaks a run.
    """
    runs: list[range] = []
    start: int | None = None
    count = 0
    for index, word in enumerate([*words, None]):
        if word is not None and word.end - word.start <= SQUEEZED_WORD_S + 1e-6:
            start = index if start is None else start
            count += bool(word_key(word.text))
            continue
        if start is not None and count >= MIN_SQUEEZED_WORDS:
            runs.append(range(start, index))
        start, count = None, 0
    return runs


def echoes_prompt(words: Sequence[Word], prompt: str, n: int = ECHO_NGRAM) -> bool:
    """True when `words` hold `n` words in a row that also stand in `prompt`.

    Conditioned on earlier text, Whisper sometimes copies a phrase of its prompt over
    speech it hears badly ("the traditional father of" -> "traditionally found their way
    to Egypt", the prompt's last sentence). A speaker may repeat a phrase too, so
    this only says which decode to check again without the prompt.
    """
    prompt_keys = [key for key in (word_key(token) for token in prompt.split()) if key]
    keys = [key for key in (word_key(word.text) for word in words) if key]
    prompt_grams = {tuple(prompt_keys[i : i + n]) for i in range(len(prompt_keys) - n + 1)}
    return any(tuple(keys[i : i + n]) in prompt_grams for i in range(len(keys) - n + 1))
