"""A real-size detector for benchmarks: the default detector's architecture widened to about
3.4 M parameters (YOLOv8n has 3.2 M), 80 COCO classes, exported at 320 and 640 with the same
Ultralytics I/O contract. Its weights are random (seeded): it measures speed, not accuracy, and
where the model rather than JPEG decoding dominates a frame's cost.

    /usr/bin/python3 models/tools/make_realsize.py --out DIR [--sizes 320,640] [--names line]

`--names line` gives it the default detector's five classes instead of COCO's 80 (files named
`realsize-line-SIZE.onnx`), so it can stand beside the default detector as a line's candidate.
`npm run models:realsize` (models/tools/realsize.ts) runs this and installs the files.
"""
import argparse
import inspect
import os
import sys

import torch

from detector_model import Detector, count_params
from export_detector import CLASSES as LINE_CLASSES, export
from fixture_nets import COCO

# Newer torch exports through dynamo by default; the TorchScript exporter gives the graph the
# rest of models/tools was checked with (Debian's torch has only that one).
if "dynamo" in inspect.signature(torch.onnx.export).parameters:
    _export = torch.onnx.export
    torch.onnx.export = lambda *a, **k: _export(*a, **{**k, "dynamo": False})

WIDTH = (32, 64, 96, 192, 224)
HEAD_HIDDEN = (64, 96, 128)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--sizes", default="320,640")
    p.add_argument("--names", choices=("coco80", "line"), default="coco80")
    args = p.parse_args(argv)
    names = COCO if args.names == "coco80" else LINE_CLASSES
    torch.manual_seed(0)
    model = Detector(nc=len(names), width=WIDTH, head_hidden=HEAD_HIDDEN)
    # BatchNorm statistics of a fresh net are identity; give them realistic spread so folded
    # weights are not trivially scaled
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    os.makedirs(args.out, exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        path = os.path.join(args.out, f"realsize-{args.names}-{size}.onnx")
        export(model, path, "0.0.1", names=names, imgsz=size, description="linesight real-size benchmark detector (random weights)")
        print(f"wrote {path}: {count_params(model)} parameters, input {size}")


if __name__ == "__main__":
    sys.exit(main())
