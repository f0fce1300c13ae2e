"""Turn a text made from the engine's words back into a timed `Transcript`.

The text is the caption view's (possibly edited) text or the text stage's output. The
engine's committed words carry times; the user or the stage may have changed words,
added or removed some, or split paragraphs. Unchanged words keep their times, replaced words
share the span of the words they replace, inserted words sit at the boundary of
their neighbours. Each paragraph becomes segments, split after sentence ends and
before they grow longer than a caption should; the first segment of a paragraph
starts with the line break(s) before it, so every export keeps the paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from difflib import SequenceMatcher

from dictate.transcript.types import Segment, Transcript, TranscriptInfo, Word

SENTENCE_ENDS = (".", "?", "!", "。", "？", "！")
MAX_SEGMENT_SECONDS = 7.0  # longest caption before a forced break
EDITED_WORD_PROBABILITY = 1.0  # the user typed it: as sure as it gets


def retime_words(words: Sequence[Word], text: str) -> list[list[Word]]:
    """The words of `text`, paragraph by paragraph, with times taken from the matching `words`."""
    paragraphs = [line.split() for line in text.splitlines()]
    tokens = [token for paragraph in paragraphs for token in paragraph]
    timed = _align(words, tokens)
    result, index = [], 0
    for paragraph in paragraphs:
        if paragraph:
            result.append(timed[index : index + len(paragraph)])
            index += len(paragraph)
    return result


def _align(words: Sequence[Word], tokens: Sequence[str]) -> list[Word]:
    """One timed word per token, by a word-level diff against the original words."""
    original = [word.text.strip() for word in words]
    timed: list[Word] = []
    matcher = SequenceMatcher(None, original, list(tokens), autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            timed.extend(_respell(words[a0 + k], tokens[b0 + k]) for k in range(b1 - b0))
        elif tag == "replace":
            timed.extend(_spread(tokens[b0:b1], words[a0].start, words[a1 - 1].end))
        elif tag == "insert":
            at = words[a0 - 1].end if a0 > 0 else (words[0].start if words else 0.0)
            timed.extend(_spread(tokens[b0:b1], at, at))
    return timed


def _respell(word: Word, token: str) -> Word:
    return Word(start=word.start, end=word.end, text=" " + token, probability=word.probability)


def _spread(tokens: Sequence[str], start: float, end: float) -> list[Word]:
    """Tokens sharing [start, end] in equal parts."""
    step = (end - start) / len(tokens)
    return [
        Word(start=start + k * step, end=start + (k + 1) * step, text=" " + token, probability=EDITED_WORD_PROBABILITY)
        for k, token in enumerate(tokens)
    ]


def paragraph_breaks(text: str) -> list[str]:
    """The line breaks before each paragraph of `text` that has words ("" before the first)."""
    breaks = [match.group(1) for match in re.finditer(r"(\n*)[^\S\n]*\S[^\n]*", text)]
    return [""] + [gap if gap else "\n" for gap in breaks[1:]]


def segments_from_paragraphs(paragraphs: Sequence[Sequence[Word]], breaks: Sequence[str] = ()) -> list[Segment]:
    """Segments that never span paragraphs, break after sentence ends, and stay under MAX_SEGMENT_SECONDS.

    `breaks[i]`: the line breaks written before paragraph i (its first segment's text starts with them).
    """
    groups: list[list[Word]] = []
    firsts: dict[int, str] = {}  # group index -> the breaks its text starts with
    for number, paragraph in enumerate(paragraphs):
        if number < len(breaks) and breaks[number] and paragraph:
            firsts[len(groups)] = breaks[number]
        current: list[Word] = []
        for word in paragraph:
            if current and word.end - current[0].start > MAX_SEGMENT_SECONDS:
                groups.append(current)
                current = []
            current.append(word)
            if word.text.rstrip().endswith(SENTENCE_ENDS):
                groups.append(current)
                current = []
        if current:
            groups.append(current)
    return [
        Segment(id=index, start=group[0].start, end=group[-1].end, words=tuple(group),
                text=firsts[index] + "".join(w.text for w in group).lstrip() if index in firsts
                else "".join(w.text for w in group))
        for index, group in enumerate(groups)
    ]


def shift_words(words: Sequence[Word], offset: float) -> tuple[Word, ...]:
    """The words moved `offset` seconds later (a recording's times -> the session's)."""
    if offset == 0:
        return tuple(words)
    return tuple(replace(word, start=word.start + offset, end=word.end + offset) for word in words)


def build_transcript(words: Sequence[Word], text: str, info: TranscriptInfo) -> Transcript:
    """The transcript of the edited `text`, timed from the engine's committed `words`."""
    paragraphs = retime_words(words, text)
    return Transcript(segments=segments_from_paragraphs(paragraphs, paragraph_breaks(text)), info=info)
