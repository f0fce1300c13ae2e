"""Turns the event stream into a `Transcript`: committed words, one segment per sentence or utterance."""

from __future__ import annotations

from dataclasses import replace

from dictate.streaming.events import AudioDropped, Committed, Event, UtteranceEnd
from dictate.streaming.guards import word_key
from dictate.streaming.policy import ends_sentence
from dictate.transcript.types import Segment, Transcript, TranscriptInfo, Word


def dropped_marker(seconds: float) -> str:
    """What the transcript says where audio was lost: never a silent gap."""
    return f" [audio dropped {seconds:.1f} s]"


class TranscriptCollector:
    """Call with every event; `transcript()` gives the committed text so far."""

    def __init__(self) -> None:
        self._segments: list[Segment] = []
        self._open: list[Word] = []  # committed words of the segment in progress

    def __call__(self, event: Event) -> None:
        if isinstance(event, Committed):
            for word in event.words:
                if not self._open and not word_key(word.text) and self._segments:
                    self._amend_last(word)  # a sentence mark held over the pause that ended the segment
                    continue
                self._open.append(word)
                if ends_sentence(self._open, len(self._open) - 1):  # not after "Mr."
                    self._close()
        elif isinstance(event, UtteranceEnd):
            self._close()
        elif isinstance(event, AudioDropped) and event.seconds > 0:
            self._close()
            self._segments.append(Segment(id=len(self._segments), start=event.start,
                                          end=event.start + event.seconds, text=dropped_marker(event.seconds)))

    def _amend_last(self, mark: Word) -> None:
        last = self._segments[-1]
        self._segments[-1] = replace(last, text=last.text + mark.text, words=(*last.words, mark))

    def _close(self) -> None:
        if self._open:
            words = tuple(self._open)
            self._segments.append(Segment(id=len(self._segments), start=words[0].start, end=words[-1].end,
                                          text="".join(w.text for w in words), words=words))
            self._open = []

    def transcript(self, info: TranscriptInfo) -> Transcript:
        """The committed text as segments (the one in progress included)."""
        self._close()
        return Transcript(segments=list(self._segments), info=info)
