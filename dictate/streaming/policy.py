"""The pure streaming policy: LocalAgreement-2 over a growing audio buffer (after ufal/whisper_streaming).

It sees the recogniser only through `Backend` and knows no clock and no
threads, so it is tested with a fake backend, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dictate.constants import CHUNK_LENGTH, SAMPLE_RATE
from dictate.streaming.events import Committed, Event, Tentative, UtteranceEnd
from dictate.streaming.guards import echoes_prompt, is_known_hallucination, loop_start, squeezed_runs, word_key
from dictate.streaming.hypothesis_buffer import HypothesisBuffer
from dictate.transcript.types import Word

SENTENCE_ENDS = (".", "?", "!", "…")
ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "prof", "jr", "sr", "vs"})  # "Mr." ends no sentence
CLAUSE_MARKS = (",", ";", ":")  # punctuation that joins a pause to what follows
RESUMED_WORD_TOLERANCE_S = 0.3  # a re-decoded word ending this close to the last committed one is that word
HALLUCINATION_SPEECH_PROBABILITY = 0.35  # below this VAD probability a known hallucination is dropped
STOPS_SHORT_S = 1.0  # a final hypothesis ending this long before the one before it left words out
LEFT_OUT_AFTER_S = 1.0  # a decode with this much of the utterance in it and no word of it left the utterance out
LEAD_IN_SPEECH_PROBABILITY = 0.5  # speech this sure within the backend's lead-in of the buffer start: add silence


class Backend(Protocol):
    """A recogniser of one window: timed words (absolute seconds) for `audio` starting at `offset`.

    A backend may also say how much silence it needs before speech: `lead_in_s` (seconds; 0 when absent).
    A buffer whose speech begins sooner than that after its start (the stream's first word, the first
    after a reset) is decoded with that much silence before it.
    `beam_size` is passed only when above 1 (`PolicyOptions.beam_size`, `final_beam_size`): a greedy backend need
    not take it. A backend with `continues_known_text` true also takes `known`, the window's first words (already
    committed): it decodes only the text after them (`PolicyOptions.quick_finals`). A backend with a
    `prepare(audio, offset)` method can start on a window before it is decoded (`prepare_final`).
    """

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1) -> list[Word]: ...


class StreamingPolicy(Protocol):
    """What the engine drives: audio in, events out."""

    def insert_audio(self, audio: np.ndarray, start: float) -> None: ...

    def process(self, until: float | None = None) -> list[Event]: ...

    def prepare_final(self, speech_end: float) -> None:
        """Start on what `finish(speech_end)` will decode, where that saves time then; the text stays the same."""
        ...

    def finish(self, speech_end: float | None = None) -> list[Event]:
        """Final decode of the utterance and commit all of it; the audio stays."""
        ...

    def reset(self) -> list[Event]: ...


@dataclass(frozen=True)
class DecodeWindow:
    """The audio of one decode, as the backend gets it (times in s)."""

    audio: np.ndarray  # the buffer's audio, after the backend's lead-in of silence where it needs one
    start: float  # the time of audio[0] (the lead-in's start)
    offset: float  # the time of the first buffer sample in it
    end: float  # the time just after its last sample
    decoded_until: float  # how far the buffer counts as decoded after it


@dataclass(frozen=True)
class PolicyOptions:
    """Knobs of `LocalAgreementPolicy` (seconds unless named otherwise)."""

    prompt_chars: int = 200  # committed text fed back as the decoding prompt
    trim_after_s: float = 15.0  # buffer length beyond which it is cut at a committed sentence end
    max_buffer_s: float = 25.0  # buffer length beyond which it is cut at the last committed word
    max_window_s: float = float(CHUNK_LENGTH) - 1.0  # never decode more than this: Whisper sees 30 s
    doubtful_below: float = 0.0  # a word less probable than this waits for a third agreeing hypothesis
    beam_size: int = 1  # beams of the running decodes, which two hypotheses check; 1: greedy
    final_beam_size: int = 5  # beams of the decodes at an utterance end (`finish`), which nothing checks
    quick_finals: bool = False  # final decodes continue the committed sentences (final text sooner, WER higher)

    def __post_init__(self) -> None:
        if not 0 < self.trim_after_s <= self.max_buffer_s <= self.max_window_s <= CHUNK_LENGTH:
            raise ValueError("need 0 < trim_after_s <= max_buffer_s <= max_window_s <= 30 s")
        if self.prompt_chars < 0:
            raise ValueError("prompt_chars must be >= 0")
        if self.beam_size < 1 or self.final_beam_size < 1:
            raise ValueError("beam_size and final_beam_size must be >= 1")


def _always_speech(start: float, end: float) -> float:
    return 1.0 if end > start else 0.0


def split_mark(text: str) -> tuple[str, str]:
    """`"Americans."` -> `("Americans", ".")`: a word and the sentence mark it ends with (maybe "")."""
    stripped = text.rstrip("".join(SENTENCE_ENDS))
    return (stripped, text[len(stripped) :]) if stripped.strip() else (text, "")


def ends_sentence(words: Sequence[Word], index: int) -> bool:
    """Whether `words[index]` ends a sentence: a sentence mark, not after an abbreviation ("Mr.")."""
    if not words[index].text.rstrip().endswith(SENTENCE_ENDS):
        return False
    key = word_key(words[index].text) or (word_key(words[index - 1].text) if index > 0 else "")
    return key not in ABBREVIATIONS


def _same_word(a: Word, b: Word) -> bool:
    """Two decodes' versions of one spoken word: the same letters, ending at about the same time."""
    return word_key(a.text) == word_key(b.text) and abs(a.end - b.end) < RESUMED_WORD_TOLERANCE_S


def trailing_mark(text: str) -> str:
    """The punctuation a word ends with: a sentence end or a clause mark ("" for none)."""
    stripped = text.rstrip("".join(SENTENCE_ENDS + CLAUSE_MARKS))
    return text[len(stripped) :] if stripped.strip() else ""


def has_word_after(words: Sequence[Word], time: float) -> bool:
    """Whether any of `words` that is a word (not punctuation alone) ends after `time` s."""
    return any(word.end > time for word in words if word_key(word.text))


def starting_at(words: Sequence[Word], time: float) -> list[Word]:
    """`words` with no time before `time` (a word decoded in the silence put before the audio)."""
    return [word if word.start >= time else Word(time, max(word.end, time), word.text, word.probability)
            for word in words]


def in_time_order(words: Sequence[Word], floor: float) -> list[Word]:
    """`words` with no start before `floor` (the last committed start) or before the word ahead of it.

    DTW word times of two overlapping windows differ by tens of ms, so a word agreed on in a later
    decode may start a little before the word committed from an earlier one; committed text keeps time order.
    """
    ordered = []
    for word in words:
        if word.start < floor:
            word = Word(floor, max(word.end, floor), word.text, word.probability)
        floor = word.start
        ordered.append(word)
    return ordered


class LocalAgreementPolicy:
    """Commit the longest common prefix of two consecutive hypotheses; commit all at an utterance end.

    An utterance end (a pause) keeps the audio: the next utterance is decoded with
    it as left context, so a pause does not start a new sentence. The sentence mark
    Whisper puts before a pause is held back until the speech after it shows whether
    the sentence really ended (`reset` commits it as it is).
    """

    def __init__(
        self,
        backend: Backend,
        options: PolicyOptions = PolicyOptions(),
        speech_probability: Callable[[float, float], float] = _always_speech,
    ) -> None:
        self._backend = backend
        self._options = options
        self._speech_probability = speech_probability  # max VAD probability over [start, end) s
        self._audio = np.zeros(0, dtype=np.float32)
        self._offset = 0.0  # audio time (s) of self._audio[0]
        self._decoded_until = 0.0  # audio time covered by the last decode
        self._hypothesis = HypothesisBuffer(doubtful_below=options.doubtful_below)
        self._committed: list[Word] = []  # every committed word, for the prompt
        self._prompt_floor = 0  # committed words before this index never go into the prompt
        self._tentative: tuple[Word, ...] = ()
        self._held_mark: Word | None = None  # sentence mark cut off the last committed word at a pause
        self._rejected = False  # the latest hypothesis was ignored as invented
        self._speech_start: float | None = None  # audio time (s) where the utterance in progress began
        self._lead_in = False  # the buffer began with an utterance's audio, not after a pause or a cut
        self._resuming = False  # the utterance is decoded as a continuation of the text before it (see process)

    @property
    def buffer_end(self) -> float:
        """Audio time (s) at the end of the inserted audio."""
        return self._offset + len(self._audio) / SAMPLE_RATE

    @property
    def buffer_start(self) -> float:
        """Audio time (s) at the start of the audio the decodes see."""
        return self._offset

    @property
    def undecoded_s(self) -> float:
        """Seconds of inserted audio no decode has seen yet."""
        return self.buffer_end - self._decoded_until

    @property
    def has_context(self) -> bool:
        """Whether audio of an earlier utterance is kept (until `reset`)."""
        return len(self._audio) > 0

    def insert_audio(self, audio: np.ndarray, start: float) -> None:
        """Append speech whose first sample is at `start` s; a gap is filled with silence, an empty buffer moves."""
        if self._speech_start is None:
            self._speech_start = start
        if len(self._audio) == 0:
            self._lead_in = True
        self._append(audio, start)

    def _append(self, audio: np.ndarray, start: float) -> None:
        if len(self._audio) == 0:
            self._offset = self._decoded_until = start
            self._hypothesis.committed_time = max(self._hypothesis.committed_time, start)
        gap = int(round((start - self.buffer_end) * SAMPLE_RATE))
        parts = [self._audio, np.zeros(max(gap, 0), dtype=np.float32), np.asarray(audio, dtype=np.float32)]
        self._audio = np.concatenate(parts)

    def insert_pause(self, audio: np.ndarray, start: float) -> None:
        """Append audio without speech (a pause between utterances): context for the next decode, never a reason for one."""
        caught_up = self.undecoded_s <= 0
        self._append(audio, start)
        if caught_up:
            self._decoded_until = self.buffer_end

    def process(self, until: float | None = None) -> list[Event]:
        """Decode the buffer (up to `until` s, else all of it) once; commit what two hypotheses agree on; trim it.

        A decode that ends at a given audio time sees the same audio however late it runs, so
        real-time text does not depend on how the audio arrived in blocks.
        A hypothesis that does not re-decode the committed words in the buffer is
        invented (Whisper hallucinates whole windows now and then) and is ignored.
        A decode that leaves out the utterance in progress (`_left_out`) is made again as a continuation of the
        committed text before the utterance, and so are the utterance's later running decodes (its final one:
        `_final_hypothesis`): its words are committed as it goes, with the audio before it still heard, not
        only when it ends.
        """
        end = self.buffer_end if until is None else min(until, self.buffer_end)
        if end <= self._decoded_until:
            return []
        events = self._enforce_window(end)
        words = self._decode(until=end, beam_size=self._options.beam_size, known=self._text_before_utterance())
        if not self._resuming and self._left_out(words, end):
            self._resuming = True
            words = self._decode(until=end, beam_size=self._options.beam_size, known=self._text_before_utterance())
        if self._hypothesis.consistent(words) or self._rejected:  # twice in a row: the committed text was wrong
            self._rejected = False
            self._hypothesis.insert(words)
            events += self._commit(self._hypothesis.flush(), words)
        else:
            self._rejected = True
        self._trim(end)
        return events + self._tentative_event(self._hypothesis.tentative)

    def finish(self, speech_end: float | None = None) -> list[Event]:
        """Final decode of the utterance, up to `speech_end` s, and commit all of it (its sentence mark held back);
        the audio stays.

        With earlier utterances' audio before it as context, Whisper now and then ends its text
        before a short utterance at the window's end ("... he said." and no "Yes."). A final
        hypothesis without a word in the utterance is decoded again from where the utterance
        began, with the committed text as the prompt: the phrase is committed now, not with the
        next utterance (or never, when a long pause resets the buffer first). A final hypothesis that
        ends well before the one before it did or before the speech (Whisper ends its text early now and
        then when the audio stops) is decoded again from the end of the committed text, and the one that
        goes further is committed.
        These decodes commit at once, with no second hypothesis to check them: they use beam search when
        `final_beam_size` > 1.
        """
        beams = self._options.final_beam_size
        end = self.buffer_end if speech_end is None else min(speech_end, self.buffer_end)
        known = self._text_before_utterance()
        speech_start, self._speech_start, self._resuming = self._speech_start, None, False
        previous = self._hypothesis.tentative
        events: list[Event] = []
        words: list[Word] = []
        if end > self._decoded_until:
            events += self._enforce_window(end)
            words = self._final_hypothesis(end, speech_start, previous, known)
        if speech_start is not None and self._misses_speech(speech_start):
            alone = self._decode(since=speech_start, until=end, beam_size=beams)
            if alone:
                self._hypothesis.insert(alone)
                words = alone
        elif self._stops_short(previous, end):
            rest = self._decode(since=self._hypothesis.committed_time, until=end, beam_size=beams)  # uncommitted audio
            if rest and rest[-1].end > self._heard_until(self._hypothesis.pending):
                self._hypothesis.insert(rest)
                words = rest
        events += self._commit(self._hypothesis.flush_all(), words, final=True)
        events += self._tentative_event(())
        return events + [UtteranceEnd(speech_end if speech_end is not None else end)]

    def prepare_final(self, speech_end: float) -> None:
        """Let the backend start on the window that `finish(speech_end)` decodes first (its encoder, while the
        VAD waits to end the utterance), where the backend can (`prepare`) and the decode is the buffer's whole
        window: the final text then comes sooner, and is the same."""
        prepare = getattr(self._backend, "prepare", None)
        end = min(speech_end, self.buffer_end)
        if prepare is None or end <= self._decoded_until or end - self._options.max_window_s > self._offset:
            return
        window = self._window(None, end)
        prepare(window.audio, window.start)

    def _final_hypothesis(self, end: float, speech_start: float | None, previous: Sequence[Word],
                          before_utterance: Sequence[Word]) -> list[Word]:
        """Decode the buffer up to `end` s with the final beams and insert the hypothesis; return its words.

        With `quick_finals`, a backend that continues known text is given the committed sentences
        (`_known_words`): it searches only the words after them, so the final text comes sooner (it
        cost WER in bench/README.md: the beams no longer decode the earlier text afresh). When that decode
        leaves speech out (the committed text now and then leads Whisper to end early), or the backend
        cannot continue text, the whole buffer is decoded; such a decode that does not re-decode the
        committed text is invented and ignored (the hypothesis before it stands). An utterance the running
        decodes left out (see `process`) is decoded over the whole buffer too, and continued from
        `before_utterance` only when that decode leaves it out as well.
        """
        beams = self._options.final_beam_size
        if before_utterance:  # the running decodes left the utterance out: the final one may hear it
            fresh = self._decode(until=end, beam_size=beams)
            heard = speech_start is not None and has_word_after(fresh, speech_start)
            words = fresh if heard and self._hypothesis.consistent(fresh) else self._decode(
                until=end, beam_size=beams, known=before_utterance)
            self._hypothesis.insert(words)
            return words
        known = self._known_words()
        words: list[Word] = []
        if known:
            words = self._decode(until=end, beam_size=beams, known=known)
            self._hypothesis.insert(words)
            if not self._leaves_out(speech_start, previous, end):
                return words
        fresh = self._decode(until=end, beam_size=beams)
        if self._hypothesis.consistent(fresh):
            self._hypothesis.insert(fresh)
            return fresh
        return words

    def _known_words(self) -> list[Word]:
        """The committed sentences in the buffer (up to its last committed sentence end), for a backend that
        continues known text (with `quick_finals`).

        The sentence in progress is decoded again: forced, its words would set the style of the rest (a
        lower-case start and no punctuation stay so), and a sentence mark held at a pause would stay when
        the speech after it shows that the sentence goes on.
        """
        if not self._options.quick_finals or not getattr(self._backend, "continues_known_text", False):
            return []
        first = next((i for i, word in enumerate(self._committed) if word.end > self._offset), len(self._committed))
        ends = [i for i in range(first, len(self._committed)) if ends_sentence(self._committed, i)]
        return self._committed[first : ends[-1] + 1] if ends else []

    def _leaves_out(self, speech_start: float | None, previous: Sequence[Word], speech_end: float) -> bool:
        """Whether the pending hypothesis misses the utterance or stops short of the speech (see below)."""
        return (speech_start is not None and self._misses_speech(speech_start)) or self._stops_short(previous, speech_end)

    def _misses_speech(self, speech_start: float) -> bool:
        """Whether the hypothesis about to be committed has no word in the utterance that began at `speech_start` s.

        Only asked when the buffer holds audio before the utterance (else a decode from its start
        is the same decode) and nothing of the utterance is committed yet.
        """
        if speech_start <= self._offset or self._hypothesis.committed_time > speech_start:
            return False
        return not has_word_after(self._hypothesis.pending, speech_start)

    def _stops_short(self, previous: Sequence[Word], speech_end: float) -> bool:
        """Whether the final hypothesis ends `STOPS_SHORT_S` before the one before it did (`previous`, its
        uncommitted words) or before the speech does (`speech_end` s): Whisper ended its text early, or the
        decode was thrown away as invented (a wrong committed word it did not repeat), and words are left out."""
        heard = self._heard_until(self._hypothesis.pending)
        return max(self._heard_until(previous), speech_end) - heard > STOPS_SHORT_S

    def _left_out(self, words: Sequence[Word], end: float) -> bool:
        """Whether a running decode up to `end` s has no word of the utterance in progress, which began after
        audio kept as context and has `LEFT_OUT_AFTER_S` of it decoded: with a finished sentence and a pause
        before it, Whisper now and then ends its text at the pause, decode after decode."""
        start = self._speech_start
        if start is None or start <= self._offset or self._hypothesis.committed_time > start:
            return False
        if not getattr(self._backend, "continues_known_text", False):
            return False
        return end - start >= LEFT_OUT_AFTER_S and not has_word_after(words, start)

    def _text_before_utterance(self) -> list[Word]:
        """While `_resuming`: the committed words in the buffer before the utterance (its held sentence mark
        too) and an empty word where the utterance starts, for the backend to continue (a new sentence opens
        there when the text before it ended one); else none."""
        if not self._resuming or self._speech_start is None:
            return []
        start = self._speech_start
        text = [word for word in self._committed if self._offset < word.end <= start]
        if self._held_mark is not None and text:
            last = text[-1]
            text[-1] = Word(last.start, last.end, last.text + self._held_mark.text, last.probability)
        return [*text, Word(start, start, "")]

    def _heard_until(self, words: Sequence[Word]) -> float:
        """The end (s) of the last word in `words`, or of the committed text when they hold none."""
        return max([word.end for word in words if word_key(word.text)], default=self._hypothesis.committed_time)

    def reset(self) -> list[Event]:
        """A long pause, a stop or a switch: commit the tail and the held sentence mark, and forget the audio."""
        self._speech_start, self._resuming = None, False
        events = self._commit(self._hypothesis.flush_all(), (), final=True)
        if self._held_mark is not None:
            events += [Committed((self._held_mark,))]
            self._committed.append(self._held_mark)
            self._held_mark = None
        end = self.buffer_end
        self._audio = np.zeros(0, dtype=np.float32)
        self._offset = self._decoded_until = end
        self._hypothesis = HypothesisBuffer(max(end, self._hypothesis.committed_time), self._options.doubtful_below)
        self._tentative = ()
        return events + [Tentative(())]

    def _decode(self, since: float | None = None, until: float | None = None, beam_size: int = 1,
                known: Sequence[Word] = ()) -> list[Word]:
        """Decode the buffer, or its audio from `since` s on (the committed text before it as the prompt),
        up to `until` s (default: its end), with `beam_size` beams (1: greedy), continuing the `known` words."""
        window = self._window(since, until)
        offset, end = window.offset, window.end
        prompt = self._prompt(offset)
        words = self._transcribe(window.audio, prompt, window.start, beam_size, known)
        # copied from the prompt (or said again?), or nothing at all where the VAD hears speech (a prompt can
        # send Whisper into a loop that its checks throw away): the audio alone decides
        if prompt and (echoes_prompt(self._fresh(words), prompt) or (
                not words and self._speech_probability(offset, end) >= LEAD_IN_SPEECH_PROBABILITY)):
            words = self._transcribe(window.audio, "", window.start, beam_size, known)
            self._prompt_floor = len(self._committed)  # such a prompt must not feed the next decode
        squeezed = {index for run in squeezed_runs(words) for index in run}  # text not in the audio
        words = starting_at([word for index, word in enumerate(words) if index not in squeezed], offset)
        self._decoded_until = window.decoded_until
        loop = loop_start(words)
        if loop is not None:
            words = words[:loop]
            self._prompt_floor = len(self._committed)  # a looping prompt must not feed the next decode
        fresh = self._fresh(words)
        if is_known_hallucination(fresh) and self._speech_probability(fresh[0].start, fresh[-1].end) < (
            HALLUCINATION_SPEECH_PROBABILITY
        ):
            return [word for word in words if word not in fresh]
        return words

    def _window(self, since: float | None, until: float | None) -> DecodeWindow:
        """What a decode of the buffer from `since` s (default: its start) to `until` s (default: its end) gives
        the backend: that audio, after the backend's lead-in of silence where it needs one."""
        skip = 0 if since is None else max(0, int(round((since - self._offset) * SAMPLE_RATE)))
        stop = len(self._audio) if until is None else int(round((until - self._offset) * SAMPLE_RATE))
        audio, offset = self._audio[skip:stop], self._offset + skip / SAMPLE_RATE
        end = offset + len(audio) / SAMPLE_RATE
        lead = int(self._lead_in_s(offset, after_cut=since is None and not self._lead_in) * SAMPLE_RATE)
        if lead:
            audio = np.concatenate([np.zeros(lead, np.float32), audio])
        return DecodeWindow(audio, offset - lead / SAMPLE_RATE, offset, end, self._offset + stop / SAMPLE_RATE)

    def _transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int,
                    known: Sequence[Word] = ()) -> list[Word]:
        """The backend's words; `beam_size` is passed only when above 1, so a greedy backend need not take it,
        and `known` words only when there are some (to a backend that `continues_known_text`)."""
        extra: dict[str, object] = {"beam_size": beam_size} if beam_size > 1 else {}
        if known:
            extra["known"] = tuple(known)
        return self._backend.transcribe(audio, prompt, offset, **extra)

    def _lead_in_s(self, start: float, after_cut: bool) -> float:
        """Silence to put before audio from `start` s: the backend's lead-in when speech begins within it.

        Not after a cut at a committed word: the prompt carries the text on from there.
        """
        lead_in = float(getattr(self._backend, "lead_in_s", 0.0))
        if not lead_in or after_cut:
            return 0.0
        return lead_in if self._speech_probability(start, start + lead_in) >= LEAD_IN_SPEECH_PROBABILITY else 0.0

    def _fresh(self, words: Sequence[Word]) -> list[Word]:
        """The words of a hypothesis after the committed text."""
        return [word for word in words if word.end > self._hypothesis.committed_time]

    def _prompt(self, before: float) -> str:
        """The last `prompt_chars` of committed text whose audio ends by `before` s (before the decoded audio)."""
        chosen: list[str] = []
        length = 0
        for word in reversed(self._committed[self._prompt_floor :]):
            if length >= self._options.prompt_chars:
                break
            if word.end <= before:
                chosen.append(word.text)
                length += len(word.text)
        prompt = "".join(reversed(chosen)).strip()
        return prompt if any(char.isalnum() for char in prompt) else ""  # "." alone sends Whisper into a loop

    def _commit(self, words: Sequence[Word], hypothesis: Sequence[Word], final: bool = False) -> list[Event]:
        """Commit `words` (agreed on in `hypothesis`); a sentence mark with nothing heard after it is held back."""
        if not words:
            return []
        words = [*self._resolve_mark(words[0], hypothesis), *words]
        last = words[-1]
        if final or (hypothesis and _same_word(hypothesis[-1], last)):
            text, mark = split_mark(last.text)
            if mark:
                words[-1] = Word(last.start, last.end, text, last.probability)
                self._held_mark = Word(last.end, last.end, mark, last.probability)
        words = in_time_order(words, self._committed[-1].start if self._committed else 0.0)
        self._committed.extend(words)
        return [Committed(tuple(words))]

    def _resolve_mark(self, following: Word, hypothesis: Sequence[Word]) -> list[Word]:
        """The punctuation between the last committed word and `following`, as decoded across the pause.

        Whisper re-decodes the word before the pause with the speech after it: its
        punctuation there is the one to keep (else the held one); a sentence end
        never stays before a lower-case word.
        """
        held, self._held_mark = self._held_mark, None
        if held is None:
            return []
        again = [word for word in hypothesis if _same_word(word, self._committed[-1])]
        mark = trailing_mark(again[-1].text) if again else held.text
        if mark.endswith(SENTENCE_ENDS) and following.text.strip()[:1].islower():  # the casing has the last word
            mark = ""
        at = min(held.start, following.start)  # word times may overlap: the mark never starts after `following`
        return [Word(at, at, mark, held.probability)] if mark else []

    def _tentative_event(self, words: tuple[Word, ...]) -> list[Event]:
        """The tail shown after the committed text: the held sentence mark, then the unstable words."""
        words = ((self._held_mark,) if self._held_mark else ()) + tuple(words)
        if words == self._tentative:
            return []
        self._tentative = words
        return [Tentative(words)]

    def _trim(self, end: float) -> None:
        """Cut the buffer at a committed sentence end (long buffer) or the last committed word (too long);
        its length counts up to `end` s, where the latest decode ended."""
        length = end - self._offset
        in_buffer = [word for word in self._committed if word.end > self._offset]
        if length > self._options.trim_after_s:
            sentence_ends = [word.end for i, word in enumerate(self._committed)
                             if word.end > self._offset and ends_sentence(self._committed, i)]
            if sentence_ends:
                self._cut_at(sentence_ends[-1])
                return
        if length > self._options.max_buffer_s and in_buffer:
            self._cut_at(in_buffer[-1].end)

    def _enforce_window(self, end: float) -> list[Event]:
        """Before a decode up to `end` s: never give the backend more than `max_window_s`; commit what falls out."""
        cut = end - self._options.max_window_s
        if cut <= self._offset:
            return []
        leaving = [word for word in self._hypothesis.tentative if word.end <= cut]
        self._hypothesis.insert(leaving)
        events = self._commit(self._hypothesis.flush_all(), ())
        self._cut_at(cut)
        return events

    def _cut_at(self, time: float) -> None:
        drop = int(round((time - self._offset) * SAMPLE_RATE))
        if drop <= 0:
            return
        self._audio = self._audio[drop:]
        self._offset += drop / SAMPLE_RATE
        self._lead_in = False  # cut after a committed word: the prompt carries on from it
        self._hypothesis.drop_committed_before(self._offset)
