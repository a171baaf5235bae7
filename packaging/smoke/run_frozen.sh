#!/usr/bin/env bash
# Smoke test of a frozen app folder: copy it under a path with spaces and non-ASCII letters,
# then run a tiny train synth → fit → evaluate, explain, and the GUI self-test (offscreen) there.
#
#   packaging/smoke/run_frozen.sh [BUNDLE_DIR] [SCRATCH_DIR]
#
# BUNDLE_DIR defaults to dist/medgrad-desktop; SCRATCH_DIR to "/tmp/Médgrad test dir" (emptied
# first, removed at the end unless KEEP_SCRATCH=1). The screenshot is copied to dist/.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUNDLE="$(realpath "${1:-$ROOT/dist/medgrad-desktop}")"
SCRATCH="${2:-/tmp/Médgrad test dir}"
[[ -x "$BUNDLE/medgrad-desktop" ]] || { echo "error: no bundle at $BUNDLE" >&2; exit 1; }

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH/Ärzte Daten"
[[ "${KEEP_SCRATCH:-0}" == 1 ]] || trap 'rm -rf "$SCRATCH"' EXIT
cp -a "$BUNDLE" "$SCRATCH/MedGrad Désktop"
APP="$SCRATCH/MedGrad Désktop/medgrad-desktop"
touch "$SCRATCH/.copied"
DATA="$SCRATCH/Ärzte Daten"

export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export MEDGRAD_USER_DATA="$DATA/user data" MEDGRAD_SETTINGS_DIR="$DATA/settings"
unset MEDGRAD_RESOURCES PYTHONPATH PYTHONHOME

step() { printf '\n== %s\n' "$*"; }
cd "$DATA"  # relative paths must not matter; the app never writes next to itself

step "train synth"
"$APP" train synth --out "$DATA/synth" --n 16 --seed 3 --size 64

step "train fit"
"$APP" train fit --config "$ROOT/packaging/smoke/tiny_train.yaml" --data "$DATA/synth" \
    --run-dir "$DATA/runs/smoke"
test -f "$DATA/runs/smoke/best/config.json"

step "train evaluate"
"$APP" train evaluate --model "$DATA/runs/smoke/best" --data "$DATA/synth" --split all \
    --device cpu --out "$DATA/eval"
test -s "$DATA/eval/metrics.json"

step "explain"
"$APP" explain "$DATA/synth/images/synth_00000.png" "$DATA/synth/images/synth_00001.png" \
    --model "$DATA/runs/smoke/best" --device cpu --out "$DATA/explanations"
find "$DATA/explanations" -type f | head -3

step "self-test of the viewer on the images and the model just trained"
"$APP" "$DATA/synth/images" --model "$DATA/runs/smoke/best" --device cpu \
    --self-test --screenshot "$DATA/self-test-trained.png"

step "self-test of the viewer on the bundled demo (the app's default start)"
"$APP" --self-test --screenshot "$DATA/self-test.png"
mkdir -p "$ROOT/dist"
cp "$DATA/self-test.png" "$ROOT/dist/frozen-self-test.png"

step "bundle writes nothing into its own folder"
WRITTEN="$(find "$SCRATCH/MedGrad Désktop" -newer "$SCRATCH/.copied" | head)"
if [[ -n "$WRITTEN" ]]; then
    echo "error: the app wrote into its install folder: $WRITTEN" >&2
    exit 1
fi
echo "frozen smoke test passed"
