// Pure helpers of the data hub's screens: conditions as the API takes them (a request's and a decision's row
// conditions, the preview's filters), a decision's body, an expiry date as the end of that district day, and
// a grant's standing. Kept free of Vue and fetch so that unit tests cover them.
import type { Grant, Op, RowCondition } from './types'

export const OPS: readonly Op[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in']
export const PREVIEW_PAGE = 20

/** A condition as a form holds it: the value as typed; `in` takes values separated by "|". */
export interface ConditionDraft {
  field: string
  op: Op
  value: string
}

export function emptyCondition(field = ''): ConditionDraft {
  return { field, op: 'eq', value: '' }
}

/** The conditions a form filled in, as the API takes them; a row without a field or a value is left out.
 *  Values stay text: the platform reads them as the field's type (and says which one it could not). */
export function conditionsBody(drafts: readonly ConditionDraft[]): RowCondition[] {
  const out: RowCondition[] = []
  for (const d of drafts) {
    const value = d.value.trim()
    if (!d.field || !value) continue
    out.push({ field: d.field, op: d.op, value: d.op === 'in' ? splitValues(value) : value })
  }
  return out
}

function splitValues(text: string): string[] {
  return text.split('|').map((v) => v.trim()).filter(Boolean)
}

/** The preview's filters as the rows endpoint reads them: field:op:value (`in` values joined by "|"). */
export function filterTexts(drafts: readonly ConditionDraft[]): string[] {
  return conditionsBody(drafts).map((c) => `${c.field}:${c.op}:${Array.isArray(c.value) ? c.value.join('|') : String(c.value)}`)
}

/** The query of one page of a grant's rows: repeated filter and sort parameters, as FastAPI reads lists. */
export function rowsQuery(o: { grant: number; page: number; pageSize: number; sort?: string | null; filters?: readonly string[] }): string {
  const p = new URLSearchParams({ grant: String(o.grant), page: String(o.page), page_size: String(o.pageSize) })
  if (o.sort) p.append('sort', o.sort)
  for (const f of o.filters ?? []) p.append('filter', f)
  return `?${p.toString()}`
}

/** The next sort after a click on a column's header: ascending, then descending, then none. */
export function nextSort(current: string | null, field: string): string | null {
  if (current === field) return `-${field}`
  if (current === `-${field}`) return null
  return field
}

/** A date picked in the form (YYYY-MM-DD) as the moment the grant ends: the end of that day in the district
 *  (its next midnight), in UTC; null for no date. */
export function expiryIso(date: string, offsetHours = 8): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim())
  if (!m) return null
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1) - offsetHours * 3_600_000
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

export interface ApprovalDraft {
  fields: string[] // of those asked, the ones approved
  clear: string[] // of the approved protected ones, those served unmasked
  expires: string // YYYY-MM-DD or ''
  rows: ConditionDraft[]
  reason: string
}

/** An approval's body: only what the steward chose; fields in the order they were asked. */
export function approvalBody(asked: readonly string[], d: ApprovalDraft, offsetHours = 8): Record<string, unknown> {
  const fields = asked.filter((f) => d.fields.includes(f))
  const body: Record<string, unknown> = { decision: 'approve', fields, clear: fields.filter((f) => d.clear.includes(f)) }
  const rows = conditionsBody(d.rows)
  if (rows.length) body.rows = rows
  const expires = expiryIso(d.expires, offsetHours)
  if (expires) body.expires_at = expires
  if (d.reason.trim()) body.reason = d.reason.trim()
  return body
}

export type GrantStanding = 'active' | 'revoked' | 'expired'

export function standing(g: Pick<Grant, 'active' | 'revoked_at'>): GrantStanding {
  if (g.active) return 'active'
  return g.revoked_at ? 'revoked' : 'expired'
}

/** One condition for people to read: "street_code = 440304004", "age ≥ 80", "kind ∈ a, b". */
const OP_SIGNS: Record<Op, string> = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤', in: '∈' }
export function conditionText(c: RowCondition): string {
  const value = Array.isArray(c.value) ? c.value.join(', ') : String(c.value)
  return `${c.field} ${OP_SIGNS[c.op] ?? c.op} ${value}`
}

/** A file name from a Content-Disposition header, else the fallback. */
export function attachmentName(header: string | null, fallback: string): string {
  const m = header ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header) : null
  return m ? decodeURIComponent(m[1]) : fallback
}

/** Who acted, from the platform's actor string: "user:civil" → "civil"; other actors as they are. */
export function actorName(actor: string | null | undefined): string {
  if (!actor) return ''
  return actor.startsWith('user:') ? actor.slice(5) : actor
}

/** A cell of a preview as text: null as an empty cell, objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

/** The workbench's badge tones (work.css) for a sharing class, a request's state and a grant's standing. */
const TONES: Record<string, string> = {
  unconditional: 'tone-green',
  conditional: 'tone-amber',
  not_shared: 'tone-grey',
  pending: 'tone-amber',
  approved: 'tone-green',
  refused: 'tone-red',
  active: 'tone-green',
  revoked: 'tone-red',
  expired: 'tone-grey',
}
export function tone(word: string): string {
  return TONES[word] ?? 'tone-grey'
}

/** A dataset's title in the UI's language. */
export function titleOf(d: { title_zh: string; title_en: string }, locale: string): string {
  return locale.startsWith('zh') ? d.title_zh : d.title_en || d.title_zh
}

/** A field's description in the UI's language (the Chinese one where no English was given). */
export function describe(f: { description: string; description_en: string }, locale: string): string {
  return locale.startsWith('zh') ? f.description || f.description_en : f.description_en || f.description
}
