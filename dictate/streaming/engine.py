"""The streaming engine: capture -> VAD -> LocalAgreement policy -> events, on the caller's thread.

`run()` blocks; `stop`, `pause`, `resume` and `set_source` may be called from any
thread: they post a request that the loop takes up between two reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dictate.audio.capture import AudioSource, Capture, CaptureBlock, CaptureError
from dictate.audio.silence_watch import DigitalSilenceWatch
from dictate.audio.vad import VadOptions
from dictate.constants import SAMPLE_RATE
from dictate.streaming.backend import StreamingDecodeOptions, WhisperBackend
from dictate.streaming.events import AudioDropped, EngineError, EngineStatus, Event, InputSilent, Paused
from dictate.streaming.memory import return_large_buffers_to_the_system
from dictate.streaming.policies import DEFAULT_POLICY
from dictate.streaming.policy import Backend, PolicyOptions
from dictate.streaming.processor import ProcessorOptions, StreamProcessor

READ_TIMEOUT_S = 0.1  # longest wait for audio before the loop looks at requests again
STATUS_INTERVAL_S = 0.25  # audio seconds between two EngineStatus events


@dataclass(frozen=True)
class EngineOptions:
    """What the engine runs and how it decides."""

    model: str = "tiny.en"  # catalogue name or a prepared model folder
    language: str | None = None  # None: English on .en models, detected per window otherwise
    task: str = "transcribe"  # or "translate"
    variant: str | None = None  # ONNX variant; None: the device's default (int8 on CPU)
    device: str = "auto"
    min_chunk_s: float = 0.6  # new speech audio between two decodes
    vad: VadOptions = field(default_factory=VadOptions)
    policy: PolicyOptions = field(default_factory=PolicyOptions)
    policy_kind: str = DEFAULT_POLICY  # a name in dictate.streaming.policies.POLICIES
    vocabulary: str = ""  # terms (Vocabulary.prompt()) that prompt every decode, ahead of the committed text

    def processor_options(self) -> ProcessorOptions:
        return ProcessorOptions(min_chunk_s=self.min_chunk_s, vad=self.vad, policy=self.policy,
                                policy_kind=self.policy_kind)


def load_backend(options: EngineOptions) -> WhisperBackend:
    """The Whisper model named in the options, prepared on first use."""
    from dictate.asr.transcribe import Recognizer

    recognizer = Recognizer.load(options.model, variant=options.variant, device=options.device)
    decode = StreamingDecodeOptions(language=options.language, task=options.task, vocabulary=options.vocabulary)
    return WhisperBackend(recognizer, decode)


class StreamingEngine:
    """Drives one `StreamProcessor` from an `AudioSource`; every result goes to `on_event`."""

    def __init__(
        self,
        options: EngineOptions,
        source: AudioSource,
        on_event: Callable[[Event], None],
        backend: Backend | None = None,
        on_audio: Callable[[np.ndarray, float], None] | None = None,
    ) -> None:
        """`on_audio(samples, at)`: every block the processor is fed, with its time on the engine's timeline
        (lost audio leaves a gap), called on the engine's thread; the session audio recorder."""
        self.options = options
        self._on_event = on_event
        self._on_audio = on_audio
        return_large_buffers_to_the_system()  # before the model: its decodes would otherwise grow the heap
        self.processor = StreamProcessor(backend or load_backend(options), options.processor_options())
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._source: AudioSource | None = source
        self._source_changed = True
        self._stopping = False
        self._paused = False
        self._preroll_s = 0.0  # audio from before `resume` fed on resuming
        self._next_status = 0.0
        self._silence: DigitalSilenceWatch | None = None  # watches the open live input for a dead microphone

    # requests from any thread -------------------------------------------------
    def stop(self) -> None:
        """Finish the current utterance and make `run` return."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()

    def pause(self) -> None:
        """Commit what was said and ignore the input until `resume`."""
        with self._wake:
            self._paused = True
            self._wake.notify_all()

    def resume(self, preroll_s: float = 0.0) -> None:
        """Listen again, starting with the last `preroll_s` seconds the input heard while paused (a word said
        together with the key press is not cut)."""
        with self._wake:
            self._paused = False
            self._preroll_s = preroll_s
            self._wake.notify_all()

    def set_source(self, source: AudioSource) -> None:
        """Continue on another input; the transcript and its timeline go on."""
        with self._wake:
            self._source, self._source_changed = source, True
            self._wake.notify_all()

    # the loop -----------------------------------------------------------------
    def run(self) -> None:
        """Process audio until `stop()` or the end of a file source; the tail is committed before returning."""
        capture: Capture | None = None
        was_paused = False
        try:
            while True:
                with self._wake:
                    stopping, paused, switch = self._stopping, self._paused, self._source_changed
                    source, self._source_changed = self._source, False
                    preroll_s = self._preroll_s
                if stopping:
                    self._drain(capture, was_paused)
                    return
                if switch:
                    capture = self._close(capture)
                    capture = self._open(source)
                    continue
                if paused:
                    if not was_paused:
                        self._emit_all(self.processor.flush())
                        self._emit(Paused(self.processor.audio_time))
                    was_paused = True
                    self._wait(lambda: self._stopping or self._source_changed or not self._paused)
                    continue
                if capture is None:
                    self._wait(lambda: self._stopping or self._source_changed)
                    continue
                if was_paused:
                    capture.skip_to_now(keep_s=preroll_s)
                    was_paused = False
                try:
                    block = capture.read(READ_TIMEOUT_S)
                except CaptureError as error:
                    capture = self._close(capture)
                    self._emit(EngineError(str(error), recoverable=True))
                    continue
                self._handle(block, capture)
                if block.ended:
                    return
        finally:
            self._close(capture)

    def _drain(self, capture: Capture | None, paused: bool) -> None:
        """Stopping: process the audio the input captured before the stop but the loop has not read yet (the last
        word is in it). Only that much: a live input goes on delivering, and a loop that takes as long per block
        as a block lasts would never find nothing pending."""
        if capture is None or paused:
            return
        left_s = capture.pending_s
        try:
            while left_s > 0:
                block = capture.read(0.0)
                self._handle(block, capture)
                if block.ended or not len(block.samples):
                    return
                left_s -= len(block.samples) / SAMPLE_RATE + block.dropped_s
        except CaptureError:
            return  # the input failed as it stopped: what it delivered was processed

    def _open(self, source: AudioSource | None) -> Capture | None:
        """Open the input; a live one is watched for digital silence from its first block on."""
        if source is None:
            return None
        try:
            capture = source.open()
        except CaptureError as error:
            self._emit(EngineError(str(error), recoverable=True))
            return None
        self._silence = DigitalSilenceWatch() if capture.live else None
        return capture

    def _close(self, capture: Capture | None) -> None:
        """Close the input and commit the utterance in progress."""
        if capture is not None:
            capture.close()
        self._emit_all(self.processor.flush())

    def _wait(self, condition: Callable[[], bool]) -> None:
        with self._wake:
            self._wake.wait_for(condition)

    def _handle(self, block: CaptureBlock, capture: Capture) -> None:
        processor = self.processor
        if block.dropped_s > 0 or block.overflows:
            self._emit(AudioDropped(processor.audio_time, block.dropped_s))
        if block.dropped_s > 0:
            self._emit_all(processor.skip(block.dropped_s))
        if self._on_audio is not None and len(block.samples):
            self._on_audio(block.samples, processor.audio_time)
        self._emit_all(processor.feed(block.samples))
        if processor.audio_time >= self._next_status or processor.last_decode_s > 0:
            self._next_status = processor.audio_time + STATUS_INTERVAL_S
            decoded = processor.last_decoded_audio_s
            self._emit(EngineStatus(
                audio_time=processor.audio_time,
                lag=processor.undecoded_s + capture.pending_s,
                rtf=processor.last_decode_s / decoded if decoded > 0 else 0.0,
                level_db=processor.level_db,
                speaking=processor.speaking,
                decode_window=processor.decode_window,
            ))
        # After the block's status: a block that ends a long silent stretch may still start with speech, and its
        # status level must not read as the sound coming back after the warning (the window clears it on sound).
        if self._silence is not None and self._silence.update(block.samples):
            # told once per silent stretch; capture goes on, so an unmuted microphone is heard again
            self._emit(InputSilent(self._silence.message))

    def _emit(self, event: Event) -> None:
        self._on_event(event)

    def _emit_all(self, events: list[Event]) -> None:
        for event in events:
            self._on_event(event)
