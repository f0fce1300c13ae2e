"""The streaming engine on the real model and real speech, fed through the capture path at a fast clock."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile
from whisper_normalizer.english import EnglishTextNormalizer

from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe, window_mel
from dictate.audio.capture import FileSource
from dictate.constants import SAMPLE_RATE
from dictate.streaming.backend import StreamingDecodeOptions, WhisperBackend
from dictate.streaming.engine import EngineOptions, StreamingEngine
from dictate.streaming.events import Committed, EngineStatus, Event, Tentative, UtteranceEnd
from dictate.streaming.mel_cache import StreamMel
from dictate.streaming.processor import ProcessorOptions, StreamProcessor
from dictate.transcript.journal import read_journal, sessions_to_recover
from tests.scripted_speech import join_with_pauses, librispeech

LONGFORM = "librispeech_test-other_1688-142285_0000-0009"
PAUSED_LONGFORM = "librispeech_test-other_2414-128291_0000-0009"  # short utterances: many ends and starts
FAST_CHUNK_S = 1.0  # decode every second of audio: keeps the test short on two cores


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir)


def stream(recognizer: Recognizer, path: Path) -> list[Event]:
    events: list[Event] = []
    engine = StreamingEngine(EngineOptions(min_chunk_s=FAST_CHUNK_S), FileSource(path, realtime=False),
                             events.append, backend=WhisperBackend(recognizer))
    engine.run()
    return events


def committed_text(events: list[Event]) -> str:
    return "".join(word.text for event in events if isinstance(event, Committed) for word in event.words)


@pytest.fixture(scope="module")
def longform_events(recognizer: Recognizer, audio_dir: Path) -> list[Event]:
    return stream(recognizer, audio_dir / "longform" / f"{LONGFORM}.wav")


def test_streaming_wer_is_within_a_point_of_offline(longform_events: list[Event], recognizer: Recognizer,
                                                    audio_dir: Path) -> None:
    path = audio_dir / "longform" / f"{LONGFORM}.wav"
    normalise = EnglishTextNormalizer()
    reference = normalise(path.with_suffix(".txt").read_text())
    segments, _ = transcribe(str(path), recognizer, TranscribeOptions(beam_size=1))
    offline = jiwer.wer(reference, normalise("".join(s.text for s in segments)))
    streaming = jiwer.wer(reference, normalise(committed_text(longform_events)))
    assert streaming <= offline + 0.01, (streaming, offline)


def test_committed_text_is_append_only_and_timed_in_order(longform_events: list[Event]) -> None:
    committed = [w for e in longform_events if isinstance(e, Committed) for w in e.words]
    starts = [w.start for w in committed]
    assert starts == sorted(starts)
    assert all(w.start <= w.end for w in committed)
    # every tentative tail starts after the committed text at the time it was shown
    so_far = 0.0
    for event in longform_events:
        if isinstance(event, Committed):
            so_far = event.words[-1].end
        elif isinstance(event, Tentative) and event.words:
            assert event.words[0].start >= so_far - 0.1
    ends = [e.time for e in longform_events if isinstance(e, UtteranceEnd)]
    assert len(ends) >= 5 and ends == sorted(ends)
    assert isinstance(longform_events[-1], (UtteranceEnd, Tentative, EngineStatus))


def fed_in_blocks(recognizer: Recognizer, audio: np.ndarray, block_sizes: np.random.Generator | None) -> str:
    """Committed text of `audio` fed to a processor in 20-ms blocks (None) or in blocks of random sizes."""
    processor = StreamProcessor(WhisperBackend(recognizer), ProcessorOptions(min_chunk_s=FAST_CHUNK_S))
    events, position = [], 0
    while position < len(audio):
        size = 320 if block_sizes is None else int(block_sizes.integers(160, SAMPLE_RATE))
        events += processor.feed(audio[position : position + size])
        position += size
    return committed_text(events + processor.flush())


def test_the_text_depends_on_the_audio_not_on_the_blocks_it_arrived_in(recognizer: Recognizer,
                                                                        audio_dir: Path) -> None:
    """Live, the blocks are whatever the sound card and a busy decoder make of the audio: 10 ms to a second.
    Decodes end on a grid of audio times, so every way of cutting the audio gives the same text."""
    audio, _ = soundfile.read(audio_dir / "longform" / f"{PAUSED_LONGFORM}.wav", dtype="float32",
                              frames=30 * SAMPLE_RATE)
    steady = fed_in_blocks(recognizer, audio, None)
    assert len(steady.split()) > 40
    assert fed_in_blocks(recognizer, audio, np.random.default_rng(1)) == steady


def write(tmp_path: Path, name: str, audio: np.ndarray) -> Path:
    path = tmp_path / name
    soundfile.write(path, audio, SAMPLE_RATE, subtype="FLOAT")
    return path


def test_an_utterance_after_a_finished_sentence_and_a_pause_is_committed_as_it_is_spoken(
        recognizer: Recognizer, audio_dir: Path, tmp_path: Path) -> None:
    # With "... without telling us what he had been." and a pause before it, the decodes of the whole buffer
    # end their text at the pause, one after another: nothing of the second utterance was committed until it ended.
    pieces = [librispeech(audio_dir, "1688-142285-0006"), librispeech(audio_dir, "1688-142285-0004")]
    audio, spans = join_with_pauses(pieces, pause_s=1.0)
    path = tmp_path / "two.wav"
    soundfile.write(path, audio, SAMPLE_RATE)
    events: list[Event] = []
    StreamingEngine(EngineOptions(), FileSource(path, realtime=False), events.append,
                    backend=WhisperBackend(recognizer)).run()
    second = spans[1][0]
    own_end = next(i for i, event in enumerate(events) if isinstance(event, UtteranceEnd) and event.time > second)
    final = max(i for i in range(own_end) if isinstance(events[i], Committed))  # the final decode's commit
    early = [w.text for e in events[:final] if isinstance(e, Committed) for w in e.words if w.start >= second - 0.1]
    assert len(early) >= 5, early  # of "His statement of having been a shop boy was the thing I liked best of all."
    normalise = EnglishTextNormalizer()
    assert "his statement of having been a shop boy was the thing i liked best of all" in normalise(
        committed_text(events)), committed_text(events)


def test_a_minute_of_digital_silence_gives_no_words(recognizer: Recognizer, tmp_path: Path) -> None:
    events = stream(recognizer, write(tmp_path, "silence.wav", np.zeros(60 * SAMPLE_RATE, np.float32)))
    assert committed_text(events) == ""
    assert not any(isinstance(e, Tentative) and e.words for e in events)


def test_a_minute_of_white_noise_gives_no_words(recognizer: Recognizer, tmp_path: Path) -> None:
    noise = (np.random.default_rng(1).standard_normal(60 * SAMPLE_RATE) * 0.05).astype(np.float32)
    events = stream(recognizer, write(tmp_path, "noise.wav", noise))
    assert committed_text(events) == ""


def test_cached_mel_windows_equal_the_batch_window(jfk_wav: Path) -> None:
    audio, _ = soundfile.read(jfk_wav, dtype="float32")
    mel = StreamMel(80)
    for end in (4800, 16_000 + 37, 80_000, len(audio)):  # a growing buffer from the stream's start
        cached, frames = mel.window(audio[:end], 0.0)
        batch, batch_frames = window_mel(audio[:end], 80)
        assert frames == batch_frames
        np.testing.assert_allclose(cached, batch, atol=1e-5)


def dictate_stream(*args: str | Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`dictate stream ARGS` as a user runs it, with a private data folder (default journal place)."""
    env = {**os.environ, "DICTATE_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "dictate", "stream", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=Path(__file__).parents[2])


def test_stream_journals_every_committed_word_and_closes_cleanly(jfk_wav: Path, tiny_model_dir: Path,
                                                                 tmp_path: Path) -> None:
    journal = tmp_path / "jfk.jsonl"
    result = dictate_stream("--input", jfk_wav, "--fast", "--journal", journal, data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    session = read_journal(journal)
    assert session.clean_end and sessions_to_recover(tmp_path) == []
    assert " ".join(session.text.split()) == " ".join(result.stdout.split())
    assert "fellow americans" in session.text.lower()
    # without --journal the session goes to the default sessions folder; --no-journal writes none
    dictate_stream("--input", jfk_wav, "--fast", data_dir=tmp_path / "data")
    assert len(list((tmp_path / "data" / "sessions").glob("*.jsonl"))) == 1
    dictate_stream("--input", jfk_wav, "--fast", "--no-journal", data_dir=tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_a_full_disk_warns_once_and_the_stream_goes_on(jfk_wav: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    result = dictate_stream("--input", jfk_wav, "--fast", "--journal", "/dev/full", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and "disk is full" in warnings[0], result.stderr
    assert "what you can do for your country" in result.stdout.lower()


def test_translation_is_refused_on_an_english_only_model(recognizer: Recognizer, tiny_model_dir: Path,
                                                        jfk_wav: Path) -> None:
    with pytest.raises(ValueError, match="English-only"):
        WhisperBackend(recognizer, StreamingDecodeOptions(task="translate"))
    with pytest.raises(ValueError, match="English-only"):
        StreamingEngine(EngineOptions(model=str(tiny_model_dir), task="translate"), FileSource(jfk_wav),
                        lambda event: None)


def test_the_backend_continues_known_words_as_it_would_have_decoded_them(recognizer: Recognizer, jfk_wav: Path) -> None:
    audio, rate = soundfile.read(jfk_wav, dtype="float32")
    assert rate == SAMPLE_RATE
    backend = WhisperBackend(recognizer)
    free = backend.transcribe(audio, "", 0.0, beam_size=5)
    assert len(free) > 10
    continued = backend.transcribe(audio, "", 0.0, beam_size=5, known=tuple(free[:5]))
    assert [word.text for word in continued] == [word.text for word in free]
    assert all(abs(a.start - b.start) < 0.1 and abs(a.end - b.end) < 0.1 for a, b in zip(continued, free))
    misheard = (*free[:3], replace(free[3], text=" dear"), free[4])  # known words stay as given
    continued = backend.transcribe(audio, "", 0.0, beam_size=5, known=misheard)
    assert [word.text for word in continued] == [word.text for word in misheard + tuple(free[5:])]


class CountingEncoder:
    """The real model, with its encoder runs counted."""

    def __init__(self, model: object) -> None:
        self._model = model
        self.encodes = 0

    def encode(self, mel: np.ndarray) -> object:
        self.encodes += 1
        return self._model.encode(mel)

    def __getattr__(self, name: str) -> object:
        return getattr(self._model, name)


def test_the_final_decode_uses_the_encoder_run_in_the_pause_and_writes_the_same_text(recognizer: Recognizer,
                                                                                       audio_dir: Path) -> None:
    """While the VAD waits to end an utterance, the final decode's window is encoded: the block that ends the
    utterance runs no encoder (the final text comes an encoder run sooner), and the text is what the same audio
    gives fed in one block, where nothing is prepared."""
    audio = np.concatenate([librispeech(audio_dir, "1688-142285-0004"), np.zeros(SAMPLE_RATE, np.float32)])
    counting = CountingEncoder(recognizer.model)
    processor = StreamProcessor(WhisperBackend(Recognizer(counting, recognizer.tokenizer)))
    events: list[Event] = []
    end_block_encodes: list[int] = []
    block = int(0.02 * SAMPLE_RATE)
    for position in range(0, len(audio), block):
        before = counting.encodes
        fed = processor.feed(audio[position : position + block])
        if any(isinstance(event, UtteranceEnd) for event in fed):
            end_block_encodes.append(counting.encodes - before)
        events += fed
    events += processor.flush()
    assert end_block_encodes == [0]
    at_once = StreamProcessor(WhisperBackend(recognizer))
    whole = at_once.feed(audio) + at_once.flush()
    assert len(committed_text(events).split()) >= 8
    assert committed_text(events) == committed_text(whole)
