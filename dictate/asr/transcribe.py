"""Offline transcription of audio of any length: 30-s windows with timestamp seeking.

Semantics follow openai-whisper's `transcribe()` and faster-whisper's `generate_segments`:
each window is decoded with temperature fallback; a window ending in a single timestamp
is consumed whole, otherwise the next window starts at its last timestamp; windows judged
silent are skipped; the kept text conditions the next window after `<|startofprev|>`.

With `vad` (the default, as faster-whisper's `vad_filter`), Silero VAD first finds the
speech regions of the recording (in bounded memory); windows then cover only those regions,
as openai-whisper's `clip_timestamps`: each window ends at its region's end and the search
jumps over the audio between regions, so silence, noise and music are never decoded.
Times stay those of the original recording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile

from dictate.asr.alignment import add_word_timestamps
from dictate.asr.decoding import DEFAULT_TEMPERATURES, DecodingOptions, DecodingResult, WindowDecoder
from dictate.asr.language import check_task, resolve_language
from dictate.asr.prompting import compose_prompt, count_terms, prompt_budget
from dictate.asr.tokenizer import Tokenizer
from dictate.audio.features import (
    DYNAMIC_RANGE_LOG10,
    LOG_OFFSET,
    LOG_SCALE,
    IncrementalLogMel,
    log_mel_spectrogram,
    pad_or_trim,
)
from dictate.audio.vad import SpeechStart, VadOptions, VoiceActivity
from dictate.constants import FRAMES_PER_SECOND, HOP_LENGTH, N_FRAMES, N_SAMPLES, SAMPLE_RATE, TIME_PRECISION
from dictate.transcript.types import Segment, TranscriptInfo

if TYPE_CHECKING:
    from dictate.asr.model import AudioContext

INPUT_STRIDE = N_FRAMES // 1500  # mel frames per timestamp step (the encoder halves the frame rate)
DEFAULT_MODEL = "tiny.en"
STREAM_ABOVE_SECONDS = 5 * 60  # longer files are streamed from disk, so no file peaks above ~600 MB RSS
# speech regions for the VAD gate, as faster-whisper's vad_filter: pauses under 2 s stay inside a region
REGION_VAD = VadOptions(min_silence_s=2.0, speech_pad_s=0.4)
MIN_SKIP_S = 1.0  # shorter non-speech (between regions, at either end) is decoded: skipping it would only shift windows


@dataclass(frozen=True)
class TranscribeOptions:
    """How to transcribe a whole recording (defaults as faster-whisper's `transcribe`)."""

    language: str | None = None  # None: detect on multilingual models; English-only models use "en"
    task: str = "transcribe"  # or "translate" (into English, multilingual models only)
    beam_size: int = 5  # beams at temperature 0 (1 = greedy)
    best_of: int = 5  # samples per fallback temperature > 0
    patience: float = 1.0  # beam search waits for round(beam_size * patience) finished beams
    length_penalty: float | None = None  # None: rank beams by logprob / length
    temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES  # tried in turn while a window fails the thresholds
    compression_ratio_threshold: float | None = 2.4  # above: too repetitive, retry hotter
    drop_loops: bool = False  # a window still above compression_ratio_threshold after every temperature gives no text
    logprob_threshold: float | None = -1.0  # average token logprob below: retry hotter
    no_speech_threshold: float | None = 0.6  # <|nospeech|> probability above (and logprob low): skip window
    condition_on_previous_text: bool = True  # prompt each window with the text so far
    prompt_reset_on_temperature: float = 0.5  # a window decoded hotter than this resets the prompt
    initial_prompt: str | None = None  # text (style, context) to prompt the first window with
    vocabulary: str = ""  # terms (Vocabulary.prompt()) prompted ahead of the previous text: see decode_window
    suppress_tokens: str | tuple[int, ...] | None = "-1"  # "-1": the model's non-speech tokens
    suppress_blank: bool = True
    without_timestamps: bool = False  # one segment per window, no timestamp tokens
    max_initial_timestamp: float = 1.0  # seconds
    word_timestamps: bool = False  # per-word timings from cross-attention DTW
    variant: str | None = None  # ONNX variant: "int8", "fp32", "fp16"; None: the device's default
    device: str = "auto"  # "cpu", "cuda" or "auto"
    vad: bool = True  # decode only the speech regions Silero VAD finds (no words from silence, noise, music)

    def __post_init__(self) -> None:
        if self.beam_size < 1 or self.best_of < 1:
            raise ValueError("beam_size and best_of must be >= 1")
        if not self.temperatures:
            raise ValueError("temperatures must not be empty")

    def decoding_options(self, temperature: float, language: str, prompt: Sequence[int],
                         forced: Sequence[int] = (), draft: Sequence[int] = ()) -> DecodingOptions:
        """The options of one decoding attempt at `temperature`; `forced`, `draft` (used by greedy decoding only):
        see `DecodingOptions`."""
        greedy = temperature == 0
        return DecodingOptions(
            task=self.task,
            language=language,
            temperature=temperature,
            best_of=None if greedy else self.best_of,
            beam_size=self.beam_size if greedy and self.beam_size > 1 else None,
            patience=self.patience if greedy and self.beam_size > 1 else None,
            length_penalty=self.length_penalty,
            prompt=tuple(prompt) or None,
            forced=tuple(forced),
            draft=tuple(draft) if greedy and self.beam_size == 1 else (),
            suppress_tokens=self.suppress_tokens,
            suppress_blank=self.suppress_blank,
            without_timestamps=self.without_timestamps,
            max_initial_timestamp=self.max_initial_timestamp,
        )


@dataclass(frozen=True)
class Recognizer:
    """A loaded model and its tokenizer."""

    model: object  # dictate.asr.model.WhisperOnnx
    tokenizer: Tokenizer

    @classmethod
    def load(cls, model: str | Path = DEFAULT_MODEL, variant: str | None = None, device: str = "auto") -> Recognizer:
        """A catalogue name (prepared on first use) or a prepared model folder."""
        from dictate.asr.model import WhisperOnnx

        model_dir = Path(model)
        if not model_dir.is_dir():
            from dictate.modelstore.prepare import ensure_prepared

            model_dir = ensure_prepared(str(model))
        return cls(WhisperOnnx.load(model_dir, variant=variant, device=device), Tokenizer.from_model_dir(model_dir))


@dataclass(frozen=True)
class WindowResult:
    """What one window gave: its segments (absolute times) and where the next window starts."""

    segments: tuple[Segment, ...]  # ids count from 0 within the window
    seek_frames: int  # mel frames consumed; the next window starts this far on
    decoding: DecodingResult
    skipped: bool  # judged silent (or a loop, with drop_loops): no segments
    last_speech_timestamp: float  # end of the last word (word timestamps) for the pause heuristics


def decode_with_fallback(recognizer: Recognizer, audio, options: TranscribeOptions, language: str,
                         prompt: Sequence[int], forced: Sequence[int] = (), draft: Sequence[int] = ()) -> DecodingResult:
    """Decode at each temperature in turn until the result passes the thresholds."""
    results: list[DecodingResult] = []
    for temperature in options.temperatures:
        decoding = replace(options.decoding_options(temperature, language, prompt, forced, draft), seed=len(results))
        result = WindowDecoder(recognizer.model, recognizer.tokenizer, decoding).decode(audio)
        results.append(result)
        too_repetitive = (options.compression_ratio_threshold is not None
                          and result.compression_ratio > options.compression_ratio_threshold)
        unlikely = options.logprob_threshold is not None and result.avg_logprob < options.logprob_threshold
        silent = (options.no_speech_threshold is not None and result.no_speech_prob > options.no_speech_threshold
                  and unlikely)
        if silent or not (too_repetitive or unlikely):
            return result
    # every temperature failed: the likeliest result not too repetitive, at the last temperature
    passing = [r for r in results if options.compression_ratio_threshold is None
               or r.compression_ratio <= options.compression_ratio_threshold]
    best = max(passing or results, key=lambda r: r.avg_logprob)
    return replace(best, temperature=options.temperatures[-1])


def decode_window(recognizer: Recognizer, audio, options: TranscribeOptions, language: str,
                  previous: Sequence[int], forced: Sequence[int] = (), draft: Sequence[int] = ()) -> DecodingResult:
    """Decode after the `previous` text (continuing the `forced` tokens); with a vocabulary, also after the
    vocabulary and the previous text, and keep that decode when it writes more of the listed terms
    (see dictate.asr.prompting)."""
    plain = decode_with_fallback(recognizer, audio, options, language, previous, forced, draft)
    if not options.vocabulary.strip():
        return plain
    terms = recognizer.tokenizer.encode(" " + options.vocabulary.strip())
    prompt = compose_prompt(terms, previous, prompt_budget(recognizer.model.info.n_text_ctx))
    prompted = decode_with_fallback(recognizer, audio, options, language, prompt, forced, draft)
    wins = count_terms(prompted.text, options.vocabulary) > count_terms(plain.text, options.vocabulary)
    return prompted if wins else plain


def _split_by_timestamps(tokens: Sequence[int], timestamp_begin: int, segment_frames: int
                         ) -> tuple[list[tuple[int, int, float, float]], int]:
    """Token slices [a, b) with their (start, end) seconds in the window, and the frames consumed."""
    is_timestamp = [t >= timestamp_begin for t in tokens]
    single_timestamp_ending = is_timestamp[-2:] == [False, True]
    consecutive = [i for i in range(1, len(tokens)) if is_timestamp[i] and is_timestamp[i - 1]]
    if consecutive:
        slices = consecutive + ([len(tokens)] if single_timestamp_ending else [])
        pieces, last = [], 0
        for current in slices:
            start = (tokens[last] - timestamp_begin) * TIME_PRECISION
            end = (tokens[current - 1] - timestamp_begin) * TIME_PRECISION
            pieces.append((last, current, start, end))
            last = current
        if single_timestamp_ending:
            return pieces, segment_frames
        return pieces, (tokens[last - 1] - timestamp_begin) * INPUT_STRIDE
    duration = segment_frames / FRAMES_PER_SECOND
    timestamps = [t for t in tokens if t >= timestamp_begin]
    if timestamps and timestamps[-1] != timestamp_begin:
        duration = (timestamps[-1] - timestamp_begin) * TIME_PRECISION
    return [(0, len(tokens), 0.0, duration)], segment_frames


def window_mel(audio: np.ndarray, n_mels: int) -> tuple[np.ndarray, int]:
    """Mel [n_mels, 3000] of up to 30 s of samples, and the frames that hold audio."""
    mel = log_mel_spectrogram(audio, n_mels=n_mels, padding=N_SAMPLES)
    return pad_or_trim(mel[:, :N_FRAMES]), min(N_FRAMES, len(audio) // HOP_LENGTH)


def transcribe_window(
    recognizer: Recognizer,
    window: np.ndarray,
    options: TranscribeOptions = TranscribeOptions(),
    prompt_tokens: Sequence[int] = (),
    time_offset: float = 0.0,
    *,
    num_frames: int | None = None,
    language: str | None = None,
    last_speech_timestamp: float = 0.0,
    forced: Sequence[int] = (),
    draft: Sequence[int] = (),
    encode: Callable[[np.ndarray], AudioContext] | None = None,
) -> WindowResult:
    """Transcribe one window: 16 kHz samples (<= 30 s) or a mel window [n_mels, <=3000].

    `num_frames` is how many mel frames hold audio (default: all given); `time_offset`
    (s) is added to every time; `language` None means options.language, else detection.
    `prompt_tokens` is the previous text; `options.vocabulary` may go ahead of it (`decode_window`).
    `forced`: the window's text as far as it is known, timestamp tokens included; the decode continues it.
    `draft`: the tokens a greedy decode is expected to write after `forced` (`DecodingOptions.draft`).
    `encode`: runs the encoder on the [1, n_mels, 3000] mel (default: the model's `encode`), e.g. from a cache.
    """
    model, tokenizer = recognizer.model, recognizer.tokenizer
    if window.ndim == 1:
        mel, frames = window_mel(window, model.info.n_mels)
    else:
        mel, frames = pad_or_trim(window), min(N_FRAMES, window.shape[-1])
    num_frames = frames if num_frames is None else min(num_frames, N_FRAMES)
    audio = (encode or model.encode)(mel[None])
    language = resolve_language(model, audio, tokenizer, language or options.language).language
    result = decode_window(recognizer, audio, options, language, prompt_tokens, forced, draft)

    silent = options.no_speech_threshold is not None and result.no_speech_prob > options.no_speech_threshold and not (
        options.logprob_threshold is not None and result.avg_logprob > options.logprob_threshold)
    looping = options.drop_loops and options.compression_ratio_threshold is not None and (
        result.compression_ratio > options.compression_ratio_threshold)
    if silent or looping:  # no word timing spent on either
        return WindowResult((), num_frames, result, True, last_speech_timestamp)

    tokens = result.tokens
    pieces, seek_frames = _split_by_timestamps(tokens, tokenizer.timestamp_begin, num_frames) if tokens else ([], num_frames)
    segments: list[Segment] = []
    probabilities: list[float] = []
    for a, b, start, end in pieces:
        text_positions = [i for i in range(a, b) if tokens[i] < tokenizer.eot]
        text = tokenizer.decode([tokens[i] for i in text_positions])
        if start == end or not text.strip():
            continue
        probabilities += [float(np.exp(result.token_logprobs[i])) for i in text_positions]
        segments.append(Segment(
            id=len(segments), start=time_offset + start, end=time_offset + end, text=text,
            tokens=tuple(tokens[a:b]), avg_logprob=result.avg_logprob, compression_ratio=result.compression_ratio,
            no_speech_prob=result.no_speech_prob, temperature=result.temperature,
        ))
    if options.word_timestamps and segments:
        segments, last_speech_timestamp = add_word_timestamps(
            segments, model, audio, tokenizer, tokenizer.sot_sequence(language, options.task), probabilities,
            num_frames, time_offset, last_speech_timestamp, language)
        single_timestamp_ending = len(tokens) >= 2 and tokens[-2] < tokenizer.timestamp_begin <= tokens[-1]
        last_word_end = next((s.words[-1].end for s in reversed(segments) if s.words), None)
        if not single_timestamp_ending and last_word_end is not None and last_word_end > time_offset:
            seek_frames = round(last_word_end * FRAMES_PER_SECOND) - round(time_offset * FRAMES_PER_SECOND)
    return WindowResult(tuple(segments), seek_frames, result, False, last_speech_timestamp)


class MelWindows:
    """Normalised mel windows of a whole recording, as `log_mel_spectrogram(audio, padding=N_SAMPLES)`.

    From an array, the whole mel is computed at once. Streamed from a file, two passes
    over bounded blocks: the first finds the recording's peak (Whisper normalises by it),
    the second yields frames as the windows advance, so memory stays bounded. (The
    streamed frames equal the batch ones to float rounding, about 1e-6.)
    """

    def __init__(self, n_mels: int, audio: np.ndarray | None = None, path: Path | None = None) -> None:
        self.n_mels = n_mels
        self._path = path
        if audio is not None:
            self._mel = log_mel_spectrogram(audio, n_mels=n_mels, padding=N_SAMPLES)
            self.total_frames = self._mel.shape[-1]
            return
        self._peak = np.float32(-np.inf)  # float32 like the batch path, so both round alike
        self.total_frames = 0
        for frames in self._raw_frames():
            self.total_frames += frames.shape[1]
            if frames.size:
                self._peak = max(self._peak, frames.max())
        self._mel = np.zeros((n_mels, 0), dtype=np.float32)
        self._first_frame = 0
        self._stream = self._raw_frames()

    @property
    def content_frames(self) -> int:
        """Frames that hold audio (the padding excluded)."""
        return self.total_frames - N_FRAMES

    @property
    def duration(self) -> float:
        return self.content_frames / FRAMES_PER_SECOND

    @classmethod
    def from_file(cls, path: Path, n_mels: int, stream_above_seconds: float = STREAM_ABOVE_SECONDS) -> MelWindows:
        """Files up to `stream_above_seconds` are read whole (bit-identical to the array path); longer ones stream."""
        from dictate.audio.loading import load_audio

        if _duration_seconds(path) > stream_above_seconds:
            return cls(n_mels, path=path)
        return cls(n_mels, audio=load_audio(path))

    def _raw_frames(self) -> Iterator[np.ndarray]:
        from dictate.audio.loading import iter_audio_blocks

        mel = IncrementalLogMel(self.n_mels)
        for block in iter_audio_blocks(self._path):
            yield mel.push(block)
        yield mel.push(np.zeros(N_SAMPLES, dtype=np.float32))
        yield mel.finish()

    def window(self, seek: int) -> np.ndarray:
        """Frames [seek, seek + 3000) (fewer at the end); from a file, `seek` must not go back."""
        if self._path is None:
            return self._mel[:, seek : seek + N_FRAMES]
        if seek < self._first_frame:
            raise ValueError("streamed mel windows only move forward")
        unread = max(0, seek - self._first_frame - self._mel.shape[1])  # frames skipped before they were read
        self._mel = self._mel[:, seek - self._first_frame :]
        self._first_frame = seek
        while self._mel.shape[1] < N_FRAMES:
            raw = next(self._stream, None)
            if raw is None:
                break
            dropped = min(unread, raw.shape[1])
            raw, unread = raw[:, dropped:], unread - dropped
            clamped = np.maximum(raw, self._peak - DYNAMIC_RANGE_LOG10)
            self._mel = np.concatenate([self._mel, ((clamped + LOG_OFFSET) / LOG_SCALE).astype(np.float32)], axis=1)
        return self._mel[:, :N_FRAMES]


def speech_regions(blocks: Iterable[np.ndarray], vad_options: VadOptions = REGION_VAD) -> list[tuple[int, int]]:
    """Mel-frame spans [start, end) holding speech (padding included) in consecutive 16 kHz blocks.

    Speech still going on at the end runs to the end (the last span's end may pass the audio's).
    """
    activity = VoiceActivity(vad_options)
    regions: list[tuple[int, int]] = []
    start = 0
    for block in blocks:
        for transition in activity.push(block):
            if isinstance(transition, SpeechStart):
                start = _frame(transition.time)
            else:
                regions.append((start, _frame(transition.time)))
    if activity.speaking:
        regions.append((start, _frame(activity.time + N_SAMPLES / SAMPLE_RATE)))
    return regions


def _close_short_gaps(regions: Sequence[tuple[int, int]], content_frames: int) -> list[tuple[int, int]]:
    """`regions` within [0, content_frames), joined across gaps under MIN_SKIP_S, reaching an end nearer than that."""
    min_skip = _frame(MIN_SKIP_S)
    closed: list[tuple[int, int]] = []
    for start, end in regions:
        if start - (closed[-1][1] if closed else 0) < min_skip:
            start = closed.pop()[0] if closed else 0
        closed.append((start, end if content_frames - end >= min_skip else content_frames))
    return closed


def _frame(seconds: float) -> int:
    return round(seconds * FRAMES_PER_SECOND)


def _duration_seconds(path: Path) -> float:
    """The file's length from its header; 0 when unreadable (loading then reports why)."""
    try:
        return soundfile.info(str(path)).duration
    except (soundfile.SoundFileError, RuntimeError, OSError):
        return 0.0


def _resolve(model: str | Path | Recognizer, options: TranscribeOptions) -> Recognizer:
    if isinstance(model, Recognizer):
        return model
    return Recognizer.load(model, variant=options.variant, device=options.device)


def transcribe(
    audio: str | Path | np.ndarray,
    model: str | Path | Recognizer = DEFAULT_MODEL,
    options: TranscribeOptions = TranscribeOptions(),
    progress: Callable[[float], None] | None = None,
    stream_above_seconds: float = STREAM_ABOVE_SECONDS,
) -> tuple[Iterator[Segment], TranscriptInfo]:
    """Transcribe a file (streamed in bounded memory) or 16 kHz mono float32 samples.

    Returns the segments as a lazy iterator and the transcript's facts (language detected
    on the first speech when not given). `progress(seconds)` is told the audio time done.
    Files longer than `stream_above_seconds` are read block by block, shorter ones whole.
    """
    recognizer = _resolve(model, options)
    check_task(recognizer.tokenizer, options.task)
    n_mels = recognizer.model.info.n_mels
    if isinstance(audio, np.ndarray):
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        mels, blocks = MelWindows(n_mels, audio=samples), [samples]
    else:
        from dictate.audio.loading import iter_audio_blocks

        mels = MelWindows.from_file(Path(audio), n_mels, stream_above_seconds)
        blocks = iter_audio_blocks(audio)
    regions = [(0, mels.content_frames)]
    if options.vad:
        regions = _close_short_gaps(speech_regions(blocks), mels.content_frames)
    first_window = None
    if options.language is None and recognizer.tokenizer.multilingual:
        first_speech = regions[0][0] if regions else 0
        first_window = recognizer.model.encode(pad_or_trim(mels.window(first_speech))[None])
    guess = resolve_language(recognizer.model, first_window, recognizer.tokenizer, options.language)
    language = guess.language
    info = TranscriptInfo(duration=mels.duration, language=language, language_probability=guess.probability,
                          model=recognizer.model.info.name, task=options.task)
    segments = _segments(recognizer, mels, regions, replace(options, language=language), progress)
    return segments, info


def _segments(recognizer: Recognizer, mels: MelWindows, regions: Sequence[tuple[int, int]],
              options: TranscribeOptions, progress: Callable[[float], None] | None) -> Iterator[Segment]:
    """The segments of the windows over `regions` (mel-frame spans, in order), ids counting over all."""
    all_tokens: list[int] = []
    if options.initial_prompt:
        all_tokens += recognizer.tokenizer.encode(" " + options.initial_prompt.strip())
    prompt_reset_since = 0
    seek, next_id, last_speech = 0, 0, 0.0
    for region_start, region_end in regions:
        seek = max(seek, region_start)
        while seek < region_end:
            frames = min(N_FRAMES, region_end - seek)
            # as openai-whisper: the mel of the padded audio, cut at the region's end, then zero frames
            window = transcribe_window(
                recognizer, mels.window(seek)[:, :frames], options, all_tokens[prompt_reset_since:],
                seek * HOP_LENGTH / SAMPLE_RATE, num_frames=frames, language=options.language,
                last_speech_timestamp=last_speech)
            seek += window.seek_frames if window.seek_frames > 0 else frames
            last_speech = window.last_speech_timestamp
            for segment in window.segments:
                all_tokens += segment.tokens
                yield replace(segment, id=next_id)
                next_id += 1
            if (not options.condition_on_previous_text
                    or window.decoding.temperature > options.prompt_reset_on_temperature):
                prompt_reset_since = len(all_tokens)
            if progress is not None:
                progress(min(seek, mels.content_frames) / FRAMES_PER_SECOND)
    if progress is not None:
        progress(mels.duration)
