import { describe, expect, it } from 'vitest'
import {
  asWhatIf,
  countdown,
  crowdZoneOf,
  forecastSeries,
  higherLevels,
  incidentsByUrgency,
  measureInputs,
  minutesToDanger,
  settleWhatIf,
  taskProgress,
  tasksByDepartment,
  taskSteps,
  trendOf,
  whatIfBody,
  whatIfChart,
  zoneFill,
  ZONE_NEUTRAL,
  zonesByRisk,
  zonesShapeKey,
  zonesToGeoJSON,
  type Zone,
} from '../src/centre/crowd'
import { messages } from '../src/centre/messages'
import { LEVEL_FALLBACK } from '../src/centre/mapLayers'
import { toEntry, entryText } from '../src/centre/feedText'

const square = { type: 'Polygon' as const, coordinates: [[[114.059, 22.5425], [114.06, 22.5425], [114.06, 22.5434], [114.059, 22.5425]]] }
function zone(code: string, over: Partial<Zone> = {}): Zone {
  return {
    code, name: code, area_m2: 2000, capacity: null, geometry: square, lon: 114.0595, lat: 22.543, street_code: null, community_code: null,
    inputs: [], levels: { density: [2, 3.5, 5, 6.5] }, version: 1, occupancy: 0, density: 0, level: null, forecast: [],
    minutes_to_danger: null, flow_per_min: 0, as_of: null, ...over,
  }
}

describe('crowd zones', () => {
  it('sorts by level, then the sooner danger, then density; zones with no estimate last', () => {
    const zs = [
      zone('quiet', { density: 1 }),
      zone('none', { density: null, occupancy: null }),
      zone('yellow-late', { level: 'yellow', density: 4, minutes_to_danger: 14, flow_per_min: 60 }),
      zone('yellow-soon', { level: 'yellow', density: 3.8, minutes_to_danger: 6, flow_per_min: 120 }),
      zone('orange', { level: 'orange', density: 5.1 }),
      zone('busy', { density: 1.8 }),
    ]
    expect(zonesByRisk(zs).map((z) => z.code)).toEqual(['orange', 'yellow-soon', 'yellow-late', 'busy', 'quiet', 'none'])
  })
  it('fills a zone in its alarm colour and leaves a zone with no level to the neutral outline', () => {
    expect(zoneFill('orange')).toBe(LEVEL_FALLBACK.orange)
    expect(zoneFill('red')).toBe(LEVEL_FALLBACK.red)
    expect(zoneFill(null)).toBeNull()
    expect(zoneFill('none')).toBeNull()
    expect(ZONE_NEUTRAL).toMatch(/^#/)
  })
  it('reads the trend from the net inflow, and says when danger comes only while rising', () => {
    expect(trendOf({ flow_per_min: 150 })).toBe('rising')
    expect(trendOf({ flow_per_min: -40 })).toBe('falling')
    expect(trendOf({ flow_per_min: 2 })).toBe('steady')
    expect(trendOf({ flow_per_min: null })).toBe('steady')
    expect(minutesToDanger({ minutes_to_danger: 7.6, flow_per_min: 150 })).toBe(8)
    expect(minutesToDanger({ minutes_to_danger: 7.6, flow_per_min: -50 })).toBeNull()
    expect(minutesToDanger({ minutes_to_danger: null, flow_per_min: 150 })).toBeNull()
  })
  it('draws zones as one source whose shapes change only with a zone or its version', () => {
    const fc = zonesToGeoJSON([zone('A', { level: 'blue' }), zone('B')])
    expect(fc.features.map((f) => [f.id, f.properties])).toEqual([
      [0, { code: 'A', level: 'blue' }],
      [1, { code: 'B', level: 'none' }],
    ])
    expect(zonesShapeKey([zone('A'), zone('B')])).toBe(zonesShapeKey([zone('A', { density: 3 }), zone('B', { level: 'red' })]))
    expect(zonesShapeKey([zone('A')])).not.toBe(zonesShapeKey([zone('A', { version: 2 })]))
  })
  it('knows a crowd alarm by its detail or its origin', () => {
    expect(crowdZoneOf({ alarm_type: 'crowd.forecast', origin: 'crowd', detail: { zone_code: 'P1' } })).toBe('P1')
    expect(crowdZoneOf({ alarm_type: 'crowd.density', origin: 'crowd:P2' })).toBe('P2')
    expect(crowdZoneOf({ alarm_type: 'smoke', origin: 'crowd:P2' })).toBeNull()
  })
})

describe('charts', () => {
  it('shapes the forecast as a line from now, a band stacked on its low edge, and the danger line', () => {
    const f = forecastSeries(
      zone('A', {
        density: 4.4,
        forecast: [
          { minutes_ahead: 10, density: 5.2, low: 4.6, high: 5.9 },
          { minutes_ahead: 5, density: 4.8, low: 4.5, high: 5.1 },
        ],
      }),
    )
    expect(f.line).toEqual([[0, 4.4], [5, 4.8], [10, 5.2]])
    expect(f.low).toEqual([[0, 4.4], [5, 4.5], [10, 4.6]])
    expect(f.band.map((p) => Math.round(p[1] * 10) / 10)).toEqual([0, 0.6, 1.3])
    expect(f.danger).toBe(5)
    expect(f.max).toBeGreaterThan(5.9)
  })
  it('puts the what-if runs on one sorted minute axis with their peaks and the drop', () => {
    const c = whatIfChart({
      without: { peak_density: 6.1, peak_minute: 18, series: [[10, 5.5], [0, 4.4], [18, 6.1]] },
      with: { peak_density: 4.6, peak_minute: 6, series: [[0, 4.4], [6, 4.6], [18, 3.9]] },
    })
    expect(c.without.map((p) => p[0])).toEqual([0, 10, 18])
    expect(c.peaks).toEqual({ without: [18, 6.1], with: [6, 4.6] })
    expect(c.drop).toBe(1.5)
    expect(c.max).toBeGreaterThanOrEqual(6.1)
  })
  it('finds a peak from the series when the run does not give one', () => {
    const c = whatIfChart({ without: { series: [[0, 1], [5, 3], [9, 2]] } as never, with: { series: [] } as never })
    expect(c.peaks.without).toEqual([5, 3])
    expect(c.with).toEqual([])
  })
  it('builds the what-if body: a rate only for metering, minutes within bounds', () => {
    expect(whatIfBody({ kind: 'close_entrance', input: ' PZ-E1 ', rate_per_min: 60 }, 20)).toEqual({ measure: { kind: 'close_entrance', input: 'PZ-E1' }, minutes: 20 })
    expect(whatIfBody({ kind: 'meter_entrance', input: 'PZ-E1', rate_per_min: 60 }, 500)).toEqual({ measure: { kind: 'meter_entrance', input: 'PZ-E1', rate_per_min: 60 }, minutes: 120 })
    const inputs = [{ device_id: 'E1', role: 'entrance' as const }, { device_id: 'X1', role: 'exit' as const }, { device_id: 'C', role: 'camera' as const }]
    expect(measureInputs('meter_entrance', inputs)).toEqual(['E1'])
    expect(measureInputs('open_exit', inputs)).toEqual(['X1'])
  })
  it('asks again for a running what-if until it is done, and says why one failed', async () => {
    const base = { zone: 'Z', as_of: '', minutes: 5, measure: { kind: 'close_entrance' as const, input: 'E1' }, without: null, with: null }
    const run = { peak_density: 4, peak_minute: 3, series: [[0, 3], [3, 4]] as [number, number][] }
    const answers = [{ ...base, id: 7, status: 'running' as const }, { ...base, id: 7, status: 'done' as const, without: run, with: run }]
    const asked: number[] = []
    const waits: number[] = []
    const done = await settleWhatIf({ ...base, id: 7, status: 'running' }, async (id) => { asked.push(id); return answers.shift()! }, async (ms) => { waits.push(ms) })
    expect(done.status).toBe('done')
    expect(done.with?.peak_density).toBe(4)
    expect(asked).toEqual([7, 7])
    expect(waits).toEqual([1000, 1000])
    await expect(settleWhatIf({ ...base, id: 8, status: 'failed', error: 'ValueError: no room' }, async () => base)).rejects.toThrow('no room')
    const never = async () => ({ ...base, id: 9, status: 'running' as const })
    await expect(settleWhatIf({ ...base, id: 9, status: 'running' }, never, async () => {}, 3000, 1000)).rejects.toThrow('timeout')
    // an answer that is already done (an attachment) is returned as it is
    const ready = { ...base, without: run, with: run }
    expect(await settleWhatIf(ready, never)).toBe(ready)
  })
  it('draws an attachment as a what-if only when it is one', () => {
    const data = { without: { peak_density: 6, peak_minute: 1, series: [] }, with: { peak_density: 4, peak_minute: 1, series: [] } }
    expect(asWhatIf({ kind: 'what_if', data })).not.toBeNull()
    expect(asWhatIf({ kind: 'report', data })).toBeNull()
    expect(asWhatIf({ kind: 'what_if', data: { foo: 1 } })).toBeNull()
  })
})

describe('incidents and tasks', () => {
  it('counts the tasks acknowledged and those overdue', () => {
    expect(
      taskProgress([
        { state: 'acknowledged', acknowledged_at: 'x', overdue: false },
        { state: 'done', acknowledged_at: 'x', overdue: true },
        { state: 'assigned', acknowledged_at: null, overdue: true },
        { state: 'assigned', acknowledged_at: null, overdue: false },
      ]),
    ).toEqual({ acknowledged: 2, total: 4, overdue: 1 })
  })
  it('groups tasks by department and orders incidents by level then recency', () => {
    const g = tasksByDepartment([{ department_code: 'police', id: 1 }, { department_code: 'health', id: 2 }, { department_code: 'police', id: 3 }])
    expect(g.map(([d, ts]) => [d, ts.map((x) => x.id)])).toEqual([['police', [1, 3]], ['health', [2]]])
    const list = incidentsByUrgency([
      { id: 1, level: 'yellow', started_at: '2025-03-08T10:00:00Z' },
      { id: 2, level: 'orange', started_at: '2025-03-08T09:00:00Z' },
      { id: 3, level: 'yellow', started_at: '2025-03-08T11:00:00Z' },
    ])
    expect(list.map((i) => i.id)).toEqual([2, 3, 1])
  })
  it('escalates only upwards', () => {
    expect(higherLevels('yellow')).toEqual(['orange', 'red'])
    expect(higherLevels('red')).toEqual([])
  })
  it('counts down to the acknowledgement deadline on the given clock, then counts the time past it', () => {
    const deadline = '2025-03-08T12:05:00Z'
    const at = (iso: string) => Date.parse(iso)
    expect(countdown(deadline, at('2025-03-08T12:00:00Z'))).toEqual({ seconds: 300, overdue: false, text: '5:00', urgent: false })
    expect(countdown(deadline, at('2025-03-08T12:04:15Z'))).toMatchObject({ text: '0:45', urgent: true, overdue: false })
    expect(countdown(deadline, at('2025-03-08T12:06:30Z'))).toMatchObject({ text: '1:30', overdue: true, urgent: false })
    expect(countdown(deadline, at('2025-03-08T10:00:00Z')).text).toBe('2:05:00')
  })
  it('offers the steps a task state allows', () => {
    expect(taskSteps({ state: 'assigned' })).toEqual(['acknowledge'])
    expect(taskSteps({ state: 'acknowledged' })).toEqual(['notes', 'done'])
    expect(taskSteps({ state: 'done' })).toEqual([])
  })
  it('lists a plan started on the feed with its code and title', () => {
    const e = toEntry({ event: 'incident', id: 'YJ-1', data: { event: 'started', code: 'YJ-1', title: '广场人群聚集', level: 'orange' } }, 0, 1)
    expect(e).toMatchObject({ kind: 'incident', event: 'started', level: 'orange', number: 'YJ-1' })
    const t = (k: string) => k
    expect(entryText(e!, { t, alarmType: t, category: () => null, department: () => null, building: () => null })).toBe('YJ-1 · 广场人群聚集')
    expect(toEntry({ event: 'task', id: '3', data: { event: 'assigned' } }, 0, 2)).toBeNull()
  })
})

type Tree = { [key: string]: string | Tree }
function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`))).sort()
}
describe('the centre catalogue', () => {
  it('has the same keys in Chinese and English, the crowd and plan strings too', () => {
    expect(keys(messages.en as Tree)).toEqual(keys(messages['zh-CN'] as Tree))
    expect(keys(messages.en as Tree)).toEqual(expect.arrayContaining(['crowd.panel.reaches', 'incident.panel.acks', 'alarmType.crowd.forecast']))
  })
})
