#!/usr/bin/env bash
# Rebuild linesight's default models from nothing: synthetic data -> detector + prefilter ->
# ONNX export -> evaluation of the exported files -> manifests, samples and fixtures.
# About 30 minutes on two idle CPU cores. Not part of CI.
#
#   bash models/tools/train.sh            (from the repository root; env vars below override)
#
# Given a dataset zip from linesight (GET /api/v1/datasets/yolo, npm run dataset:export), it
# fine-tunes the current detector on it instead, and writes a new model folder (a few minutes):
#
#   npm run models:train -- dataset.zip [--base models/detector] [--out models/detector-ft] [--epochs 1]
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the work tree
cd "$(dirname "$0")/../.."

if [[ "${1:-}" == *.zip ]]; then
  exec "${PY:-/usr/bin/python3}" models/tools/finetune_detector.py "$@"
fi

PY=${PY:-/usr/bin/python3}
SEED=${SEED:-7}            # base seed of the dataset (image seeds derive from it, see dataset.py)
TRAIN=${TRAIN:-6000}
VAL=${VAL:-300}
TEST=${TEST:-800}
EPOCHS=${EPOCHS:-16}
# One thread: bfloat16 convolutions on one core are as fast as on two when the machine is shared,
# and far faster than two OpenMP threads fighting other jobs for the cores.
THREADS=${THREADS:-1}
VERSION=${VERSION:-0.1.0}
DATA=models/data
CACHE=models/.cache
mkdir -p "$CACHE"
start=$(date +%s)

echo "== dataset ($TRAIN/$VAL/$TEST images, seed $SEED)"
rm -rf "$DATA"
$PY models/tools/dataset.py --out "$DATA" --train "$TRAIN" --val "$VAL" --test "$TEST" --seed "$SEED"

echo "== detector ($EPOCHS epochs)"
$PY models/tools/train_detector.py --data "$DATA" --out models/detector --epochs "$EPOCHS" --threads "$THREADS" --version "$VERSION" 2>&1 \
  | grep -v -e TracerWarning -e '_C._jit_pass' -e '^ *$'

echo "== prefilter"
$PY models/tools/train_prefilter.py --data "$DATA" --out models/prefilter --info "$CACHE/prefilter.json" > "$CACHE/prefilter.log"
$PY models/tools/write_manifest.py prefilter --version "$VERSION" --prefilter-info "$CACHE/prefilter.json"

echo "== evaluation of the exported ONNX files"
# Score thresholds are calibrated on val, then the manifest is rewritten with the test figures.
$PY models/tools/write_manifest.py detector --version "$VERSION" --train-log "$CACHE/detector-train.json"
npx tsx models/tools/evaluate.ts --model models/detector --data "$DATA/val" --json "$CACHE/detector-val.json"
$PY models/tools/write_manifest.py detector --version "$VERSION" --train-log "$CACHE/detector-train.json" --calibration "$CACHE/detector-val.json"
npx tsx models/tools/evaluate.ts --model models/detector --data "$DATA/test" --json "$CACHE/detector-test.json" --write-md
$PY models/tools/write_manifest.py detector --version "$VERSION" --train-log "$CACHE/detector-train.json" \
  --calibration "$CACHE/detector-val.json" --eval "$CACHE/detector-test.json"

echo "== samples, fixtures, contract checks"
$PY models/tools/make_samples.py --out models/samples --seed "$SEED"
$PY models/tools/make_fixtures.py 2>&1 | grep -v -e TracerWarning -e '_C._jit_pass' -e '^ *$'
npx tsx models/tools/check-models.ts
npx tsx models/tools/time-onnx.ts models/detector/detector.onnx

echo "== done in $(( $(date +%s) - start )) s"
