"""Typed events the streaming engine hands to its consumer (CLI, GUI), in audio-time order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from dictate.transcript.types import Word


@dataclass(frozen=True)
class Committed:
    """Final words, appended after every earlier `Committed`; never rewritten."""

    words: tuple[Word, ...]


@dataclass(frozen=True)
class Tentative:
    """The current unstable tail after the committed text; replaces the previous one (may be empty)."""

    words: tuple[Word, ...]


@dataclass(frozen=True)
class UtteranceEnd:
    """Speech ended at `time` (s of audio); everything before it is committed."""

    time: float


@dataclass(frozen=True)
class Paused:
    """The engine paused: everything heard before the pause is committed (the events before this one)."""

    time: float  # audio time (s) of the pause


@dataclass(frozen=True)
class EngineStatus:
    """Periodic health report."""

    audio_time: float  # seconds of audio captured so far
    lag: float  # seconds of captured audio not yet decoded
    rtf: float  # decode seconds per audio second of the last decode (0 in silence)
    level_db: float  # input level of the latest block, dBFS
    speaking: bool  # the VAD's current decision
    decode_window: tuple[float, float] | None = None  # the audio (start, end s) the next decode sees; None: none


@dataclass(frozen=True)
class AudioDropped:
    """Audio the engine could not keep (ring-buffer overrun or device overflow)."""

    start: float  # audio time (s) where the loss begins
    seconds: float  # how much was lost


@dataclass(frozen=True)
class EngineError:
    """A failure; `recoverable` means the transcript is kept and `set_source` can continue."""

    message: str
    recoverable: bool


@dataclass(frozen=True)
class InputSilent(EngineError):
    """A warning, not a lost stream: the live input is open but has delivered only digital silence.

    The microphone may be muted or unplugged with its stream kept alive; capture goes on, so words
    continue when it delivers sound again. Consumers keep the stream (no device rescan, no stop).
    """

    recoverable: bool = True


Event = Union[Committed, Tentative, UtteranceEnd, Paused, EngineStatus, AudioDropped, EngineError]
