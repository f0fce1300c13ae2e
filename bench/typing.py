"""Typing latency on X11: from the inserter's call to the text's arrival in another application.

    python -m bench.typing                       # 200 chunks per row, on a private Xvfb
    python -m bench.typing --chunks 500 --pause-ms 20
    python -m bench.typing --wayland             # + foot on headless sway, typed by wtype

The chunks are the words of the long-form references (../shared/audio/longform/*.txt), one
word with its leading space per chunk, as a dictation commits them. Each row types them
through `XTestInserter` with `--pause-ms` between chunks, into one of two targets, each in
its own process:

- recorder: a bare X client (python-xlib) that timestamps every key press it receives
  (CLOCK_MONOTONIC, shared by all processes); a chunk has arrived with its last character.
- xterm: `xterm -e sh -c 'cat > FILE'`, the file polled every 0.5 ms until its size
  covers the chunk (line-buffered by the terminal: only newlines flush, so this target
  gets a newline after every chunk and the latency includes the terminal and cat).

--wayland adds the same file measure for foot on headless sway, typed by wtype (which
sleeps 100 ms before its first key, or loses it: see dictate/typing/wayland.py).

"non-layout" rows replace every fifth word by one with characters a US keyboard map
does not have (each is lent a spare keycode: ChangeKeyboardMapping before its press).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LONGFORM = REPO.parent / "shared" / "audio" / "longform"
NON_LAYOUT_WORDS = ["café", "Straße", "“quoted”", "20 €", "漢字", "naïve", "αβγ", "déjà", "Ωμέγα", "½"]
POLL_S = 0.0005
ARRIVAL_TIMEOUT_S = 5.0


def words(limit: int) -> list[str]:
    """The long-form references' words, in order, as far as `limit` (repeated if they run out)."""
    texts = [path.read_text(encoding="utf-8").split() for path in sorted(LONGFORM.glob("*.txt"))]
    pool = [word.lower() for text in texts for word in text]
    if not pool:
        raise SystemExit(f"no references in {LONGFORM}: ../shared/audio must stand beside the repo")
    return [pool[i % len(pool)] for i in range(limit)]


def chunks(count: int, non_layout: bool) -> list[str]:
    chosen = words(count)
    if non_layout:
        chosen = [NON_LAYOUT_WORDS[(i // 5) % len(NON_LAYOUT_WORDS)] if i % 5 == 4 else w for i, w in enumerate(chosen)]
    return [(" " if i else "") + word for i, word in enumerate(chosen)]


RECORDER = r'''
import sys, time
from Xlib import X, display
d = display.Display()
root = d.screen().root
w = root.create_window(0, 0, 300, 100, 0, X.CopyFromParent, event_mask=X.KeyPressMask)
w.set_wm_name("recorder"); w.map(); d.sync()
modifiers = {code for row in d.get_modifier_mapping() for code in row if code}
print(w.id, flush=True)
while True:
    e = d.next_event()
    now = time.monotonic()
    if e.type == X.KeyPress and e.detail not in modifiers:
        sys.stdout.write(f"{now:.6f}\n"); sys.stdout.flush()
'''


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_recorder(env: dict[str, str], texts: list[str], pause_s: float) -> tuple[list[float], list[float]]:
    """(call -> last key received, call duration) per chunk, in seconds."""
    from dictate.typing.x11 import XTestInserter

    recorder = subprocess.Popen([sys.executable, "-c", RECORDER], env=env, stdout=subprocess.PIPE, text=True)
    try:
        window = recorder.stdout.readline().strip()
        subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=True)
        inserter = XTestInserter(env)
        latencies, calls = [], []
        try:
            for text in texts:
                start = time.monotonic()
                inserter.type_text(text)
                calls.append(time.monotonic() - start)
                arrival = None
                for _ in text:
                    arrival = float(recorder.stdout.readline())
                latencies.append(arrival - start)
                time.sleep(pause_s)
        finally:
            inserter.close()
        return latencies, calls
    finally:
        recorder.kill()
        recorder.wait()


def run_xterm(display, texts: list[str], pause_s: float) -> tuple[list[float], list[float]]:
    from dictate.typing.x11 import XTestInserter
    from tests.desktop import XtermTarget

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "typed.txt"
        target = XtermTarget.start(display, path)
        target.focus()
        inserter = XTestInserter(display.env)
        latencies, calls, expected = [], [], 0
        try:
            for text in texts:
                payload = text.lstrip(" ") + "\n"  # a line per chunk: the terminal passes whole lines to cat
                expected += len(payload.encode("utf-8"))
                start = time.monotonic()
                inserter.type_text(payload)
                calls.append(time.monotonic() - start)
                deadline = start + ARRIVAL_TIMEOUT_S
                while path.stat().st_size < expected:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{text!r} did not arrive in the xterm within {ARRIVAL_TIMEOUT_S} s")
                    time.sleep(POLL_S)
                latencies.append(time.monotonic() - start)
                time.sleep(pause_s)
        finally:
            inserter.close()
            target.stop()
        return latencies, calls


def run_foot(texts: list[str], pause_s: float) -> tuple[list[float], list[float]]:
    """The xterm measure on headless sway: foot running cat, typed by wtype (as root, to the user's sway)."""
    from dictate.typing.wayland import WtypeInserter
    from tests.desktop import FootTarget, headless_sway

    with headless_sway() as session:
        target = FootTarget.start(session)
        inserter = WtypeInserter(session.env)
        latencies, calls, expected = [], [], 0
        for text in texts:
            payload = text.lstrip(" ") + "\n"
            expected += len(payload.encode("utf-8"))
            start = time.monotonic()
            inserter.type_text(payload)
            calls.append(time.monotonic() - start)
            deadline = start + ARRIVAL_TIMEOUT_S
            while target.path.stat().st_size < expected:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{text!r} did not arrive in foot within {ARRIVAL_TIMEOUT_S} s")
                time.sleep(POLL_S)
            latencies.append(time.monotonic() - start)
            time.sleep(pause_s)
        target.finish()
        return latencies, calls


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=200, help="chunks (words) per row (default 200)")
    parser.add_argument("--pause-ms", type=float, default=50.0, help="pause between chunks (default 50 ms)")
    parser.add_argument("--wayland", action="store_true",
                        help="also foot on headless sway typed by wtype (root: sway runs as a throwaway user)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.desktop import xvfb

    print("command: python -m bench.typing " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}, CPU: {platform.processor() or platform.machine()}, "
          f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    rows = []
    with xvfb() as display:
        for target in ("recorder", "xterm"):
            for non_layout in (False, True):
                texts = chunks(args.chunks, non_layout)
                runner = run_recorder if target == "recorder" else run_xterm
                latencies, calls = runner(display.env if target == "recorder" else display, texts,
                                          args.pause_ms / 1000)
                rows.append((target, "non-layout" if non_layout else "ASCII", len(texts), latencies, calls))
    if args.wayland:
        for non_layout in (False, True):
            texts = chunks(args.chunks, non_layout)
            latencies, calls = run_foot(texts, args.pause_ms / 1000)
            rows.append(("foot (wtype)", "non-layout" if non_layout else "ASCII", len(texts), latencies, calls))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print()
    print("| target | words | chunks | call -> arrival median (ms) | p95 (ms) | max (ms) | call median (ms) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for target, kind, count, latencies, calls in rows:
        ms = lambda x: f"{1000 * x:.1f}"  # noqa: E731
        print(f"| {target} | {kind} | {count} | {ms(statistics.median(latencies))} | "
              f"{ms(percentile(latencies, 0.95))} | {ms(max(latencies))} | {ms(statistics.median(calls))} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
