/**
 * The little SQL surface the stores are written against, so one implementation of each store
 * runs on both engines. Statements use PostgreSQL's `$1` placeholders; the SQLite adapter
 * rewrites them. Values only ever travel as parameters.
 */
export type Dialect = 'sqlite' | 'postgres'

export type Param = string | number | bigint | boolean | null | Uint8Array

export type Row = Record<string, unknown>

export interface Sql {
  readonly dialect: Dialect
  all<T = Row>(text: string, params?: readonly Param[]): Promise<T[]>
  /** The first row, or undefined. */
  one<T = Row>(text: string, params?: readonly Param[]): Promise<T | undefined>
  /** Returns the number of rows changed. */
  run(text: string, params?: readonly Param[]): Promise<number>
}

export interface Tx extends Sql {
  /**
   * Serialises this transaction with every other one taking the same lock, across processes.
   * PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing to do, every transaction
   * already began with BEGIN IMMEDIATE, which holds the database's single write lock.
   */
  lock(name: string): Promise<void>
  /** Runs once the transaction committed (never when it rolled back). */
  afterCommit(fn: () => void): void
}

export interface Db extends Sql {
  /** Commits when `fn` resolves, rolls back when it rejects. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** `$from, $from+1, ...` placeholders for an IN list, and the params they stand for. */
export function placeholders(count: number, from: number): string {
  return Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ')
}

/** `GREATEST(a, b)` in PostgreSQL is the two-argument scalar `MAX(a, b)` in SQLite. */
export function greatest(dialect: Dialect, a: string, b: string): string {
  return dialect === 'postgres' ? `GREATEST(${a}, ${b})` : `MAX(${a}, ${b})`
}

/** Runs every `afterCommit` callback; one that throws must not stop the others. */
export function runAfterCommit(callbacks: readonly (() => void)[], onError: (err: unknown) => void): void {
  for (const cb of callbacks) {
    try {
      cb()
    } catch (err) {
      onError(err)
    }
  }
}
