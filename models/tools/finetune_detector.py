"""Fine-tune the current detector on a linesight dataset zip (GET /api/v1/datasets/yolo or
`npm run dataset:export`) and write it as a new model folder, ready to be put on a line as a
candidate.

    npm run models:train -- dataset.zip [--base models/detector] [--out models/detector-ft] [--epochs 1]

The starting weights are the base model's ONNX file itself: its exported graph has BatchNorm
folded into each convolution, so each folded weight and bias goes into the convolution and its
BatchNorm is set to pass values through unchanged (mean 0, variance 1 - eps, scale 1, shift = the
folded bias). The network then computes exactly what the ONNX file does, and training goes on
from there. Only the architecture train_detector.py builds can be loaded this way; another
model's file is refused with the layer that does not fit.
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import zipfile

import onnx
import torch
import yaml
from onnx import numpy_helper

from detection_data import augment, collate_targets, load_split
from detector_model import Detector
from export_detector import export
from loss import DetectionLoss
from train_detector import ARCH, EMA, param_groups, validate


def conv_layers_in_call_order(model, size: int):
    """Conv2d modules in the order a forward pass calls them (the order of the ONNX Conv nodes)."""
    order = []
    hooks = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod)) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return order


def load_onnx_weights(model, onnx_path: str, size: int) -> int:
    graph = onnx.load(onnx_path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    nodes = [n for n in graph.node if n.op_type == "Conv"]
    convs = conv_layers_in_call_order(model, size)
    if len(nodes) != len(convs):
        raise SystemExit(f"{onnx_path}: {len(nodes)} convolutions, the trainable detector has {len(convs)}; only linesight's own detector architecture can be fine-tuned")
    bn_after = {}
    for m in model.modules():
        if isinstance(m, torch.nn.Sequential) and len(m) >= 2 and isinstance(m[0], torch.nn.Conv2d) and isinstance(m[1], torch.nn.BatchNorm2d):
            bn_after[m[0]] = m[1]
    with torch.no_grad():
        for node, conv in zip(nodes, convs):
            w = torch.from_numpy(inits[node.input[1]].copy())
            b = torch.from_numpy(inits[node.input[2]].copy()) if len(node.input) > 2 else torch.zeros(w.shape[0])
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise SystemExit(f"{onnx_path}: {node.name} has weights {tuple(w.shape)}, the detector expects {tuple(conv.weight.shape)}")
            conv.weight.copy_(w)
            bn = bn_after.get(conv)
            if bn is None:
                conv.bias.copy_(b)
            else:
                bn.weight.fill_(1.0)
                bn.bias.copy_(b)
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
    return len(nodes)


def read_zip(path: str, into: str):
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            # entries are written by linesight, but a zip is still never allowed outside its folder
            target = os.path.realpath(os.path.join(into, name))
            if not target.startswith(os.path.realpath(into) + os.sep):
                raise SystemExit(f"{path}: entry {name} points outside the dataset")
        z.extractall(into)
    with open(os.path.join(into, "data.yaml")) as f:
        return yaml.safe_load(f)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("zip", help="dataset zip exported by linesight")
    p.add_argument("--base", default="models/detector", help="model folder to start from (manifest.json + ONNX)")
    p.add_argument("--out", help="model folder to write (default: <base>-ft)")
    p.add_argument("--name", help="model name in the new manifest (default: the out folder's name)")
    p.add_argument("--version", help="default: the base version with a -ft.<unix time> suffix")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    with open(os.path.join(args.base, "manifest.json")) as f:
        base = json.load(f)
    classes = base["classes"]
    size = base["input"]["shape"][-1]
    out = args.out or args.base.rstrip("/") + "-ft"
    name = args.name or os.path.basename(out.rstrip("/"))
    version = args.version or f"{base['version']}-ft.{int(time.time())}"

    with tempfile.TemporaryDirectory(prefix="linesight-ft-") as work:
        data = read_zip(args.zip, work)
        if list(data.get("names", [])) != list(classes):
            raise SystemExit(f"{args.zip}: classes {data.get('names')} are not {args.base}'s {classes}; export the dataset for a line running that model")
        train_x, train_t, _ = load_pairs(work, "train", size)
        val_x, val_t, _ = load_pairs(work, "val", size)
        # a tiny export (a handful of reviewed frames) may have all of them in one split: train and
        # validate on the same frames then, and say so in the manifest (valIsTrain)
        if len(train_x) == 0:
            train_x, train_t = val_x, val_t
        if len(val_x) == 0:
            val_x, val_t = train_x, train_t
        if len(train_x) == 0:
            raise SystemExit(f"{args.zip}: no images (no reviewed frame had a stored image)")
        print(f"dataset: {len(train_x)} train / {len(val_x)} val images, classes {classes}", flush=True)

        model = Detector(nc=len(classes), **ARCH)
        n = load_onnx_weights(model, os.path.join(args.base, base["file"]), size)
        print(f"loaded {n} convolutions from {args.base}/{base['file']}", flush=True)
        ema = EMA(model, tau=50)
        opt = torch.optim.AdamW(param_groups(model, 5e-4), lr=args.lr)
        criterion = DetectionLoss()
        t0 = time.time()
        steps = 0
        for epoch in range(args.epochs):
            model.train()
            perm = torch.randperm(len(train_x), generator=gen)
            total = 0.0
            for b in range(0, len(train_x), args.batch):
                idx = perm[b : b + args.batch]
                x, tgt = augment(train_x[idx], [train_t[i] for i in idx.tolist()], gen)
                labels, boxes, mask = collate_targets(tgt)
                outs = [(bx.float(), c.float()) for bx, c in model(x)]
                loss, _parts = criterion(outs, labels, boxes, mask, x.shape[2:])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                opt.step()
                ema.update(model)
                steps += 1
                total += float(loss)
            m50, m5095, _ = validate(ema.model, val_x, val_t, len(classes))
            print(f"epoch {epoch + 1}/{args.epochs}: {steps} steps, loss {total / max(1, steps):.3f}, val mAP50 {m50:.3f} mAP50-95 {m5095:.3f}, {time.time() - t0:.0f}s", flush=True)

    os.makedirs(out, exist_ok=True)
    onnx_path = os.path.join(out, "detector.onnx")
    export(ema.model, onnx_path, version, names=classes, imgsz=size)
    with open(onnx_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    manifest = {**base, "name": name, "version": version, "file": "detector.onnx", "sha256": sha,
                "description": f"{base['name']} {base['version']} fine-tuned on {os.path.basename(args.zip)}",
                "training": {"base": f"{base['name']}@{base['version']}", "dataset": os.path.basename(args.zip), "epochs": args.epochs, "steps": steps,
                             "trainImages": len(train_x), "valImages": len(val_x), "valIsTrain": val_x is train_x, "seconds": round(time.time() - t0)}}
    manifest.pop("metrics", None)  # the base's test figures do not describe this model
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps({"out": out, "name": name, "version": version, "sha256": sha, "steps": steps}), flush=True)


def load_pairs(root: str, split: str, size: int):
    """images/<split> + labels/<split> of an Ultralytics layout as train_detector's tensors."""
    # load_split reads <dir>/images and <dir>/labels; the zip keeps splits one level down instead
    images_dir = os.path.join(root, "images", split)
    if not os.path.isdir(images_dir) or not any(n.endswith(".jpg") for n in os.listdir(images_dir)):
        return torch.zeros(0, 3, size, size, dtype=torch.uint8), [], []
    view = os.path.join(root, f"_{split}")
    os.makedirs(view, exist_ok=True)
    for kind in ("images", "labels"):
        src = os.path.join(root, kind, split)
        if not os.path.exists(os.path.join(view, kind)):
            os.symlink(src if os.path.isdir(src) else tempfile.mkdtemp(dir=root), os.path.join(view, kind))
    return load_split(view, size=size, workers=1)


if __name__ == "__main__":
    sys.exit(main())
