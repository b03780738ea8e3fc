import type { Detection } from './detection.ts'

/**
 * A part fails when any detection of a defect class survived its (per-class) threshold. The
 * decoder already applied the thresholds, so only the class matters here.
 */
export function verdictOf(detections: readonly Pick<Detection, 'class'>[], defectClasses: readonly string[]): 'pass' | 'fail' {
  return detections.some((d) => defectClasses.includes(d.class)) ? 'fail' : 'pass'
}
