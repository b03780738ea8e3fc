"""Export the detector to ONNX with the I/O contract and metadata of an Ultralytics detect export.

Contract (what `yolo export format=onnx imgsz=320 dynamic=True` produces for YOLOv8/YOLO11):
  input  `images`  float32 [batch, 3, 320, 320], RGB 0..1, letterboxed with pad 114
  output `output0` float32 [batch, 4 + nc, 2100]: cx, cy, w, h (input pixels), sigmoid scores
  metadata_props: every value is Python's str() of the value, as Ultralytics writes them.
"""
import argparse
import datetime
import os
import sys

import onnx
import torch

from detector_model import Detector

CLASSES = ["part", "scratch", "dent", "stain", "crack"]
IMGSZ = 320
OPSET = 17


DESCRIPTION = "linesight default defect detector (tiny anchor-free YOLOv8-style, synthetic production-line data)"


def ultralytics_metadata(names, version: str, imgsz: int = IMGSZ, description: str = DESCRIPTION) -> dict:
    return {
        "description": description,
        "author": "linesight",
        "date": datetime.datetime.now().isoformat(),
        "version": version,
        "license": "Apache-2.0",
        "stride": 32,
        "task": "detect",
        "batch": 1,
        "imgsz": [imgsz, imgsz],
        "names": {i: n for i, n in enumerate(names)},
        "channels": 3,
    }


def set_metadata(model: onnx.ModelProto, meta: dict) -> None:
    del model.metadata_props[:]
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, str(v)


def fix_output_dims(model: onnx.ModelProto, shape) -> None:
    """torch names every computed output dim ("Concatoutput0_dim_1"); Ultralytics' export states them:
    only the batch axis is symbolic."""
    for out in model.graph.output:
        dims = out.type.tensor_type.shape.dim
        for i, d in enumerate(dims):
            if i == 0:
                d.dim_param = "batch"
            elif i < len(shape):
                d.dim_value = shape[i]


def export(model, path: str, version: str, names=CLASSES, imgsz: int = IMGSZ, description: str = DESCRIPTION, extra_meta=None) -> None:
    model = model.eval()
    model.export_mode = True
    model.export_hw = (imgsz, imgsz)
    dummy = torch.zeros(1, 3, imgsz, imgsz)
    tmp = path + ".tmp"
    # Eval-mode export folds BatchNorm into the Conv weights (torch's ONNX eval peephole pass).
    torch.onnx.export(
        model, dummy, tmp, opset_version=OPSET, input_names=["images"], output_names=["output0"],
        dynamic_axes={"images": {0: "batch"}, "output0": {0: "batch"}}, do_constant_folding=True,
    )
    with torch.no_grad():
        out_shape = list(model(dummy).shape)
    model.export_mode, model.export_hw = False, None
    proto = onnx.load(tmp)
    os.remove(tmp)
    fix_output_dims(proto, out_shape)
    set_metadata(proto, {**ultralytics_metadata(names, version, imgsz, description), **(extra_meta or {})})
    proto.producer_name = "linesight"
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--weights", required=True, help="state_dict saved by train_detector.py")
    p.add_argument("--out", default="models/detector/detector.onnx")
    p.add_argument("--version", default="0.1.0")
    args = p.parse_args(argv)
    ckpt = torch.load(args.weights, map_location="cpu")
    model = Detector(**ckpt.get("arch", {}))
    model.load_state_dict(ckpt["model"])
    export(model, args.out, args.version)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
