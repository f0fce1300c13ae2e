"""WER against committed latency, through the shipped path, for the settings tried: a table and a plot.

    python -m bench.tradeoff                        # every setting, 1 run each, into bench/out/tradeoff/
    python -m bench.tradeoff --runs 3 --only default "chunk 1.0"
    python -m bench.tradeoff --plot-only            # redraw bench/tradeoff.png from the runs already made

Each setting is one `bench.live` run (`dictate stream --realtime` scored by ../shared/eval) with its own
`dictate stream` options. The plot puts each setting's pooled WER over its median committed latency,
with a bar to its p95 latency, beside faster-whisper's offline WER (greedy and beam 5) and the
targets of issue 12 (committed median <= 1.0 s at or below offline greedy WER).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import live

OUT = live.REPO / "bench" / "out" / "tradeoff"
PLOT = live.REPO / "bench" / "tradeoff.png"
TARGET_LATENCY_S = 1.0


@dataclass(frozen=True)
class Setting:
    """One point of the curve: a name and the `dictate stream` options that make it."""

    name: str
    options: tuple[str, ...]


# The settings before 2026-12-01 (0.5 s end silence, greedy final decodes) are named in full, so that a re-run
# measures what their points show. The chunk sizes 0.4 and 1.0 were measured that way too (bench/README.md,
# 2026-12-01) and since 2026-12-07 with the defaults of the day (chunk 0.5 only so).
BEFORE = ("--end-silence", "0.5", "--final-beam", "1")
SETTINGS = (
    Setting("chunk 0.4", ("--min-chunk", "0.4")),
    Setting("chunk 0.5", ("--min-chunk", "0.5")),
    Setting("default", ()),  # chunk 0.6, two decodes agree, 0.3 s end silence, beam-5 final decodes
    Setting("running beam 5", ("--beam", "5")),
    Setting("end 0.3, greedy final", ("--final-beam", "1")),
    Setting("end 0.5, greedy final", BEFORE),  # the default until 2026-12-01
    Setting("chunk 0.8", ("--min-chunk", "0.8", *BEFORE)),
    Setting("chunk 1.0", ("--min-chunk", "1.0")),
    Setting("doubtful < 0.5 wait", ("--doubtful-below", "0.5", *BEFORE)),
    Setting("AlignAtt", ("--policy", "alignatt")),
)


@dataclass(frozen=True)
class Point:
    """A setting's pooled results, the median over its runs."""

    name: str
    wer: float  # %
    latency_median: float  # s
    latency_p95: float
    eou_median: float
    cpu: float  # CPU s per audio s
    runs: int


def folder(setting: Setting, out: Path) -> Path:
    return out / setting.name.replace(" ", "_").replace("<", "lt").replace(".", "").replace(",", "")


def measure(setting: Setting, runs: int, out: Path) -> None:
    live.main(["--runs", str(runs), "--out", str(folder(setting, out)), "--", *setting.options])


def point(setting: Setting, out: Path, wer_of) -> Point | None:
    """The setting's runs read back, or None when it has none yet."""
    rows = [json.loads(path.read_text())["rows"][-1] for path in sorted(folder(setting, out).glob("run*.json"))]
    if not rows:
        return None
    median = lambda read: statistics.median(read(row) for row in rows)  # noqa: E731
    return Point(setting.name, median(lambda row: 100 * wer_of(row["wer_stream"])),
                 median(lambda row: row["latency"]["median"]), median(lambda row: row["latency"]["p95"]),
                 median(lambda row: row["eou"]["median"]), median(lambda row: row["cpu_per_audio_s"]), len(rows))


def offline_wer(out: Path, wer_of) -> tuple[float, float]:
    """faster-whisper's greedy and beam-5 WER (%), from any run's scores."""
    row = json.loads(next(out.glob("*/run*.json")).read_text())["rows"][-1]
    return 100 * wer_of(row["wer_offline_b1"]), 100 * wer_of(row["wer_offline_b5"])


def table(points: Sequence[Point], greedy: float, beam5: float) -> str:
    lines = [f"faster-whisper offline, same weights: greedy {greedy:.1f} %, beam 5 {beam5:.1f} %", "",
             "| setting | runs | WER % | committed median / p95 s | EOU -> final median s | CPU s per audio s |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {p.name} | {p.runs} | {p.wer:.1f} | {p.latency_median:.2f} / {p.latency_p95:.2f} | "
              f"{p.eou_median:.2f} | {p.cpu:.2f} |" for p in points]
    return "\n".join(lines)


def plot(points: Sequence[Point], greedy: float, beam5: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 4.8))
    for p in points:
        axes.errorbar(p.latency_median, p.wer, xerr=[[0], [p.latency_p95 - p.latency_median]], fmt="o", capsize=3)
        axes.annotate(p.name, (p.latency_median, p.wer), textcoords="offset points", xytext=(6, 6), fontsize=8)
    axes.axhline(greedy, color="gray", linestyle="--", label=f"offline greedy {greedy:.1f} %")
    axes.axhline(beam5, color="gray", linestyle=":", label=f"offline beam 5 {beam5:.1f} %")
    axes.axvline(TARGET_LATENCY_S, color="green", linestyle="-.", label="target: committed median 1.0 s")
    axes.set_xlabel("committed latency, median (dot) to p95 (bar end), s")
    axes.set_ylabel("WER of the committed words, %")
    axes.set_title("dictate stream --realtime, tiny.en int8, 2 cores, longform (404 s)")
    axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="bench.live runs per setting (default 1)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="measure only these settings")
    parser.add_argument("--out", type=Path, default=OUT, help="one bench.live folder per setting")
    parser.add_argument("--plot", type=Path, default=PLOT, help="where the plot goes")
    parser.add_argument("--plot-only", action="store_true", help="measure nothing; table and plot from --out")
    args = parser.parse_args(argv)
    names = {setting.name for setting in SETTINGS}
    if args.only and not set(args.only) <= names:
        parser.error(f"unknown setting; known: {', '.join(sorted(names))}")
    if not args.plot_only:
        for setting in SETTINGS:
            if not args.only or setting.name in args.only:
                measure(setting, args.runs, args.out)
    wer_of = live._measure().wer_of
    points = [p for setting in SETTINGS if (p := point(setting, args.out, wer_of)) is not None]
    if not points:
        parser.error(f"no runs in {args.out}")
    greedy, beam5 = offline_wer(args.out, wer_of)
    text = table(points, greedy, beam5)
    (args.out / "table.md").write_text(text + "\n")
    print(text)
    plot(points, greedy, beam5, args.plot)
    print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
