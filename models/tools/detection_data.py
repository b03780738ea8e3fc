"""YOLO-format split -> letterboxed tensors held in memory (the whole set fits: 4000 frames at
320x320 are 1.2 GB of uint8), so training never waits on JPEG decoding."""
import os
from multiprocessing import Pool

import numpy as np
import torch
from PIL import Image

PAD = 114


def letterbox_geometry(src_w: int, src_h: int, dst: int):
    """Same rounding as Ultralytics' LetterBox (and shared/inference/letterbox.ts)."""
    scale = min(dst / src_w, dst / src_h)
    rw, rh = round(src_w * scale), round(src_h * scale)
    pad_x, pad_y = round((dst - rw) / 2 - 0.1), round((dst - rh) / 2 - 0.1)
    return scale, rw, rh, pad_x, pad_y


def letterbox(img: Image.Image, dst: int) -> np.ndarray:
    scale, rw, rh, px, py = letterbox_geometry(img.width, img.height, dst)
    out = np.full((dst, dst, 3), PAD, np.uint8)
    # PIL's bilinear filter is antialiased when reducing (a triangle over 4 source pixels at 2x).
    img = img.convert("RGB")
    if img.size != (rw, rh):
        img = img.resize((rw, rh), Image.BILINEAR)
    out[py : py + rh, px : px + rw] = np.asarray(img)
    return out


def read_labels(path: str, w: int, h: int) -> np.ndarray:
    """YOLO txt -> [k, 5] (cls, x1, y1, x2, y2) in source pixels."""
    rows = []
    if os.path.exists(path):
        for line in open(path):
            parts = line.split()
            if len(parts) == 5:
                c, cx, cy, bw, bh = int(parts[0]), *(float(v) for v in parts[1:])
                rows.append((c, (cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
    return np.array(rows, np.float32).reshape(-1, 5)


def _load(args):
    image_path, label_path, size, dct = args
    img = Image.open(image_path)
    src_w, src_h = img.size
    scale, rw, rh, px, py = letterbox_geometry(src_w, src_h, size)
    if dct:
        # Half the frames are decoded at reduced size by libjpeg's DCT scaling, which is what
        # sharp's shrink-on-load does on the server; the rest are resized bilinearly (like
        # cv2/canvas). The detector then does not hinge on one resampler's rendering of thin lines.
        img.draft("RGB", (rw, rh))
    labels = read_labels(label_path, src_w, src_h)
    labels[:, 1:] = labels[:, 1:] * scale + np.array([px, py, px, py], np.float32)
    return letterbox(img, size), labels


def load_split(split_dir: str, size: int = 320, limit: int = 0, workers: int = 2, mixed_decode: bool = False):
    """uint8 tensor [N, 3, size, size] and a list of [k, 5] float tensors in letterboxed pixels."""
    names = sorted(f for f in os.listdir(os.path.join(split_dir, "images")) if f.endswith(".jpg"))
    if limit:
        names = names[:limit]
    jobs = [(os.path.join(split_dir, "images", n), os.path.join(split_dir, "labels", n[:-4] + ".txt"), size, mixed_decode and k % 2 == 1) for k, n in enumerate(names)]
    with Pool(workers) as pool:
        loaded = pool.map(_load, jobs, chunksize=32)
    images = torch.from_numpy(np.stack([im for im, _ in loaded])).permute(0, 3, 1, 2).contiguous()
    return images, [torch.from_numpy(lab) for _, lab in loaded], names


def collate_targets(targets):
    """List of [k, 5] -> labels [B, M] long, boxes [B, M, 4], mask [B, M] (padded to the max k)."""
    m = max((len(t) for t in targets), default=0)
    b = len(targets)
    labels = torch.zeros(b, m, dtype=torch.long)
    boxes = torch.zeros(b, m, 4)
    mask = torch.zeros(b, m, dtype=torch.bool)
    for i, t in enumerate(targets):
        k = len(t)
        if k:
            labels[i, :k], boxes[i, :k], mask[i, :k] = t[:, 0].long(), t[:, 1:], True
    return labels, boxes, mask


def augment(images_u8: torch.Tensor, targets, generator: torch.Generator):
    """Random flips (the belt scene has no preferred side) and a brightness/contrast jitter.
    uint8 [B, 3, S, S] -> float 0..1; flips are around the letterboxed centre (the padding is
    symmetric). Flipping the uint8 copy in place and scaling once keeps this a small part of a step."""
    b, _, s, _ = images_u8.shape
    flip_x = (torch.rand(b, generator=generator) < 0.5).tolist()
    flip_y = (torch.rand(b, generator=generator) < 0.5).tolist()
    gain = (1 + (torch.rand(b, 1, 1, 1, generator=generator) - 0.5) * 0.3) / 255
    bias = (torch.rand(b, 1, 1, 1, generator=generator) - 0.5) * 0.1
    out_t = []
    for i, t in enumerate(targets):
        t = t.clone()
        if flip_x[i]:
            images_u8[i] = images_u8[i].flip(2)
            t[:, [1, 3]] = s - t[:, [3, 1]]
        if flip_y[i]:
            images_u8[i] = images_u8[i].flip(1)
            t[:, [2, 4]] = s - t[:, [4, 2]]
        out_t.append(t)
    return images_u8.float().mul_(gain).add_(bias).clamp_(0, 1), out_t
