/**
 * Autoscaling of the inference workers, as the administrator tunes it (stored as the `scaling`
 * settings document) and as the admin panel and status page read it. The scale-up and
 * scale-down rules are Kubernetes HPA `behavior` rules with the same names and meanings, so an
 * operator who knows the HPA knows these, and the values can be copied to a real HPA.
 */
import { z } from 'zod'
import { Id } from './ids.ts'

/** One HPA scaling policy: at most `value` pods (or percent) of change per `periodSeconds`. */
export const ScalingPolicyRuleSchema = z.object({
  type: z.enum(['Pods', 'Percent']),
  value: z.number().int().min(1).max(1000),
  periodSeconds: z.number().int().min(1).max(1800),
})
export type ScalingPolicyRule = z.infer<typeof ScalingPolicyRuleSchema>

/** HPA `HPAScalingRules`: a stabilization window and rate policies for one direction. */
export const ScalingRulesSchema = z
  .object({
    /** Recommendations of this many past seconds are considered (HPA: 0..3600). */
    stabilizationWindowSeconds: z.number().int().min(0).max(3600),
    /** Max: the policy allowing the most change wins; Min: the least; Disabled: no change this way. */
    selectPolicy: z.enum(['Max', 'Min', 'Disabled']),
    policies: z.array(ScalingPolicyRuleSchema).max(10),
  })
  .refine((r) => r.selectPolicy === 'Disabled' || r.policies.length > 0, { message: 'at least one policy, unless selectPolicy is Disabled', path: ['policies'] })
export type ScalingRules = z.infer<typeof ScalingRulesSchema>

/** Local wall-clock time of day, 24 h. */
export const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day, HH:MM (24 h)')
/** 0 = Sunday ... 6 = Saturday, as JavaScript's Date counts them. */
export const Weekday = z.number().int().min(0).max(6)

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** A shift: on each of `days` it starts at `start`; an `end` at or before `start` ends the next day. */
export const ShiftSchema = z.object({
  name: z.string().min(1).max(40),
  days: z.array(Weekday).min(1).max(7),
  start: ClockTime,
  end: ClockTime,
})
export type Shift = z.infer<typeof ShiftSchema>

/** A break inside the shifts of `days` (a known lull). */
export const BreakSchema = z.object({
  days: z.array(Weekday).min(1).max(7),
  start: ClockTime,
  end: ClockTime,
})
export type ShiftBreak = z.infer<typeof BreakSchema>

/** The plant's shift calendar: known bursts at shift starts, lulls at breaks. */
export const ShiftCalendarSchema = z.object({
  /** IANA time zone the times are written in, e.g. Europe/Berlin or Asia/Shanghai. */
  timeZone: z.string().min(1).max(64).refine(validTimeZone, 'an IANA time zone, e.g. Europe/Berlin'),
  shifts: z.array(ShiftSchema).max(20),
  breaks: z.array(BreakSchema).max(50),
  /** Minutes after a shift start that count as its start-up burst. */
  burstMinutes: z.number().int().min(0).max(120),
})
export type ShiftCalendar = z.infer<typeof ShiftCalendarSchema>

export const ScalingSettingsSchema = z
  .object({
    minWorkers: z.number().int().min(1).max(256),
    maxWorkers: z.number().int().min(1).max(256),
    target: z.object({
      /** Frames waiting in the live queue per worker (an HPA AverageValue target). */
      queuePerWorker: z.number().min(0.1).max(100_000),
      /** p95 of server latency; above it the workers grow in proportion (never shrink on it). */
      p95Ms: z.number().min(1).max(600_000),
      /** Share of a worker's capacity to plan for; the rest is headroom for noise. */
      utilization: z.number().min(0.1).max(1),
    }),
    /** HPA's tolerance: a metric within this ratio of its target changes nothing. */
    tolerance: z.number().min(0).max(1),
    /** Frames per second one worker serves (measure it: 1000 / serverInferMs at batch 1). */
    workerCapacityFps: z.number().min(0.01).max(100_000),
    /** Seconds from asking for a worker to its first frame (the what-if replay's model). */
    workerStartSeconds: z.number().min(0).max(3600),
    scaleUp: ScalingRulesSchema,
    scaleDown: ScalingRulesSchema,
    predictive: z.object({
      enabled: z.boolean(),
      /** How far ahead the forecast is read: at least the worker start time. */
      leadMinutes: z.number().int().min(0).max(240),
      /** Multiplies the forecast: 1.2 plans 20 % above it. */
      headroom: z.number().min(1).max(5),
    }),
    /** While workers start (desired > ready), `auto` stations infer in their browsers. */
    offload: z.object({ enabled: z.boolean() }),
    calendar: ShiftCalendarSchema,
  })
  .refine((s) => s.minWorkers <= s.maxWorkers, { message: 'maxWorkers must be at least minWorkers', path: ['maxWorkers'] })
export type ScalingSettings = z.infer<typeof ScalingSettingsSchema>

/** Why the last decision came out as it did (HPA condition reasons where they exist). */
export const ScalingReason = z.enum([
  'DesiredWithinRange',
  'ScaleUpLimit',
  'ScaleDownLimit',
  'TooManyReplicas',
  'TooFewReplicas',
  'ScaleUpStabilized',
  'ScaleDownStabilized',
  'ScalingDisabled',
  'NotStarted',
])
export type ScalingReason = z.infer<typeof ScalingReason>

/** Each metric's own recommendation (workers), before the max, bounds, windows and rates. */
export const RecommendationsSchema = z.object({
  queue: z.number().int().min(0),
  latency: z.number().int().min(0),
  throughput: z.number().int().min(0),
  forecast: z.number().int().min(0),
})
export type Recommendations = z.infer<typeof RecommendationsSchema>

export const ScalingStateSchema = z.object({
  enabled: z.boolean(),
  actuator: z.enum(['local', 'kubernetes', 'none']),
  /** Workers asked for (HPA: spec.replicas). */
  current: z.number().int().min(0),
  /** Workers serving. */
  ready: z.number().int().min(0),
  desired: z.number().int().min(0),
  offload: z.boolean(),
  reason: ScalingReason,
  recommendations: RecommendationsSchema,
  /** Demand the last decision saw, frames/s (all lines), and the forecast it used. */
  demandFps: z.number().min(0),
  forecastFps: z.number().min(0).nullable(),
  at: z.number().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
})
export type ScalingState = z.infer<typeof ScalingStateSchema>

/** GET /api/v1/admin/scaling */
export const ScalingDocSchema = z.object({
  settings: ScalingSettingsSchema,
  /** null: the defaults from the environment, never saved. */
  revision: z.number().nullable(),
  updatedAt: z.number().nullable(),
  updatedBy: z.string().nullable(),
  state: ScalingStateSchema,
})
export type ScalingDoc = z.infer<typeof ScalingDocSchema>

/** POST /api/v1/admin/scaling/what-if: replay recorded load under candidate settings. */
export const WhatIfRequestSchema = z.object({
  settings: ScalingSettingsSchema,
  /** ms since the epoch; default: the 24 hours before `to`. */
  from: z.number().int().min(0).optional(),
  /** default: now. At most 8 days after `from`. */
  to: z.number().int().min(0).optional(),
  line: Id.optional(),
  /**
   * A load from a file instead of the recorded history: `timestamp,value` rows at a regular step
   * of 1 to 60 minutes (at most 2 MB of text); `from`/`to` then lie within it (default: its last day).
   */
  trace: z.object({ csv: z.string().min(1).max(2_000_000), unit: z.enum(['per-step', 'per-second']) }).optional(),
})
export type WhatIfRequest = z.infer<typeof WhatIfRequestSchema>

export const WhatIfPointSchema = z.object({
  minute: z.number(),
  /** Server-bound demand that minute, frames/s (recorded). */
  demandFps: z.number().min(0),
  simulated: z.object({ workers: z.number().min(0), ready: z.number().min(0), queueMax: z.number().min(0), p95Ms: z.number().min(0), offload: z.boolean() }),
  /** What the recorder saw; null for a minute without a record. */
  actual: z.object({ workers: z.number().min(0), queueDepthMax: z.number().min(0), p95Ms: z.number().min(0) }).nullable(),
})
export type WhatIfPoint = z.infer<typeof WhatIfPointSchema>

export const RunSummarySchema = z.object({
  /** Minutes whose queue went above the backlog threshold. */
  backlogMinutes: z.number().min(0),
  /** Integral of workers running (started or starting), minutes. */
  workerMinutes: z.number().min(0),
  maxQueue: z.number().min(0),
})
export type RunSummary = z.infer<typeof RunSummarySchema>

export const WhatIfResultSchema = z.object({
  from: z.number(),
  to: z.number(),
  line: z.string().nullable(),
  backlogThreshold: z.number(),
  points: z.array(WhatIfPointSchema),
  simulated: RunSummarySchema.extend({ offloadMinutes: z.number().min(0), refusedFrames: z.number().min(0) }),
  /** The same figures from the record (minutes without a record count as no workers, no queue). */
  actual: RunSummarySchema,
  /** Recorded minutes in the range; the replay is only as good as the record. */
  recordedMinutes: z.number().int().min(0),
})
export type WhatIfResult = z.infer<typeof WhatIfResultSchema>

/** GET /api/v1/status/history: recorded load, bucketed so a range never has too many points. */
export const HistoryPointSchema = z.object({
  /** Start of the bucket, ms. */
  t: z.number(),
  /** Minutes with a record in the bucket. */
  minutes: z.number().int().min(0),
  framesPerSec: z.number().min(0),
  skippedPerSec: z.number().min(0),
  browserPerSec: z.number().min(0),
  /** browser / received frames (0 without frames). */
  offloadShare: z.number().min(0).max(1),
  queueDepthMax: z.number().min(0),
  /** Workers: the largest of the bucket's minutes, and their mean. */
  workersMax: z.number().min(0),
  workersMean: z.number().min(0),
  /** p95 of the bucket's minutes: the largest and the median minute. */
  p95MsMax: z.number().min(0),
  p95MsMedian: z.number().min(0),
})
export type HistoryPoint = z.infer<typeof HistoryPointSchema>

export const StatusHistorySchema = z.object({
  from: z.number(),
  to: z.number(),
  stepMs: z.number().int().positive(),
  line: z.string().nullable(),
  /** Lines with a record in the range. */
  lines: z.array(z.string()),
  points: z.array(HistoryPointSchema),
})
export type StatusHistory = z.infer<typeof StatusHistorySchema>
