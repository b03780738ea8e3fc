/**
 * The versioned schema, oldest first. A migration is never edited once released (its checksum
 * is recorded and checked); change the schema by appending a new one.
 *
 * The two engines share every statement except the two types they spell differently. Times are
 * ms since the epoch: BIGINT, except `captured_at`, which comes from a device clock and may have
 * a fraction (DOUBLE PRECISION keeps it exact, so keyset cursors compare equal).
 */
import type { Dialect } from './sql.ts'

export interface Migration {
  version: number
  name: string
  statements(d: Dialect): string[]
}

const types = (d: Dialect) => ({
  /** An ever-increasing id; SQLite's AUTOINCREMENT never reuses one, so ids stay monotonic. */
  serial: d === 'postgres' ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT',
  bytes: d === 'postgres' ? 'BYTEA' : 'BLOB',
  /**
   * Ids and names sort by their bytes in both engines (SQLite's BINARY, PostgreSQL's "C"), so
   * keyset pages and listings come out in the same order whatever the database's locale.
   */
  key: d === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT',
})

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'results, detections, images',
    statements: (d) => [
      `CREATE TABLE results (
        frame_id ${types(d).key} PRIMARY KEY,
        line ${types(d).key} NOT NULL,
        station ${types(d).key} NOT NULL,
        captured_at DOUBLE PRECISION NOT NULL,
        captured_hour BIGINT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
        job_id ${types(d).key},
        recorded_at BIGINT NOT NULL,
        original_mime TEXT,
        thumbnail_mime TEXT,
        doc TEXT NOT NULL
      )`,
      // every listing is newest first with (captured_at, frame_id) as the keyset
      `CREATE INDEX results_time ON results (captured_at DESC, frame_id DESC)`,
      `CREATE INDEX results_line_time ON results (line, captured_at DESC, frame_id DESC)`,
      `CREATE INDEX results_line_verdict_time ON results (line, verdict, captured_at DESC, frame_id DESC)`,
      `CREATE INDEX results_station_time ON results (station, captured_at DESC, frame_id DESC)`,
      `CREATE INDEX results_job_time ON results (job_id, captured_at DESC, frame_id DESC) WHERE job_id IS NOT NULL`,
      // line and captured_at are copied from the result so per-class counts never touch results
      `CREATE TABLE detections (
        frame_id ${types(d).key} NOT NULL REFERENCES results (frame_id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        class ${types(d).key} NOT NULL,
        class_id INTEGER NOT NULL,
        score DOUBLE PRECISION NOT NULL,
        line ${types(d).key} NOT NULL,
        captured_at DOUBLE PRECISION NOT NULL,
        -- class in the key: "has this frame a detection of class X" is one index probe
        PRIMARY KEY (frame_id, class, idx)
      )`,
      `CREATE INDEX detections_class_time ON detections (class, captured_at)`,
      `CREATE INDEX detections_line_time_class ON detections (line, captured_at, class)`,
      // used by PostgreSQL; SQLite keeps images in a file of their own (see image-db.ts)
      `CREATE TABLE images (
        frame_id ${types(d).key} NOT NULL REFERENCES results (frame_id) ON DELETE CASCADE,
        variant TEXT NOT NULL CHECK (variant IN ('original', 'thumbnail')),
        mime TEXT NOT NULL,
        bytes ${types(d).bytes} NOT NULL,
        PRIMARY KEY (frame_id, variant)
      )`,
    ],
  },
  {
    version: 2,
    name: 'tokens, audit log',
    statements: (d) => [
      `CREATE TABLE tokens (
        id ${types(d).key} PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('station', 'kiosk', 'admin')),
        lines TEXT NOT NULL,
        label TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      )`,
      `CREATE TABLE audit_log (
        id ${types(d).serial},
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        before_doc TEXT,
        after_doc TEXT
      )`,
      `CREATE INDEX audit_log_at ON audit_log (at, id)`,
    ],
  },
  {
    version: 3,
    name: 'settings documents',
    statements: (d) => [
      `CREATE TABLE settings (
        key ${types(d).key} PRIMARY KEY,
        value TEXT NOT NULL,
        revision BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        updated_by TEXT NOT NULL
      )`,
      `CREATE INDEX settings_revision ON settings (revision)`,
    ],
  },
  {
    version: 4,
    name: 'load history per minute',
    statements: (d) => [
      // one row per gateway process (source) and minute, summed when read
      `CREATE TABLE load_minutes (
        minute BIGINT NOT NULL,
        line ${types(d).key} NOT NULL,
        source TEXT NOT NULL,
        frames BIGINT NOT NULL,
        skipped BIGINT NOT NULL,
        browser_frames BIGINT NOT NULL,
        queue_depth_max INTEGER NOT NULL,
        workers INTEGER NOT NULL,
        p95_ms DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (minute, line, source)
      )`,
    ],
  },
  {
    version: 5,
    name: 'upload inspection jobs',
    statements: (d) => [
      `CREATE TABLE jobs (
        id ${types(d).key} PRIMARY KEY,
        line ${types(d).key} NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        total INTEGER NOT NULL,
        done INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        finished_at BIGINT,
        created_by TEXT NOT NULL,
        error TEXT
      )`,
      `CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC)`,
    ],
  },
  {
    version: 6,
    name: 'devices, lines, metrics tokens, station-scoped tokens',
    statements: (d) => [
      // a token may now be a scraper's (`metrics`) and a station token may name its one station
      ...(d === 'postgres'
        ? [
            `ALTER TABLE tokens DROP CONSTRAINT tokens_role_check`,
            `ALTER TABLE tokens ADD CONSTRAINT tokens_role_check CHECK (role IN ('station', 'kiosk', 'admin', 'metrics'))`,
            `ALTER TABLE tokens ADD COLUMN station ${types(d).key}`,
          ]
        : [
            // SQLite cannot alter a CHECK constraint: the table is rebuilt
            `CREATE TABLE tokens_v6 (
              id ${types(d).key} PRIMARY KEY,
              hash TEXT NOT NULL UNIQUE,
              role TEXT NOT NULL CHECK (role IN ('station', 'kiosk', 'admin', 'metrics')),
              lines TEXT NOT NULL,
              label TEXT NOT NULL,
              created_by TEXT NOT NULL,
              created_at BIGINT NOT NULL,
              revoked_at BIGINT,
              station ${types(d).key}
            )`,
            `INSERT INTO tokens_v6 (id, hash, role, lines, label, created_by, created_at, revoked_at)
              SELECT id, hash, role, lines, label, created_by, created_at, revoked_at FROM tokens`,
            `DROP TABLE tokens`,
            `ALTER TABLE tokens_v6 RENAME TO tokens`,
          ]),
      // a paired tablet: its pairing code (hashed, single use) until paired, then its token
      `CREATE TABLE devices (
        id ${types(d).key} PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('station', 'kiosk')),
        name TEXT NOT NULL,
        lines TEXT NOT NULL,
        station ${types(d).key},
        code_hash TEXT UNIQUE,
        code_expires_at BIGINT NOT NULL,
        token_id ${types(d).key},
        paired_at BIGINT,
        last_seen_at BIGINT,
        address TEXT,
        user_agent TEXT,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      )`,
      `CREATE INDEX devices_token ON devices (token_id)`,
      // the lines that exist: what an administrator made, so the line label stays bounded
      `CREATE TABLE lines (
        line ${types(d).key} PRIMARY KEY,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL
      )`,
      // lines already in use before this version keep working
      `INSERT INTO lines (line, created_at, created_by) SELECT DISTINCT line, 0, 'migration' FROM results`,
      `INSERT INTO lines (line, created_at, created_by)
        SELECT DISTINCT substr(key, 6), 0, 'migration' FROM settings WHERE key LIKE 'line:%' AND substr(key, 6) NOT IN (SELECT line FROM lines)`,
    ],
  },
  {
    version: 7,
    name: 'parts',
    statements: (d) => [
      // one row per part and line; verdict and closed_at stay NULL while nothing decided them
      `CREATE TABLE parts (
        line ${types(d).key} NOT NULL,
        part_id ${types(d).key} NOT NULL,
        station ${types(d).key} NOT NULL,
        verdict TEXT CHECK (verdict IN ('pass', 'fail')),
        opened_at BIGINT NOT NULL,
        opened_hour BIGINT NOT NULL,
        closed_at BIGINT,
        doc TEXT NOT NULL,
        PRIMARY KEY (line, part_id)
      )`,
      // listings are newest first with (opened_at, part_id) as the keyset
      `CREATE INDEX parts_line_time ON parts (line, opened_at DESC, part_id DESC)`,
      `CREATE INDEX parts_line_verdict_time ON parts (line, verdict, opened_at DESC, part_id DESC)`,
    ],
  },
  {
    version: 8,
    name: 'webhooks and their delivery outbox',
    statements: (d) => [
      // the signing secret is kept as is: every delivery is signed with it (shown once to the admin)
      `CREATE TABLE webhooks (
        id ${types(d).key} PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        lines TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL
      )`,
      // one row per endpoint and event: (webhook_id, message_id) makes a re-emitted part one delivery
      `CREATE TABLE webhook_deliveries (
        webhook_id ${types(d).key} NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        message_id ${types(d).key} NOT NULL,
        event TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        next_at BIGINT NOT NULL,
        last_at BIGINT,
        last_status INTEGER,
        last_error TEXT,
        PRIMARY KEY (webhook_id, message_id)
      )`,
      `CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at)`,
      `CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at DESC)`,
    ],
  },
  {
    version: 9,
    name: 'review queue, reviews, candidate detections',
    statements: (d) => [
      // one row per frame waiting for (or given) a person's look; reasons accumulate
      `CREATE TABLE review_queue (
        frame_id ${types(d).key} PRIMARY KEY REFERENCES results (frame_id) ON DELETE CASCADE,
        line ${types(d).key} NOT NULL,
        captured_at DOUBLE PRECISION NOT NULL,
        reasons TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'reviewed')),
        queued_at BIGINT NOT NULL,
        flagged_by TEXT,
        note TEXT
      )`,
      `CREATE INDEX review_queue_line_status_time ON review_queue (line, status, captured_at DESC, frame_id DESC)`,
      `CREATE INDEX review_queue_status_time ON review_queue (status, captured_at DESC, frame_id DESC)`,
      // append-only: a correction is a new row, the latest per frame counts
      `CREATE TABLE reviews (
        id ${types(d).serial},
        frame_id ${types(d).key} NOT NULL REFERENCES results (frame_id) ON DELETE CASCADE,
        line ${types(d).key} NOT NULL,
        captured_at DOUBLE PRECISION NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
        detections TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        at BIGINT NOT NULL
      )`,
      `CREATE INDEX reviews_frame ON reviews (frame_id, id)`,
      `CREATE INDEX reviews_line_time ON reviews (line, captured_at, frame_id)`,
      // a candidate model's detections, beside the current model's record of the frame
      `CREATE TABLE candidate_detections (
        frame_id ${types(d).key} NOT NULL REFERENCES results (frame_id) ON DELETE CASCADE,
        model ${types(d).key} NOT NULL,
        version ${types(d).key} NOT NULL,
        line ${types(d).key} NOT NULL,
        captured_at DOUBLE PRECISION NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
        detections TEXT NOT NULL,
        agrees INTEGER NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (frame_id, model, version)
      )`,
      `CREATE INDEX candidate_detections_line_model ON candidate_detections (line, model, version, captured_at)`,
    ],
  },
  {
    version: 10,
    name: 'tus upload state shared by every gateway',
    statements: (d) => [
      `CREATE TABLE uploads (
        id ${types(d).key} PRIMARY KEY,
        state TEXT NOT NULL,
        owner TEXT NOT NULL,
        length BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        finished_at BIGINT,
        info TEXT NOT NULL,
        lock_holder TEXT,
        lock_until BIGINT NOT NULL
      )`,
      `CREATE INDEX uploads_state ON uploads (state, owner)`,
    ],
  },
]
