// The live feed's items as the right-hand panel lists them: what happened, when, how urgent, and a line of text
// made from the catalogue (names of alarm types, levels, classes, departments and buildings looked up).
import type { FeedItem } from '../lib/stream'
import { LEVELS, type Level, type MapAlarm } from './mapLayers'

export type FeedKind = 'alarm' | 'case' | 'sla' | 'incident'

export interface FeedEntry {
  key: string
  kind: FeedKind
  event: string
  at: number // ms; the alarm's raise/clear time when it has one, else when the item arrived
  level: Level | null
  number: string | null // a case's number (case and sla items; an alarm's case when it has one)
  alarm: MapAlarm | null
  category: string | null
  department: string | null
  title?: string | null // an incident's title
}

export const FEED_MAX = 100

const ALARM_EVENTS = new Set(['raised', 'acknowledged', 'cleared', 'case_opened'])
const CASE_EVENTS = new Set(['reported', 'registered', 'dispatched', 'closed', 'reassigned', 'escalated', 'emergency', 'returned', 'resolved', 'verified', 'accepted', 'answered', 'triaged'])

type Data = Record<string, unknown>
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** The alarm a feed item carries, in the map's shape. */
export function alarmOf(d: Data): MapAlarm | null {
  const id = num(d.alarm_id) ?? num(d.id)
  if (id === null) return null
  return {
    id,
    alarm_type: str(d.alarm_type) ?? '',
    level: str(d.level) ?? 'blue',
    status: str(d.status) ?? 'active',
    origin: str(d.origin) ?? '',
    building_code: str(d.building_code),
    lon: num(d.lon),
    lat: num(d.lat),
    raised_at: str(d.raised_at) ?? new Date().toISOString(),
    cleared_at: str(d.cleared_at),
    case_number: str(d.case_number),
  }
}

/** A feed item as an entry, or null for what the centre does not list. `now` is the platform's time. */
export function toEntry(item: FeedItem, now: number, seq: number): FeedEntry | null {
  if (typeof item.data !== 'object' || item.data === null) return null
  const d = item.data as Data
  const event = str(d.event) ?? ''
  const key = `${item.event}:${item.id ?? ''}:${event}:${seq}`
  if (item.event === 'alarm') {
    if (!ALARM_EVENTS.has(event)) return null
    const alarm = alarmOf(d)
    if (!alarm) return null
    const level = (LEVELS as readonly string[]).includes(alarm.level) ? (alarm.level as Level) : null
    const at = event === 'raised' ? Date.parse(alarm.raised_at) : event === 'cleared' && alarm.cleared_at ? Date.parse(alarm.cleared_at) : now
    return { key, kind: 'alarm', event, at: Number.isFinite(at) ? at : now, level, number: alarm.case_number ?? null, alarm, category: null, department: null }
  }
  if (item.event === 'case' || item.event === 'sla') {
    const kind: FeedKind = item.event
    if (kind === 'case' && !CASE_EVENTS.has(event)) return null
    const level: Level | null = event === 'sla_breached' || event === 'emergency' ? 'red' : event === 'sla_warning' ? 'orange' : null
    return { key, kind, event, at: now, level, number: str(d.number), alarm: null, category: str(d.category_code), department: str(d.department_code) }
  }
  if (item.event === 'incident') {
    if (!INCIDENT_EVENTS.has(event)) return null
    const level = (LEVELS as readonly string[]).includes(str(d.level) ?? '') ? (d.level as Level) : null
    return { key, kind: 'incident', event, at: now, level, number: str(d.code), alarm: null, category: null, department: null, title: str(d.title) }
  }
  return null
}
const INCIDENT_EVENTS = new Set(['started', 'escalated', 'stood_down'])

/** An alarm from the list or the day's timeline as a "raised" (or "cleared") entry. */
export function entryOfAlarm(a: MapAlarm, event: 'raised' | 'cleared' = 'raised'): FeedEntry {
  const level = (LEVELS as readonly string[]).includes(a.level) ? (a.level as Level) : null
  const at = Date.parse((event === 'cleared' ? a.cleared_at : a.raised_at) ?? '')
  return { key: `seed:${event}:${a.id}`, kind: 'alarm', event, at: Number.isFinite(at) ? at : 0, level, number: a.case_number ?? null, alarm: a, category: null, department: null }
}

/**
 * The feed's first lines before anything happens live: the alarms raised and cleared in the day (and those
 * still open from before it), newest first, merged with what the live feed already brought (its items win).
 */
export function seedEntries(current: readonly FeedEntry[], open: readonly MapAlarm[], day: readonly MapAlarm[], max = 40): FeedEntry[] {
  const seen = new Set(current.filter((e) => e.alarm).map((e) => `${e.event}:${e.alarm!.id}`))
  const out: FeedEntry[] = [...current]
  const add = (a: MapAlarm, event: 'raised' | 'cleared'): void => {
    if (seen.has(`${event}:${a.id}`)) return
    seen.add(`${event}:${a.id}`)
    out.push(entryOfAlarm(a, event))
  }
  for (const a of open) add(a, 'raised')
  for (const a of day) {
    add(a, 'raised')
    if (a.cleared_at) add(a, 'cleared')
  }
  out.sort((a, b) => b.at - a.at)
  return out.slice(0, Math.max(max, current.length))
}

/** The list after a new entry: newest first, at most `max`. */
export function pushEntry(list: readonly FeedEntry[], entry: FeedEntry, max = FEED_MAX): FeedEntry[] {
  const out = [entry, ...list]
  out.sort((a, b) => b.at - a.at)
  return out.length > max ? out.slice(0, max) : out
}

/** What the text needs from the catalogue and the platform's names. */
export interface Namer {
  t: (key: string, params?: Record<string, unknown>) => string
  alarmType: (code: string) => string
  category: (code: string | null) => string | null
  department: (code: string | null) => string | null
  building: (code: string | null) => string | null
}

/** Where an alarm is: its building's name (水围村 12 栋) or code, else the device it came from. */
export function alarmPlace(a: MapAlarm, names: Pick<Namer, 'building'>): string {
  return names.building(a.building_code) ?? a.building_code ?? a.origin
}

/** The line of an entry, e.g. "烟感告警 · 黄色 · 水围村 12 栋" or "派遣 · 2025030800012 · 占道经营 · 城管局". */
export function entryText(e: FeedEntry, names: Namer): string {
  const { t } = names
  const sep = ' · '
  if (e.kind === 'alarm' && e.alarm) {
    const parts = [names.alarmType(e.alarm.alarm_type), e.level ? t(`centre.level.${e.level}`) : e.alarm.level, alarmPlace(e.alarm, names)]
    if (e.event === 'case_opened' && e.number) parts.push(e.number)
    return parts.join(sep)
  }
  if (e.kind === 'incident') return [e.number ?? '', e.title ?? ''].filter(Boolean).join(sep)
  const parts = [e.number ?? t('centre.feed.noNumber')]
  const cat = names.category(e.category)
  if (cat) parts.push(cat)
  const dept = names.department(e.department)
  if (dept && e.kind === 'case') parts.push(dept)
  return parts.join(sep)
}

/** The short label of what happened (新告警, 派遣, 已超时, ...). */
export function eventLabel(e: FeedEntry, t: Namer['t']): string {
  return t(`centre.feed.events.${e.kind}.${e.event}`)
}
