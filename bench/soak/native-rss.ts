/**
 * One native component of the server alone, watched for growth: `npx tsx bench/soak/native-rss.ts
 * --part journal|sharp|store [--frames N]`. Faster and quieter than a soak for telling which part's
 * native memory grows; prints the process's RssAnon (what malloc holds) every tenth of the run as
 * JSON. Run it with and without `MALLOC_ARENA_MAX=2` to tell the allocator from a leak.
 *  - journal: the queue journal (server/queue/journal.ts), `--bytes` (100 KiB) frames added and
 *    each removed once `--in-flight` (8) newer ones wait, removals batched per event-loop turn as
 *    the embedded queue does.
 *  - sharp: what libvips does per frame in the server, `--in-flight` frames at a time on the libuv
 *    pool: the worker's decode and letterbox (preprocess.ts) and thumbnail from the decoded pixels,
 *    and the store's thumbnail from the JPEG (evidence originals, storage/images.ts).
 *  - store: the SQLite store (linesight.db and images.db), one record per frame, every other one
 *    failing with its JPEG and a thumbnail (made once, so libvips is not measured again);
 *    `--no-images` records without images.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { PixelBuffers } from '../../server/inference/pixels.ts'
import { configureSharp, encodeThumbnail, letterboxInto } from '../../server/inference/preprocess.ts'
import { QueueJournal } from '../../server/queue/journal.ts'
import { openSqliteStore } from '../../server/storage/sqlite.ts'
import { makeThumbnail, THUMBNAIL_MAX_PX } from '../../server/storage/images.ts'
import { loadSamples } from '../../test/helpers/samples.ts'

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', default: 'journal' },
    frames: { type: 'string', default: '20000' },
    bytes: { type: 'string', default: '102400' },
    'in-flight': { type: 'string', default: '8' },
    // store: records only, no images (tells the results database from the images database)
    'no-images': { type: 'boolean', default: false },
  },
})

function rssAnonMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8')
  return Math.round((Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024) * 10) / 10
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10
const turn = () => new Promise((r) => setImmediate(r))

async function journal(frames: number, inFlight: number, sample: (i: number) => void): Promise<void> {
  const bytes = Number(args.bytes)
  const dir = await mkdtemp(join(tmpdir(), 'native-rss-'))
  const j = new QueueJournal(join(dir, 'queue-journal.db'))
  // a few distinct bodies, made once, so the probe itself allocates no more of them
  const bodies = Array.from({ length: 16 }, () => new Uint8Array(randomBytes(bytes)))
  const waiting: string[] = []
  try {
    for (let i = 1; i <= frames; i++) {
      j.add({ message: { id: `f${i}`, headers: { line: 'L', station: 'S' }, body: bodies[i % bodies.length]! }, priority: 'live', attempts: 0, expiresAt: Infinity, journaled: true })
      waiting.push(`f${i}`)
      if (waiting.length > inFlight) j.remove(waiting.shift()!)
      await turn()
      sample(i)
    }
  } finally {
    j.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function libvips(frames: number, inFlight: number, sample: (i: number) => void): Promise<void> {
  configureSharp(1)
  const images = loadSamples().map((s) => new Uint8Array(s.bytes))
  const target = { width: 640, height: 640, pad: 114 }
  let next = 0
  // one input tensor per frame in flight, reused, as the worker reuses its model's input
  const one = async (i: number, pixels: PixelBuffers) => {
    const image = images[i % images.length]!
    const p = await letterboxInto(image, pixels, 0, { maxPixels: 40_000_000 })
    await encodeThumbnail(p.rgb, THUMBNAIL_MAX_PX)
    await makeThumbnail(image)
  }
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      const pixels = new PixelBuffers(target, 1)
      while (next < frames) {
        const i = ++next
        await one(i, pixels)
        sample(i)
      }
    }),
  )
}

async function store(frames: number, inFlight: number, sample: (i: number) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'native-rss-'))
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined }
  const s = openSqliteStore({ dataDir: dir, log: quiet })
  await s.migrate()
  const images = loadSamples().map((x) => new Uint8Array(x.bytes))
  const thumbnail = await makeThumbnail(images[0]!)
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < frames) {
          const i = ++next
          const fail = i % 2 === 0
          const detections = [{ classId: 0, class: fail ? 'scratch' : 'part', score: 0.9, box: [10, 10, 100, 100] as [number, number, number, number] }]
          await s.record(
            { frameId: `f${i}`, line: 'L', station: 'S', capturedAt: Date.now(), model: { name: 'detector', version: '1' }, inferredAt: 'server', ep: 'cpu', detections, verdict: fail ? 'fail' : 'pass', timings: {} },
            args['no-images'] ? undefined : { mime: 'image/jpeg', original: images[i % images.length]!, thumbnail },
          )
          sample(i)
        }
      }),
    )
  } finally {
    await s.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const frames = Number(args.frames)
  const inFlight = Number(args['in-flight'])
  // beside RssAnon, this thread's V8 heap and its memory outside it (Buffers), which malloc holds too
  const row = (i: number) => {
    const m = process.memoryUsage()
    return { frames: i, rssAnonMb: rssAnonMb(), heapMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external) }
  }
  const rows = [row(0)]
  const every = Math.max(1, Math.floor(frames / 10))
  const sample = (i: number) => {
    if (i % every !== 0) return
    // under `node --expose-gc`: a full collection first, so what V8 would free (and the native
    // memory its objects hold) does not count
    ;(globalThis as { gc?: () => void }).gc?.()
    rows.push(row(i))
  }
  if (args.part === 'journal') await journal(frames, inFlight, sample)
  else if (args.part === 'sharp') await libvips(frames, inFlight, sample)
  else if (args.part === 'store') await store(frames, inFlight, sample)
  else throw new Error(`--part is journal, sharp or store, got "${args.part}"`)
  process.stdout.write(`${JSON.stringify({ part: args.part, frames, inFlight, mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null, rows })}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
