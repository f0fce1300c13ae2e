"""CPU of the "What Whisper Hears" panel while open: the live spectrogram of 10 s recomputed and drawn every
REFRESH_MS on a real (offscreen) widget, as a share of one core; and what it costs closed (its timer stops).

    QT_QPA_PLATFORM=offscreen python -m bench.hearing_panel
"""

from __future__ import annotations

import os
import resource
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dictate  # noqa: E402,F401 - first, as in the app: it sets numpy's thread settings before numpy loads
import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from dictate.constants import SAMPLE_RATE  # noqa: E402
from dictate.gui.hearing_panel import LIVE_S, REFRESH_MS, HearingPanel  # noqa: E402

SECONDS = 10.0  # measured this long, open and then closed
RUNS = 3


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(panel: HearingPanel, app: QApplication) -> float:
    """CPU share of one core over SECONDS while Qt runs the panel's timer."""
    rng = np.random.default_rng(0)
    used, started = cpu_seconds(), time.monotonic()
    at = 0.0
    while time.monotonic() - started < SECONDS:
        block = (0.1 * rng.standard_normal(SAMPLE_RATE // 10)).astype(np.float32)
        panel.add_audio(block, at)  # the engine's blocks, 100 ms each
        at += 0.1
        app.processEvents()
        time.sleep(0.1)
    return (cpu_seconds() - used) / (time.monotonic() - started)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    open_runs, closed_runs = [], []
    for _ in range(RUNS):
        panel = HearingPanel()
        panel.resize(900, 200)
        panel.show()
        open_runs.append(measure(panel, app))
        panel.hide()
        closed_runs.append(measure(panel, app))
    print(f"live panel, {LIVE_S:.0f} s shown, refreshed every {REFRESH_MS} ms: "
          f"open {100 * statistics.median(open_runs):.1f} % of one core "
          f"(runs {', '.join(f'{100 * r:.1f}' for r in open_runs)}), "
          f"closed {100 * statistics.median(closed_runs):.1f} % "
          f"(runs {', '.join(f'{100 * r:.1f}' for r in closed_runs)}); the loop feeding it included")


if __name__ == "__main__":
    main()
