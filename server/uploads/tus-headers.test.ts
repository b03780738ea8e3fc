import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { HttpError } from '../errors.ts'
import { checkTusResumable, labelOf, parseChecksum, parseCount, parseMetadata } from './tus-headers.ts'

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof HttpError) return `${err.status} ${err.code}`
    throw err
  }
  return 'no error'
}

describe('Upload-Metadata', () => {
  it('decodes base64 values and keys without a value', () => {
    const m = parseMetadata(`filename ${b64('parts/a ü.jpg')},line ${b64('L1')},is_confidential`)
    expect({ ...m }).toEqual({ filename: 'parts/a ü.jpg', line: 'L1', is_confidential: '' })
  })

  it.each([
    ['a repeated key', `line ${b64('L1')},line ${b64('L2')}`],
    ['a value that is not base64', 'line L1!'],
    ['a key with a space-separated third part', `line ${b64('L1')} extra`],
    ['a value that is not UTF-8', `line ${Buffer.from([0xff, 0xfe]).toString('base64')}`],
    ['an oversized value', `filename ${b64('x'.repeat(2000))}`],
    ['too many pairs', Array.from({ length: 40 }, (_, i) => `k${i} ${b64('v')}`).join(',')],
  ])('refuses %s with 400', (_name, header) => {
    expect(codeOf(() => parseMetadata(header))).toBe('400 bad_metadata')
  })

  it('does not let a key named like an Object prototype property through as inherited', () => {
    const m = parseMetadata(`__proto__ ${b64('x')}`)
    expect(Object.getPrototypeOf(m)).toBeNull()
    expect(m.__proto__).toBe('x')
  })
})

describe('Upload-Checksum', () => {
  it('parses a sha256 digest', () => {
    const digest = createHash('sha256').update('abc').digest()
    expect(parseChecksum(`sha256 ${digest.toString('base64')}`)?.digest.equals(digest)).toBe(true)
  })

  it('refuses an algorithm it does not offer and a digest of the wrong size', () => {
    expect(codeOf(() => parseChecksum(`md5 ${Buffer.alloc(16).toString('base64')}`))).toBe('400 unsupported_checksum')
    expect(codeOf(() => parseChecksum(`sha256 ${Buffer.alloc(16).toString('base64')}`))).toBe('400 bad_checksum')
  })
})

describe('counts and versions', () => {
  it.each(['-1', '1.5', '0x10', '', '99999999999999999'])('refuses the count %j', (v) => {
    expect(codeOf(() => parseCount(v, 'Upload-Offset'))).toBe('400 bad_upload_offset')
  })

  it('answers a missing or other Tus-Resumable with 412 and the version it speaks', () => {
    expect(codeOf(() => checkTusResumable({}))).toBe('412 unsupported_version')
    expect(codeOf(() => checkTusResumable({ 'tus-resumable': '0.2.2' }))).toBe('412 unsupported_version')
    expect(codeOf(() => checkTusResumable({ 'tus-resumable': '1.0.0' }))).toBe('no error')
  })
})

describe('filename labels', () => {
  it('keeps only the last path segment, without control characters', () => {
    expect(labelOf('../../etc/passwd')).toBe('passwd')
    expect(labelOf('C:\\temp\\a\u0000b.jpg')).toBe('ab.jpg')
    expect(labelOf('../')).toBeUndefined()
  })
})
