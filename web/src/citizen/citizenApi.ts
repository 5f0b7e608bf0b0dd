// The calls the citizens' pages make. No login: the platform's public endpoints and Open311 with the
// deployment's public key from /api/v1/ui/config. Open311 answers its errors as [{code, description}], so it
// has its own fetch that turns them into the sentence to show.
import { ApiError, qs, request } from '../lib/api'
import {
  open311Error,
  parseCreated,
  type Created,
  type Service,
  type ServiceRequest,
  type ServiceRequestUpdate,
} from './open311'

export interface UiConfig {
  open311_key: string | null
  tile_url: string | null
  district_code: string
  utc_offset_hours: number
  public_url: string
}

export interface PublicFacility {
  code: string
  kind: string
  kind_name: Record<string, string>
  name: string
  status: string
  owner_department_name: string | null
  responsible_person: string | null
  responsible_phone: string | null
  settings: Record<string, unknown>
  lon: number | null
  lat: number | null
  street_name: string | null
  community_name: string | null
  installed_on?: string | null
  /** The case classes about this kind of facility (offered first on the report form). */
  categories?: { code: string; name: string; name_en: string }[]
}

export interface Classified {
  label: string
  confidence: number
  confident: boolean
  kind: string
  emergency: boolean
  call_now: string | null
}

export interface FeedbackCase {
  number: string | null
  title: string
  state: string
  state_name: Record<string, string>
  reported_at: string
  resolved_at: string | null
  resolution: string | null
}

export interface FeedbackResult {
  state: string
  verification_passed: boolean | null
  satisfaction: number | null
}

/** An Open311 refusal, with the platform's sentence. */
export class Open311Error extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Whether the platform answered in its error shape (otherwise a proxy or network fault). */
    readonly body: boolean,
  ) {
    super(message)
  }
}

const lang = () => document.documentElement.lang || 'zh-CN'

async function open311<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`/open311/v2/${path}`, {
    ...init,
    headers: { Accept: 'application/json', 'Accept-Language': lang() },
  })
  const body: unknown = await res.json().catch(() => null)
  if (!res.ok) {
    const text = open311Error(body)
    throw new Open311Error(res.status, text ?? `${res.status} ${res.statusText}`, text !== null)
  }
  return body as T
}

let config: Promise<UiConfig> | null = null
/** The deployment's public settings, asked once per page load (a failed answer is asked again). */
export function uiConfig(): Promise<UiConfig> {
  config ??= request<UiConfig>('/api/v1/ui/config', { anonymous: true }).catch((e: unknown) => {
    config = null
    throw e
  })
  return config
}

let services: Promise<Service[]> | null = null

/** Forget the answers kept for the page's life (the unit tests start each case afresh). */
export function forgetCached(): void {
  config = null
  services = null
}

export function loadServices(): Promise<Service[]> {
  services ??= open311<Service[]>('services.json').catch((e: unknown) => {
    services = null
    throw e
  })
  return services
}

export async function submitReport(form: FormData): Promise<Created> {
  return parseCreated(await open311<unknown>('requests.json', { method: 'POST', body: form }))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The number for a report's token: the intake registers a report within moments, so ask a few times. */
export async function resolveToken(token: string, tries = 6, everyMs = 1500): Promise<string | null> {
  for (let i = 0; i < tries; i++) {
    await sleep(everyMs)
    try {
      const found = await open311<{ service_request_id: string | null }[]>(`tokens/${encodeURIComponent(token)}.json`)
      if (found[0]?.service_request_id) return found[0].service_request_id
    } catch {
      // not there yet (or a passing network fault): try again
    }
  }
  return null
}

async function keyParam(): Promise<string> {
  const key = await uiConfig().then((c) => c.open311_key, () => null)
  return key ?? ''
}

export async function fetchRequest(ref: string): Promise<ServiceRequest | null> {
  const found = await open311<ServiceRequest[]>(
    `requests/${encodeURIComponent(ref)}.json${qs({ api_key: await keyParam() })}`,
  )
  return found[0] ?? null
}

export async function fetchUpdates(ref: string): Promise<ServiceRequestUpdate[]> {
  return open311<ServiceRequestUpdate[]>(
    `requests/updates.json${qs({ service_request_id: ref, api_key: await keyParam() })}`,
  )
}

/**
 * The platform's classifier on the text (no login needed). Should a deployment close it, the answer is
 * `locked` and the form guesses from the service names instead.
 */
export async function classify(text: string, signal?: AbortSignal): Promise<Classified | 'locked'> {
  try {
    return await request<Classified>('/api/v1/cases/classify', { method: 'POST', body: { text }, signal, anonymous: true })
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return 'locked'
    throw e
  }
}

export const publicFacility = (code: string) =>
  request<PublicFacility>(`/api/v1/registry/public/facilities/${encodeURIComponent(code)}`, { anonymous: true })

export const feedbackCase = (key: string) =>
  request<FeedbackCase>(`/api/v1/cases/feedback/${encodeURIComponent(key)}`, { anonymous: true })

export const sendFeedback = (key: string, satisfaction: number, comment: string) =>
  request<FeedbackResult>(`/api/v1/cases/feedback/${encodeURIComponent(key)}`, {
    method: 'POST',
    anonymous: true,
    body: { satisfaction, comment: comment.trim() || null },
  })

/**
 * The sentence to show for a failed call: Open311's description, the platform's sentence in the reader's
 * language (its `messages` are keyed "zh-CN"/"en"), or `fallback` when the server could not be reached.
 */
export function errorText(e: unknown, locale: string, fallback: string): string {
  if (e instanceof Open311Error) return e.body ? e.message : fallback
  if (e instanceof ApiError && e.body) {
    const m = e.body?.messages as Record<string, string> | undefined
    const byLang = locale.startsWith('zh') ? (m?.['zh-CN'] ?? m?.zh) : m?.en
    return byLang ?? e.text(locale)
  }
  return fallback
}
