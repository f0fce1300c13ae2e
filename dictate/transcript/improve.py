"""Improve a transcript: the changes a slower offline pass suggests, against the text the user sees.

Pure (no Qt, no model). The shown text (streamed words plus the user's edits) and the offline
text are compared word by word, case and punctuation aside; each run of differing words is a
`Change` at its characters in the shown text. A change that touches a word the user edited
(one that differs from what dictation committed) is marked `touches_edit`: accepting all
changes leaves those alone, so the user's own words are replaced only when they ask for it.

    changes = suggest_changes(shown, committed, improved)
    shown = apply_changes(shown, [c for c in changes if not c.touches_edit])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from dictate.streaming.guards import word_key

TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Change:
    """Replace the shown text's characters [start, end) ("" when inserting) by `new`."""

    start: int
    end: int
    old: str
    new: str
    touches_edit: bool  # a word in `old` is the user's, not dictation's

    def describe(self) -> str:
        return f"{self.old or '(nothing)'} → {self.new or '(nothing)'}"


def suggest_changes(shown: str, committed: str, improved: str) -> list[Change]:
    """The changes that turn `shown` into `improved` word by word; `committed` is the text dictation wrote (the
    shown text before the user's edits), which tells the user's words apart."""
    tokens = list(TOKEN.finditer(shown))
    edited = _edited(tokens, committed)
    better = TOKEN.findall(improved)
    matcher = SequenceMatcher(None, [word_key(t.group()) or t.group() for t in tokens],
                              [word_key(t) or t for t in better], autojunk=False)
    changes = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        new = " ".join(better[b1:b2])
        if a1 < a2:
            start, end = tokens[a1].start(), tokens[a2 - 1].end()
            if not new:  # a deletion takes the space before the words (or after them, at the start) with it
                start, end = (tokens[a1 - 1].end(), end) if a1 else (start, tokens[a2].start() if a2 < len(tokens)
                                                                      else end)
        else:  # an insertion: after the word before it (or at the start)
            start = end = tokens[a1 - 1].end() if a1 else 0
            new = (" " + new) if a1 else new + " "
        changes.append(Change(start, end, shown[start:end], new, any(edited[a1:a2])))
    return changes


def apply_changes(shown: str, changes: Sequence[Change]) -> str:
    """`shown` with `changes` (from one `suggest_changes`, any subset) applied."""
    for change in sorted(changes, key=lambda c: c.start, reverse=True):
        shown = shown[: change.start] + change.new + shown[change.end :]
    return shown


def _edited(tokens: Sequence[re.Match[str]], committed: str) -> list[bool]:
    """For each shown token: whether the user put it there (it is not one of dictation's words, in order)."""
    original = [word_key(t) or t for t in TOKEN.findall(committed)]
    matcher = SequenceMatcher(None, original, [word_key(t.group()) or t.group() for t in tokens], autojunk=False)
    edited = [True] * len(tokens)
    for block in matcher.get_matching_blocks():
        for index in range(block.b, block.b + block.size):
            edited[index] = False
    return edited
