// The command centre's map logic, as an operator would check it: a state is drawn in the right colour, the
// replay shows what was open at the chosen moment, live events move the layers, 50,000 devices stay quick.
import { describe, expect, it } from 'vitest'
import {
  alarmsActiveAt,
  alarmsToGeoJSON,
  applyAlarmEvent,
  applyCaseEvent,
  bboxOf,
  casesToGeoJSON,
  clampTime,
  countByLevel,
  countBySla,
  deviceStateCounts,
  deviceStatesAt,
  devicesToGeoJSON,
  LEVEL_FALLBACK,
  levelColour,
  levelColours,
  levelRank,
  matchColour,
  nextStep,
  STEP_MS,
  type CaseRow,
  type DeviceRow,
  type MapAlarm,
} from '../src/centre/mapLayers'

const STATES = ['online', 'silent', 'alarm', 'disabled']
const rows: DeviceRow[] = [
  [114.06, 22.52, 0, 0, 'EFM-1', 'B1'],
  [114.07, 22.53, 2, 1, 'SMK-2', 'B2'],
  [114.08, 22.54, 3, 1, 'SMK-3', 'B1'],
  [114.09, 22.55, 1, 2, 'TMP-4', null],
]

const alarm = (id: number, raised: string, cleared: string | null = null, extra: Partial<MapAlarm> = {}): MapAlarm => ({
  id,
  alarm_type: 'smoke',
  level: 'yellow',
  status: cleared ? 'cleared' : 'active',
  origin: `SMK-${id}`,
  building_code: 'B1',
  lon: 114.06,
  lat: 22.52,
  raised_at: raised,
  cleared_at: cleared,
  ...extra,
})

describe('warning colours', () => {
  it('uses the theme variables for the four levels, falling back to theme.css values', () => {
    const c = levelColours((name) => (name === '--level-red' ? ' #ff0000 ' : ''))
    expect(c.red).toBe('#ff0000')
    expect(c.blue).toBe(LEVEL_FALLBACK.blue)
    expect(levelColour('orange')).toBe(LEVEL_FALLBACK.orange)
    expect(levelColour('nonsense')).toBe(LEVEL_FALLBACK.blue)
  })
  it('ranks red above orange above yellow above blue', () => {
    expect(levelRank('red')).toBeGreaterThan(levelRank('orange'))
    expect(levelRank('orange')).toBeGreaterThan(levelRank('yellow'))
    expect(levelRank('yellow')).toBeGreaterThan(levelRank('blue'))
    expect(levelRank('unknown')).toBeLessThan(levelRank('blue'))
  })
  it('builds a match expression with a default', () => {
    expect(matchColour('sla', { ok: 'g', breached: 'r' }, 'x')).toEqual(['match', ['get', 'sla'], 'ok', 'g', 'breached', 'r', 'x'])
  })
})

describe('devices', () => {
  it('turns compact rows into point features keyed by row', () => {
    const fc = devicesToGeoJSON(rows)
    expect(fc.features).toHaveLength(4)
    expect(fc.features[1]).toMatchObject({ id: 1, geometry: { coordinates: [114.07, 22.53] }, properties: { s: 2, t: 1 } })
  })
  it('draws the replayed state when one is given', () => {
    const fc = devicesToGeoJSON(rows, [0, 0, 3, 2])
    expect(fc.features.map((f) => f.properties?.s)).toEqual([0, 0, 3, 2])
  })
  it('counts devices per state by name', () => {
    expect(deviceStateCounts(rows, STATES)).toEqual({ online: 1, silent: 1, alarm: 1, disabled: 1 })
  })
  it('at a replayed moment: alarm from its own or its building alarm, back online otherwise, disabled stays', () => {
    // SMK-2 is in alarm now but had no alarm then; EFM-1 had its building's group alarm; SMK-3 is disabled.
    expect(deviceStatesAt(rows, STATES, new Set(['B1']))).toEqual([2, 0, 3, 1])
    expect(deviceStatesAt(rows, STATES, new Set(['TMP-4']))).toEqual([0, 0, 3, 2])
    expect(deviceStatesAt(rows, STATES, new Set())).toEqual([0, 0, 3, 1])
  })
  it('stays quick with 50,000 devices', () => {
    const many: DeviceRow[] = Array.from({ length: 50_000 }, (_, i) => [114 + i * 1e-6, 22.5, i % 4, i % 3, `D${i}`, `B${i % 500}`])
    const t0 = performance.now()
    const fc = devicesToGeoJSON(many, deviceStatesAt(many, STATES, new Set(['B7', 'D42'])))
    const ms = performance.now() - t0
    expect(fc.features).toHaveLength(50_000)
    expect(fc.features[42].properties?.s).toBe(2)
    expect(ms).toBeLessThan(500)
  })
})

describe('alarms', () => {
  it('leaves out alarms without a position and marks fresh ones', () => {
    const fc = alarmsToGeoJSON([alarm(1, '2026-01-01T00:00:00Z'), alarm(2, '2026-01-01T00:00:00Z', null, { lon: null, lat: null })], new Map([[1, 123]]))
    expect(fc.features).toHaveLength(1)
    expect(fc.features[0].properties).toMatchObject({ id: 1, level: 'yellow', fresh: 123 })
  })
  it('at a moment shows those raised by then and not yet cleared, with the status they had', () => {
    const tl = [
      alarm(1, '2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z'),
      alarm(2, '2026-01-01T01:30:00Z', null, { acknowledged_at: '2026-01-01T01:45:00Z' }),
      alarm(3, '2026-01-01T03:00:00Z'),
    ]
    const at = (iso: string) => alarmsActiveAt(tl, Date.parse(iso))
    expect(at('2026-01-01T00:59:00Z').map((a) => a.id)).toEqual([])
    expect(at('2026-01-01T01:40:00Z').map((a) => [a.id, a.status])).toEqual([
      [1, 'active'],
      [2, 'active'],
    ])
    expect(at('2026-01-01T01:50:00Z').map((a) => [a.id, a.status])).toEqual([
      [1, 'active'],
      [2, 'acknowledged'],
    ])
    // cleared at 02:00 exactly: no longer open then
    expect(at('2026-01-01T02:00:00Z').map((a) => a.id)).toEqual([2])
    expect(at('2026-01-01T04:00:00Z').map((a) => a.id)).toEqual([2, 3])
  })
  it('adds a raised alarm at once, updates an acknowledged one, drops a cleared one', () => {
    let open: MapAlarm[] = [alarm(1, '2026-01-01T00:00:00Z')]
    open = applyAlarmEvent(open, 'raised', alarm(2, '2026-01-01T00:05:00Z', null, { level: 'red' }))
    expect(open.map((a) => a.id)).toEqual([2, 1])
    open = applyAlarmEvent(open, 'acknowledged', { ...alarm(1, '2026-01-01T00:00:00Z'), status: 'acknowledged' })
    expect(open.find((a) => a.id === 1)?.status).toBe('acknowledged')
    open = applyAlarmEvent(open, 'cleared', alarm(2, '2026-01-01T00:05:00Z', '2026-01-01T00:09:00Z'))
    expect(open.map((a) => a.id)).toEqual([1])
    expect(countByLevel([alarm(1, 'x'), alarm(2, 'x', null, { level: 'red' })])).toEqual({ blue: 0, yellow: 1, orange: 0, red: 1 })
  })
})

describe('cases', () => {
  const open: CaseRow[] = [
    [114.05, 22.54, '440304-C0101-000001', 'C0101', 'dispatched', 'ok', 'water'],
    [null, null, '440304-C0101-000002', 'C0101', 'registered', 'warning', null],
  ]
  it('draws located cases with their SLA state', () => {
    const fc = casesToGeoJSON(open)
    expect(fc.features).toHaveLength(1)
    expect(fc.features[0].properties).toMatchObject({ number: '440304-C0101-000001', sla: 'ok' })
    expect(countBySla(open)).toEqual({ ok: 1, warning: 1, breached: 0 })
  })
  it('adds a reported case, marks a breach, drops a closed one', () => {
    let rows = applyCaseEvent(open, { event: 'reported', number: '440304-C0201-000009', category_code: 'C0201', lon: 114.1, lat: 22.55, state: 'reported' })
    expect(rows[0]).toEqual([114.1, 22.55, '440304-C0201-000009', 'C0201', 'reported', 'ok', null])
    rows = applyCaseEvent(rows, { event: 'sla_breached', number: '440304-C0101-000001' })
    expect(rows.find((r) => r[2] === '440304-C0101-000001')).toEqual([114.05, 22.54, '440304-C0101-000001', 'C0101', 'dispatched', 'breached', 'water'])
    rows = applyCaseEvent(rows, { event: 'closed', number: '440304-C0101-000001', state: 'closed' })
    expect(rows.map((r) => r[2])).not.toContain('440304-C0101-000001')
  })
})

describe('the replay slider', () => {
  it('steps 10 minutes and stops at the end of the window', () => {
    expect(STEP_MS).toBe(600_000)
    expect(nextStep(0, 3_600_000)).toBe(600_000)
    expect(nextStep(3_000_001, 3_600_000)).toBeNull()
  })
  it('keeps a position inside the window', () => {
    expect(clampTime(-5, 0, 10)).toBe(0)
    expect(clampTime(15, 0, 10)).toBe(10)
    expect(clampTime(5, 0, 10)).toBe(5)
  })
  it('fits the bounding box of every ring', () => {
    const fc = { features: [{ geometry: { coordinates: [[[114, 22.5], [114.2, 22.5], [114.2, 22.6], [114, 22.5]]] } }, { geometry: null }] }
    expect(bboxOf(fc)).toEqual([114, 22.5, 114.2, 22.6])
    expect(bboxOf({ features: [] })).toBeNull()
  })
})
