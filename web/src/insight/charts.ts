// Pure helpers of the decision-support dashboard: figures as people read them, and the ECharts options of its
// charts (cases by day, by class, and each forecast with its interval beside the seasonal-naive baseline).
// A canvas cannot read CSS variables: the light theme's colours are repeated here (theme.css).
import type { EChartsCoreOption } from 'echarts/core'
import type { CaseCounts, ForecastItem } from './types'

export const LIGHT = { text: '#1a2330', muted: '#4a5768', line: '#d5dce5', accent: '#0b5cad', ok: '#1b6e3a', band: 'rgba(11,92,173,0.16)', baseline: '#8a6d00' }

/** A rate 0..1 as "87.4%" (one decimal), or null for none: as the centre's KPI panels show rates. */
export function rate(x: number | null | undefined): string | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null
  return `${(Math.round(x * 1000) / 10).toFixed(1)}%`
}

/** A count as "35,226", or null for none. */
export function count(n: number | null | undefined): string | null {
  if (n === null || n === undefined || !Number.isFinite(n)) return null
  return Math.round(n).toLocaleString('en-US')
}

/** "2018-07-08" → "07-08": days on an axis. */
export function shortDay(day: string): string {
  return day.length >= 10 ? day.slice(5, 10) : day
}

/** The forecasts worth a chart: the busiest series over the four weeks seen, busiest first. */
export function topForecasts(items: readonly ForecastItem[], n = 6): ForecastItem[] {
  const seen = (f: ForecastItem) => f.history.reduce((a, h) => a + h.cases, 0)
  return [...items].sort((a, b) => seen(b) - seen(a) || a.code.localeCompare(b.code)).slice(0, n)
}

/** Did the forecast beat the seasonal-naive baseline over the last four weeks? null when not measured. */
export function beatsBaseline(f: ForecastItem): boolean | null {
  const { mae, baseline_mae } = f.backtest
  return mae === null || baseline_mae === null ? null : mae <= baseline_mae
}

const axisText = { color: LIGHT.muted, fontSize: 12 }

export function byDayOption(rows: readonly { day: string; reported: number; closed: number }[], names: { reported: string; closed: string }): EChartsCoreOption {
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, textStyle: { color: LIGHT.text } },
    grid: { left: 8, right: 16, top: 32, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    xAxis: { type: 'category', data: rows.map((r) => shortDay(r.day)), axisLabel: axisText, axisLine: { lineStyle: { color: LIGHT.line } } },
    yAxis: { type: 'value', axisLabel: axisText, splitLine: { lineStyle: { color: LIGHT.line } } },
    series: [
      { name: names.reported, type: 'line', data: rows.map((r) => r.reported), showSymbol: false, lineStyle: { width: 2 }, itemStyle: { color: LIGHT.accent } },
      { name: names.closed, type: 'line', data: rows.map((r) => r.closed), showSymbol: false, lineStyle: { width: 2 }, itemStyle: { color: LIGHT.ok } },
    ],
  }
}

export function byClassOption(rows: readonly CaseCounts[], nameOf: (r: CaseCounts) => string, n = 8): EChartsCoreOption {
  const top = rows.slice(0, n)
  return {
    animation: false,
    grid: { left: 8, right: 56, top: 4, bottom: 4, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    xAxis: { type: 'value', show: false },
    yAxis: { type: 'category', inverse: true, data: top.map(nameOf), axisTick: { show: false }, axisLine: { show: false }, axisLabel: { ...axisText, color: LIGHT.text, width: 140, overflow: 'truncate' } },
    series: [{ type: 'bar', data: top.map((r) => r.reported), barWidth: 12, itemStyle: { color: LIGHT.accent, borderRadius: 6 }, label: { show: true, position: 'right', color: LIGHT.text } }],
  }
}

/** The four weeks seen, then the forecast's mean and its interval (a band stacked on its lower edge) and the
 *  seasonal-naive baseline, dashed. */
export function forecastOption(f: ForecastItem, names: { seen: string; forecast: string; interval: string; baseline: string }): EChartsCoreOption {
  const seen = f.history.length
  const days = [...f.history.map((h) => h.day), ...f.forecast.map((p) => p.day)].map(shortDay)
  const pad = (values: number[]) => [...Array<null>(seen).fill(null), ...values]
  // the forecast line starts on the last day seen so that the two lines join
  const last = f.history[seen - 1]?.cases ?? null
  const mean = [...Array<null>(Math.max(0, seen - 1)).fill(null), last, ...f.forecast.map((p) => p.mean)]
  return {
    animation: false,
    tooltip: { trigger: 'axis', formatter: (p: unknown) => forecastTip(f, Array.isArray(p) && p.length ? Number((p[0] as { dataIndex: number }).dataIndex) : -1, names) },
    legend: { top: 0, textStyle: { color: LIGHT.text, fontSize: 12 }, data: [names.seen, names.forecast, names.interval, names.baseline] },
    grid: { left: 8, right: 12, top: 30, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    xAxis: { type: 'category', data: days, boundaryGap: false, axisLabel: axisText, axisLine: { lineStyle: { color: LIGHT.line } } },
    yAxis: { type: 'value', axisLabel: axisText, splitLine: { lineStyle: { color: LIGHT.line } } },
    series: [
      { name: names.seen, type: 'line', data: [...f.history.map((h) => h.cases), ...f.forecast.map(() => null)], showSymbol: false, itemStyle: { color: LIGHT.text }, lineStyle: { width: 1.5 } },
      { name: `${names.interval}-low`, type: 'line', stack: 'interval', data: pad(f.forecast.map((p) => p.lower)), showSymbol: false, lineStyle: { opacity: 0 }, silent: true, tooltip: { show: false } },
      { name: names.interval, type: 'line', stack: 'interval', data: pad(f.forecast.map((p) => p.upper - p.lower)), showSymbol: false, lineStyle: { opacity: 0 }, areaStyle: { color: LIGHT.band }, itemStyle: { color: 'rgba(11,92,173,0.4)' } },
      { name: names.forecast, type: 'line', data: mean, showSymbol: false, itemStyle: { color: LIGHT.accent }, lineStyle: { width: 2 } },
      { name: names.baseline, type: 'line', data: pad(f.forecast.map((p) => p.baseline)), showSymbol: false, itemStyle: { color: LIGHT.baseline }, lineStyle: { width: 1.5, type: 'dashed' } },
    ],
  }
}

/** The tooltip of a forecast chart's day: what was seen, or the forecast, its interval and the baseline. */
export function forecastTip(f: ForecastItem, index: number, names: { seen: string; forecast: string; interval: string; baseline: string }): string {
  const seen = f.history.length
  if (index < 0) return ''
  if (index < seen) return `${f.history[index].day}<br>${names.seen}: ${f.history[index].cases}`
  const p = f.forecast[index - seen]
  if (!p) return ''
  return `${p.day}<br>${names.forecast}: ${p.mean}<br>${names.interval}: ${p.lower}–${p.upper}<br>${names.baseline}: ${p.baseline}`
}
