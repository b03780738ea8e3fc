"""Tiny random-weight networks with the output layouts of other model families, for the
"bring your own model" tests. Their weights are meaningless; their tensors' names, shapes and
metadata are what Ultralytics and friends write."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from detector_model import Detector

COCO = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
]
TINY = {"width": (4, 8, 8, 8, 8), "head_hidden": (8, 8, 8)}


def yolov8(nc: int) -> Detector:
    """[N, 4+nc, A] like YOLOv8/YOLO11 (our own detector head, shrunk)."""
    return Detector(nc=nc, **TINY)


class Yolov5(nn.Module):
    """[N, A, 5+nc] like YOLOv5's Detect in export mode: 3 anchors per cell, objectness, sigmoid
    scores, boxes as cx, cy, w, h in input pixels; levels P3..P5, per level (anchor, y, x) order."""

    ANCHORS = ((10, 13, 16, 30, 33, 23), (30, 61, 62, 45, 59, 119), (116, 90, 156, 198, 373, 326))
    STRIDES = (8, 16, 32)

    def __init__(self, nc: int):
        super().__init__()
        self.nc, self.no = nc, nc + 5
        self.backbone = nn.ModuleList([nn.Conv2d(3, 8, 3, 8, 1), nn.Conv2d(8, 8, 3, 2, 1), nn.Conv2d(8, 8, 3, 2, 1)])
        self.heads = nn.ModuleList([nn.Conv2d(8, 3 * self.no, 1) for _ in range(3)])

    def forward(self, x):
        outs = []
        for i, (conv, head) in enumerate(zip(self.backbone, self.heads)):
            x = F.relu(conv(x))
            n, _, h, w = x.shape
            y = head(x).view(n, 3, self.no, h, w).permute(0, 1, 3, 4, 2).sigmoid()
            gy, gx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
            grid = torch.stack([gx, gy], -1).view(1, 1, h, w, 2)
            anchor = torch.tensor(self.ANCHORS[i], dtype=torch.float32).view(1, 3, 1, 1, 2)
            xy = (y[..., :2] * 2 - 0.5 + grid) * self.STRIDES[i]
            wh = (y[..., 2:4] * 2) ** 2 * anchor
            outs.append(torch.cat([xy, wh, y[..., 4:]], -1).view(n, -1, self.no))
        return torch.cat(outs, 1)


class End2End(nn.Module):
    """[N, 300, 6] = x1, y1, x2, y2, score, class, best first, as YOLOv10/YOLO26 NMS-free exports
    write it: top-k over every (anchor, class) score of a one-to-one head, no NMS."""

    def __init__(self, nc: int, k: int = 300):
        super().__init__()
        self.det, self.k, self.nc = yolov8(nc), k, nc
        self.det.export_mode = True

    def forward(self, x):
        y = self.det(x)  # [N, 4+nc, A]
        boxes = torch.cat([y[:, :2] - y[:, 2:4] / 2, y[:, :2] + y[:, 2:4] / 2], 1).transpose(1, 2)  # [N, A, 4]
        scores = y[:, 4:].transpose(1, 2).flatten(1)  # [N, A*nc]
        top, idx = scores.topk(self.k, 1)
        anchor, cls = idx // self.nc, idx % self.nc
        picked = boxes.gather(1, anchor[..., None].expand(-1, -1, 4))
        return torch.cat([picked, top[..., None], cls[..., None].float()], -1)


class Classifier(nn.Module):
    """An image classifier [N, 3, 224, 224] -> [N, 1000]: a valid ONNX model that is no detector."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 7, 4, 3)
        self.fc = nn.Linear(8, 1000)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1).flatten(1))
