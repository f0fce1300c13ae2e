"""Committed words through the path a user runs (`dictate stream --realtime`) stay as good as offline Whisper.

The words `dictate stream` commits while two long-form files play at real time are scored against the
reference, next to offline greedy decoding (`dictate transcribe --beam-size 1`) of the same files with the
same model. Where the machine keeps up, a real-time run commits what `--fast` commits; where it falls behind,
decodes cover more audio and the text varies from run to run. Measured (2026-12-07, pooled over FILES):
1.03x offline greedy (12.86 % against 12.54 %) in two runs on a 2-core machine with AVX-512 VNNI, the same
in a sequential run, and 0.97x with two busy processes beside the streams; 1.04-1.13x in sequential runs on
a 2-core machine about 3 times slower (2026-12-02). A run over the bound is followed by a second one, and
the two are averaged (the median of two).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

import jiwer
from whisper_normalizer.english import EnglishTextNormalizer

from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe

FILES = ("librispeech_test-other_1688-142285_0000-0009", "librispeech_test-other_2414-128291_0000-0009")  # 72 + 74 s
MAX_RATIO = 1.1  # streaming WER over offline greedy WER, pooled over FILES
RUNS = 2  # real-time runs at most: the second only when the first is over MAX_RATIO


def pooled_wer(references: list[str], hypotheses: list[str]) -> float:
    normalise = EnglishTextNormalizer()
    return jiwer.wer([normalise(r) for r in references], [normalise(h) for h in hypotheses])


def stream_at_real_time(wavs: list[Path], folder: Path) -> list[str]:
    """What `dictate stream --input wav --realtime` commits (its final transcript) for each file. The files play
    side by side, which halves the test's time; on two cores the streams then compete for the CPU, as they
    would with any other load, and the bound below allows for what that does to real-time chunking."""
    folder.mkdir()
    outs = [folder / f"{wav.stem}.txt" for wav in wavs]
    streams = [subprocess.Popen([sys.executable, "-m", "dictate", "stream", "--input", str(wav), "--realtime",
                                 "--no-journal", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True) for wav, out in zip(wavs, outs)]
    for stream in streams:
        _, errors = stream.communicate(timeout=600)
        assert stream.returncode == 0, errors
    return [out.read_text(encoding="utf-8") for out in outs]


def test_real_time_streaming_wer_is_within_1_1x_offline_greedy(audio_dir: Path, tiny_model_dir: Path,
                                                                 tmp_path: Path) -> None:
    wavs = [audio_dir / "longform" / f"{stem}.wav" for stem in FILES]
    references = [wav.with_suffix(".txt").read_text(encoding="utf-8") for wav in wavs]
    recognizer = Recognizer.load(tiny_model_dir)
    offline = ["".join(s.text for s in transcribe(str(wav), recognizer, TranscribeOptions(beam_size=1))[0])
               for wav in wavs]
    offline_wer = pooled_wer(references, offline)
    ratios, streamed = [], []
    for run in range(RUNS):
        streamed = stream_at_real_time(wavs, tmp_path / f"run{run}")
        ratios.append(pooled_wer(references, streamed) / offline_wer)
        if ratios[0] <= MAX_RATIO:
            break
    assert statistics.median(ratios) <= MAX_RATIO, (ratios, offline_wer, streamed)
