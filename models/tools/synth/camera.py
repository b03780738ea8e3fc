"""What the camera adds: uneven lighting, exposure error, motion blur along the belt, sensor noise."""
import numpy as np

from .scene import Camera

# Drawing 0.9 M fresh normals per frame was a third of the render time; a fixed bank read at a
# seeded offset is as good for sensor noise and keeps every frame reproducible from its seed.
_NOISE_BANK = np.random.default_rng(20240607).standard_normal(1 << 22, dtype=np.float32)


def lighting(cam: Camera, h: int, w: int) -> np.ndarray:
    """Illumination gain map [h, w, 1] including exposure."""
    yn = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    xn = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    gain = 1 + cam.light_gx * xn + cam.light_gy * yn - cam.vignette * 2 * (xn * xn + yn * yn)
    return (gain * np.float32(cam.exposure))[..., None]


def motion_blur(img: np.ndarray, length: int) -> np.ndarray:
    """Horizontal box filter of `length` px (the belt moves along x), edges replicated."""
    if length <= 1:
        return img
    left = length // 2
    padded = np.pad(img, ((0, 0), (left, length - 1 - left), (0, 0)), mode="edge")
    w = img.shape[1]
    out = padded[:, 0:w].copy()
    for k in range(1, length):
        out += padded[:, k : k + w]
    out *= np.float32(1.0 / length)
    return out


def expose(radiance: np.ndarray, cam: Camera) -> np.ndarray:
    """Scene radiance (float 0..255 at nominal exposure) -> uint8 frame."""
    h, w, c = radiance.shape
    img = radiance * lighting(cam, h, w)
    img = motion_blur(img, cam.blur)
    n = h * w * c
    start = int(np.random.default_rng(cam.noise_seed).integers(0, _NOISE_BANK.size - n))
    img += _NOISE_BANK[start : start + n].reshape(h, w, c) * np.float32(cam.noise_sigma)
    img += np.float32(0.5)
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)
