/**
 * Images in the database, for PostgreSQL. Several gateway processes on several hosts share the
 * database but not a disk; with the bytes beside the row, any of them can serve any image, one
 * backup holds everything, and retention removes rows and images in one transaction.
 * PostgreSQL stores large bytea values out of line (TOAST), so result queries do not read them.
 */
import type { ImageStore, ImageVariant, PreparedImages } from './images.ts'
import { placeholders, type Sql } from './sql.ts'

export class TableImageStore implements ImageStore {
  readonly transactional = true

  async save(sql: Sql, frameId: string, images: PreparedImages): Promise<void> {
    for (const variant of ['original', 'thumbnail'] as const) {
      const image = images[variant]
      if (!image) continue
      await sql.run('INSERT INTO images (frame_id, variant, mime, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT (frame_id, variant) DO NOTHING', [frameId, variant, image.mime, image.bytes])
    }
  }

  async replace(sql: Sql, frameId: string, images: PreparedImages): Promise<void> {
    for (const variant of ['original', 'thumbnail'] as const) {
      const image = images[variant]
      if (!image) continue
      await sql.run('INSERT INTO images (frame_id, variant, mime, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT (frame_id, variant) DO UPDATE SET mime = EXCLUDED.mime, bytes = EXCLUDED.bytes', [frameId, variant, image.mime, image.bytes])
    }
  }

  async load(sql: Sql, frameId: string, variant: ImageVariant): Promise<Uint8Array | null> {
    const row = await sql.one<{ bytes: Uint8Array }>('SELECT bytes FROM images WHERE frame_id = $1 AND variant = $2', [frameId, variant])
    // node-postgres hands out a Buffer; the contract's type is a plain Uint8Array
    return row ? new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength) : null
  }

  async remove(sql: Sql, frameIds: readonly string[]): Promise<void> {
    if (!frameIds.length) return
    await sql.run(`DELETE FROM images WHERE frame_id IN (${placeholders(frameIds.length, 1)})`, frameIds)
  }
}
