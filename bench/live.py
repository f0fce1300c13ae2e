"""The shipped path, measured: `dictate stream --realtime` scored by the shared yardstick, N runs, one table.

    python -m bench.live                          # long-form set, 3 runs, into bench/out/live/ (git-ignored)
    python -m bench.live --runs 5 --out /tmp/live
    python -m bench.live --set /data/my-longform  # a folder of <stem>.wav, <stem>.txt, <stem>.segments.tsv
    python -m bench.live -- --policy alignatt     # anything after -- goes to `dictate stream`

Every number comes from ../shared/eval: `run_live.py` streams each file through the real capture path at
real time; `measure.py offline` transcribes the set once with faster-whisper (greedy and beam 5, the same
tiny.en weights); `measure.py score` scores each run. Real-time chunking is not deterministic, so the table
gives the median and the spread (min-max) of each pooled metric over the runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
LONGFORM = REPO.parent / "shared" / "audio" / "longform"


def _measure():
    """../shared/eval/measure.py as a module (for its WER arithmetic)."""
    spec = importlib.util.spec_from_file_location("shared_eval_measure", EVAL / "measure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Metric:
    """One row of the table: a name, how to read it from a pooled `measure.py score` row, its format."""

    name: str
    read: Callable[[dict], float | None]
    spec: str
    offline: Callable[[dict], tuple[float | None, float | None]] | None = None  # faster-whisper b1, b5


def _stat(key: str, field: str) -> Callable[[dict], float | None]:
    return lambda row: (row.get(key) or {}).get(field)


def metrics(wer_of: Callable[[dict], float]) -> list[Metric]:
    def wer(key: str) -> Callable[[dict], float | None]:
        return lambda row: 100 * wer_of(row[key]) if key in row else None

    return [
        Metric("WER (%)", wer("wer_stream"), "{:.1f}",
               lambda row: (wer("wer_offline_b1")(row), wer("wer_offline_b5")(row))),
        Metric("committed latency median (s)", _stat("latency", "median"), "{:.2f}"),
        Metric("committed latency p95 (s)", _stat("latency", "p95"), "{:.2f}"),
        Metric("end of utterance -> final, median (s)", _stat("eou", "median"), "{:.2f}"),
        Metric("end of utterance -> final, p95 (s)", _stat("eou", "p95"), "{:.2f}"),
        Metric("CPU s per audio s", lambda row: row.get("cpu_per_audio_s"), "{:.2f}"),
        Metric("peak RSS (MB)", lambda row: row.get("max_rss_mb"), "{:.0f}"),
        Metric("committed words matched to offline",
               lambda row: 100 * row["matched_frac"] if "matched_frac" in row else None, "{:.0f} %"),
    ]


def run(command: Sequence[str], env: dict[str, str]) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)


def table(rows: list[dict], wer_of: Callable[[dict], float]) -> str:
    """Markdown: per metric the median and min-max over runs, faster-whisper offline beside the WER."""
    fmt = lambda spec, x: "—" if x is None else spec.format(x)  # noqa: E731
    lines = [f"| metric (pooled, {len(rows)} runs) | median | spread (min–max) | faster-whisper greedy | beam 5 |",
             "|---|---:|---:|---:|---:|"]
    for metric in metrics(wer_of):
        values = [v for v in (metric.read(row) for row in rows) if v is not None]
        median = statistics.median(values) if values else None
        spread = f"{fmt(metric.spec, min(values))}–{fmt(metric.spec, max(values))}" if values else "—"
        b1, b5 = metric.offline(rows[0]) if metric.offline else (None, None)
        lines.append(f"| {metric.name} | {fmt(metric.spec, median)} | {spread} | {fmt(metric.spec, b1)} | "
                     f"{fmt(metric.spec, b5)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="live runs of the whole set (default 3)")
    parser.add_argument("--set", default="longform",
                        help="'longform' (../shared/audio/longform) or a folder laid out the same way")
    parser.add_argument("--dictate", default=str(REPO / ".venv" / "bin" / "dictate"), help="the dictate to run")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "live", help="event logs, scores, table")
    parser.add_argument("--fresh", action="store_true", help="recompute the offline reference even if present")
    args = parser.parse_args(own)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    audio = LONGFORM if args.set == "longform" else Path(args.set).resolve()
    if not audio.is_dir():
        parser.error(f"no such folder: {audio}")
    env = {**os.environ, "EVAL_LONGFORM": str(audio)}
    python = sys.executable

    load_before = os.getloadavg()[0]
    offline = args.out / f"offline-{audio.name}"  # faster-whisper's transcripts of this set, made once
    if args.fresh and offline.exists():
        shutil.rmtree(offline)
    if not any(offline.glob("*.b5.json")):
        run([python, str(EVAL / "measure.py"), "offline", "--out", str(offline)], env)
    rows = []
    for index in range(1, args.runs + 1):
        events = args.out / f"run{index}"
        run([python, str(EVAL / "run_live.py"), "--dictate", args.dictate, "--out", str(events), "--", *extra], env)
        scores = args.out / f"run{index}.json"
        run([python, str(EVAL / "measure.py"), "score", "--events", str(events), "--offline", str(offline),
             "--json", str(scores), "--title", f"run {index}"], env)
        rows.append(json.loads(scores.read_text())["rows"][-1])  # the pooled row
    measure = _measure()
    text = table(rows, measure.wer_of)
    title = (f"dictate stream --realtime {' '.join(extra)}".strip()
             + f" on {audio.name}, load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    (args.out / "table.md").write_text(f"**{title}**\n\n{text}\n")
    print(f"\n**{title}**\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
