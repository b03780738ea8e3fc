"""Cheap procedural noise: a few random values upsampled bicubically.

Upsampling a coarse random grid gives smooth, band-limited variation at the grid's scale in
one PIL call, far faster than filtering a full-size noise image in numpy.
"""
import numpy as np
from PIL import Image


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells_y: int, cells_x: int) -> np.ndarray:
    """float32 [h, w], roughly unit variance, features about h/cells_y by w/cells_x pixels."""
    coarse = rng.standard_normal((max(cells_y, 2), max(cells_x, 2))).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, mode="F").resize((w, h), Image.BICUBIC), dtype=np.float32)
