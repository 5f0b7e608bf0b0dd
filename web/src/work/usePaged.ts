// A paged list read from the platform: the page shown, its rows, the total, loading and the error sentence.
// Every list in the workbench uses it, so paging, reloading and errors behave the same on each.
import { ref, shallowRef, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ApiError, get } from '../lib/api'
import type { Page } from './types'

export function usePaged<T>(path: () => string, pageSize = 20) {
  const { locale, t } = useI18n()
  const page = ref(1)
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const total = ref(0)
  const loading = ref(false)
  const error = ref('')
  const loaded = ref(false)
  let seq = 0

  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = ''
    const base = path()
    const sep = base.includes('?') ? '&' : '?'
    try {
      const body = await get<Page<T>>(`${base}${sep}page=${page.value}&page_size=${pageSize}`)
      if (mine !== seq) return // a newer request answers for the page now shown
      items.value = body.items
      total.value = body.total
      loaded.value = true
      // the last item of the last page was handled away: step back a page
      if (body.items.length === 0 && page.value > 1 && body.total > 0) {
        page.value = Math.max(1, Math.ceil(body.total / pageSize))
      }
    } catch (e) {
      if (mine !== seq) return
      error.value = e instanceof ApiError ? e.text(locale.value) : t('shell.error.network')
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  watch(page, () => void load())
  return { page, pageSize, items, total, loading, loaded, error, load }
}

/** How many pages a total makes (at least one, so "page 1 of 1" reads right for an empty list). */
export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize))
}
