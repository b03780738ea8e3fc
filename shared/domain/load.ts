import { z } from 'zod'

/** Where a line's frames are inferred; set by the administrator per line. */
export const RoutingPolicy = z.enum(['server-only', 'auto', 'browser-preferred'])
export type RoutingPolicy = z.infer<typeof RoutingPolicy>

/** What the server tells stations about its load, every 500 ms and inside every result. */
export const LoadReportSchema = z.object({
  at: z.number(),
  queueDepth: z.number().int().min(0),
  inFlight: z.number().int().min(0),
  workers: z.number().int().min(0),
  /** p95 of server-side latency (receive -> result) over the last minute, ms. */
  p95Ms: z.number().min(0),
  /** Expected time a new frame waits before a worker takes it, ms. */
  estimatedWaitMs: z.number().min(0),
  /** Model time per frame on the server, ms. */
  serverInferMs: z.number().min(0),
  policy: RoutingPolicy,
  paused: z.boolean(),
  /** Set by the scaling policy while workers start: auto stations should infer locally. */
  offload: z.boolean().optional(),
})
export type LoadReport = z.infer<typeof LoadReportSchema>
