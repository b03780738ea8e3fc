/**
 * What an upload or an archive entry is, from its first bytes: names and the client's
 * `filetype` are labels and decide nothing.
 */
export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp'
export type UploadKind = 'image' | 'zip' | 'tar' | 'tar.gz'

/** Enough bytes for every signature below (tar's magic sits at 257). */
export const SNIFF_BYTES = 512

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v)
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0))

export function imageType(b: Uint8Array): ImageType | null {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)) return 'image/webp'
  return null
}

export function uploadKind(b: Uint8Array): UploadKind | null {
  if (imageType(b)) return 'image'
  // a local file header, or the end record of an empty archive
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06])) return 'zip'
  if (startsWith(b, [0x1f, 0x8b])) return 'tar.gz'
  // POSIX ustar and GNU tar both put "ustar" at 257
  if (startsWith(b, ascii('ustar'), 257)) return 'tar'
  return null
}
