/**
 * One codec for the JSON side of the protocol. Messages are unions tagged by `type`; parsing
 * never throws, and an invalid message yields a `WireError` that names what was wrong.
 */
import { z } from 'zod'
import { AckMessageSchema } from './messages/ack.ts'
import { BackendMessageSchema } from './messages/backend.ts'
import { BrowserResultMessageSchema } from './messages/browser-result.ts'
import { CreditMessageSchema } from './messages/credit.ts'
import { ErrorMessageSchema, type WireError } from './messages/error.ts'
import { EvidenceMissingMessageSchema, EvidenceRequestMessageSchema } from './messages/evidence.ts'
import { HelloMessageSchema } from './messages/hello.ts'
import { LoadMessageSchema } from './messages/load.ts'
import { PartEndMessageSchema } from './messages/part-end.ts'
import { ResultMessageSchema } from './messages/result.ts'
import { SettingsMessageSchema } from './messages/settings.ts'
import { ShadowMessageSchema } from './messages/shadow.ts'
import { SkipsMessageSchema } from './messages/skips.ts'
import { SubscribeMessageSchema, SubscribedMessageSchema } from './messages/subscribe.ts'
import { TriggerMessageSchema } from './messages/trigger.ts'
import { WelcomeMessageSchema } from './messages/welcome.ts'

/** Messages a client (station or kiosk) sends. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  HelloMessageSchema,
  SubscribeMessageSchema,
  SkipsMessageSchema,
  BrowserResultMessageSchema,
  BackendMessageSchema,
  ShadowMessageSchema,
  PartEndMessageSchema,
  EvidenceMissingMessageSchema,
])
export type ClientMessage = z.infer<typeof ClientMessageSchema>

/** Messages the server sends. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  WelcomeMessageSchema,
  CreditMessageSchema,
  AckMessageSchema,
  ResultMessageSchema,
  LoadMessageSchema,
  SettingsMessageSchema,
  SubscribedMessageSchema,
  ErrorMessageSchema,
  TriggerMessageSchema,
  EvidenceRequestMessageSchema,
])
export type ServerMessage = z.infer<typeof ServerMessageSchema>

/** Largest JSON message accepted, characters. A browser result with 1000 detections fits. */
export const MAX_JSON_MESSAGE = 256 * 1024

export type Parsed<T> = { ok: true; message: T } | { ok: false; error: WireError; id?: string }

function parseWith<T>(schema: z.ZodType<T>, text: string): Parsed<T> {
  if (text.length > MAX_JSON_MESSAGE) {
    return { ok: false, error: { code: 'too_large', message: `message of ${text.length} characters exceeds ${MAX_JSON_MESSAGE}` } }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return { ok: false, error: { code: 'bad_json', message: `message is not JSON: ${(e as Error).message}` } }
  }
  const id = typeof (json as { id?: unknown })?.id === 'string' ? ((json as { id: string }).id.slice(0, 64)) : undefined
  const parsed = schema.safeParse(json)
  if (parsed.success) return { ok: true, message: parsed.data }
  const type = typeof (json as { type?: unknown })?.type === 'string' ? (json as { type: string }).type.slice(0, 40) : undefined
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || 'message'}: ${i.message}`)
    .join('; ')
  const r: Parsed<T> = { ok: false, error: { code: 'bad_message', message: `invalid ${type ? `"${type}" ` : ''}message: ${issues}` } }
  if (id !== undefined) r.id = id
  return r
}

export const parseClientMessage = (text: string): Parsed<ClientMessage> => parseWith(ClientMessageSchema, text)
export const parseServerMessage = (text: string): Parsed<ServerMessage> => parseWith(ServerMessageSchema, text)

export function encodeMessage(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message)
}
