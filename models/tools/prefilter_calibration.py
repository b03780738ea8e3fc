"""Calibrating the prefilter's skip thresholds on synthetic frames (validation split).

Each threshold is the split with the best balanced accuracy between frames that should be
skipped and frames that should be sent, except `change` (twice the noise-only level) and the
clipped fractions (floored, see below). Every figure is recorded in the manifest's metrics.
"""
import dataclasses

import numpy as np
from PIL import Image

from prefilter_graph import reference_outputs
from synth.render import render
from synth.scene import sample_scene

CLIPPED_FLOOR = 0.02


def small(frame: np.ndarray) -> np.ndarray:
    """640x480 uint8 -> [3, 120, 160] float 0..1 (a 4x4 box average, like a browser downscale)."""
    return np.asarray(Image.fromarray(frame).reduce(4), np.float32).transpose(2, 0, 1) / 255


def best_split(values, positive, higher_is_positive: bool = True):
    """Threshold with the best balanced accuracy; returns (threshold, balanced accuracy)."""
    v = np.asarray(values, np.float64)
    pos = np.asarray(positive, bool)
    if pos.all() or not pos.any() or len(np.unique(v)) < 2:
        return float("nan"), float("nan")
    cand = np.unique(v)
    best = (float(cand[0]), -1.0)
    for i in range(len(cand) - 1):
        t = (cand[i] + cand[i + 1]) / 2
        pred = v > t if higher_is_positive else v < t
        acc = 0.5 * (pred[pos].mean() + (~pred[~pos]).mean())
        if acc > best[1]:
            best = (float(t), float(acc))
    return best


def accuracy_at(values, positive, t: float, higher_is_positive: bool = True) -> float:
    v, pos = np.asarray(values), np.asarray(positive, bool)
    pred = v > t if higher_is_positive else v < t
    return float(0.5 * (pred[pos].mean() + (~pred[~pos]).mean()))


def change_pairs(seeds):
    """(no-change, change, part moved 24 px) values of the `change` output for some val scenes."""
    same, diff, moved = [], [], []
    for k, seed in enumerate(seeds):
        scene = sample_scene(seed)
        a = small(render(scene)[0])
        noisy = dataclasses.replace(scene, camera=dataclasses.replace(scene.camera, noise_seed=scene.camera.noise_seed + 1))
        same.append(reference_outputs(a[None], small(render(noisy)[0])[None])["change"])
        nxt = small(render(sample_scene(seeds[(k + 1) % len(seeds)]))[0])
        diff.append(reference_outputs(a[None], nxt[None])["change"])
        if scene.part is not None:
            shifted = dataclasses.replace(scene, part=dataclasses.replace(scene.part, cx=scene.part.cx + 24))
            moved.append(reference_outputs(a[None], small(render(shifted)[0])[None])["change"])
    return np.array(same), np.array(diff), np.array(moved)


def calibrate(frames, meta, probs, change_seeds):
    outs = [reference_outputs(f[None], f[None]) for f in frames]
    col = lambda k: np.array([o[k] for o in outs])
    exposure = np.array([m["exposure"] for m in meta])
    blur = np.array([m["blur"] for m in meta])
    normal = (exposure >= 0.8) & (exposure <= 1.2)
    under, over = exposure < 0.6, exposure > 1.4
    present = np.array([not m["empty"] for m in meta])

    sel = (blur <= 3) | (blur >= 7)
    sharp_t, sharp_acc = best_split(col("sharpness")[sel], blur[sel] <= 3)
    sel = normal | under
    low_t, low_acc = best_split(col("exposure_mean")[sel], under[sel], higher_is_positive=False)
    # Synthetic normal frames have no clipped pixels at all, so the best split sits at a handful of
    # pixels; a real camera's specular glints would trip that. Floor it at 2 % of the frame.
    dark_t = max(best_split(col("clipped_dark")[sel], under[sel])[0], CLIPPED_FLOOR)
    dark_acc = accuracy_at(col("clipped_dark")[sel], under[sel], dark_t)
    sel = normal | over
    high_t, high_acc = best_split(col("exposure_mean")[sel], over[sel])
    bright_t = max(best_split(col("clipped_bright")[sel], over[sel])[0], CLIPPED_FLOOR)
    bright_acc = accuracy_at(col("clipped_bright")[sel], over[sel], bright_t)
    part_t, part_acc = best_split(probs, present)

    same, diff, moved = change_pairs(change_seeds)
    # Skipping is for frames with nothing new: twice the sensor-noise-only level (99th percentile)
    # still catches a part that moved a few pixels, which the midpoint to "next scene" would not.
    change_t = 2 * float(np.percentile(same, 99))
    change_acc = 0.5 * ((same < change_t).mean() + (diff > change_t).mean())
    # A split that cannot be calibrated (no such frames in the split) keeps a documented default
    # rather than writing NaN, which is not JSON.
    r = lambda x, default=None: default if not np.isfinite(x) else float(f"{x:.4g}")
    thresholds = {
        "change": r(change_t, 0.01), "sharpness": r(sharp_t, 0.002), "exposure_low": r(low_t, 0.15), "exposure_high": r(high_t, 0.85),
        "clipped_dark": r(dark_t, 0.5), "clipped_bright": r(bright_t, 0.5), "part_present": r(part_t, 0.5),
    }
    report = {
        "sharpness": {"rule": "skip if sharpness < threshold", "balancedAccuracy": r(sharp_acc), "positives": "blur <= 3 px", "negatives": "blur >= 7 px"},
        "exposure_low": {"rule": "skip if exposure_mean < threshold", "balancedAccuracy": r(low_acc)},
        "exposure_high": {"rule": "skip if exposure_mean > threshold", "balancedAccuracy": r(high_acc)},
        "clipped_dark": {"rule": "skip if clipped_dark > threshold", "balancedAccuracy": r(dark_acc)},
        "clipped_bright": {"rule": "skip if clipped_bright > threshold", "balancedAccuracy": r(bright_acc)},
        "part_present": {"rule": "skip if part_present < threshold", "balancedAccuracy": r(part_acc)},
        "change": {
            "rule": "skip if change < threshold (nothing new since the last frame sent)", "balancedAccuracy": r(change_acc),
            "noChangeP99": r(float(np.percentile(same, 99))), "nextSceneMin": r(diff.min()),
            "nextSceneDetected": r(float((diff > change_t).mean())), "partMoved24pxDetected": r(float((moved > change_t).mean())),
        },
    }
    return thresholds, report
