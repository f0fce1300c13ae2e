"""The LibriSpeech utterances as a live-dictation set: shuffled, joined by pauses of varied length.

    python -m bench.librispeech_set /tmp/librispeech-live          # two files, seed 7, pauses 0.25-1.5 s
    python -m bench.live --set /tmp/librispeech-live               # stream them at real time and score

The long-form set pauses 0.5 s between utterances; people pause for longer and shorter. Each file
here holds half of the 61 utterances of ../shared/audio/librispeech in a seeded random order, each
followed by a pause drawn from [--min-pause, --max-pause] s, laid out for ../shared/eval:
`<stem>.wav`, a one-line `<stem>.txt` and `<stem>.segments.tsv` (utterance start and end).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile

from bench.common import Utterance, load_set

SAMPLE_RATE = 16_000


def write_file(utterances: Sequence[Utterance], pauses: Sequence[float], folder: Path, stem: str) -> float:
    """One file of `utterances`, each followed by its pause; returns its length (s)."""
    parts, rows, at = [], ["utt_id\tstart_s\tend_s\ttext"], 0.0
    for utterance, pause in zip(utterances, pauses):
        audio, rate = soundfile.read(utterance.path, dtype="float32")
        if rate != SAMPLE_RATE:
            raise ValueError(f"{utterance.path}: {rate} Hz, expected {SAMPLE_RATE}")
        rows.append(f"{utterance.id}\t{at:.3f}\t{at + len(audio) / rate:.3f}\t{utterance.reference}")
        parts += [audio, np.zeros(int(round(pause * rate)), np.float32)]
        at += len(audio) / rate + pause
    soundfile.write(folder / f"{stem}.wav", np.concatenate(parts), SAMPLE_RATE)
    (folder / f"{stem}.txt").write_text(" ".join(u.reference for u in utterances) + "\n", encoding="utf-8")
    (folder / f"{stem}.segments.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return at


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the folder to write the set into")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files", type=int, default=2)
    parser.add_argument("--min-pause", type=float, default=0.25)
    parser.add_argument("--max-pause", type=float, default=1.5)
    args = parser.parse_args(argv)
    if not 0 <= args.min_pause <= args.max_pause or args.files < 1:
        parser.error("need 0 <= --min-pause <= --max-pause and --files >= 1")
    rng = random.Random(args.seed)
    utterances = load_set("librispeech")
    rng.shuffle(utterances)
    args.out.mkdir(parents=True, exist_ok=True)
    for index in range(args.files):
        chosen = utterances[index :: args.files]
        pauses = [rng.uniform(args.min_pause, args.max_pause) for _ in chosen]
        stem = f"librispeech_mix_{index + 1}"
        print(f"{args.out / stem}.wav: {len(chosen)} utterances, {write_file(chosen, pauses, args.out, stem):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
