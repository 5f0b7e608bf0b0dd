// An authenticated download: the export endpoint needs the bearer token, which a plain link cannot send, so the
// file is fetched and handed to the browser as a blob: URL (the CSP allows blob:), then let go.
import { ApiError } from '../lib/api'
import { auth } from '../lib/auth'
import { attachmentName } from './hub'

export async function download(path: string, fallbackName: string): Promise<{ name: string; records: number | null }> {
  const token = auth.token.value
  const res = await fetch(path, {
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Accept-Language': document.documentElement.lang || 'zh-CN' },
  })
  if (res.status === 401 && token) auth.expired()
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null), `${res.status} ${res.statusText}`)
  const blob = await res.blob()
  const name = attachmentName(res.headers.get('content-disposition'), fallbackName)
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000)
  const count = Number(res.headers.get('x-record-count'))
  return { name, records: Number.isFinite(count) && res.headers.has('x-record-count') ? count : null }
}
