"""Scripted speech for the streaming-policy unit tests: timed words, a fake recogniser that hears them, and
a simulated real-time clock (audio time only) that feeds a policy chunk by chunk. For the integration tests:
phrases synthesised by espeak-ng and real speech joined with pauses into one test file."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from dictate.constants import SAMPLE_RATE
from dictate.streaming.events import Committed, Event
from dictate.streaming.policy import LocalAgreementPolicy
from dictate.transcript.types import Word

CHUNK_S = 0.5


def script(text: str, start: float = 0.0, word_s: float = 0.4, gap_s: float = 0.1) -> list[Word]:
    """Words of `text` spoken back to back from `start`."""
    words = []
    t = start
    for token in text.split():
        words.append(Word(t, t + word_s, " " + token))
        t += word_s + gap_s
    return words


@dataclass
class FakeBackend:
    """Hears the scripted words that end inside the window; the last word is misheard while it is fresh."""

    words: list[Word]
    unstable_s: float = 0.3  # a word ending this close to the window end comes out wrong
    calls: list[tuple[float, float, str]] = field(default_factory=list)  # (offset, seconds, prompt)

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        end = offset + len(audio) / SAMPLE_RATE
        self.calls.append((offset, len(audio) / SAMPLE_RATE, prompt))
        heard = [w for w in self.words if w.start >= offset - 1e-6 and w.end <= end]
        if heard and end - heard[-1].end < self.unstable_s:
            last = heard[-1]
            heard[-1] = Word(last.start, last.end, last.text + "q")
        return heard


def stream(policy: LocalAgreementPolicy, seconds: float, start: float = 0.0) -> list[Event]:
    """Feed `seconds` of audio in CHUNK_S pieces, processing after each (a simulated real-time clock)."""
    events: list[Event] = []
    for i in range(int(round(seconds / CHUNK_S))):
        policy.insert_audio(np.zeros(int(CHUNK_S * SAMPLE_RATE), np.float32), start + i * CHUNK_S)
        events += policy.process()
    return events


def committed_words(events: list[Event]) -> list[Word]:
    return [w for e in events if isinstance(e, Committed) for w in e.words]


ESPEAK_VOICE = ("-v", "en-us+m3", "-s", "110")  # a voice and rate tiny.en understands in most phrases


def espeak(text: str, folder: Path, voice: Sequence[str] = ESPEAK_VOICE) -> np.ndarray:
    """`text` spoken by espeak-ng (its `[[...]]` phoneme notation too), at SAMPLE_RATE."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (packaging/bootstrap.sh installs it with the test tools)")
    path = folder / "espeak.wav"
    subprocess.run(["espeak-ng", *voice, "-w", str(path), text], check=True, capture_output=True)
    audio, rate = soundfile.read(path, dtype="float32")
    path.unlink()
    return soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)


def librispeech(audio_dir: Path, utterance: str) -> np.ndarray:
    """One LibriSpeech utterance of the shared audio folder."""
    audio, rate = soundfile.read(audio_dir / "librispeech" / "wav" / f"{utterance}.wav", dtype="float32")
    assert rate == SAMPLE_RATE
    return audio


def join_with_pauses(pieces: Sequence[np.ndarray], pause_s: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The pieces one after another, each followed by `pause_s` of silence; and each piece's (start, end) in s."""
    pause = np.zeros(int(round(pause_s * SAMPLE_RATE)), np.float32)
    parts: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    at = 0
    for piece in pieces:
        spans.append((at / SAMPLE_RATE, (at + len(piece)) / SAMPLE_RATE))
        parts += [piece, pause]
        at += len(piece) + len(pause)
    return np.concatenate(parts), spans


PAUSE_S = 1.0  # silence after every piece of a joined command file
COMMAND_VOICE = ("-v", "en-us+m6", "-s", "150")  # an espeak-ng voice and rate tiny.en understands after real speech
# What espeak-ng says for each command, and how. Streaming, with the speech before it as context, tiny.en
# heard "New paragraph." as "you pair a graph" with the short-phrase test's voice (en-us+m3 at 110), and
# espeak's "Scratch that." as "crash that", "crash Matt" or "scratch" with most voices and rates; a longer
# first "s" (espeak's phoneme notation) in en-us at 165 words a minute was heard right.
SPOKEN_COMMANDS = {
    "new paragraph": ("New paragraph.", COMMAND_VOICE),
    "scratch that": ("[[s:kr'atS D'at]]", ("-v", "en-us", "-s", "165")),
}


@dataclass(frozen=True)
class JoinedFile:
    """A joined test file and where each of its pieces lies."""

    wav: Path
    spans: list[tuple[float, float]]  # (start, end) s of each piece


def spoken_piece(name: str, audio_dir: Path, folder: Path) -> np.ndarray:
    """A command of SPOKEN_COMMANDS, synthesised, or a LibriSpeech utterance."""
    if name in SPOKEN_COMMANDS:
        text, voice = SPOKEN_COMMANDS[name]
        return espeak(text, folder, voice)
    return librispeech(audio_dir, name)


def build_joined(folder: Path, name: str, pieces: Sequence[np.ndarray]) -> JoinedFile:
    """`name`.wav in `folder`: the pieces, each followed by PAUSE_S of silence."""
    audio, spans = join_with_pauses(pieces, PAUSE_S)
    wav = folder / f"{name}.wav"
    soundfile.write(wav, audio, SAMPLE_RATE)
    return JoinedFile(wav, spans)
