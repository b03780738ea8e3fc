/**
 * The size of a JPEG or PNG, read from its first bytes in JavaScript, so the decode is the only
 * libvips call a frame costs (a separate `sharp().metadata()` was a second trip through libuv's
 * pool per frame: bench/FINDINGS.md, "Two sharp calls per frame").
 *
 * The size is the one `autoOrient()` produces: a JPEG whose EXIF orientation is 5 to 8 (rotated a
 * quarter turn) has its sides swapped. Anything this reader does not know for sure (WebP, a PNG
 * with its own EXIF chunk, a truncated or odd header) returns undefined and the caller asks libvips.
 */
import { iccFromApp2, isSrgbProfile } from './icc-profile.ts'

export interface HeaderSize {
  width: number
  height: number
  format: 'jpeg' | 'png'
  /** EXIF orientation, 1 (as stored) to 8; 1 for a PNG (one with an eXIf chunk is not read here). */
  orientation: number
  /** A JPEG's embedded ICC profile, when it has one: sRGB (browsers' canvas JPEGs) or another that needs converting. */
  profile?: 'srgb' | 'other'
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

export function sniffImageSize(b: Uint8Array): HeaderSize | undefined {
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) return jpegSize(b)
  if (PNG_SIGNATURE.every((x, i) => b[i] === x)) return pngSize(b)
  return undefined
}

function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!
}

function pngSize(b: Uint8Array): HeaderSize | undefined {
  // IHDR is always the first chunk; an eXIf chunk (orientation) may follow, which libvips honours
  if (b.length < 33 || String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') return undefined
  for (let o = 8; o + 8 <= b.length; ) {
    const len = u32be(b, o)
    const type = String.fromCharCode(b[o + 4]!, b[o + 5]!, b[o + 6]!, b[o + 7]!)
    if (type === 'eXIf') return undefined
    if (type === 'IDAT' || type === 'IEND') break
    o += 12 + len
  }
  const width = u32be(b, 16)
  const height = u32be(b, 20)
  return width > 0 && height > 0 ? { width, height, format: 'png', orientation: 1 } : undefined
}

/** SOF markers carry the frame size: C0..CF except DHT (C4), JPG (C8) and DAC (CC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
}

function jpegSize(b: Uint8Array): HeaderSize | undefined {
  let orientation = 1
  let profile: HeaderSize['profile']
  let o = 2
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return undefined
    const marker = b[o + 1]!
    if (marker === 0xff) {
      o++ // fill byte
      continue
    }
    // standalone markers have no length
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      o += 2
      continue
    }
    if (marker === 0xd9 || marker === 0xda) return undefined // image data before any SOF
    const len = u16be(b, o + 2)
    if (len < 2 || o + 2 + len > b.length) return undefined
    if (marker === 0xe1) {
      const found = exifOrientation(b, o + 4, o + 2 + len)
      if (found === undefined) return undefined
      orientation = found
    }
    if (marker === 0xe2) {
      const icc = iccFromApp2(b, o + 4, o + 2 + len)
      if (icc) profile = profile === undefined && icc.complete && isSrgbProfile(icc.profile) ? 'srgb' : 'other'
    }
    if (isSof(marker)) {
      if (len < 7) return undefined
      const height = u16be(b, o + 5)
      const width = u16be(b, o + 7)
      if (!(width > 0 && height > 0)) return undefined
      const size = orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height }
      return { ...size, format: 'jpeg', orientation, ...(profile && { profile }) }
    }
    o += 2 + len
  }
  return undefined
}

/**
 * The orientation tag (0x0112) of IFD0 in an APP1 segment [start, end): 1 when the segment is not
 * EXIF (XMP) or has no tag, undefined when it is EXIF but unreadable (let libvips decide).
 */
function exifOrientation(b: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 14 || String.fromCharCode(b[start]!, b[start + 1]!, b[start + 2]!, b[start + 3]!) !== 'Exif') return 1
  const t = start + 6
  const little = b[t] === 0x49 && b[t + 1] === 0x49
  if (!little && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return undefined
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const ifd = t + view.getUint32(t + 4, little)
  if (ifd + 2 > end) return undefined
  const count = view.getUint16(ifd, little)
  if (ifd + 2 + count * 12 > end) return undefined
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12
    if (view.getUint16(e, little) === 0x0112) {
      const v = view.getUint16(e + 8, little)
      return v >= 1 && v <= 8 ? v : undefined
    }
  }
  return 1
}
