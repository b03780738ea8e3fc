"""Pick and render the sample frames in models/samples/ from held-out (test-split) seeds.

    python3 models/tools/make_samples.py --out models/samples --seed 7

One frame per case: each defect class, a clean part, an empty belt, an over-exposed and a
motion-blurred frame. Writes <name>.jpg (640x480, quality 90), <name>.txt (YOLO labels) and
samples.json (file, seed, ground-truth boxes in pixels with class names).
"""
import argparse
import json
import os
import sys

from PIL import Image

from dataset import image_seed, yolo_line
from synth.render import render
from synth.scene import CLASSES, sample_scene

NORMAL = lambda s: 0.8 <= s.camera.exposure <= 1.2 and s.camera.blur <= 2


def has(kind):
    return lambda s: s.part is not None and NORMAL(s) and kind in [d.kind for d in s.part.defects] and len(s.part.defects) >= 2


CASES = [
    ("scratch", has("scratch")),
    ("dent", has("dent")),
    ("stain", has("stain")),
    ("crack", has("crack")),
    ("clean-part", lambda s: s.part is not None and not s.part.defects and NORMAL(s)),
    ("empty-belt", lambda s: s.part is None and NORMAL(s)),
    ("overexposed", lambda s: s.part is not None and s.part.defects and s.camera.exposure > 1.5 and s.camera.blur <= 2),
    ("motion-blur", lambda s: s.part is not None and s.part.defects and s.camera.blur >= 9 and 0.8 <= s.camera.exposure <= 1.2),
]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="models/samples")
    p.add_argument("--seed", type=int, default=7, help="base seed of the dataset (samples come from its test split)")
    p.add_argument("--start", type=int, default=900_000, help="first test index scanned (beyond the evaluated test images)")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    entries, used = [], set()
    for name, wanted in CASES:
        i = args.start
        while True:
            seed = image_seed(args.seed, "test", i)
            scene = sample_scene(seed)
            if seed not in used and wanted(scene):
                frame, labels = render(scene)
                names = [CLASSES[lab[0]] for lab in labels]
                # The case's class must survive the visibility check (over-exposure may drop it).
                if name not in CLASSES or name in names:
                    break
            i += 1
        used.add(seed)
        Image.fromarray(frame).save(os.path.join(args.out, f"{name}.jpg"), quality=90)
        with open(os.path.join(args.out, f"{name}.txt"), "w") as f:
            f.write("".join(yolo_line(*lab) + "\n" for lab in labels))
        entries.append({
            "file": f"{name}.jpg", "labels": f"{name}.txt", "seed": seed, "split": "test", "index": i, "case": name,
            "width": frame.shape[1], "height": frame.shape[0],
            "exposure": round(scene.camera.exposure, 3), "motionBlurPx": scene.camera.blur,
            "boxes": [{"class": CLASSES[c], "box": [round(v, 1) for v in (x1, y1, x2, y2)]} for c, x1, y1, x2, y2 in labels],
        })
        print(f"{name}: seed {seed}, {len(labels)} boxes")
    doc = {
        "description": "Held-out synthetic frames (test-split seeds, re-rendered by models/tools/make_samples.py); boxes are [x1, y1, x2, y2] in pixels",
        "classes": CLASSES, "samples": entries,
    }
    with open(os.path.join(args.out, "samples.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
