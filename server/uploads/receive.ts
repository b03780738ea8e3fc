/**
 * One tus PATCH: the body goes to disk chunk by chunk at the upload's offset, never whole in
 * memory. The offset others see (HEAD) only ever covers bytes that are on disk and will be
 * kept: with a checksum, nothing counts until the digest matched; without one, what arrived
 * before a disconnect is kept (the client resumes from there, through any gateway).
 */
import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import type { BodyStream } from '../api/types.ts'
import { HttpError } from '../errors.ts'
import type { Upload, UploadRegistry } from './registry.ts'
import type { Checksum } from './tus-headers.ts'

export interface Received {
  offset: number
  complete: boolean
}

export async function receive(reg: UploadRegistry, up: Upload, offset: number, body: BodyStream, checksum: Checksum | undefined): Promise<Received> {
  // the lease first: it reloads the upload, which another gateway may have moved on
  await reg.acquire(up)
  const { info } = up
  let fh: FileHandle | undefined
  try {
    if (info.state !== 'receiving') throw new HttpError(409, 'upload_complete', `upload ${info.id} is complete (${info.state}); there is nothing more to send`)
    if (offset !== info.offset) {
      const how = offset > info.offset ? 'would skip' : 'would overlap'
      throw new HttpError(409, 'offset_mismatch', `Upload-Offset ${offset} ${how} the ${info.offset} bytes received; send from offset ${info.offset}`)
    }
    const remaining = info.length - info.offset
    if (body.declaredLength !== undefined && body.declaredLength > remaining) {
      throw new HttpError(400, 'beyond_length', `the chunk of ${body.declaredLength} bytes would pass Upload-Length ${info.length} (${remaining} bytes remain)`)
    }
    fh = await reg.files.openData(info.id)
    return await write(reg, up, fh, body, checksum, remaining)
  } finally {
    await fh?.close()
    // Whatever ended this PATCH (done, refused, client gone, disk full), the file is cut back to
    // the offset that counts, so disk and info agree: a checksummed chunk that was not verified,
    // a chunk that passed the length, a half-written write all go.
    if (await reg.confirm(up)) {
      if (fh) await reg.files.truncateData(info.id, info.offset)
      await reg.save(up)
    }
    await reg.release(up)
  }
}

async function write(reg: UploadRegistry, up: Upload, fh: FileHandle, body: BodyStream, checksum: Checksum | undefined, remaining: number): Promise<Received> {
  const { info } = up
  const start = info.offset
  const hash = checksum ? createHash('sha256') : undefined
  let written = 0
  for await (const chunk of body) {
    if (up.removed) throw new HttpError(404, 'not_found', `upload ${info.id} was terminated while this PATCH was sending`)
    if (up.lost) throw new HttpError(423, 'locked', `upload ${info.id} was taken over by another gateway while this PATCH stalled; resume from its offset`)
    if (written + chunk.length > remaining) {
      info.offset = start
      throw new HttpError(400, 'beyond_length', `the body passes Upload-Length ${info.length}; this chunk was discarded, send from offset ${start}`)
    }
    let at = 0
    while (at < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, at, chunk.length - at, start + written + at)
      at += bytesWritten
    }
    written += chunk.length
    hash?.update(chunk)
    reg.touch(up)
    if (!hash) info.offset = start + written
  }
  if (hash && checksum && !hash.digest().equals(checksum.digest)) {
    throw new HttpError(460, 'checksum_mismatch', `the sha256 of the ${written} bytes received does not match Upload-Checksum; the chunk was discarded, send from offset ${start}`)
  }
  info.offset = start + written
  return { offset: info.offset, complete: info.offset === info.length }
}
