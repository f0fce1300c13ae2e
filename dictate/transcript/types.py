"""Typed transcription results shared by the engine, the streaming policy, exporters and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    """One word with its audio time span (seconds from the start of the audio)."""

    start: float
    end: float
    text: str  # as decoded, usually with its leading space
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A run of text Whisper emitted between two timestamps."""

    id: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    tokens: tuple[int, ...] = ()
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    temperature: float = 0.0


@dataclass(frozen=True)
class TranscriptInfo:
    """Facts about a whole transcript that exporters and the GUI show."""

    duration: float  # seconds of audio
    language: str = "en"
    language_probability: float = 1.0
    model: str = ""
    task: str = "transcribe"


@dataclass
class Transcript:
    """A finished transcript: its segments and the facts about it."""

    segments: list[Segment] = field(default_factory=list)
    info: TranscriptInfo = field(default_factory=lambda: TranscriptInfo(duration=0.0))

    @property
    def text(self) -> str:
        """The full text: the segments' texts joined, stripped at the ends."""
        return "".join(segment.text for segment in self.segments).strip()
