"""Scene -> (frame, labels). Labels are pixel boxes of the part and of each visible defect."""
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageFilter

from .belt import draw_belt
from .camera import expose, lighting
from .defects import DRAWERS
from .parts import draw_part
from .scene import CLASSES, HEIGHT, WIDTH, Scene

Label = Tuple[int, float, float, float, float]  # class id, x1, y1, x2, y2 (pixels)

MIN_DEFECT_SIDE = 10.0  # px at 640x480: 5 px at the detector's 320 scale
MIN_VISIBLE_CONTRAST = 12.0  # mean 0..255 change a defect must still make after exposure


def _rotate(arr: np.ndarray, angle: float, resample) -> Image.Image:
    return Image.fromarray(arr).rotate(angle, resample=resample, expand=True)


def _visible(canvas, base, mask, gain: float) -> bool:
    """Over-exposure can clip a bright scratch on bright metal to nothing: such a defect gets no
    label, because no detector (or person) could see it."""
    after = np.clip(canvas[mask] * gain, 0, 255)
    before = np.clip(base[mask] * gain, 0, 255)
    return float(np.abs(after - before).max(axis=1).mean()) >= MIN_VISIBLE_CONTRAST


def _fit_box(x1, y1, x2, y2, pad: float, min_side: float, blur: int):
    x1, y1, x2, y2 = x1 - pad - blur / 2, y1 - pad, x2 + pad + blur / 2, y2 + pad
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    w, h = max(x2 - x1, min_side), max(y2 - y1, min_side)
    return (max(0.0, cx - w / 2), max(0.0, cy - h / 2), min(float(WIDTH), cx + w / 2), min(float(HEIGHT), cy + h / 2))


def render(scene: Scene):
    """uint8 [480, 640, 3] RGB frame and its labels."""
    radiance = draw_belt(scene.belt_seed)
    labels: List[Label] = []
    part = scene.part
    if part is not None:
        rgb, alpha = draw_part(part)
        base = rgb.copy()
        gain = float(lighting(scene.camera, HEIGHT, WIDTH)[int(np.clip(part.cy, 0, HEIGHT - 1)), int(np.clip(part.cx, 0, WIDTH - 1)), 0])
        masks = []
        for d in part.defects:
            m = DRAWERS[d.kind](rgb, d)
            if m.any() and _visible(rgb, base, m, gain):
                masks.append((CLASSES.index(d.kind), m))

        rgb_rot = np.asarray(_rotate(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), part.rotation, Image.BILINEAR), np.float32)
        alpha_img = _rotate(alpha, part.rotation, Image.BILINEAR)
        a = np.asarray(alpha_img, np.float32)[..., None] / 255
        H, W = a.shape[:2]
        ox, oy = int(round(part.cx - W / 2)), int(round(part.cy - H / 2))

        # Soft shadow below and behind the part (light from above-front).
        shadow = np.zeros((HEIGHT, WIDTH), np.float32)
        sh = np.asarray(alpha_img.filter(ImageFilter.GaussianBlur(8)), np.float32) / 255
        _paste(shadow, sh, ox + 5, oy + 9, lambda dst, src: np.maximum(dst, src))
        radiance *= (1 - 0.45 * shadow)[..., None]
        _paste(radiance, np.concatenate([rgb_rot, a], -1), ox, oy, lambda dst, src: dst * (1 - src[..., 3:]) + src[..., :3] * src[..., 3:])

        box = alpha_img.point(lambda v: 255 if v > 127 else 0).getbbox()
        if box:
            labels.append((0, *_fit_box(box[0] + ox, box[1] + oy, box[2] + ox, box[3] + oy, 0, 0, 0)))
        for cls, m in masks:
            mb = _rotate((m * 255).astype(np.uint8), part.rotation, Image.NEAREST).getbbox()
            if mb:
                labels.append((cls, *_fit_box(mb[0] + ox, mb[1] + oy, mb[2] + ox, mb[3] + oy, 1, MIN_DEFECT_SIDE, scene.camera.blur)))
    frame = expose(radiance, scene.camera)
    return frame, labels


def _paste(dst: np.ndarray, src: np.ndarray, x: int, y: int, op) -> None:
    """dst[y:, x:] = op(dst region, src region), clipped to dst's bounds."""
    h, w = src.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(dst.shape[1], x + w), min(dst.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    region = src[y0 - y : y1 - y, x0 - x : x1 - x]
    dst[y0:y1, x0:x1] = op(dst[y0:y1, x0:x1], region)
