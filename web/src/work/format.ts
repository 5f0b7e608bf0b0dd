// Pure helpers for showing times and deadlines: every time is shown in the district's local time (UTC+8 for
// Futian, or what /api/v1/ui/config says), whatever the browser's own zone, so a dispatcher and a handler
// on a laptop set to another zone read the same clock.
import type { CaseItem } from './types'

export type Sla = 'ok' | 'warning' | 'breached' | 'none'

/** A platform timestamp as epoch milliseconds; one without an offset is UTC (how the server stores it). */
export function toMs(iso: string): number {
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso)
  return Date.parse(hasZone ? iso : `${iso}Z`)
}

const pad = (n: number) => String(n).padStart(2, '0')

/** "2024-05-14 09:32" in the district's local time; an empty string for no time. */
export function localTime(iso: string | null | undefined, offsetHours = 8, withDate = true): string {
  if (!iso) return ''
  const ms = toMs(iso)
  if (Number.isNaN(ms)) return ''
  const d = new Date(ms + offsetHours * 3_600_000)
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  if (!withDate) return time
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${time}`
}

/** The states in which the time to resolve runs (the SLA applies). */
const WORKING = new Set(['dispatched', 'accepted', 'in_progress'])

/**
 * ok / warning / breached for a case that is being worked; "none" where no clock runs (in triage, resolved,
 * closed). The server's own judgement wins when it sends one; otherwise: past a deadline is breached, past
 * the warning time (or 80% of the way from dispatch to the deadline, as the platform warns) is a warning.
 */
export function slaState(c: Pick<CaseItem, 'state' | 'overdue' | 'dispatched_at' | 'accept_due_at' | 'resolve_due_at' | 'resolve_warn_at' | 'sla'>, now = Date.now()): Sla {
  if (c.state === 'suspended') return 'none'
  if (!WORKING.has(c.state)) return 'none'
  if (c.sla) return c.sla
  if (c.overdue) return 'breached'
  const due = c.resolve_due_at ? toMs(c.resolve_due_at) : NaN
  if (Number.isNaN(due)) return 'ok'
  if (due <= now) return 'breached'
  if (c.state === 'dispatched' && c.accept_due_at && toMs(c.accept_due_at) <= now) return 'breached'
  if (c.resolve_warn_at) return toMs(c.resolve_warn_at) <= now ? 'warning' : 'ok'
  const start = c.dispatched_at ? toMs(c.dispatched_at) : NaN
  if (Number.isNaN(start) || start >= due) return 'ok'
  return now >= start + 0.8 * (due - start) ? 'warning' : 'ok'
}

/** The deadline that matters now: to accept while dispatched (if still ahead), else to resolve. */
export function currentDeadline(c: Pick<CaseItem, 'state' | 'accept_due_at' | 'resolve_due_at'>): string | null {
  if (!WORKING.has(c.state) && c.state !== 'suspended') return null
  if (c.state === 'dispatched' && c.accept_due_at) return c.accept_due_at
  return c.resolve_due_at
}

/** Whole minutes left until a time (negative when past). */
export function minutesLeft(iso: string, now = Date.now()): number {
  return Math.round((toMs(iso) - now) / 60_000)
}

/** A span of minutes as {n, unit} for the catalogue: "3 h", "2 d", "45 min". */
export function span(minutes: number): { n: number; unit: 'min' | 'h' | 'd' } {
  const m = Math.abs(minutes)
  if (m < 60) return { n: m, unit: 'min' }
  if (m < 48 * 60) return { n: Math.round(m / 60), unit: 'h' }
  return { n: Math.round(m / 1440), unit: 'd' }
}

/** 0.8321 → "83%". */
export function percent(x: number | null | undefined): string {
  if (x === null || x === undefined) return ''
  if (x > 0 && x < 0.005) return '<1%'
  return `${Math.round(x * 100)}%`
}

/** Who did a step, from the platform's actor string: "user:handler" → {kind: "user", name: "handler"}. */
export function actorOf(actor: string): { kind: string; name: string } {
  const at = actor.indexOf(':')
  if (at < 0) return { kind: actor, name: '' }
  return { kind: actor.slice(0, at), name: actor.slice(at + 1) }
}

/** A file size for people: 2.4 MB, 820 KB. */
export function fileSize(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`
  return `${Math.max(1, Math.round(bytes / 1000))} KB`
}
