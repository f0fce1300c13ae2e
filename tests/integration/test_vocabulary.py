"""The vocabulary on real speech: names and rare words tiny.en misspells come out right once listed, offline
and streaming, and the list leaves the other LibriSpeech utterances' WER where it was.

The list is bench/librispeech_terms.txt (each term with the utterances it fixes); the helpers that
transcribe and stream a file are bench/vocabulary.py's. The WER check runs greedy (the streaming
decoding, and twice as fast as beam 5) on every second utterance without a listed term, 27 of the 54,
to stay under a minute on two cores; `python -m bench.vocabulary` measures all of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import load_set, word_error_rate
from bench.vocabulary import DEFAULT_TERMS, offline_text, streamed_text, without_terms
from dictate.asr.prompting import count_terms
from dictate.asr.transcribe import Recognizer, TranscribeOptions
from dictate.text.vocabulary import load_vocabulary

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
    return load_vocabulary(DEFAULT_TERMS).prompt()


def wav(audio_dir: Path, utterance: str) -> Path:
    return audio_dir / "librispeech" / "wav" / f"{utterance}.wav"


@pytest.mark.parametrize(("utterance", "term"), MISSPELLED.items())
def test_offline_the_listed_word_is_spelled_right(recognizer: Recognizer, vocabulary: str, audio_dir: Path,
                                                  utterance: str, term: str) -> None:
    path = wav(audio_dir, utterance)
    without = offline_text(recognizer, path, TranscribeOptions())
    with_vocabulary = offline_text(recognizer, path, TranscribeOptions(vocabulary=vocabulary))
    assert not count_terms(without, term), without
    assert count_terms(with_vocabulary, term), with_vocabulary


@pytest.mark.parametrize(("utterance", "term"), MISSPELLED.items())
def test_streaming_the_listed_word_is_spelled_right(recognizer: Recognizer, vocabulary: str, audio_dir: Path,
                                                    utterance: str, term: str) -> None:
    path = wav(audio_dir, utterance)
    without, with_vocabulary = streamed_text(recognizer, path, ""), streamed_text(recognizer, path, vocabulary)
    assert not count_terms(without, term), without
    assert count_terms(with_vocabulary, term), with_vocabulary


def test_both_commands_take_the_vocabulary_file(audio_dir: Path, tmp_path: Path, tiny_model_dir: Path) -> None:
    path, out = wav(audio_dir, CLI_UTTERANCE), tmp_path / "out.txt"
    model, listed = ["--model", str(tiny_model_dir)], ["--vocabulary", str(DEFAULT_TERMS)]
    dictate = [sys.executable, "-m", "dictate"]
    transcribed = subprocess.run([*dictate, "transcribe", str(path), *model, *listed], check=True,
                                 capture_output=True, text=True, timeout=300).stdout
    subprocess.run([*dictate, "stream", "--input", str(path), "--fast", "--no-journal", "-o", str(out), *model,
                    *listed], check=True, capture_output=True, timeout=300)
    term = MISSPELLED[CLI_UTTERANCE]
    assert count_terms(transcribed, term), transcribed
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
    utterances = load_set("librispeech", audio_dir)
    terms = load_vocabulary(DEFAULT_TERMS).terms
    subset = [utterances[i] for i in without_terms(utterances, terms)][::WER_SUBSET_STEP]
    references = [u.reference for u in subset]
    greedy = TranscribeOptions(beam_size=1)
    without = word_error_rate(references, [offline_text(recognizer, u.path, greedy) for u in subset])
    listed = TranscribeOptions(beam_size=1, vocabulary=vocabulary)
    with_vocabulary = word_error_rate(references, [offline_text(recognizer, u.path, listed) for u in subset])
    assert with_vocabulary <= without + MAX_WER_RISE, (with_vocabulary, without)
