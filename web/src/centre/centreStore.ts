// The command centre's data: what the map, the feed and the panels share, loaded from the platform and kept up
// to date by the live feed. One instance per screen (CentreView creates it and hands it to its parts).
import { computed, ref, shallowRef } from 'vue'
import type { FeatureCollection } from 'geojson'
import { ApiError, get, qs } from '../lib/api'
import { auth } from '../lib/auth'
import { follow, type FeedItem } from '../lib/stream'
import { crowdZoneOf, incidentsByUrgency, type Incident, type Task, type Zone } from './crowd'
import { pushEntry, seedEntries, toEntry, type FeedEntry } from './feedText'
import {
  alarmsActiveAt,
  applyAlarmEvent,
  applyCaseEvent,
  DAY_MS,
  deviceStatesAt,
  PULSE_MS,
  type CaseEventData,
  type CaseMap,
  type CaseRow,
  type DeviceMap,
  type MapAlarm,
} from './mapLayers'
import { skewOf } from './time'

export const FIRE_VILLAGE = '440304004028-V01'

export interface UiConfig {
  tile_url: string | null
  district_code: string | null
  utc_offset_hours: number
}
export interface Names {
  'zh-CN'?: string
  en?: string
  [k: string]: string | undefined
}
export interface Department {
  code: string
  name: string
  name_en: string
  active: boolean
}
interface Page<T> {
  items: T[]
  total: number
}
interface MajorClass {
  code: string
  name: Names
  minor: { code: string; name: Names }[]
}
export interface TransitionInfo {
  name: string
  title: Names
}
export interface CaseStates {
  states: { code: string; name: Names }[]
  transitions: TransitionInfo[]
}

/** A thing on the map or in the feed the drawer shows. */
export type Target =
  | { kind: 'alarm'; id: number }
  | { kind: 'case'; number: string }
  | { kind: 'device'; index: number }
  | { kind: 'building'; code: string }
  | { kind: 'zone'; code: string }
  | { kind: 'incident'; code: string }

export function createCentre() {
  const config = ref<UiConfig>({ tile_url: null, district_code: null, utc_offset_hours: 8 })
  const skew = ref(0) // the platform's clock minus this browser's
  const now = ref(Date.now())
  const problem = ref<string | null>(null)
  const problemError = shallowRef<unknown>(null)

  // base map
  const district = shallowRef<FeatureCollection | null>(null)
  const streets = shallowRef<FeatureCollection | null>(null)
  const communities = shallowRef<FeatureCollection | null>(null)
  const grid = shallowRef<FeatureCollection | null>(null)
  const fireMap = shallowRef<(FeatureCollection & { properties?: { village_name?: Names; by_status?: Record<string, number> } }) | null>(null)

  // names for text
  const categoryNames = shallowRef(new Map<string, Names>())
  const departments = shallowRef<Department[]>([])
  const deviceTypeNames = shallowRef(new Map<string, Names>())
  const caseStates = shallowRef<CaseStates | null>(null)
  const buildingNames = computed(() => {
    const m = new Map<string, string>()
    for (const f of fireMap.value?.features ?? []) {
      const p = f.properties as { code?: string; name?: string } | null
      if (p?.code && p.name) m.set(p.code, p.name)
    }
    return m
  })

  // live layers
  const devices = shallowRef<DeviceMap | null>(null)
  const alarms = shallowRef<MapAlarm[]>([])
  const FLUSH_MS = 250
  const fresh = shallowRef(new Map<number, number>()) // alarm id -> when it started pulsing (browser ms)
  const cases = shallowRef<CaseRow[]>([])

  // crowd zones and the emergency plans under way
  const zones = shallowRef<Zone[]>([])
  const incidents = shallowRef<Incident[]>([])
  const incidentTasks = shallowRef(new Map<number, Task[]>()) // each open incident's tasks (acknowledged of all)
  const crowdBump = ref(0) // a zone's estimate may have changed: its drawer reads it again
  const linkageBump = ref(0) // an incident or a task moved: its drawer reads it again

  // replay
  const timeline = shallowRef<MapAlarm[] | null>(null)
  const windowEnd = ref(Date.now())
  const replayAt = ref<number | null>(null)
  const replayCases = shallowRef<CaseRow[] | null>(null)

  // feed
  const feed = shallowRef<FeedEntry[]>([])
  const connected = ref(false)
  const kpiBump = ref(0)

  const serverNow = (): number => Date.now() + skew.value

  function fail(e: unknown): void {
    if (e instanceof DOMException && e.name === 'AbortError') return
    problemError.value = e
    problem.value = e instanceof ApiError ? e.code : String(e)
  }

  async function safely<T>(p: Promise<T>): Promise<T | null> {
    try {
      return await p
    } catch (e) {
      fail(e)
      return null
    }
  }

  async function loadBase(): Promise<void> {
    const cfg = await get<UiConfig>('/api/v1/ui/config').catch(() => null)
    if (cfg) config.value = { ...config.value, ...cfg }
    const area = (level: string) => get<FeatureCollection>(`/api/v1/registry/areas.geojson${qs({ level, page_size: 1000 })}`)
    const [d, s, c] = await Promise.all([safely(area('district')), safely(area('street')), safely(area('community'))])
    district.value = d
    streets.value = s
    communities.value = c
    void safely(area('grid_cell')).then((g) => (grid.value = g))
    if (auth.can('fire_safety.read')) void safely(get<FeatureCollection>(`/api/v1/fire_safety/villages/${FIRE_VILLAGE}/fire-map`)).then((f) => (fireMap.value = f))
  }

  async function loadNames(): Promise<void> {
    const [cats, depts, types, states] = await Promise.all([
      get<MajorClass[]>('/api/v1/cases/categories').catch(() => []),
      get<Page<Department>>('/api/v1/registry/departments?page_size=200').catch(() => ({ items: [], total: 0 })),
      auth.can('sensing.devices.read') ? get<{ code: string; name_zh: string; name_en: string }[]>('/api/v1/sensing/device-types').catch(() => []) : Promise.resolve([]),
      get<CaseStates>('/api/v1/cases/states').catch(() => null),
    ])
    const m = new Map<string, Names>()
    for (const major of cats) {
      m.set(major.code, major.name)
      for (const minor of major.minor) m.set(minor.code, minor.name)
    }
    categoryNames.value = m
    departments.value = depts.items
    deviceTypeNames.value = new Map(types.map((t) => [t.code, { 'zh-CN': t.name_zh, en: t.name_en }]))
    caseStates.value = states
  }

  async function loadDevices(): Promise<void> {
    if (!auth.can('sensing.devices.read')) return
    const sent = Date.now()
    const d = await safely(get<DeviceMap>('/api/v1/sensing/map/devices'))
    if (!d) return
    skew.value = skewOf(d.as_of, (sent + Date.now()) / 2)
    devices.value = d
  }

  async function loadAlarms(): Promise<void> {
    if (!auth.can('sensing.alarms.read')) return
    const page = await safely(get<Page<MapAlarm>>('/api/v1/sensing/alarms?open=true&page_size=500'))
    if (!page) return
    alarms.value = page.items
  }

  async function loadCases(): Promise<void> {
    if (!auth.can('cases.cases.read')) return
    const m = await safely(get<CaseMap>('/api/v1/cases/map'))
    if (m) cases.value = m.rows
  }

  async function loadZones(): Promise<void> {
    if (!auth.can('crowd.read')) return
    const page = await safely(get<Page<Zone>>('/api/v1/crowd/zones?page_size=100'))
    if (!page) return
    zones.value = page.items
    crowdBump.value++
  }

  async function loadIncidents(): Promise<void> {
    if (!auth.can('linkage.read')) return
    const page = await safely(get<Page<Incident>>('/api/v1/linkage/incidents?state=open&page_size=50'))
    if (!page) return
    // The few open incidents' tasks, so the panel can say how many departments have acknowledged.
    const tasks = await Promise.all(page.items.map((i) => get<Page<Task>>(`/api/v1/linkage/tasks?incident=${i.id}&page_size=200`).catch(() => null)))
    incidentTasks.value = new Map(page.items.map((i, k) => [i.id, tasks[k]?.items ?? []]))
    incidents.value = incidentsByUrgency(page.items)
    linkageBump.value++
  }

  // Feed items that say a zone or a plan changed: read them again once, shortly after the last.
  let zonesTimer: ReturnType<typeof setTimeout> | undefined
  let incidentsTimer: ReturnType<typeof setTimeout> | undefined
  function soon(which: 'zones' | 'incidents'): void {
    if (which === 'zones') {
      clearTimeout(zonesTimer)
      zonesTimer = setTimeout(() => void loadZones(), 500)
    } else {
      clearTimeout(incidentsTimer)
      incidentsTimer = setTimeout(() => void loadIncidents(), 500)
    }
  }

  async function loadTimeline(): Promise<void> {
    if (!auth.can('sensing.alarms.read')) return
    windowEnd.value = serverNow()
    const t = await safely(get<{ items: MapAlarm[] }>('/api/v1/sensing/alarms/timeline'))
    timeline.value = t ? t.items : []
    // The feed starts with the day's alarms, so the wall is not blank until the next event.
    if (!seeded) {
      seeded = true
      feed.value = seedEntries(feed.value, alarms.value, timeline.value)
    }
  }
  let seeded = false

  // --- live feed -----------------------------------------------------------------------------------
  let seq = 0
  let bumpTimer: ReturnType<typeof setTimeout> | undefined
  function bump(): void {
    // Many items arrive together in a storm: the panels refresh once, a few seconds after the last.
    clearTimeout(bumpTimer)
    clearTimeout(flushTimer)
    bumpTimer = setTimeout(() => kpiBump.value++, 4000)
  }

  // An alarm storm brings hundreds of items a second: they are applied together, a few times a second,
  // so that the 50,000 devices, the alarm layer and the lists change once per batch, not once per item.
  let pending: FeedItem[] = []
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  function onItem(item: FeedItem): void {
    pending.push(item)
    flushTimer ??= setTimeout(flush, FLUSH_MS)
  }

  function flush(): void {
    flushTimer = undefined
    const items = pending
    pending = []
    let nextFeed = feed.value
    let nextAlarms = alarms.value
    let nextCases = cases.value
    const raised = new Map<number, number>()
    const marks = new Map<string, 'raised' | 'cleared'>()
    const seen = new Map<number, MapAlarm>()
    const entries: FeedEntry[] = []
    for (const item of items) {
      if (item.event === 'incident' || item.event === 'task') soon('incidents')
      const entry = toEntry(item, serverNow(), seq++)
      if (!entry) continue
      entries.push(entry)
      nextFeed = pushEntry(nextFeed, entry)
      if (entry.kind === 'alarm' && entry.alarm) {
        nextAlarms = applyAlarmEvent(nextAlarms, entry.event, entry.alarm)
        if (entry.event === 'raised') raised.set(entry.alarm.id, Date.now())
        // The device (or the building's devices) behind the alarm turns to alarm / back at once.
        marks.set(entry.alarm.origin, entry.event === 'cleared' ? 'cleared' : 'raised')
        seen.set(entry.alarm.id, { ...entry.alarm, cleared_at: entry.event === 'cleared' ? (entry.alarm.cleared_at ?? new Date(serverNow()).toISOString()) : null })
        if (crowdZoneOf({ ...entry.alarm, detail: (item.data as { detail?: { zone_code?: string } }).detail })) soon('zones')
      } else if (entry.kind === 'case' || entry.kind === 'sla') {
        const d = item.data as CaseEventData
        nextCases = applyCaseEvent(nextCases, { ...d, event: entry.event })
      }
    }
    if (!entries.length) return
    feed.value = nextFeed
    if (nextAlarms !== alarms.value) alarms.value = nextAlarms
    if (nextCases !== cases.value) cases.value = nextCases
    if (raised.size) fresh.value = new Map([...fresh.value, ...raised])
    if (marks.size) markDevices(marks)
    // Keep the replay's day complete: the timeline learns the new alarms too.
    if (timeline.value && seen.size) timeline.value = [...timeline.value.filter((a) => !seen.has(a.id)), ...seen.values()]
    for (const e of entries) onFeedEntry?.(e)
    bump()
  }
  let onFeedEntry: ((e: FeedEntry) => void) | null = null

  function markDevices(marks: Map<string, 'raised' | 'cleared'>): void {
    const d = devices.value
    if (!d) return
    const alarm = d.states.indexOf('alarm')
    const online = d.states.indexOf('online')
    let changed = false
    const rows = d.rows.map((r) => {
      const what = marks.get(r[4]) ?? (r[5] === null ? undefined : marks.get(r[5]))
      if (!what) return r
      const next = what === 'raised' ? alarm : r[2] === alarm ? online : r[2]
      if (next === r[2]) return r
      changed = true
      return [r[0], r[1], next, r[3], r[4], r[5]] as typeof r
    })
    if (changed) devices.value = { ...d, rows }
  }

  // --- replay --------------------------------------------------------------------------------------
  let caseTimer: ReturnType<typeof setTimeout> | undefined
  let caseBusy = false
  let casePending: number | null = null
  function seek(at: number | null): void {
    replayAt.value = at
    clearTimeout(caseTimer)
    if (at === null) {
      casePending = null
      replayCases.value = null
      return
    }
    if (!auth.can('cases.cases.read')) return
    // Dragging sends many positions: ask for the cases at the one it rests on.
    caseTimer = setTimeout(() => void casesAt(at), 200)
  }
  /** One request at a time; while one runs, only the latest moment asked for waits (playing steps on). */
  async function casesAt(at: number): Promise<void> {
    if (caseBusy) {
      casePending = at
      return
    }
    caseBusy = true
    try {
      const m = await get<CaseMap>(`/api/v1/cases/map${qs({ at: new Date(at).toISOString() })}`)
      if (replayAt.value !== null) replayCases.value = m.rows
    } catch (e) {
      fail(e)
    } finally {
      caseBusy = false
      const next = casePending
      casePending = null
      if (next !== null && replayAt.value !== null) void casesAt(next)
    }
  }

  const replayAlarms = computed(() => (replayAt.value === null || !timeline.value ? null : alarmsActiveAt(timeline.value, replayAt.value)))
  const shownAlarms = computed(() => replayAlarms.value ?? alarms.value)
  const shownCases = computed(() => (replayAt.value === null ? cases.value : (replayCases.value ?? [])))
  const shownDeviceStates = computed<number[] | null>(() => {
    const d = devices.value
    if (!d || !replayAlarms.value) return null
    const origins = new Set<string>()
    for (const a of replayAlarms.value) origins.add(a.origin)
    return deviceStatesAt(d.rows, d.states, origins)
  })
  const windowStart = computed(() => windowEnd.value - DAY_MS)

  // --- lifecycle -----------------------------------------------------------------------------------
  let stopFeed: (() => void) | null = null
  let clockTimer: ReturnType<typeof setInterval> | undefined
  let refreshTimer: ReturnType<typeof setInterval> | undefined
  let zonesEvery: ReturnType<typeof setInterval> | undefined
  let incidentsEvery: ReturnType<typeof setInterval> | undefined

  async function start(onEntry?: (e: FeedEntry) => void): Promise<void> {
    onFeedEntry = onEntry ?? null
    clockTimer = setInterval(() => {
      now.value = serverNow()
      pruneFresh()
    }, 1000)
    await Promise.all([loadBase(), loadNames(), loadDevices(), loadAlarms(), loadCases(), loadZones(), loadIncidents()])
    now.value = serverNow()
    stopFeed = follow(() => auth.token.value, onItem, {
      onState: (c) => (connected.value = c),
      // A reconnect gets what it missed from the platform; when that is lost (away too long, a restarted or
      // another server, a screen too slow), the layers and the figures are read again.
      onGap: () => {
        void refreshLive()
        void loadZones()
        void loadIncidents()
        kpiBump.value++
      },
    })
    void loadTimeline()
    refreshTimer = setInterval(() => {
      void refreshLive()
      void loadTimeline()
    }, 60_000)
    // A zone's estimate moves with event time and a task's deadline with the clock: read them often.
    zonesEvery = setInterval(() => void loadZones(), 30_000)
    incidentsEvery = setInterval(() => void loadIncidents(), 15_000)
  }
  async function refreshLive(): Promise<void> {
    await Promise.all([loadDevices(), loadAlarms(), loadCases()])
  }

  function pruneFresh(): void {
    const cutoff = Date.now() - PULSE_MS
    if ([...fresh.value.values()].some((t) => t < cutoff)) fresh.value = new Map([...fresh.value].filter(([, t]) => t >= cutoff))
  }

  function stop(): void {
    stopFeed?.()
    clearInterval(clockTimer)
    clearInterval(refreshTimer)
    clearInterval(zonesEvery)
    clearInterval(incidentsEvery)
    clearTimeout(zonesTimer)
    clearTimeout(incidentsTimer)
    clearTimeout(bumpTimer)
    clearTimeout(flushTimer)
    clearTimeout(caseTimer)
    casePending = null
  }

  return {
    config,
    now,
    serverNow,
    problem,
    problemError,
    district,
    streets,
    communities,
    grid,
    fireMap,
    categoryNames,
    departments,
    deviceTypeNames,
    caseStates,
    buildingNames,
    devices,
    alarms,
    fresh,
    cases,
    timeline,
    windowStart,
    windowEnd,
    replayAt,
    feed,
    connected,
    kpiBump,
    shownAlarms,
    shownCases,
    shownDeviceStates,
    seek,
    start,
    stop,
    onItem,
    reloadAlarms: loadAlarms,
    reloadCases: loadCases,
    reloadDevices: loadDevices,
    zones,
    incidents,
    incidentTasks,
    crowdBump,
    linkageBump,
    reloadZones: loadZones,
    reloadIncidents: loadIncidents,
  }
}

export type Centre = ReturnType<typeof createCentre>
