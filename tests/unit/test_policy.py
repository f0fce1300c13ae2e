"""LocalAgreement-2 policy against a scripted fake recogniser and a simulated clock (audio time only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from dictate.constants import SAMPLE_RATE
from dictate.streaming.events import Tentative, UtteranceEnd
from dictate.streaming.policy import LocalAgreementPolicy, PolicyOptions
from dictate.transcript.types import Word
from tests.scripted_speech import CHUNK_S, FakeBackend, committed_words, script, stream


def test_commits_only_what_two_hypotheses_agree_on() -> None:
    words = script("one two three four five six seven eight")
    policy = LocalAgreementPolicy(FakeBackend(words))
    events = stream(policy, 4.5)
    committed = committed_words(events)
    assert [w.text for w in committed] == [w.text for w in words[: len(committed)]]
    assert not any(w.text.endswith("q") for w in committed)  # a misheard fresh word is never committed
    assert 5 <= len(committed) < len(words)
    tentative = [e for e in events if isinstance(e, Tentative)][-1].words
    assert [w.text.rstrip("q") for w in tentative] == [w.text for w in words[len(committed) :]]


def test_finish_commits_the_tail_and_keeps_the_audio_as_context_until_reset() -> None:
    words = script("hello there general kenobi")
    policy = LocalAgreementPolicy(FakeBackend(words, unstable_s=0.0))
    events = stream(policy, 2.5)
    events += policy.finish(speech_end=2.0)
    assert "".join(w.text for w in committed_words(events)) == " hello there general kenobi"
    assert events[-2:] == [Tentative(()), UtteranceEnd(2.0)]
    backend = policy._backend
    # after a pause the next utterance is decoded with the audio before it
    stream(policy, 1.0, start=3.0)
    offset, seconds, prompt = backend.calls[-1]
    assert (offset, seconds, prompt) == (0.0, 4.0, "")
    # after a reset it starts a fresh buffer, with the old text as prompt
    policy.reset()
    calls = len(backend.calls)
    stream(policy, 1.0, start=5.0)
    assert backend.calls[calls] == (5.0, 0.5, "hello there general kenobi")
    assert backend.calls[-1][:2] == (5.0, 1.0)


@dataclass
class EdgeFullStop(FakeBackend):
    """Like Whisper: the last word heard before the end of the audio gets a full stop (its comma unheard)."""

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset)
        if heard:
            heard[-1] = Word(heard[-1].start, heard[-1].end, heard[-1].text.rstrip(",.") + ".")
        return heard


@pytest.mark.parametrize(("before", "after"), [
    ("kenobi,", "you are a bold one"), ("kenobi", "you are a bold one"), ("kenobi.", "You are a bold one")])
def test_a_pause_starts_no_sentence_unless_the_speech_after_it_does(before: str, after: str) -> None:
    words = script(f"hello there general {before}") + script(after, start=3.0)  # a pause from 1.9 to 3 s
    policy = LocalAgreementPolicy(EdgeFullStop(words, unstable_s=0.0))
    events = stream(policy, 2.5)
    events += policy.finish(speech_end=2.0)
    assert "".join(w.text for w in committed_words(events)) == " hello there general kenobi"
    assert [w.text for w in events[-2].words] == ["."]  # the held full stop is shown, not committed
    events += stream(policy, 3.0, start=2.5) + policy.finish() + policy.reset()
    assert "".join(w.text for w in committed_words(events)) == f" hello there general {before} {after}."


def test_a_hypothesis_that_loses_the_committed_words_is_ignored() -> None:
    @dataclass
    class Inventing(FakeBackend):
        def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
            heard = super().transcribe(audio, prompt, offset)
            end = offset + len(audio) / SAMPLE_RATE
            return [Word(offset, end, " Halston.")] if len(self.calls) == 12 else heard

    words = script("one two three four five six seven eight nine ten eleven twelve thirteen")
    policy = LocalAgreementPolicy(Inventing(words, unstable_s=0.0))
    events = stream(policy, 6.0) + policy.finish() + policy.reset()
    texts = [w.text.strip() for w in committed_words(events)]
    assert "Halston." not in texts
    assert texts == [w.text.strip() for w in words[: len(texts)]] and len(texts) >= 11


def test_committed_text_is_append_only_and_monotonic_over_a_long_stream() -> None:
    text = " ".join(f"word{i}." if i % 9 == 8 else f"word{i}" for i in range(120))
    words = script(text)
    backend = FakeBackend(words)
    policy = LocalAgreementPolicy(backend)
    events = stream(policy, 61.0) + policy.finish()
    committed = committed_words(events)
    assert [w.text for w in committed] == [w.text for w in words]
    starts = [w.start for w in committed]
    assert starts == sorted(starts)
    # the buffer was trimmed at sentence ends: no window grew beyond the limit
    assert max(seconds for _, seconds, _ in backend.calls) <= PolicyOptions().max_buffer_s + CHUNK_S
    assert max(offset for offset, _, _ in backend.calls) > 30.0


def test_prompt_is_the_committed_text_that_left_the_buffer() -> None:
    text = " ".join(f"w{i}." for i in range(100))
    backend = FakeBackend(script(text))
    policy = LocalAgreementPolicy(backend, PolicyOptions(prompt_chars=40, trim_after_s=3.0, max_buffer_s=5.0))
    stream(policy, 30.0)
    offset, _, prompt = backend.calls[-1]
    assert offset > 20.0
    assert 40 - 1 <= len(prompt) <= 40 + len(" w99.")
    in_prompt = prompt.split()
    before = [w.text.strip() for w in backend.words if w.end <= offset]
    assert in_prompt == before[-len(in_prompt) :]


def test_words_repeated_at_the_buffer_boundary_are_not_committed_twice() -> None:
    @dataclass
    class Echo(FakeBackend):
        """Re-hears the last committed words with later timestamps (a shifted alignment)."""

        def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
            heard = super().transcribe(audio, prompt, offset)
            if len(self.calls) in (6, 7):  # "two three" (committed) come back just after the commit point
                return [Word(1.95, 2.0, " two"), Word(2.0, 2.05, " three")] + heard[4:]
            return heard

    words = script("zero one two three four five six seven")
    policy = LocalAgreementPolicy(Echo(words, unstable_s=0.0))
    events = stream(policy, 4.0) + policy.finish()
    texts = [w.text.strip() for w in committed_words(events)]
    assert texts == ["zero", "one", "two", "three", "four", "five", "six", "seven"]


def test_repetition_loop_is_cut_and_the_prompt_reset() -> None:
    @dataclass
    class Looping(FakeBackend):
        def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
            heard = super().transcribe(audio, prompt, offset)
            if len(self.calls) != 6:
                return heard
            return heard + [Word(heard[-1].end + 0.1 * k, heard[-1].end + 0.1 * k + 0.05, " again") for k in range(6)]

    words = script("a b c d e f g h i j")
    backend = Looping(words, unstable_s=0.0)
    policy = LocalAgreementPolicy(backend, PolicyOptions(trim_after_s=1.0, max_buffer_s=1.0))
    events = stream(policy, 5.0) + policy.finish()
    texts = [w.text.strip() for w in committed_words(events)]
    assert texts.count("again") <= 1
    prompts = [prompt for _, _, prompt in backend.calls]
    assert prompts[5].startswith("a b")  # before the loop: the committed text is the prompt
    assert not prompts[6].startswith("a")  # after it: the text committed before the loop is gone


@pytest.mark.parametrize(("squeezed", "kept"), [(" he had a great time", False), (" all of", True)])
def test_words_written_past_the_audio_are_never_committed(squeezed: str, kept: bool) -> None:
    """Like tiny.en at an utterance's end ("And apparently, he had a great time, and he had a great time."): the
    final decode writes on past the speech, and the alignment puts every extra word on the window's last frame.
    Two such words may be real ones squeezed at the end; a phrase is not."""
    @dataclass
    class WritesOn(FakeBackend):
        def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
            heard = super().transcribe(audio, prompt, offset)
            end = offset + len(audio) / SAMPLE_RATE
            return heard + [Word(end, end, " " + text) for text in squeezed.split()] if beam_size > 1 else heard

    words = script("and apparently")
    policy = LocalAgreementPolicy(WritesOn(words, unstable_s=0.0), PolicyOptions(final_beam_size=5))
    events = stream(policy, 1.0)
    policy.insert_audio(np.zeros(int(CHUNK_S * SAMPLE_RATE), np.float32), 1.0)  # a last chunk: the final decode's
    events += policy.finish(speech_end=1.0 + CHUNK_S)
    texts = [w.text.strip() for w in committed_words(events)]
    assert texts == ["and", "apparently"] + (squeezed.split() if kept else [])


@pytest.mark.parametrize(("repeat", "kept"), [(" the gut end", False), (" so to", True)])
def test_a_phrase_written_twice_on_one_frame_is_committed_once(repeat: str, kept: bool) -> None:
    """Like tiny.en in a running decode ("and the gut-end the gut-end being cut"): a phrase said once is written
    again, and the alignment puts its second copy on one frame. Two words so squeezed may be real ones."""
    @dataclass
    class WritesTwice(FakeBackend):
        def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
            heard = super().transcribe(audio, prompt, offset)
            at = next((i + 1 for i, word in enumerate(heard) if word.text == " end"), None)
            if at is None:
                return heard
            frame = heard[at - 1].end
            again = [Word(frame, frame + (0.02 if i % 2 else 0.0), " " + text) for i, text in enumerate(repeat.split())]
            return heard[:at] + again + heard[at:]

    words = script("and the gut end being cut across")
    policy = LocalAgreementPolicy(WritesTwice(words, unstable_s=0.0))
    events = stream(policy, 4.0) + policy.finish(speech_end=4.0)
    texts = [w.text.strip() for w in committed_words(events)]
    assert texts == ["and", "the", "gut", "end"] + (repeat.split() if kept else []) + ["being", "cut", "across"]


@pytest.mark.parametrize(("speech", "kept"), [(0.05, False), (0.9, True)])
def test_known_hallucination_is_dropped_only_where_the_vad_hears_no_speech(speech: float, kept: bool) -> None:
    words = [Word(0.2, 0.6, " Thank"), Word(0.6, 0.9, " you.")]
    policy = LocalAgreementPolicy(FakeBackend(words, unstable_s=0.0), speech_probability=lambda s, e: speech)
    events = stream(policy, 1.5) + policy.finish()
    assert bool(committed_words(events)) is kept


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        PolicyOptions(trim_after_s=20.0, max_buffer_s=10.0)
    with pytest.raises(ValueError):
        PolicyOptions(final_beam_size=0)
    with pytest.raises(ValueError):
        PolicyOptions(beam_size=0)


@dataclass
class JitteryBackend(FakeBackend):
    """Every other decode times the words `jitter_s` earlier (DTW timings of overlapping windows differ)."""

    jitter_s: float = 0.08

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        words = super().transcribe(audio, prompt, offset)
        shift = -self.jitter_s if len(self.calls) % 2 else 0.0
        return [Word(w.start + shift, w.end + shift, w.text) for w in words]


def test_committed_starts_never_go_back_when_word_times_jitter_between_decodes() -> None:
    words = script(" ".join(f"w{i}" for i in range(40)), word_s=0.05, gap_s=0.01)  # fast, short words
    policy = LocalAgreementPolicy(JitteryBackend(words, unstable_s=0.0))
    committed = committed_words(stream(policy, 3.0) + policy.finish(speech_end=2.4))
    assert [w.text for w in committed] == [w.text for w in words]
    starts = [w.start for w in committed]
    assert starts == sorted(starts) and all(w.end >= w.start for w in committed)


@dataclass
class PromptCopier(FakeBackend):
    """Hears "traditional ..." badly: given a prompt holding `copied`, it writes all of `copied` over those words."""

    copied: str = "found their way to egypt"

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset)
        start = next((i for i, w in enumerate(heard) if w.text.strip() == "traditional"), None)
        if self.copied not in prompt.lower() or start is None:
            return heard
        echo = self.copied.split()
        span = heard[start : start + len(echo)]
        step = (span[-1].end - span[0].start) / len(echo)
        copied = [Word(span[0].start + k * step, span[0].start + (k + 1) * step, " " + e) for k, e in enumerate(echo)]
        return heard[:start] + copied + heard[start + len(span) :]


SENTENCES = "some tribes found their way to egypt. then came more words to push it out. the stories regarding joseph the traditional father of ephraim and manasseh imply"


def test_a_phrase_copied_from_the_prompt_is_decoded_again_without_it() -> None:
    words = script(SENTENCES)
    backend = PromptCopier(words, unstable_s=0.0)
    policy = LocalAgreementPolicy(backend, PolicyOptions(trim_after_s=1.0, max_buffer_s=4.0))
    text = " ".join(w.text.strip() for w in committed_words(stream(policy, 22.0) + policy.finish()))
    assert text.count("found their way to egypt") == 1 and "the traditional father of ephraim" in text
    assert any("found their way to egypt" in prompt.lower() for _, _, prompt in backend.calls)  # it was tempted


def test_a_phrase_the_speaker_repeats_is_kept() -> None:
    words = script("we found their way to egypt. then came more words to push it out. "
                   "and again they found their way to egypt today")
    policy = LocalAgreementPolicy(FakeBackend(words, unstable_s=0.0), PolicyOptions(trim_after_s=1.0, max_buffer_s=4.0))
    text = " ".join(w.text.strip() for w in committed_words(stream(policy, 14.0) + policy.finish()))
    assert text.count("found their way to egypt") == 2


def test_a_decode_until_a_time_sees_the_audio_up_to_it_however_much_has_arrived() -> None:
    """A late decode (the audio went on arriving meanwhile) still ends where it was due."""
    words = script("one two three four five six")
    backend = FakeBackend(words, unstable_s=0.0)
    policy = LocalAgreementPolicy(backend)
    policy.insert_audio(np.zeros(int(2.5 * SAMPLE_RATE), np.float32), 0.0)
    events = policy.process(until=1.0)
    assert backend.calls[-1][:2] == (0.0, 1.0)
    assert policy.undecoded_s == pytest.approx(1.5)
    assert policy.process(until=1.0) == []  # nothing new before that time: no decode
    events += policy.process(until=2.0)
    assert backend.calls[-1][:2] == (0.0, 2.0) and len(backend.calls) == 2
    assert [w.text for w in committed_words(events)] == [" one", " two"]  # heard in [0, 1.0] and [0, 2.0]
    policy.finish(speech_end=2.2)
    assert backend.calls[-1][:2] == (0.0, pytest.approx(2.2))  # the final decode ends with the speech


def doubtful(words: list[Word], text: str) -> list[Word]:
    return [Word(w.start, w.end, w.text, 0.3 if w.text.strip() == text else 0.9) for w in words]


def test_a_doubtful_word_waits_for_a_third_agreeing_decode_and_the_words_after_it_with_it() -> None:
    words = doubtful(script("one two three four five six seven eight"), "three")
    sure = LocalAgreementPolicy(FakeBackend(words, unstable_s=0.0))
    careful = LocalAgreementPolicy(FakeBackend(words, unstable_s=0.0), PolicyOptions(doubtful_below=0.5))
    first = [committed_words(stream(policy, 1.5)) for policy in (sure, careful)]
    assert [w.text for w in first[0]] == [" one", " two"]  # 2 decodes agree on what the first 1.0 s holds
    assert [w.text for w in first[1]] == [" one", " two"]
    later = [committed_words(stream(policy, 0.5, start=1.5)) for policy in (sure, careful)]
    assert [w.text for w in later[0]] == [" three"]  # heard at 1.5 s and 2.0 s: agreed at once
    assert later[1] == []  # doubtful: not before a third decode agrees
    assert [w.text for w in committed_words(stream(careful, 0.5, start=2.0))][:2] == [" three", " four"]


@dataclass
class EndsEarlyAtTheEnd:
    """Unsure of the last 1.5 s of every window (those words never agree), and like Whisper now and then when
    the audio stops mid-speech: the final decode of the whole buffer ends its text 2 s early. A decode of
    the audio after the committed text hears all of it."""

    words: list[Word]
    final_end: float
    calls: list[tuple[float, float, str]] = field(default_factory=list)

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        end = offset + len(audio) / SAMPLE_RATE
        self.calls.append((offset, len(audio) / SAMPLE_RATE, prompt))
        heard = [w for w in self.words if w.start >= offset - 1e-6 and w.end <= end + 1e-6]
        if end < self.final_end - 1e-6:
            unsure = "?" * len(self.calls)  # never the same twice
            return [w if end - w.end > 1.5 else Word(w.start, w.end, w.text + unsure) for w in heard]
        return [w for w in heard if w.end <= self.final_end - 2.0] if offset == 0.0 else heard


def test_a_final_decode_that_ends_its_text_early_is_decoded_again_from_the_committed_text() -> None:
    words = script("one two three four five six seven eight nine ten")
    policy = LocalAgreementPolicy(EndsEarlyAtTheEnd(words, final_end=5.0))
    events = stream(policy, 4.5)
    assert [w.text for w in committed_words(events)] == [" one", " two", " three", " four", " five"]
    policy.insert_audio(np.zeros(int(0.5 * SAMPLE_RATE), np.float32), 4.5)
    events += policy.finish(speech_end=5.0)
    assert "".join(w.text for w in committed_words(events)) == " one two three four five six seven eight nine ten"
    assert policy._backend.calls[-1][:2] == (pytest.approx(2.4), pytest.approx(2.6))  # after the committed text


@dataclass
class StopsHearingMidUtterance(FakeBackend):
    """Like Whisper now and then on hard speech: every decode of the whole buffer, the running ones and the
    final one alike, hears nothing after `deaf_from` s; a decode of the audio after the committed text hears it."""

    deaf_from: float = 2.5

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset)
        return [w for w in heard if w.end <= self.deaf_from] if offset == 0.0 else heard


def test_a_final_decode_that_stops_well_before_the_speech_does_is_decoded_again_from_the_committed_text() -> None:
    policy = LocalAgreementPolicy(StopsHearingMidUtterance(script("one two three four five six seven eight nine ten")))
    events = stream(policy, 5.0)
    assert "".join(w.text for w in committed_words(events)) == " one two three four five"
    policy.insert_audio(np.zeros(int(0.5 * SAMPLE_RATE), np.float32), 5.0)
    events += policy.finish(speech_end=5.5)
    assert "".join(w.text for w in committed_words(events)) == " one two three four five six seven eight nine ten"
    assert policy._backend.calls[-1][0] == pytest.approx(2.4)  # after the committed text


def test_a_final_decode_that_hears_up_to_the_speech_end_is_not_decoded_again() -> None:
    policy = LocalAgreementPolicy(StopsHearingMidUtterance(script("one two three four five"), deaf_from=9.0))
    stream(policy, 2.5)
    policy.insert_audio(np.zeros(int(0.8 * SAMPLE_RATE), np.float32), 2.5)
    decodes = len(policy._backend.calls)
    policy.finish(speech_end=3.3)  # the last word ends at 2.4: within STOPS_SHORT_S of it
    assert len(policy._backend.calls) == decodes + 1


@dataclass
class LoopsAfterAPrompt(FakeBackend):
    """Like Whisper after some prompts: a loop, which its own checks throw away, so no words at all."""

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset)
        return [] if prompt else heard


def test_a_prompted_decode_that_hears_nothing_in_speech_is_decoded_again_without_the_prompt() -> None:
    words = script("one two three four five six seven eight")
    policy = LocalAgreementPolicy(LoopsAfterAPrompt(words, unstable_s=0.0))
    events = stream(policy, 2.0)
    events += policy.reset()  # the committed text becomes the next buffer's prompt
    events += stream(policy, 2.0, start=2.0) + policy.finish(speech_end=4.0)
    assert "".join(w.text for w in committed_words(events)) == " one two three four five six seven eight"


def test_a_prompt_of_punctuation_alone_is_no_prompt() -> None:
    words = script("one two three four")
    backend = FakeBackend(words, unstable_s=0.0)
    policy = LocalAgreementPolicy(backend)
    stream(policy, 1.0)
    policy.finish(speech_end=1.0)  # "one two" committed; a full stop would be held back
    policy._committed = [Word(0.9, 0.9, ".")]  # all the prompt could hold
    policy.reset()
    stream(policy, 1.0, start=1.0)
    assert [prompt for _, _, prompt in backend.calls[-2:]] == ["", ""]


@dataclass
class CountsBeams(EndsEarlyAtTheEnd):
    """`EndsEarlyAtTheEnd` that notes the beams of every decode."""

    beams: list[int] = field(default_factory=list)

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]:
        self.beams.append(beam_size)
        return super().transcribe(audio, prompt, offset)


def test_running_decodes_use_their_own_beams_and_final_decodes_theirs() -> None:
    words = script("one two three four five six seven eight nine ten")
    backend = CountsBeams(words, final_end=5.0)
    policy = LocalAgreementPolicy(backend, PolicyOptions(beam_size=3, final_beam_size=5))
    stream(policy, 4.5)
    assert set(backend.beams) == {3}
    running = len(backend.beams)
    policy.insert_audio(np.zeros(int(0.5 * SAMPLE_RATE), np.float32), 4.5)
    policy.finish(speech_end=5.0)
    assert set(backend.beams[running:]) == {5}


def test_only_the_final_decodes_of_an_utterance_use_the_final_beams() -> None:
    words = script("one two three four five six seven eight nine ten")
    backend = CountsBeams(words, final_end=5.0)
    policy = LocalAgreementPolicy(backend, PolicyOptions(final_beam_size=5))
    stream(policy, 4.5)
    assert set(backend.beams) == {1}  # the running decodes stay greedy
    running = len(backend.beams)
    policy.insert_audio(np.zeros(int(0.5 * SAMPLE_RATE), np.float32), 4.5)
    events = policy.finish(speech_end=5.0)
    assert backend.beams[running:] == [5, 5]  # the final decode and the one again from the committed text
    assert "".join(w.text for w in committed_words(events)) == " six seven eight nine ten"


@dataclass
class ContinuesKnownText(FakeBackend):
    """A backend that continues known words: it notes the words it is given and hears the rest as usual, or with
    `ends_after_known` (as Whisper now and then does when forced to continue a text) nothing after them."""

    continues_known_text = True
    ends_after_known: bool = False
    given: list[tuple[str, ...]] = field(default_factory=list)

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1,
                   known: tuple[Word, ...] = ()) -> list[Word]:
        self.given.append(tuple(word.text for word in known))
        heard = super().transcribe(audio, prompt, offset)
        return [w for w in heard if w.end <= known[-1].end] if known and self.ends_after_known else heard


def test_by_default_the_final_decode_decodes_the_whole_buffer_afresh() -> None:
    backend = ContinuesKnownText(script("one two three. four five six seven eight nine ten"))
    policy = LocalAgreementPolicy(backend)
    stream(policy, 4.5)
    policy.insert_audio(np.zeros(int(1.0 * SAMPLE_RATE), np.float32), 4.5)
    policy.finish(speech_end=5.5)
    assert set(backend.given) == {()}


def test_quick_finals_continue_the_committed_sentences_and_decode_the_one_in_progress_again() -> None:
    backend = ContinuesKnownText(script("one two three. four five six seven eight nine ten"))
    policy = LocalAgreementPolicy(backend, PolicyOptions(quick_finals=True))
    events = stream(policy, 4.5)
    assert "".join(w.text for w in committed_words(events)).startswith(" one two three. four five")
    assert set(backend.given) == {()}  # the running decodes are checked against each other: nothing is forced
    policy.insert_audio(np.zeros(int(1.0 * SAMPLE_RATE), np.float32), 4.5)
    events += policy.finish(speech_end=5.5)
    assert backend.given[-1] == (" one", " two", " three.")
    assert "".join(w.text for w in committed_words(events)) == " one two three. four five six seven eight nine ten"


def test_a_quick_final_that_ends_with_the_known_words_is_done_again_over_the_whole_buffer() -> None:
    backend = ContinuesKnownText(script("one two three. four five six seven eight nine ten"), ends_after_known=True)
    policy = LocalAgreementPolicy(backend, PolicyOptions(quick_finals=True))
    events = stream(policy, 4.5)
    policy.insert_audio(np.zeros(int(1.0 * SAMPLE_RATE), np.float32), 4.5)
    events += policy.finish(speech_end=5.5)
    assert backend.given[-2:] == [(" one", " two", " three."), ()]
    assert "".join(w.text for w in committed_words(events)) == " one two three. four five six seven eight nine ten"


@dataclass
class EndsAtThePause(ContinuesKnownText):
    """Like Whisper now and then with a finished sentence and a pause before a new utterance: a decode of the
    buffer ends its text at the pause (`pause_s`), decode after decode, unless told to continue the text before it."""

    pause_s: float = 2.0

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1,
                   known: tuple[Word, ...] = ()) -> list[Word]:
        heard = super().transcribe(audio, prompt, offset, beam_size, known)
        return heard if known else [w for w in heard if w.end <= self.pause_s]


def test_an_utterance_the_decodes_leave_out_is_decoded_as_the_text_before_it_continued_and_committed_as_it_goes(
) -> None:
    words = script("hello there general kenobi.") + script("You are a bold one indeed", start=3.0)
    backend = EndsAtThePause(words + script("Yes.", start=7.0), unstable_s=0.0)
    policy = LocalAgreementPolicy(backend)
    events = stream(policy, 2.5) + policy.finish(speech_end=2.0)
    assert set(backend.given) == {()}
    events += stream(policy, 3.0, start=3.0)
    assert "".join(w.text for w in committed_words(events)) == " hello there general kenobi. You are a bold one"
    resumed = [given for given in backend.given if given]
    assert resumed[0] == (" hello", " there", " general", " kenobi.", "")  # the held full stop, then the new start
    assert all(backend.given[backend.given.index(resumed[0]):])  # from the first decode that left it out on
    policy.insert_audio(np.zeros(int(0.5 * SAMPLE_RATE), np.float32), 6.0)
    events += policy.finish(speech_end=6.3)
    assert committed_words(events)[-1].text == " indeed"
    assert backend.given[-2] == ()  # the final decode of the whole buffer, which left it out too,
    assert "".join(backend.given[-1]) == " hello there general kenobi."  # then continued
    backend.pause_s = 99.0
    stream(policy, 1.0, start=7.0)  # the next utterance is decoded with the whole buffer again
    assert backend.given[-1] == ()
