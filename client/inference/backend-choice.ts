/**
 * Choosing the station's backend by measuring, without keeping the station waiting:
 *
 * 1. the serving worker loads the models and starts on WASM, which initialises in a second or two
 *    on any browser, so the station prefilters and infers at once (reported as provisional);
 * 2. a second worker measures every candidate (`CANDIDATE_EPS`): a software WebGPU adapter spends
 *    a minute compiling shaders, and in the serving worker that minute would stall every frame,
 *    since one onnxruntime-web instance runs one session call at a time;
 * 3. the serving worker moves to the measured fastest when that is not WASM.
 *
 * Each step is reported, so the station never runs a backend it did not say it runs.
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { ModelRef } from '../../shared/protocol/messages/welcome.ts'
import { CANDIDATE_EPS, type InitReport, type LocalEp } from './api.ts'
import { InferenceClient } from './client.ts'

/** The backend a station serves with while the candidates are measured. */
export const PROVISIONAL_EP: LocalEp = 'wasm'

export interface ChoiceEvents {
  /** The backend in use and every candidate's figures; `measuring` while step 2 runs. */
  onReport(report: InitReport, measuring: boolean): void
  /** Something the operator should know (no prefilter, a failed switch...). */
  onError(error: WireError): void
  /** No local inference at all (the models could not be loaded). */
  onFailed(error: WireError): void
}

/** What the choice needs of a worker. */
export type BackendWorker = Pick<InferenceClient, 'init' | 'terminate'>

export async function chooseBackend(
  serving: BackendWorker,
  models: { detector: ModelRef; prefilter?: ModelRef },
  plan: { runs: number; budgetMs: number },
  signal: AbortSignal,
  events: ChoiceEvents,
  createProbe: () => BackendWorker = () => new InferenceClient(),
): Promise<void> {
  const first = await serving.init({ models, eps: [PROVISIONAL_EP], ...plan })
  if (signal.aborted) return
  if (!first.ok) {
    events.onError({ code: first.error.code, message: `local inference unavailable: ${first.error.message}` })
    return events.onFailed(first.error)
  }
  const pre = first.value.prefilterError
  if (pre) events.onError({ code: pre.code, message: `prefilter not loaded: ${pre.message}` })
  events.onReport(first.value, true)

  const probe = createProbe()
  const stopProbe = () => probe.terminate()
  signal.addEventListener('abort', stopProbe, { once: true })
  const measured = await probe.init({ models, eps: CANDIDATE_EPS, ...plan })
  signal.removeEventListener('abort', stopProbe)
  probe.terminate()
  if (signal.aborted) return
  if (!measured.ok) {
    events.onError({ code: measured.error.code, message: `measuring the backends failed, staying on ${PROVISIONAL_EP}: ${measured.error.message}` })
    return events.onReport(first.value, false)
  }
  // the measured figures, with what the serving worker loaded and runs
  let report: InitReport = { ...measured.value, models: first.value.models, runtimeFromCache: first.value.runtimeFromCache, ep: first.value.ep }
  const best = measured.value.ep
  if (best !== null && best !== first.value.ep) {
    const moved = await serving.init({ models, eps: [best], ...plan })
    if (signal.aborted) return
    if (moved.ok && moved.value.ep === best) report = { ...report, ep: best, loadMs: report.loadMs + moved.value.loadMs }
    else {
      const why = moved.ok ? (moved.value.candidates[0]?.error ?? 'no session') : moved.error.message
      events.onError({ code: 'backend_switch_failed', message: `${best} measured fastest but failed to start (${why}); back on ${PROVISIONAL_EP}` })
      const back = await serving.init({ models, eps: [PROVISIONAL_EP], ...plan })
      if (signal.aborted) return
      report = { ...report, ep: back.ok ? back.value.ep : null }
    }
  }
  events.onReport(report, false)
}
