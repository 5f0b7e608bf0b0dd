// Pure logic behind the crowd zones and the emergency plans on the big screen: the platform's shapes, zones
// sorted by risk, their colours and trend, the forecast and what-if charts' series, incidents' progress and
// a task's acknowledgement countdown. No map engine or chart here, so the unit tests run them directly.
import type { Feature, FeatureCollection, Polygon } from 'geojson'
import { LEVEL_FALLBACK, LEVELS, levelRank, type Level } from './mapLayers'

// --- crowd zones ---------------------------------------------------------------------------------------

export interface ForecastPoint {
  minutes_ahead: number
  density: number
  low: number
  high: number
}
export interface ZoneInput {
  device_id: string
  role: 'entrance' | 'exit' | 'camera' | 'cell'
}
export interface Zone {
  code: string
  name: string
  area_m2: number
  capacity: number | null
  geometry: Polygon
  lon: number
  lat: number
  street_code: string | null
  community_code: string | null
  inputs: ZoneInput[]
  levels: { density?: number[] }
  version: number
  occupancy: number | null
  density: number | null
  level: string | null
  forecast: ForecastPoint[]
  minutes_to_danger: number | null
  flow_per_min: number | null
  as_of: string | null
}

/** The density the forecast warns of ("reaches 5 persons/m²"): the zone's orange threshold. */
export const DANGER_DEFAULT = 5
export function dangerDensity(z: Pick<Zone, 'levels'>): number {
  return z.levels.density?.[LEVELS.indexOf('orange')] ?? DANGER_DEFAULT
}

/** A zone's fill on the map: its level's warning colour, or null (drawn as a neutral outline only). */
export function zoneFill(level: string | null | undefined, colours: Record<Level, string> = LEVEL_FALLBACK): string | null {
  return (LEVELS as readonly string[]).includes(level ?? '') ? colours[level as Level] : null
}

/** The outline of a zone with no level (below blue, or no estimate yet). */
export const ZONE_NEUTRAL = '#9fb4cc'

/** Net inflow below this many persons a minute reads as steady. */
export const STEADY_PER_MIN = 5
export type Trend = 'rising' | 'falling' | 'steady'
export function trendOf(z: Pick<Zone, 'flow_per_min'>): Trend {
  const f = z.flow_per_min
  if (f === null || Math.abs(f) < STEADY_PER_MIN) return 'steady'
  return f > 0 ? 'rising' : 'falling'
}
export const TREND_ARROWS: Record<Trend, string> = { rising: '↑', falling: '↓', steady: '→' }

/** The forecast's density `minutes` ahead, if the platform gave one. */
export function forecastAt(z: Pick<Zone, 'forecast'>, minutes: number): ForecastPoint | null {
  return z.forecast.find((f) => f.minutes_ahead === minutes) ?? null
}

/** Whole minutes until the zone reaches danger while it is rising towards it, else null. */
export function minutesToDanger(z: Pick<Zone, 'minutes_to_danger' | 'flow_per_min'>): number | null {
  if (z.minutes_to_danger === null || z.minutes_to_danger === undefined) return null
  if (trendOf(z) === 'falling') return null
  return Math.max(0, Math.round(z.minutes_to_danger))
}

/**
 * Zones by risk, most urgent first: the level now; then the sooner it reaches danger; then the denser. A zone
 * with no estimate yet comes last.
 */
export function zonesByRisk<T extends Pick<Zone, 'code' | 'level' | 'density' | 'minutes_to_danger' | 'flow_per_min'>>(zones: readonly T[]): T[] {
  const soon = (z: T): number => minutesToDanger(z) ?? Infinity
  return [...zones].sort(
    (a, b) =>
      levelRank(b.level) - levelRank(a.level) ||
      soon(a) - soon(b) ||
      (b.density ?? -1) - (a.density ?? -1) ||
      a.code.localeCompare(b.code),
  )
}

/** The zones as one small GeoJSON source: a feature per zone, its index as the id (its level goes in as the
 *  feature state, so a new estimate repaints without sending the polygons again). */
export function zonesToGeoJSON(zones: readonly Zone[]): FeatureCollection<Polygon> {
  return {
    type: 'FeatureCollection',
    features: zones.map((z, i): Feature<Polygon> => ({ type: 'Feature', id: i, geometry: z.geometry, properties: { code: z.code, level: z.level ?? 'none' } })),
  }
}

/** What identifies the zones' shapes: when it is unchanged, only their levels need repainting. */
export function zonesShapeKey(zones: readonly Pick<Zone, 'code' | 'version'>[]): string {
  return zones.map((z) => `${z.code}@${z.version}`).join('|')
}

/** A crowd alarm's zone (`detail.zone_code`, else the origin `crowd:<code>`), or null for other alarms. */
export function crowdZoneOf(a: { alarm_type?: string | null; origin?: string | null; detail?: { zone_code?: string } | null }): string | null {
  if (!a.alarm_type?.startsWith('crowd.')) return null
  if (a.detail?.zone_code) return a.detail.zone_code
  const o = a.origin ?? ''
  return o.startsWith('crowd:') ? o.slice(6) : null
}

/** One decimal, as densities are read. */
export const density1 = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(1))

// --- charts -----------------------------------------------------------------------------------------------

export interface ForecastSeries {
  line: [number, number][] // [minutes ahead, density], now first
  low: [number, number][]
  band: [number, number][] // high - low, stacked on low
  danger: number
  max: number
}

/** The forecast as a chart's series: now (minute 0) and each forecast point; the band stacks (high - low) on
 *  low; `max` leaves room above the danger line. */
export function forecastSeries(z: Pick<Zone, 'density' | 'forecast' | 'levels'>): ForecastSeries {
  const pts = [...z.forecast].sort((a, b) => a.minutes_ahead - b.minutes_ahead)
  const now = z.density ?? 0
  const line: [number, number][] = [[0, now], ...pts.map((p): [number, number] => [p.minutes_ahead, p.density])]
  const low: [number, number][] = [[0, now], ...pts.map((p): [number, number] => [p.minutes_ahead, p.low])]
  const band: [number, number][] = [[0, 0], ...pts.map((p): [number, number] => [p.minutes_ahead, Math.max(0, p.high - p.low)])]
  const danger = dangerDensity(z)
  const top = Math.max(danger, now, ...pts.map((p) => p.high))
  return { line, low, band, danger, max: Math.ceil(top * 1.15 * 2) / 2 }
}

export type MeasureKind = 'close_entrance' | 'meter_entrance' | 'open_exit'
export interface Measure {
  kind: MeasureKind
  input: string
  rate_per_min?: number
}
export interface WhatIfRun {
  peak_density: number
  peak_minute: number
  series: [number, number][]
}
/** What the simulation started from and assumed (the server's estimate and each counter's rates). */
export interface WhatIfStart {
  occupancy: number
  inflow_per_min: number
  outflow_per_min: number
  dwell_min: number
  scale: number
  closed_exits: string[]
}
export interface WhatIfResult {
  id?: number
  status?: 'running' | 'done' | 'failed'
  zone: string
  as_of: string
  minutes: number
  measure: Measure
  start?: WhatIfStart
  without: WhatIfRun | null
  with: WhatIfRun | null
  computed_in_s?: number | null
  error?: string | null
}

/** The server answers a what-if at once (202, running) and computes it in the background: ask again every
 *  ``stepMs`` until it is done. A failed run or one past ``maxWaitMs`` rejects with the reason. */
export async function settleWhatIf(
  first: WhatIfResult,
  fetchOne: (id: number) => Promise<WhatIfResult>,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  maxWaitMs = 300_000,
  stepMs = 1000,
): Promise<WhatIfResult> {
  let r = first
  for (let waited = 0; r.status === 'running'; waited += stepMs) {
    if (r.id === undefined || waited >= maxWaitMs) throw new Error('timeout')
    await wait(stepMs)
    r = await fetchOne(r.id)
  }
  if (r.status === 'failed') throw new Error(r.error || 'failed')
  return r
}

/** Which inputs a measure can act on: entrances for closing or metering, exits for opening. */
export function measureInputs(kind: MeasureKind, inputs: readonly ZoneInput[]): string[] {
  const role = kind === 'open_exit' ? 'exit' : 'entrance'
  return inputs.filter((i) => i.role === role).map((i) => i.device_id)
}

/** The what-if's request body: a meter's rate only for metering, the minutes within 1..120. */
export function whatIfBody(m: Measure, minutes: number): { measure: Measure; minutes: number } {
  const measure: Measure = { kind: m.kind, input: m.input.trim() }
  if (m.kind === 'meter_entrance') measure.rate_per_min = Math.max(0, Number(m.rate_per_min ?? 0))
  return { measure, minutes: Math.min(120, Math.max(1, Math.round(minutes))) }
}

export interface WhatIfChart {
  without: [number, number][]
  with: [number, number][]
  peaks: { without: [number, number]; with: [number, number] }
  drop: number // how much lower the peak is with the measure (persons/m², may be negative)
  max: number
}

/** A what-if result as two series on one minute axis, with their peaks marked; tolerant of a series that is
 *  missing or out of order. */
export function whatIfChart(r: Pick<WhatIfResult, 'without' | 'with'>, danger = DANGER_DEFAULT): WhatIfChart {
  const clean = (s: [number, number][] | undefined): [number, number][] =>
    (s ?? []).filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])).map((p): [number, number] => [p[0], p[1]]).sort((a, b) => a[0] - b[0])
  const without = clean(r.without?.series)
  const withM = clean(r.with?.series)
  const peak = (run: WhatIfRun | null | undefined, s: [number, number][]): [number, number] => {
    if (run && Number.isFinite(run.peak_density)) return [run.peak_minute, run.peak_density]
    return s.reduce<[number, number]>((best, p) => (p[1] > best[1] ? p : best), [0, 0])
  }
  const peaks = { without: peak(r.without, without), with: peak(r.with, withM) }
  const top = Math.max(danger, peaks.without[1], peaks.with[1])
  return { without, with: withM, peaks, drop: Math.round((peaks.without[1] - peaks.with[1]) * 100) / 100, max: Math.ceil(top * 1.15 * 2) / 2 }
}

// --- incidents and tasks ----------------------------------------------------------------------------------

export interface Task {
  id: number
  incident_id: number
  incident_code: string
  key: string
  level: string
  department_code: string
  text: { zh: string; en: string }
  state: string
  state_name: Record<string, string>
  state_group: 'open' | 'closed'
  assigned_at: string
  ack_deadline: string
  acknowledged_at: string | null
  acknowledged_by: string | null
  done_at: string | null
  overdue: boolean
  overdue_at: string | null
  version: number
}
export interface TimelineRow {
  at: string
  actor: string
  kind: string
  task_id: number | null
  department_code: string | null
  level: string | null
  attachment_id: number | null
  note: string | null
}
export interface Attachment {
  id: number
  kind: string
  title: string
  data: Record<string, unknown>
  attached_at: string
  attached_by: string
}
export interface Incident {
  id: number
  code: string
  incident_type: string
  level: string
  response_level: string
  title: string
  state: string
  state_name: Record<string, string>
  state_group: 'open' | 'closed'
  lon: number
  lat: number
  zone_code: string | null
  area_code: string | null
  alarm_id: number | null
  started_at: string
  started_by: string
  stood_down_at: string | null
  tasks_total: number
  tasks_open: number
  tasks_overdue: number
  version: number
}
export interface IncidentDetail extends Incident {
  tasks: Task[]
  timeline: TimelineRow[]
  attachments: Attachment[]
  allowed_actions: string[]
}

/** The national response levels (Ⅳ..Ⅰ) by warning colour. */
export const RESPONSE_LEVELS: Record<Level, string> = { blue: 'IV', yellow: 'III', orange: 'II', red: 'I' }

/** The levels an incident may be escalated to: those above its own. */
export function higherLevels(level: string): Level[] {
  return LEVELS.filter((l) => levelRank(l) > levelRank(level))
}

/** How far the departments are: tasks acknowledged (or done) of all, and those past their deadline unanswered. */
export function taskProgress(tasks: readonly Pick<Task, 'state' | 'acknowledged_at' | 'overdue'>[]): { acknowledged: number; total: number; overdue: number } {
  let acknowledged = 0
  let overdue = 0
  for (const t of tasks) {
    if (t.acknowledged_at || t.state === 'acknowledged' || t.state === 'done') acknowledged++
    if (t.overdue && t.state === 'assigned') overdue++
  }
  return { acknowledged, total: tasks.length, overdue }
}

/** An incident's tasks by department, departments in the order they first appear. */
export function tasksByDepartment<T extends Pick<Task, 'department_code'>>(tasks: readonly T[]): [string, T[]][] {
  const out = new Map<string, T[]>()
  for (const t of tasks) {
    const list = out.get(t.department_code)
    if (list) list.push(t)
    else out.set(t.department_code, [t])
  }
  return [...out]
}

/** Open incidents, the highest level first, then the newest. */
export function incidentsByUrgency<T extends Pick<Incident, 'level' | 'started_at' | 'id'>>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => levelRank(b.level) - levelRank(a.level) || Date.parse(b.started_at) - Date.parse(a.started_at) || b.id - a.id)
}

export interface Countdown {
  seconds: number // left; negative once past
  overdue: boolean
  text: string // m:ss left, or m:ss past
  urgent: boolean // under a minute left
}

/** The time left to acknowledge a task, on the platform's clock (`now`, ms). */
export function countdown(deadline: string, now: number): Countdown {
  const seconds = Math.floor((Date.parse(deadline) - now) / 1000)
  const abs = Math.abs(seconds)
  const h = Math.floor(abs / 3600)
  const m = Math.floor((abs % 3600) / 60)
  const s = String(abs % 60).padStart(2, '0')
  const text = h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
  return { seconds, overdue: seconds < 0, text, urgent: seconds >= 0 && seconds < 60 }
}

/** The steps a department may take on a task in its state. */
export function taskSteps(t: Pick<Task, 'state'>): ('acknowledge' | 'notes' | 'done')[] {
  if (t.state === 'assigned') return ['acknowledge']
  if (t.state === 'acknowledged') return ['notes', 'done']
  return []
}

/** An attachment that holds a what-if result drawable as its chart. */
export function asWhatIf(a: Pick<Attachment, 'kind' | 'data'>): WhatIfResult | null {
  const d = a.data as Partial<WhatIfResult>
  if (a.kind !== 'what_if' || !d || typeof d !== 'object' || !d.without || !d.with) return null
  return d as WhatIfResult
}
