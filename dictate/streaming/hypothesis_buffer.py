"""LocalAgreement-2 bookkeeping (after ufal/whisper_streaming's `HypothesisBuffer`).

Each new hypothesis is compared with the previous one; their longest common
prefix (after the committed text) becomes committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from dictate.streaming.guards import word_key
from dictate.transcript.types import Word

OVERLAP_TOLERANCE_S = 0.1  # a word starting this much before the last commit may still be new
BOUNDARY_WINDOW_S = 1.0  # n-gram de-duplication only when the new words start this close to the last commit
MAX_DEDUP_NGRAM = 5  # longest committed n-gram that is removed when a hypothesis repeats it
MIN_WORDS_TO_CHECK = 8  # committed words in the buffer needed before a hypothesis is checked against them
MIN_CONSISTENCY = 0.5  # a hypothesis re-decoding less of the committed words than this is invented text


class HypothesisBuffer:
    """Committed words still inside the audio buffer, the previous hypothesis, and the agreement rule."""

    def __init__(self, committed_time: float = 0.0, doubtful_below: float = 0.0) -> None:
        """`doubtful_below`: a word less probable than this needs a third hypothesis to agree (0: never)."""
        self.committed_time = committed_time  # audio time (s) where the committed text ends
        self.doubtful_below = doubtful_below
        self._committed_in_buffer: list[Word] = []
        self._previous: list[Word] = []  # the last hypothesis' uncommitted words
        self._older: list[Word] = []  # the hypothesis before it, from the same committed point
        self._new: list[Word] = []
        self._has_new = False  # insert() ran since the last flush

    @property
    def tentative(self) -> tuple[Word, ...]:
        """The uncommitted words of the latest hypothesis."""
        return tuple(self._previous)

    @property
    def pending(self) -> tuple[Word, ...]:
        """What `flush_all` would commit now."""
        return tuple(self._new if self._has_new else self._previous)

    def consistent(self, words: Sequence[Word]) -> bool:
        """Whether a hypothesis re-decodes the committed words still in the buffer (a hallucination does not)."""
        committed = [word_key(word.text) for word in self._committed_in_buffer]
        if len(committed) < MIN_WORDS_TO_CHECK:
            return True
        again = [word_key(word.text) for word in words if word.start < self.committed_time - OVERLAP_TOLERANCE_S]
        return SequenceMatcher(a=committed, b=again, autojunk=False).ratio() >= MIN_CONSISTENCY

    def insert(self, words: Sequence[Word]) -> None:
        """Take a new hypothesis (absolute times); keep only what extends the committed text."""
        new = [word for word in words if word.start > self.committed_time - OVERLAP_TOLERANCE_S]
        if new and self._committed_in_buffer:
            repeated = self._repeated_prefix_length(new)
            near = abs(new[0].start - self.committed_time) < BOUNDARY_WINDOW_S
            if repeated and (near or self._redecodes_tail(words, len(words) - len(new), repeated)):
                new = new[repeated:]
        self._new = new
        self._has_new = True

    def _repeated_prefix_length(self, new: Sequence[Word]) -> int:
        """Length of the longest prefix of `new` equal to the tail of the committed words (<= MAX_DEDUP_NGRAM)."""
        committed = [word_key(word.text) for word in self._committed_in_buffer]
        keys = [word_key(word.text) for word in new]
        for n in range(min(len(committed), len(keys), MAX_DEDUP_NGRAM), 0, -1):
            if committed[-n:] == keys[:n]:
                return n
        return 0

    def _redecodes_tail(self, words: Sequence[Word], first_new: int, n: int) -> bool:
        """Whether `words[first_new:first_new + n]`, equal to the committed tail, is that tail decoded again.

        It is when the word before them is the committed word before the tail: "... else he said"
        decoded again with "said" timed a second later (the alignment stretched "he" over a pause
        into speech the decoder left out) is not "said" said twice.
        """
        if first_new == 0 or len(self._committed_in_buffer) <= n:
            return False
        return word_key(words[first_new - 1].text) == word_key(self._committed_in_buffer[-n - 1].text)

    def flush(self) -> list[Word]:
        """Commit the longest common prefix of the new and the previous hypothesis.

        Words must agree exactly, punctuation and case included: Whisper ends the
        text at the window's edge with a full stop that the next window drops.
        A doubtful word (less probable than `doubtful_below`) is committed only when
        the hypothesis before those two agrees as well; the words after it wait with it.
        """
        agreed = _common_prefix(self._new, self._previous)
        three = _common_prefix(self._new[:agreed], self._older)
        count = next((i for i in range(three, agreed)
                      if min(self._new[i].probability, self._previous[i].probability) < self.doubtful_below), agreed)
        commit = self._new[:count]
        self._older, self._previous = self._previous[count:], self._new[count:]
        self._new, self._has_new = [], False
        self._record(commit)
        return commit

    def flush_all(self) -> list[Word]:
        """Commit the whole latest hypothesis (the utterance is over)."""
        commit = list(self.pending)
        self._older, self._previous, self._new, self._has_new = [], [], [], False
        self._record(commit)
        return commit

    def _record(self, commit: Sequence[Word]) -> None:
        if commit:
            self.committed_time = commit[-1].end
            self._committed_in_buffer.extend(commit)

    def drop_committed_before(self, time: float) -> None:
        """Forget committed words that end at or before `time` (their audio left the buffer)."""
        self._committed_in_buffer = [word for word in self._committed_in_buffer if word.end > time]


def _common_prefix(a: Sequence[Word], b: Sequence[Word]) -> int:
    """How many words `a` and `b` begin with alike (text, punctuation and case)."""
    count = 0
    while count < min(len(a), len(b)) and a[count].text.strip() == b[count].text.strip():
        count += 1
    return count
