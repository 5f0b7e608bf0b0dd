// One way to call the platform: the bearer token of the logged-in user, JSON in and out, and the
// platform's bilingual error body turned into an ApiError a page can show.
import { auth } from './auth'

export interface ErrorBody {
  code: string
  message?: string
  messages?: { 'zh-CN': string; en: string }
  detail?: unknown
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly body: ErrorBody | null

  constructor(status: number, body: ErrorBody | null, fallback: string) {
    super(body?.message ?? fallback)
    this.status = status
    this.code = body?.code ?? `http.${status}`
    this.body = body
  }

  /** The sentence to show a person, in their language when the platform gave it. */
  text(locale: string): string {
    const b = this.body
    if (!b) return this.message
    const byLang = b.messages ? (locale.startsWith('zh') ? b.messages['zh-CN'] : b.messages.en) : undefined
    return byLang ?? b.message ?? this.message
  }
}

export interface RequestOptions {
  method?: string
  body?: unknown
  form?: FormData | URLSearchParams
  headers?: Record<string, string>
  signal?: AbortSignal
  anonymous?: boolean
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) }
  const token = opts.anonymous ? null : auth.token.value
  if (token) headers.Authorization = `Bearer ${token}`
  headers['Accept-Language'] = document.documentElement.lang || 'zh-CN'
  let body: BodyInit | undefined
  if (opts.form) body = opts.form
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers['Content-Type'] = 'application/json'
  }
  const res = await fetch(path, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, body, signal: opts.signal })
  if (res.status === 401 && token) auth.expired()
  if (!res.ok) {
    const parsed = (await res.json().catch(() => null)) as ErrorBody | null
    throw new ApiError(res.status, parsed, `${res.status} ${res.statusText}`)
  }
  if (res.status === 204) return undefined as T
  const type = res.headers.get('content-type') ?? ''
  return (type.includes('json') ? await res.json() : await res.text()) as T
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>(path, { signal })
export const post = <T>(path: string, body?: unknown) => request<T>(path, { method: 'POST', body: body ?? {} })

/** Query string from an object, leaving out empty values. */
export function qs(params: Record<string, string | number | boolean | null | undefined>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s ? `?${s}` : ''
}
