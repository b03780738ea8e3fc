/**
 * Box colours by class id: saturated, distinct on dark backgrounds and on camera images, and
 * readable with black label text. The client does not know which classes are defects (that is the
 * model's manifest), so colour only separates classes; the verdict says pass or fail.
 */
const PALETTE = ['#4ade80', '#f87171', '#facc15', '#60a5fa', '#f472b6', '#fb923c', '#2dd4bf', '#c084fc', '#a3e635', '#e5e7eb']

export function classColor(classId: number): string {
  return PALETTE[((classId % PALETTE.length) + PALETTE.length) % PALETTE.length]!
}
