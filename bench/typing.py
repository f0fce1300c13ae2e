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

    python -m bench.typing --app                 # the real app dictating each long-form file

--app measures the whole path instead: the dictate app in its own process on a private
Xvfb, started with the hotkey in toggle mode (`xdotool key ctrl+alt+space`), listening to
a long-form file through its hidden `--input` source (played at real time through the
capture path) and typing into the recorder client above. A launcher wraps two of the app's
functions to note CLOCK_MONOTONIC times and changes nothing else: `AppTyping.typed`, which the
window calls with each committed text edit (its call time is the word's commit), and the file
stream's playback (its start, plus the file's duration, is the end of speech). The n-th key
the recorder receives is the n-th character of the dictation, so each committed word's
arrival is the time of its last character's key. When the file ends the engine finishes the
tail by itself and types it: "end of speech -> last key" is the wait after the speaker stops.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
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


# --app: the real app path

APP_EVENTS_ENV = "BENCH_TYPING_EVENTS"  # where the instrumented app writes its JSON lines
APP_SETTINGS = {"hotkey_mode": "toggle", "insertion": "type"}
APP_FINISH_TIMEOUT_S = 120.0  # after the file's end: the tail decoded and typed
RECORDER_DRAIN_S = 0.5  # the recorder prints the last keys it received before it is stopped


def run_instrumented_app(argv: Sequence[str]) -> int:
    """The app (dictate.gui.app.main) with two timing probes; runs in the app's process."""
    import json
    import threading

    from dictate.audio.capture import FileInputStream
    from dictate.gui import app
    from dictate.gui.app_typing import AppTyping

    out = open(os.environ[APP_EVENTS_ENV], "a", encoding="utf-8")  # noqa: SIM115 (open for the app's life)
    lock = threading.Lock()

    def note(**record) -> None:
        with lock:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()

    typed, play = AppTyping.typed, FileInputStream._play

    def timed_typed(self, edit) -> None:
        start = time.monotonic()
        typed(self, edit)
        if edit:
            note(event="typed", start=start, end=time.monotonic(), delete=edit.delete, insert=edit.insert,
                 active=self.active)

    def timed_play(self) -> None:
        note(event="audio", start=time.monotonic())
        play(self)

    AppTyping.typed, FileInputStream._play = timed_typed, timed_play
    return app.main(list(argv))


def run_app(display, wav: Path) -> dict[str, object]:
    """Dictate `wav` through the real app into the recorder; per-word latencies and the end-of-speech wait."""
    import json

    import soundfile

    from tests.desktop import DictateApp

    with tempfile.TemporaryDirectory() as folder:
        events = Path(folder) / "events.jsonl"
        recorder = subprocess.Popen([sys.executable, "-c", RECORDER], env=display.env, stdout=subprocess.PIPE,
                                    text=True)
        app = None
        try:
            window = recorder.stdout.readline().strip()
            app = DictateApp.start({**display.env, "QT_QPA_PLATFORM": "xcb", APP_EVENTS_ENV: str(events)},
                                   Path(folder) / "app", APP_SETTINGS, args=["--input", str(wav)],
                                   program=["-c", "import sys; from bench.typing import run_instrumented_app; "
                                                  "sys.exit(run_instrumented_app(sys.argv[1:]))"])
            subprocess.run(["xdotool", "windowfocus", "--sync", window], env=display.env, check=True)
            subprocess.run(["xdotool", "key", "ctrl+alt+space"], env=display.env, check=True)
            app.wait_for_state("recording", "stopping")
            duration = soundfile.info(str(wav)).duration
            app.wait_for_state("idle", timeout=duration + APP_FINISH_TIMEOUT_S)
            text = app.journal().shown_text.lstrip(" ")
            time.sleep(RECORDER_DRAIN_S)
        finally:
            if app is not None:
                app.quit()
            recorder.kill()
            out, _ = recorder.communicate()
        arrivals = [float(line) for line in out.split()]
        records = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    audio_start = next(record["start"] for record in records if record["event"] == "audio")
    edits = [record for record in records if record["event"] == "typed" and record["active"]]
    if any(edit["delete"] for edit in edits):
        raise SystemExit("an edit deleted text: the plain profile should only append")
    dictation = "".join(edit["insert"] for edit in edits)
    lead = len(dictation) - len(dictation.lstrip(" "))  # the first word's space is not typed
    if dictation[lead:] != text or len(arrivals) != len(text):
        raise SystemExit(f"{len(arrivals)} keys arrived for {len(text)} characters of {len(dictation[lead:])}")
    latencies, calls, offset = [], [], -lead  # offset: where the edit's text starts among the typed keys
    for edit in edits:
        calls.append(edit["end"] - edit["start"])
        for word in re.finditer(r"\S+", edit["insert"]):  # a word has arrived with its last character's key
            latencies.append(arrivals[offset + word.end() - 1] - edit["start"])
        offset += len(edit["insert"])
    return {"file": wav.stem, "duration": duration, "words": len(latencies), "latencies": latencies,
            "calls": calls, "tail": arrivals[-1] - (audio_start + duration)}


def app_table(rows: list[dict[str, object]]) -> None:
    ms = lambda x: f"{1000 * x:.1f}"  # noqa: E731
    print("| file | audio (s) | words | commit -> arrival median (ms) | p95 (ms) | max (ms) | "
          "typing call median (ms) | end of speech -> last key (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        latencies = row["latencies"]
        print(f"| {row['file']} | {row['duration']:.1f} | {row['words']} | {ms(statistics.median(latencies))} | "
              f"{ms(percentile(latencies, 0.95))} | {ms(max(latencies))} | {ms(statistics.median(row['calls']))} | "
              f"{row['tail']:.2f} |")
    everything = [value for row in rows for value in row["latencies"]]
    print(f"| all | {sum(row['duration'] for row in rows):.1f} | {len(everything)} | "
          f"{ms(statistics.median(everything))} | {ms(percentile(everything, 0.95))} | {ms(max(everything))} | | "
          f"{statistics.median(row['tail'] for row in rows):.2f} (median) |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=200, help="chunks (words) per row (default 200)")
    parser.add_argument("--pause-ms", type=float, default=50.0, help="pause between chunks (default 50 ms)")
    parser.add_argument("--wayland", action="store_true",
                        help="also foot on headless sway typed by wtype (root: sway runs as a throwaway user)")
    parser.add_argument("--app", action="store_true",
                        help="instead: the real app dictating each long-form file into the recorder")
    parser.add_argument("--limit", type=int, help="--app: only the first N long-form files")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.desktop import xvfb

    print("command: python -m bench.typing " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}, CPU: {platform.processor() or platform.machine()}, "
          f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    if args.app:
        wavs = sorted(LONGFORM.glob("*.wav"))[: args.limit]
        results = []
        for wav in wavs:
            with xvfb() as display:
                results.append(run_app(display, wav))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        print()
        app_table(results)
        return 0
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
