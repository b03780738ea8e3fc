"""Drawing defects onto a part canvas (part frame, float RGB 0..255).

Each drawer changes the canvas in place and returns the mask of pixels it changed; the label box
is that mask's extent after the part is rotated into the frame. Shapes keep every defect at least
2 px wide at 640x480 (scratches 3 px), i.e. 1-1.5 px at the detector's 320 px scale, with strong contrast.
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .scene import Defect


def _mask_image(shape):
    return Image.new("L", (shape[1], shape[0]), 0)


def _blend(canvas: np.ndarray, mask: np.ndarray, color, strength: float) -> None:
    a = (mask * strength)[..., None]
    canvas *= 1 - a
    canvas += a * np.asarray(color, np.float32)


def scratch(canvas: np.ndarray, d: Defect) -> np.ndarray:
    """A smooth, slightly bent line: usually bright (it catches the light), sometimes dark."""
    rng = np.random.default_rng(d.seed)
    ux, uy = np.cos(d.angle), np.sin(d.angle)
    bend = rng.uniform(-0.12, 0.12) * d.size
    t = np.linspace(-0.5, 0.5, 24)
    xs = d.u + t * d.size * ux - (1 - 4 * t * t) * bend * uy
    ys = d.v + t * d.size * uy + (1 - 4 * t * t) * bend * ux
    width = int(rng.integers(3, 5))  # >= 1.5 px at the detector's 320 px scale
    line = _mask_image(canvas.shape)
    ImageDraw.Draw(line).line(list(zip(xs, ys)), fill=255, width=width, joint="curve")
    m = np.asarray(line, np.float32) / 255
    level = canvas.mean()
    if rng.random() < 0.8:
        # Bare metal or copper shows through: near-white, never the colour of a PCB trace.
        color = min(255.0, max(level + 90, 190) + rng.uniform(0, 40))
        _blend(canvas, m, (color, color, color), 0.95)
    else:
        color = level * rng.uniform(0.25, 0.4)
        _blend(canvas, m, (color, color, color), 0.9)
    return m > 0


def crack(canvas: np.ndarray, d: Defect) -> np.ndarray:
    """A dark, jagged random walk with a branch or two: unlike a scratch it changes direction."""
    rng = np.random.default_rng(d.seed)
    img = _mask_image(canvas.shape)
    draw = ImageDraw.Draw(img)

    def walk(x, y, heading, length, width):
        pts = [(x, y)]
        steps = max(3, int(length / 5))
        for _ in range(steps):
            heading += rng.uniform(-0.7, 0.7)
            x, y = x + 5 * np.cos(heading), y + 5 * np.sin(heading)
            pts.append((x, y))
        draw.line(pts, fill=255, width=width, joint="curve")
        return pts

    x0 = d.u - 0.5 * d.size * np.cos(d.angle)
    y0 = d.v - 0.5 * d.size * np.sin(d.angle)
    pts = walk(x0, y0, d.angle, d.size, int(rng.integers(2, 5)))
    for _ in range(int(rng.integers(0, 3))):
        bx, by = pts[int(rng.integers(1, len(pts) - 1))]
        walk(bx, by, d.angle + rng.choice([-1, 1]) * rng.uniform(0.6, 1.2), d.size * rng.uniform(0.2, 0.4), 2)
    m = np.asarray(img, np.float32) / 255
    dark = rng.uniform(10, 30)
    _blend(canvas, m, (dark, dark, dark), 0.92)
    return m > 0


def dent(canvas: np.ndarray, d: Defect) -> np.ndarray:
    """A shallow bowl lit from one side: a bright crescent facing the light, a shadow opposite."""
    rng = np.random.default_rng(d.seed)
    h, w = canvas.shape[:2]
    rx = d.size
    ry = d.size * rng.uniform(0.7, 1.0)
    r = int(np.ceil(max(rx, ry) * 1.3)) + 2
    x0, x1 = max(0, int(d.u) - r), min(w, int(d.u) + r + 1)
    y0, y1 = max(0, int(d.v) - r), min(h, int(d.v) + r + 1)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    c, s = np.cos(d.angle), np.sin(d.angle)
    px, py = (xx - d.u) * c + (yy - d.v) * s, -(xx - d.u) * s + (yy - d.v) * c
    nx, ny = px / rx, py / ry
    dist2 = nx * nx + ny * ny
    light = rng.uniform(0, 2 * np.pi)
    bowl = np.exp(-2.0 * dist2) * (dist2 < 1.3)
    shade = rng.uniform(70, 100) * (nx * np.cos(light) + ny * np.sin(light)) * bowl * 1.6
    shade -= rng.uniform(15, 30) * bowl  # the pit is a little darker overall
    canvas[y0:y1, x0:x1] += shade[..., None]
    np.clip(canvas, 0, 255, out=canvas)
    mask = np.zeros((h, w), bool)
    mask[y0:y1, x0:x1] = dist2 < 1.0
    return mask


def stain(canvas: np.ndarray, d: Defect) -> np.ndarray:
    """A soft irregular blob of oil, rust or dye: a colour change, no sharp edge."""
    rng = np.random.default_rng(d.seed)
    img = _mask_image(canvas.shape)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 8))):
        ang, rad = rng.uniform(0, 2 * np.pi), rng.uniform(0, d.size * 0.3)
        cx, cy = d.u + rad * np.cos(ang), d.v + rad * np.sin(ang)
        rr = rng.uniform(0.15, 0.3) * d.size
        draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=255)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.0)))
    m = np.asarray(img, np.float32) / 255
    color = [(45, 32, 18), (150, 72, 28), (40, 55, 120)][int(rng.integers(0, 3))]
    _blend(canvas, m, color, rng.uniform(0.6, 0.85))
    return m > 0.3


DRAWERS = {"scratch": scratch, "crack": crack, "dent": dent, "stain": stain}
