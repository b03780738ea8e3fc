/**
 * The review page's editing, without the DOM: a draft of boxes for one frame, changed by the
 * pointer (draw), the list (change class, delete) and the keyboard. Boxes are in image pixels.
 */
import type { ReviewInput } from '../../shared/domain/review.ts'

export type Box = [number, number, number, number]

export interface DraftBox {
  class: string
  box: Box
}

export interface Draft {
  verdict: 'pass' | 'fail'
  boxes: DraftBox[]
  /** Index of the selected box, or -1. */
  selected: number
}

/** Drawn boxes smaller than this (image pixels) are taken as a stray tap, not a box. */
export const MIN_BOX_PX = 3

/** The box spanned by two corners, in either order, clamped to the image. */
export function boxFrom(a: { x: number; y: number }, b: { x: number; y: number }, width: number, height: number): Box | null {
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v))
  const x1 = clamp(Math.min(a.x, b.x), width)
  const x2 = clamp(Math.max(a.x, b.x), width)
  const y1 = clamp(Math.min(a.y, b.y), height)
  const y2 = clamp(Math.max(a.y, b.y), height)
  if (x2 - x1 < MIN_BOX_PX || y2 - y1 < MIN_BOX_PX) return null
  const r = (v: number) => Math.round(v * 10) / 10
  return [r(x1), r(y1), r(x2), r(y2)]
}

export function addBox(d: Draft, b: DraftBox): Draft {
  return { ...d, boxes: [...d.boxes, b], selected: d.boxes.length }
}

export function deleteBox(d: Draft, i: number): Draft {
  if (i < 0 || i >= d.boxes.length) return d
  const boxes = d.boxes.filter((_, j) => j !== i)
  return { ...d, boxes, selected: Math.min(i, boxes.length - 1) }
}

export function setClass(d: Draft, i: number, cls: string): Draft {
  if (i < 0 || i >= d.boxes.length) return d
  return { ...d, boxes: d.boxes.map((b, j) => (j === i ? { ...b, class: cls } : b)) }
}

/** The body of `POST /api/v1/results/:frameId/review`. */
export function toReviewInput(d: Draft): ReviewInput {
  return { verdict: d.verdict, detections: d.boxes.map((b) => ({ class: b.class, box: b.box })) }
}

export type KeyAction =
  | { type: 'verdict'; verdict: 'pass' | 'fail' }
  | { type: 'delete' }
  | { type: 'class'; index: number }
  | { type: 'select'; by: 1 | -1 }
  | { type: 'frame'; by: 1 | -1 }
  | { type: 'save' }

/**
 * Keys: o / p = OK (pass), n / f = NG (fail), Delete / Backspace = delete the selected box,
 * 1-9 = the selected box's class (the model's class list, in order), Tab / Shift+Tab = next /
 * previous box, j / k or PageDown / PageUp = next / previous frame, Enter = save.
 */
export function keyAction(e: { key: string; shiftKey?: boolean }): KeyAction | null {
  switch (e.key) {
    case 'o':
    case 'p':
      return { type: 'verdict', verdict: 'pass' }
    case 'n':
    case 'f':
      return { type: 'verdict', verdict: 'fail' }
    case 'Delete':
    case 'Backspace':
      return { type: 'delete' }
    case 'Tab':
      return { type: 'select', by: e.shiftKey ? -1 : 1 }
    case 'j':
    case 'PageDown':
      return { type: 'frame', by: 1 }
    case 'k':
    case 'PageUp':
      return { type: 'frame', by: -1 }
    case 'Enter':
      return { type: 'save' }
  }
  if (/^[1-9]$/.test(e.key)) return { type: 'class', index: Number(e.key) - 1 }
  return null
}
