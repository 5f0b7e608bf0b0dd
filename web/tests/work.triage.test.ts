// Routing from the triage queue: a route is a class and a department, and the dispatch carries both, so a
// returned or registered case filed under the wrong class goes out under the class the dispatcher chose.
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../src/i18n'
import { refdata } from '../src/work/data'
import { routeCase } from '../src/work/triage'
import TriageRow from '../src/work/TriageRow.vue'
import type { CaseItem } from '../src/work/types'

type Call = { url: string; body: Record<string, unknown> | null }

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

/** A platform that answers every action with the case one version on, and records what was sent. */
function stubPlatform(): Call[] {
  const calls: Call[] = []
  let version = 4
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : null
      calls.push({ url: String(url), body })
      if (String(url).endsWith('/api/v1/cases/classify')) return answer({ top: [['C0101', 0.62], ['E0101', 0.2]] })
      if (String(url).includes('/actions/')) return answer({ id: 7, number: '440304-E0101-000003', state: 'dispatched', version: ++version, history: [] })
      return answer({ items: [], total: 0 })
    }),
  )
  return calls
}

const actions = (calls: Call[]) => calls.filter((c) => c.url.includes('/actions/'))

const RETURNED = {
  id: 7,
  number: '440304-E0101-000003',
  state: 'returned',
  state_name: { 'zh-CN': '已退回', en: 'Returned for re-routing' },
  source: 'app',
  category_code: 'E0101',
  category_name: { 'zh-CN': '暴露垃圾', en: 'Exposed rubbish' },
  description: '路口井盖松动，踩上去咣当响',
  street_code: '440304004',
  community_code: '440304004028',
  address: null,
  classified_as: 'E0101',
  classification_confidence: 0.4,
  triage_reason: 'returned',
  emergency: false,
  reported_at: '2026-12-07T01:02:03Z',
  version: 4,
} as unknown as CaseItem

afterEach(() => vi.unstubAllGlobals())

describe('routing a case from triage', () => {
  it('registers a reported case with the class, then dispatches it with the class and the department', async () => {
    const calls = stubPlatform()
    await routeCase({ id: 9, state: 'reported', version: 1 }, { category: 'C0101', department: 'water' })
    expect(actions(calls).map((c) => [c.url, c.body])).toEqual([
      ['/api/v1/cases/9/actions/register', { version: 1, category_code: 'C0101' }],
      ['/api/v1/cases/9/actions/dispatch', { version: 5, department_code: 'water', category_code: 'C0101' }],
    ])
  })

  it('dispatches a returned case under the class of the route chosen, not the class it had', async () => {
    const calls = stubPlatform()
    refdata.minors.set('C0101', { code: 'C0101', department: 'water', major: 'C01' } as never)
    refdata.minors.set('E0101', { code: 'E0101', department: 'urban_management', major: 'E01' } as never)
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { template: '<div />' } }, { path: '/work/cases/:ref', name: 'case', component: { template: '<div />' } }] })
    const row = mount({ components: { TriageRow }, template: '<table><TriageRow :item="item" /></table>', data: () => ({ item: RETURNED }) }, {
      global: { plugins: [i18n, router] },
      attachTo: document.body,
    })
    await flushPromises()
    const route = row.find('[data-testid="triage-route"][data-category="C0101"]')
    expect(route.attributes('data-department')).toBe('water')
    await route.trigger('click')
    await flushPromises()
    expect(actions(calls).map((c) => [c.url, c.body])).toEqual([
      ['/api/v1/cases/7/actions/dispatch', { version: 4, department_code: 'water', category_code: 'C0101' }],
    ])
    await row.find('[data-testid="triage-other"]').trigger('click')
    expect(row.find('[data-testid="triage-category"]').exists()).toBe(true) // the class can be chosen too
    row.unmount()
  })
})
