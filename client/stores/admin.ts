/**
 * The admin panel: the admin token (kept for this browser tab only, in sessionStorage), the
 * scaling settings as saved and as being edited, the what-if replay of the edit, and the line
 * settings. Edits are validated with the same shared schemas the server uses, so the panel
 * says what is wrong before anything is sent.
 */
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { ScalingSettingsSchema, type ScalingDoc, type ScalingSettings, type WhatIfResult } from '../../shared/domain/scaling.ts'
import { LineSettingsSchema, type LineSettings } from '../../shared/domain/line-settings.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import { getAudit, getLines, getModels, getScaling, postWhatIf, putLine, putScaling, type AuditItem, type ModelInfo } from '../admin/api.ts'

const TOKEN_KEY = 'linesight.adminToken'
const DAY_MS = 86_400_000
/** Quiet time after the last edit before the replay runs again. */
const WHAT_IF_DEBOUNCE_MS = 500

export interface Issue {
  path: string
  message: string
}

function issuesOf(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): Issue[] {
  return result.success ? [] : (result.error?.issues ?? []).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
}

/** Settings are JSON; a copy through JSON also drops Vue's reactive proxies (structuredClone cannot). */
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T

function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY)
  } catch {
    return null // storage blocked: the admin types the token again
  }
}

export interface ReplayTrace {
  name: string
  csv: string
  unit: 'per-step' | 'per-second'
}

export const useAdminStore = defineStore('admin', () => {
  const token = ref<string | null>(storedToken())
  const signedIn = ref(false)
  const authError = ref<WireError | null>(null)

  const doc = ref<ScalingDoc | null>(null)
  const draft = ref<ScalingSettings | null>(null)
  const issues = computed(() => (draft.value ? issuesOf(ScalingSettingsSchema.safeParse(draft.value)) : []))
  const dirty = computed(() => !!draft.value && !!doc.value && JSON.stringify(draft.value) !== JSON.stringify(doc.value.settings))
  const saving = ref(false)
  const saveError = ref<WireError | null>(null)
  const lastSaved = ref<{ revision: number | null; at: number } | null>(null)

  /** A past day to replay (YYYY-MM-DD, local), or null for the last 24 hours. */
  const replayDay = ref<string | null>(null)
  /** A load loaded from a file (`timestamp,value` CSV) to replay instead of the recorded one. */
  const replayTrace = ref<ReplayTrace | null>(null)
  const whatIf = ref<WhatIfResult | null>(null)
  const whatIfLoading = ref(false)
  const whatIfError = ref<WireError | null>(null)
  let whatIfSeq = 0
  let whatIfTimer: ReturnType<typeof setTimeout> | undefined

  const lines = ref<LineSettings[]>([])
  const models = ref<ModelInfo[]>([])
  const lineDraft = ref<LineSettings | null>(null)
  const lineIssues = computed(() => (lineDraft.value ? issuesOf(LineSettingsSchema.safeParse(lineDraft.value)) : []))
  const lineSaving = ref(false)
  const lineError = ref<WireError | null>(null)
  const lineSaved = ref<string | null>(null)
  const audit = ref<AuditItem[]>([])
  const loadError = ref<WireError | null>(null)

  async function signIn(secret: string): Promise<boolean> {
    authError.value = null
    const r = await getScaling(secret)
    if (!r.ok) {
      authError.value = r.error
      signedIn.value = false
      return false
    }
    token.value = secret
    try {
      sessionStorage.setItem(TOKEN_KEY, secret)
    } catch {
      // storage blocked: signed in for this page only
    }
    signedIn.value = true
    accept(r.value)
    await Promise.all([loadLines(), loadModels(), loadAudit()])
    return true
  }

  function signOut(): void {
    try {
      sessionStorage.removeItem(TOKEN_KEY)
    } catch {
      // nothing stored
    }
    token.value = null
    signedIn.value = false
    doc.value = null
    draft.value = null
    whatIf.value = null
  }

  function accept(d: ScalingDoc): void {
    doc.value = d
    draft.value = clone(d.settings)
  }

  function discard(): void {
    if (doc.value) draft.value = clone(doc.value.settings)
  }

  function replayRange(): { from?: number; to?: number } {
    // a trace's own last day, unless a day inside it is picked
    if (replayTrace.value && !replayDay.value) return {}
    if (!replayDay.value) {
      const to = Date.now()
      return { from: to - DAY_MS, to }
    }
    const [y, m, d] = replayDay.value.split('-').map(Number)
    const from = new Date(y!, m! - 1, d!).getTime()
    return { from, to: new Date(y!, m! - 1, d! + 1).getTime() }
  }

  async function runWhatIf(): Promise<void> {
    if (!token.value || !draft.value || issues.value.length) return
    const seq = ++whatIfSeq
    whatIfLoading.value = true
    const trace = replayTrace.value ? { csv: replayTrace.value.csv, unit: replayTrace.value.unit } : undefined
    const r = await postWhatIf(token.value, draft.value, replayRange(), trace)
    // an older replay that answers late must not overwrite a newer one
    if (seq !== whatIfSeq) return
    whatIfLoading.value = false
    if (r.ok) {
      whatIf.value = r.value
      whatIfError.value = null
    } else whatIfError.value = r.error
  }

  watch(
    [draft, replayDay, replayTrace],
    () => {
      clearTimeout(whatIfTimer)
      if (signedIn.value) whatIfTimer = setTimeout(() => void runWhatIf(), WHAT_IF_DEBOUNCE_MS)
    },
    { deep: true },
  )

  async function save(): Promise<void> {
    if (!token.value || !draft.value || issues.value.length) return
    saving.value = true
    saveError.value = null
    const r = await putScaling(token.value, draft.value)
    saving.value = false
    if (!r.ok) {
      saveError.value = r.error
      return
    }
    accept(r.value)
    lastSaved.value = { revision: r.value.revision, at: Date.now() }
    await loadAudit()
  }

  async function refreshState(): Promise<void> {
    if (!token.value) return
    const r = await getScaling(token.value)
    if (r.ok && doc.value) doc.value = { ...doc.value, state: r.value.state }
  }

  async function loadLines(): Promise<void> {
    const r = await getLines(token.value!)
    if (!r.ok) {
      loadError.value = r.error
      return
    }
    lines.value = r.value
    if (!lineDraft.value && r.value[0]) selectLine(r.value[0].line)
  }

  async function loadModels(): Promise<void> {
    const r = await getModels(token.value!)
    if (r.ok) models.value = r.value
    else loadError.value = r.error
  }

  async function loadAudit(): Promise<void> {
    const r = await getAudit(token.value!)
    if (r.ok) audit.value = r.value
    else loadError.value = r.error
  }

  function selectLine(line: string): void {
    const found = lines.value.find((l) => l.line === line)
    lineDraft.value = found ? clone(found) : null
    lineSaved.value = null
    lineError.value = null
  }

  async function saveLine(): Promise<void> {
    if (!token.value || !lineDraft.value || lineIssues.value.length) return
    lineSaving.value = true
    lineError.value = null
    const r = await putLine(token.value, lineDraft.value)
    lineSaving.value = false
    if (!r.ok) {
      lineError.value = r.error
      return
    }
    lines.value = lines.value.map((l) => (l.line === r.value.line ? r.value : l))
    lineDraft.value = clone(r.value)
    lineSaved.value = r.value.line
    await loadAudit()
  }

  return {
    token,
    signedIn,
    authError,
    doc,
    draft,
    issues,
    dirty,
    saving,
    saveError,
    lastSaved,
    replayDay,
    replayTrace,
    whatIf,
    whatIfLoading,
    whatIfError,
    lines,
    models,
    lineDraft,
    lineIssues,
    lineSaving,
    lineError,
    lineSaved,
    audit,
    loadError,
    signIn,
    signOut,
    discard,
    runWhatIf,
    save,
    refreshState,
    selectLine,
    saveLine,
  }
})
