import { describe, expect, it } from 'vitest'
import { ReviewInputSchema } from '../../shared/domain/review.ts'
import { addBox, boxFrom, deleteBox, keyAction, setClass, toReviewInput, type Draft } from './edits.ts'

const draft: Draft = { verdict: 'pass', boxes: [{ class: 'part', box: [10, 10, 100, 100] }], selected: -1 }

describe('review edits', () => {
  it('draws a box from corners in any order, clamped to the image', () => {
    expect(boxFrom({ x: 50, y: 40 }, { x: 10, y: 5 }, 640, 480)).toEqual([10, 5, 50, 40])
    expect(boxFrom({ x: -20, y: 470 }, { x: 30, y: 900 }, 640, 480)).toEqual([0, 470, 30, 480])
  })

  it('takes a tap, not a drag, as no box', () => {
    expect(boxFrom({ x: 10, y: 10 }, { x: 11, y: 12 }, 640, 480)).toBeNull()
  })

  it('adds, reclassifies and deletes boxes, keeping a valid selection', () => {
    let d = addBox(draft, { class: 'crack', box: [1, 1, 9, 9] })
    expect(d.selected).toBe(1)
    d = setClass(d, 1, 'dent')
    expect(d.boxes[1]).toEqual({ class: 'dent', box: [1, 1, 9, 9] })
    d = deleteBox(d, 1)
    expect(d.boxes).toEqual(draft.boxes)
    expect(d.selected).toBe(0)
    expect(deleteBox(d, 5)).toBe(d)
  })

  it('makes a body the server schema accepts', () => {
    expect(ReviewInputSchema.safeParse(toReviewInput({ ...draft, verdict: 'fail' })).success).toBe(true)
  })

  it('maps keys to actions and ignores others', () => {
    expect(keyAction({ key: 'n' })).toEqual({ type: 'verdict', verdict: 'fail' })
    expect(keyAction({ key: '3' })).toEqual({ type: 'class', index: 2 })
    expect(keyAction({ key: 'Tab', shiftKey: true })).toEqual({ type: 'select', by: -1 })
    expect(keyAction({ key: '0' })).toBeNull()
    expect(keyAction({ key: 'x' })).toBeNull()
  })
})
