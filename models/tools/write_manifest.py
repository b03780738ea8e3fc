"""Write models/<name>/manifest.json: what the server and the browser read about a model
(shared/domain/manifest.ts validates it). The sha256 is always recomputed from the .onnx file.

    python3 models/tools/write_manifest.py detector --eval models/.cache/detector-test.json \
        --calibration models/.cache/detector-val.json --train-log models/.cache/detector-train.json
    python3 models/tools/write_manifest.py prefilter --prefilter-info models/.cache/prefilter.json
"""
import argparse
import hashlib
import json
import os
import sys

from export_detector import CLASSES

DEFECTS = CLASSES[1:]
TRAIN_COMMAND = "bash models/tools/train.sh"


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _load(path):
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def detector_manifest(folder: str, version: str, evaluation, calibration, train_log, note=None) -> dict:
    # Per-class score thresholds: the best-F1 point on the validation split, floored so a weak
    # class never floods the station with boxes; 0.25 (Ultralytics' default) when uncalibrated.
    score = {c: 0.25 for c in CLASSES}
    if calibration:
        for c in CLASSES:
            t = calibration["bestF1"].get(c, {}).get("threshold")
            if t is not None:
                score[c] = round(min(0.6, max(0.1, float(t))), 3)
    metrics = {}
    if evaluation:
        metrics = {
            "split": evaluation["data"], "images": evaluation["images"],
            "mAP50": round(evaluation["mAP50"], 4), "mAP50_95": round(evaluation["mAP50_95"], 4),
            "perClass": {p["class"]: {"mAP50": round(p["mAP50"], 4), "mAP50_95": round(p["mAP50_95"], 4)} for p in evaluation["perClass"]},
            "source": "models/tools/evaluate.ts on the exported ONNX (onnxruntime-node)",
        }
    training = {"command": TRAIN_COMMAND}
    if note:
        training["note"] = note
    if train_log:
        keys = ("seed", "epochs", "steps", "minutes", "batch", "lr", "bf16", "threads", "init", "trainImages", "valImages", "parameters", "trainSeconds")
        training.update({k: train_log[k] for k in keys if train_log.get(k) is not None})
    return {
        "name": "detector", "version": version, "task": "detect", "file": "detector.onnx",
        "sha256": sha256(os.path.join(folder, "detector.onnx")),
        "description": "Default defect detector: tiny anchor-free YOLOv8-style network trained on synthetic production-line frames",
        "input": {"name": "images", "shape": [-1, 3, 320, 320], "layout": "NCHW", "normalize": "0-1", "letterboxPad": 114},
        "output": {"name": "output0", "format": "yolov8"},
        "classes": CLASSES, "defectClasses": DEFECTS,
        "thresholds": {"score": score, "iou": 0.5},
        "license": "Apache-2.0", "metrics": metrics, "training": training,
    }


def prefilter_manifest(folder: str, version: str, info, note=None) -> dict:
    info = info or {}
    extra = {"note": note} if note else {}
    return {
        "name": "prefilter", "version": version, "task": "prefilter", "file": "prefilter.onnx",
        "sha256": sha256(os.path.join(folder, "prefilter.onnx")),
        "description": "Per-frame browser prefilter: change vs reference, sharpness, exposure, clipping, part presence",
        "input": {"name": "frame", "shape": [1, 3, 120, 160], "layout": "NCHW", "normalize": "0-1", "letterboxPad": 114},
        "inputs": ["frame", "reference"],
        "output": {"name": "part_present", "format": "prefilter", "outputs": info.get("outputs", [])},
        "thresholds": info.get("thresholds", {}),
        "webgpuOps": info.get("webgpuOps", []),
        "license": "Apache-2.0", "metrics": info.get("metrics", {}),
        "training": {"command": TRAIN_COMMAND, **extra, **info.get("training", {})},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=["detector", "prefilter"])
    p.add_argument("--root", default="models")
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--eval")
    p.add_argument("--calibration")
    p.add_argument("--train-log")
    p.add_argument("--prefilter-info")
    p.add_argument("--training-note", help="free text kept in training.note (e.g. how this file was actually trained)")
    args = p.parse_args(argv)
    folder = os.path.join(args.root, args.model)
    if args.model == "detector":
        m = detector_manifest(folder, args.version, _load(args.eval), _load(args.calibration), _load(args.train_log), args.training_note)
    else:
        m = prefilter_manifest(folder, args.version, _load(args.prefilter_info), args.training_note)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)
        f.write("\n")
    print(f"wrote {folder}/manifest.json")


if __name__ == "__main__":
    sys.exit(main())
