#!/usr/bin/env bash
# One-command set-up for a fresh Debian/Ubuntu machine (as root, or a user with sudo).
#   bash packaging/bootstrap.sh app    install everything, prepare the default model, launch the app
#   bash packaging/bootstrap.sh test   the same set-up plus test tools, then run the whole test suite
set -euo pipefail
mode="${1:-app}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${DICTATE_VENV:-$repo/.venv}"
cd "$repo"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

system_packages=(
  python3 python3-venv python3-pip
  libportaudio2 libsndfile1                      # sounddevice / soundfile
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0
  libxcb-image0 libxcb-randr0 libxcb-xinerama0 libxcb-xfixes0 libxcb-xkb1 libx11-xcb1
)
test_packages=(pulseaudio pulseaudio-utils libasound2-plugins xvfb xauth espeak-ng)  # espeak-ng: spoken test phrases
# Typing into other applications (tests/e2e/test_typing_*.py): X11 targets and tools, headless Wayland
test_packages+=(xdotool x11-apps xterm xclip sway wtype foot openbox dbus-daemon)

missing=()
wanted=("${system_packages[@]}")
[ "$mode" = test ] && wanted+=("${test_packages[@]}")
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" --upgrade pip
if [ "$mode" = test ]; then
  "${pip[@]}" -e ".[test,base]"
  # faster-whisper is the reference peer in tests and benchmarks. Installed without its
  # dependencies: it asks for onnxruntime (CPU), which would overwrite onnxruntime-gpu.
  "${pip[@]}" --no-deps "faster-whisper==1.2.1"
  "${pip[@]}" "ctranslate2>=4.0,<5" "tokenizers>=0.13,<1" "av>=11" "huggingface-hub>=0.21"
else
  "${pip[@]}" -e .
fi

"$venv/bin/dictate" models prepare tiny.en

case "$mode" in
  app) exec "$venv/bin/dictate" ;;
  # Two workers at most (one per CPU where there are fewer): measured 13 min against 22 min in one process on
  # 2 cores, all passing. `-n 0` after the command runs in one process.
  test) exec env QT_QPA_PLATFORM=offscreen "$venv/bin/python" -m pytest -q -p no:cacheprovider --durations=10 \
          --numprocesses=logical --maxprocesses=2 "${@:2}" ;;
  *) echo "usage: bash packaging/bootstrap.sh app|test [pytest args]" >&2; exit 2 ;;
esac
