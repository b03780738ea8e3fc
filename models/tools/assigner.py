"""Task-aligned assignment (the idea of TOOD / YOLOv8's TaskAlignedAssigner, written small).

For every ground-truth box, the anchors that may predict it are those whose cell centre lies in
the box or near its centre (within `radius` strides: a 10 px scratch covers no P3 cell centre at
all otherwise). Among those, the `topk` with the best alignment score^alpha * IoU^beta become
positives; an anchor claimed by two boxes goes to the one it overlaps most. The class target is
the alignment normalised per box, so well-localised predictions are trained to score higher.
"""
import torch

from boxes import box_iou_pairwise


class TaskAlignedAssigner:
    def __init__(self, topk: int = 10, alpha: float = 0.5, beta: float = 6.0, radius: float = 2.5, eps: float = 1e-9):
        self.topk, self.alpha, self.beta, self.radius, self.eps = topk, alpha, beta, radius, eps

    @torch.no_grad()
    def __call__(self, scores, pred_boxes, points, strides, gt_labels, gt_boxes, gt_mask):
        """scores [B,A,C] (sigmoid), pred_boxes [B,A,4], points [A,2], strides [A,1],
        gt_labels [B,M] long, gt_boxes [B,M,4], gt_mask [B,M] bool.
        Returns target_labels [B,A], target_boxes [B,A,4], target_scores [B,A,C], fg [B,A] bool."""
        B, A, C = scores.shape
        M = gt_boxes.shape[1]
        if M == 0:
            return (torch.zeros(B, A, dtype=torch.long), torch.zeros(B, A, 4), torch.zeros(B, A, C), torch.zeros(B, A, dtype=torch.bool))

        px, py = points[:, 0].view(1, 1, A), points[:, 1].view(1, 1, A)
        x1, y1, x2, y2 = (gt_boxes[..., i : i + 1] for i in range(4))  # [B,M,1]
        inside = (px > x1) & (px < x2) & (py > y1) & (py < y2)
        r = self.radius * strides.view(1, 1, A)
        near = ((px - (x1 + x2) / 2).abs() < r) & ((py - (y1 + y2) / 2).abs() < r)
        # A near-centre anchor must still lie within one stride of the box, so a huge P5 cell does
        # not claim a small defect it can barely see.
        s = strides.view(1, 1, A)
        near &= (px > x1 - s) & (px < x2 + s) & (py > y1 - s) & (py < y2 + s)
        cand = (inside | near) & gt_mask[..., None]  # [B,M,A]

        cls_score = scores.gather(2, gt_labels.clamp(min=0)[:, None, :].expand(B, A, M)).transpose(1, 2)  # [B,M,A]
        ious = box_iou_pairwise(gt_boxes[:, :, None, :], pred_boxes[:, None, :, :]).clamp(min=0)  # [B,M,A]
        align = cls_score.pow(self.alpha) * ious.pow(self.beta) * cand

        # Top-k candidates by alignment; a tiny bonus for candidates keeps the choice inside the
        # candidate set while predictions are still all-zero-IoU early in training.
        rank = align + cand.float() * 1e-12
        k = min(self.topk, A)
        top_val, top_idx = rank.topk(k, dim=-1)
        pos = torch.zeros_like(cand)
        pos.scatter_(-1, top_idx, top_val > 0)
        pos &= cand

        # Resolve anchors claimed by several boxes: the highest-IoU box wins.
        multi = pos.sum(1, keepdim=True) > 1  # [B,1,A]
        if multi.any():
            best = ious.masked_fill(~pos, -1).argmax(1, keepdim=True)  # [B,1,A]
            one = torch.zeros_like(pos).scatter_(1, best, True)
            pos = torch.where(multi, one & pos, pos)

        fg = pos.any(1)  # [B,A]
        gt_idx = pos.float().argmax(1)  # [B,A]
        target_labels = gt_labels.gather(1, gt_idx).clamp(min=0)
        target_boxes = gt_boxes.gather(1, gt_idx[..., None].expand(B, A, 4))

        align = align * pos
        max_align = align.amax(-1, keepdim=True)  # [B,M,1]
        max_iou = (ious * pos).amax(-1, keepdim=True)
        norm = (align * max_iou / (max_align + self.eps)).amax(1)  # [B,A]
        target_scores = torch.zeros(B, A, C)
        target_scores.scatter_(2, target_labels[..., None], 1.0)
        target_scores *= (norm * fg)[..., None]
        return target_labels, target_boxes, target_scores, fg
