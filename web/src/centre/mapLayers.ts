// Pure functions behind the centre's map: the platform's compact rows turned into GeoJSON, the colours of
// states and warning levels, and what was active at a moment of the replay. No map engine here, so the unit
// tests run them directly.
import type { Feature, FeatureCollection, Point } from 'geojson'

export const LEVELS = ['blue', 'yellow', 'orange', 'red'] as const
export type Level = (typeof LEVELS)[number]

/** theme.css's --level-* values, used when the variables cannot be read (tests, a page without the theme). */
export const LEVEL_FALLBACK: Record<Level, string> = {
  blue: '#1e63d6',
  yellow: '#f2c200',
  orange: '#f07800',
  red: '#d81e1e',
}

/** The four warning colours from the theme's CSS variables (so the map matches the panels and the legend). */
export function levelColours(read: (name: string) => string = cssVar): Record<Level, string> {
  const out = { ...LEVEL_FALLBACK }
  for (const l of LEVELS) {
    const v = read(`--level-${l}`).trim()
    if (v) out[l] = v
  }
  return out
}

function cssVar(name: string): string {
  if (typeof document === 'undefined') return ''
  return getComputedStyle(document.documentElement).getPropertyValue(name)
}

export function levelColour(level: string | null | undefined, colours: Record<Level, string> = LEVEL_FALLBACK): string {
  return colours[(level ?? '') as Level] ?? colours.blue
}

/** Higher is more urgent; unknown levels rank below blue. */
export function levelRank(level: string | null | undefined): number {
  return LEVELS.indexOf((level ?? '') as Level)
}

// --- devices -------------------------------------------------------------------------------------------

export interface DeviceMap {
  as_of: string
  columns: string[]
  states: string[]
  types: string[]
  rows: DeviceRow[]
}
/** [lon, lat, state index, type index, device_id, building_code] */
export type DeviceRow = [number, number, number, number, string, string | null]

/** Device state colours on the dark map: online green, silent grey, alarm red, disabled dim slate. */
export const DEVICE_STATE_COLOURS: Record<string, string> = {
  online: '#3ddc97',
  silent: '#8a99ad',
  alarm: '#ff4d4f',
  disabled: '#4b5a70',
}

/**
 * The devices as one GeoJSON source: a feature per row with only the state and type indexes and the row index
 * as the feature id (the drawer looks the rest up in the rows). One pass over preallocated arrays: 50,000 rows
 * take a few milliseconds and the worker parses a small payload.
 */
export function devicesToGeoJSON(rows: readonly DeviceRow[], states?: readonly number[]): FeatureCollection<Point> {
  const features: Feature<Point>[] = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    features[i] = {
      type: 'Feature',
      id: i,
      geometry: { type: 'Point', coordinates: [r[0], r[1]] },
      properties: { s: states ? states[i] : r[2], t: r[3] },
    }
  }
  return { type: 'FeatureCollection', features }
}

/** How many devices in each state (by name), e.g. {online: 120, alarm: 3, ...}. */
export function deviceStateCounts(rows: readonly DeviceRow[], stateNames: readonly string[], states?: readonly number[]): Record<string, number> {
  const counts: number[] = new Array(stateNames.length).fill(0)
  for (let i = 0; i < rows.length; i++) counts[states ? states[i] : rows[i][2]]++
  return Object.fromEntries(stateNames.map((n, i) => [n, counts[i] ?? 0]))
}

/**
 * The state index of every device at a moment of the replay: disabled stays disabled; a device is in alarm when
 * an alarm active then came from it or from its building (a group alarm), as the platform decides now; a device
 * in alarm now but not then is drawn online (its silence then is not known).
 */
export function deviceStatesAt(rows: readonly DeviceRow[], stateNames: readonly string[], activeOrigins: ReadonlySet<string>): number[] {
  const alarm = stateNames.indexOf('alarm')
  const online = stateNames.indexOf('online')
  const disabled = stateNames.indexOf('disabled')
  const out: number[] = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    const now = r[2]
    if (now === disabled) out[i] = now
    else if (activeOrigins.has(r[4]) || (r[5] !== null && activeOrigins.has(r[5]))) out[i] = alarm
    else out[i] = now === alarm ? online : now
  }
  return out
}

// --- alarms --------------------------------------------------------------------------------------------

/** What the map needs of an alarm, from the alarm list, the timeline or a feed item. */
export interface MapAlarm {
  id: number
  alarm_type: string
  level: string
  status: string
  origin: string
  building_code: string | null
  lon: number | null
  lat: number | null
  raised_at: string
  acknowledged_at?: string | null
  cleared_at?: string | null
  case_number?: string | null
}

/** How long a newly raised alarm pulses on the map. */
export const PULSE_MS = 30_000

/** Alarms as GeoJSON (those without a position are left out); `fresh` is when it started pulsing (ms). */
export function alarmsToGeoJSON(alarms: readonly MapAlarm[], freshSince: ReadonlyMap<number, number> = new Map()): FeatureCollection<Point> {
  const features: Feature<Point>[] = []
  for (const a of alarms) {
    if (a.lon === null || a.lat === null || a.lon === undefined || a.lat === undefined) continue
    features.push({
      type: 'Feature',
      id: a.id,
      geometry: { type: 'Point', coordinates: [a.lon, a.lat] },
      properties: { id: a.id, level: a.level, rank: levelRank(a.level), status: a.status, fresh: freshSince.get(a.id) ?? 0 },
    })
  }
  return { type: 'FeatureCollection', features }
}

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN)

/** The alarms of the timeline open at `at`: raised by then and not yet cleared; the status is the one at `at`. */
export function alarmsActiveAt(timeline: readonly MapAlarm[], at: number): MapAlarm[] {
  const out: MapAlarm[] = []
  for (const a of timeline) {
    const raised = ms(a.raised_at)
    if (!(raised <= at)) continue
    const cleared = ms(a.cleared_at)
    if (cleared <= at) continue
    const acked = ms(a.acknowledged_at)
    out.push({ ...a, status: acked <= at ? 'acknowledged' : 'active' })
  }
  return out
}

/** Open alarms after one live-feed event: a raised one added (or updated), a cleared one removed. */
export function applyAlarmEvent(alarms: readonly MapAlarm[], event: string, alarm: MapAlarm): MapAlarm[] {
  const rest = alarms.filter((a) => a.id !== alarm.id)
  if (event === 'cleared' || alarm.status === 'cleared') return rest
  const before = alarms.find((a) => a.id === alarm.id)
  return [{ ...before, ...alarm }, ...rest]
}

/** Counts of alarms by level, every level present (0 when none). */
export function countByLevel(alarms: readonly { level: string }[]): Record<Level, number> {
  const out: Record<Level, number> = { blue: 0, yellow: 0, orange: 0, red: 0 }
  for (const a of alarms) if (a.level in out) out[a.level as Level]++
  return out
}

// --- cases ---------------------------------------------------------------------------------------------

export interface CaseMap {
  as_of: string
  columns: string[]
  rows: CaseRow[]
}
/** [lon, lat, number, category, state, sla, department] */
export type CaseRow = [number | null, number | null, string, string | null, string, string, string | null]

export const SLA_STATES = ['ok', 'warning', 'breached'] as const
export const SLA_COLOURS: Record<string, string> = { ok: '#3ddc97', warning: '#ffb020', breached: '#ff4d4f' }

export function casesToGeoJSON(rows: readonly CaseRow[]): FeatureCollection<Point> {
  const features: Feature<Point>[] = []
  for (const r of rows) {
    if (r[0] === null || r[1] === null) continue
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [r[0], r[1]] },
      properties: { number: r[2], category: r[3], state: r[4], sla: r[5], department: r[6] },
    })
  }
  return { type: 'FeatureCollection', features }
}

/** Open cases after a live-feed case event: added or moved on, or removed when closed/cancelled/merged. */
export function applyCaseEvent(rows: readonly CaseRow[], item: CaseEventData): CaseRow[] {
  const rest = rows.filter((r) => r[2] !== item.number)
  if (!item.number) return [...rows]
  if (CLOSING_EVENTS.has(item.event) || item.state === 'closed' || item.state === 'cancelled') return rest
  const before = rows.find((r) => r[2] === item.number)
  const sla = item.event === 'sla_breached' ? 'breached' : item.event === 'sla_warning' ? 'warning' : (before?.[5] ?? 'ok')
  const row: CaseRow = [
    item.lon ?? before?.[0] ?? null,
    item.lat ?? before?.[1] ?? null,
    item.number,
    item.category_code ?? before?.[3] ?? null,
    item.state ?? before?.[4] ?? 'reported',
    sla,
    item.department_code ?? before?.[6] ?? null,
  ]
  return [row, ...rest]
}
const CLOSING_EVENTS = new Set(['closed', 'cancelled', 'merged'])

export interface CaseEventData {
  event: string
  number: string | null
  category_code?: string | null
  department_code?: string | null
  lon?: number | null
  lat?: number | null
  state?: string | null
}

export function countBySla(rows: readonly CaseRow[]): Record<string, number> {
  const out: Record<string, number> = { ok: 0, warning: 0, breached: 0 }
  for (const r of rows) out[r[5]] = (out[r[5]] ?? 0) + 1
  return out
}

// --- fire map ------------------------------------------------------------------------------------------

/** A building's fire-safety status (fire-map `status`), most urgent first, with its colour on the dark map. */
export const FIRE_STATUS_COLOURS: Record<string, string> = {
  red: LEVEL_FALLBACK.red,
  orange: LEVEL_FALLBACK.orange,
  yellow: LEVEL_FALLBACK.yellow,
  blue: LEVEL_FALLBACK.blue,
  hazard: '#c77dff',
  monitored: '#2c5d7c',
  unmonitored: '#5a5f6b',
}
export const FIRE_STATUSES = Object.keys(FIRE_STATUS_COLOURS)

/** A MapLibre `match` expression colouring by a property through a table, with a default colour. */
export function matchColour(property: string, table: Record<string, string>, fallback: string): unknown[] {
  const pairs = Object.entries(table).flat()
  return ['match', ['get', property], ...pairs, fallback]
}

// --- replay --------------------------------------------------------------------------------------------

export const DAY_MS = 24 * 3600_000
/** The replay moves 10 minutes of the day for each step of play. */
export const STEP_MS = 10 * 60_000

/** The next moment when playing: a step on, or null at the end of the window (back to live). */
export function nextStep(at: number, end: number, step = STEP_MS): number | null {
  const next = at + step
  return next >= end ? null : next
}

/** The slider's value snapped into the window. */
export function clampTime(at: number, start: number, end: number): number {
  return Math.min(end, Math.max(start, at))
}

/** A bounding box [minLon, minLat, maxLon, maxLat] around GeoJSON polygons (to fit the district). */
export function bboxOf(fc: { features: { geometry: { coordinates: unknown } | null }[] }): [number, number, number, number] | null {
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  const walk = (c: unknown): void => {
    if (!Array.isArray(c)) return
    if (typeof c[0] === 'number' && typeof c[1] === 'number') {
      minX = Math.min(minX, c[0])
      maxX = Math.max(maxX, c[0])
      minY = Math.min(minY, c[1])
      maxY = Math.max(maxY, c[1])
      return
    }
    for (const x of c) walk(x)
  }
  for (const f of fc.features) walk(f.geometry?.coordinates)
  return minX === Infinity ? null : [minX, minY, maxX, maxY]
}

/** Where to put an area's label: the middle of its largest ring's bounding box (good enough for streets). */
export function labelPoint(geometry: { type: string; coordinates: unknown } | null): [number, number] | null {
  if (!geometry) return null
  const b = bboxOf({ features: [{ geometry }] })
  return b ? [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] : null
}
