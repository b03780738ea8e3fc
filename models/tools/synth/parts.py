"""The part itself, drawn in its own (unrotated) frame: a machined metal plate with drilled holes,
or a small PCB with traces, pads and chips.

Holes and chips are laid out from the part's texture seed alone, so scene sampling can keep
defects off them before anything is drawn (a "stain" inside a drilled hole would be unlabelable).
"""
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageDraw

from .noise import smooth_noise
from .scene import Part

Box = Tuple[float, float, float, float]


def _layout(part: Part):
    rng = np.random.default_rng(part.texture_seed)
    w, h = part.width, part.height
    holes, chips = [], []
    if part.kind == "plate":
        r = float(rng.uniform(7, 15))
        inset = r + float(rng.uniform(8, 18))
        if rng.random() < 0.8:  # corner holes, as on a mounting plate
            holes += [(inset, inset, r), (w - inset, inset, r), (inset, h - inset, r), (w - inset, h - inset, r)]
        if rng.random() < 0.4:
            holes.append((w / 2, h / 2, float(rng.uniform(10, 22))))
    else:
        r = float(rng.uniform(5, 8))
        holes += [(r + 6, r + 6, r), (w - r - 6, r + 6, r), (r + 6, h - r - 6, r), (w - r - 6, h - r - 6, r)]
        for _ in range(int(rng.integers(1, 4))):
            cw, ch = float(rng.uniform(30, 70)), float(rng.uniform(20, 50))
            x, y = float(rng.uniform(25, w - 25 - cw)), float(rng.uniform(25, h - 25 - ch))
            chips.append((x, y, x + cw, y + ch))
    return rng, holes, chips


def keep_out_regions(part: Part) -> List[Box]:
    _, holes, chips = _layout(part)
    boxes = [(x - r - 4, y - r - 4, x + r + 4, y + r + 4) for x, y, r in holes]
    return boxes + [(x1 - 6, y1 - 6, x2 + 6, y2 + 6) for x1, y1, x2, y2 in chips]


def _plate(rng, w: int, h: int, holes) -> np.ndarray:
    base = rng.uniform(135, 195)
    tint = rng.uniform(-6, 6, 3).astype(np.float32)
    # Brushed finish: streaks along x are many rows of noise stretched over few columns.
    streaks = smooth_noise(rng, h, w, h // 2, 5) * rng.uniform(3, 8)
    patches = smooth_noise(rng, h, w, 3, 4) * rng.uniform(4, 10)
    img = (base + streaks + patches)[..., None] + tint
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(pil)
    for x, y, r in holes:
        dark = int(rng.uniform(20, 45))
        d.ellipse([x - r - 2, y - r - 2, x + r + 2, y + r + 2], fill=(int(base + 40),) * 3)  # chamfer
        d.ellipse([x - r, y - r, x + r, y + r], fill=(dark, dark, dark + 3))
    return np.asarray(pil, dtype=np.float32)


def _pcb(rng, w: int, h: int, holes, chips) -> np.ndarray:
    green = np.array([rng.uniform(25, 50), rng.uniform(95, 135), rng.uniform(45, 75)], np.float32)
    img = green + (smooth_noise(rng, h, w, 6, 8) * 5)[..., None]
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(pil)
    trace = tuple(int(c) for c in np.clip(green * 1.35 + 10, 0, 255))
    for _ in range(int(rng.integers(8, 18))):
        x, y = float(rng.uniform(10, w - 10)), float(rng.uniform(10, h - 10))
        if rng.random() < 0.5:
            x2, y2 = float(rng.uniform(10, w - 10)), y
        else:
            x2, y2 = x, float(rng.uniform(10, h - 10))
        d.line([x, y, x2, y2], fill=trace, width=int(rng.integers(2, 4)))
        d.rectangle([x2 - 3, y2 - 3, x2 + 3, y2 + 3], fill=(200, 170, 80))  # pad
    for x1, y1, x2, y2 in chips:
        for px in np.arange(x1 + 4, x2 - 2, 6):  # pins
            d.line([px, y1 - 4, px, y2 + 4], fill=(190, 190, 195), width=2)
        d.rectangle([x1, y1, x2, y2], fill=(28, 28, 32))
    for x, y, r in holes:
        d.ellipse([x - r - 3, y - r - 3, x + r + 3, y + r + 3], fill=(200, 170, 80))
        d.ellipse([x - r, y - r, x + r, y + r], fill=(20, 20, 20))
    return np.asarray(pil, dtype=np.float32)


def draw_part(part: Part):
    """RGB float32 [h, w, 3] (0..255) and alpha uint8 [h, w] of the part, defect-free."""
    rng, holes, chips = _layout(part)
    w, h = part.width, part.height
    rgb = _plate(rng, w, h, holes) if part.kind == "plate" else _pcb(rng, w, h, holes, chips)
    alpha = Image.new("L", (w, h), 0)
    radius = int(rng.uniform(4, 28)) if part.kind == "plate" else 3
    ImageDraw.Draw(alpha).rounded_rectangle([0, 0, w - 1, h - 1], radius=radius, fill=255)
    # A darker machined edge so the outline reads against a belt of similar brightness.
    edge = Image.new("L", (w, h), 0)
    ImageDraw.Draw(edge).rounded_rectangle([0, 0, w - 1, h - 1], radius=radius, outline=255, width=3)
    rgb = rgb - 45.0 * (np.asarray(edge, np.float32) / 255.0)[..., None]
    return np.clip(rgb, 0, 255), np.asarray(alpha)
