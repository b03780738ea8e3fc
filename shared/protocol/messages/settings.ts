import { z } from 'zod'
import { LineSettingsSchema } from '../../domain/line-settings.ts'
import { UplinkSizeSchema } from './welcome.ts'

/** The administrator changed the line's settings (its model among them); stations apply them live. */
export const SettingsMessageSchema = z.object({ type: z.literal('settings'), settings: LineSettingsSchema, uplink: UplinkSizeSchema.optional() })
export type SettingsMessage = z.infer<typeof SettingsMessageSchema>
