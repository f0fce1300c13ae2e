"""Short phrases said on their own between real utterances, streamed at real time through the capture path.

Dictation lives on them ("New paragraph.", "Yes.", a name): each must be committed when the VAD ends
its utterance (before that UtteranceEnd event, so before anything of the next utterance), and none
may be lost. Event order, not the clock: a loaded machine reads the capture in larger blocks. The phrases are
synthesised with espeak-ng at run time (a voice tiny.en transcribes correctly on its own).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from dictate.asr.transcribe import Recognizer
from dictate.audio.capture import FileSource
from dictate.constants import SAMPLE_RATE
from dictate.streaming.backend import WhisperBackend
from dictate.streaming.engine import EngineOptions, StreamingEngine
from dictate.streaming.events import Committed, Event, UtteranceEnd
from dictate.streaming.guards import word_key

PAUSE_S = 0.8  # silence between utterances: longer than the VAD's min_silence_s, shorter than a context reset
ESPEAK_VOICE = ("-v", "en-us+m3", "-s", "110")


@dataclass(frozen=True)
class Piece:
    text: str  # the phrase as spoken; "" for a LibriSpeech utterance
    audio: np.ndarray


def espeak(text: str, folder: Path) -> np.ndarray:
    """`text` spoken by espeak-ng, at 16 kHz."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (packaging/bootstrap.sh installs it with the test tools)")
    path = folder / f"{word_key(text).replace(' ', '_')}.wav"
    subprocess.run(["espeak-ng", *ESPEAK_VOICE, "-w", str(path), text], check=True, capture_output=True)
    audio, rate = soundfile.read(path, dtype="float32")
    return soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)


def librispeech(audio_dir: Path, utterance: str) -> np.ndarray:
    audio, rate = soundfile.read(audio_dir / "librispeech" / "wav" / f"{utterance}.wav", dtype="float32")
    assert rate == SAMPLE_RATE
    return audio


def key(text: str) -> str:
    return " ".join(k for k in (word_key(t) for t in text.split()) if k)


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir)


def test_short_phrases_between_pauses_are_committed_when_their_utterance_ends(
        recognizer: Recognizer, audio_dir: Path, tmp_path: Path) -> None:
    # The stream begins with the phrase itself, no silence first (its first word was lost before).
    pieces = [
        Piece("New paragraph.", espeak("New paragraph.", tmp_path)),
        Piece("", librispeech(audio_dir, "1688-142285-0002")),
        Piece("Yes.", espeak("Yes.", tmp_path)),
        Piece("", librispeech(audio_dir, "1688-142285-0003")),
        Piece("Sarah Jones.", espeak("Sarah Jones.", tmp_path)),
        Piece("", librispeech(audio_dir, "1688-142285-0008")),
        Piece("New paragraph.", espeak("New paragraph.", tmp_path)),
    ]
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    starts, parts, at = [], [], 0
    for piece in pieces:
        starts.append(at / SAMPLE_RATE)
        parts += [piece.audio, pause]
        at += len(piece.audio) + len(pause)
    path = tmp_path / "phrases.wav"
    soundfile.write(path, np.concatenate(parts), SAMPLE_RATE)

    events: list[Event] = []
    engine = StreamingEngine(EngineOptions(), FileSource(path, realtime=True), events.append,
                             backend=WhisperBackend(recognizer))
    engine.run()

    def committed_before(index: int) -> str:
        return key("".join(w.text for e in events[:index] if isinstance(e, Committed) for w in e.words))

    text = committed_before(len(events))
    phrases = [i for i, piece in enumerate(pieces) if piece.text]
    in_order = ".*".join(rf"\b{re.escape(key(pieces[i].text))}\b" for i in phrases)
    assert re.search(in_order, text), text  # every phrase, the stream's first word included
    assert text.startswith("new paragraph"), text
    ends = [(index, e.time) for index, e in enumerate(events) if isinstance(e, UtteranceEnd)]
    for n, i in enumerate(phrases):
        # the phrase's own utterance end: the first after it began (the one before ends within the pause)
        own_end = next(index for index, time in ends if time > starts[i])
        so_far = ".*".join(rf"\b{re.escape(key(pieces[j].text))}\b" for j in phrases[: n + 1])
        before = committed_before(own_end)
        assert re.search(so_far, before), (pieces[i].text, before)
