"""When the processor decodes: on a grid of audio times, whatever blocks the audio arrives in."""

from __future__ import annotations

import numpy as np
import pytest

from dictate.audio.vad import VoiceActivity, level_dbfs
from dictate.constants import SAMPLE_RATE
from dictate.streaming.processor import ProcessorOptions, StreamProcessor
from dictate.transcript.types import Word
from tests.scripted_speech import FakeBackend, script


class LoudIsSpeech:
    """A speech model that hears speech in every loud chunk."""

    def process_samples(self, samples: np.ndarray) -> float:
        return 1.0 if level_dbfs(samples) > -30 else 0.0

    def reset(self) -> None:
        pass


def speech_then_silence(speech_s: float, silence_s: float) -> np.ndarray:
    noise = np.random.default_rng(0).uniform(-0.3, 0.3, int(speech_s * SAMPLE_RATE)).astype(np.float32)
    return np.concatenate([noise, np.zeros(int(silence_s * SAMPLE_RATE), np.float32)])


def decode_ends(block_s: float | list[float], audio: np.ndarray, options: ProcessorOptions) -> list[float]:
    """Where each decode's audio ended (s), with the audio fed in blocks of `block_s` (or these sizes in turn)."""
    backend = FakeBackend(script("a b c d e f g h i j k l"))
    processor = StreamProcessor(backend, options, VoiceActivity(options.vad, LoudIsSpeech()))
    sizes = block_s if isinstance(block_s, list) else [block_s]
    position, index = 0, 0
    while position < len(audio):
        size = int(round(sizes[index % len(sizes)] * SAMPLE_RATE))
        processor.feed(audio[position : position + size])
        position, index = position + size, index + 1
    processor.flush()
    return [round(offset + seconds, 3) for offset, seconds, _ in backend.calls]


def test_decodes_end_on_the_grid_and_the_final_one_at_the_speech_end_in_blocks_of_any_size() -> None:
    options = ProcessorOptions(min_chunk_s=0.5)
    audio = speech_then_silence(3.0, 1.5)
    steady = decode_ends(0.02, audio, options)
    speech_end = 3.0 + options.final_silence_s  # with the silence the final decode hears
    assert steady == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, pytest.approx(speech_end, abs=0.04)]
    assert decode_ends([0.3, 0.01, 0.7, 0.45], audio, options) == steady
    assert decode_ends(0.8, audio, options) == steady  # up to a second behind: the decodes catch up


def test_a_decoder_far_behind_skips_to_the_newest_grid_point() -> None:
    options = ProcessorOptions(min_chunk_s=0.5, max_behind_s=1.0)
    audio = speech_then_silence(6.0, 1.5)
    ends = decode_ends([0.1] * 11 + [3.0] + [0.1] * 40, audio, options)  # 3 s come at once, after 1.1 s
    speech_end = 6.0 + options.final_silence_s
    assert ends == [0.5, 1.0, 4.0, 4.5, 5.0, 5.5, 6.0, pytest.approx(speech_end, abs=0.04)]  # 1.5 to 3.5 skipped


def test_a_grid_point_in_the_pause_that_ends_the_utterance_is_left_to_the_final_decode() -> None:
    options = ProcessorOptions(min_chunk_s=0.5)
    ends = decode_ends(0.02, speech_then_silence(3.2, 1.5), options)
    speech_end = 3.2 + options.final_silence_s
    assert ends == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, pytest.approx(speech_end, abs=0.04)]  # no decode ends at 3.5


def test_a_grid_point_in_a_pause_that_does_not_end_the_utterance_is_decoded_when_speech_goes_on() -> None:
    options = ProcessorOptions(min_chunk_s=0.5)
    audio = np.concatenate([speech_then_silence(3.3, 0.25), speech_then_silence(1.25, 1.5)])  # 3.3-3.55: too short
    ends = decode_ends(0.02, audio, options)
    speech_end = 4.8 + options.final_silence_s
    assert ends == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, pytest.approx(speech_end, abs=0.04)]


class PreparingBackend(FakeBackend):
    """A FakeBackend that also takes `prepare`, and records where it came among the decodes."""

    def __init__(self, words: list[Word]) -> None:
        super().__init__(words)
        self.log: list[tuple[str, float, float]] = []  # ("prepare" or "decode", offset, seconds)

    def prepare(self, audio: np.ndarray, offset: float) -> None:
        self.log.append(("prepare", offset, len(audio) / SAMPLE_RATE))

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        self.log.append(("decode", offset, len(audio) / SAMPLE_RATE))
        return super().transcribe(audio, prompt, offset, beam_size)


def fed_in_blocks(backend: PreparingBackend, audio: np.ndarray, options: ProcessorOptions) -> None:
    processor = StreamProcessor(backend, options, VoiceActivity(options.vad, LoudIsSpeech()))
    block = int(0.02 * SAMPLE_RATE)
    for position in range(0, len(audio), block):
        processor.feed(audio[position : position + block])
    processor.flush()


def test_the_final_decode_is_prepared_in_the_pause_before_the_vad_ends_the_utterance() -> None:
    options = ProcessorOptions(min_chunk_s=0.5)
    backend = PreparingBackend(script("a b c d e f g h i j k l"))
    fed_in_blocks(backend, speech_then_silence(3.2, 1.5), options)
    *running, prepared, final = backend.log
    assert all(kind == "decode" for kind, _, _ in running)
    assert prepared[0] == "prepare" and final[0] == "decode"
    assert prepared[1:] == final[1:]  # the window the final decode then saw
    assert final[1] + final[2] == pytest.approx(3.2 + options.final_silence_s, abs=0.04)


def test_a_pause_that_does_not_end_the_utterance_is_prepared_once_and_decoding_goes_on() -> None:
    options = ProcessorOptions(min_chunk_s=0.5)
    backend = PreparingBackend(script("a b c d e f g h i j k l"))
    audio = np.concatenate([speech_then_silence(3.3, 0.25), speech_then_silence(1.25, 1.5)])  # 3.3-3.55: too short
    fed_in_blocks(backend, audio, options)
    kinds = [kind for kind, _, _ in backend.log]
    assert kinds.count("prepare") == 2  # the short pause, and the one that ends the utterance
    assert kinds[-2:] == ["prepare", "decode"] and kinds.index("prepare") < len(kinds) - 3  # decodes after the first
