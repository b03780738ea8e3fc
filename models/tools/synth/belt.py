"""The conveyor belt behind the part: rubber or PVC with grain, cross ribs and side rails."""
import numpy as np

from .noise import smooth_noise
from .scene import HEIGHT, WIDTH


def draw_belt(seed: int) -> np.ndarray:
    """float32 [HEIGHT, WIDTH, 3], 0..255."""
    rng = np.random.default_rng(seed)
    h, w = HEIGHT, WIDTH
    if rng.random() < 0.7:  # black rubber
        color = np.full(3, rng.uniform(45, 95), np.float32) + rng.uniform(-4, 4, 3).astype(np.float32)
    else:  # green or blue PVC
        color = np.array([(60, 95, 70), (55, 75, 115)][int(rng.integers(0, 2))], np.float32) * rng.uniform(0.8, 1.2)
    grain = smooth_noise(rng, h, w, h // 4, w // 4) * rng.uniform(3, 8)
    blotch = smooth_noise(rng, h, w, 4, 6) * rng.uniform(3, 9)
    # Cross ribs perpendicular to the travel direction (x): thin bright periodic lines.
    x = np.arange(w, dtype=np.float32)
    ribs = rng.uniform(4, 14) * np.cos(2 * np.pi * x / rng.uniform(14, 36) + rng.uniform(0, 6.3)) ** 8
    img = color + (grain + blotch + ribs[None, :])[..., None]
    for top in (True, False):  # guide rails along both belt edges
        rail = int(rng.uniform(0, 45))
        if rail == 0:
            continue
        metal = rng.uniform(110, 170) + smooth_noise(rng, rail, w, rail, 6) * 6
        rows = slice(0, rail) if top else slice(h - rail, h)
        img[rows] = metal[..., None]
    return img
