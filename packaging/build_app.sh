#!/usr/bin/env bash
# Build the one-folder app with PyInstaller, then smoke-test it offscreen:
#   bash packaging/build_app.sh            (needs `pip install pyinstaller` in the venv)
# Output: build/pyinstaller/dist/dictate/dictate  (run it with no arguments to open the window)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
out="$repo/build/pyinstaller"
cd "$repo"

"$python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$out/dist" --workpath "$out/work" packaging/dictate.spec
app="$out/dist/dictate/dictate"
echo "built $app ($(du -sh "$out/dist/dictate" | cut -f1))"

echo "smoke test 1: the catalogue and model store work frozen"
"$app" models list

echo "smoke test 2: the window opens offscreen and closes"
start=$(date +%s.%N)
shown=$(QT_QPA_PLATFORM=offscreen "$app" --quit-when-shown | sed -n 's/^window shown at //p')
[ -n "$shown" ] || { echo "the frozen app did not show its window" >&2; exit 1; }
echo "window shown $("$python" -c "print(f\"{$shown - $start:.2f}\")") s after launch"
echo "smoke tests passed"
