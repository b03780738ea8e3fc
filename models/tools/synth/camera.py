"""What the camera adds: uneven lighting, exposure error, motion blur along the belt, sensor noise."""
import numpy as np

from .scene import Camera


def lighting(cam: Camera, h: int, w: int) -> np.ndarray:
    """Illumination gain map [h, w, 1] including exposure."""
    yn = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    xn = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    gain = 1 + cam.light_gx * xn + cam.light_gy * yn - cam.vignette * 2 * (xn * xn + yn * yn)
    return (gain * cam.exposure)[..., None]


def motion_blur(img: np.ndarray, length: int) -> np.ndarray:
    """Horizontal box filter (the belt moves along x) via a running sum, edges replicated."""
    if length <= 1:
        return img
    left, right = length // 2, length - 1 - length // 2
    padded = np.pad(img, ((0, 0), (left + 1, right), (0, 0)), mode="edge")
    c = np.cumsum(padded, axis=1, dtype=np.float32)
    return (c[:, length:] - c[:, :-length]) / length


def expose(radiance: np.ndarray, cam: Camera) -> np.ndarray:
    """Scene radiance (float 0..255 at nominal exposure) -> uint8 frame."""
    h, w = radiance.shape[:2]
    img = radiance * lighting(cam, h, w)
    img = motion_blur(img, cam.blur)
    rng = np.random.default_rng(cam.noise_seed)
    img = img + rng.standard_normal(img.shape, dtype=np.float32) * cam.noise_sigma
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
