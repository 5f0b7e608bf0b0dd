// Reference data the workbench's pages share, read once per session: the district's clock offset, the case
// classes, the departments and the areas. Each loader caches its promise; a failure is forgotten so that
// the next page tries again, and the pages fall back to showing codes.
import { reactive } from 'vue'
import { get } from '../lib/api'
import { auth } from '../lib/auth'
import type { Area, Department, MajorClass, MinorClass, Page } from './types'

export const refdata = reactive({
  offset: 8, // hours east of UTC; /api/v1/ui/config says the district's
  minors: new Map<string, MinorClass & { major: string }>(),
  majors: [] as MajorClass[],
  departments: new Map<string, Department>(),
  areas: new Map<string, Area>(),
})

const cache = new Map<string, Promise<unknown>>()
function once<T>(key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key) as Promise<T> | undefined
  if (!p) {
    p = load().catch((e: unknown) => {
      cache.delete(key)
      throw e
    })
    cache.set(key, p)
  }
  return p
}

export function loadConfig(): Promise<void> {
  return once('config', async () => {
    const c = await get<{ utc_offset_hours?: number }>('/api/v1/ui/config')
    if (typeof c.utc_offset_hours === 'number') refdata.offset = c.utc_offset_hours
  }).catch(() => undefined)
}

export function loadCategories(): Promise<MajorClass[]> {
  return once('categories', async () => {
    const majors = await get<MajorClass[]>('/api/v1/cases/categories')
    refdata.majors = majors
    for (const m of majors) for (const n of m.minor) refdata.minors.set(n.code, { ...n, major: m.code })
    return majors
  })
}

export function loadDepartments(): Promise<Department[]> {
  return once('departments', async () => {
    const page = await get<Page<Department>>('/api/v1/registry/departments?page_size=200')
    for (const d of page.items) refdata.departments.set(d.code, d)
    return page.items
  })
}

export function loadAreas(level: 'street' | 'community'): Promise<Area[]> {
  return once(`areas:${level}`, async () => {
    const page = await get<Page<Area>>(`/api/v1/registry/areas?level=${level}&page_size=500`)
    for (const a of page.items) refdata.areas.set(a.code, a)
    return page.items
  })
}

/** Everything the case lists name by code; failures leave codes showing. */
export function loadReference(): Promise<void> {
  const jobs: Promise<unknown>[] = [loadConfig(), loadCategories(), loadAreas('street'), loadAreas('community')]
  if (auth.can('registry.read')) jobs.push(loadDepartments())
  return Promise.allSettled(jobs).then(() => undefined)
}

/** A name in the UI's language from the registry's name / name_en pair. */
export function localName(row: { name: string; name_en: string } | undefined, locale: string, fallback: string): string {
  if (!row) return fallback
  return locale.startsWith('zh') ? row.name : row.name_en || row.name
}

/**
 * A protected file (a case photo, the labels sheet) as a blob: URL: an <img> cannot send the bearer token,
 * and the CSP allows blob: images. The caller revokes the URL when done with it.
 */
export async function blobUrl(path: string): Promise<{ url: string; blob: Blob }> {
  const token = auth.token.value
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} })
  if (res.status === 401 && token) auth.expired()
  if (!res.ok) {
    const { ApiError } = await import('../lib/api')
    throw new ApiError(res.status, await res.json().catch(() => null), `${res.status} ${res.statusText}`)
  }
  const blob = await res.blob()
  return { url: URL.createObjectURL(blob), blob }
}
