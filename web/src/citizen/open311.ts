// Open311 GeoReport v2 as the citizens' pages speak it: building the report form, reading the answers and
// the platform's bilingual texts ("中文 / English") in the reader's language. Pure functions, no network:
// tests/citizen.open311.test.ts covers them.

export const AUTO = 'auto' // the service that lets the classifier choose
export const MAX_DESCRIPTION = 2000
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024 // the platform refuses larger photos
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp']

/** A service of /open311/v2/services.json (a minor class of the taxonomy, or "auto"). */
export interface Service {
  service_code: string
  service_name: string
  description: string
  metadata: boolean
  type: string
  keywords: string
  group: string
}

export interface ServiceGroup {
  name: string
  services: Service[]
}

export interface ReportInput {
  description: string
  serviceCode: string
  lat: number | null
  lon: number | null
  address: string
  facilityCode: string
  name: string
  phone: string
  photo: Blob | null
  photoName?: string
}

export type ReportProblem = 'description' | 'location' | 'phone'

/** One service request as GET /open311/v2/requests/{id}.json answers it. */
export interface ServiceRequest {
  service_request_id: string
  status: 'open' | 'closed' | string
  status_notes: string | null
  service_name: string | null
  service_code: string | null
  description: string | null
  agency_responsible: string | null
  service_notice: string | null
  requested_datetime: string | null
  updated_datetime: string | null
  expected_datetime: string | null
  address: string | null
  lat: number | null
  long: number | null
  media_url: string | null
}

export interface ServiceRequestUpdate {
  update_id: string
  service_request_id: string
  status: string
  updated_datetime: string
  description: string
  media_url: string | null
}

export interface Created {
  number: string | null
  token: string | null
  notice: string | null
}

const isZh = (locale: string) => locale.startsWith('zh')

// --- services -----------------------------------------------------------------------------------------

/** The service's name in the reader's language: the English name opens the description ("Name. 承办 …"). */
export function serviceName(s: Service, locale: string): string {
  if (isZh(locale)) return s.service_name
  const en = s.description.split(/\.\s*承办/)[0]?.trim()
  return en && en !== s.description ? en : s.service_name
}

/**
 * The group (major class) in the reader's language. The keywords are "name, English name, group, English
 * group[, facility kinds…]": the English group follows the group; kinds (machine words) close the list of a
 * service about facilities.
 */
export function groupName(s: Service, locale: string): string {
  if (isZh(locale)) return s.group
  const at = s.keywords.indexOf(`, ${s.group}, `)
  if (at < 0) return s.group
  const rest = s.keywords.slice(at + s.group.length + 4).split(', ')
  // only a service about facilities (metadata: true) lists facility kinds after the group
  while (s.metadata && rest.length > 1 && /^[a-z_]+$/.test(rest[rest.length - 1])) rest.pop()
  return rest.join(', ').trim() || s.group
}

/** Services grouped by their major class, in the platform's order; "auto" is offered apart. */
export function groupServices(services: Service[], locale: string): ServiceGroup[] {
  const groups = new Map<string, ServiceGroup>()
  for (const s of services) {
    if (s.service_code === AUTO) continue
    const name = groupName(s, locale)
    const g = groups.get(s.group) ?? { name, services: [] }
    g.services.push(s)
    groups.set(s.group, g)
  }
  return [...groups.values()]
}

/**
 * A guess at the class from the words alone, for when the platform's classifier is not open to the public:
 * the service whose Chinese name shares the most two-character pieces with the description. Only a hint;
 * with "auto" the platform's classifier still decides.
 */
export function suggestLocally(text: string, services: Service[]): Service | null {
  const t = text.replace(/\s+/g, '')
  if (t.length < 2) return null
  let best: Service | null = null
  let bestScore = 0
  for (const s of services) {
    if (s.service_code === AUTO) continue
    const name = s.service_name.replace(/[（(].*?[)）]/g, '').replace(/\s+/g, '')
    if (name.length >= 2 && t.includes(name)) return s
    const grams = new Set<string>()
    for (let i = 0; i + 2 <= name.length; i++) grams.add(name.slice(i, i + 2))
    let hits = 0
    for (const g of grams) if (t.includes(g)) hits++
    const score = grams.size ? hits / grams.size : 0
    if (hits > 0 && score > bestScore) {
      best = s
      bestScore = score
    }
  }
  return bestScore >= 0.3 ? best : null
}

// --- the report ---------------------------------------------------------------------------------------

const PHONE = /^\+?[0-9][0-9 ()-]{4,24}$/ // the platform's own check

/** What keeps a report from being sent, in the order the form shows them. */
export function checkReport(input: ReportInput): ReportProblem[] {
  const out: ReportProblem[] = []
  if (!input.description.trim()) out.push('description')
  const located = input.lat !== null && input.lon !== null
  if (!located && !input.facilityCode.trim() && !input.address.trim()) out.push('location')
  if (input.phone.trim() && !PHONE.test(input.phone.trim())) out.push('phone')
  return out
}

/** The multipart form POST /open311/v2/requests.json takes. */
export function buildReportForm(input: ReportInput, apiKey: string): FormData {
  const form = new FormData()
  form.set('api_key', apiKey)
  form.set('service_code', input.serviceCode || AUTO)
  form.set('description', input.description.trim())
  if (input.facilityCode.trim()) form.set('attribute[facility_code]', input.facilityCode.trim())
  if (input.lat !== null && input.lon !== null) {
    form.set('lat', input.lat.toFixed(6))
    form.set('long', input.lon.toFixed(6))
  }
  if (input.address.trim()) form.set('address_string', input.address.trim())
  if (input.name.trim()) form.set('first_name', input.name.trim())
  if (input.phone.trim()) form.set('phone', input.phone.trim())
  if (input.photo) form.set('media', input.photo, input.photoName || 'photo.jpg')
  return form
}

/** A photo the platform will take, or the reason it will not. */
export function checkPhoto(file: { size: number; type: string }): 'photoTooLarge' | 'photoType' | null {
  if (file.type && !PHOTO_TYPES.includes(file.type)) return 'photoType'
  if (file.size > MAX_PHOTO_BYTES) return 'photoTooLarge'
  return null
}

/** The answer to a POSTed request: its number, or the token to ask for the number later, and the notice. */
export function parseCreated(answer: unknown): Created {
  const first = (Array.isArray(answer) ? answer[0] : answer) as Record<string, unknown> | undefined
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null)
  return {
    number: str(first?.service_request_id),
    token: str(first?.token),
    notice: str(first?.service_notice),
  }
}

/** The sentence of an Open311 error body ([{code, description}]), or null if the body is something else. */
export function open311Error(body: unknown): string | null {
  if (!Array.isArray(body)) return null
  const texts = body
    .map((e) => (e && typeof e === 'object' ? (e as { description?: unknown }).description : null))
    .filter((d): d is string => typeof d === 'string' && d.length > 0)
  return texts.length ? texts.join(' ') : null
}

/** The number to call at once when the notice is an emergency instruction ("请立即拨打 110"). */
export function emergencyNumber(notice: string | null | undefined): string | null {
  if (!notice) return null
  const m = /立即拨打\s*(\d{3,5})/.exec(notice) ?? /call\s+(\d{3,5})\s+now/i.exec(notice)
  return m ? m[1] : null
}

// --- bilingual texts ----------------------------------------------------------------------------------

/** "中文 / English" in the reader's language; any other text as it is (a staff note is in one language). */
export function pickPair(text: string, locale: string): string {
  const parts = text.split(' / ')
  if (parts.length !== 2) return text
  return (isZh(locale) ? parts[0] : parts[1]).trim()
}

/** status_notes ("已受理 / Accepted：note") as the state's name in the reader's language and the note. */
export function parseStatusNotes(notes: string | null, locale: string): { state: string; note: string } {
  if (!notes) return { state: '', note: '' }
  const m = /^(.+?) \/ (.+?)(?:：([\s\S]*))?$/.exec(notes)
  if (!m) return { state: notes, note: '' }
  return { state: (isZh(locale) ? m[1] : m[2]).trim(), note: pickPair((m[3] ?? '').trim(), locale) }
}

/** An update's description ("派遣 / Dispatch（已派遣 / Dispatched）：note") as step, state and note. */
export function parseUpdate(text: string, locale: string): { step: string; state: string; note: string } {
  const m = /^(.+?) \/ (.+?)（(.+?) \/ (.+?)）(?:：([\s\S]*))?$/.exec(text)
  if (!m) return { step: text, state: '', note: '' }
  const zh = isZh(locale)
  return { step: (zh ? m[1] : m[2]).trim(), state: (zh ? m[3] : m[4]).trim(), note: pickPair((m[5] ?? '').trim(), locale) }
}

/**
 * A notice split into the emergency call (the page says it in the reader's language, with a button to call)
 * and the rest (the time limit, or a consultation's answer) in the reader's language where it is a pair.
 */
export function splitNotice(notice: string | null, locale: string): { callNow: string | null; rest: string } {
  if (!notice) return { callNow: null, rest: '' }
  const callNow = emergencyNumber(notice)
  let rest = notice
  if (callNow) {
    const m = /call\s+\d{3,5}\s+now\.(?:\s*The command centre has been told\.)?\s*([\s\S]*)$/i.exec(notice)
    rest = m ? m[1].trim() : ''
  }
  return { callNow, rest: rest ? pickPair(rest, locale) : '' }
}

/** A W3C date-time as the reader's local wall time, "2025-01-02 08:30" (the platform gives its offset). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso)
  return m ? `${m[1]} ${m[2]}` : iso
}

/** A case number as typed (440304-C0101-000017, or a report's token): without spaces; a number's class code
 * in upper case (tokens are lower-case UUIDs and stay as they are). */
export function normaliseNumber(text: string): string {
  const t = text.replace(/\s+/g, '')
  return /^\d{6}-[a-z]\d{4}-\d+$/i.test(t) ? t.toUpperCase() : t
}
