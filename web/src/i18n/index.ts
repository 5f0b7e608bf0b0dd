// The message catalogues: zh-CN first, English second. Each area of the UI keeps its own catalogue
// (shell, centre, work, citizen, and later screens) so that screens added by later work bring their strings.
import { createI18n } from 'vue-i18n'
import { catalogues } from './catalogues'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
const KEY = 'urbanbrain.locale'

function initial(): Locale {
  const saved = localStorage.getItem(KEY)
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: catalogues,
  missingWarn: false,
  fallbackWarn: false,
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(KEY, locale)
  document.documentElement.lang = locale
}
document.documentElement.lang = initial()

/** A bilingual value from the platform ({"zh-CN": …, "en": …} or a name/name_en pair) in the UI's language. */
export function pick(value: Record<string, string> | null | undefined, fallback = ''): string {
  if (!value) return fallback
  const lang = i18n.global.locale.value
  return value[lang] ?? value[lang === 'en' ? 'en' : 'zh'] ?? value['zh-CN'] ?? value.zh ?? Object.values(value)[0] ?? fallback
}
