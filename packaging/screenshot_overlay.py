"""A screenshot of the dictation overlay over a target editor, mid-dictation, under Xvfb:

    .venv/bin/python packaging/screenshot_overlay.py [OUTPUT.png]    (default docs/screenshot-overlay.png)

The real app runs in its own process (tests/desktop.py `DictateApp`), dictating a long-form
file through its hidden `--input` source; the target is a small Qt text editor in another
process, opened after the app's window and covering it. There is no window manager: under
openbox the overlay lands in the top left corner instead of the bottom centre (reported), and
without one the last window mapped is on top. The editor gets the focus (xdotool windowfocus),
the hotkey (toggle mode) is pressed with xdotool, and the screen is taken with `xwd -root`
mid-sentence; of a few shots, the one with the most tentative words in the overlay is kept:
words already typed into the editor, the newest still tentative in the overlay.
Needs Xvfb, xdotool, xwd (x11-apps), ImageMagick's convert (apt: imagemagick), a prepared tiny.en.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AUDIO = REPO.parent / "shared" / "audio" / "longform" / "librispeech_test-other_2414-128291_0000-0009.wav"
CONVERT = "/usr/bin/convert" if Path("/usr/bin/convert").exists() else "convert"  # ImageMagick's (apt: imagemagick)
SHOT_AFTER_S = 16.0  # of dictation: the third sentence (12.4-30.4 s) begun, its newest words tentative
SHOTS, SHOT_EVERY_S = 10, 0.4
EDITOR = r'''
import sys
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit

app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("notes.txt - Editor")
editor = QPlainTextEdit()
editor.setFont(QFont("DejaVu Sans", 15))
editor.setPlainText("Dear Anna,\n\nHere is the passage I read out this morning:\n\n")
editor.moveCursor(editor.textCursor().MoveOperation.End)
window.setCentralWidget(editor)
window.setGeometry(0, 0, 1280, 800)
window.show()
print("shown", flush=True)
sys.exit(app.exec())
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", nargs="?", type=Path, default=REPO / "docs" / "screenshot-overlay.png")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.desktop import DictateApp, require, xvfb

    require("xwd", CONVERT)
    with tempfile.TemporaryDirectory() as folder, xvfb() as display:
        env = {**display.env, "QT_QPA_PLATFORM": "xcb"}
        app = DictateApp.start(env, Path(folder) / "app", {"hotkey_mode": "toggle"}, args=["--input", str(AUDIO)])
        editor = subprocess.Popen([sys.executable, "-c", EDITOR], env=env, stdout=subprocess.PIPE, text=True)
        try:
            editor.stdout.readline()
            window = display.xdotool("search", "--sync", "--name", "notes.txt")
            display.xdotool("windowfocus", "--sync", window)
            display.xdotool("key", "ctrl+alt+space")
            app.wait_for_state("recording")
            time.sleep(SHOT_AFTER_S)
            overlay = display.xdotool("search", "--name", "^Dictate overlay").split()[0]
            geometry = display.xdotool("getwindowgeometry", "--shell", overlay)
            x, y, width, height = (int(dict(line.split("=") for line in geometry.splitlines())[key])
                                   for key in ("X", "Y", "WIDTH", "HEIGHT"))
            tail = f"{width}x{height // 2}+{x}+{y + height // 2}"  # the overlay's lower half: the tentative words
            shots = []
            for _ in range(SHOTS):  # the tail is empty for a moment after each commit: keep the fullest one
                shot = subprocess.run(["xwd", "-root", "-silent"], env=display.env, capture_output=True,
                                      check=True).stdout
                ink = subprocess.run([CONVERT, "xwd:-", "-crop", tail, "-format", "%[fx:mean]", "info:"],
                                     input=shot, capture_output=True, check=True).stdout
                shots.append((float(ink), shot))
                time.sleep(SHOT_EVERY_S)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([CONVERT, "xwd:-", f"png:{args.output}"], input=max(shots)[1], check=True)
            app.ask("stop")
            app.wait_for_state("idle")
        finally:
            app.quit()
            editor.terminate()
            editor.wait()
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
