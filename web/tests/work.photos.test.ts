// Photos of fire hazards from a grid worker's phone: each hazard's photos go to that hazard once the
// inspection has given it a code; a failed upload does not stop the others and is reported by code.
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../src/i18n'
import { photoSteps, sendFoundPhotos, type HazardDraft } from '../src/work/fire'
import PhotoPicker from '../src/work/PhotoPicker.vue'

type Sent = { url: string; files: string[] }

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

const photo = (name: string, type = 'image/jpeg', size = 2000) => new File([new Uint8Array(size)], name, { type })

function stubPlatform(failFor: string | null = null): Sent[] {
  const sent: Sent[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const form = init?.body as FormData
      sent.push({ url: String(url), files: form.getAll('files').map((f) => (f as File).name) })
      if (failFor && String(url).includes(failFor)) {
        return answer({ code: 'photo.type', message: 'Unsupported photo', messages: { 'zh-CN': '照片格式不支持', en: 'Unsupported photo' } }, 415)
      }
      return answer({ code: 'x', history: [] }, 201)
    }),
  )
  return sent
}

afterEach(() => vi.unstubAllGlobals())

const drafts: HazardDraft[] = [
  { type_code: 'ebike_charging', severity: 'major', description: '楼道充电', photos: [photo('a.jpg'), photo('b.jpg')] },
  { type_code: 'blocked_escape', severity: 'general', description: '杂物', photos: [] },
  { type_code: 'private_wiring', severity: 'general', description: '私拉电线', photos: [photo('c.jpg')] },
]
const made = [{ code: 'YH-20261207-0001' }, { code: 'YH-20261207-0002' }, { code: 'YH-20261207-0003' }]

describe('photos of the hazards an inspection found', () => {
  it('sends each hazard its own photos, multipart, and skips hazards without any', async () => {
    const sent = stubPlatform()
    expect(await sendFoundPhotos(drafts, made)).toEqual([])
    expect(sent).toEqual([
      { url: '/api/v1/fire_safety/hazards/YH-20261207-0001/photos', files: ['a.jpg', 'b.jpg'] },
      { url: '/api/v1/fire_safety/hazards/YH-20261207-0003/photos', files: ['c.jpg'] },
    ])
  })

  it('goes on past a failed upload and names the hazard whose photos are missing', async () => {
    const sent = stubPlatform('0001')
    const failed = await sendFoundPhotos(drafts, made)
    expect(failed.map((f) => f.code)).toEqual(['YH-20261207-0001'])
    expect(sent.map((s) => s.url.split('/')[5])).toEqual(['YH-20261207-0001', 'YH-20261207-0003'])
  })

  it('lists the steps that have photos, in order', () => {
    const step = (transition: string, photos: number[]) => ({ at: '2026-12-07T01:00:00Z', actor: 'u', transition, from_state: null, to_state: 'open', note: null, inspection_code: null, photos })
    expect(photoSteps({ history: [step('found', [3, 4]), step('overdue', []), step('rectify', [9])] }).map((s) => [s.transition, s.photos])).toEqual([
      ['found', [3, 4]],
      ['rectify', [9]],
    ])
  })
})

describe('the photo picker', () => {
  beforeEach(() => {
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined }))
  })

  async function choose(files: File[]) {
    const w = mount(PhotoPicker, { props: { modelValue: [], label: 'Photos', testid: 'p' }, global: { plugins: [i18n] } })
    const input = w.get('[data-testid=p]')
    Object.defineProperty(input.element, 'files', { value: files })
    await input.trigger('change')
    await flushPromises()
    return w
  }

  it('opens the rear camera on a phone and takes only photos', async () => {
    const w = await choose([photo('a.jpg')])
    expect(w.get('input').attributes('capture')).toBe('environment')
    expect(w.get('input').attributes('accept')).toBe('image/jpeg,image/png,image/webp')
    const [[files]] = w.emitted('update:modelValue') as [File[]][]
    expect(files.map((f) => f.name)).toEqual(['a.jpg'])
  })

  it('refuses a file that is not a photo before anything is sent, and says which', async () => {
    i18n.global.locale.value = 'en'
    const w = await choose([photo('a.jpg'), photo('notes.pdf', 'application/pdf')])
    expect(w.emitted('update:modelValue')?.[0]).toEqual([[]])
    expect(w.get('[role=alert]').text()).toContain('notes.pdf')
    i18n.global.locale.value = 'zh-CN'
  })
})
