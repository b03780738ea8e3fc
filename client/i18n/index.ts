import { createI18n } from 'vue-i18n'
import en from './en.json'
import zhCN from './zh-CN.json'
import { browserLanguages, FALLBACK_LOCALE, pickLocale, storedLocale, storeLocale, type Locale } from './locale.ts'

const time = { time: { hour: '2-digit', minute: '2-digit', second: '2-digit' } } as const
const percent = { percent: { style: 'percent', maximumFractionDigits: 1 } } as const

export const i18n = createI18n({
  legacy: false,
  locale: pickLocale(storedLocale(), browserLanguages()),
  fallbackLocale: FALLBACK_LOCALE,
  messages: { en, 'zh-CN': zhCN },
  datetimeFormats: { en: time, 'zh-CN': time },
  numberFormats: { en: percent, 'zh-CN': percent },
})

/** Switches the language now and for the next visits. */
export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
  storeLocale(locale)
}
