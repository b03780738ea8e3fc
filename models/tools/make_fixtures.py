"""Build the "bring your own model" test fixtures in test/fixtures/models/ (see its README.md).

    python3 models/tools/make_fixtures.py            (needs models/detector/detector.onnx and models/samples)

Random-weight models are seeded, so rebuilding gives the same files; the two int8 models are
quantized copies of the committed default detector and are checked against it in
onnxruntime-node (compare-quantized.ts) at the end.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import onnx
import torch

from export_detector import export, fix_output_dims, set_metadata, ultralytics_metadata
from fixture_nets import COCO, Classifier, End2End, Yolov5, yolov8
from quantize_dynamic import quantize_dynamic
from quantize_qdq import conv_tensors, quantize_qdq, with_outputs

OPSET = 17


def plain_export(model, path, imgsz, output_names=("output0",), meta=None):
    model.eval()
    dummy = torch.zeros(1, 3, imgsz, imgsz)
    with torch.no_grad():
        shape = list(model(dummy).shape)
    torch.onnx.export(
        model, dummy, path, opset_version=OPSET, input_names=["images"], output_names=list(output_names),
        dynamic_axes={"images": {0: "batch"}, **{o: {0: "batch"} for o in output_names}}, do_constant_folding=True,
    )
    proto = onnx.load(path)
    fix_output_dims(proto, shape)
    if meta is not None:
        set_metadata(proto, meta)
    onnx.save(proto, path)


def node(*args) -> str:
    return subprocess.run(["npx", "tsx", *args], check=True, capture_output=True, text=True).stdout


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="test/fixtures/models")
    p.add_argument("--detector", default="models/detector/detector.onnx")
    p.add_argument("--samples", default="models/samples")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    torch.manual_seed(1234)
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)

    export(yolov8(80), out("yolov8-coco80-640.onnx"), "8.3.0", names=COCO, imgsz=640, description="Ultralytics YOLOv8n-like layout, random weights (linesight fixture)")
    export(yolov8(1), out("yolov8-1class-320.onnx"), "8.3.0", names=["widget"], imgsz=320, description="YOLOv8 layout, one class, random weights (linesight fixture)")
    # YOLOv5's export writes only these two metadata keys.
    plain_export(Yolov5(80), out("yolov5-coco80-320.onnx"), 320, meta={"stride": 32, "names": {i: n for i, n in enumerate(COCO)}})
    e2e_meta = {**ultralytics_metadata(COCO, "8.3.0", 320, "YOLO26/YOLOv10-style NMS-free layout, random weights (linesight fixture)"), "end2end": True}
    plain_export(End2End(80), out("end2end-coco80-320.onnx"), 320, meta=e2e_meta)
    plain_export(Classifier(), out("classifier-1000.onnx"), 224, meta={"description": "an image classifier, not a detector (linesight fixture)"})

    float_model = onnx.load(args.detector)
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "probe.onnx")
        onnx.save(with_outputs(float_model, conv_tensors(float_model)), probe)
        images = sorted(glob.glob(os.path.join(args.samples, "*.jpg")))
        ranges = json.loads(node("models/tools/lib/activation-ranges.ts", probe, *images))
    ranges["images"] = [0.0, 1.0]  # the input contract: RGB scaled to 0..1
    onnx.save(quantize_qdq(float_model, ranges), out("detector-int8-qdq.onnx"))
    onnx.save(quantize_dynamic(float_model), out("detector-int8-dynamic.onnx"))

    for f in sorted(glob.glob(out("*.onnx"))):
        m = onnx.load(f)
        print(f"{os.path.basename(f):32s} {os.path.getsize(f) / 1024:7.1f} KB  in {[d.dim_value or d.dim_param for d in m.graph.input[0].type.tensor_type.shape.dim]}"
              f"  out {[[d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim] for o in m.graph.output]}")
    print(node("models/tools/compare-quantized.ts", args.detector, out("detector-int8-qdq.onnx"), out("detector-int8-dynamic.onnx")))


if __name__ == "__main__":
    sys.exit(main())
