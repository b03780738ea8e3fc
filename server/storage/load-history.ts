/**
 * Load per line and minute, the history the autoscaler forecasts from and the admin's what-if
 * replay reads. Each gateway process adds what it saw into its own row (`source`) for the
 * minute, so flushing twice in one minute, or several processes flushing together, never loses
 * or double-counts anything; `range` combines the processes:
 *  - frames, skipped, browserFrames: counters, summed;
 *  - workers: each process's own, summed across processes (the largest a process reported
 *    within the minute);
 *  - queueDepthMax, p95Ms: the largest any process saw (the queue is shared; percentiles
 *    cannot be added, and the largest is an upper bound for the minute's p95).
 */
import { isId } from '../../shared/domain/ids.ts'
import { invalid } from './errors.ts'
import { greatest, type Db, type Param } from './sql.ts'

export const MINUTE_MS = 60_000

export interface LoadSample {
  /** Start of the minute, ms since the epoch (any time inside it is rounded down). */
  minute: number
  line: string
  frames: number
  skipped: number
  browserFrames: number
  queueDepthMax: number
  workers: number
  p95Ms: number
}

export interface LoadSampleInput extends LoadSample {
  /** The reporting process (host name + pid); its rows add up, other processes' stay apart. */
  source?: string
}

interface Row {
  minute: number
  line: string
  frames: number
  skipped: number
  browser_frames: number
  queue_depth_max: number
  workers: number
  p95_ms: number
}

function count(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`${name} must be a number >= 0`)
  return v
}

export class LoadHistory {
  constructor(readonly db: Db) {}

  async add(s: LoadSampleInput): Promise<void> {
    if (!isId(s.line)) throw invalid('line must be a line id')
    if (s.source !== undefined && (typeof s.source !== 'string' || s.source.length > 128)) throw invalid('source must be at most 128 characters')
    const minute = Math.floor(count('minute', s.minute) / MINUTE_MS) * MINUTE_MS
    const g = (col: string) => greatest(this.db.dialect, `load_minutes.${col}`, `excluded.${col}`)
    await this.db.run(
      `INSERT INTO load_minutes (minute, line, source, frames, skipped, browser_frames, queue_depth_max, workers, p95_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (minute, line, source) DO UPDATE SET
         frames = load_minutes.frames + excluded.frames,
         skipped = load_minutes.skipped + excluded.skipped,
         browser_frames = load_minutes.browser_frames + excluded.browser_frames,
         queue_depth_max = ${g('queue_depth_max')},
         workers = ${g('workers')},
         p95_ms = ${g('p95_ms')}`,
      [
        minute,
        s.line,
        s.source ?? '',
        Math.round(count('frames', s.frames)),
        Math.round(count('skipped', s.skipped)),
        Math.round(count('browserFrames', s.browserFrames)),
        Math.round(count('queueDepthMax', s.queueDepthMax)),
        Math.round(count('workers', s.workers)),
        count('p95Ms', s.p95Ms),
      ],
    )
  }

  /** Minutes in [from, to), oldest first, one sample per minute and line. */
  async range(from: number, to: number, line?: string): Promise<LoadSample[]> {
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw invalid('range needs from and to in ms')
    const params: Param[] = [from, to]
    const byLine = line === undefined ? '' : `AND line = $${params.push(line)}`
    const rows = await this.db.all<Row>(
      `SELECT minute, line,
         CAST(SUM(frames) AS BIGINT) AS frames, CAST(SUM(skipped) AS BIGINT) AS skipped,
         CAST(SUM(browser_frames) AS BIGINT) AS browser_frames, MAX(queue_depth_max) AS queue_depth_max,
         CAST(SUM(workers) AS BIGINT) AS workers, MAX(p95_ms) AS p95_ms
       FROM load_minutes WHERE minute >= $1 AND minute < $2 ${byLine}
       GROUP BY minute, line ORDER BY minute, line`,
      params,
    )
    return rows.map((r) => ({
      minute: Number(r.minute),
      line: r.line,
      frames: Number(r.frames),
      skipped: Number(r.skipped),
      browserFrames: Number(r.browser_frames),
      queueDepthMax: Number(r.queue_depth_max),
      workers: Number(r.workers),
      p95Ms: Number(r.p95_ms),
    }))
  }

  /** Drops minutes before `before`; returns how many rows went. */
  deleteBefore(before: number): Promise<number> {
    return this.db.run('DELETE FROM load_minutes WHERE minute < $1', [before])
  }
}
