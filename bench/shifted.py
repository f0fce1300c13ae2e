"""How much the committed text moves with the audio: the long-form set with silence put in front, --fast.

    python -m bench.shifted                         # shifts 0, 0.2 and 0.4 s; pooled WER per shift
    python -m bench.shifted --shifts 0 0.1 -- --doubtful-below 0.5   # after --: `dictate stream` options

`dictate stream --input F --fast` is deterministic (decodes end on a grid of audio times), so one run
per shift is enough; every later decode of a shifted file sees its audio moved by the shift. The spread
over the shifts is the noise any one-run comparison of two settings on this set carries.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile

from bench.common import SHARED_AUDIO, word_error_rate

REPO = Path(__file__).resolve().parents[1]


def committed_text(wav: Path, options: Sequence[str]) -> str:
    """The transcript `dictate stream --fast` writes for `wav`."""
    result = subprocess.run([sys.executable, "-m", "dictate", "stream", "--input", str(wav), "--fast",
                             "--no-journal", *options], cwd=REPO, capture_output=True, text=True, check=True)
    return result.stdout


def pooled_wer(shift_s: float, options: Sequence[str], folder: Path) -> float:
    references, hypotheses = [], []
    for wav in sorted((SHARED_AUDIO / "longform").glob("*.wav")):
        audio, rate = soundfile.read(wav, dtype="float32")
        shifted = folder / wav.name
        soundfile.write(shifted, np.concatenate([np.zeros(int(round(shift_s * rate)), np.float32), audio]), rate)
        references.append(wav.with_suffix(".txt").read_text(encoding="utf-8"))
        hypotheses.append(committed_text(shifted, options))
    return word_error_rate(references, hypotheses)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    options = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shifts", type=float, nargs="+", default=[0.0, 0.2, 0.4], help="seconds of silence")
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for shift in args.shifts:
            rows.append((shift, pooled_wer(shift, options, Path(folder))))
            print(f"+{shift:.1f} s: pooled WER {rows[-1][1]:.2f} %", flush=True)
    values = [wer for _, wer in rows]
    print(f"mean {np.mean(values):.2f} %, spread {min(values):.2f}-{max(values):.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
