import { z } from 'zod'
import { LineSettingsSchema } from '../../domain/line-settings.ts'

/** The administrator changed the line's settings; stations apply them live. */
export const SettingsMessageSchema = z.object({ type: z.literal('settings'), settings: LineSettingsSchema })
export type SettingsMessage = z.infer<typeof SettingsMessageSchema>
