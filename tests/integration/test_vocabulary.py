"""The vocabulary on real speech: names and rare words tiny.en misspells come out right once listed, offline
and streaming, and the list leaves the other LibriSpeech utterances' WER where it was.

The list is bench/librispeech_terms.txt (each term with the utterances it fixes). The WER check runs
greedy (the streaming decoding, and twice as fast as beam 5) on every second utterance without a listed
term, 27 of the 54, to keep it under a minute on two cores; bench/vocabulary.py measures all of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import load_set, word_error_rate
from dictate.asr.prompting import count_terms
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.audio.capture import FileSource
from dictate.streaming.backend import StreamingDecodeOptions, WhisperBackend
from dictate.streaming.engine import EngineOptions, StreamingEngine
from dictate.streaming.events import Committed, Event
from dictate.text.vocabulary import load_vocabulary

TERMS_FILE = Path(__file__).resolve().parents[2] / "bench" / "librispeech_terms.txt"
MISSPELLED = {  # utterance: the listed word tiny.en misspells there ("Halston", "Epimorphine", "Unok")
    "1688-142285-0005": "Helstone",
    "1998-15444-0009": "Apomorphine",
    "2033-164914-0003": "eunuch",
}
CLI_UTTERANCE = "1688-142285-0005"
WER_SUBSET_STEP = 2  # every second utterance without a listed term
MAX_WER_RISE = 0.3  # percentage points


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir)


@pytest.fixture(scope="module")
def vocabulary() -> str:
    return load_vocabulary(TERMS_FILE).prompt()


def wav(audio_dir: Path, utterance: str) -> Path:
    return audio_dir / "librispeech" / "wav" / f"{utterance}.wav"


def offline(recognizer: Recognizer, path: Path, options: TranscribeOptions) -> str:
    segments, _ = transcribe(str(path), recognizer, options)
    return "".join(segment.text for segment in segments)


def streamed(recognizer: Recognizer, path: Path, vocabulary: str) -> str:
    """The committed text of the file fed through the capture path as fast as the engine takes it."""
    events: list[Event] = []
    backend = WhisperBackend(recognizer, StreamingDecodeOptions(vocabulary=vocabulary))
    StreamingEngine(EngineOptions(), FileSource(path, realtime=False), events.append, backend=backend).run()
    return "".join(word.text for event in events if isinstance(event, Committed) for word in event.words)


@pytest.mark.parametrize(("utterance", "term"), MISSPELLED.items())
def test_offline_the_listed_word_is_spelled_right(recognizer: Recognizer, vocabulary: str, audio_dir: Path,
                                                  utterance: str, term: str) -> None:
    path = wav(audio_dir, utterance)
    without = offline(recognizer, path, TranscribeOptions())
    with_vocabulary = offline(recognizer, path, TranscribeOptions(vocabulary=vocabulary))
    assert not count_terms(without, term), without
    assert count_terms(with_vocabulary, term), with_vocabulary


@pytest.mark.parametrize(("utterance", "term"), MISSPELLED.items())
def test_streaming_the_listed_word_is_spelled_right(recognizer: Recognizer, vocabulary: str, audio_dir: Path,
                                                    utterance: str, term: str) -> None:
    path = wav(audio_dir, utterance)
    without, with_vocabulary = streamed(recognizer, path, ""), streamed(recognizer, path, vocabulary)
    assert not count_terms(without, term), without
    assert count_terms(with_vocabulary, term), with_vocabulary


def test_both_commands_take_the_vocabulary_file(audio_dir: Path, tmp_path: Path, tiny_model_dir: Path) -> None:
    path, out = wav(audio_dir, CLI_UTTERANCE), tmp_path / "out.txt"
    model, listed = ["--model", str(tiny_model_dir)], ["--vocabulary", str(TERMS_FILE)]
    dictate = [sys.executable, "-m", "dictate"]
    offline_text = subprocess.run([*dictate, "transcribe", str(path), *model, *listed], check=True,
                                  capture_output=True, text=True, timeout=300).stdout
    subprocess.run([*dictate, "stream", "--input", str(path), "--fast", "--no-journal", "-o", str(out), *model,
                    *listed], check=True, capture_output=True, timeout=300)
    term = MISSPELLED[CLI_UTTERANCE]
    assert count_terms(offline_text, term), offline_text
    assert count_terms(out.read_text(encoding="utf-8"), term), out.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [["transcribe"], ["stream", "--fast", "--no-journal", "--input"]])
def test_a_missing_vocabulary_file_is_one_line_and_exit_2(command: list[str], audio_dir: Path,
                                                         tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    result = subprocess.run([sys.executable, "-m", "dictate", *command, str(wav(audio_dir, CLI_UTTERANCE)),
                             "--vocabulary", str(missing)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert str(missing) in result.stderr


def test_the_vocabulary_does_not_raise_wer_on_the_other_utterances(recognizer: Recognizer, vocabulary: str,
                                                                     audio_dir: Path) -> None:
    others = [u for u in load_set("librispeech", audio_dir) if not count_terms(u.reference, vocabulary)]
    subset = others[::WER_SUBSET_STEP]
    references = [u.reference for u in subset]
    greedy = TranscribeOptions(beam_size=1)
    without = word_error_rate(references, [offline(recognizer, u.path, greedy) for u in subset])
    listed = TranscribeOptions(beam_size=1, vocabulary=vocabulary)
    with_vocabulary = word_error_rate(references, [offline(recognizer, u.path, listed) for u in subset])
    assert with_vocabulary <= without + MAX_WER_RISE, (with_vocabulary, without)
