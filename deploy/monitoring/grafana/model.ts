/**
 * A small builder for Grafana dashboard JSON (schema 39, Grafana 10/11). The dashboards are
 * declared compactly in dashboards.ts; `npx tsx deploy/monitoring/grafana/print-dashboards.ts`
 * writes them to dashboards/*.json, which Grafana provisions. A test fails when the committed
 * JSON differs from what this builder makes, so hand edits in Grafana must come back here.
 */

export type Unit = 'short' | 'percentunit' | 's' | 'bytes' | 'ops' | 'reqps' | 'none'

export interface Query {
  expr: string
  legend?: string
  /** A table of the current values rather than a time series. */
  instant?: boolean
}

export interface PanelSpec {
  title: string
  description: string
  kind: 'timeseries' | 'stat' | 'table'
  unit?: Unit
  queries: Query[]
  /** Grid width of 24; height in grid rows. */
  w?: number
  h?: number
  stacked?: boolean
  /** Thresholds for stat panels: [value, colour] above which the colour applies. */
  thresholds?: [number, string][]
}

export interface VariableSpec {
  name: string
  label: string
  /** `label_values(metric, label)`. */
  query: string
  multi?: boolean
}

export interface DashboardSpec {
  uid: string
  title: string
  description: string
  variables?: VariableSpec[]
  rows: { title: string; panels: PanelSpec[] }[]
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }

function panelJson(p: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }): Record<string, unknown> {
  const targets = p.queries.map((q, i) => ({
    datasource: DATASOURCE,
    refId: String.fromCharCode(65 + i),
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !q.instant,
    instant: Boolean(q.instant),
    ...(q.instant ? { format: 'table' } : {}),
  }))
  const thresholds = {
    mode: 'absolute',
    steps: [{ color: 'green', value: null }, ...(p.thresholds ?? []).map(([value, color]) => ({ color, value }))],
  }
  const common = { id, type: p.kind, title: p.title, description: p.description, datasource: DATASOURCE, gridPos, targets }
  if (p.kind === 'stat') {
    return {
      ...common,
      fieldConfig: { defaults: { unit: p.unit ?? 'short', thresholds, color: { mode: 'thresholds' } }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'auto' },
    }
  }
  if (p.kind === 'table') {
    return {
      ...common,
      fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
      options: { showHeader: true },
      transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, job: true } } }],
    }
  }
  return {
    ...common,
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: p.stacked ? 30 : 10, stacking: { mode: p.stacked ? 'normal' : 'none', group: 'A' }, spanNulls: false },
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  }
}

function variableJson(v: VariableSpec): Record<string, unknown> {
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    datasource: DATASOURCE,
    definition: v.query,
    query: { query: v.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    sort: 1,
    multi: Boolean(v.multi),
    includeAll: Boolean(v.multi),
    current: {},
    options: [],
  }
}

export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  const panels: Record<string, unknown>[] = []
  let id = 1
  let y = 0
  for (const row of d.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] })
    y += 1
    let x = 0
    let rowHeight = 0
    for (const p of row.panels) {
      const w = p.w ?? 12
      const h = p.h ?? (p.kind === 'stat' ? 4 : 8)
      if (x + w > 24) {
        x = 0
        y += rowHeight
        rowHeight = 0
      }
      panels.push(panelJson(p, id++, { x, y, w, h }))
      x += w
      rowHeight = Math.max(rowHeight, h)
    }
    y += rowHeight
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['linesight'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    links: [{ title: 'linesight dashboards', type: 'dashboards', tags: ['linesight'], asDropdown: true, includeVars: true, keepTime: true }],
    annotations: { list: [] },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, options: [] },
        ...(d.variables ?? []).map(variableJson),
      ],
    },
    panels,
  }
}

/** Every PromQL expression of a dashboard's JSON: panel targets and query variables. */
export function dashboardQueries(json: Record<string, unknown>): { where: string; expr: string; variable?: boolean }[] {
  const out: { where: string; expr: string; variable?: boolean }[] = []
  const title = String(json.title)
  const visit = (panels: unknown[]) => {
    for (const p of panels as { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }[]) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${title} / ${p.title}`, expr: t.expr })
      if (p.panels) visit(p.panels)
    }
  }
  visit((json.panels as unknown[]) ?? [])
  for (const v of ((json.templating as { list?: { name: string; type: string; definition?: string }[] })?.list ?? []).filter((v) => v.type === 'query')) {
    out.push({ where: `${title} / $${v.name}`, expr: v.definition ?? '', variable: true })
  }
  return out
}

/** The committed file's text for a dashboard's JSON. */
export const dashboardText = (json: unknown) => `${JSON.stringify(json, null, 2)}\n`
