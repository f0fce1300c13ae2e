#!/usr/bin/env bash
# A screenshot of the window mid-dictation, under Xvfb, dictating jfk.wav through the capture path:
#   bash packaging/screenshot.sh [OUTPUT.png]     (default docs/screenshot.png)
# Needs Xvfb (apt-get install xvfb xauth) and a prepared default model (`dictate models prepare`).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
output="$(realpath -m "${1:-$repo/docs/screenshot.png}")"
audio="${DICTATE_SCREENSHOT_AUDIO:-$repo/../shared/audio/misc/wav/jfk.wav}"

if ! command -v xvfb-run >/dev/null; then
  echo "installing Xvfb"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb xauth
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$(dirname "$output")"
cd "$repo"
# A fresh settings folder and journal folder: the shot shows the defaults, and no restore question.
XDG_CONFIG_HOME="$scratch/config" DICTATE_DATA_DIR="$scratch/data" QT_QPA_PLATFORM=xcb \
  xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  "$python" -m dictate.gui.app --input "$audio" --screenshot "$output"
echo "wrote $output"
