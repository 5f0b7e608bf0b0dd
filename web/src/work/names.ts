// Names for the codes a case carries (class, department, street, community) in the UI's language, from the
// reference data (data.ts); a code with no name known yet shows as itself.
import { useI18n } from 'vue-i18n'
import { pick } from '../i18n'
import { localName, refdata } from './data'
import type { CaseItem } from './types'

export function useNames() {
  const { locale } = useI18n()
  const department = (code: string | null | undefined): string =>
    code ? localName(refdata.departments.get(code), locale.value, code) : ''
  const area = (code: string | null | undefined): string => (code ? localName(refdata.areas.get(code), locale.value, code) : '')
  const category = (code: string | null | undefined, given?: Record<string, string> | null): string => {
    if (given) return pick(given)
    if (!code) return ''
    const minor = refdata.minors.get(code)
    return minor ? pick(minor.name) : code
  }
  /** Where a case is: its address, else its community and street. */
  const place = (c: Pick<CaseItem, 'address' | 'street_code' | 'community_code'>): string =>
    c.address || [area(c.street_code), area(c.community_code)].filter(Boolean).join(' · ')
  return { department, area, category, place }
}
