"""`dictate transcribe` as a user runs it: real model, real files, exit statuses and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile
from whisper_normalizer.english import EnglishTextNormalizer

from tests.integration.test_transcribe import JFK_TEXT

EXIT_BAD_INPUT = 2
LEAD_SILENCE_S = 25
normalize = EnglishTextNormalizer()


def _dictate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dictate", "transcribe", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_prints_the_jfk_text(jfk_wav: Path, tiny_model_dir: Path) -> None:
    result = _dictate(jfk_wav)
    assert result.returncode == 0, result.stderr
    assert normalize(result.stdout) == normalize(JFK_TEXT)
    assert result.stdout.count("\n") == 1


def test_missing_and_non_audio_files_fail_in_one_line(tmp_path: Path, tiny_model_dir: Path) -> None:
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is text, not sound\n")
    for path in (tmp_path / "missing.wav", not_audio):
        result = _dictate(path)
        assert result.returncode == EXIT_BAD_INPUT
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.stderr


def test_several_files_into_a_folder_as_json_with_words(jfk_wav: Path, audio_dir: Path, tmp_path: Path,
                                                         tiny_model_dir: Path) -> None:
    other = audio_dir / "librispeech" / "wav" / "1089-134686-0000.wav"
    out = tmp_path / "out"
    result = _dictate(jfk_wav, other, "--format", "json", "--word-timestamps", "--beam-size", "1", "-o", out)
    assert result.returncode == 0, result.stderr
    document = json.loads((out / "jfk.json").read_text())
    assert (out / "1089-134686-0000.json").is_file()
    assert document["language"] == "en" and document["language_probability"] == 1.0
    assert normalize(document["text"]) == normalize(JFK_TEXT)


def test_output_file_format_from_its_extension(jfk_wav: Path, tmp_path: Path, tiny_model_dir: Path) -> None:
    target = tmp_path / "jfk.srt"
    result = _dictate(jfk_wav, "-o", target)
    assert result.returncode == 0, result.stderr
    srt = target.read_text()
    assert srt.startswith("1\n00:00:00,000 --> ") and "country" in srt


def test_speech_after_silence_keeps_its_time_also_without_vad(jfk_wav: Path, tmp_path: Path,
                                                              tiny_model_dir: Path) -> None:
    jfk, rate = soundfile.read(jfk_wav, dtype="float32")
    path = tmp_path / "late.wav"
    soundfile.write(path, np.concatenate([np.zeros(LEAD_SILENCE_S * rate, np.float32), jfk]), rate)
    gated = _dictate(path, "--format", "srt", "--beam-size", "1")
    assert gated.returncode == 0, gated.stderr
    first_start = gated.stdout.splitlines()[1].split(" --> ")[0]  # 00:00:SS,mmm
    assert LEAD_SILENCE_S - 1 <= float(first_start[-6:].replace(",", ".")) <= LEAD_SILENCE_S + 1, gated.stdout
    ungated = _dictate(path, "--no-vad", "--beam-size", "1")
    assert ungated.returncode == 0, ungated.stderr
    assert "ask not what your country can do for you" in normalize(ungated.stdout)  # whole audio decoded
