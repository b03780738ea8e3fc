/**
 * A setting is declared once: its environment variable, its type, its default and what it means.
 * The README's settings table and the deploy manifests' checks are generated from these
 * declarations, so the documentation cannot drift from the code.
 */
import { z } from 'zod'

/** `V` is the parsed value's type: `T`, or `T | undefined` for settings without a default. */
export interface Setting<T, V = T> {
  env: string
  schema: z.ZodType<T>
  default: V
  doc: string
  /** Printed in the table instead of the default value (e.g. "number of CPU cores"). */
  defaultDoc?: string
  secret?: boolean
}

type Extra = { defaultDoc?: string; secret?: boolean }
export function setting<T>(env: string, schema: z.ZodType<T>, def: undefined, doc: string, extra?: Extra): Setting<T, T | undefined>
export function setting<T>(env: string, schema: z.ZodType<T>, def: NoInfer<T>, doc: string, extra?: Extra): Setting<T, T>
export function setting<T>(env: string, schema: z.ZodType<T>, def: T | undefined, doc: string, extra: Extra = {}): Setting<T, T | undefined> {
  return { env, schema, default: def, doc, ...extra }
}

export const int = (min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max)
export const num = (min = -Infinity, max = Infinity) => z.coerce.number().min(min).max(max)
export const bool = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v))
    .or(z.boolean())
export const str = () => z.string().min(1)
export const list = () =>
  z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .or(z.array(z.string()))

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type AnySetting = Setting<unknown, unknown>
type Values<S extends Record<string, AnySetting>> = {
  [K in keyof S]: S[K] extends Setting<unknown, infer V> ? V : never
}

/** Parses every setting from the environment; one error lists every bad variable. */
export function parseSettings<S extends Record<string, AnySetting>>(defs: S, env: Record<string, string | undefined>): Values<S> {
  const out: Record<string, unknown> = {}
  const problems: string[] = []
  for (const [key, def] of Object.entries(defs)) {
    const raw = env[def.env]
    if (raw === undefined || raw === '') {
      out[key] = def.default
      continue
    }
    const parsed = def.schema.safeParse(raw)
    if (parsed.success) out[key] = parsed.data
    else problems.push(`${def.env}=${def.secret ? '***' : JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join(', ')}`)
  }
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
  return out as Values<S>
}

export function settingsMarkdown(defs: Record<string, AnySetting>): string {
  const rows = Object.values(defs).map((d) => {
    const def = d.defaultDoc ?? (d.default === undefined ? '(unset)' : Array.isArray(d.default) ? d.default.join(',') || '(empty)' : String(d.default as string | number | boolean))
    return `| \`${d.env}\` | ${def.includes('`') ? def : `\`${def}\``} | ${d.doc} |`
  })
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n')
}
