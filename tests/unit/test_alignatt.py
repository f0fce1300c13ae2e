"""AlignAtt policy against a scripted fake recogniser with an attention frontier, and its frontier arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from dictate.constants import SAMPLE_RATE
from dictate.streaming.alignatt import (
    AlignAttPolicy,
    attended_frames,
    complete_words,
    frontier_backend,
    frontier_token,
)
from dictate.streaming.events import Tentative, UtteranceEnd
from dictate.streaming.policies import make_policy
from dictate.streaming.policy import PolicyOptions
from dictate.transcript.types import Word
from tests.scripted_speech import CHUNK_S, FakeBackend, committed_words, script, stream

FRONTIER_S = 0.5  # the fake decoder's attention reaches the audio end this long before it


@dataclass
class FakeFrontierBackend(FakeBackend):
    """`FakeBackend` whose `stable` holds the words ending more than FRONTIER_S before the window end (the
    misheard ones never among them), as the attention frontier would."""

    stable: tuple[Word, ...] = ()

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset)
        end = offset + len(audio) / SAMPLE_RATE
        self.stable = tuple(w for w in heard if w.end <= end - FRONTIER_S)
        return heard


def test_commits_the_words_before_the_frontier_after_one_decode() -> None:
    backend = FakeFrontierBackend(script("one two three four five"))
    policy = AlignAttPolicy(backend)
    policy.insert_audio(np.zeros(int(2.0 * SAMPLE_RATE), np.float32), 0.0)
    events = policy.process()
    assert [w.text for w in committed_words(events)] == [" one", " two", " three"]  # ends <= 2.0 - 0.5
    tentative = [e for e in events if isinstance(e, Tentative)][-1]
    assert [w.text for w in tentative.words] == [" fourq"]


def test_misheard_words_near_the_audio_end_are_never_committed() -> None:
    words = script("alpha beta gamma delta epsilon zeta eta theta")
    policy = AlignAttPolicy(FakeFrontierBackend(words))
    committed = committed_words(stream(policy, 4.5))
    assert committed and not any(w.text.endswith("q") for w in committed)
    assert [w.text for w in committed] == [w.text for w in words[: len(committed)]]


def test_finish_commits_everything_heard_and_ends_the_utterance() -> None:
    words = script("the quick brown fox jumps")
    policy = AlignAttPolicy(FakeFrontierBackend(words, unstable_s=0.0))
    events = stream(policy, 2.5)
    events += policy.finish(speech_end=2.4)
    assert "".join(w.text for w in committed_words(events)) == " the quick brown fox jumps"
    assert events[-1] == UtteranceEnd(2.4)
    assert [e for e in events if isinstance(e, Tentative)][-1].words == ()


def test_commits_are_append_only_once_each_with_monotonic_times() -> None:
    words = script("a b c d e f g h i j k l m n o p q r s t u v w x y z", word_s=0.3, gap_s=0.2)
    policy = AlignAttPolicy(FakeFrontierBackend(words, unstable_s=0.0), PolicyOptions(trim_after_s=5.0, max_buffer_s=8.0))
    events = stream(policy, 13.5) + policy.finish()
    committed = committed_words(events)
    assert [w.text for w in committed] == [w.text for w in words]  # every word once, in order, none repeated
    starts = [w.start for w in committed]
    assert starts == sorted(starts) and all(w.start <= w.end for w in committed)
    # the buffer was trimmed (the prompt carries committed text) and never exceeds the window
    backend = policy._frontier
    assert any(prompt for _, _, prompt in backend.calls)
    assert max(seconds for _, seconds, _ in backend.calls) <= 8.0 + CHUNK_S


def test_a_later_utterance_after_reset_also_commits_at_once() -> None:
    words = script("first part", start=0.0) + script("second utterance goes here", start=5.0)
    policy = AlignAttPolicy(FakeFrontierBackend(words, unstable_s=0.0))
    stream(policy, 1.5)
    policy.finish()
    policy.reset()
    policy.insert_audio(np.zeros(int(2.0 * SAMPLE_RATE), np.float32), 5.0)
    events = policy.process()
    assert [w.text for w in committed_words(events)] == [" second", " utterance", " goes"]


def test_registered_by_name_and_rejects_a_backend_without_a_frontier() -> None:
    policy = make_policy("alignatt", FakeFrontierBackend([]), PolicyOptions(), lambda start, end: 1.0)
    assert isinstance(policy, AlignAttPolicy)

    class PlainBackend:
        def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
            return []

    with pytest.raises(TypeError, match="FrontierBackend"):
        frontier_backend(PlainBackend())


def test_attended_frames_follow_a_diagonal_attention_within_the_audio() -> None:
    heads, frames, content = 4, 1500, 300
    peaks = np.arange(10, 290, 20)
    distance = np.arange(frames)[None, :] - peaks[:, None]
    noise = np.random.default_rng(0).uniform(0.0, 0.01, (heads, len(peaks), frames))
    weights = np.exp(-0.5 * (distance / 15.0) ** 2)[None] + noise
    weights[:, :, content:] += 0.5  # the padding after the audio is never chosen
    attended = attended_frames(weights.astype(np.float32), content)
    assert np.all(np.abs(attended[1:-1] - peaks[1:-1]) <= 1)  # z-scoring pushes the first and last outwards
    assert attended[-1] < content and np.all(np.diff(attended) > 0)


def test_frontier_is_the_first_token_near_the_audio_end() -> None:
    assert frontier_token([10, 200, 280, 150], content_frames=300, frame_threshold=25) == 2
    assert frontier_token([10, 200], content_frames=300, frame_threshold=25) == 2  # none: all heard
    assert frontier_token([274], content_frames=300, frame_threshold=25) == 1
    assert frontier_token([275], content_frames=300, frame_threshold=25) == 0


def test_a_word_cut_by_the_frontier_is_not_complete() -> None:
    words = [Word(0, 1, " And"), Word(1, 2, " so"), Word(2, 3, " Americans.")]
    assert complete_words(words, len(" And so Ameri")) == 2
    assert complete_words(words, len(" And so")) == 2
    assert complete_words(words, len(" And so Americans.")) == 3
    assert complete_words(words, 0) == 0
