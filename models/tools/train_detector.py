"""Train the default defect detector on CPU and export it to ONNX.

    python3 models/tools/train_detector.py --data models/data --epochs 16 --out models/detector

Writes <out>/detector.onnx (Ultralytics detect contract, see export_detector.py) and keeps the
EMA weights in models/.cache/detector.pt. Deterministic for a given --seed and thread count.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch

from detection_data import augment, collate_targets, load_split
from detector_model import Detector, count_params
from export_detector import CLASSES, export
from loss import DetectionLoss
from quick_map import mean_ap, postprocess
from detector_model import decode

ARCH = {"width": (12, 24, 32, 48, 64), "head_hidden": (32, 32, 48)}


class EMA:
    """Exponential moving average of the weights (as YOLOv8's ModelEMA): a smoother model that
    validates better than the raw weights, with a ramp so early updates are not frozen in."""

    def __init__(self, model, decay: float = 0.999, tau: float = 1000):
        self.model = copy.deepcopy(model).eval()
        self.decay, self.tau, self.updates = decay, tau, 0
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        msd = model.state_dict()
        for k, v in self.model.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(msd[k].detach(), alpha=1 - d)
            else:
                v.copy_(msd[k])


def param_groups(model, weight_decay: float):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)  # no decay on BN and biases
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def validate(model, images, targets, nc: int, batch: int = 64):
    model.eval()
    dets = []
    for i in range(0, len(images), batch):
        x = images[i : i + batch].float() / 255
        pred = decode(model(x), x.shape[2], x.shape[3])
        dets += [postprocess(p) for p in pred]
    ap = mean_ap(dets, targets, nc)
    return np.nanmean(ap[:, 0]), np.nanmean(ap), ap


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="models/data")
    p.add_argument("--out", default="models/detector")
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--val-every", type=int, default=5)
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="train in float32")
    p.add_argument("--minutes", type=float, default=0,
                   help="train for this wall-clock time instead of --epochs (the schedule follows elapsed time); "
                        "for a shared machine where the speed of an epoch is unknown")
    p.add_argument("--init", help="start from the weights of this checkpoint (e.g. to continue an interrupted run)")
    p.add_argument("--cache", default="models/.cache")
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    train_x, train_t, _ = load_split(os.path.join(args.data, "train"), limit=args.limit, mixed_decode=True)
    val_x, val_t, _ = load_split(os.path.join(args.data, "val"))
    print(f"loaded {len(train_x)} train / {len(val_x)} val images in {time.time() - t0:.0f}s", flush=True)

    model = Detector(nc=len(CLASSES), **ARCH)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu")["model"])
    model = model.to(memory_format=torch.channels_last)
    print(f"parameters: {count_params(model)}", flush=True)
    ema = EMA(model)
    opt = torch.optim.AdamW(param_groups(model, 5e-4), lr=args.lr, betas=(0.9, 0.999))
    criterion = DetectionLoss()
    steps_per_epoch = len(train_x) // args.batch
    max_epochs = args.epochs if not args.minutes else 10_000
    total = steps_per_epoch * args.epochs
    warmup = min(300, total // 10)
    history = []
    step = 0
    t_train = time.time()
    budget = args.minutes * 60

    def progress() -> float:
        """Fraction of the run done: by steps, or by wall-clock time under --minutes."""
        if budget:
            return min(1.0, (time.time() - t_train) / budget)
        return min(1.0, step / max(1, total))

    done = False
    for epoch in range(max_epochs):
        model.train()
        perm = torch.randperm(len(train_x), generator=gen)
        sums = {"box": 0.0, "cls": 0.0}
        t_ep = time.time()
        n = 0
        for b in range(steps_per_epoch):
            if budget and progress() >= 1.0:
                done = True
                break
            idx = perm[b * args.batch : (b + 1) * args.batch]
            x, tgt = augment(train_x[idx], [train_t[i] for i in idx.tolist()], gen)
            x = x.contiguous(memory_format=torch.channels_last)
            labels, boxes, mask = collate_targets(tgt)
            # Linear warm-up, then cosine decay to 5% of the peak rate.
            p = progress()
            lr = args.lr * (step + 1) / warmup if step < warmup else args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))
            for g in opt.param_groups:
                g["lr"] = lr
            # bfloat16 convolutions (AVX512-BF16 here) run about 3x faster than float32 on CPU;
            # the loss and the weights stay float32.
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                outs = model(x)
            outs = [(bx.float(), c.float()) for bx, c in outs]
            loss, parts = criterion(outs, labels, boxes, mask, x.shape[2:])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            ema.update(model)
            step += 1
            n += 1
            for k in sums:
                sums[k] += parts[k]
        last = done or epoch + 1 == max_epochs
        msg = f"epoch {epoch + 1} ({n} steps) box {sums['box'] / max(1, n):.3f} cls {sums['cls'] / max(1, n):.3f} lr {lr:.2e} {time.time() - t_ep:.0f}s"
        if (epoch + 1) % args.val_every == 0 or last:
            m50, m5095, last_ap = validate(ema.model, val_x, val_t, len(CLASSES))
            msg += f" | val mAP50 {m50:.3f} mAP50-95 {m5095:.3f}"
            history.append({"epoch": epoch + 1, "mAP50": round(float(m50), 4), "mAP50_95": round(float(m5095), 4)})
        print(msg, flush=True)
        os.makedirs(args.cache, exist_ok=True)
        torch.save({"model": ema.model.state_dict(), "arch": ARCH, "epoch": epoch + 1}, os.path.join(args.cache, "detector.pt"))
        if last:
            break
    epochs_run = epoch + 1
    train_s = time.time() - t_train

    ap = last_ap  # the last epoch is always validated
    os.makedirs(args.out, exist_ok=True)
    export(ema.model, os.path.join(args.out, "detector.onnx"), args.version)
    summary = {
        "seed": args.seed, "epochs": epochs_run if args.minutes else args.epochs, "steps": step, "minutes": args.minutes or None, "bf16": args.bf16, "threads": args.threads, "init": args.init, "batch": args.batch, "lr": args.lr, "trainImages": len(train_x),
        "valImages": len(val_x), "parameters": count_params(model), "trainSeconds": round(train_s),
        "valAP50": {c: round(float(ap[i, 0]), 4) for i, c in enumerate(CLASSES)}, "history": history,
    }
    with open(os.path.join(args.cache, "detector-train.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
