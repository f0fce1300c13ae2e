"""Committed words through the path a user runs (`dictate stream --realtime`) stay as good as offline Whisper.

The words `dictate stream` commits while two long-form files play at real time are scored against the
reference, next to offline greedy decoding of the same files with the same model. Real-time chunking
depends on timing, so one run varies: on these files streaming measured 1.13x, 1.21x and 1.26x offline
greedy (12.2 %) in three runs, and under 1.1x in a fourth. The target is 1.1x (not met yet); the bound is a
tripwire for a slide back of several points (as a prompt-copying decoder once caused), not the target.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jiwer
from whisper_normalizer.english import EnglishTextNormalizer

from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe

FILES = ("librispeech_test-other_1688-142285_0000-0009", "librispeech_test-other_2414-128291_0000-0009")  # 72 + 74 s
MAX_RATIO = 1.4  # streaming WER over offline greedy WER, pooled over FILES (target 1.1, not met yet)


def pooled_wer(references: list[str], hypotheses: list[str]) -> float:
    normalise = EnglishTextNormalizer()
    return jiwer.wer([normalise(r) for r in references], [normalise(h) for h in hypotheses])


def stream_at_real_time(wavs: list[Path], folder: Path) -> list[str]:
    """What `dictate stream --input wav --realtime` commits (its final transcript) for each file. The files play
    side by side, which halves the test's time; on two cores the streams then compete for the CPU, as they
    would with any other load, and the bound below allows for what that does to real-time chunking."""
    outs = [folder / f"{wav.stem}.txt" for wav in wavs]
    streams = [subprocess.Popen([sys.executable, "-m", "dictate", "stream", "--input", str(wav), "--realtime",
                                 "--no-journal", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True) for wav, out in zip(wavs, outs)]
    for stream in streams:
        _, errors = stream.communicate(timeout=600)
        assert stream.returncode == 0, errors
    return [out.read_text(encoding="utf-8") for out in outs]


def test_real_time_streaming_wer_stays_near_offline_greedy(audio_dir: Path, tiny_model_dir: Path,
                                                                      tmp_path: Path) -> None:
    wavs = [audio_dir / "longform" / f"{stem}.wav" for stem in FILES]
    references = [wav.with_suffix(".txt").read_text(encoding="utf-8") for wav in wavs]
    streamed = stream_at_real_time(wavs, tmp_path)
    recognizer = Recognizer.load(tiny_model_dir)
    offline = ["".join(s.text for s in transcribe(str(wav), recognizer, TranscribeOptions(beam_size=1))[0])
               for wav in wavs]
    streaming_wer, offline_wer = pooled_wer(references, streamed), pooled_wer(references, offline)
    assert streaming_wer <= MAX_RATIO * offline_wer, (streaming_wer, offline_wer, streamed)
