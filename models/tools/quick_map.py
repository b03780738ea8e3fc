"""mAP in Python, only to watch training. The published figure comes from the exported ONNX
through models/tools/evaluate.ts; both use COCO's 101-point interpolated AP."""
import numpy as np
import torch

from boxes import box_iou_matrix, nms

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def postprocess(pred: torch.Tensor, conf: float = 0.001, iou: float = 0.6, max_det: int = 300):
    """pred [4+nc, A] (cx, cy, w, h, scores) -> [k, 6] (x1, y1, x2, y2, score, cls)."""
    boxes = torch.cat([pred[:2] - pred[2:4] / 2, pred[:2] + pred[2:4] / 2]).t()
    score, cls = pred[4:].max(0)
    keep = score > conf
    boxes, score, cls = boxes[keep], score[keep], cls[keep]
    if len(score) > 3000:
        top = score.topk(3000).indices
        boxes, score, cls = boxes[top], score[top], cls[top]
    # Class-aware NMS by offsetting each class's boxes far apart.
    k = nms(boxes + cls[:, None].float() * 4096, score, iou)[:max_det] if len(score) else torch.zeros(0, dtype=torch.long)
    return torch.cat([boxes[k], score[k, None], cls[k, None].float()], 1)


def ap_101(recall: np.ndarray, precision: np.ndarray) -> float:
    mpre = np.concatenate([[1.0], precision, [0.0]])
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    x = np.linspace(0, 1, 101)
    return float(np.mean(np.interp(x, mrec, mpre, right=0)))  # right=0: precision 0 past max recall


def mean_ap(detections, ground_truth, nc: int):
    """detections: list of [k, 6]; ground_truth: list of [g, 5] (cls, x1, y1, x2, y2).
    Returns ap [nc, 10] (NaN for classes without ground truth)."""
    records = [[] for _ in range(nc)]  # (score, tp[10]) per class
    n_gt = np.zeros(nc, int)
    for det, gt in zip(detections, ground_truth):
        for c in range(nc):
            g = gt[gt[:, 0] == c, 1:]
            d = det[det[:, 5] == c]
            n_gt[c] += len(g)
            if not len(d):
                continue
            d = d[d[:, 4].argsort(descending=True)]
            ious = box_iou_matrix(d[:, :4], g).numpy() if len(g) else np.zeros((len(d), 0))
            tp = np.zeros((len(d), len(IOU_THRESHOLDS)), bool)
            for ti, thr in enumerate(IOU_THRESHOLDS):
                used = np.zeros(len(g), bool)
                for di in range(len(d)):
                    if not len(g):
                        break
                    cand = np.where(~used & (ious[di] >= thr), ious[di], -1)
                    j = int(cand.argmax())
                    if cand[j] >= thr:
                        used[j] = True
                        tp[di, ti] = True
            records[c] += list(zip(d[:, 4].tolist(), tp))
    ap = np.full((nc, len(IOU_THRESHOLDS)), np.nan)
    for c in range(nc):
        if n_gt[c] == 0:
            continue
        if not records[c]:
            ap[c] = 0
            continue
        recs = sorted(records[c], key=lambda r: -r[0])
        tp = np.array([r[1] for r in recs], float)
        ctp = np.cumsum(tp, 0)
        cfp = np.cumsum(1 - tp, 0)
        for ti in range(len(IOU_THRESHOLDS)):
            ap[c, ti] = ap_101(ctp[:, ti] / n_gt[c], ctp[:, ti] / (ctp[:, ti] + cfp[:, ti]))
    return ap
