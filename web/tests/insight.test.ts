import { describe, expect, it } from 'vitest'
import { beatsBaseline, count, forecastOption, forecastTip, rate, shortDay, topForecasts } from '../src/insight/charts'
import { departmentRanking, fromInsight, insightPeriods } from '../src/centre/kpi'
import { messages } from '../src/insight/messages'
import type { ForecastItem } from '../src/insight/types'

type Tree = { [key: string]: string | Tree }
function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`))).sort()
}

const item = (code: string, seen: number[], mae: number | null = 2, naive: number | null = 3): ForecastItem => ({
  code,
  name: code,
  history: seen.map((cases, i) => ({ day: `2018-07-0${i + 1}`, cases })),
  forecast: [
    { day: '2018-07-08', mean: 5.2, lower: 3, upper: 8, baseline: 4 },
    { day: '2018-07-09', mean: 6, lower: 4, upper: 9, baseline: 7 },
  ],
  backtest: { mae, baseline_mae: naive },
})
const NAMES = { seen: 'seen', forecast: 'forecast', interval: '80%', baseline: 'naive' }

describe('the decision-support catalogue', () => {
  it('has the same keys in Chinese and English', () => {
    expect(keys(messages.en as Tree)).toEqual(keys(messages['zh-CN'] as Tree))
  })
})

describe('figures', () => {
  it('shows rates with one decimal and counts grouped, as the centre does', () => {
    expect([rate(0.8743), rate(1), rate(0), rate(null)]).toEqual(['87.4%', '100.0%', '0.0%', null])
    expect([count(35226), count(0), count(undefined)]).toEqual(['35,226', '0', null])
  })
  it('writes days on an axis without their year', () => {
    expect(shortDay('2018-07-08')).toBe('07-08')
  })
})

describe('forecasts', () => {
  it('charts the busiest series first', () => {
    const items = [item('a', [1, 1]), item('b', [5, 5]), item('c', [3, 3])]
    expect(topForecasts(items, 2).map((f) => f.code)).toEqual(['b', 'c'])
  })
  it('says whether the forecast beat its baseline, when measured', () => {
    expect([beatsBaseline(item('a', [1], 2, 3)), beatsBaseline(item('a', [1], 4, 3)), beatsBaseline(item('a', [1], null, null))]).toEqual([true, false, null])
  })
  it('draws the interval as a band on its lower edge, after the days seen, the forecast joined to the last seen day', () => {
    const f = item('a', [2, 4, 6])
    const o = forecastOption(f, NAMES) as { xAxis: { data: string[] }; series: { name: string; data: (number | null)[] }[] }
    expect(o.xAxis.data).toEqual(['07-01', '07-02', '07-03', '07-08', '07-09'])
    const by = Object.fromEntries(o.series.map((s) => [s.name, s.data]))
    expect(by.seen).toEqual([2, 4, 6, null, null])
    expect(by['80%-low']).toEqual([null, null, null, 3, 4])
    expect(by['80%']).toEqual([null, null, null, 5, 5]) // upper - lower, stacked on lower
    expect(by.forecast).toEqual([null, null, 6, 5.2, 6])
    expect(by.naive).toEqual([null, null, null, 4, 7])
  })
  it('tells a forecast day its interval and baseline in the tooltip', () => {
    const f = item('a', [2, 4, 6])
    expect(forecastTip(f, 1, NAMES)).toBe('2018-07-02<br>seen: 4')
    expect(forecastTip(f, 4, NAMES)).toBe('2018-07-09<br>forecast: 6<br>80%: 4–9<br>naive: 7')
  })
})

describe('the centre panels from decision support', () => {
  const k = {
    as_of: '2018-07-09T00:00:00Z',
    on_time: { dispatched: 9, resolved: 6, on_time: 5, closed: 4, breached: 1, on_time_rate: 0.8333 },
    departments: [
      { code: 'water', rank: 1, dispatched: 5, resolved: 4, on_time: 4, closed: 3, breached: 0, on_time_rate: 1 },
      { code: 'traffic', rank: 2, dispatched: 4, resolved: 2, on_time: 1, closed: 1, breached: 1, on_time_rate: 0.5 },
    ],
    hazards: { found: 2, open: 1, overdue: 0, closed: 1, on_time_rate: 1 },
  }
  it('reads the insight KPIs in the statistics shape the panels draw, the verification rate beside', () => {
    const s = fromInsight(k, { passed: 3, failed: 1, pass_rate: 0.75 })
    expect(s.totals).toEqual({ dispatched: 9, resolved: 6, on_time: 5, closed: 4, breached: 1 })
    expect(s.on_time_rate).toBe(0.8333)
    expect(s.verification.pass_rate).toBe(0.75)
    expect(departmentRanking(s.groups, 8, 1).map((g) => [g.key, g.on_time_rate])).toEqual([['water', 1], ['traffic', 0.5]])
    expect(fromInsight(k).verification.pass_rate).toBeNull()
  })
  it('asks for today and the 30 days ending today, in the district local days', () => {
    // 2018-07-08 20:00 UTC is already 9 July in Futian
    expect(insightPeriods(Date.UTC(2018, 6, 8, 20), 8)).toEqual({ today: '2018-07-09', monthFrom: '2018-06-10' })
  })
})
