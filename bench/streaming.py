"""Streaming benchmark with a computation-aware simulated clock (as ufal/whisper_streaming's simulation).

Audio arrives in real time in 20-ms blocks; every `feed` (VAD, and a decode
when one is due) advances the simulated clock by the wall time it really took,
so a slow decode makes the next chunk larger, exactly as live. Measures:
streaming vs offline WER (same greedy decoding), per-word latency (first shown
and committed, minus the word's end in the offline word timestamps), end of
utterance (longform `*.segments.tsv`) to final text, CPU per audio second while
speaking and in silence, peak RSS.

    /tmp/venv/bin/python -m bench.streaming [--sets longform librispeech] [--limit N] [--plot PATH]
        [--policy {local-agreement,alignatt}] [--frame-threshold FRAMES] [--recogniser {dictate,faster-whisper}]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.common import SETS, load_set, peak_rss_mb, word_error_rate
from bench.peer_streaming import PEER_NAME, FasterWhisperBackend
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE, TIME_PRECISION
from dictate.streaming.alignatt import FRAME_THRESHOLD, AttentionFrontierBackend
from dictate.streaming.backend import WhisperBackend
from dictate.streaming.events import Committed, Event, Tentative
from dictate.streaming.guards import word_key
from dictate.streaming.policies import DEFAULT_POLICY, POLICIES
from dictate.streaming.policy import Backend
from dictate.streaming.processor import ProcessorOptions, StreamProcessor
from dictate.transcript.types import Word

OURS = "dictate"
BLOCK_S = 0.02  # capture block
TAIL_SILENCE_S = 1.0  # silence after each file so the VAD ends the last utterance
SILENCE_TEST_S = 30.0  # seconds of each silence kind for the idle CPU measurement
ROOM_NOISE_RMS = 0.003  # about -50 dBFS: a quiet room through a laptop microphone
TWO_CORES = 2


@dataclass
class Run:
    """What one simulated stream produced."""

    events: list[tuple[float, Event]] = field(default_factory=list)  # (simulated time, event)
    speech_cpu_s: float = 0.0
    speech_audio_s: float = 0.0
    silence_cpu_s: float = 0.0
    silence_audio_s: float = 0.0

    @property
    def committed(self) -> list[tuple[float, Word]]:
        """Committed words and when; a punctuation mark committed on its own (held over a pause) is no word."""
        return [(t, w) for t, e in self.events if isinstance(e, Committed) for w in e.words if word_key(w.text)]

    @property
    def text(self) -> str:
        return "".join(w.text for _, e in self.events if isinstance(e, Committed) for w in e.words)


def simulate(processor: StreamProcessor, audio: np.ndarray) -> Run:
    """Feed `audio` as it would arrive live; the clock also advances by each feed's real compute time."""
    audio = np.concatenate([audio, np.zeros(int(TAIL_SILENCE_S * SAMPLE_RATE), np.float32)])
    block = int(BLOCK_S * SAMPLE_RATE)
    run = Run()
    now, fed = 0.0, 0
    while fed < len(audio):
        arrived = min(len(audio), int(now * SAMPLE_RATE + 0.5) // block * block)
        if arrived <= fed:
            now = (fed + block) / SAMPLE_RATE  # idle until the next block arrives
            continue
        speaking_before = processor.speaking
        cpu, wall = time.process_time(), time.perf_counter()
        events = processor.feed(audio[fed:arrived])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        seconds = (arrived - fed) / SAMPLE_RATE
        if speaking_before or processor.speaking:
            run.speech_cpu_s += cpu
            run.speech_audio_s += seconds
        else:
            run.silence_cpu_s += cpu
            run.silence_audio_s += seconds
        fed = arrived
        now += wall
        run.events += [(now, e) for e in events]
    run.events += [(now, e) for e in processor.flush()]
    return run


def first_shown(run: Run, word: Word, committed_at: float) -> float:
    """Earliest time a word with the same text and about the same start was on screen."""
    for t, event in run.events:
        if t > committed_at:
            break
        if isinstance(event, (Tentative, Committed)) and any(
            word_key(w.text) == word_key(word.text) and abs(w.start - word.start) < 0.5 for w in event.words
        ):
            return t
    return committed_at


def latencies(run: Run, offline: list[Word]) -> tuple[list[float], list[float]]:
    """(shown, committed) latency of each streaming word matched to an offline word, vs its offline end."""
    streamed = run.committed
    matcher = difflib.SequenceMatcher(a=[word_key(w.text) for _, w in streamed], b=[word_key(w.text) for w in offline],
                                      autojunk=False)
    shown, committed = [], []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            t, word = streamed[block.a + k]
            end = offline[block.b + k].end
            committed.append(t - end)
            shown.append(first_shown(run, word, t) - end)
    return shown, committed


def utterance_finals(run: Run, segments_tsv: Path) -> list[float]:
    """For each reference utterance: time its last committed word was committed minus its end."""
    with segments_tsv.open(encoding="utf-8") as handle:
        rows = [(float(r["start_s"]), float(r["end_s"])) for r in csv.DictReader(handle, delimiter="\t")]
    delays = []
    for start, end in rows:
        times = [t for t, w in run.committed if start - 0.25 <= (w.start + w.end) / 2 < end + 0.25]
        if times:
            delays.append(max(times) - end)
    return delays


def make_backend(recognizer: Recognizer, policy: str, frame_threshold: int, peer: FasterWhisperBackend | None = None,
                 ) -> Backend:
    """The recogniser as the policy needs it: with the attention frontier at `frame_threshold` for AlignAtt."""
    if peer is not None:
        return peer
    backend = WhisperBackend(recognizer)
    return AttentionFrontierBackend(backend, frame_threshold) if policy == "alignatt" else backend


def idle_cpu(backend: Backend, options: ProcessorOptions) -> dict[str, float]:
    """CPU seconds per audio second with nobody speaking: digital silence and quiet room noise."""
    rng = np.random.default_rng(0)
    kinds = {"digital silence": np.zeros(int(SILENCE_TEST_S * SAMPLE_RATE), np.float32),
             "room noise -50 dBFS": (rng.standard_normal(int(SILENCE_TEST_S * SAMPLE_RATE)) * ROOM_NOISE_RMS
                                     ).astype(np.float32)}
    result = {}
    for name, audio in kinds.items():
        run = simulate(StreamProcessor(backend, options), audio)
        total_cpu = run.silence_cpu_s + run.speech_cpu_s
        result[name] = total_cpu / (len(audio) / SAMPLE_RATE)
        assert run.text == "", f"words invented in {name}: {run.text!r}"
    return result


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--limit", type=int, default=None, help="files per set (default all)")
    parser.add_argument("--min-chunk", type=float, default=ProcessorOptions().min_chunk_s)
    parser.add_argument("--plot", type=Path, default=Path("bench/streaming.png"))
    parser.add_argument("--policy", choices=list(POLICIES), default=DEFAULT_POLICY)
    parser.add_argument("--frame-threshold", type=int, default=FRAME_THRESHOLD,
                        help="alignatt: attention frames (20 ms) before the audio end where decoding turns tentative")
    parser.add_argument("--recogniser", choices=[OURS, PEER_NAME], default=OURS,
                        help="who decodes behind the same VAD and policy (faster-whisper: side-by-side peer)")
    args = parser.parse_args()
    if args.recogniser == PEER_NAME and args.policy != DEFAULT_POLICY:
        parser.error(f"--recogniser {PEER_NAME} runs with the {DEFAULT_POLICY} policy only")

    recognizer = Recognizer.load("tiny.en")
    peer = FasterWhisperBackend() if args.recogniser == PEER_NAME else None
    options = ProcessorOptions(min_chunk_s=args.min_chunk, policy_kind=args.policy)
    offline_options = TranscribeOptions(beam_size=1, word_timestamps=True)
    rows = []
    all_shown: list[float] = []
    all_committed: list[float] = []
    for set_name in args.sets:
        utterances = load_set(set_name)[: args.limit]
        refs, streamed_text, offline_text = [], [], []
        shown, committed, finals = [], [], []
        speech_cpu = speech_audio = 0.0
        for utterance in utterances:
            audio = load_audio(utterance.path)
            segments = list(transcribe(audio, recognizer, offline_options)[0])
            offline_words = [w for s in segments for w in s.words]
            backend = make_backend(recognizer, args.policy, args.frame_threshold, peer)
            run = simulate(StreamProcessor(backend, options), audio)
            refs.append(utterance.reference)
            streamed_text.append(run.text)
            offline_text.append("".join(s.text for s in segments))
            s, c = latencies(run, offline_words)
            shown += s
            committed += c
            speech_cpu += run.speech_cpu_s
            speech_audio += run.speech_audio_s
            tsv = utterance.path.with_name(utterance.path.stem + ".segments.tsv")
            if tsv.exists():
                finals += utterance_finals(run, tsv)
            print(f"  {utterance.id}: streaming {word_error_rate([utterance.reference], [run.text]):.1f} % "
                  f"offline {word_error_rate([utterance.reference], [offline_text[-1]]):.1f} %", flush=True)
        rows.append({
            "set": f"{set_name} ({len(utterances)})",
            "WER stream %": word_error_rate(refs, streamed_text),
            "WER offline %": word_error_rate(refs, offline_text),
            "shown med s": percentile(shown, 50), "shown p95 s": percentile(shown, 95),
            "commit med s": percentile(committed, 50), "commit p95 s": percentile(committed, 95),
            "EOU->final med s": percentile(finals, 50),
            "CPU speaking % of 2 cores": 100.0 * speech_cpu / max(speech_audio, 1e-9) / TWO_CORES,
        })
        all_shown += shown
        all_committed += committed
    idle = idle_cpu(make_backend(recognizer, args.policy, args.frame_threshold, peer), options)
    print()
    threshold = f", frame threshold {args.frame_threshold} ({args.frame_threshold * TIME_PRECISION:.2f} s)"
    print(f"recogniser: {args.recogniser}, policy: {args.policy}{threshold if args.policy == 'alignatt' else ''}, "
          f"min chunk {args.min_chunk} s")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(v if isinstance(v, str) else f"{v:.3f}" for v in row.values()) + " |")
    print()
    for name, value in idle.items():
        print(f"CPU in {name}: {100.0 * value:.2f} % of one core")
    print(f"peak RSS: {peak_rss_mb():.0f} MiB")
    plot(args.plot, rows, all_shown, all_committed)


def plot(path: Path, rows: list[dict], shown: list[float], committed: list[float]) -> None:
    """WER bars per set and the latency distributions, if matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    figure, (wer_axes, latency_axes) = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(len(rows))
    wer_axes.bar(x - 0.2, [r["WER offline %"] for r in rows], 0.4, label="offline")
    wer_axes.bar(x + 0.2, [r["WER stream %"] for r in rows], 0.4, label="streaming")
    wer_axes.set_xticks(x, [r["set"] for r in rows])
    wer_axes.set_ylabel("WER %")
    wer_axes.legend()
    bins = np.linspace(-0.5, 4.0, 46)
    latency_axes.hist(shown, bins, alpha=0.6, label="first shown")
    latency_axes.hist(committed, bins, alpha=0.6, label="committed")
    latency_axes.set_xlabel("seconds after the word ends in the audio")
    latency_axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
