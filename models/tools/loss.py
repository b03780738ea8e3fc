"""Detection loss: BCE on class scores against task-aligned soft targets, CIoU on boxes.
Gains follow YOLOv8 (box 7.5, cls 0.5) less its DFL term, which this head does not have."""
import torch
import torch.nn.functional as F

from assigner import TaskAlignedAssigner
from boxes import box_iou_pairwise
from detector_model import flatten, ltrb_to_xyxy, make_anchors


class DetectionLoss:
    def __init__(self, box_gain: float = 7.5, cls_gain: float = 0.5):
        self.box_gain, self.cls_gain = box_gain, cls_gain
        self.assigner = TaskAlignedAssigner()
        self._anchors = {}

    def anchors(self, h: int, w: int):
        if (h, w) not in self._anchors:
            self._anchors[(h, w)] = make_anchors(h, w)
        return self._anchors[(h, w)]

    def __call__(self, outs, gt_labels, gt_boxes, gt_mask, img_hw):
        points, strides = self.anchors(*img_hw)
        ltrb, logits = flatten(outs)
        pred_boxes = ltrb_to_xyxy(ltrb, points, strides)
        _, target_boxes, target_scores, fg = self.assigner(
            logits.detach().sigmoid(), pred_boxes.detach(), points, strides, gt_labels, gt_boxes, gt_mask
        )
        norm = target_scores.sum().clamp(min=1.0)
        loss_cls = F.binary_cross_entropy_with_logits(logits, target_scores, reduction="sum") / norm
        if fg.any():
            weight = target_scores.sum(-1)[fg]
            ciou = box_iou_pairwise(pred_boxes[fg], target_boxes[fg], ciou=True)
            loss_box = ((1.0 - ciou) * weight).sum() / norm
        else:
            loss_box = pred_boxes.sum() * 0.0
        total = self.box_gain * loss_box + self.cls_gain * loss_cls
        return total, {"box": float(loss_box), "cls": float(loss_cls)}
