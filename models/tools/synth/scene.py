"""What a frame shows, as plain parameters: sampling them is separate from drawing them so that
calibration can re-render the same scene with one thing changed (noise, position, blur)."""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

CLASSES = ["part", "scratch", "dent", "stain", "crack"]
DEFECTS = CLASSES[1:]
WIDTH, HEIGHT = 640, 480


@dataclass
class Defect:
    kind: str  # one of DEFECTS
    u: float  # centre in the part's own frame (pixels, before rotation)
    v: float
    size: float  # scratch/crack length, dent radius, stain diameter
    angle: float  # radians, orientation in the part frame
    seed: int  # shape details (bend, walk, blobs), drawn from their own generator


@dataclass
class Part:
    kind: str  # "plate" (machined metal) or "pcb"
    width: int
    height: int
    cx: float  # centre in the frame
    cy: float
    rotation: float  # degrees, counter-clockwise as PIL's Image.rotate
    texture_seed: int
    defects: List[Defect] = field(default_factory=list)


@dataclass
class Camera:
    exposure: float  # global gain; > 1.4 over-exposed, < 0.6 under-exposed
    light_gx: float  # linear illumination gradient across x and y
    light_gy: float
    vignette: float
    blur: int  # horizontal motion blur length in pixels (belt motion); <= 1 means none
    noise_sigma: float  # sensor noise, 0..255 scale
    noise_seed: int


@dataclass
class Scene:
    seed: int
    belt_seed: int
    part: Optional[Part]
    camera: Camera


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def sample_camera(rng: np.random.Generator) -> Camera:
    r = rng.random()
    if r < 0.08:
        exposure = rng.uniform(1.5, 2.0)
    elif r < 0.16:
        exposure = rng.uniform(0.35, 0.55)
    else:
        exposure = rng.uniform(0.8, 1.2)
    blur = int(rng.integers(7, 14)) if rng.random() < 0.15 else int(rng.integers(0, 4))
    return Camera(
        exposure=float(exposure), light_gx=float(rng.uniform(-0.35, 0.35)), light_gy=float(rng.uniform(-0.25, 0.25)),
        vignette=float(rng.uniform(0.0, 0.35)), blur=blur, noise_sigma=float(rng.uniform(1.5, 6.0)), noise_seed=_seed(rng),
    )


def _overlaps(box, boxes, margin: float) -> bool:
    x1, y1, x2, y2 = box
    return any(x1 < b[2] + margin and b[0] < x2 + margin and y1 < b[3] + margin and b[1] < y2 + margin for b in boxes)


def defect_extent(d: Defect) -> Tuple[float, float, float, float]:
    """Conservative box of a defect in the part frame, used only to keep defects apart."""
    r = d.size / 2 + 6 if d.kind in ("scratch", "crack") else d.size + 4
    if d.kind == "stain":
        r = d.size / 2 + 6
    return d.u - r, d.v - r, d.u + r, d.v + r


def sample_defects(rng: np.random.Generator, w: int, h: int, keep_out: List[Tuple[float, float, float, float]]) -> List[Defect]:
    n = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.3, 0.2, 0.15]))
    placed: List[Defect] = []
    boxes = list(keep_out)
    for _ in range(n):
        kind = DEFECTS[int(rng.integers(0, len(DEFECTS)))]
        size = {"scratch": rng.uniform(35, 120), "crack": rng.uniform(30, 90), "dent": rng.uniform(9, 20), "stain": rng.uniform(18, 50)}[kind]
        for _try in range(30):
            d = Defect(kind, float(rng.uniform(0, w)), float(rng.uniform(0, h)), float(size), float(rng.uniform(0, np.pi)), _seed(rng))
            box = defect_extent(d)
            inside = box[0] > 10 and box[1] > 10 and box[2] < w - 10 and box[3] < h - 10
            if inside and not _overlaps(box, boxes, 4):
                placed.append(d)
                boxes.append(box)
                break
    return placed


def sample_scene(seed: int) -> Scene:
    """Every random choice of one frame, from its seed alone."""
    rng = np.random.default_rng(seed)
    belt_seed = _seed(rng)
    camera = sample_camera(rng)
    if rng.random() < 0.10:  # empty belt between parts
        return Scene(seed, belt_seed, None, camera)
    kind = "plate" if rng.random() < 0.65 else "pcb"
    pw, ph = int(rng.uniform(200, 340)), int(rng.uniform(140, 240))
    rotation = float(rng.uniform(-12, 12))
    cx = float(WIDTH / 2 + rng.uniform(-90, 90))
    cy = float(HEIGHT / 2 + rng.uniform(-35, 35))
    part = Part(kind, pw, ph, cx, cy, rotation, _seed(rng))
    if rng.random() >= 0.15:  # the rest are defect-free parts
        from .parts import keep_out_regions  # holes and chips depend on the texture seed only

        part.defects = sample_defects(rng, pw, ph, keep_out_regions(part))
    return Scene(seed, belt_seed, part, camera)
