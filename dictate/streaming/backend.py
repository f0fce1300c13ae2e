"""The real recogniser behind the policy's `Backend` protocol: one padded 30-s Whisper window per call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from dictate.asr.language import check_task
from dictate.asr.transcribe import Recognizer, TranscribeOptions, WindowResult, transcribe_window
from dictate.constants import CHUNK_LENGTH, SAMPLE_RATE, TIME_PRECISION
from dictate.streaming.mel_cache import StreamMel
from dictate.streaming.policy import SENTENCE_ENDS
from dictate.transcript.types import Segment, Word

if TYPE_CHECKING:
    from dictate.asr.model import AudioContext

COMPRESSION_RATIO_LIMIT = 2.4  # a segment more repetitive than this is a loop, not speech
NO_SPEECH_LIMIT = 0.6  # with a low average logprob: the window is silence
LOGPROB_LIMIT = -1.0
LANGUAGE_LOCK_AUDIO_S = 2.0  # a window this long decides the session's language (shorter ones guess)
LANGUAGE_LOCK_PROBABILITY = 0.7  # ... when its detection is at least this sure
LEAD_IN_S = 0.2  # silence Whisper needs before speech: "New paragraph." at a stream's very start gave "Paragraph."
KEPT_DRAFTS = 4  # decodes whose tokens are kept as drafts for the next decode with the same start, prompt and text


@dataclass(frozen=True)
class StreamingDecodeOptions:
    """Decoding of one streaming window: greedy, no temperature fallback (latency first).

    The policy may ask for beam search on a given decode (`WhisperBackend.transcribe(beam_size=...)`).
    """

    language: str | None = None  # None: "en" on English-only models, else detected and then kept for the session
    task: str = "transcribe"
    vocabulary: str = ""  # terms (Vocabulary.prompt()) prompted ahead of the committed text: see decode_window

    def transcribe_options(self) -> TranscribeOptions:
        return TranscribeOptions(
            language=self.language, task=self.task, beam_size=1, temperatures=(0.0,),
            word_timestamps=True, no_speech_threshold=NO_SPEECH_LIMIT, logprob_threshold=LOGPROB_LIMIT,
            compression_ratio_threshold=COMPRESSION_RATIO_LIMIT, drop_loops=True, vocabulary=self.vocabulary,
        )


class WhisperBackend:
    """`transcribe(audio, prompt, offset)` -> timed words, the window padded with silence to 30 s.

    Without a fixed language, every window is detected until one of at least
    `LANGUAGE_LOCK_AUDIO_S` is sure of its language; from then on the session
    keeps it, so a short or mumbled window cannot switch languages mid-dictation.
    """

    lead_in_s = LEAD_IN_S  # the policy puts this much silence before a buffer that begins with speech
    continues_known_text = True  # transcribe() takes `known` words and decodes only what follows them

    def __init__(self, recognizer: Recognizer, options: StreamingDecodeOptions = StreamingDecodeOptions()) -> None:
        """Raises ValueError for a task the model cannot do (translation on an English-only model)."""
        check_task(recognizer.tokenizer, options.task)
        self.recognizer = recognizer
        self._options = options.transcribe_options()
        self._mel = StreamMel(recognizer.model.info.n_mels)
        self.language = options.language  # the session's language, once fixed or detected
        self.last_segments: tuple[Segment, ...] = ()
        self._drafts: dict[tuple[float, str, tuple[int, ...]], tuple[int, ...]] = {}  # see `transcribe`
        self._encoded: tuple[np.ndarray, AudioContext] | None = None  # the latest window's mel and encoder output

    def prepare(self, audio: np.ndarray, offset: float) -> None:
        """Run the encoder on the window of `audio` starting at `offset` s ahead of its decode: a `transcribe` of the
        same audio and offset then starts at the decoder."""
        mel, _ = self._mel.window(audio, offset)
        self._encode(mel[None])

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float, beam_size: int = 1,
                   known: Sequence[Word] = ()) -> list[Word]:
        """`beam_size` > 1: beam search with that many beams (the policy's final decodes), else greedy.

        `known`: the window's first words (absolute times), already settled: the decoder is fed them
        as its own timestamped output and searches only the text after them; they come back retimed.
        A greedy decode of a window that starts where an earlier one did, with the same prompt and known words,
        checks that decode's tokens as its draft (`DecodingOptions.draft`): greedy's text in fewer decoder calls (with
        int8 weights a near-tie may go the other way: a batch of tokens is quantised with one scale).
        """
        mel, frames = self._mel.window(audio, offset)
        prompt_tokens = self.recognizer.tokenizer.encode(" " + prompt) if prompt else []
        options = self._options if beam_size == self._options.beam_size else replace(self._options, beam_size=beam_size)
        forced = self._known_tokens(known, offset)
        key = (offset, prompt, tuple(forced))
        result = transcribe_window(
            self.recognizer, mel, options, prompt_tokens, offset,
            num_frames=frames, language=self.language, forced=forced, draft=self._drafts.pop(key, ()),
            encode=self._encode,
        )
        self._drafts[key] = result.decoding.tokens[len(forced):]
        if len(self._drafts) > KEPT_DRAFTS:
            del self._drafts[next(iter(self._drafts))]
        self._maybe_lock_language(result, len(audio))
        self.last_segments = result.segments  # none for a repetition loop or a silent window (Whisper's own checks)
        return [word for segment in self.last_segments for word in segment.words]

    def _encode(self, mel: np.ndarray) -> AudioContext:
        """The encoder's output for `mel` [1, n_mels, 3000]; the latest one is kept, so decodes of the same window
        (`prepare`, a decode made again without its prompt or with other known words) run the encoder once."""
        if self._encoded is not None and np.array_equal(self._encoded[0], mel):
            return self._encoded[1]
        self._encoded = None  # never two windows' outputs held at once
        context = self.recognizer.model.encode(mel)
        self._encoded = (mel, context)
        return context

    def _known_tokens(self, words: Sequence[Word], offset: float) -> list[int]:
        """`words` as Whisper writes them in a window starting at `offset` s: a timestamp token before each
        sentence and after each one that is followed by another."""
        tokenizer = self.recognizer.tokenizer
        tokens: list[int] = []
        floor = 0
        for index, word in enumerate(words):
            if index == 0 or words[index - 1].text.rstrip().endswith(SENTENCE_ENDS):
                if index:
                    floor = self._timestamp(words[index - 1].end - offset, floor)
                    tokens.append(floor)
                floor = self._timestamp(word.start - offset, floor)
                tokens.append(floor)
            tokens += tokenizer.encode(word.text)
        return tokens

    def _timestamp(self, seconds: float, floor: int) -> int:
        """The timestamp token of `seconds` into the window, never before `floor` (a token)."""
        steps = round(min(max(seconds, 0.0), float(CHUNK_LENGTH)) / TIME_PRECISION)
        return max(self.recognizer.tokenizer.timestamp_begin + steps, floor)

    def _maybe_lock_language(self, result: WindowResult, samples: int) -> None:
        decoding = result.decoding
        if self.language is None and not result.skipped and samples >= LANGUAGE_LOCK_AUDIO_S * SAMPLE_RATE and (
                decoding.language_probability >= LANGUAGE_LOCK_PROBABILITY):
            self.language = decoding.language
