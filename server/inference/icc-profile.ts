/**
 * Does an embedded ICC profile describe sRGB? Browsers embed one in every canvas JPEG (Chromium:
 * Skia's 456-byte sRGB profile), and libvips' colour conversion from sRGB to sRGB changes no pixel,
 * so such a frame can skip libvips (preprocess.ts). "sRGB" here is colorimetric, not a name: red,
 * green and blue primaries within 0.002 of sRGB's (as every ICC profile stores them, adapted to
 * D50) and a tone curve within 0.01 of sRGB's at mid grey. Anything this reader cannot follow
 * (a profile split over several APP2 segments, an unknown curve type) is not sRGB, and libvips
 * converts it as before.
 */

/** sRGB's primaries adapted to D50 (IEC 61966-2-1 through the Bradford transform), X Y Z. */
const SRGB_PRIMARIES: Record<'rXYZ' | 'gXYZ' | 'bXYZ', [number, number, number]> = {
  rXYZ: [0.4361, 0.2225, 0.0139],
  gXYZ: [0.3851, 0.7169, 0.0971],
  bXYZ: [0.1431, 0.0606, 0.7141],
}
const PRIMARY_TOLERANCE = 0.002
/** sRGB's transfer function at 0.5: ((0.5 + 0.055) / 1.055) ^ 2.4. */
const SRGB_MID = 0.21404
const MID_TOLERANCE = 0.01

/** The profile carried by one JPEG APP2 segment's payload (after the marker and length), or undefined. */
export function iccFromApp2(b: Uint8Array, start: number, end: number): { profile: Uint8Array; complete: boolean } | undefined {
  if (end - start < 14 || String.fromCharCode(...b.subarray(start, start + 12)) !== 'ICC_PROFILE\0') return undefined
  // bytes 12 and 13: this chunk's number and the chunk count; a profile over 64 KB is split
  return { profile: b.subarray(start + 14, end), complete: b[start + 12] === 1 && b[start + 13] === 1 }
}

export function isSrgbProfile(p: Uint8Array): boolean {
  if (p.length < 132) return false
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength)
  if (tag4(p, 16) !== 'RGB ' || tag4(p, 36) !== 'acsp') return false
  const count = view.getUint32(128)
  if (132 + count * 12 > p.length) return false
  const tags = new Map<string, { offset: number; size: number }>()
  for (let i = 0; i < count; i++) {
    const o = 132 + i * 12
    const offset = view.getUint32(o + 4)
    const size = view.getUint32(o + 8)
    if (offset + size > p.length) return false
    tags.set(tag4(p, o), { offset, size })
  }
  for (const [sig, want] of Object.entries(SRGB_PRIMARIES)) {
    const t = tags.get(sig)
    if (!t || t.size < 20 || tag4(p, t.offset) !== 'XYZ ') return false
    for (let k = 0; k < 3; k++) {
      if (Math.abs(view.getInt32(t.offset + 8 + 4 * k) / 65536 - want[k]!) > PRIMARY_TOLERANCE) return false
    }
  }
  for (const sig of ['rTRC', 'gTRC', 'bTRC']) {
    const t = tags.get(sig)
    const mid = t && curveAt(view, t.offset, t.size, 0.5)
    if (mid === undefined || Math.abs(mid - SRGB_MID) > MID_TOLERANCE) return false
  }
  return true
}

function tag4(p: Uint8Array, o: number): string {
  return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!)
}

/** A tone curve ('curv' table or gamma, 'para' function types 0 to 4) evaluated at x in 0..1. */
function curveAt(view: DataView, offset: number, size: number, x: number): number | undefined {
  const type = String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3))
  if (type === 'curv') {
    const n = view.getUint32(offset + 8)
    if (size < 12 + 2 * n) return undefined
    if (n === 0) return x // identity: a linear profile
    if (n === 1) return x ** (view.getUint16(offset + 12) / 256)
    const at = x * (n - 1)
    const i = Math.floor(at)
    const a = view.getUint16(offset + 12 + 2 * i) / 65535
    const b = view.getUint16(offset + 12 + 2 * Math.min(n - 1, i + 1)) / 65535
    return a + (b - a) * (at - i)
  }
  if (type === 'para') {
    const fn = view.getUint16(offset + 8)
    const counts = [1, 3, 4, 5, 7]
    if (fn > 4 || size < 12 + 4 * counts[fn]!) return undefined
    const [g, a = 1, b = 0, c = 0, d = 0, e = 0, f = 0] = Array.from({ length: counts[fn]! }, (_, k) => view.getInt32(offset + 12 + 4 * k) / 65536)
    switch (fn) {
      case 0:
        return x ** g!
      case 1:
        return x >= -b / a ? (a * x + b) ** g! : 0
      case 2:
        return x >= -b / a ? (a * x + b) ** g! + c : c
      case 3:
        return x >= d ? (a * x + b) ** g! : c * x
      default:
        return x >= d ? (a * x + b) ** g! + e : c * x + f
    }
  }
  return undefined
}
