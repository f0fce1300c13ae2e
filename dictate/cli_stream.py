"""`dictate stream`: live captions from a microphone or a file, then the transcript in any export format."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from dictate.transcript.journal import Journal

EXIT_ERROR = 2
FORMATS = ("txt", "srt", "vtt", "json", "md")
DIM, RESET, CLEAR_LINE = "\x1b[2m", "\x1b[0m", "\r\x1b[K"
LIVE_LINE_CHARS = 100  # the tail of the utterance shown on the live line


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `stream` and its options."""
    from dictate.audio.vad import VadOptions
    from dictate.streaming.policies import DEFAULT_POLICY, POLICIES
    from dictate.streaming.policy import PolicyOptions
    from dictate.streaming.processor import ProcessorOptions

    parser = subparsers.add_parser("stream", help="live transcription of a microphone or a file (no GUI)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", type=Path, metavar="FILE", help="play this file through the capture path")
    source.add_argument("--device", help="input device index or name (default: the system default)")
    parser.add_argument("--model", default="tiny.en", help="model name or prepared folder (default tiny.en)")
    parser.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where Whisper runs: CUDA when onnxruntime can load it (auto, the default), or forced")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--realtime", action="store_true", help="play --input at real time (the default)")
    pace.add_argument("--fast", action="store_true", help="feed --input as fast as the engine takes it")
    parser.add_argument("--language", help="language code (default: English on .en models, else detected)")
    parser.add_argument("--task", choices=("transcribe", "translate"), default="transcribe")
    parser.add_argument("--policy", choices=list(POLICIES), default=DEFAULT_POLICY,
                        help="when words become final: when two decodes agree (local-agreement, the default) "
                             "or once the decoder's attention has passed them (alignatt)")
    parser.add_argument("--min-chunk", type=float, default=ProcessorOptions.min_chunk_s, metavar="SECONDS",
                        help=f"new speech between two decodes (default {ProcessorOptions.min_chunk_s}): "
                             "shorter commits sooner and costs more CPU")
    parser.add_argument("--end-silence", type=float, default=VadOptions.min_silence_s, metavar="SECONDS",
                        help=f"silence that ends an utterance and commits all of it (default {VadOptions.min_silence_s}):"
                             " shorter gives the final words sooner")
    parser.add_argument("--doubtful-below", type=float, default=PolicyOptions.doubtful_below, metavar="P",
                        help="a word less probable than P waits for a third agreeing decode "
                             f"(default {PolicyOptions.doubtful_below}; 0: two decodes agreeing commit every word)")
    parser.add_argument("--beam", type=int, default=PolicyOptions.beam_size, metavar="N",
                        help=f"beams of the running decodes (default {PolicyOptions.beam_size}: greedy); 5 is more "
                             "accurate where the machine keeps up and costs 23-40 %% more CPU (bench/README.md)")
    parser.add_argument("--final-beam", type=int, default=PolicyOptions.final_beam_size, metavar="N",
                        help="beams of the final decode at each utterance end, which commits without a second "
                             f"decode to agree (default {PolicyOptions.final_beam_size}; 1: greedy like the running "
                             "decodes, which costs less CPU at each pause)")
    parser.add_argument("--quick-finals", action="store_true",
                        help="the final decode at each utterance end continues the committed sentences instead of "
                             "decoding them again: final text about 0.05 s sooner, at 0.5-0.6 points of WER "
                             "(bench/README.md)")
    parser.add_argument("--vocabulary", type=Path, metavar="FILE",
                        help="vocabulary file: names and terms that prompt every decode (one a line)")
    parser.add_argument("--profile", default="plain", metavar="NAME",
                        help="text profile: plain (the words as heard, the default), dictation (spoken commands, "
                             "numbers as digits, no fillers), chat, or one from profiles.json")
    parser.add_argument("--format", choices=FORMATS, help="transcript format (default: from -o's extension, else txt)")
    parser.add_argument("-o", "--output", type=Path, help="write the final transcript here (default: stdout at the end when not a TTY)")
    parser.add_argument("--events", type=Path, metavar="PATH", help="write every event as a JSON line")
    journal = parser.add_mutually_exclusive_group()
    journal.add_argument("--journal", type=Path, metavar="PATH",
                         help="autosave journal of the committed words, fsynced as they commit "
                              "(default: a new one in the sessions folder, recoverable after a crash)")
    journal.add_argument("--no-journal", action="store_true", help="keep no autosave journal")


class LiveCaptions:
    """Terminal captions, a line per sentence: committed text plain, the tentative tail dim (rewritten on a TTY)."""

    def __init__(self, out: TextIO, live: bool = False) -> None:
        """`live`: a microphone; on a TTY the user is told when its first audio arrives (speak from then on)."""
        self._out = out
        self._tty = out.isatty()
        self._line = ""  # committed text of the sentence in progress
        self._awaiting_audio = live and self._tty

    def show(self, event: object) -> None:
        from dictate.streaming.events import Committed, EngineError, EngineStatus, InputSilent, Tentative
        from dictate.streaming.policy import ends_sentence

        if isinstance(event, Committed):
            for index, word in enumerate(event.words):
                self._line += word.text
                if ends_sentence(event.words, index):  # not after "Mr."
                    self.end_line()
            self._draw("")
        elif isinstance(event, Tentative) and self._tty:
            self._draw("".join(w.text for w in event.words))
        elif isinstance(event, EngineError):
            self._tell(f"warning: {event.message}" if isinstance(event, InputSilent) else event.message)
        elif isinstance(event, EngineStatus) and self._awaiting_audio and event.audio_time > 0:
            self._awaiting_audio = False  # a device may take seconds to deliver: words before this are lost
            self._tell("listening (Ctrl-C to stop)")
        self._out.flush()

    def show_text(self, delete: int, insert: str) -> None:
        """A text-stage edit (shown instead of the committed words); a deletion reaches back within the line only."""
        from dictate.streaming.policy import SENTENCE_ENDS

        self._line = self._line[: max(len(self._line) - delete, 0)] + insert
        if self._line.rstrip().endswith(SENTENCE_ENDS):
            self.end_line()
        self._draw("")
        self._out.flush()

    def _tell(self, message: str) -> None:
        """One stderr line; on a TTY the live line is cleared first and drawn again below it."""
        if self._tty:
            self._out.write(CLEAR_LINE)
            self._out.flush()
        print(f"dictate stream: {message}", file=sys.stderr, flush=True)
        self._draw("")

    def end_line(self) -> None:
        """Finish the sentence in progress on its own line."""
        if self._line.strip():
            self._draw("")
            self._out.write("" if self._tty else self._line.strip())
            self._out.write("\n")
        self._line = ""

    def _draw(self, tentative: str) -> None:
        if self._tty:
            shown = self._line.lstrip()[-LIVE_LINE_CHARS:]
            self._out.write(CLEAR_LINE + shown + (DIM + tentative + RESET if tentative else ""))


class EventLog:
    """Every event as a JSON line: its type and fields, the audio time fed so far and the wall time."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._started = time.monotonic()

    def write(self, event: object, audio_time: float) -> None:
        from dictate.streaming.events import Committed, Tentative

        record: dict[str, object] = {"type": type(event).__name__, "audio_time": round(audio_time, 3),
                                     "wall_time": round(time.monotonic() - self._started, 3)}
        if isinstance(event, (Committed, Tentative)):
            record["words"] = [{"text": w.text, "start": w.start, "end": w.end, "probability": round(w.probability, 3),
                                "tentative": isinstance(event, Tentative)} for w in event.words]
        else:
            record.update({key: _plain(value) for key, value in asdict(event).items()})
        self._handle.write(json.dumps(record) + "\n")


class JournalSink:
    """Journals committed words and dropped audio as they happen; a failing disk is reported once, never fatal."""

    def __init__(self, path: Path, warn: TextIO) -> None:
        from dictate.transcript.journal import Journal, JournalWriteError

        self._warn = warn
        self._warned = False
        self._journal: Journal | None = None
        try:
            self._journal = Journal.open(path)
        except JournalWriteError as error:
            self._warning(str(error))

    def write(self, event: object, text: tuple[int, str] | None = None) -> None:
        """Journal an event; `text`: (delete, insert), what the text stage made of it (None: no stage)."""
        from dictate.streaming.events import AudioDropped, Committed

        if isinstance(event, Committed):
            self._guard(lambda journal: journal.append_words(event.words, text))
        elif isinstance(event, AudioDropped):
            self._guard(lambda journal: journal.append_marker("audio_dropped", start=event.start,
                                                              seconds=event.seconds))
        elif text is not None:
            self.write_text(*text)

    def write_text(self, delete: int, insert: str) -> None:
        """Journal a text-stage edit that came without new words."""
        from dictate.transcript.journal import TEXT_MARKER

        if delete or insert:
            self._guard(lambda journal: journal.append_marker(TEXT_MARKER, delete=delete, insert=insert))

    def close(self) -> None:
        """Write the clean end record (the session needs no recovery) and close the file."""
        self._guard(lambda journal: journal.close(clean=True))

    def _guard(self, write: Callable[[Journal], None]) -> None:
        from dictate.transcript.journal import JournalWriteError

        if self._journal is None:
            return
        try:
            write(self._journal)
        except JournalWriteError as error:
            self._warning(f"{error} Dictation goes on.")

    def _warning(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            print(f"dictate stream: warning: {message}", file=self._warn, flush=True)


@contextmanager
def _ctrl_c_for_this_thread_only() -> Iterator[None]:
    """Threads started inside never take SIGINT (they inherit the blocked mask), so Ctrl-C reaches the main thread.

    Otherwise the kernel may hand it to PortAudio's capture thread (or the PulseAudio client's), whose
    interrupted wait stops the stream as if the microphone were unplugged, and PortAudio can hang at exit.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: console Ctrl-C goes to the main thread anyway
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def _ctrl_c_stops() -> Iterator[None]:
    """Ctrl-C (SIGINT) raises KeyboardInterrupt here even when the stream was started with it ignored.

    A shell without job control (a script's `dictate stream ... &`) starts its background commands with SIGINT
    ignored, and Python then installs no handler: `kill -INT` would neither stop the stream nor write its transcript.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_then_set(run: Callable[[], None], finished: threading.Event) -> None:
    """Run the engine, then say so. The main thread waits on the event, not on Thread.join: on Python 3.11 a
    join interrupted by Ctrl-C can mark a running thread as stopped, and the transcript would be written (and
    the event log closed) while the engine still flushes its last words."""
    try:
        run()
    finally:
        finished.set()


def _plain(value: object) -> object:
    return float(value) if hasattr(value, "__float__") and not isinstance(value, (bool, int, str)) else value


def run(args: argparse.Namespace) -> int:
    """Stream until the file ends or Ctrl-C; then write the transcript. Failures: one line, exit 2."""
    from dictate.audio.capture import CaptureError, FileSource, MicrophoneSource
    from dictate.audio.vad import VadOptions
    from dictate.modelstore.errors import ModelError
    from dictate.streaming.collect import TranscriptCollector
    from dictate.streaming.engine import EngineOptions, StreamingEngine
    from dictate.streaming.events import Committed, EngineError, InputSilent
    from dictate.streaming.policy import PolicyOptions
    from dictate.text.profiles import profile_named
    from dictate.text.stage import TextStage, feed_event
    from dictate.text.vocabulary import Vocabulary, VocabularyError, load_vocabulary
    from dictate.transcript.exporters import ExportError, export_text, write_transcript
    from dictate.transcript.journal import new_journal_path
    from dictate.transcript.retime import build_transcript
    from dictate.transcript.types import TranscriptInfo

    if args.fast and args.input is None:
        return _fail("--fast needs --input FILE (a microphone runs at real time)")
    try:
        vocabulary = load_vocabulary(args.vocabulary) if args.vocabulary else Vocabulary()
        profile = profile_named(args.profile, vocabulary, language=args.language or "en")
    except VocabularyError as error:
        return _fail(str(error))
    stage = None if profile.is_identity else TextStage(profile)
    device = int(args.device) if args.device is not None and args.device.isdigit() else args.device
    source = FileSource(args.input, realtime=not args.fast) if args.input else MicrophoneSource(device=device)
    captions = LiveCaptions(sys.stdout, live=args.input is None)
    collector = TranscriptCollector()
    failures: list[str] = []
    log_handle = args.events.open("w", encoding="utf-8") if args.events else None
    journal = None if args.no_journal else JournalSink(args.journal or new_journal_path(), sys.stderr)
    try:
        engine: StreamingEngine | None = None
        log = EventLog(log_handle) if log_handle else None

        def on_event(event: object) -> None:
            edit = feed_event(stage, event) if stage is not None else None
            if journal is not None:  # first: a word is on disk before anything shows it
                journal.write(event, (edit.delete, edit.insert) if edit is not None else None)
            collector(event)
            if edit is not None:
                captions.show_text(edit.delete, edit.insert)
            elif stage is None or not isinstance(event, Committed):
                captions.show(event)
            if stage is not None and stage.stop_requested and engine is not None:
                engine.stop()  # "stop dictating"
            if log is not None and engine is not None:
                log.write(event, engine.processor.audio_time)
            if isinstance(event, EngineError) and not isinstance(event, InputSilent) and engine is not None:
                failures.append(event.message)
                engine.stop()  # the command line has no device picker to recover with

        options = EngineOptions(model=args.model, language=args.language, task=args.task, policy_kind=args.policy,
                                device=args.provider, vocabulary=vocabulary.prompt(), min_chunk_s=args.min_chunk,
                                vad=VadOptions(min_silence_s=args.end_silence),
                                policy=PolicyOptions(doubtful_below=args.doubtful_below,
                                                     beam_size=args.beam, final_beam_size=args.final_beam,
                                                     quick_finals=args.quick_finals))
        try:
            engine = StreamingEngine(options, source=source, on_event=on_event)
        except RuntimeError as error:  # --provider cuda where onnxruntime cannot load CUDA
            return _fail(str(error))
        finished = threading.Event()
        worker = threading.Thread(target=_run_then_set, args=(engine.run, finished), name="dictate-engine")
        with _ctrl_c_for_this_thread_only():
            worker.start()
        with _ctrl_c_stops():
            try:
                while not finished.wait(timeout=0.5):
                    pass
            except KeyboardInterrupt:
                engine.stop()
                finished.wait()
        if stage is not None:
            edit = stage.finish()
            captions.show_text(edit.delete, edit.insert)
            if journal is not None:
                journal.write_text(edit.delete, edit.insert)
        captions.end_line()
        info = TranscriptInfo(duration=engine.processor.audio_time, language=args.language or "en",
                              model=args.model, task=args.task)
        transcript = collector.transcript(info)
        if stage is not None:  # the words as the profile wrote them, timed from the words heard
            heard = [word for segment in transcript.segments for word in segment.words]
            transcript = build_transcript(heard, stage.text, info)
        if args.output:
            write_transcript(transcript, args.output, args.format)
        elif not sys.stdout.isatty() and args.format:
            sys.stdout.write(export_text(transcript, args.format))
    except (ModelError, CaptureError, ExportError, ValueError) as error:
        return _fail(str(error))
    finally:
        if log_handle:
            log_handle.close()
        if journal is not None:
            journal.close()
    for message in failures:
        print(f"dictate stream: {message}", file=sys.stderr)
    return EXIT_ERROR if failures else 0


def _fail(message: str) -> int:
    print(f"dictate stream: {message}", file=sys.stderr)
    return EXIT_ERROR
