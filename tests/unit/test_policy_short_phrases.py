"""Short utterances and the stream's first word, with fake recognisers that fail the way tiny.en does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dictate.constants import SAMPLE_RATE
from dictate.streaming.events import UtteranceEnd
from dictate.streaming.hypothesis_buffer import HypothesisBuffer
from dictate.streaming.policy import LocalAgreementPolicy
from dictate.transcript.types import Word
from tests.scripted_speech import FakeBackend, committed_words, script, stream


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), np.float32)


@dataclass
class EndsBeforeShortTail(FakeBackend):
    """With earlier speech in the window, ends its text before the short utterance from `tail_start` on."""

    tail_start: float = 0.0

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset)
        if offset < self.tail_start - 1.0:
            heard = [word for word in heard if word.start < self.tail_start]
        return heard


def test_a_short_utterance_the_context_window_misses_is_committed_at_its_end() -> None:
    sentence = script("one two three four five six seven eight nine ten")  # 0 - 4.9 s
    phrase = script("yes", start=6.3)
    backend = EndsBeforeShortTail(sentence + phrase, unstable_s=0.0, tail_start=6.0)
    policy = LocalAgreementPolicy(backend)
    stream(policy, 5.0)
    policy.finish(speech_end=5.0)
    policy.insert_pause(silence(1.0), 5.0)  # the pause stays as context
    policy.insert_audio(silence(1.0), 6.0)
    events = policy.process()
    events += policy.finish(speech_end=7.0)
    assert [w.text for w in committed_words(events)] == [" yes"]
    assert isinstance(events[-1], UtteranceEnd)  # committed with the utterance's end, not with the next one
    # the second decode was of the utterance alone, with the committed text as its prompt
    offset, _, prompt = backend.calls[-1]
    assert offset == 6.0 and prompt.endswith("nine ten")


def test_a_final_hypothesis_that_hears_the_utterance_is_not_decoded_again() -> None:
    sentence = script("one two three four five six seven eight nine ten")
    phrase = script("yes", start=6.3)
    backend = FakeBackend(sentence + phrase, unstable_s=0.0)
    policy = LocalAgreementPolicy(backend)
    stream(policy, 5.0)
    policy.finish(speech_end=5.0)
    policy.insert_pause(silence(1.0), 5.0)
    policy.insert_audio(silence(1.0), 6.0)
    calls = len(backend.calls)
    events = policy.finish(speech_end=7.0)
    assert [w.text for w in committed_words(events)] == [" yes"]
    assert len(backend.calls) == calls + 1


@dataclass
class NeedsSilenceFirst(FakeBackend):
    """Like Whisper: a word that begins less than `lead_in_s` after the window's start is not heard."""

    lead_in_s: float = 0.2

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset)
        return [word for word in heard if word.start >= offset + self.lead_in_s - 1e-6]


def speech_where(words: list[Word]):
    def probability(start: float, end: float) -> float:
        return 1.0 if any(w.start < end and w.end > start for w in words) else 0.0
    return probability


def test_the_first_word_of_a_stream_that_begins_with_speech_is_kept() -> None:
    words = script("new paragraph said twice")
    backend = NeedsSilenceFirst(words, unstable_s=0.0)
    policy = LocalAgreementPolicy(backend, speech_probability=speech_where(words))
    events = stream(policy, 2.5)
    events += policy.finish(speech_end=2.5)
    committed = committed_words(events)
    assert [w.text for w in committed] == [w.text for w in words]
    assert committed[0].start == 0.0  # never before the stream's start, though decoded after silence
    assert all(offset == -backend.lead_in_s for offset, _, _ in backend.calls)


def test_a_buffer_that_begins_with_silence_gets_no_lead_in() -> None:
    words = script("new paragraph", start=0.5)
    backend = NeedsSilenceFirst(words, unstable_s=0.0)
    policy = LocalAgreementPolicy(backend, speech_probability=speech_where(words))
    events = stream(policy, 2.0)
    events += policy.finish(speech_end=2.0)
    assert [w.text for w in committed_words(events)] == [" new", " paragraph"]
    assert all(offset == 0.0 for offset, _, _ in backend.calls)


def test_the_committed_tail_decoded_again_later_is_not_new_but_a_repetition_is() -> None:
    he_said = [Word(0.0, 0.4, " he"), Word(0.4, 0.8, " said")]
    buffer = HypothesisBuffer()
    for _ in range(2):
        buffer.insert(he_said)
        buffer.flush()
    assert buffer.committed_time == 0.8
    # the alignment stretched "he" over a pause: "said" comes a second later, still the same word
    buffer.insert([Word(0.0, 1.8, " he"), Word(1.8, 2.0, " said")])
    assert buffer.pending == ()
    # "he said said": the second one is new
    buffer.insert([*he_said, Word(2.0, 2.4, " said")])
    assert [w.text for w in buffer.pending] == [" said"]
