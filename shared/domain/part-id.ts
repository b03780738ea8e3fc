/**
 * Part ids on their own, so the result schema can carry one without importing the part record
 * (which imports the result's detection schema).
 */
import { z } from 'zod'

/**
 * Part ids come from the PLC, a barcode or a per-station sequence: wider than `Id` (serial numbers
 * carry '/', '#', '+'), still printable ASCII without spaces so they stay safe in MQTT topics' payloads,
 * URLs (encoded) and CSV.
 */
export const PART_ID_PATTERN = /^[\x21-\x7e]{1,128}$/
export const PartId = z.string().regex(PART_ID_PATTERN, 'a part id: 1-128 printable ASCII characters, no spaces')

export function isPartId(value: unknown): value is string {
  return typeof value === 'string' && PART_ID_PATTERN.test(value)
}

/**
 * A station's own sequence, used when neither a trigger nor a printed code names the part: the
 * station's id and the time in base 36, with a counter for parts opened within the same ms,
 * so ids from the station and from the server never collide and sort by when they were made.
 */
export function sequencePartId(station: string, now: number, counter = 0): string {
  return `${station}-${now.toString(36)}${counter ? `.${counter}` : ''}`
}
