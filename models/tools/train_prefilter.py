"""Train the prefilter's part-presence head, calibrate the skip thresholds on synthetic data and
write models/prefilter/prefilter.onnx plus the calibration record for its manifest.

    python3 models/tools/train_prefilter.py --data models/data --out models/prefilter

Thresholds are calibrated on the validation split (never on test):
  sharpness       best balanced accuracy, motion-blurred frames (blur >= 7 px) vs sharp (<= 3 px)
  exposure_low    best balanced accuracy, under-exposed (gain < 0.6) vs normal (0.8..1.2) on exposure_mean
  exposure_high   the same for over-exposed (gain > 1.4)
  clipped_bright  over-exposed vs normal, floored at 2 % of the frame
  clipped_dark    under-exposed vs normal, floored at 2 % of the frame
  change          twice the 99th percentile of re-renders of one scene with fresh sensor noise
                  (nothing new); reported: how often the next scene / a part moved 24 px exceed it
  part_present    best balanced accuracy, part vs empty belt
(details and the figures: prefilter_calibration.py and the manifest's metrics.calibration)
"""
import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from prefilter_calibration import calibrate, small
from prefilter_graph import OUTPUTS, build, reference_outputs
from webgpu_ops import check_graph_ops


def _load(path):
    return small(np.asarray(Image.open(path).convert("RGB")))


def load_split(split_dir: str, workers: int = 2):
    meta = [json.loads(line) for line in open(os.path.join(split_dir, "meta.jsonl"))]
    with Pool(workers) as pool:
        frames = pool.map(_load, [os.path.join(split_dir, "images", m["file"]) for m in meta], chunksize=32)
    return np.stack(frames), meta


class PartNet(nn.Module):
    """About 10 k parameters: four stride-2 3x3 convs, global average + max pooling, one logit."""

    def __init__(self, widths=(8, 16, 16, 24)):
        super().__init__()
        layers, cin = [], 3
        for c in widths:
            layers.append(nn.Conv2d(cin, c, 3, 2, 1))
            cin = c
        self.convs = nn.ModuleList(layers)
        self.head = nn.Conv2d(2 * cin, 1, 1)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        pooled = torch.cat([F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1)], 1)
        return self.head(pooled).flatten(1)


def train_part_net(frames, present, epochs: int, seed: int):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x_all, y_all = torch.from_numpy(frames), torch.from_numpy(present.astype(np.float32))
    net = PartNet()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    pos_weight = torch.tensor((1 - present.mean()) / max(present.mean(), 1e-6))  # empty frames are rare
    for epoch in range(epochs):
        perm = torch.randperm(len(x_all), generator=gen)
        total = 0.0
        for i in range(0, len(perm), 64):
            idx = perm[i : i + 64]
            x = x_all[idx]
            # Exposure and flip jitter: presence must not hinge on brightness or orientation.
            x = x * (0.4 + 1.6 * torch.rand(len(idx), 1, 1, 1, generator=gen))
            x = torch.where(torch.rand(len(idx), 1, 1, 1, generator=gen) < 0.5, x.flip(3), x).clamp(0, 1)
            loss = F.binary_cross_entropy_with_logits(net(x)[:, 0], y_all[idx], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        print(f"part net epoch {epoch + 1}/{epochs} loss {total / len(perm):.4f}", flush=True)
    return net.eval()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="models/data")
    p.add_argument("--out", default="models/prefilter")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--change-scenes", type=int, default=120)
    p.add_argument("--info", default="models/.cache/prefilter.json")
    p.add_argument("--net", default="models/.cache/partnet.pt", help="where the part-presence weights are kept")
    p.add_argument("--reuse-net", action="store_true", help="calibrate and rebuild the graph without retraining")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    t0 = time.time()
    val_x, val_meta = load_split(os.path.join(args.data, "val"))
    if args.reuse_net:
        net = PartNet()
        saved = torch.load(args.net)
        net.load_state_dict(saved["model"])
        n_train = saved["trainImages"]
    else:
        train_x, train_meta = load_split(os.path.join(args.data, "train"))
        net = train_part_net(train_x, np.array([not m["empty"] for m in train_meta]), args.epochs, args.seed)
        n_train = len(train_x)
        torch.save({"model": net.state_dict(), "trainImages": n_train}, args.net)
    net.eval()
    with torch.no_grad():
        val_probs = torch.sigmoid(net(torch.from_numpy(val_x)))[:, 0].numpy()

    thresholds, report = calibrate(val_x, val_meta, val_probs, [m["seed"] for m in val_meta[: args.change_scenes]])
    cnn = [(c.weight.detach().numpy(), c.bias.detach().numpy(), 2) for c in net.convs]
    model = build(cnn, net.head.weight.detach().numpy(), net.head.bias.detach().numpy())
    ops = check_graph_ops(model)
    os.makedirs(args.out, exist_ok=True)
    onnx.save(model, os.path.join(args.out, "prefilter.onnx"))
    info = {
        "outputs": OUTPUTS, "thresholds": thresholds, "webgpuOps": ops,
        "metrics": {"calibration": report, "split": "val", "images": len(val_x),
                    "webgpuOpsCheckedAgainst": "onnxruntime-web/docs/webgpu-operators.md (installed version)"},
        "training": {"seed": args.seed, "epochs": args.epochs, "trainImages": n_train, "seconds": round(time.time() - t0)},
    }
    with open(args.info, "w") as f:
        json.dump(info, f, indent=2)
    # Golden values for check-models.ts: an over-exposed val frame with a black patch (so both
    # clipped fractions are non-zero) against the first val frame, numpy vs onnxruntime.
    over = next((i for i, m in enumerate(val_meta) if m["exposure"] > 1.4 and not m["empty"]), 1)
    frame = val_x[over].copy()
    frame[:, :20, :40] = 0.0
    frame[:, -10:, -40:] = 1.0
    golden = {k: float(v) for k, v in reference_outputs(frame[None], val_x[:1]).items()}
    with torch.no_grad():
        golden["part_present"] = float(torch.sigmoid(net(torch.from_numpy(frame[None])))[0, 0])
    cache = os.path.dirname(args.info)
    np.stack([frame, val_x[0]]).astype("<f4").tofile(os.path.join(cache, "prefilter-golden.f32"))
    with open(os.path.join(cache, "prefilter-golden.json"), "w") as f:
        json.dump(golden, f, indent=2)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    sys.exit(main())
