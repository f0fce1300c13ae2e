"""The AlignAtt policy on the real tiny.en model and real speech, fed in 20-ms blocks through the VAD gate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
import pytest
from whisper_normalizer.english import EnglishTextNormalizer

from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE
from dictate.streaming.backend import WhisperBackend
from dictate.streaming.events import Committed, Event, UtteranceEnd
from dictate.streaming.processor import ProcessorOptions, StreamProcessor

BLOCK = int(0.02 * SAMPLE_RATE)  # capture block
TAIL_S = 1.0  # silence after the speech so the VAD ends the utterance
SILENCE_S = 30.0
LIBRISPEECH_ID = "1688-142285-0000"  # 15 s of read speech
OFFLINE_MARGIN = 0.1  # tiny.en mishears a word or two at a stream's start with little audio (either policy)
BASELINE_MARGIN = 0.05  # AlignAtt may be this much worse than LocalAgreement on one short file


@dataclass(frozen=True)
class Stream:
    batches: list[list[Event]]  # the events of each 20-ms feed, the final flush last

    @property
    def committed(self) -> list:
        return [w for batch in self.batches for e in batch if isinstance(e, Committed) for w in e.words]

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.committed)


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir: Path) -> Recognizer:
    return Recognizer.load(tiny_model_dir)


def stream(recognizer: Recognizer, audio: np.ndarray, policy: str = "alignatt") -> Stream:
    processor = StreamProcessor(WhisperBackend(recognizer), ProcessorOptions(policy_kind=policy))
    audio = np.concatenate([audio, np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32)])
    batches = [processor.feed(audio[i : i + BLOCK]) for i in range(0, len(audio), BLOCK)]
    return Stream(batches + [processor.flush()])


@pytest.fixture(scope="module")
def speech(recognizer: Recognizer, audio_dir: Path, librispeech_refs: dict[str, str]) -> dict[str, tuple]:
    """Per file: (audio, reference, its stream)."""
    files = {"jfk": (audio_dir / "misc" / "wav" / "jfk.wav",
                     "And so my fellow Americans, ask not what your country can do for you, "
                     "ask what you can do for your country."),
             LIBRISPEECH_ID: (audio_dir / "librispeech" / "wav" / f"{LIBRISPEECH_ID}.wav",
                              librispeech_refs[LIBRISPEECH_ID])}
    result = {}
    for name, (path, reference) in files.items():
        audio = load_audio(path)
        result[name] = (audio, reference, stream(recognizer, audio))
    return result


@pytest.mark.parametrize("name", ["jfk", LIBRISPEECH_ID])
def test_final_text_is_about_as_good_as_offline_and_local_agreement(speech: dict, recognizer: Recognizer,
                                                                    name: str) -> None:
    audio, reference, streamed = speech[name]
    normalise = EnglishTextNormalizer()

    def wer(text: str) -> float:
        return jiwer.wer(normalise(reference), normalise(text))

    segments, _ = transcribe(audio, recognizer, TranscribeOptions(beam_size=1))
    offline = wer("".join(s.text for s in segments))
    baseline = wer(stream(recognizer, audio, "local-agreement").text)
    streaming = wer(streamed.text)
    assert streaming <= offline + OFFLINE_MARGIN, (streamed.text, streaming, offline)
    assert streaming <= baseline + BASELINE_MARGIN, (streamed.text, streaming, baseline)


@pytest.mark.parametrize("name", ["jfk", LIBRISPEECH_ID])
def test_commits_are_append_only_timed_in_order_and_made_while_speaking(speech: dict, name: str) -> None:
    audio, _, streamed = speech[name]
    committed = streamed.committed
    starts = [w.start for w in committed]
    assert starts == sorted(starts) and all(w.start <= w.end for w in committed)
    assert 0 <= committed[0].start and committed[-1].end <= len(audio) / SAMPLE_RATE + TAIL_S
    # AlignAtt commits inside an utterance, from a single decode: not only at its end
    during_speech = [b for b in streamed.batches
                     if any(isinstance(e, Committed) for e in b) and not any(isinstance(e, UtteranceEnd) for e in b)]
    assert during_speech


def test_no_words_from_silence_or_room_noise(recognizer: Recognizer) -> None:
    samples = int(SILENCE_S * SAMPLE_RATE)
    noise = (np.random.default_rng(0).standard_normal(samples) * 0.003).astype(np.float32)
    for audio in (np.zeros(samples, np.float32), noise):
        assert stream(recognizer, audio).committed == []
