"""The default defect detector: a tiny anchor-free YOLOv8-style network.

Sized for the platform's budget (about 0.3 M parameters, <= ~3 ms per 320x320 frame on two
CPU cores in onnxruntime), so it downsamples early: almost all compute sits at strides 8..32,
where the three detection heads read. ReLU instead of SiLU because onnxruntime fuses Conv+ReLU
into one kernel (SiLU costs two extra passes over every feature map).

Its exported output is exactly Ultralytics' detect head after `_inference`:
[N, 4 + nc, A] = (cx, cy, w, h in input pixels, sigmoid class scores), A = 40*40 + 20*20 + 10*10.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)


class ConvBnRelu(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int = 3, s: int = 1):
        super().__init__(
            nn.Conv2d(cin, cout, k, s, k // 2, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class Residual(nn.Module):
    """Two 3x3 convs with a skip; the skip keeps gradients healthy in a net this thin."""

    def __init__(self, c: int):
        super().__init__()
        self.a = ConvBnRelu(c, c)
        self.b = ConvBnRelu(c, c)

    def forward(self, x):
        return x + self.b(self.a(x))


class Head(nn.Module):
    """Per level: separate box and class branches (decoupled, as YOLOv8), no DFL."""

    def __init__(self, c: int, nc: int, hidden: int):
        super().__init__()
        self.box = nn.Sequential(ConvBnRelu(c, hidden), nn.Conv2d(hidden, 4, 1))
        self.cls = nn.Sequential(ConvBnRelu(c, hidden), nn.Conv2d(hidden, nc, 1))

    def forward(self, x):
        return self.box(x), self.cls(x)


class Detector(nn.Module):
    def __init__(self, nc: int = 5, width=(12, 24, 32, 64, 96), head_hidden=(32, 48, 64)):
        super().__init__()
        c1, c2, c3, c4, c5 = width
        self.nc = nc
        self.stem = nn.Sequential(ConvBnRelu(3, c1, s=2), ConvBnRelu(c1, c2, s=2))  # stride 4
        self.p3 = nn.Sequential(ConvBnRelu(c2, c3, s=2), Residual(c3))  # stride 8
        self.p4 = nn.Sequential(ConvBnRelu(c3, c4, s=2), Residual(c4))  # stride 16
        self.p5 = nn.Sequential(ConvBnRelu(c4, c5, s=2), Residual(c5))  # stride 32
        # Top-down path: small defects on P3 need context (is this on a part?) from deeper levels.
        self.lat5 = nn.Conv2d(c5, c4, 1)
        self.lat4 = nn.Conv2d(c4, c3, 1)
        self.heads = nn.ModuleList([Head(c3, nc, head_hidden[0]), Head(c4, nc, head_hidden[1]), Head(c5, nc, head_hidden[2])])
        self.export_mode = False
        # Fixed input size of the export: anchors become constants instead of Shape/Range ops.
        self.export_hw = None
        self._init_bias()

    def _init_bias(self):
        # Start class scores near the prior of a rare positive (as YOLOv8's bias_init) so early
        # BCE is not swamped by the thousands of background cells.
        for h, s in zip(self.heads, STRIDES):
            nn.init.constant_(h.cls[-1].bias, -4.6 - 0.0 * s)
            nn.init.constant_(h.box[-1].bias, 1.0)

    def features(self, x):
        x = self.stem(x)
        f3 = self.p3(x)
        f4 = self.p4(f3)
        f5 = self.p5(f4)
        f4 = f4 + F.interpolate(self.lat5(f5), scale_factor=2.0, mode="nearest")
        f3 = f3 + F.interpolate(self.lat4(f4), scale_factor=2.0, mode="nearest")
        return f3, f4, f5

    def forward(self, x):
        """Training: list of (ltrb distances in stride units [N,4,H,W], class logits [N,nc,H,W]).
        Export: the decoded Ultralytics tensor [N, 4+nc, A]."""
        outs = []
        for f, head in zip(self.features(x), self.heads):
            box, cls = head(f)
            outs.append((F.softplus(box), cls))
        if not self.export_mode:
            return outs
        h, w = self.export_hw or (x.shape[2], x.shape[3])
        return decode(outs, h, w)


def make_anchors(h: int, w: int, device=None):
    """Cell centres (in input pixels) and strides for every anchor, P3 first, row-major."""
    points, strides = [], []
    for s in STRIDES:
        gh, gw = h // s, w // s
        ys = (torch.arange(gh, device=device, dtype=torch.float32) + 0.5) * s
        xs = (torch.arange(gw, device=device, dtype=torch.float32) + 0.5) * s
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        points.append(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1))
        strides.append(torch.full((gh * gw, 1), float(s), device=device))
    return torch.cat(points), torch.cat(strides)


def flatten(outs):
    """[(box, cls)] per level -> ltrb [N, A, 4] (stride units), logits [N, A, nc]."""
    ltrb = torch.cat([b.flatten(2) for b, _ in outs], 2).transpose(1, 2)
    logits = torch.cat([c.flatten(2) for _, c in outs], 2).transpose(1, 2)
    return ltrb, logits


def ltrb_to_xyxy(ltrb, points, strides):
    d = ltrb * strides
    return torch.cat([points - d[..., :2], points + d[..., 2:]], -1)


def decode(outs, h: int, w: int):
    # Anchors are baked in as constants: the export has a fixed 320x320 input, only batch varies.
    points, strides = make_anchors(h, w)
    ltrb = torch.cat([b.flatten(2) for b, _ in outs], 2)  # [N, 4, A]
    logits = torch.cat([c.flatten(2) for _, c in outs], 2)  # [N, nc, A]
    pts, st = points.t().unsqueeze(0), strides.t().unsqueeze(0)  # [1, 2, A], [1, 1, A]
    lt, rb = ltrb[:, :2] * st, ltrb[:, 2:] * st
    x1y1, x2y2 = pts - lt, pts + rb
    return torch.cat([(x1y1 + x2y2) / 2, x2y2 - x1y1, logits.sigmoid()], 1)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
