// The citizens' pages mounted with the platform answered by a stub: the track page shows the state a
// resident expects (word and colour) and the history newest first; the report form refuses an empty text.
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import ReportView from '../src/citizen/ReportView.vue'
import TrackView from '../src/citizen/TrackView.vue'
import { forgetCached } from '../src/citizen/citizenApi'
import { i18n, setLocale } from '../src/i18n'

const REQUEST = {
  service_request_id: '440304-C0201-000017',
  status: 'closed',
  status_notes: '已结案 / Closed：已更换灯具',
  service_name: '路灯不亮或损坏',
  service_code: 'C0201',
  description: '路灯不亮',
  agency_responsible: '福田区市政道路设施管理所',
  service_notice: null,
  requested_datetime: '2025-01-02T08:30:00+08:00',
  updated_datetime: '2025-01-02T15:00:00+08:00',
  expected_datetime: null,
  address: '福华三路',
  lat: 22.54,
  long: 114.05,
  media_url: null,
}
const UPDATES = [
  { update_id: '1', service_request_id: REQUEST.service_request_id, status: 'open', updated_datetime: '2025-01-02T08:30:00+08:00', description: '上报 / Reported（已上报 / Reported）', media_url: null },
  { update_id: '2', service_request_id: REQUEST.service_request_id, status: 'closed', updated_datetime: '2025-01-02T15:00:00+08:00', description: '结案 / Close（已结案 / Closed）：已更换灯具', media_url: null },
]

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

function stubPlatform(routes: Record<string, () => Response>): ReturnType<typeof vi.fn> {
  const fn = vi.fn(async (url: string) => {
    for (const [part, make] of Object.entries(routes)) if (String(url).includes(part)) return make()
    return answer([{ code: 404, description: 'not found' }], 404)
  })
  vi.stubGlobal('fetch', fn)
  return fn
}

const router = () =>
  createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div />' } }] })

afterEach(() => {
  forgetCached()
  vi.unstubAllGlobals()
  setLocale('zh-CN')
})

describe('tracking a report', () => {
  it('shows a closed report as 已办结 in green, with its history newest first', async () => {
    stubPlatform({
      'requests/updates.json': () => answer(UPDATES),
      'requests/440304-C0201-000017.json': () => answer([REQUEST]),
      '/api/v1/ui/config': () => answer({ open311_key: 'k', tile_url: null, district_code: '440304', utc_offset_hours: 8, public_url: '' }),
    })
    const w = mount(TrackView, { props: { number: '440304-C0201-000017' }, global: { plugins: [i18n, router()] } })
    await flushPromises()
    const status = w.get('[data-testid=track-status]')
    expect(status.text()).toContain('已办结')
    expect(status.classes()).toContain('closed')
    expect(w.text()).toContain('已更换灯具')
    const steps = w.findAll('[data-testid=track-history] li')
    expect(steps.map((s) => s.find('strong').text())).toEqual(['结案', '上报'])
  })

  it('says "Open" for a report in progress, in English', async () => {
    setLocale('en')
    stubPlatform({
      'requests/updates.json': () => answer([]),
      'requests/': () => answer([{ ...REQUEST, status: 'open', status_notes: '已派遣 / Dispatched' }]),
      '/api/v1/ui/config': () => answer({ open311_key: null }),
    })
    const w = mount(TrackView, { props: { number: '440304-C0201-000017' }, global: { plugins: [i18n, router()] } })
    await flushPromises()
    const status = w.get('[data-testid=track-status]')
    expect(status.text()).toBe('Open · Dispatched')
    expect(status.attributes('data-status')).toBe('open')
  })

  it('tells the resident when no report has that number', async () => {
    stubPlatform({ '/api/v1/ui/config': () => answer({ open311_key: 'k' }) })
    const w = mount(TrackView, { props: { number: '440304-C0201-999999' }, global: { plugins: [i18n, router()] } })
    await flushPromises()
    expect(w.get('[data-testid=track-notfound]').text()).toContain('440304-C0201-999999')
    expect(w.find('[data-testid=track-status]').exists()).toBe(false)
  })
})

describe('the report form', () => {
  it('refuses an empty description with a clear message and sends nothing', async () => {
    const fetch = stubPlatform({
      'services.json': () => answer([]),
      '/api/v1/ui/config': () => answer({ open311_key: 'k' }),
    })
    const r = router()
    await r.push('/m/report')
    const w = mount(ReportView, { global: { plugins: [i18n, r] }, attachTo: document.body })
    await flushPromises()
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.text()).toContain('请先描述您遇到的问题。')
    expect(w.get('[data-testid=report-description]').attributes('aria-invalid')).toBe('true')
    expect(fetch.mock.calls.some(([url]) => String(url).includes('requests.json'))).toBe(false)
    w.unmount()
  })

  it('says online reporting is not open when the deployment has no key', async () => {
    stubPlatform({ 'services.json': () => answer([]), '/api/v1/ui/config': () => answer({ open311_key: null }) })
    const r = router()
    await r.push('/m/report')
    const w = mount(ReportView, { global: { plugins: [i18n, r] } })
    await flushPromises()
    expect(w.get('[data-testid=report-closed]').text()).toContain('12345')
    expect(w.find('[data-testid=report-submit]').exists()).toBe(false)
  })
})
